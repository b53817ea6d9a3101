"""Stage 3: cut target doors into turfs sized for one volunteer shift.

Route first, cut second. The doors of each precinct are put in a Hilbert space-
filling-curve order over their street edges and cut into blocks of a few hundred
doors; OR-Tools finds a short walk through each block on the real network (blocks
solved in parallel). A dynamic programme (Prins' split) then cuts the precinct's walk
into loops that each fit in one shift (walking plus minutes per door), at the places
where cutting costs least, with a balance term that keeps the turfs of a precinct
even. Then windows of neighbouring turfs (along the street order, and nearest on
the map) are re-routed together by OR-Tools, starting from the cut, so doors move
to whichever neighbouring turf walks them most cheaply; soft bounds around the
precinct's mean keep them even. A last repair pass re-routes each turf still more
than ``turf.balance`` (15 %) from its precinct's mean with its nearest turfs,
pulled hard towards the mean, and where that is not enough with a wider chain of
turfs that hand work along (:mod:`canvass.turf._windows`). After the repair, short
turfs are dissolved into neighbours with room under the planned fill where that
keeps the balance, one volunteer fewer each (route elimination,
:mod:`canvass.turf._eliminate`). What walking cannot even out
(a hamlet far from every other door) may become a car leg: a run of doors walked
from another parking spot after a short drive (:mod:`canvass.turf._legs`; doors get
``car_stop``, turfs ``n_legs``; ``turf.car_legs = false`` turns this off). Turfs never
cross precinct lines unless ``turf.cross_precincts`` is set. Each turf gets a staging
point: the street node a car can reach where the turf's loop is shortest; with an
office in the config, routes start there and volunteers drive to that node and back
(timed in every estimate, :class:`canvass.turf._legs.Commute`), unless walking from the
office is shorter. With ``turf.volunteers_per_turf`` above one, the one-volunteer
walks are grouped into teams that share a staging point (:mod:`canvass.turf._teams`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from ..config import PlanConfig, WalkParams
from ..geocode import unverified_doors
from ..network import STREET_CLASSES, main_component
from ._costs import Anchors, LocalCosts, StreetIndex
from ._eliminate import eliminate
from ._exchange import exchange, settle
from ._leftover import place_left
from ._legs import Commute, car_stops
from ._repair import rebalance
from ._solver import SolveMemo, TurfProblem, solve_all
from ._split import balance_stats, split_tour
from ._teams import form_teams
from ._windows import Turf, improve, polish, restage

__all__ = ["TURF_ORDER", "TurfResult", "cut_turfs", "hilbert_key", "turf_outline"]

logger = logging.getLogger(__name__)

#: Column added to the doors: the door's place in the walk the turf was cut with
#: (the router starts from it).
TURF_ORDER = "turf_order"
#: Streets a car can reach and stop on (staging points are chosen among their nodes):
#: every street with doors except motorways.
DRIVABLE = STREET_CLASSES - {"motorway"}
#: Doors per street-tour block: tours are solved block by block, so the cost of cutting
#: grows with the number of doors, not with its square.
_BLOCK = 300
#: Doors of a turf whose nearest car-reachable node is tried as its staging point.
_STAGING_CANDIDATES = 12
#: Staging nodes, nearest first, a door no turf could keep is tried from.
_REACH_CANDIDATES = 24
#: Passes of window re-routing after the split.
_PASSES = 5
#: Repairs after the first, while turfs stay outside the balance (they may use car
#: legs; a second one lets the turfs next to a new car leg even out around it).
_LAST_REPAIRS = 2
_SNAP_COLUMNS = (
    schema.EDGE_U,
    schema.EDGE_V,
    schema.EDGE_KEY,
    schema.EDGE_POS_M,
    schema.SIDE,
)


@dataclass(frozen=True)
class TurfResult:
    """
    Turfs cut from the target doors.

    Parameters
    ----------
    doors
        Copy of every input door with ``turf_id`` (``""`` outside every turf).
    turfs
        One row per turf: ``precinct_id``, ``n_doors``, ``n_targets``, ``value``,
        ``est_s``, ``staging_node``, ``volunteers`` and the turf outline.
    left_out
        Target doors that could not be put in a turf (normally empty: doors that
        failed snapping are already reported by the network stage).
    report
        Counts and balance figures.
    """

    doors: gpd.GeoDataFrame
    turfs: gpd.GeoDataFrame
    left_out: pd.DataFrame
    report: dict[str, Any]


def hilbert_key(x: np.ndarray, y: np.ndarray, order: int = 16) -> np.ndarray:
    """
    Return the position of each point along a Hilbert curve over their bounding box.

    Parameters
    ----------
    x, y
        Coordinates.
    order
        Curve order; the box is divided into ``2**order`` cells per side.

    Returns
    -------
    keys
        Integer positions along the curve; nearby points get nearby keys.
    """
    side = (1 << order) - 1
    span = max(
        float(np.ptp(x)) if len(x) else 0.0, float(np.ptp(y)) if len(y) else 0.0, 1.0
    )
    xi = (
        np.asarray(((x - np.min(x, initial=0)) / span) * side, dtype=np.int64)
        if len(x)
        else x
    )
    yi = (
        np.asarray(((y - np.min(y, initial=0)) / span) * side, dtype=np.int64)
        if len(y)
        else y
    )
    xi, yi = np.array(xi, dtype=np.int64), np.array(yi, dtype=np.int64)
    d = np.zeros(len(xi), dtype=np.int64)
    s = 1 << (order - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


def _street_order(doors: pd.DataFrame, index: StreetIndex) -> np.ndarray:
    """Order doors edge by edge along a Hilbert curve, by position within an edge."""
    u = np.array([index.ix[n] for n in doors[schema.EDGE_U]], dtype=np.int64)
    v = np.array([index.ix[n] for n in doors[schema.EDGE_V]], dtype=np.int64)
    mid = (index.xy[u] + index.xy[v]) / 2
    key = hilbert_key(mid[:, 0], mid[:, 1])
    pos = doors[schema.EDGE_POS_M].to_numpy(dtype=float)
    return np.lexsort((pos, np.minimum(u, v), key))


def _staging_nodes(
    G: nx.MultiDiGraph[Any], main: set[Any]
) -> tuple[list[Any], shapely.STRtree]:
    cands = sorted(
        {
            u
            for u, _, d in G.edges(data=True)
            if d.get("highway") in DRIVABLE and u in main
        },
        key=str,
    )
    if not cands:
        cands = sorted(main, key=str)
    pts = shapely.points([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in cands])
    return cands, shapely.STRtree(pts)


def turf_outline(points: np.ndarray) -> shapely.Polygon:
    """
    Return a turf's outline: a concave hull of its doors, buffered by a street's width.

    Parameters
    ----------
    points
        The doors' coordinates (n x 2, metres) of one turf, or of one leg of it.

    Returns
    -------
    outline
        A polygon (a 30 m disc around the first door when the hull is not one).
    """
    mp_ = shapely.multipoints(points)
    for hull in (shapely.concave_hull(mp_, ratio=0.4), shapely.convex_hull(mp_)):
        geom = shapely.buffer(hull, 30.0)
        if isinstance(geom, shapely.Polygon):
            return geom
    return shapely.Polygon(shapely.buffer(shapely.Point(points[0]), 30.0))


def _crow_s(xy: np.ndarray, to: np.ndarray, wp: WalkParams) -> np.ndarray:
    """Return walking seconds from points to a point, at 1.3 x the straight line."""
    return np.asarray(1.3 * np.hypot(*(xy - to).T) / wp.speed_m_s)


def _cut(est: np.ndarray, k: int, edge: np.ndarray) -> list[np.ndarray]:
    """Cut an ordered run into `k` pieces of equal total, preferring edge boundaries."""
    total = float(est.sum())
    cum = np.cumsum(est)
    bounds = [0]
    for t in range(1, k):
        goal = total * t / k
        b = int(np.searchsorted(cum, goal)) + 1
        # move the cut to the nearest edge boundary within a few doors
        best = b
        for off in range(0, 6):
            for cand in (b - off, b + off):
                if bounds[-1] < cand < len(est) and edge[cand] != edge[cand - 1]:
                    best = cand
                    break
            if best != b or (bounds[-1] < b < len(est) and edge[b] != edge[b - 1]):
                break
        bounds.append(min(max(best, bounds[-1] + 1), len(est) - (k - t)))
    bounds.append(len(est))
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(k)]


def cut_turfs(
    doors: gpd.GeoDataFrame, G: nx.MultiDiGraph[Any], config: PlanConfig
) -> TurfResult:
    """
    Cut the snapped target doors into balanced turfs, one volunteer shift each.

    Parameters
    ----------
    doors
        Snapped doors (from :func:`canvass.network.snap_doors`) with ``n_targets``
        and, when scored, ``value``.
    G
        The walking network.
    config
        Run configuration (``turf`` and ``walk`` sections).

    Returns
    -------
    TurfResult
        Doors with ``turf_id``, the turf table, left-out doors and counts.

    Raises
    ------
    InputError
        If the doors are not snapped or lack ``n_targets``.
    """
    schema.validate_doors(doors, also=(*_SNAP_COLUMNS, schema.N_TARGETS))
    tp = config.turf
    out = doors.copy()
    out[schema.TURF_ID] = ""
    out[TURF_ORDER] = -1
    out[schema.WALKER] = 0
    out[schema.CAR_STOP] = pd.Series([None] * len(out), index=out.index, dtype=object)
    # A door placed only at its precinct's centre is no door to walk to.
    unverified = unverified_doors(out, route_centroids=config.geocode.route_centroids)
    ok = (out[schema.N_TARGETS].fillna(0) > 0) & out[schema.EDGE_U].notna()
    ok &= ~out.index.isin(unverified[schema.DOOR_ID])
    work = out[ok].drop(columns=schema.WALKER)  # set by the teams, if any
    index = StreetIndex(G)
    main = main_component(G)
    cands, tree = _staging_nodes(G, main)
    office_node = None
    if tp.office:
        tr = pyproj.Transformer.from_crs("EPSG:4326", G.graph["crs"], always_xy=True)
        ox_, oy_ = tr.transform(tp.office[1], tp.office[0])
        office_node = cands[int(tree.nearest(shapely.Point(ox_, oy_)))]
    values = (
        work[schema.VALUE].fillna(0).to_numpy(dtype=float)
        if schema.VALUE in work.columns
        else work[schema.N_TARGETS].to_numpy(dtype=float)
    )
    work = work.assign(**{schema.VALUE: values})
    staging = _stager(cands, tree)
    # with an office, volunteers drive from it to a parking spot by their turf
    commute = None if office_node is None else Commute.build(index, office_node, config)
    groups = (
        [("ALL", work)]
        if tp.cross_precincts
        else [(str(p), g) for p, g in work.groupby(schema.PRECINCT_ID, sort=True)]
    )
    near = _near_doors(cands, tree)
    reach = _within_reach(cands, tree, config)
    plans, dropped = _block_turfs(index, groups, config, staging, near, commute, reach)
    rows: list[dict[str, Any]] = []
    for pid, turf_list in plans:
        for t, (members, est_s, node) in enumerate(turf_list, start=1):
            tid = f"{pid}-T{t:02d}" if not tp.cross_precincts else f"T{t:03d}"
            out.loc[members.index, schema.TURF_ID] = tid
            out.loc[members.index, TURF_ORDER] = np.arange(len(members))
            walker = (
                members[schema.WALKER].to_numpy(dtype=np.int64)
                if schema.WALKER in members.columns
                else np.ones(len(members), dtype=np.int64)
            )
            out.loc[members.index, schema.WALKER] = walker
            stops = pd.Series(car_stops(members, node), index=members.index)
            out.loc[members.index, schema.CAR_STOP] = stops
            pts = shapely.get_coordinates(members.geometry.to_numpy())
            legs = stops.factorize()[0]
            outline = shapely.union_all(
                [turf_outline(pts[legs == leg]) for leg in range(legs.max() + 1)]
            )
            precinct = (
                pid
                if not tp.cross_precincts
                else ",".join(sorted(members[schema.PRECINCT_ID].astype(str).unique()))
            )
            rows.append(
                {
                    schema.TURF_ID: tid,
                    schema.PRECINCT_ID: precinct,
                    schema.N_DOORS: len(members),
                    schema.N_TARGETS: int(members[schema.N_TARGETS].sum()),
                    schema.VALUE: float(members[schema.VALUE].sum()),
                    schema.EST_S: round(est_s),
                    # from the office, the volunteer drives to the parking spot
                    schema.STAGING_NODE: node if commute is None else commute.office,
                    "volunteers": int(walker.max()),
                    schema.N_LEGS: int(legs.max()) + 1,
                    "geometry": outline,
                }
            )
    turfs = gpd.GeoDataFrame(
        rows,
        columns=[
            schema.TURF_ID,
            schema.PRECINCT_ID,
            schema.N_DOORS,
            schema.N_TARGETS,
            schema.VALUE,
            schema.EST_S,
            schema.STAGING_NODE,
            "volunteers",
            schema.N_LEGS,
            "geometry",
        ],
        geometry="geometry",
        crs=doors.crs,
    ).set_index(schema.TURF_ID)
    left = pd.DataFrame(
        {
            schema.DOOR_ID: dropped.index.astype(str),
            schema.REASON: "dropped_for_time",
            schema.VALUE: dropped[schema.VALUE].to_numpy(dtype=float),
            schema.DETAIL: "cannot be walked to and worked within one shift",
        },
        columns=list(schema.LEFT_OUT_COLUMNS),
    )
    left = pd.concat([unverified, left], ignore_index=True) if len(unverified) else left
    max_dev, share, outside = balance_stats(turfs, tp.balance)
    report = {
        "turfs": len(turfs),
        "doors_in_turfs": int((out[schema.TURF_ID] != "").sum()),
        "est_s_min": int(turfs[schema.EST_S].min()) if len(turfs) else 0,
        "est_s_max": int(turfs[schema.EST_S].max()) if len(turfs) else 0,
        "balance_max_dev": max_dev,
        "share_balanced": share,
        "turfs_outside_balance": outside,
        "balance_pct": round(100 * tp.balance),
        "dropped_for_time": int((left[schema.REASON] == "dropped_for_time").sum()),
        "address_not_found": len(unverified),
        "car_leg_turfs": int((turfs[schema.N_LEGS] > 1).sum()) if len(turfs) else 0,
    }
    logger.info(
        "Cut %s target doors into %s turfs",
        f"{report['doors_in_turfs']:,}",
        f"{len(turfs):,}",
    )
    return TurfResult(doors=out, turfs=turfs, left_out=left, report=report)


def _block_turfs(
    index: StreetIndex,
    groups: list[tuple[str, pd.DataFrame]],
    config: PlanConfig,
    staging: Callable[[pd.DataFrame], Any],
    car_nodes: Callable[[pd.DataFrame], list[Any]],
    commute: Commute | None,
    reach: Callable[[pd.DataFrame], list[Any]],
) -> tuple[list[tuple[str, list[Turf]]], pd.DataFrame]:
    """
    Cut each group's doors into turfs: a street tour first, then an optimal split.

    Each group (precinct) is cut into blocks of at most ``_BLOCK`` doors along the
    Hilbert street order; OR-Tools finds a short open walk through each block's doors
    (blocks solved in parallel), and :func:`~canvass.turf._split.split_tour` cuts that
    walk into shift-sized loops at the cheapest places, preferring turfs of even
    length. With `commute` (an office) every turf's time includes the drive from
    the office to its parking spot and back.
    """
    tp, wp, rp = config.turf, config.walk, config.route
    capacity = tp.shift_s * tp.fill  # one volunteer's walk (teams: _teams)
    blocks: list[tuple[int, pd.DataFrame, np.ndarray]] = []
    problems: list[TurfProblem] = []
    for gi, (_, grp) in enumerate(groups):
        g = grp.iloc[_street_order(grp, index)]
        edge = pd.factorize(
            pd.Series(list(zip(g[schema.EDGE_U], g[schema.EDGE_V], strict=True)))
        )[0]
        nb = max(1, math.ceil(len(g) / _BLOCK))
        pieces = _cut(np.ones(len(g)), nb, edge)
        gxy = shapely.get_coordinates(g.geometry.to_numpy())
        centres = [gxy[piece].mean(axis=0) for piece in pieces]
        for k, piece in enumerate(pieces):
            blk = g.iloc[piece]
            m = LocalCosts(index, Anchors.build(index, blk, [], wp)).matrix
            walk = np.zeros((len(blk) + 1, len(blk) + 1))
            walk[1:, 1:] = m / wp.speed_m_s
            # node 0 stands for the neighbouring blocks: the walk enters from the
            # previous block and leaves towards the next, so the blocks' walks join
            # up and no outlying door is left dangling at a loose end
            if k > 0:
                walk[0, 1:] = _crow_s(gxy[piece], centres[k - 1], wp)
            if k < nb - 1:
                walk[1:, 0] = _crow_s(gxy[piece], centres[k + 1], wp)
            problems.append(
                TurfProblem(
                    turf_id=str(len(blocks)),
                    walk_s=walk,
                    service_s=np.zeros(len(blk), dtype=np.int64),
                    penalty=np.full(len(blk), 10**12, dtype=np.int64),
                    vehicles=1,
                    shift_s=2**40,
                    open_routes=False,
                    time_limit_s=tp.tour_time_s,
                    solution_limit=rp.solution_limit,
                )
            )
            blocks.append((gi, blk, m))
    tours = solve_all(problems, rp.workers)
    plans: list[tuple[str, list[Turf]]] = []
    for gi, (pid, _) in enumerate(groups):
        parts: list[pd.DataFrame] = []
        steps: list[np.ndarray] = []
        for bi, (bgi, blk, m) in enumerate(blocks):
            if bgi != gi:
                continue
            order = np.asarray(tours[str(bi)][0], dtype=np.int64)
            steps.append(np.concatenate([[np.nan], m[order[:-1], order[1:]]]))
            parts.append(blk.iloc[order])
        g = pd.concat(parts)
        xy = shapely.get_coordinates(g.geometry.to_numpy())
        step = np.concatenate(steps)
        crow = 1.3 * np.hypot(*(xy[1:] - xy[:-1]).T)  # between blocks: no graph path
        step[1:] = np.where(np.isnan(step[1:]), crow, step[1:])
        step[0] = 0.0
        step_s = step / wp.speed_m_s
        drive = (
            None
            if commute is None
            else np.array(
                [commute.seconds(staging(g.iloc[[d]])) for d in range(len(g))]
            )
        )
        first = split_tour(step_s, xy, wp, capacity, capacity, 1.0, extra_s=drive)[0]
        mean = float(np.mean([t for _, _, t in first])) if first else capacity
        # every turf within the balance of the precinct's mean, never over a shift
        band = (mean * (1 - tp.balance), min(capacity, mean * (1 + tp.balance)))
        segments = split_tour(step_s, xy, wp, capacity, mean, 4.0, band, extra_s=drive)[
            0
        ]
        turfs = []
        for i, j, t in segments:
            members = g.iloc[i:j]
            turfs.append((members, t, staging(members)))
        plans.append((pid, turfs))
    # a window or turf re-solved unchanged by a later round is looked up, not solved
    memo = SolveMemo()
    for pass_no in range(_PASSES):
        plans = improve(index, plans, config, pass_no, commute, memo)
        if pass_no == 0:
            plans = restage(index, plans, config, car_nodes, commute)
    plans = rebalance(index, plans, config, commute=commute, memo=memo)
    plans, gone = polish(index, plans, config, commute, memo)
    for _ in range(_LAST_REPAIRS):
        if not balance_stats(_est_table(plans), tp.balance)[2]:
            break
        # what walking alone could not even out may take a car leg
        repaired = rebalance(index, plans, config, car_nodes, commute, memo)
        plans, more = polish(index, repaired, config, commute, memo)
        gone = pd.concat([gone, more]) if len(more) else gone
    # doors a turf could not keep in the shift go to neighbours with room, or
    # into new turfs: left out only when no shift can hold them
    plans, gone = place_left(index, plans, gone, config, staging, commute, memo, reach)
    # one volunteer fewer wherever the neighbours of a short turf can take its doors
    fewer = eliminate(index, plans, config, commute, memo)
    if sum(map(len, (t for _, t in fewer))) < sum(map(len, (t for _, t in plans))):
        # the turfs that took doors hand boundary doors on (kept if no door is
        # lost and no more turfs end up outside the balance)
        moved = improve(index, fewer, config, 1, commute, memo)
        moved, more = polish(index, moved, config, commute, memo)
        outside = [balance_stats(_est_table(p), tp.balance)[2] for p in (fewer, moved)]
        plans = moved if not len(more) and outside[1] <= outside[0] else fewer
    # doors moved across neighbouring turfs, and turfs dissolved, where that pays
    crossed = exchange(index, plans, config, commute)
    if crossed is not plans:  # each turf routed on its own, as routing will
        crossed, more = polish(index, crossed, config, commute, memo)
        plans = settle(plans, crossed, more, tp.balance, tp.shift_s * tp.fill)
    logger.debug("%s window and turf problems looked up, not re-solved", memo.hits)
    if tp.volunteers_per_turf > 1:  # each team's walks become one turf
        plans, more = form_teams(index, plans, config, car_nodes, commute)
        gone = pd.concat([gone, more]) if len(more) else gone
    return plans, gone


def _stager(cands: list[Any], tree: shapely.STRtree) -> Callable[[pd.DataFrame], Any]:
    """Return a function giving a turf's first staging node (the nearest)."""

    def staging(members: pd.DataFrame) -> Any:
        pts = shapely.get_coordinates(members.geometry.to_numpy())
        return cands[int(tree.nearest(shapely.Point(*pts.mean(axis=0))))]

    return staging


def _within_reach(
    cands: list[Any], tree: shapely.STRtree, config: PlanConfig
) -> Callable[[pd.DataFrame], list[Any]]:
    """
    Return a function giving the staging nodes a door might be walked from.

    Those within half a shift's walk of the door's first point in a straight line
    (a round trip from farther cannot fit), nearest first, at most
    `_REACH_CANDIDATES`.
    """
    radius = config.walk.speed_m_s * config.turf.shift_s / 2
    xy = np.array(shapely.get_coordinates(tree.geometries))

    def within(members: pd.DataFrame) -> list[Any]:
        at = shapely.get_coordinates(members.geometry.to_numpy())[0]
        hits = tree.query(shapely.Point(*at), predicate="dwithin", distance=radius)
        order = hits[np.argsort(np.hypot(*(xy[hits] - at).T), kind="stable")]
        return [cands[int(i)] for i in order[:_REACH_CANDIDATES]]

    return within


def _near_doors(
    cands: list[Any], tree: shapely.STRtree
) -> Callable[[pd.DataFrame], list[Any]]:
    """Return a function giving the car-reachable nodes nearest a turf's doors."""

    def near(members: pd.DataFrame) -> list[Any]:
        pts = members.geometry.to_numpy()
        step = max(1, len(pts) // _STAGING_CANDIDATES)
        hits = tree.nearest(pts[::step])
        return [cands[int(i)] for i in dict.fromkeys(np.asarray(hits).tolist())]

    return near


def _est_table(plans: list[tuple[str, list[Turf]]]) -> pd.DataFrame:
    """Precinct and estimated time of every turf (for balance figures)."""
    return pd.DataFrame(
        [(pid, t) for pid, turfs in plans for _, t, _ in turfs],
        columns=[schema.PRECINCT_ID, schema.EST_S],
    )
