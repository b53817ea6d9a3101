"""OR-Tools model for one turf (private; runs in worker processes).

Kept free of geopandas and networkx so worker processes start fast and the payload
(plain numpy arrays) pickles cheaply.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing as mp
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # (workers stay free of the config's imports)
    from ..config import PlanConfig

__all__ = [
    "SolveMemo",
    "TurfProblem",
    "drop_penalties",
    "route_s",
    "solve_all",
    "solve_turf",
    "turf_problem",
]


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
    starts
        Staging node of each volunteer (indexes below `n_depots`); empty = all 0.
    n_depots
        Number of staging nodes at the start of `walk_s` (doors follow them).
    fixed_cost
        Cost of sending out one more volunteer (in walking seconds).
    min_end_s
        Soft lower bound on each route's time (balance); 0 = none. OR-Tools
        charges it only to volunteers who are sent out, so a window may empty a
        turf (its doors are then walked by the others).
    max_end_s
        Soft upper bound on each route's time (balance); 0 = none (the shift
        limit stays hard either way).
    balance_cost
        Cost per second below `min_end_s` or above `max_end_s`.
    cost_scale
        Walking seconds (and drop penalties) are multiplied by this in the objective;
        with ``balance_cost < cost_scale`` walking further never pays for itself,
        so a short route can only be balanced by taking doors.
    first_solution
        OR-Tools first-solution strategy (``PATH_CHEAPEST_ARC``, ``SAVINGS``, ...).
    initial
        Optional starting routes (door positions per volunteer) to improve on.
    allowed
        Per door, the one volunteer who may visit it (a door of that volunteer's
        car leg), or -1 for any; empty = any volunteer for every door.
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
    starts: tuple[int, ...] = ()
    n_depots: int = 1
    fixed_cost: int = 0
    min_end_s: int = 0
    max_end_s: int = 0
    balance_cost: int = 1
    cost_scale: int = 1
    first_solution: str = "PATH_CHEAPEST_ARC"
    initial: tuple[tuple[int, ...], ...] = ()
    allowed: tuple[int, ...] = ()


def drop_penalties(values: np.ndarray, shift_s: int, floor: int) -> np.ndarray:
    """
    Return the cost of leaving each door out: above any detour, least value first.

    Parameters
    ----------
    values
        Door values (expected extra votes, or targets).
    shift_s
        Shift length in seconds.
    floor
        Shifts every penalty starts at; the value adds up to one more shift.
    """
    vmax = float(values.max()) if len(values) and values.max() > 0 else 1.0
    scaled = np.rint(shift_s * np.clip(values, 0, None) / vmax)
    return np.asarray(floor * shift_s + scaled, dtype=np.int64)


def turf_problem(
    turf_id: str,
    walk_s: np.ndarray,
    values: np.ndarray,
    config: PlanConfig,
    *,
    vehicles: int,
    floor: int,
    time_limit_s: float,
    initial: tuple[tuple[int, ...], ...] = (),
    pinned: np.ndarray | None = None,
) -> TurfProblem:
    """
    One turf's routing problem, posed as the routing stage poses it.

    Parameters
    ----------
    turf_id
        Id of the problem (for the solutions).
    walk_s
        Travel seconds, the staging point first (:class:`canvass.turf.TurfCosts`).
    values
        Door values: the least valuable doors drop first when time runs short.
    config
        Run configuration (shift, seconds per door, open routes, solution limit).
    vehicles
        Volunteers.
    floor
        Shifts every drop penalty starts at (:func:`drop_penalties`).
    time_limit_s
        Guided-local-search seconds; 0 keeps the local optimum from `initial`.
    initial
        Starting routes, per volunteer.
    pinned
        Per door, the one volunteer who may walk it (a car leg's driver) or -1.
    """
    tp, wp, rp = config.turf, config.walk, config.route
    return TurfProblem(
        turf_id=turf_id,
        walk_s=walk_s,
        service_s=np.full(len(values), wp.door_s, dtype=np.int64),
        penalty=drop_penalties(values, tp.shift_s, floor=floor),
        vehicles=vehicles,
        shift_s=tp.shift_s,
        open_routes=rp.open_routes,
        time_limit_s=time_limit_s,
        solution_limit=rp.solution_limit,
        initial=initial,
        allowed=tuple(int(v) for v in pinned)
        if pinned is not None and (pinned >= 0).any()
        else (),
    )


def route_s(p: TurfProblem, vehicle: int, order: list[int], door_s: float) -> float:
    """
    Return the seconds of one volunteer's route: walking plus minutes at doors.

    Walking is counted as the solver counts it, each leg rounded up.

    Parameters
    ----------
    p
        The problem solved.
    vehicle
        The volunteer; its staging point is ``p.starts[vehicle]`` (0 when unset).
    order
        Door positions in walking order.
    door_s
        Seconds at each door.
    """
    depot = p.starts[vehicle] if p.starts else 0
    seq = [depot, *[x + p.n_depots for x in order]]
    if not p.open_routes:
        seq.append(depot)
    walk = np.ceil(p.walk_s - 1e-9)
    return float(walk[seq[:-1], seq[1:]].sum()) + door_s * len(order)


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
    nd = p.n_depots
    if n == 0:
        return p.turf_id, [[] for _ in range(p.vehicles)]
    walk = np.asarray(np.ceil(p.walk_s - 1e-9), dtype=np.int64)
    if p.open_routes:
        walk[:, :nd] = 0
    service = np.concatenate([np.zeros(nd), np.asarray(p.service_s)]).astype(np.int64)
    timed = walk + service[:, None]
    np.fill_diagonal(timed, 0)
    starts = list(p.starts) if p.starts else [0] * p.vehicles
    manager = pywrapcp.RoutingIndexManager(n + nd, p.vehicles, starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix((walk * p.cost_scale).tolist())
    time_cb = routing.RegisterTransitMatrix(timed.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    routing.AddDimension(time_cb, 0, int(p.shift_s), True, "time")
    if p.fixed_cost:
        routing.SetFixedCostOfAllVehicles(int(p.fixed_cost) * p.cost_scale)
    dim = routing.GetDimensionOrDie("time")
    for v in range(p.vehicles):
        if p.min_end_s:
            dim.SetCumulVarSoftLowerBound(
                routing.End(v), int(p.min_end_s), int(p.balance_cost)
            )
        if 0 < p.max_end_s < p.shift_s:
            dim.SetCumulVarSoftUpperBound(
                routing.End(v), int(p.max_end_s), int(p.balance_cost)
            )
    for i in range(n):
        routing.AddDisjunction(
            [manager.NodeToIndex(i + nd)], int(p.penalty[i]) * p.cost_scale
        )
    for i, v in enumerate(p.allowed):
        if v >= 0:  # (SetAllowedVehiclesForIndex's list argument fails in SWIG 9.15)
            routing.VehicleVar(manager.NodeToIndex(i + nd)).SetValues([-1, int(v)])
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, p.first_solution
    )
    if p.time_limit_s > 0:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(max(1, round(p.time_limit_s * 1000)))
    if p.solution_limit > 0:
        params.solution_limit = p.solution_limit
    solution = None
    if p.initial:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes(
            [[x + nd for x in r] for r in p.initial], True
        )
        if start is not None:
            solution = routing.SolveFromAssignmentWithParameters(start, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    for vehicle in range(p.vehicles):
        order: list[int] = []
        if solution is not None:
            index = routing.Start(vehicle)
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                if node >= nd:
                    order.append(node - nd)
                index = solution.Value(routing.NextVar(index))
        routes.append(order)
    return p.turf_id, routes


class SolveMemo:
    """
    Answers of the problems already solved, by content (one cut's worth).

    Without a time limit the search is deterministic (first solution, then local
    search to a local optimum or to the solution limit), so a problem solved again
    (the same window tried by a later repair round, the same turf polished twice)
    gets the same answer: it is looked up instead. Problems with a time limit are
    never looked up (their answer depends on the machine's speed).
    """

    def __init__(self) -> None:
        self._seen: dict[bytes, list[list[int]]] = {}
        self.hits = 0

    @staticmethod
    def key(p: TurfProblem) -> bytes | None:
        """Return a digest of all but the id (None for a time-limited problem)."""
        if p.time_limit_s > 0:
            return None
        h = hashlib.blake2b(digest_size=20)
        for f in dataclasses.fields(p):
            if f.name == "turf_id":
                continue
            x = getattr(p, f.name)
            if isinstance(x, np.ndarray):
                a = np.ascontiguousarray(x)
                h.update(f"{f.name}{a.dtype}{a.shape}".encode())
                h.update(a.tobytes())
            else:
                h.update(f"{f.name}={x!r};".encode())
        return h.digest()

    def get(self, p: TurfProblem) -> list[list[int]] | None:
        """Return the routes found before for a problem like `p`, or None."""
        k = self.key(p)
        found = None if k is None else self._seen.get(k)
        if found is not None:
            self.hits += 1
            return [list(r) for r in found]
        return None

    def put(self, p: TurfProblem, routes: list[list[int]]) -> None:
        """Remember the routes found for `p`."""
        k = self.key(p)
        if k is not None:
            self._seen[k] = [list(r) for r in routes]


def solve_all(
    problems: list[TurfProblem],
    workers: int,
    progress: Callable[[int, int], None] | None = None,
    memo: SolveMemo | None = None,
) -> dict[str, list[list[int]]]:
    """
    Solve turf problems, in parallel worker processes when `workers` > 1.

    Parameters
    ----------
    problems
        One problem per turf.
    workers
        Worker processes.
    progress
        Called with (turfs done, turfs total) after each turf.
    memo
        Answers of problems solved before: a problem with the same content is
        not solved again (its answer is the same), and new answers are added.

    Returns
    -------
    solutions
        Volunteers' door orders by turf id.
    """
    if memo is not None:
        known: dict[str, list[list[int]]] = {}
        todo: list[TurfProblem] = []
        for p in problems:
            found = memo.get(p)
            if found is None:
                todo.append(p)
            else:
                known[p.turf_id] = found
        out = _solve_all(todo, workers, progress)
        for p in todo:
            memo.put(p, out[p.turf_id])
        return known | out
    return _solve_all(problems, workers, progress)


def _solve_all(
    problems: list[TurfProblem],
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[list[int]]]:
    total = len(problems)
    out: dict[str, list[list[int]]] = {}
    if progress is not None:
        progress(0, total)
    if workers <= 1 or total <= 1:
        for done, p in enumerate(problems, start=1):
            tid, routes = solve_turf(p)
            out[tid] = routes
            if progress is not None:
                progress(done, total)
        return out
    method = (
        "fork" if sys.platform == "linux" and sys.version_info < (3, 12) else "spawn"
    )
    big_first = sorted(problems, key=lambda p: -len(p.service_s))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context(method)
    ) as ex:
        futures = [ex.submit(solve_turf, p) for p in big_first]
        for done, fut in enumerate(as_completed(futures), start=1):
            tid, routes = fut.result()
            out[tid] = routes
            if progress is not None:
                progress(done, total)
    return out
