"""Turf cutting internals: re-routing windows of turfs, restaging, the polish.

Private to :mod:`canvass.turf`. A turf is carried as ``(members, est_s, node)``: its
doors in walking order, its estimated time (walking plus minutes per door) and its
staging node. The balance rule everything here serves: every turf of a precinct
within ``turf.balance`` (default 15 %) of the precinct's mean estimated time.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..config import PlanConfig
from ._costs import Anchors, LocalCosts, StreetIndex
from ._legs import Commute, TurfCosts, car_seconds, car_stops
from ._solver import SolveMemo, TurfProblem, route_s, solve_all, turf_problem

__all__ = ["Plan", "Turf", "improve", "insertion_s", "polish", "restage"]

#: One turf: its doors in walking order, estimated seconds, staging node.
Turf = tuple[pd.DataFrame, float, Any]
#: One group (precinct) of turfs, in street order.
Plan = tuple[str, list[Turf]]

#: Neighbouring turfs re-routed together after the split.
WINDOW = 4
#: Window re-routing weighs a second of walking `_SCALE` and a second outside the
#: balance band less than that, so a short turf is never evened out by walking
#: further, only by taking doors: while improving lightly (a door moves over when
#: the walk it adds is under its minutes), while repairing hard (under 9 times).
_SCALE = 100
_IMPROVE_COST = 50
#: The same deterministic cap for the narrow windows (improvement passes and the
#: first repair windows): most settle well within it, and the few that run on spend
#: seconds each on moves that seldom change the cut (Northampton, 2,000 doors: the
#: same plan, about 10 % less CPU with the memo; a cap of 50 cost 2 shifts).
_WINDOW_SOLUTIONS = 150


def _window(
    index: StreetIndex,
    turfs: list[Turf],
    config: PlanConfig,
    mean: float,
    spread: float,
    cost: int,
    name: str,
    extra: int = 0,
    move: int = 0,
    solutions: int = 0,
    relax: bool = False,
    carry: bool = False,
    commute: Commute | None = None,
) -> tuple[TurfProblem, pd.DataFrame, list[Any]]:
    """
    Build the OR-Tools problem that re-routes `turfs` together.

    Each turf keeps its staging point and starts from its current walk; every door
    must be placed (dropping one costs far more than any walk); each turf's time is
    pulled into ``mean * (1 -+ spread)``, and under the planned fill of a shift, at
    `cost` per second outside. The hard limit is the shift itself, as in routing.
    `extra` volunteers more start from the first turf's staging point (a split);
    ``extra=-1`` dissolves the first turf into the others. ``move=1`` starts the
    search with the first turf filled up to the mean with its neighbours' nearest
    doors, ``move=-1`` with its doors nearest a neighbour handed over until it is
    down to the mean: local search alone does not take the first step of such a
    move when it means a long walk (to a hamlet and back) before it pays off.
    With `relax` the hard limit is raised to the longest starting route (a turf
    timed over the shift on another window's network, or a dissolved turf's doors
    all given to one neighbour), so the search starts from the current cut rather
    than from scratch; the soft bounds still pull every turf under the shift, and
    the repair keeps a window only when routing each turf on its own then places
    every door. A door of a car leg stays with its volunteer (costs from
    :func:`canvass.turf._legs.car_seconds`); with `carry` and ``extra=-1`` the first
    turf is not shared out but becomes a car leg of the turf nearest it, and the
    window evens out the rest on foot. With `commute` (an office) each volunteer
    also drives from the office to their staging point and back.
    """
    tp, wp, rp = config.turf, config.walk, config.route
    shift = int(tp.shift_s)
    capacity = int(shift * tp.fill)
    members = [t[0] for t in turfs]
    nodes = [t[2] for t in turfs] + [turfs[0][2]] * extra
    # car legs: each door's car stop (None = its volunteer's staging point)
    stop = [None if c == t[2] else c for t in turfs for c in car_stops(t[0], t[2])]
    doors = pd.concat(members)
    sizes = np.cumsum([0, *[len(m) for m in members]])
    turf_of = np.repeat(np.arange(len(turfs)), np.diff(sizes))
    initial = [
        tuple(range(int(sizes[v]), int(sizes[v + 1]))) for v in range(len(turfs))
    ]
    owner = turf_of.copy()  # the volunteer each car-leg door stays with
    if extra < 0:  # each of the first turf's doors starts with the nearest turf
        nodes = nodes[1:]
        rest = _centres(turfs[1:])
        xy = shapely.get_coordinates(members[0].geometry.to_numpy())
        home = np.argmin(
            np.hypot(
                xy[:, None, 0] - rest[None, :, 0], xy[:, None, 1] - rest[None, :, 1]
            ),
            axis=1,
        )
        owner = turf_of - 1
        if carry:  # the whole turf becomes a car leg of the nearest turf
            centre = _centres(turfs[:1])[0]
            home[:] = int(np.argmin(np.hypot(*(rest - centre).T)))
            for i in range(len(members[0])):
                stop[i] = stop[i] if stop[i] is not None else turfs[0][2]
            carried = pd.Series(stop, index=doors.index, dtype=object)
            doors = doors.assign(**{schema.CAR_STOP: carried})
        owner[: len(home)] = home
        initial = [
            r + tuple(int(i) for i in np.flatnonzero(home == v))
            for v, r in enumerate(initial[1:])
        ]
    elif extra > 0:  # the new volunteer starts with the second half of its walk
        half = len(initial[0]) // 2
        legs = [i for i in initial[0][half:] if stop[i] is not None]
        initial = [
            (*initial[0][:half], *legs),
            *initial[1:],
            tuple(i for i in initial[0][half:] if stop[i] is None),
        ]
    k = len(nodes)
    extra_stops = list(dict.fromkeys(s for s in stop if s is not None))
    at = {s: k + j for j, s in enumerate(extra_stops)}
    car = np.array([at[s] if s is not None else -1 for s in stop], dtype=np.int64)
    costs = LocalCosts(index, Anchors.build(index, doors, nodes + extra_stops, wp))
    initial += [()] * (k - len(initial))
    walk_s = car_seconds(costs.matrix, k, car, owner, config)
    if commute is not None:  # each volunteer drives out from the office and back
        walk_s = commute.add(walk_s, nodes)
    if move:
        walk = np.ceil(walk_s - 1e-9)
        initial = _moved(initial, doors, walk, mean, shift, wp.door_s, move, car >= 0)
    problem = TurfProblem(
        turf_id=name,
        walk_s=walk_s,
        service_s=np.full(len(doors), wp.door_s, dtype=np.int64),
        penalty=np.full(len(doors), 20 * capacity, dtype=np.int64),
        vehicles=k,
        shift_s=shift,
        open_routes=rp.open_routes,
        time_limit_s=tp.tour_time_s,
        solution_limit=min(x for x in (solutions, rp.solution_limit, 2**62) if x > 0),
        starts=tuple(range(k)),
        n_depots=k,
        min_end_s=int((1 - spread) * mean),
        max_end_s=int(min(capacity, (1 + spread) * mean)),
        balance_cost=cost,
        cost_scale=_SCALE,
        initial=tuple(initial),
        allowed=tuple(int(v) for v in np.where(car >= 0, owner, -1))
        if (car >= 0).any()
        else (),
    )
    if relax:  # timed as the solver times it (open routes without the walk back)
        longest = max(
            route_s(problem, v, list(r), wp.door_s) for v, r in enumerate(initial)
        )
        problem = dataclasses.replace(problem, shift_s=max(shift, int(longest)))
    return problem, doors, nodes


def _moved(
    routes: list[tuple[int, ...]],
    doors: pd.DataFrame,
    walk: np.ndarray,
    mean: float,
    shift: float,
    door_s: float,
    move: int,
    fixed: np.ndarray | None = None,
) -> list[tuple[int, ...]]:
    """
    Move doors into (``move=1``) or out of (``-1``) the first route, nearest first.

    `walk` is the window's matrix (staging points first, one per route, then the
    doors). A door moves to its cheapest place in the receiving route when that
    route stays within `shift`; doors move until the first route's time reaches
    `mean`. Nearest first: into the first route, the other routes' doors nearest
    any of its doors; out of it, its doors nearest another route's doors. Doors
    marked in `fixed` (a car leg's) never move.
    """
    k = len(routes)
    xy = shapely.get_coordinates(doors.geometry.to_numpy())
    new = [[k + x for x in r] for r in routes]  # matrix positions
    owner = np.concatenate([np.full(len(r), v) for v, r in enumerate(routes)])
    pos = np.concatenate([np.asarray(r, dtype=np.int64) for r in routes])
    first = owner == 0
    free = np.ones(len(pos), dtype=bool) if fixed is None else ~fixed[pos]
    if move > 0:
        cand, other = np.flatnonzero(~first & free), np.flatnonzero(first)
    else:
        cand, other = np.flatnonzero(first & free), np.flatnonzero(~first)
    if not len(cand) or not len(other):
        return routes
    d = np.hypot(*(xy[pos[cand], None] - xy[None, pos[other]]).transpose(2, 0, 1))
    near = d.argmin(axis=1)
    dest = np.zeros(len(cand), dtype=np.int64) if move > 0 else owner[other[near]]

    def seconds(v: int, seq: list[int]) -> float:
        path = [v, *seq, v]
        return float(walk[path[:-1], path[1:]].sum()) + door_s * len(seq)

    times = [seconds(v, r) for v, r in enumerate(new)]
    for c in np.argsort(d[np.arange(len(cand)), near], kind="stable"):
        if (times[0] >= mean) if move > 0 else (times[0] <= mean):
            break
        src, to, x = int(owner[cand[c]]), int(dest[c]), k + int(pos[cand[c]])
        if len(new[src]) <= 1:
            continue  # never empty a route
        path = [to, *new[to], to]
        add = walk[path[:-1], x] + walk[x, path[1:]] - walk[path[:-1], path[1:]]
        at = int(np.argmin(add))
        grown = [*new[to][:at], x, *new[to][at:]]
        t_to = seconds(to, grown)
        if t_to > shift:
            continue
        new[to], times[to] = grown, t_to
        new[src] = [y for y in new[src] if y != x]
        times[src] = seconds(src, new[src])
    return [tuple(x - k for x in r) for r in new]


def _read(
    problem: TurfProblem,
    routes: list[list[int]],
    doors: pd.DataFrame,
    nodes: list[Any],
    config: PlanConfig,
) -> tuple[list[Turf], bool]:
    """
    Turn a window's routes back into turfs, each timed on the window's network.

    When the solver left a door out, the window's current turfs are returned
    instead (timed the same way) and the flag is False.
    """
    complete = sum(len(r) for r in routes) == len(doors)
    if not complete:  # volunteer by volunteer, so each keeps its staging point
        routes = [list(r) for r in problem.initial]
    door_s = config.walk.door_s
    new = [
        (doors.iloc[r], route_s(problem, v, r, door_s), nodes[v])
        for v, r in enumerate(routes)
        if r
    ]
    return new, complete


def _centres(turfs: list[Turf]) -> np.ndarray:
    """Mean door position of each turf."""
    return np.array(
        [shapely.get_coordinates(t[0].geometry.to_numpy()).mean(axis=0) for t in turfs]
    )


def _neighbourhoods(centres: np.ndarray, order: np.ndarray) -> list[list[int]]:
    """Split turfs into windows of `WINDOW` near ones, seeding in `order`."""
    taken: set[int] = set()
    out: list[list[int]] = []
    for seed in order:
        if int(seed) in taken:
            continue
        near = np.argsort(np.hypot(*(centres - centres[seed]).T), kind="stable")
        group = [int(x) for x in near if int(x) not in taken][:WINDOW]
        taken.update(group)
        out.append(group)
    return out


def windows_for_pass(turfs: list[Turf], pass_no: int) -> list[list[int]]:
    """
    Windows of neighbouring turfs for improvement pass `pass_no`.

    Even passes take runs of `WINDOW` turfs along the street order (shifted by
    half a window on the second); odd passes group each turf with its nearest
    turfs on the map, seeded west to east, then south to north, so doors can move
    between turfs that touch but sit far apart in the street order.
    """
    n = len(turfs)
    if pass_no % 2 == 0:
        offset = (pass_no // 2) * (WINDOW // 2)
        cuts = sorted({0, *range(offset or WINDOW, n, WINDOW), n})
        return [list(range(a, b)) for a, b in itertools.pairwise(cuts)]
    centres = _centres(turfs)
    axis = (pass_no // 2) % 2
    return _neighbourhoods(centres, np.argsort(centres[:, axis], kind="stable"))


def improve(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    pass_no: int,
    commute: Commute | None = None,
    memo: SolveMemo | None = None,
) -> list[Plan]:
    """
    Re-route windows of neighbouring turfs together, starting from the current cut.

    OR-Tools moves doors between the turfs of a window (each keeps its staging point)
    where that shortens the walks, with soft bounds that keep each turf's time near
    the precinct's mean. Windows are solved in parallel. Every turf is re-routed, so
    afterwards every estimate is a walk on the network from the staging point.
    """
    problems: list[TurfProblem] = []
    windows: list[tuple[int, list[int], pd.DataFrame, list[Any]]] = []
    for gi, (_, turfs) in enumerate(plans):
        # balance against the whole precinct's mean, not the window's
        mean = float(np.mean([t[1] for t in turfs])) if turfs else 0.0
        for group in windows_for_pass(turfs, pass_no):
            prob, doors, nodes = _window(
                index,
                [turfs[x] for x in group],
                config,
                mean,
                config.turf.balance / 2,
                _IMPROVE_COST,
                str(len(windows)),
                solutions=_WINDOW_SOLUTIONS,
                commute=commute,
            )
            problems.append(prob)
            windows.append((gi, group, doors, nodes))
    if not problems:
        return plans
    sols = solve_all(problems, config.route.workers, memo=memo)
    out: list[tuple[str, list[Turf | None]]] = [
        (pid, list(turfs)) for pid, turfs in plans
    ]
    for (gi, group, doors, nodes), prob in zip(windows, problems, strict=True):
        # when the solver could not place every door the cut stays, re-timed
        new, _ = _read(prob, sols[prob.turf_id], doors, nodes, config)
        for x, t in itertools.zip_longest(group, new):
            out[gi][1][x] = t
    return [(pid, [t for t in turfs if t is not None]) for pid, turfs in out]


def insertion_s(
    m: np.ndarray, k: int, door: np.ndarray, open_routes: bool
) -> np.ndarray:
    """
    Return the walking seconds of a loop with a staging point put into it.

    `m` is a matrix over `k` candidate staging points and then doors; `door` are
    the loop's doors (positions in `m`) in walking order. Returns ``cost[c, p]``:
    the loop from staging point ``c`` starting at its door ``p`` (for open routes,
    without the walk back).
    """
    prev = np.roll(door, 1)  # the door walked just before each door
    link = m[prev, door]  # the walk the staging point is put into
    into = m[np.ix_(np.arange(k), door)]
    back = 0.0 if open_routes else m[np.ix_(prev, np.arange(k))].T
    return np.asarray(float(link.sum()) - link[None, :] + into + back)


def restage(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    candidates: Callable[[pd.DataFrame], list[Any]],
    commute: Commute | None = None,
) -> list[Plan]:
    """
    Move each turf's staging point to where its loop is shortest.

    The walk through the doors stays as it is; the staging point (a street node a
    car can reach, from `candidates`) and the door the loop starts from are chosen
    together, by the cheapest insertion of the staging point into the loop (or in
    front of it, for open routes). A field director parks where the walk is
    shortest, not at the middle of the turf. With `commute` the office is a
    candidate too, and each parking spot costs the drive there and back.
    """
    wp, open_routes = config.walk, config.route.open_routes
    out: list[Plan] = []
    for pid, turfs in plans:
        new: list[Turf] = []
        for members, t, node in turfs:
            office = [commute.office] if commute is not None else []
            cands = list(dict.fromkeys([node, *office, *candidates(members)]))
            anchors = Anchors.build(index, members, cands, wp)
            m = np.ceil(LocalCosts(index, anchors).matrix / wp.speed_m_s - 1e-9)
            k, n = len(cands), len(members)
            cost = insertion_s(m, k, np.arange(k, k + n), open_routes)
            if commute is not None:
                drives = [commute.seconds(c, back=not open_routes) for c in cands]
                cost = cost + np.array(drives)[:, None]
            c, start = np.unravel_index(int(np.argmin(cost)), cost.shape)
            now = float(cost[0, 0])  # the current point, the current first door
            if float(cost[c, start]) < now - 0.5:
                order = np.roll(np.arange(n), -int(start))
                members = members.iloc[order]
                node = cands[int(c)]
                t = float(cost[c, start]) + wp.door_s * n
            else:
                t = now + wp.door_s * n
            new.append((members, t, node))
        out.append((pid, new))
    return out


def polish(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    commute: Commute | None = None,
    memo: SolveMemo | None = None,
) -> tuple[list[Plan], pd.DataFrame]:
    """
    Route every turf on its own, as the routing stage will, and time it exactly.

    Local search from the turf's current walk, on the same costs the routing stage
    uses (the turf's doors, staging point and car legs), so each turf's estimate is
    the walk (and drive) its volunteer will get. Doors that still do not fit in a
    shift (a door whose walk there and back from any car-reachable point is longer
    than the shift) are returned as dropped (the solver leaves out the least
    valuable first).
    """
    wp, rp = config.walk, config.route
    problems: list[TurfProblem] = []
    for pid, turfs in plans:
        for members, _, node in turfs:
            walk_s = (
                TurfCosts.build(index, members, node, config).seconds
                if commute is None
                else commute.turf_seconds(members, node, config)
            )
            problems.append(
                turf_problem(
                    f"{pid}\t{len(problems)}",
                    walk_s,
                    members[schema.VALUE].to_numpy(dtype=float),
                    config,
                    vehicles=1,
                    floor=20,
                    time_limit_s=0.0,
                    initial=(tuple(range(len(members))),),
                )
            )
    sols = solve_all(problems, rp.workers, memo=memo)
    out: list[Plan] = []
    dropped: list[pd.DataFrame] = []
    it = iter(problems)
    for pid, turfs in plans:
        new: list[Turf] = []
        for members, _, node in turfs:
            prob = next(it)
            order = sols[prob.turf_id][0]
            left = np.setdiff1d(np.arange(len(members)), order)
            if len(left):
                dropped.append(members.iloc[left])
            if not order:
                continue
            t = route_s(prob, 0, order, wp.door_s)
            new.append((members.iloc[order], t, node))
        out.append((pid, new))
    gone = pd.concat(dropped) if dropped else pd.DataFrame(columns=[schema.VALUE])
    return out, gone
