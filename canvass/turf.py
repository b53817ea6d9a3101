"""Stage 3: cut target doors into turfs sized for one volunteer shift.

Doors are first ordered along the streets: a Hilbert space-filling curve over the
street edges keeps neighbouring blocks together, and doors on one edge stay together
in the order they stand along it, so a block face is never split when it can be
avoided. The order is then cut into runs of equal estimated time (walking along the
order on the real network plus minutes per door), one run per turf, so the turfs of a
precinct are balanced, contiguous and inside the precinct. Each turf gets a staging
point: the office from the config, or the nearest street node reachable by car.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import schema
from ._costs import Anchors, LocalCosts, StreetIndex
from .config import PlanConfig
from .network import main_component

__all__ = ["TurfResult", "cut_turfs", "hilbert_key"]

logger = logging.getLogger(__name__)

#: Streets a car can reach (staging points are chosen among their nodes).
DRIVABLE = frozenset(
    {
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "trunk",
        "trunk_link",
    }
)
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
    # walk each edge from the end nearer the previous edge: alternate direction by key
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


def _outline(points: np.ndarray) -> shapely.Polygon:
    """Turf outline: a concave hull of its doors, buffered by a street's width."""
    mp_ = shapely.multipoints(points)
    for hull in (shapely.concave_hull(mp_, ratio=0.4), shapely.convex_hull(mp_)):
        geom = shapely.buffer(hull, 30.0)
        if isinstance(geom, shapely.Polygon):
            return geom
    return shapely.Polygon(shapely.buffer(shapely.Point(points[0]), 30.0))


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
    tp, wp = config.turf, config.walk
    out = doors.copy()
    out[schema.TURF_ID] = ""
    ok = (out[schema.N_TARGETS].fillna(0) > 0) & out[schema.EDGE_U].notna()
    work = out[ok]
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
    capacity = tp.shift_s * tp.volunteers_per_turf * tp.fill
    groups = (
        [("ALL", work)]
        if tp.cross_precincts
        else [(str(p), g) for p, g in work.groupby(schema.PRECINCT_ID, sort=True)]
    )
    rows: list[dict[str, Any]] = []
    for pid, grp in groups:
        order = _street_order(grp, index)
        g = grp.iloc[order]
        anchors = Anchors.build(index, g, [], wp)
        costs = LocalCosts(index, anchors)
        gaps = np.diag(costs.matrix, 1) / wp.speed_m_s
        gaps = np.minimum(gaps, np.quantile(gaps, 0.95) if len(gaps) else 0.0)
        gaps_in = np.concatenate([[0.0], gaps])
        est = gaps_in + wp.door_s
        k = max(1, math.ceil(est.sum() / capacity))
        edge = anchors.edge
        while True:
            pieces = _cut(est, min(k, len(g)), edge)
            ests = [
                est[p].sum()
                - gaps_in[p[0]]
                + _approach(index, g.iloc[p], office_node, cands, tree, wp)[1]
                for p in pieces
            ]
            if max(ests) <= capacity or k >= len(g):
                break
            k += 1
        for t, (p, e) in enumerate(zip(pieces, ests, strict=True), start=1):
            members = g.iloc[p]
            node, _ = _approach(index, members, office_node, cands, tree, wp)
            tid = f"{pid}-T{t:02d}" if not tp.cross_precincts else f"T{t:03d}"
            out.loc[members.index, schema.TURF_ID] = tid
            pts = shapely.get_coordinates(members.geometry.to_numpy())
            rows.append(
                {
                    schema.TURF_ID: tid,
                    schema.PRECINCT_ID: pid
                    if not tp.cross_precincts
                    else ",".join(
                        sorted(members[schema.PRECINCT_ID].astype(str).unique())
                    ),
                    schema.N_DOORS: len(members),
                    schema.N_TARGETS: int(members[schema.N_TARGETS].sum()),
                    schema.VALUE: float(members[schema.VALUE].sum()),
                    schema.EST_S: round(float(e)),
                    schema.STAGING_NODE: node,
                    schema.VOLUNTEER + "s": tp.volunteers_per_turf,
                    "geometry": _outline(pts),
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
            "geometry",
        ],
        geometry="geometry",
        crs=doors.crs,
    ).set_index(schema.TURF_ID)
    left = pd.DataFrame(columns=list(schema.LEFT_OUT_COLUMNS))
    report = {
        "turfs": len(turfs),
        "doors_in_turfs": int((out[schema.TURF_ID] != "").sum()),
        "est_s_min": int(turfs[schema.EST_S].min()) if len(turfs) else 0,
        "est_s_max": int(turfs[schema.EST_S].max()) if len(turfs) else 0,
    }
    logger.info(
        "Cut %s target doors into %s turfs",
        f"{report['doors_in_turfs']:,}",
        f"{len(turfs):,}",
    )
    return TurfResult(doors=out, turfs=turfs, left_out=left, report=report)


def _approach(
    index: StreetIndex,
    members: pd.DataFrame,
    office_node: Any,
    cands: list[Any],
    tree: shapely.STRtree,
    wp: Any,
) -> tuple[Any, float]:
    """Staging node of a turf and the estimated seconds to walk in from it and back."""
    pts = shapely.get_coordinates(members.geometry.to_numpy())
    centre = pts.mean(axis=0)
    if office_node is not None:
        node = office_node
    else:
        node = cands[int(tree.nearest(shapely.Point(*centre)))]
    x, y = index.node_xy(node)
    near = float(np.min(np.hypot(pts[:, 0] - x, pts[:, 1] - y)))
    return node, 2 * 1.3 * near / wp.speed_m_s
