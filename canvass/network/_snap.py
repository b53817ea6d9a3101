"""Doors snapped to their street (private to the network stage).

Doors are snapped to the nearest street *edge* (not node), with the side of the street
and the position along the edge, so routing can tell a zigzag across a quiet street
from a walk down one side of a busy one; a corner lot goes to the street its address
names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import schema
from ..config import WalkParams
from ..errors import InputError
from ..geocode import normalize_street_names  # the geocoder's spelling rules
from ._graph import STREET_CLASSES

__all__ = [
    "CORNER_SLACK_M",
    "SnapResult",
    "main_component",
    "prefer_own_street",
    "snap_doors",
]

logger = logging.getLogger(__name__)

#: A corner door may snap to the street of its address when that street is at most
#: this much farther than the nearest one (a corner lot faces one, sits near both).
CORNER_SLACK_M = 25.0


def prefer_own_street(
    idx: np.ndarray,
    dist: np.ndarray,
    pts: np.ndarray,
    names: pd.Series,
    edges: pd.DataFrame,
    street: np.ndarray,
) -> None:
    """
    Move corner doors onto the street of their address, in place.

    A corner house is often nearer the cross street than the street it faces; its
    address says which street that is. A door whose nearest street has another name
    moves to the nearest edge of its own street when that is at most
    ``CORNER_SLACK_M`` farther away. Names are compared after the geocoder's US
    normalisation ("Maple Street" = "MAPLE ST").
    """
    want = normalize_street_names(names.astype("string")).to_numpy()
    edge_names = normalize_street_names(edges["name"].astype("string")).to_numpy()
    nearest = edge_names[np.clip(idx, 0, None)]
    todo = np.flatnonzero((idx >= 0) & (want != "") & (nearest != want))
    sub = np.flatnonzero(street & (edge_names != ""))
    if not len(todo) or not len(sub):
        return
    geoms = edges["geometry"].to_numpy()[sub]
    tree = shapely.STRtree(geoms)
    qi, ti = tree.query(
        pts[todo], predicate="dwithin", distance=dist[todo] + CORNER_SLACK_M
    )
    match = edge_names[sub[ti]] == want[todo[qi]]
    qi, ti = qi[match], ti[match]
    if not len(qi):
        return
    d = shapely.distance(pts[todo[qi]], geoms[ti])
    order = np.lexsort((d, qi))  # per door, its nearest own-street edge first
    first = order[np.r_[True, qi[order][1:] != qi[order][:-1]]]
    doors_i = todo[qi[first]]
    idx[doors_i] = sub[ti[first]]
    dist[doors_i] = d[first]


@dataclass(frozen=True)
class SnapResult:
    """
    Doors snapped to the walking network.

    Parameters
    ----------
    doors
        Copy of the doors with ``edge_u``, ``edge_v``, ``edge_key``, ``edge_pos_m``,
        ``side``, ``snap_m`` and ``street_class``. Doors that cannot be routed keep
        ``snap_m`` but have no edge (``edge_u`` missing).
    left_out
        Target doors that cannot be routed, with reason ``too_far_from_street`` or
        ``unreachable``.
    report
        Counts.
    """

    doors: gpd.GeoDataFrame
    left_out: pd.DataFrame
    report: dict[str, Any]


def _edge_table(G: nx.MultiDiGraph[Any]) -> pd.DataFrame:
    """One row per undirected edge (the first direction seen), with geometry."""
    rows: list[tuple[Any, Any, int, str, str, shapely.LineString]] = []
    seen: set[tuple[Any, Any, int]] = set()
    for u, v, k, d in G.edges(keys=True, data=True):
        if (v, u, k) in seen:
            continue
        seen.add((u, v, k))
        rows.append((u, v, k, d["highway"], d.get("name", ""), d["geometry"]))
    return pd.DataFrame(rows, columns=["u", "v", "key", "highway", "name", "geometry"])


def _side(line: shapely.LineString, pos: float, pt: shapely.Point) -> str:
    """Return "L" or "R": the side of `line` (in its direction) that `pt` lies on."""
    length = line.length
    a = line.interpolate(max(pos - 0.5, 0.0))
    b = line.interpolate(min(pos + 0.5, length))
    cross = (b.x - a.x) * (pt.y - a.y) - (b.y - a.y) * (pt.x - a.x)
    return "L" if cross >= 0 else "R"


def main_component(G: nx.MultiDiGraph[Any]) -> set[Any]:
    """Return the nodes of the largest weakly connected component."""
    if G.number_of_nodes() == 0:
        return set()
    comps: list[set[Any]] = list(nx.weakly_connected_components(G))
    return max(comps, key=len)


def snap_doors(
    doors: gpd.GeoDataFrame, G: nx.MultiDiGraph[Any], params: WalkParams
) -> SnapResult:
    """
    Snap each door to its nearest street edge, with side and position along it.

    Doors snap to the nearest street (``STREET_CLASSES``) within ``params.max_snap_m``,
    or to the street their address names when that is at most ``CORNER_SLACK_M``
    farther (corner lots); a door with no street that close snaps to the nearest
    footpath instead. Doors
    farther than ``max_snap_m`` from every walkable edge are *not* moved: they keep
    their distance in ``snap_m`` and are reported as ``too_far_from_street``. Doors on
    edges off the main walkable component are reported as ``unreachable``.

    Parameters
    ----------
    doors
        Door table (index ``door_id``, points in the graph's CRS).
    G
        Walking network from :func:`read_walk_graph`.
    params
        Walking parameters.

    Returns
    -------
    SnapResult
        The snapped copy, the left-out target doors and counts.

    Raises
    ------
    InputError
        If the door table is malformed or not in the graph's CRS.
    """
    schema.validate_doors(doors)
    graph_crs = pyproj.CRS.from_user_input(G.graph["crs"])
    if doors.crs is not None and not graph_crs.equals(doors.crs):
        msg = (
            f"Doors are in {doors.crs.name} but the walking network is in "
            f"{graph_crs.name}; read the network with crs=doors.crs."
        )
        raise InputError(msg)
    edges = _edge_table(G)
    pts = doors.geometry.to_numpy()
    n = len(doors)
    idx = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    street = edges["highway"].isin(STREET_CLASSES).to_numpy()
    for mask in (street, np.ones(len(edges), dtype=bool)):
        todo = np.flatnonzero(~(dist <= params.max_snap_m))
        if not mask.any() or not len(todo):
            continue
        sub = np.flatnonzero(mask)
        tree = shapely.STRtree(edges["geometry"].to_numpy()[sub])
        (qi, ti), d = tree.query_nearest(
            pts[todo], return_distance=True, all_matches=False
        )
        better = d < dist[todo[qi]]
        idx[todo[qi[better]]] = sub[ti[better]]
        dist[todo[qi[better]]] = d[better]
    if schema.STREET_NAME in doors.columns:
        prefer_own_street(idx, dist, pts, doors[schema.STREET_NAME], edges, street)
    main = main_component(G)
    out = doors.copy()
    u = np.empty(n, dtype=object)
    v = np.empty(n, dtype=object)
    key = np.full(n, -1, dtype=np.int64)
    pos = np.full(n, np.nan)
    side = np.full(n, "", dtype=object)
    klass = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    geoms = edges["geometry"].to_numpy()
    e_u, e_v = edges["u"].to_numpy(), edges["v"].to_numpy()
    e_key = edges["key"].to_numpy(dtype=np.int64)
    e_hw = edges["highway"].to_numpy()
    for i in range(n):
        j = idx[i]
        if j < 0:
            reason[i] = "unreachable"
            continue
        line = geoms[j]
        klass[i] = e_hw[j]
        if dist[i] > params.max_snap_m:
            reason[i] = "too_far_from_street"
            continue
        eu, ev = e_u[j], e_v[j]
        if eu not in main:
            reason[i] = "unreachable"
            continue
        p = float(line.project(pts[i]))
        u[i], v[i], key[i], pos[i] = eu, ev, int(e_key[j]), p
        side[i] = _side(line, p, pts[i])
    out[schema.EDGE_U] = pd.Series(u, index=out.index, dtype=object)
    out[schema.EDGE_V] = pd.Series(v, index=out.index, dtype=object)
    out[schema.EDGE_KEY] = (
        pd.Series(key, index=out.index).astype("Int64").where(key >= 0)
    )
    out[schema.EDGE_POS_M] = pos
    out[schema.SIDE] = pd.Series(side, index=out.index, dtype="string")
    out[schema.SNAP_M] = np.where(np.isfinite(dist), dist, np.nan)
    out[schema.STREET_CLASS] = pd.Series(klass, index=out.index, dtype="string")
    targets = _target_mask(out)
    bad = (reason != "") & targets
    left = pd.DataFrame(
        {
            schema.DOOR_ID: out.index[bad].astype(str),
            schema.REASON: reason[bad].astype(str),
            schema.VALUE: _values(out)[bad],
            schema.DETAIL: [
                f"{d:.0f} m from the nearest street"
                if r == "too_far_from_street"
                else "not on the main walkable network"
                for d, r in zip(dist[bad], reason[bad], strict=True)
            ],
        },
        columns=list(schema.LEFT_OUT_COLUMNS),
    )
    report = {
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "main_component_nodes": len(main),
        "doors": n,
        "doors_snapped": int((reason == "").sum()),
        "too_far_from_street": int((reason == "too_far_from_street").sum()),
        "unreachable": int((reason == "unreachable").sum()),
        "target_doors_left_out": int(bad.sum()),
        "median_snap_m": float(np.nanmedian(dist[np.isfinite(dist)])) if n else 0.0,
    }
    logger.info(
        "Snapped %s of %s doors to streets (%s too far, %s unreachable)",
        f"{report['doors_snapped']:,}",
        f"{n:,}",
        f"{report['too_far_from_street']:,}",
        f"{report['unreachable']:,}",
    )
    return SnapResult(doors=out, left_out=left, report=report)


def _target_mask(doors: pd.DataFrame) -> np.ndarray:
    if schema.N_TARGETS not in doors.columns:
        return np.ones(len(doors), dtype=bool)
    return np.asarray(doors[schema.N_TARGETS].fillna(0).to_numpy() > 0)


def _values(doors: pd.DataFrame) -> np.ndarray:
    """Door value (expected extra votes), or the number of targets when unscored."""
    for col in (schema.VALUE, schema.N_TARGETS):
        if col in doors.columns:
            return np.asarray(doors[col].fillna(0).to_numpy(dtype=float))
    return np.ones(len(doors))
