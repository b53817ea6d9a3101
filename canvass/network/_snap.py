"""Snapping helper: corner doors go to the street of their address (private)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from ..geocode import normalize_street_names  # the geocoder's spelling rules

__all__ = ["CORNER_SLACK_M", "prefer_own_street"]

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
