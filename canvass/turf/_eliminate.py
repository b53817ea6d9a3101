"""Turf cutting internals: route elimination, where neighbours have room.

Private to :mod:`canvass.turf`. The split and the repair windows keep about the
number of turfs the split chose; a turf left short (a precinct's odd remainder, a
turf the windows emptied half-way) costs a whole volunteer shift for a part of one.
As in the route-elimination phase of hybrid genetic search (Nagata and Bräysy
2009; Vidal et al. 2012, 2022), each precinct's turfs are tried dissolved, the
shortest first, into their nearest turfs: each door goes where it adds least time
to a neighbour's loop within the planned fill of a shift (regret insertion: the
door with the most to lose if it waits goes first), and each turf that took doors
is then routed on its own as the routing stage will route it. A window is kept
only when every door is placed, no turf runs over the planned fill (or over the
longest turf it replaces), no more of the precinct's turfs are outside the balance
band (around the precinct's new mean) than before, nor by more seconds, and the
volunteers' total time grows by less than `_MAX_ADDED` of a shift (a volunteer
saved is worth more than the walking added). The cut then re-routes neighbouring
turfs together, which hands the inserted doors on to whichever neighbour walks
them most cheaply.

Windows of different turfs in one round do not overlap, so all that pass are kept.
Measured at 2,000 Northampton doors (bench/routing.py's instance, seed 0): at
``fill = 1.0`` and no balance band 74 turfs became 69 (volunteer time 1.1 h more,
the bench's objective 4 % lower); at the default fill and balance none of the 82
is dissolved (each short turf's neighbours lack the room under 90 % of a shift).
"""

from __future__ import annotations

import itertools
import logging

import numpy as np

from ..config import PlanConfig
from ._costs import StreetIndex
from ._legs import Commute, has_legs
from ._repair import _outside
from ._solver import SolveMemo
from ._windows import (
    Plan,
    Turf,
    _centres,
    _read,
    _window,
    polish,
)

__all__ = ["eliminate", "insert_all"]

logger = logging.getLogger(__name__)

#: Most turfs in an elimination window: the dissolved turf and its neighbours.
_ELIM_WINDOW = 10
#: An elimination window takes the nearest turfs until their room under the fill
#: is `_ROOM` times the dissolved turf's time (or `_ELIM_WINDOW` turfs).
_ROOM = 1.5
#: Rounds of elimination (each keeps every window that passes, in parallel).
_ELIM_ROUNDS = 8
#: Most volunteer time (share of a shift) a window may add to save one volunteer.
_MAX_ADDED = 0.5


def insert_all(
    routes: list[list[int]],
    doors: list[int],
    walk: np.ndarray,
    limit: float,
    door_s: float,
) -> tuple[list[list[int]], list[int]]:
    """
    Put `doors` into `routes` where each adds least time, within `limit` a route.

    `walk` is a window's matrix: one staging point per route (route ``v`` starts
    and ends at node ``v``), then the doors (door ``x`` at node ``len(routes) + x``);
    a route of an open problem has a zero column back to its staging point. Regret
    insertion: each step places the door whose cheapest feasible place is furthest
    below its second cheapest (in another route), a door with one feasible place
    first, so a door that fits in one route only is not crowded out of it.

    Parameters
    ----------
    routes
        Door positions per route, in walking order (not changed).
    doors
        Door positions to insert.
    walk
        Travel seconds (staging points first).
    limit
        Longest route allowed, walking plus `door_s` a door.
    door_s
        Seconds at each door.

    Returns
    -------
    routes, left
        The routes with the doors inserted, and the doors that fit nowhere.
    """
    k = len(routes)
    new = [list(r) for r in routes]

    def path(v: int) -> np.ndarray:
        return np.array([v, *(k + x for x in new[v]), v], dtype=np.int64)

    paths = [path(v) for v in range(k)]
    times = np.array(
        [float(walk[p[:-1], p[1:]].sum()) + door_s * (len(p) - 2) for p in paths]
    )
    ids = np.asarray(doors, dtype=np.int64)
    if not len(ids) or not k:
        return new, [int(d) for d in ids]
    x = k + ids
    # per route, each door's cheapest insertion (seconds added) and its place;
    # only the route that took the last door is recomputed
    add = np.full((k, len(ids)), np.inf)
    at = np.zeros((k, len(ids)), dtype=np.int64)

    def refresh(v: int) -> None:
        p = paths[v]
        c = walk[np.ix_(p[:-1], x)] + walk[np.ix_(x, p[1:])].T + door_s
        c -= walk[p[:-1], p[1:]][:, None]
        at[v] = np.argmin(c, axis=0)
        add[v] = c[at[v], np.arange(len(x))]

    for v in range(k):
        refresh(v)
    alive = np.ones(len(ids), dtype=bool)
    while alive.any():
        ok = (times[:, None] + add <= limit) & alive[None, :]
        feasible = ok.sum(axis=0)
        cand = np.flatnonzero(feasible > 0)
        if not len(cand):
            break
        cost = np.sort(np.where(ok[:, cand], add[:, cand], np.inf), axis=0)
        two = feasible[cand] > 1
        second = cost[1] if k > 1 else cost[0]
        regret = np.full(len(cand), np.inf)
        regret[two] = second[two] - cost[0][two]
        # the most regret first, then the cheapest, then the lowest door number
        j = int(cand[np.lexsort((ids[cand], cost[0], -regret))[0]])
        v = int(np.argmin(np.where(ok[:, j], add[:, j], np.inf)))
        new[v].insert(int(at[v, j]), int(ids[j]))
        paths[v] = path(v)
        times[v] += add[v, j]
        alive[j] = False
        refresh(v)
    left = [int(d) for d in ids[alive]]
    return new, left


def _dissolve(
    index: StreetIndex,
    turfs: list[Turf],
    config: PlanConfig,
    commute: Commute | None,
) -> list[Turf] | None:
    """
    Dissolve ``turfs[0]`` into the others by insertion, or return None.

    Returns the other turfs with its doors (each timed on the window's network),
    or None when some door fits in no loop within the planned fill (or the
    longest of `turfs`, if longer).
    """
    tp, wp = config.turf, config.walk
    # the window's matrix: a staging point per remaining turf, then the doors
    prob, doors, nodes = _window(
        index, turfs, config, 0.0, 0.0, 0, "", extra=-1, commute=commute
    )
    k = len(nodes)
    sizes = np.cumsum([0, *[len(t[0]) for t in turfs]])
    walk = np.ceil(prob.walk_s - 1e-9)
    if prob.open_routes:
        walk[:, :k] = 0
    limit = int(max(tp.shift_s * tp.fill, max(t[1] for t in turfs)))
    kept = [list(range(int(sizes[v]), int(sizes[v + 1]))) for v in range(1, len(turfs))]
    routes, left = insert_all(kept, list(range(int(sizes[1]))), walk, limit, wp.door_s)
    if left:
        return None
    return _read(prob, routes, doors, nodes, config)[0]


def _verdict(
    old: list[Turf], new: list[Turf], turfs: list[Turf], config: PlanConfig
) -> str:
    """
    Whether a window's `new` turfs may replace its `old` ones (``"kept"``) or why not.

    `turfs` are the precinct's turfs as they stand (`old` among them).
    """
    tp = config.turf
    if sum(len(t[0]) for t in new) < sum(len(t[0]) for t in old):
        return "a door left out"
    if len(new) >= len(old):
        return "no turf fewer"
    longest = max(tp.shift_s * tp.fill, max(t[1] for t in old))
    if max(t[1] for t in new) > longest:
        return f"a turf of {max(t[1] for t in new):.0f} s over {longest:.0f} s"
    added = sum(t[1] for t in new) - sum(t[1] for t in old)
    if added > _MAX_ADDED * tp.shift_s:
        return f"{added:.0f} s more volunteer time"
    gone = {id(t) for t in old}
    before = np.array([t[1] for t in turfs])
    after = np.array([t[1] for t in turfs if id(t) not in gone] + [t[1] for t in new])
    was = _outside(before, float(before.mean()), tp.balance)
    now = _outside(after, float(after.mean()), tp.balance)
    if now > was:
        return f"{now - was:.0f} s more outside the balance"
    if _n_outside(after, tp.balance) > _n_outside(before, tp.balance):
        return "more turfs outside the balance"
    return "kept"


def _n_outside(times: np.ndarray, limit: float) -> int:
    """Return how many `times` are more than `limit` from their mean."""
    return int((np.abs(times / times.mean() - 1) > limit + 1e-9).sum())


def eliminate(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    commute: Commute | None = None,
    memo: SolveMemo | None = None,
) -> list[Plan]:
    """
    Dissolve short turfs into their neighbours where they can take the work.

    Each round tries, in every precinct, its turfs from the shortest up, each
    with its nearest turfs (by the centre of their doors) not already in another
    window of the round, nearest first until their room under the fill is
    `_ROOM` times the turf's time (at most `_ELIM_WINDOW` turfs in all); the
    turfs that took doors are routed on their own (:func:`polish`, in parallel),
    and a window is kept when it passes the tests in the module's docstring. A
    window tried once is not tried again unchanged; rounds stop when none is
    kept. Turfs with car legs are left as they are.

    Parameters
    ----------
    index
        The street network.
    plans
        Per precinct, its turfs.
    config
        Run configuration (``turf.fill``, ``turf.balance``, the shift).
    commute
        With an office: the drive from it to each staging point and back.
    memo
        Answers of problems solved before in this cut.

    Returns
    -------
    plans
        The turfs, as many or fewer.
    """
    tp = config.turf
    capacity = tp.shift_s * tp.fill
    tried: set[tuple[tuple[str, int], ...]] = set()
    removed = 0
    for _ in range(_ELIM_ROUNDS):
        windows: list[tuple[int, list[int], list[Turf]]] = []
        for gi, (_, turfs) in enumerate(plans):
            times = np.array([t[1] for t in turfs])
            centre = _centres(turfs) if len(turfs) > 1 else times
            taken: set[int] = set()
            for seed in np.argsort(times, kind="stable") if len(turfs) > 1 else []:
                group = _group(
                    int(seed), turfs, times, centre, taken, capacity, config.walk.door_s
                )
                if not group or any(has_legs(turfs[x][0], turfs[x][2]) for x in group):
                    continue
                key = tuple(
                    (str(turfs[x][0].index[0]), len(turfs[x][0])) for x in group
                )
                if key in tried:
                    continue
                tried.add(key)
                new = _dissolve(index, [turfs[x] for x in group], config, commute)
                if new is not None:
                    taken.update(group)
                    windows.append((gi, group, new))
        if not windows:
            break
        polished, _ = polish(
            index,
            [(str(w), new) for w, (_, _, new) in enumerate(windows)],
            config,
            commute,
            memo,
        )
        out: list[tuple[str, list[Turf | None]]] = [
            (pid, list(turfs)) for pid, turfs in plans
        ]
        kept = 0
        for w, new in polished:
            gi, group, _ = windows[int(w)]
            now = [t for t in out[gi][1] if t is not None]
            why = _verdict([plans[gi][1][x] for x in group], new, now, config)
            logger.debug("elimination window %s of %s turfs: %s", w, len(group), why)
            if why != "kept":
                continue
            for x, t in itertools.zip_longest(group, new):
                out[gi][1][x] = t
            kept += 1
        plans = [(pid, [t for t in turfs if t is not None]) for pid, turfs in out]
        removed += kept
        if not kept:
            break
    logger.debug("route elimination: %s turfs fewer", removed)
    return plans


def _group(
    seed: int,
    turfs: list[Turf],
    times: np.ndarray,
    centre: np.ndarray,
    taken: set[int],
    capacity: float,
    door_s: float,
) -> list[int]:
    """
    Return `seed` and the turfs to dissolve it into: nearest first, enough room.

    Empty when `seed` is taken or its free neighbours' room under `capacity`
    cannot even hold its minutes at the doors.
    """
    near = np.argsort(np.hypot(*(centre - centre[seed]).T), kind="stable")
    free = [int(x) for x in near if int(x) not in taken]
    if len(free) < 2 or free[0] != seed:
        return []
    # its walk out and back is saved, the detours to its doors are not
    room = np.cumsum([max(0.0, capacity - times[x]) for x in free[1:]])
    size = 1 + min(
        int(np.searchsorted(room, _ROOM * times[seed])) + 1,
        _ELIM_WINDOW - 1,
        len(free) - 1,
    )
    if room[size - 2] < door_s * len(turfs[seed][0]):
        return []  # not even its minutes at the doors fit
    return free[:size]
