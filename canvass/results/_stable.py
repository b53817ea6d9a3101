"""Turfs that stay put: the previous run's turf names given to the new cut.

:func:`previous_turfs` reads door -> turf of the latest run recorded in the
campaign database; :func:`keep_turf_ids` names each new turf after the previous
turf most of its doors were in, and :func:`settle_turfs` sends doors the new cut
moved back to their previous turf where that costs little walking
(docs/replan.md, "Turfs that stay put").
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from .. import schema
from ..config import PlanConfig
from ..turf import TURF_ORDER, turf_outline
from . import _db as db
from ._assign import WALK_FACTOR

__all__ = ["keep_turf_ids", "previous_turfs", "settle_turfs"]

logger = logging.getLogger(__name__)

_TURF_NO = re.compile(r"^(.*?)(\d+)$")


def previous_turfs(config: PlanConfig) -> pd.Series:
    """Return door -> turf id of the latest run recorded in the campaign database."""
    engine = db.open_db(config)
    r, s, t = db.runs.c, db.stops.c, db.routes.c
    try:
        with engine.connect() as conn:
            last = conn.execute(
                sa.select(r.run_id).order_by(r.created_at.desc(), r.run_id.desc())
            ).first()
            if last is None:
                return pd.Series(dtype=object)
            rows = conn.execute(
                sa.select(s.door_id, t.turf_id)
                .join(
                    db.routes,
                    sa.and_(t.run_id == s.run_id, t.route_id == s.route_id),
                )
                .where(s.run_id == last[0])
            ).all()
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows, columns=["door_id", "turf_id"])
    return frame.drop_duplicates("door_id").set_index("door_id")["turf_id"]


def keep_turf_ids(
    doors: pd.DataFrame, turfs: pd.DataFrame, previous: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """
    Name each turf after the previous run's turf most of its doors were in.

    The cut itself is not changed: only the names, so that "turf 3A-T04" is the
    same neighbourhood from one shift to the next where the doors allow (greedy
    by the number of shared doors; each old name is given once; a turf sharing
    no doors keeps its name, or takes the next free number).

    Parameters
    ----------
    doors
        Doors with ``turf_id`` (:func:`canvass.turf.cut_turfs`).
    turfs
        The turf table, indexed by ``turf_id``.
    previous
        Door id -> turf id of the previous run (:func:`previous_turfs`).

    Returns
    -------
    doors, turfs
        Copies with the new names.
    report
        ``turfs_renamed``, ``doors_again`` (doors in both runs) and
        ``doors_same_turf`` (of those, in a turf of the same name).
    """
    tid = doors[schema.TURF_ID].astype(str)
    in_turf = tid[tid != ""]
    old = previous.reindex(in_turf.index.astype(str)).to_numpy()
    pairs = pd.DataFrame({"new": in_turf.to_numpy(), "old": old}).dropna()
    overlap = pairs.value_counts().sort_values(ascending=False, kind="stable")
    names: dict[str, str] = {}
    used: set[str] = set()
    for key in overlap.index:
        new_id, old_id = str(key[0]), str(key[1])
        if new_id not in names and old_id not in used:
            names[new_id] = old_id
            used.add(old_id)
    taken = set(used) | set(previous.astype(str))
    for new in turfs.index.astype(str):
        if new in names:
            continue
        name = new
        while name in taken:
            hit = _TURF_NO.match(name)
            name = (
                f"{hit.group(1)}{int(hit.group(2)) + 1:0{len(hit.group(2))}d}"
                if hit
                else f"{name}-1"
            )
        names[new] = name
        taken.add(name)
    out_doors = doors.copy()
    out_doors[schema.TURF_ID] = tid.map(lambda x: names.get(x, x)).to_numpy()
    out_turfs = turfs.rename(index=names)
    again = pairs.assign(new=pairs["new"].map(names))
    report = {
        "turfs_renamed": sum(1 for k, n in names.items() if k != n),
        "doors_again": len(again),
        "doors_same_turf": int((again["new"] == again["old"]).sum()),
    }
    return out_doors, out_turfs, report


def settle_turfs(
    doors: gpd.GeoDataFrame,
    turfs: gpd.GeoDataFrame,
    previous: pd.Series,
    config: PlanConfig,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """
    Send doors back to the turf they were in at the last run where that costs little.

    After :func:`keep_turf_ids` a turf has the name of the previous turf most of
    its doors were in; a door the new cut put elsewhere goes back to the turf of
    its previous name when its nearest door there is at most
    ``campaign.stable_m`` metres (straight line) farther than its nearest door in
    its new turf, and the turf keeps within ``turf.shift_s`` x (1 +
    ``turf.balance``) of work. Cheapest moves first; one-walker, one-leg turfs of
    the same precinct only. The door takes its nearest neighbour's place in the
    walk the router starts from; ``est_s``, counts, value and outlines follow.

    Parameters
    ----------
    doors, turfs
        Named doors and turfs (:func:`keep_turf_ids`).
    previous
        Door id -> turf id of the previous run (:func:`previous_turfs`).
    config
        ``campaign.stable_m``, ``turf.shift_s``, ``turf.balance``,
        ``walk.speed_m_s`` and ``walk.door_s``.

    Returns
    -------
    doors, turfs
        Copies, with the doors moved back.
    report
        ``doors_moved_back``, ``extra_walk_s`` (the crow-line estimate of the
        walking they add, there and back; negative when they save walking) and,
        when doors moved, ``doors_same_turf`` (doors of both runs now in a turf
        of the same name).
    """
    out_d, out_t = doors.copy(), turfs.copy()
    report: dict[str, Any] = {"doors_moved_back": 0, "extra_walk_s": 0.0}
    slack = config.campaign.stable_m
    if slack < 0 or previous.empty or out_t.empty:
        return out_d, out_t, report
    wp, tp = config.walk, config.turf
    tid = out_d[schema.TURF_ID].astype(str).to_numpy().copy()
    prev = previous.astype(str).reindex(out_d.index.astype(str)).fillna("").to_numpy()
    simple = set(out_t.index.astype(str))
    if "volunteers" in out_t.columns:
        simple &= set(out_t.index[out_t["volunteers"].astype(int) <= 1].astype(str))
    if schema.N_LEGS in out_t.columns:
        simple &= set(out_t.index[out_t[schema.N_LEGS].astype(int) <= 1].astype(str))
    precinct = out_t[schema.PRECINCT_ID].astype(str).to_dict()
    xy = shapely.get_coordinates(out_d.geometry.to_numpy())
    est = out_t[schema.EST_S].astype(float).to_dict()
    cap = tp.shift_s * (1 + tp.balance)
    cands = []
    for pos in np.flatnonzero((tid != "") & (prev != "") & (prev != tid)).tolist():
        old, new = prev[pos], tid[pos]
        if old in simple and new in simple and precinct[old] == precinct[new]:
            cands.append(int(pos))
    moves: list[tuple[float, int]] = []
    for i in cands:
        d_old = _nearest(xy, tid, i, prev[i])
        d_new = _nearest(xy, tid, i, tid[i])
        if np.isfinite(d_old) and np.isfinite(d_new) and d_old <= d_new + slack:
            moves.append((d_old - d_new, i))
    moved: set[str] = set()
    for _, i in sorted(moves):
        old, new = prev[i], tid[i]
        d_old, d_new = _nearest(xy, tid, i, old), _nearest(xy, tid, i, new)
        if not (np.isfinite(d_new) and d_old <= d_new + slack):
            continue  # its new turf's doors moved too: keep it
        add = wp.door_s + _there_and_back_s(d_old, wp.speed_m_s)
        if est[old] + add > cap:
            continue
        near = _nearest_index(xy, tid, i, old)
        for col in (TURF_ORDER, schema.WALKER, schema.CAR_STOP):
            if col in out_d.columns:
                out_d.iloc[i, out_d.columns.get_loc(col)] = out_d.iloc[near][col]
        tid[i] = old
        est[old] += add
        est[new] -= wp.door_s + _there_and_back_s(d_new, wp.speed_m_s)
        report["extra_walk_s"] += _there_and_back_s(d_old - d_new, wp.speed_m_s)
        moved |= {old, new}
        report["doors_moved_back"] += 1
    if not moved:
        return out_d, out_t, report
    out_d[schema.TURF_ID] = tid
    for t in sorted(moved):
        members = out_d[tid == t]
        out_t.loc[t, schema.N_DOORS] = len(members)
        out_t.loc[t, schema.N_TARGETS] = int(members[schema.N_TARGETS].sum())
        if schema.VALUE in members.columns:
            out_t.loc[t, schema.VALUE] = float(members[schema.VALUE].fillna(0).sum())
        out_t.loc[t, schema.EST_S] = round(est[t])
        out_t.loc[t, "geometry"] = turf_outline(xy[tid == t])
    report["extra_walk_s"] = round(report["extra_walk_s"], 1)
    again = (tid != "") & (prev != "")
    report["doors_same_turf"] = int((again & (tid == prev)).sum())
    logger.info(
        "Turfs that stay put: %s doors back in their last turf (%+.0f s walking)",
        f"{report['doors_moved_back']:,}",
        report["extra_walk_s"],
    )
    return out_d, out_t, report


def _there_and_back_s(d_m: float, speed_m_s: float) -> float:
    """Return the seconds to walk `d_m` m (straight line) to a door and back."""
    return 2 * WALK_FACTOR * d_m / speed_m_s


def _nearest_index(xy: np.ndarray, tid: np.ndarray, i: int, turf: str) -> int:
    """Position of door `i`'s nearest other door in `turf` (-1 when none)."""
    mask = tid == turf
    mask[i] = False
    idx = np.flatnonzero(mask)
    if not len(idx):
        return -1
    return int(idx[np.argmin(np.hypot(*(xy[idx] - xy[i]).T))])


def _nearest(xy: np.ndarray, tid: np.ndarray, i: int, turf: str) -> float:
    """Straight-line metres from door `i` to its nearest other door in `turf`."""
    j = _nearest_index(xy, tid, i, turf)
    return float("inf") if j < 0 else float(np.hypot(*(xy[j] - xy[i])))
