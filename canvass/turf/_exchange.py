"""Turf cutting internals: search across neighbouring turfs, one volunteer fewer.

Private to :mod:`canvass.turf`. The windows (:mod:`canvass.turf._windows`) re-route
four neighbouring turfs at a time, each keeping its volunteer, and route
elimination (:mod:`canvass.turf._eliminate`) dissolves a short turf only where its
neighbours have room as they stand. Neither pays a walk that is longer at first
and shorter later, so the cut stops a few volunteers and hours of walking above
what a search across turfs finds. This is that search, after hybrid genetic
search (Vidal et al. 2012, 2022; PyVRP), run on *regions*: a turf and its
`_REGION` - 1 nearest turfs of the same precinct, or of the same block of about
`_BLOCK_DOORS` doors (by the centre of their doors).

Each region is first tried without its shortest turf: its doors are put where
they cost least and the local search of :mod:`canvass.turf._ls` (relocating runs
of doors, swapping doors, 2-opt, exchanging route tails) moves doors around with
a price on seconds over the planned fill that grows until every turf fits. Where
no turf can go, the same search only shortens the walks. The cost is the walking
plus one shift's seconds per volunteer (``fixed`` below), the bench's objective;
the balance band (``turf.balance``) costs `_BAND_COST` a second outside it, and a
region's new turfs (with a band: each routed on its own first, as the routing
stage will) are kept only when every door is placed, no turf runs over
the planned fill, that cost is lower and no more of the precinct's turfs are
outside the band, nor by more seconds. Regions of one round do not overlap and
run in parallel; rounds go on through regions not yet tried as they stand, within
a budget of ``turf.search_moves_per_door`` moves a door and at least `_MIN_MOVES`
(deterministic: no clock). Each turf keeps its staging point; turfs with car legs
are left as they are.

Measured on the routing bench (Northampton, fill 1.0, no band, the walk up to
each door counted): all 8,087 doors 219 volunteers at 1.5 moves a door (222 at
1.0, 217 at 2.0), the bench's objective 2.2 % above the best plan known (PyVRP,
1,200 s warm-started), cut 101-105 s. Without the walk up to the doors (earlier):
2,000 doors 69 -> 65 volunteers, all 8,087 doors 176 -> 170.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..config import PlanConfig
from ._costs import Anchors, LocalCosts, StreetIndex
from ._eliminate import _n_outside
from ._legs import Commute, has_legs
from ._ls import Region, run_regions
from ._repair import _outside
from ._windows import Plan, Turf, _centres, polish

__all__ = ["exchange", "settle"]

logger = logging.getLogger(__name__)

#: Turfs in a region: a turf and its nearest turfs.
_REGION = 8
#: Doors in a block of turfs whose walking costs are computed together (regions
#: are cut within a block: a precinct or town above it is cut into blocks).
_BLOCK_DOORS = 2500
#: Most moves of one descent in a region.
_REGION_MOVES = 400
#: Rounds of regions, at most (a round tries regions not tried as they are).
_ROUNDS = 50
#: The budget (``turf.search_moves_per_door`` a door, all regions and rounds) is
#: never below this many moves (a small cut is cheap to search).
_MIN_MOVES = 8000
#: A volunteer sent out costs this share of a shift (the bench's objective).
_FIXED = 1.0
#: Cost of a second outside the balance band (a second of walking costs 1).
_BAND_COST = 4.0
#: The search aims at this share of the balance band, so that routing each turf
#: on its own afterwards (a few seconds shorter or longer) keeps it inside.
_BAND_AIM = 0.9


@dataclass(frozen=True)
class _Block:
    """Walking seconds among the doors and staging points of a block of turfs."""

    door: dict[Any, int]
    node: dict[Any, int]
    seconds: np.ndarray

    def region(
        self,
        doors: pd.DataFrame,
        nodes: list[Any],
        commute: Commute | None,
        open_routes: bool,
    ) -> np.ndarray:
        """Return a region's whole seconds: its staging points, then its doors."""
        pos = [self.node[x] for x in nodes] + [self.door[d] for d in doors.index]
        walk = self.seconds[np.ix_(pos, pos)]
        if commute is not None:
            walk = commute.add(walk, nodes)
        walk = np.ceil(walk - 1e-9)
        if open_routes:
            walk[:, : len(nodes)] = 0
        return np.asarray(walk)


def _blocks(
    index: StreetIndex, turfs: list[Turf], config: PlanConfig
) -> tuple[list[_Block], dict[Any, int]]:
    """
    Cut a precinct's turfs into blocks of about `_BLOCK_DOORS` doors, with costs.

    Blocks are halved along their longer side (by doors) until small enough;
    each block's walking costs are computed once (regions are cut within it).
    Returns the blocks and, per door id, its block.
    """
    wp = config.walk
    centre = _centres(turfs) if turfs else np.zeros((0, 2))
    sizes = np.array([len(t[0]) for t in turfs])
    parts = _halves(centre, sizes, np.arange(len(turfs)))
    blocks: list[_Block] = []
    where: dict[Any, int] = {}
    for part in parts:
        members = [turfs[int(x)] for x in part]
        doors = pd.concat([t[0] for t in members])
        nodes = list(dict.fromkeys(t[2] for t in members))
        m = LocalCosts(index, Anchors.build(index, doors, nodes, wp)).matrix
        blocks.append(
            _Block(
                door={d: len(nodes) + i for i, d in enumerate(doors.index)},
                node={x: i for i, x in enumerate(nodes)},
                seconds=m / wp.speed_m_s,
            )
        )
        where.update(dict.fromkeys(doors.index, len(blocks) - 1))
    return blocks, where


def _halves(centre: np.ndarray, sizes: np.ndarray, ix: np.ndarray) -> list[np.ndarray]:
    """Halve the turfs `ix` along the longer side until each part is small enough."""
    if len(ix) < 2 or sizes[ix].sum() <= _BLOCK_DOORS:
        return [ix] if len(ix) else []
    axis = int(np.argmax(np.ptp(centre[ix], axis=0)))
    ix = ix[np.argsort(centre[ix, axis], kind="stable")]
    cum = np.cumsum(sizes[ix])
    half = int(np.clip(np.searchsorted(cum, cum[-1] / 2), 1, len(ix) - 1))
    return _halves(centre, sizes, ix[:half]) + _halves(centre, sizes, ix[half:])


def _band(times: np.ndarray, limit: float, turfs: int) -> tuple[float, float]:
    """Return the balance band around the mean of `times` spread over `turfs` turfs."""
    if limit >= 1:
        return 0.0, np.inf
    mean = float(times.sum()) / max(1, turfs)
    return (1 - _BAND_AIM * limit) * mean, (1 + _BAND_AIM * limit) * mean


def _walking(turfs: list[Turf], door_s: float) -> float:
    return float(sum(t[1] - door_s * len(t[0]) for t in turfs))


def _kept(
    old: list[Turf],
    new: list[Turf],
    turfs: list[Turf],
    config: PlanConfig,
) -> bool:
    """Whether a region's `new` turfs may replace its `old` (among `turfs`)."""
    tp, door_s = config.turf, config.walk.door_s
    if sum(len(t[0]) for t in new) != sum(len(t[0]) for t in old):
        return False
    if len(new) > len(old) or max(t[1] for t in new) > tp.shift_s * tp.fill + 1e-6:
        return False
    fixed = _FIXED * tp.shift_s
    cost = [fixed * len(x) + _walking(x, door_s) for x in (old, new)]
    if cost[1] >= cost[0] - 0.5:
        return False
    if tp.balance >= 1:
        return True
    gone = {id(t) for t in old}
    before = np.array([t[1] for t in turfs])
    after = np.array([t[1] for t in turfs if id(t) not in gone] + [t[1] for t in new])
    was = _outside(before, float(before.mean()), tp.balance)
    now = _outside(after, float(after.mean()), tp.balance)
    if now > was + 1e-6:
        return False
    return _n_outside(after, tp.balance) <= _n_outside(before, tp.balance)


def exchange(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    commute: Commute | None = None,
) -> list[Plan]:
    """
    Move doors across neighbouring turfs, and dissolve turfs, where that pays.

    Parameters
    ----------
    index
        The street network.
    plans
        Per precinct (or the whole town), its turfs.
    config
        Run configuration (``turf.fill``, ``turf.balance``, the shift, workers).
    commute
        With an office: the drive from it to each staging point and back.

    Returns
    -------
    plans
        The turfs, as many or fewer, each timed on its region's costs (the cut
        routes every turf on its own afterwards).
    """
    tp, wp = config.turf, config.walk
    cap = tp.shift_s * tp.fill
    fixed = _FIXED * tp.shift_s
    n_doors = sum(len(t[0]) for _, turfs in plans for t in turfs)
    if tp.search_moves_per_door <= 0:
        return plans
    budget = max(_MIN_MOVES, tp.search_moves_per_door * n_doors)
    tried: set[tuple[tuple[str, int, str], ...]] = set()
    used, removed, kept_all = 0, 0, 0
    open_ = config.route.open_routes
    costs: list[list[_Block]] = []
    where: list[dict[Any, int]] = []
    for _, turfs in plans:
        blocks, of = _blocks(index, turfs, config)
        costs.append(blocks)
        where.append(of)
    for _ in range(_ROUNDS):
        tasks: list[tuple[Region, int | None, int, tuple[float, float] | None]] = []
        meta: list[tuple[int, list[int], pd.DataFrame, list[Any]]] = []
        for gi, (_, turfs) in enumerate(plans):
            if len(turfs) < 2:
                continue
            times = np.array([t[1] for t in turfs])
            centre = _centres(turfs)
            taken = {x for x, t in enumerate(turfs) if has_legs(t[0], t[2])}
            block = [where[gi][t[0].index[0]] for t in turfs]
            for seed in np.argsort(times, kind="stable"):
                if int(seed) in taken:
                    continue
                near = np.argsort(np.hypot(*(centre - centre[seed]).T), kind="stable")
                group = [
                    int(x)
                    for x in near
                    if int(x) not in taken and block[int(x)] == block[int(seed)]
                ][:_REGION]
                if len(group) < 2 or group[0] != seed:
                    continue
                key = tuple(
                    sorted(
                        (str(turfs[x][0].index[0]), len(turfs[x][0]), str(turfs[x][2]))
                        for x in group
                    )
                )
                if key in tried:
                    continue
                tried.add(key)
                taken.update(group)
                region = [turfs[x] for x in group]
                nodes = [t[2] for t in region]
                doors = pd.concat([t[0] for t in region])
                if schema.CAR_STOP in doors.columns:  # no legs: each door walked
                    # from its turf's staging point, wherever it moves
                    doors = doors.assign(**{schema.CAR_STOP: None})
                walk = costs[gi][block[seed]].region(doors, nodes, commute, open_)
                k = len(nodes)
                sizes = np.cumsum([0, *[len(t[0]) for t in region]])
                routes = [
                    list(range(k + int(sizes[v]), k + int(sizes[v + 1])))
                    for v in range(k)
                ]
                lo, hi = _band(times, tp.balance, len(turfs))
                task = Region(walk, routes, cap, wp.door_s, fixed, lo, hi, _BAND_COST)
                drop_band = _band(times, tp.balance, len(turfs) - 1)
                tasks.append((task, 0, _REGION_MOVES, drop_band))
                meta.append((gi, group, doors, nodes))
        if not tasks:
            break
        results = run_regions(tasks, config.route.workers)
        out: list[tuple[str, list[Turf | None]]] = [
            (pid, list(turfs)) for pid, turfs in plans
        ]
        kept = 0
        cands: list[tuple[int, list[int], list[Turf]]] = []
        for (gi, group, doors, nodes), (task, *_), (found, moves) in zip(
            meta, tasks, results, strict=True
        ):
            used += moves
            if found is None:
                continue
            k = len(nodes)
            done = Region(
                task.walk, found, cap, wp.door_s, fixed, task.lo, task.hi, 0.0
            )
            seconds = done.times()
            new = [
                (doors.iloc[[x - k for x in r]], float(seconds[v]), nodes[v])
                for v, r in enumerate(found)
                if r
            ]
            cands.append((gi, group, new))
        # with a band, judged on each turf routed on its own as routing will route
        # it (its estimate moves by seconds, enough to leave the band)
        timed = (
            polish(
                index,
                [(str(w), new) for w, (_, _, new) in enumerate(cands)],
                config,
                commute,
            )[0]
            if tp.balance < 1
            else [(str(w), new) for w, (_, _, new) in enumerate(cands)]
        )
        for (gi, group, _), (_, new) in zip(cands, timed, strict=True):
            now = [t for t in out[gi][1] if t is not None]
            old = [plans[gi][1][x] for x in group]
            if not new or not _kept(old, new, now, config):
                continue
            kept += 1
            removed += len(old) - len(new)
            for j, x in enumerate(group):
                out[gi][1][x] = new[j] if j < len(new) else None
        if kept:
            plans = [(pid, [t for t in turfs if t is not None]) for pid, turfs in out]
        kept_all += kept
        logger.debug(
            "exchange round: %s regions, %s kept, %s moves so far",
            len(tasks),
            kept,
            used,
        )
        if used >= budget:
            break
    logger.debug(
        "exchange: %s regions kept, %s turfs fewer, %s moves", kept_all, removed, used
    )
    return plans


def settle(
    before: list[Plan],
    after: list[Plan],
    gone: pd.DataFrame,
    limit: float,
    cap: float,
) -> list[Plan]:
    """
    Keep each precinct's turfs from `after` (routed on their own) or `before`.

    A precinct keeps its new turfs when none of its doors is in `gone` (left out
    by the routing), no turf is longer than `cap` (the planned fill) or its
    longest turf before, and no more of its turfs are outside the balance band
    `limit` than before (the region's estimates and the routing's may differ by
    seconds).
    """
    out: list[Plan] = []
    for (pid, old), (_, new) in zip(before, after, strict=True):
        lost = gone.index.isin([d for t in old for d in t[0].index]).any()
        ok = not lost and bool(new)
        longest = max([cap, *(t[1] for t in old)])
        ok = ok and all(t[1] <= longest + 1e-6 for t in new)
        if ok and limit < 1 and len(old) > 1:
            was = np.array([t[1] for t in old])
            now = np.array([t[1] for t in new])
            ok = _n_outside(now, limit) <= _n_outside(was, limit)
        if not ok:
            logger.debug(
                "exchange undone in %s: lost %s, longest %.0f over %.0f, outside %s",
                pid,
                lost,
                max((t[1] for t in new), default=0.0),
                longest,
                [_n_outside(np.array([t[1] for t in x]), limit) for x in (old, new)],
            )
        out.append((pid, new if ok else old))
    return out
