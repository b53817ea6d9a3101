"""OR-Tools model for one turf (private; runs in worker processes).

Kept free of geopandas and networkx so worker processes start fast and the payload
(plain numpy arrays) pickles cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TurfProblem", "solve_turf"]


@dataclass(frozen=True)
class TurfProblem:
    """
    One turf's routing problem.

    Parameters
    ----------
    turf_id
        Turf id (for messages).
    walk_s
        ``(n + 1, n + 1)`` walking seconds, node 0 = the staging point.
    service_s
        Seconds spent at each door (length n).
    penalty
        Cost of leaving each door out (length n).
    vehicles
        Volunteers in the turf.
    shift_s
        Shift length in seconds.
    open_routes
        Routes end at their last door.
    time_limit_s
        Guided-local-search time; 0 keeps the first solution.
    solution_limit
        Stop after this many solutions (0 = no limit).
    """

    turf_id: str
    walk_s: np.ndarray
    service_s: np.ndarray
    penalty: np.ndarray
    vehicles: int
    shift_s: int
    open_routes: bool
    time_limit_s: float
    solution_limit: int


def solve_turf(p: TurfProblem) -> tuple[str, list[list[int]]]:
    """
    Solve one turf with OR-Tools.

    Parameters
    ----------
    p
        The problem.

    Returns
    -------
    turf_id, routes
        For each volunteer, the door positions (0-based, into the turf's doors) in
        walking order; doors in no route were dropped.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(p.service_s)
    if n == 0:
        return p.turf_id, [[] for _ in range(p.vehicles)]
    walk = np.asarray(np.ceil(p.walk_s - 1e-9), dtype=np.int64)
    if p.open_routes:
        walk[:, 0] = 0
    service = np.concatenate([[0], np.asarray(p.service_s, dtype=np.int64)])
    timed = walk + service[:, None]
    np.fill_diagonal(timed, 0)
    manager = pywrapcp.RoutingIndexManager(n + 1, p.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(walk.tolist())
    time_cb = routing.RegisterTransitMatrix(timed.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    routing.AddDimension(time_cb, 0, int(p.shift_s), True, "time")
    for i in range(n):
        routing.AddDisjunction([manager.NodeToIndex(i + 1)], int(p.penalty[i]))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    )
    if p.time_limit_s > 0:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(max(1, round(p.time_limit_s * 1000)))
    if p.solution_limit > 0:
        params.solution_limit = p.solution_limit
    solution = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    for vehicle in range(p.vehicles):
        order: list[int] = []
        if solution is not None:
            index = routing.Start(vehicle)
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                if node:
                    order.append(node - 1)
                index = solution.Value(routing.NextVar(index))
        routes.append(order)
    return p.turf_id, routes
