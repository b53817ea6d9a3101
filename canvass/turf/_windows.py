"""Turf cutting internals: re-routing windows of turfs, restaging, the balance repair.

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
from ._legs import Commute, TurfCosts, car_seconds, car_stops, handoffs
from ._solver import SolveMemo, TurfProblem, route_s, solve_all, turf_problem

__all__ = ["Turf", "improve", "insertion_s", "polish", "rebalance", "restage"]

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
_REPAIR_COST = 90
#: Share of the balance the repair aims for: routing each turf on its own afterwards
#: shortens some walks a little, and they must still be within the balance.
_HEADROOM = 0.85
#: Rounds of the balance repair.
_REPAIR_ROUNDS = 3
#: Turfs a too-short turf's doors are shared out among.
_SHARE_WINDOW = 5
#: Turfs in the wider repair windows: a turf far from the rest (a hamlet) can only
#: be evened out when work moves along a chain of turfs, each giving a little.
_WIDE = 8
#: In the wide windows balance comes first (a second outside the band weighs
#: `_CHAIN_COST` against `_SCALE` for a second of walking), and the local search
#: stops after `_CHAIN_SOLUTIONS` improving moves (a deterministic cap on windows
#: of up to 400 doors, where each move costs OR-Tools 50-200 ms).
_CHAIN_COST = 300
_CHAIN_SOLUTIONS = 300
#: The same deterministic cap for the narrow windows (improvement passes and the
#: first repair windows): most settle well within it, and the few that run on spend
#: seconds each on moves that seldom change the cut (Northampton, 2,000 doors: the
#: same plan, about 10 % less CPU with the memo; a cap of 50 cost 2 shifts).
_WINDOW_SOLUTIONS = 150
#: Share of the band the wide windows pull towards (narrow ones: a third). Pulling
#: all eight turfs as tightly as the narrow windows do costs walking for turfs that
#: were already even (Northampton, 2,000 doors: 74.1 h walked against 73.0 h).
_CHAIN_SPREAD = 2 / 3
#: A second of a turf over the shift weighs this many seconds outside the band
#: when the repair judges a window (a turf over the shift loses doors).
_OVER_COST = 10


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


def _outside(
    times: np.ndarray, mean: float, limit: float, capacity: float = np.inf
) -> float:
    """
    Seconds by which `times` fall outside ``mean * (1 -+ limit)``, summed.

    Seconds over `capacity` (the shift) count `_OVER_COST` times more: a turf
    over it loses doors when routed, whatever the band.
    """
    lo, hi = (1 - limit) * mean, (1 + limit) * mean
    out = np.maximum(lo - times, 0) + np.maximum(times - hi, 0)
    over = np.maximum(times - capacity, 0) if np.isfinite(capacity) else 0.0
    return float((out + _OVER_COST * over).sum())


def rebalance(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    car_nodes: Callable[[pd.DataFrame], list[Any]] | None = None,
    commute: Commute | None = None,
    memo: SolveMemo | None = None,
) -> list[Plan]:
    """
    Repair turfs still outside the balance band after the improvement passes.

    Each turf outside ``turf.balance`` of its precinct's mean (less some headroom,
    as routing each turf on its own later shortens some walks) is re-routed together
    with its nearest turfs (by the centre of their doors), pulled hard towards the
    mean; a turf longer than a whole shift is split, with one more volunteer from
    its staging point, or (when it is inside the band: no band, full shifts) its
    doors shared out among its neighbours, and a window is judged with the
    seconds over the shift weighed `_OVER_COST` times. A window's new cut is kept
    only when it brings the precinct's turfs closer to the band around the
    precinct's new mean (a window
    that adds or removes a turf moves the mean). Turfs the first round cannot fix
    get wider windows (`_WIDE` turfs, balance weighed above walking) from later
    rounds, started with work already handed along: a short turf filled with its
    neighbours' nearest doors, a long one's doors given to the turfs nearest them,
    so the deficit or excess spreads over a chain of turfs; a long turf also tries
    the shortest turf near it shared out among its neighbours, which raises the
    precinct's mean (a dense cluster off on its own, too long for one turf and too
    short for two). Given `car_nodes` (car-reachable nodes near some doors), a turf
    no window evens out from the second round on also tries a car leg
    (:func:`canvass.turf._legs.handoffs`): a run of a nearby turf's doors walked from a
    parking spot near them after a drive, or its own run handed over that way, or
    (a short turf) the whole turf made a car leg of the turf nearest it; car legs
    are kept only for turfs no walking window improves. Turfs with car legs are
    re-routed with their neighbours like any other, each leg's doors staying with
    their volunteer. A turf can still stay outside when no walk and no short drive
    evens it out (the turf report counts such turfs).
    """
    limit = config.turf.balance * _HEADROOM
    shift = config.turf.shift_s
    for round_no in range(_REPAIR_ROUNDS):
        problems: list[TurfProblem] = []
        windows: list[tuple[int, list[int], pd.DataFrame, list[Any], int, bool]] = []
        handed: list[tuple[int, list[int], int, list[Turf]]] = []
        driving = round_no > 0 and config.turf.car_legs and car_nodes is not None
        for gi, (_, turfs) in enumerate(plans):
            if len(turfs) < 2:
                continue
            times = np.array([t[1] for t in turfs])
            mean = float(times.mean())
            dev = np.abs(times / mean - 1)
            # a turf over the shift is repaired whatever the band (with no band
            # and full shifts, as in the bench, it would lose doors when routed)
            over = times > shift + 0.5
            centre = _centres(turfs)
            taken: set[int] = set()
            for bad in np.lexsort((-dev, ~over)):
                if (dev[bad] <= limit and not over[bad]) or bad in taken:
                    continue
                near = np.argsort(np.hypot(*(centre - centre[bad]).T), kind="stable")
                free = [int(x) for x in near if int(x) not in taken]
                if not free or free[0] != bad:
                    continue
                # (extra volunteers, turfs in the window, doors moved at the start);
                # wider windows only for turfs the first round could not fix
                if times[bad] > shift:
                    variants = [(1, WINDOW, 0), (1, _WIDE, 0)]  # too long: split it
                    if dev[bad] <= limit:  # no band to keep: neighbours may take it
                        variants = [(0, WINDOW, 0), *variants, (0, _WIDE, -1)]
                elif times[bad] < (1 - limit) * mean:
                    # too short: fill it up, or share it out among more turfs
                    variants = [(0, WINDOW, 0), (-1, _SHARE_WINDOW, 0), (0, _WIDE, 1)]
                else:  # share it out, split it, or hand work along a chain
                    variants = [(0, WINDOW, 0), (1, WINDOW, 0), (0, _WIDE, -1)]
                if round_no == 0:
                    variants = [v for v in variants if v[1] < _WIDE]
                if driving and car_nodes is not None:
                    # no walk may even it out: try handing doors over as a car leg
                    handed += [
                        (gi, group, int(bad), new)
                        for group, new in handoffs(
                            index,
                            turfs,
                            int(bad),
                            free[1:_WIDE],
                            mean,
                            config,
                            car_nodes,
                        )
                    ]
                taken.update(free[: max(w for _, w, _ in variants)])
                groups = [
                    (free[:size], extra, size, move, False)
                    for extra, size, move in variants
                ]
                if driving and times[bad] < (1 - limit) * mean:
                    # or make the whole turf a car leg of the turf nearest it
                    groups.append((free[:_SHARE_WINDOW], -1, _SHARE_WINDOW, 0, True))
                if round_no > 0 and times[bad] > (1 + limit) * mean:
                    # a long turf no neighbour can take work from (a dense cluster
                    # off on its own): one turf fewer nearby raises the mean instead
                    short = min(free[1:_WIDE], key=lambda x: times[x], default=bad)
                    rest = sorted(
                        (x for x in free[:_WIDE] if x != short),
                        key=lambda x: float(np.hypot(*(centre[x] - centre[short]))),
                    )
                    if short != bad:
                        group = [short, *rest[: _SHARE_WINDOW - 1]]
                        groups.append((group, -1, _SHARE_WINDOW, 0, False))
                for group, extra, size, move, carry in groups:
                    if len(group) + extra < 1:
                        continue  # nobody left to share the turf out among
                    prob, doors, nodes = _window(
                        index,
                        [turfs[x] for x in group],
                        config,
                        mean,
                        limit / 3 if size < _WIDE else limit * _CHAIN_SPREAD,
                        _REPAIR_COST if size < _WIDE else _CHAIN_COST,
                        str(len(windows)),
                        extra=extra,
                        move=move,
                        solutions=(
                            _CHAIN_SOLUTIONS if size >= _WIDE else _WINDOW_SOLUTIONS
                        ),
                        relax=round_no > 0,
                        carry=carry,
                        commute=commute,
                    )
                    problems.append(prob)
                    windows.append((gi, group, doors, nodes, int(bad), carry))
        if not problems and not handed:
            break
        sols = solve_all(problems, config.route.workers, memo=memo) if problems else {}
        # the soft bounds could still be met by walking further rather than by
        # taking doors: route each new turf on its own before judging the window
        cands = [
            (str(w), _read(prob, sols[prob.turf_id], doors, nodes, config))
            for w, ((_, _, doors, nodes, _, _), prob) in enumerate(
                zip(windows, problems, strict=True)
            )
        ] + [(str(len(windows) + h), (new, True)) for h, (*_, new) in enumerate(handed)]
        entries = [(gi, group, bad, car) for gi, group, _, _, bad, car in windows] + [
            (gi, group, bad, True) for gi, group, bad, _ in handed
        ]
        polished, _ = polish(
            index,
            [(w, new) for w, (new, complete) in cands if complete],
            config,
            commute,
            memo,
        )
        fixed = dict(polished)
        best: dict[tuple[int, int], tuple[float, list[Turf], bool]] = {}
        # walking windows first: a car leg only where no walk evens the turf out
        for w in sorted(range(len(entries)), key=lambda w: entries[w][3]):
            gi, group, bad, car = entries[w]
            new = fixed.get(str(w), [])
            if sum(len(m) for m, _, _ in new) < sum(
                len(plans[gi][1][x][0]) for x in group
            ):
                continue  # the solver or the polish had to leave a door out
            # judged on the whole precinct: a window that adds or removes a turf
            # moves the precinct's mean, and every turf's band with it
            before = np.array([t[1] for t in plans[gi][1]])
            after = np.array(
                [t[1] for x, t in enumerate(plans[gi][1]) if x not in group]
                + [t[1] for t in new]
            )
            gain = _outside(before, before.mean(), limit, shift) - _outside(
                after, after.mean(), limit, shift
            )
            key = (gi, bad)
            if car and key in best and not best[key][2]:
                continue
            if gain > 0 and gain > best.get(key, (0.0, [], False))[0]:
                best[key] = (gain, new, car)
        out: list[tuple[str, list[Turf | None]]] = [
            (pid, list(turfs)) for pid, turfs in plans
        ]
        for w, (gi, group, bad, _) in enumerate(entries):
            key = (gi, bad)
            if key in best and best[key][1] is fixed.get(str(w)):
                new = best[key][1]
                for x, t in itertools.zip_longest(group, new[: len(group)]):
                    out[gi][1][x] = t
                out[gi][1].extend(new[len(group) :])  # the split's new turf
        changed = bool(best)
        plans = [(pid, [t for t in turfs if t is not None]) for pid, turfs in out]
        if not changed and round_no > 0:
            break  # (the first round tries narrow windows only)
    return plans


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
