"""Stage 5: route volunteers door to door inside each turf with OR-Tools.

Per turf: walking costs among its doors and staging point on the real network
(:mod:`canvass.turf._costs`, crossing penalties by street class), then an OR-Tools
routing model with one vehicle per volunteer, a time dimension of walking plus minutes
per door capped at the shift, and every door droppable at a penalty that grows with its
value, so when time runs short the least valuable doors drop out and are listed. Turfs
are solved in parallel worker processes. Routes follow the streets, from the staging
point and back (or open, ending at the last door); a turf cut with car legs
(:mod:`canvass.turf._legs`) drives between them, and its stops and totals say so
(``drive_s``, ``drive_m``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..cluster import Executor, Progress
from ..config import PlanConfig
from ..turf import (
    TURF_ORDER,
    StreetIndex,
    TurfCosts,
    TurfProblem,
    solve_all,
    solve_turf,
    turf_problem,
)

__all__ = ["RouteResult", "route_turfs", "solve_turfs"]

logger = logging.getLogger(__name__)

_STOP_EXTRA = (schema.LEG_S, schema.SIDE, schema.DRIVE_S)


@dataclass(frozen=True)
class RouteResult:
    """
    Volunteer routes.

    Parameters
    ----------
    stops
        One row per door visit in walking order (``schema.STOP_COLUMNS`` plus
        ``leg_s`` and ``side``).
    routes
        One row per volunteer with at least one door: totals and the walked path.
    left_out
        Turf doors dropped for time, with their value.
    report
        Counts and totals.
    """

    stops: pd.DataFrame
    routes: gpd.GeoDataFrame
    left_out: pd.DataFrame
    report: dict[str, Any]


def _line(
    coords: Iterable[tuple[float, float]], fallback: tuple[float, float]
) -> shapely.LineString:
    pts: list[tuple[float, float]] = []
    for c in coords:
        if not pts or (abs(pts[-1][0] - c[0]) > 1e-9 or abs(pts[-1][1] - c[1]) > 1e-9):
            pts.append((float(c[0]), float(c[1])))
    if len(pts) < 2:
        pts = [fallback, fallback]
    return shapely.LineString(pts)


def route_turfs(
    doors: gpd.GeoDataFrame,
    turfs: gpd.GeoDataFrame,
    G: nx.MultiDiGraph[Any],
    config: PlanConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> RouteResult:
    """
    Route the volunteers of every turf from its staging point through its doors.

    Parameters
    ----------
    doors
        Doors with ``turf_id`` (from :func:`canvass.turf.cut_turfs`).
    turfs
        The turf table (``staging_node``, ``volunteers``).
    G
        The walking network.
    config
        Run configuration (``walk``, ``turf`` and ``route`` sections).
    progress
        Called with (turfs done, turfs total).

    Returns
    -------
    RouteResult
        Stops, routes, doors dropped for time and counts.
    """
    schema.validate_doors(doors, also=(schema.TURF_ID, schema.EDGE_U, schema.N_TARGETS))
    wp, rp = config.walk, config.route
    index = StreetIndex(G)
    in_turf = doors[doors[schema.TURF_ID].astype(str) != ""]
    values_all = (
        in_turf[schema.VALUE].fillna(0).to_numpy(dtype=float)
        if schema.VALUE in in_turf.columns
        else in_turf[schema.N_TARGETS].to_numpy(dtype=float)
    )
    in_turf = in_turf.assign(**{schema.VALUE: values_all})
    problems: list[TurfProblem] = []
    local: dict[str, tuple[pd.DataFrame, TurfCosts, Any, int]] = {}
    for tid, grp in in_turf.groupby(schema.TURF_ID, sort=True):
        tid = str(tid)
        ordered = TURF_ORDER in grp.columns and bool((grp[TURF_ORDER] >= 0).all())
        grp = grp.sort_values(TURF_ORDER) if ordered else grp.sort_index()
        staging = turfs.at[tid, schema.STAGING_NODE]
        vols = int(turfs.at[tid, "volunteers"]) if "volunteers" in turfs.columns else 1
        costs = TurfCosts.build(index, grp, staging, config)
        local[tid] = (grp, costs, staging, vols)
        # the cut's walks, volunteer by volunteer; a car leg stays with its driver
        walker = (
            grp[schema.WALKER].to_numpy(dtype=np.int64) - 1
            if schema.WALKER in grp.columns and ordered
            else np.zeros(len(grp), dtype=np.int64)
        )
        initial = (
            tuple(tuple(np.flatnonzero(walker == v).tolist()) for v in range(vols))
            if ordered and walker.max(initial=0) < vols and walker.min(initial=0) >= 0
            else ()
        )
        legs = (costs.leg > 0) & (vols > 1) & bool(initial)
        problems.append(
            turf_problem(
                tid,
                costs.seconds,
                grp[schema.VALUE].to_numpy(dtype=float),
                config,
                vehicles=vols,
                floor=4,
                time_limit_s=rp.time_limit_s,
                initial=initial,
                pinned=np.where(legs, walker, -1),
            )
        )
    if getattr(config, "cluster", None) is not None and config.cluster.scheduler:
        from ..cluster import make_executor

        with make_executor(config.cluster) as executor:
            solutions = solve_turfs(executor, problems, progress)
    else:
        solutions = solve_all(problems, rp.workers, progress)
    stop_rows: list[dict[str, Any]] = []
    route_rows: list[dict[str, Any]] = []
    left_rows: list[dict[str, Any]] = []
    for tid in sorted(local):
        grp, costs, staging, vols = local[tid]
        visited: set[int] = set()
        start_xy = costs.stop_xy(0)
        vol_no = 0
        for order in solutions[tid]:
            if not order:
                continue
            vol_no += 1
            rid = f"{tid}-V{vol_no}"
            seq = [0, *[i + 1 for i in order]]
            if not rp.open_routes:
                seq.append(0)
            coords: list[tuple[float, float]] = [start_xy]
            clock = 0.0
            walk_m = drive_m = drive_s = 0.0
            for s_no, (a, b) in enumerate(itertools.pairwise(seq), start=1):
                leg_m, hop_m, hop_s, path = costs.hop(a, b)
                leg_s = leg_m / wp.speed_m_s
                coords.extend(path)
                walk_m += leg_m
                drive_m += hop_m
                drive_s += hop_s
                clock += leg_s + hop_s
                if b == 0:
                    break
                row = grp.iloc[b - 1]
                stop_rows.append(
                    {
                        schema.ROUTE_ID: rid,
                        schema.TURF_ID: tid,
                        schema.VOLUNTEER: vol_no,
                        schema.STOP: s_no,
                        schema.DOOR_ID: str(grp.index[b - 1]),
                        schema.ARRIVE_S: round(clock),
                        schema.LEG_M: round(leg_m, 1),
                        schema.LEG_S: round(leg_s),
                        schema.SIDE: str(row[schema.SIDE]),
                        schema.DRIVE_S: round(hop_s),
                    }
                )
                clock += wp.door_s
                visited.add(b - 1)
            sub = grp.iloc[order]
            route_rows.append(
                {
                    schema.ROUTE_ID: rid,
                    schema.TURF_ID: tid,
                    schema.VOLUNTEER: vol_no,
                    schema.N_DOORS: len(order),
                    schema.N_TARGETS: int(sub[schema.N_TARGETS].sum()),
                    schema.VALUE: float(sub[schema.VALUE].sum()),
                    schema.WALK_M: round(walk_m, 1),
                    schema.WALK_S: round(walk_m / wp.speed_m_s),
                    schema.DOOR_S: len(order) * wp.door_s,
                    schema.DRIVE_M: round(drive_m, 1),
                    schema.DRIVE_S: round(drive_s),
                    schema.TOTAL_S: round(walk_m / wp.speed_m_s)
                    + round(drive_s)
                    + len(order) * wp.door_s,
                    "start_x": start_xy[0],
                    "start_y": start_xy[1],
                    "geometry": _line(coords, start_xy),
                }
            )
        for i in range(len(grp)):
            if i not in visited:
                left_rows.append(
                    {
                        schema.DOOR_ID: str(grp.index[i]),
                        schema.REASON: "dropped_for_time",
                        schema.VALUE: float(grp[schema.VALUE].iloc[i]),
                        schema.DETAIL: f"turf {tid}: no time left in the shift",
                    }
                )
    stops = pd.DataFrame(stop_rows, columns=[*schema.STOP_COLUMNS, *_STOP_EXTRA])
    routes = gpd.GeoDataFrame(
        route_rows,
        columns=[
            schema.ROUTE_ID,
            schema.TURF_ID,
            schema.VOLUNTEER,
            schema.N_DOORS,
            schema.N_TARGETS,
            schema.VALUE,
            schema.WALK_M,
            schema.WALK_S,
            schema.DOOR_S,
            schema.DRIVE_M,
            schema.DRIVE_S,
            schema.TOTAL_S,
            "start_x",
            "start_y",
            "geometry",
        ],
        geometry="geometry",
        crs=doors.crs,
    ).set_index(schema.ROUTE_ID)
    left = pd.DataFrame(left_rows, columns=list(schema.LEFT_OUT_COLUMNS))
    report = {
        "turfs": len(local),
        "routes": len(routes),
        "doors_routed": len(stops),
        "dropped_for_time": len(left),
        "walk_m": float(routes[schema.WALK_M].sum()) if len(routes) else 0.0,
        "drive_m": float(routes[schema.DRIVE_M].sum()) if len(routes) else 0.0,
        "max_total_s": int(routes[schema.TOTAL_S].max()) if len(routes) else 0,
    }
    logger.info(
        "Routed %s doors in %s routes over %s turfs (%s dropped for time)",
        f"{len(stops):,}",
        f"{len(routes):,}",
        f"{len(local):,}",
        f"{len(left):,}",
    )
    return RouteResult(stops=stops, routes=routes, left_out=left, report=report)


def solve_turfs(
    executor: Executor,
    problems: Iterable[TurfProblem],
    progress: Progress | None = None,
) -> dict[str, list[list[int]]]:
    """
    Solve turf problems on `executor`; a drop-in for :func:`canvass.turf.solve_all`.

    Parameters
    ----------
    executor
        Where to solve.
    problems
        One problem per turf.
    progress
        Called with (turfs done, turfs total).

    Returns
    -------
    solutions
        Volunteers' door orders by turf id (biggest turfs are sent out first).
    """
    big_first = sorted(problems, key=lambda p: -len(p.service_s))
    solved = executor.map(solve_turf, big_first, progress=progress)
    return dict(solved)
