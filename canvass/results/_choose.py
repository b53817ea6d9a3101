"""The doors for the next shift: best value per minute of work, to fill the shift.

With ``campaign.shift_volunteers`` set, the next shift has ``shift_volunteers x
turf.shift_s`` of volunteer time. :func:`choose_doors` keeps the doors whose next
knock (the value :func:`canvass.results.next_knock` gave them) is worth the most per
second of the work it takes, until that work fills the shift; the others are left
out (``no_time``) and come back at a later shift, when the doors chosen now have
been knocked (their value falls with each not-home, and done doors leave). This is
the prize-collecting choice of doors by value per minute (docs/replan.md, "Doors
for the shift"): without it every door still worth a knock is cut into a turf, and
only whole turfs are ranked, so a turf's low-value doors take the time of better
doors elsewhere.

A door's work is ``walk.door_s`` and its share of the walk between doors: half the
straight-line distance to its two nearest chosen doors, times :data:`WALK_FACTOR`
(streets are not straight), the measure of the turfs' ``est_s``, which
:func:`canvass.results.doors_to_fill` also sets against the shift. The share depends
on which doors are chosen, so the choice is made again with the shares of the last
choice, a few times (a door amid chosen doors is cheap to add, a door alone costs
the walk there).
"""

from __future__ import annotations

import logging
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .. import schema
from ..config import PlanConfig
from ._assign import WALK_FACTOR
from ._history import LAST_RESULT

__all__ = ["NO_TIME", "choose_doors", "door_work_s"]

logger = logging.getLogger(__name__)

#: Reason for doors left out of a shift that has no time for them.
NO_TIME: Final = "no_time"
#: Rounds of choosing again with the walking shares of the last choice.
_ROUNDS: Final = 6


def door_work_s(xy: np.ndarray, chosen: np.ndarray, config: PlanConfig) -> np.ndarray:
    """
    Return the seconds of work a knock at each door takes, given the doors chosen.

    Parameters
    ----------
    xy
        Door coordinates in metres, one row per door.
    chosen
        Mask of the doors chosen: the walk between doors is shared among them.
    config
        ``walk.door_s`` and ``walk.speed_m_s``.

    Returns
    -------
    work
        ``door_s`` + half the walk to the two nearest chosen doors (straight
        line x :data:`WALK_FACTOR`), in seconds: the measure of the turfs'
        ``est_s`` (doors and the walk between them).
    """
    wp = config.walk
    near = np.full(len(xy), np.inf)  # a door with no place: its walk is unknown
    placed = np.isfinite(xy).all(axis=1)
    pool = np.flatnonzero(np.asarray(chosen, dtype=bool) & placed)
    at = np.flatnonzero(placed)
    if len(pool) >= 2:
        tree = cKDTree(xy[pool])
        k = min(3, len(pool))
        dist, idx = tree.query(xy[at], k=k)
        dist = dist.reshape(len(at), k)
        idx = idx.reshape(len(at), k)
        own = pool[idx] == at[:, None]
        # the two nearest chosen doors other than the door itself
        other = np.where(own, np.inf, dist)
        other.sort(axis=1)
        near[at] = np.where(
            np.isfinite(other[:, 1]), other[:, :2].mean(axis=1), other[:, 0]
        )
    elif len(pool) == 1:
        near[at] = np.hypot(*(xy[at] - xy[pool[0]]).T)
    else:
        near[at] = 0.0
    walk = WALK_FACTOR * near / wp.speed_m_s
    return np.asarray(wp.door_s + walk, dtype=float)


def choose_doors(
    doors: gpd.GeoDataFrame, voters: pd.DataFrame, config: PlanConfig
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """
    Keep the doors worth the most per minute of work, until the shift is full.

    Parameters
    ----------
    doors
        Target doors in a metric CRS (snapped: :func:`canvass.network.snap_doors`)
        with ``value`` (their next knock, from :func:`canvass.target.door_values`
        after :func:`canvass.results.next_knock`) and ``n_targets``.
    voters
        The voters :func:`canvass.results.next_knock` returned (``last_result``
        says who asked to come back).
    config
        ``campaign.shift_volunteers`` (0: every door is kept), ``turf.shift_s``,
        ``walk.door_s`` and ``walk.speed_m_s``.

    Returns
    -------
    doors
        Copy; doors left out get ``n_targets`` and ``value`` 0 (the cut skips them).
    voters
        Copy; their targets are no longer targets, ``lift`` 0.
    left_out
        ``schema.LEFT_OUT_COLUMNS`` rows, reason ``no_time``, with the door's value.
    report
        ``shift_h`` (the volunteers' time), ``doors_chosen``, ``no_time``,
        ``work_h`` (the chosen doors' work, this module's estimate) and
        ``bar_votes_per_h`` (the value per hour of the last door chosen).
    """
    cp = config.campaign
    want = float(cp.shift_volunteers * config.turf.shift_s)
    value = doors[schema.VALUE].fillna(0).to_numpy(dtype=float)
    geom = doors.geometry
    xy = (
        np.column_stack([geom.x.to_numpy(dtype=float), geom.y.to_numpy(dtype=float)])
        if len(doors)
        else np.zeros((0, 2))
    )
    cand = (doors[schema.N_TARGETS].fillna(0).to_numpy() > 0) & (value > 0)
    cand &= np.isfinite(xy).all(axis=1)
    if schema.EDGE_U in doors.columns:  # the cut walks only doors on a street
        cand &= doors[schema.EDGE_U].notna().to_numpy()
    report: dict[str, Any] = {
        "shift_h": round(want / 3600, 2),
        "doors_chosen": int(cand.sum()),
        NO_TIME: 0,
        "work_h": 0.0,
        "bar_votes_per_h": 0.0,
    }
    empty = pd.DataFrame(columns=list(schema.LEFT_OUT_COLUMNS))
    if want <= 0 or not cand.any():
        return doors, voters, empty, report
    ids = doors.index.astype(str)
    promised = _asked_back(voters) & set(ids[cand])
    must = np.isin(ids, list(promised))
    keep, work, bar = cand.copy(), np.zeros(len(doors)), 0.0
    seen: list[bytes] = []
    for _ in range(_ROUNDS):
        work = door_work_s(xy, keep, config)
        rate = np.where(cand, value / work, -np.inf)
        rate[must] = np.inf  # a voter asked to come back: kept
        order = np.argsort(-rate, kind="stable")
        order = order[cand[order]]
        total = np.cumsum(work[order])
        n = max(int(np.searchsorted(total, want, side="right")), int(must.sum()), 1)
        new = np.zeros(len(doors), dtype=bool)
        new[order[:n]] = True
        bar = float(rate[order[min(n, len(order)) - 1]])
        key = new.tobytes()
        if key in seen:  # settled (or back to an earlier choice)
            keep = new
            break
        seen.append(key)
        keep = new
    work = door_work_s(xy, keep, config)
    gone = cand & ~keep
    out_d = doors.copy()
    out_d.loc[gone, schema.N_TARGETS] = 0
    out_d.loc[gone, schema.VALUE] = 0.0
    gone_ids = set(ids[gone])
    at_gone = voters[schema.DOOR_ID].astype(str).isin(gone_ids).to_numpy()
    out_v = voters.copy()
    target = out_v[schema.IS_TARGET].astype(bool).to_numpy()
    out_v[schema.IS_TARGET] = target & ~at_gone
    out_v[schema.LIFT] = np.where(
        at_gone, 0.0, out_v[schema.LIFT].to_numpy(dtype=float)
    )
    left = pd.DataFrame(
        [
            (
                d,
                NO_TIME,
                round(float(v), 6),
                "the shift's volunteers have better doors per minute",
            )
            for d, v in zip(ids[gone], value[gone], strict=True)
        ],
        columns=list(schema.LEFT_OUT_COLUMNS),
    )
    report.update(
        {
            "doors_chosen": int(keep.sum()),
            NO_TIME: int(gone.sum()),
            "work_h": round(float(work[keep].sum()) / 3600, 2),
            "bar_votes_per_h": round(3600 * bar, 4) if np.isfinite(bar) else 0.0,
        }
    )
    logger.info(
        "Doors for the shift: %s chosen by value per minute (%.1f h of work for "
        "%.1f h of volunteers), %s left for a later shift",
        f"{report['doors_chosen']:,}",
        report["work_h"],
        report["shift_h"],
        f"{report[NO_TIME]:,}",
    )
    return out_d, out_v, left, report


def _asked_back(voters: pd.DataFrame) -> set[str]:
    """Doors where a target's last result was a "come back"."""
    if LAST_RESULT not in voters.columns:
        return set()
    hit = voters[schema.IS_TARGET].astype(bool) & voters[LAST_RESULT].astype(
        "string"
    ).fillna("").eq("COME_BACK")
    return set(voters.loc[hit, schema.DOOR_ID].astype(str))
