"""Turf cutting internals: the optimal split of a street walk into turfs.

Private to :mod:`canvass.turf`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema
from ..config import WalkParams

__all__ = ["BAND_COST", "balance_stats", "split_tour"]

#: Walking seconds a turf's time costs per second outside the balance band in the
#: split: larger than any walking a lopsided cut could save.
BAND_COST = 50


def split_tour(
    step_s: np.ndarray,
    xy: np.ndarray,
    wp: WalkParams,
    capacity: float,
    target: float,
    weight: float,
    band: tuple[float, float] | None = None,
    extra_s: np.ndarray | None = None,
) -> tuple[list[tuple[int, int, float]], float]:
    """
    Cut a walk through doors ``0..n-1`` into loops that each fit in `capacity`.

    Dynamic programme over cut points (Prins' split): a loop over doors ``i..j-1``
    costs its walk plus the walk back from its last door towards its first, plus
    ``weight * (target - time)**2 / target``, which keeps turfs even in length
    (one-sided, below the target only, when `target` is the capacity), plus
    ``BAND_COST`` per second outside `band`.

    Parameters
    ----------
    step_s
        Walking seconds from the previous door, in walk order (0 for the first).
    xy
        Door coordinates, in walk order.
    wp
        Walking parameters (speed, seconds per door).
    capacity
        Seconds available per turf (hard, except for a door alone).
    target, weight
        Preferred turf length and the weight of the balance term.
    band
        Optional ``(low, high)`` seconds every turf should fall within.
    extra_s
        Optional seconds a turf costs beyond its walk, by door: a turf is charged
        the mean of its first and last door's (the drive from an office to it).

    Returns
    -------
    segments, cost
        ``(i, j, estimated seconds)`` per turf, and the programme's total cost.
    """
    n = len(step_s)
    prefix = np.cumsum(step_s)
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=np.int64)
    seg_t = np.zeros(n + 1)
    one_sided = target >= capacity
    for j in range(1, n + 1):
        i = np.arange(j - 1, -1, -1)  # segment i..j-1, growing backwards
        close = 1.3 * np.hypot(*(xy[i] - xy[j - 1]).T) / wp.speed_m_s
        drive = 0.0 if extra_s is None else (extra_s[i] + extra_s[j - 1]) / 2
        walk = prefix[j - 1] - prefix[i] + close + drive
        t = walk + wp.door_s * (j - i)
        # the walk along the tour only grows as the loop grows backwards; the walk
        # back (and a drive) does not, so loops are tried until the first bound
        # alone is too long
        along = t - close - drive
        last = len(along) if along[-1] <= capacity else int(np.argmax(along > capacity))
        i, t, walk = i[: max(last, 1)], t[: max(last, 1)], walk[: max(last, 1)]
        dev = np.maximum(target - t, 0) if one_sided else target - t
        cost = best[i] + walk + weight * dev**2 / target
        over = t > capacity
        over[0] = False  # a lone door is always a turf of its own
        cost[over] = np.inf
        if band is not None:
            outside = np.maximum(band[0] - t, 0) + np.maximum(t - band[1], 0)
            cost = cost + BAND_COST * outside
        k = int(np.argmin(cost))
        best[j], back[j], seg_t[j] = cost[k], i[k], t[k]
    segments: list[tuple[int, int, float]] = []
    j = n
    while j > 0:
        segments.append((int(back[j]), j, float(seg_t[j])))
        j = int(back[j])
    return segments[::-1], float(best[n])


def balance_stats(turfs: pd.DataFrame, limit: float = 0.15) -> tuple[float, float, int]:
    """
    Return how even the turfs of each precinct are.

    Returns
    -------
    max_dev, share, outside
        The largest deviation of a turf's ``est_s`` (per volunteer, for a team's
        turf) from its precinct's mean, the share of turfs within `limit` of it,
        and the number outside.
    """
    if not len(turfs):
        return 0.0, 1.0, 0
    est = turfs[schema.EST_S].astype(float)
    if "volunteers" in turfs.columns:  # a team's turf: each volunteer's share
        est = est / turfs["volunteers"].astype(float).clip(lower=1)
    dev = (est / est.groupby(turfs[schema.PRECINCT_ID]).transform("mean") - 1).abs()
    inside = dev <= limit + 1e-9
    return (
        round(float(dev.max()), 3),
        round(float(inside.mean()), 3),
        int((~inside).sum()),
    )
