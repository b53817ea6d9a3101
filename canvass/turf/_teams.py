"""Teams: turfs worked by several volunteers from one staging point.

Private to :mod:`canvass.turf`. With ``turf.volunteers_per_turf = k`` a field
director sends volunteers out in teams of `k` (pairs for safety, or a car full of
friends): they arrive together, park at one staging point, and each walks a list of
their own. The cutter works in one-volunteer walks, each sized for one shift and
evened out within its precinct like any turf; this module then groups each
precinct's walks into teams of up to `k` neighbours (nearest walks first), moves the
team's walks to the one car-reachable node where they are shortest together, and
routes the team as the routing stage will (`k` volunteers from that node, each
within the shift). So a team turf's estimate is the time its volunteers will get,
and no door is found to be out of reach only at routing.

Why not one loop of `k` shifts (as before): timing a team's turf as one long walk
missed the walks out from the staging point to each volunteer's part of the turf,
and routing then dropped doors for time (Northampton, 2,000 doors by precinct,
pairs on 2-hour shifts: 40 of 1,983 doors; pairs on 1-hour shifts: 34).

Where a precinct's walks do not pair up, or a team's walks cannot all fit in the
shift from one staging point (walks that touch only at a corner far from both
their loops), a walk stays a turf of one volunteer: fewer volunteers in the team
than asked for, never a door dropped for it; so does a team whose volunteers would
be timed outside the precinct's balance when going back to its walks evens the
precinct out. The balance is judged per volunteer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..config import PlanConfig
from ._costs import Anchors, LocalCosts, StreetIndex
from ._legs import Commute, TurfCosts
from ._repair import _outside
from ._solver import TurfProblem, route_s, solve_all, turf_problem
from ._windows import _IMPROVE_COST, _SCALE, Plan, Turf, _moved, insertion_s

__all__ = ["form_teams"]

#: Seconds of walking a staging point is charged per second a volunteer's walk
#: from it would run over the shift (choosing where a team parks).
_OVER_COST = 100


def _groups(walks: list[Turf], k: int) -> list[list[int]]:
    """
    Group walks into teams of at most `k`, nearest walks first.

    Walks are joined closest pair first (by the distance between their nearest
    doors) while the team stays within `k`, so a team's walks touch and a
    staging point between them is close to all of them; a walk with no free
    neighbour near it stays a team of its own.
    """
    n = len(walks)
    pts = [
        shapely.multipoints(shapely.get_coordinates(m.geometry.to_numpy()))
        for m, _, _ in walks
    ]
    i, j = np.triu_indices(n, 1)
    gap = shapely.distance(np.array(pts)[i], np.array(pts)[j]) if n > 1 else np.zeros(0)
    team = list(range(n))  # each walk's team, by its first walk
    size = [1] * n
    for p in np.argsort(gap, kind="stable"):
        a, b = team[int(i[p])], team[int(j[p])]
        if a == b or size[a] + size[b] > k:
            continue
        a, b = min(a, b), max(a, b)
        team = [a if x == b else x for x in team]
        size[a] += size[b]
    return [[w for w in range(n) if team[w] == t] for t in sorted(set(team))]


def _stage(
    index: StreetIndex,
    walks: list[Turf],
    config: PlanConfig,
    candidates: Callable[[pd.DataFrame], list[Any]] | None,
    commute: Commute | None = None,
) -> tuple[Hashable, list[tuple[int, ...]]]:
    """
    Choose the team's staging point and where each walk starts from it.

    Candidates are the walks' own staging points and the car-reachable nodes near
    the team's doors (`candidates`). Each walk keeps its loop and takes the
    staging point in where that costs least (as :func:`canvass.turf._windows.restage`
    does for one walk; with `commute`, plus each volunteer's drive from the office
    and back); the point chosen is the one with the least time over the team, a
    walk over the shift weighing `_OVER_COST` times more.

    Returns
    -------
    node, initial
        The staging node, and each walk's doors (positions into the team's doors,
        in the order the walks are given) in walking order from it.
    """
    wp, open_routes = config.walk, config.route.open_routes
    doors = pd.concat([m for m, _, _ in walks])
    cands = list(dict.fromkeys(node for _, _, node in walks))
    if candidates is not None:
        cands = list(dict.fromkeys([*cands, *candidates(doors)]))
    m = np.ceil(
        LocalCosts(index, Anchors.build(index, doors, cands, wp)).matrix / wp.speed_m_s
        - 1e-9
    )
    k = len(cands)
    score = np.zeros(k)
    starts: list[np.ndarray] = []
    first = 0
    for members, _, _ in walks:
        n = len(members)
        door = np.arange(k + first, k + first + n)
        cost = insertion_s(m, k, door, open_routes) + wp.door_s * n
        if commute is not None:  # each volunteer drives from the office and back
            cost = cost + np.array([commute.seconds(c) for c in cands])[:, None]
        best = cost.argmin(axis=1)
        t = cost[np.arange(k), best]
        score += t + _OVER_COST * np.maximum(t - config.turf.shift_s, 0)
        starts.append(best)
        first += n
    c = int(np.argmin(score))
    initial: list[tuple[int, ...]] = []
    first = 0
    for (members, _, _), best in zip(walks, starts, strict=True):
        n = len(members)
        initial.append(tuple(int(first + x) for x in np.roll(np.arange(n), -best[c])))
        first += n
    return cands[c], initial


def form_teams(
    index: StreetIndex,
    plans: list[Plan],
    config: PlanConfig,
    candidates: Callable[[pd.DataFrame], list[Any]] | None,
    commute: Commute | None = None,
) -> tuple[list[Plan], pd.DataFrame]:
    """
    Group each precinct's one-volunteer walks into team turfs and route each team.

    Walks are grouped into teams of up to ``turf.volunteers_per_turf``, nearest
    walks first (:func:`_groups`), each team gets the staging point where its walks
    are shortest together (:func:`_stage`), and is routed as the routing stage will
    route it: its volunteers from that point, each within the shift, starting from
    their walks, each volunteer's time pulled towards the team's mean. A walk that
    no longer fits in the shift from there first hands its doors nearest a
    teammate's walk over; a team that still does not fit is not formed, and its
    walks stay turfs of one volunteer each (no door is dropped for the sake of a
    team). A team whose volunteers end up timed outside the precinct's balance
    goes back to its walks when that evens the precinct out (:func:`_even`).

    Parameters
    ----------
    index
        The street network.
    plans
        Per precinct, its walks (one volunteer shift each, in the precinct's order).
    config
        Run configuration; ``turf.volunteers_per_turf`` is the team size.
    candidates
        Car-reachable nodes near some doors (staging points to try), or None to
        choose among the walks' own.
    commute
        With an office: the drive from it to the team's parking spot and back.

    Returns
    -------
    plans, dropped
        Per precinct, its turfs: doors in walking order, volunteer by volunteer,
        with ``walker`` (1 = first volunteer), the team's total estimated seconds
        and its staging node; and the doors the routing of a team left out (none
        expected: the walks it starts from fit).
    """
    tp, wp, rp = config.turf, config.walk, config.route
    problems: list[TurfProblem] = []
    teams: list[tuple[int, pd.DataFrame, Hashable, list[Turf]]] = []
    out: list[Plan] = [(pid, []) for pid, _ in plans]
    for gi, (_, walks) in enumerate(plans):
        for group in _groups(walks, tp.volunteers_per_turf) if walks else []:
            team = [walks[j] for j in group]
            node, starts = _stage(index, team, config, candidates, commute)
            doors = pd.concat([m for m, _, _ in team])
            costs = TurfCosts.build(index, doors, node, config)
            seconds = costs.seconds
            if commute is not None:
                seconds = commute.add(seconds, [node])
            k = len(team)
            first = np.concatenate(
                [np.zeros(k, dtype=np.int64), np.arange(1, len(doors) + 1)]
            )
            walk = np.ceil(seconds[np.ix_(first, first)] - 1e-9)
            legs = costs.leg > 0  # a car leg's doors stay with its driver
            initial = _fit(starts, doors, walk, config, legs)
            if initial is None:  # no way to send them out together
                out[gi][1].extend(
                    (m.assign(**{schema.WALKER: 1}), t, n) for m, t, n in team
                )
                continue
            owner = np.empty(len(doors), dtype=np.int64)
            for v, r in enumerate(initial):
                owner[list(r)] = v
            problem = turf_problem(
                str(len(problems)),
                seconds,
                doors[schema.VALUE].to_numpy(dtype=float),
                config,
                vehicles=k,
                floor=20,
                time_limit_s=0.0,
                initial=tuple(initial),
                pinned=np.where(legs, owner, -1),
            )
            times = [
                route_s(problem, v, list(r), wp.door_s) for v, r in enumerate(initial)
            ]
            mean, spread = float(np.mean(times)), tp.balance / 2
            problems.append(
                dataclasses.replace(
                    problem,
                    min_end_s=int((1 - spread) * mean),
                    max_end_s=int(min(tp.shift_s * tp.fill, (1 + spread) * mean)),
                    balance_cost=_IMPROVE_COST,
                    cost_scale=_SCALE,
                )
            )
            teams.append((gi, doors, node, team))
    sols = solve_all(problems, rp.workers)
    made: list[list[_Made]] = [[] for _ in plans]
    for problem, (gi, doors, node, team) in zip(problems, teams, strict=True):
        routes = [(v, r) for v, r in enumerate(sols[problem.turf_id]) if r]
        placed = [x for _, r in routes for x in r]
        left = doors.iloc[np.setdiff1d(np.arange(len(doors)), placed)]
        est = sum(route_s(problem, v, r, wp.door_s) for v, r in routes)
        walker = (
            np.concatenate([np.full(len(r), w + 1) for w, (_, r) in enumerate(routes)])
            if routes
            else np.zeros(0, dtype=np.int64)
        )
        members = doors.iloc[placed].assign(**{schema.WALKER: walker})
        made[gi].append(((members, est, node), team, left))
    dropped: list[pd.DataFrame] = []
    for gi, (_, turfs) in enumerate(out):
        kept, gone_here = _even(turfs, made[gi], tp.balance)
        turfs.extend(kept)
        dropped.extend(gone_here)
    gone = pd.concat(dropped) if dropped else pd.DataFrame(columns=[schema.VALUE])
    return out, gone


#: A team as routed: its turf, the walks it was formed from, doors it left out.
_Made = tuple[Turf, list[Turf], pd.DataFrame]


def _volunteers(turf: Turf) -> int:
    members = turf[0]
    if schema.WALKER not in members or not len(members):
        return 1
    return int(members[schema.WALKER].max())


def _even(
    solos: list[Turf], made: list[_Made], limit: float
) -> tuple[list[Turf], list[pd.DataFrame]]:
    """
    Keep the precinct's teams, unless going back to their walks evens it out.

    A team's volunteers walk out from the shared staging point to their parts, so
    a team of walks that only just touch may be timed well above the precinct's
    other volunteers. Teams outside `limit` of the precinct's mean time per
    volunteer, the worst first, go back to turfs of one volunteer each when that
    brings the precinct's turfs closer to the band (:func:`_repair._outside`).

    Returns
    -------
    turfs, dropped
        The teams kept and the walks of those dissolved (to add to `solos`), and
        the doors the kept teams left out.
    """

    def turfs(keep: list[bool]) -> list[Turf]:
        out = [m[0] for m, k in zip(made, keep, strict=True) if k and len(m[0][0])]
        for m, k in zip(made, keep, strict=True):
            if not k:
                out += [(w.assign(**{schema.WALKER: 1}), t, n) for w, t, n in m[1]]
        return out

    def per_volunteer(ts: list[Turf]) -> np.ndarray:
        return np.array([t[1] / max(1, _volunteers(t)) for t in ts])

    def outside(keep: list[bool]) -> float:
        per = per_volunteer(solos + turfs(keep))
        return _outside(per, float(per.mean()), limit) if len(per) else 0.0

    keep = [True] * len(made)
    if solos or made:
        per = per_volunteer(solos + turfs(keep))
        mean = float(per.mean()) if len(per) else 0.0
        mine = per_volunteer([m[0] for m in made]) if made else np.zeros(0)
        now = outside(keep)
        for i in np.argsort(-np.abs(mine / max(mean, 1.0) - 1), kind="stable"):
            if abs(mine[i] / max(mean, 1.0) - 1) <= limit or now == 0:
                break
            keep[int(i)] = False
            after = outside(keep)
            if after < now:
                now = after
            else:
                keep[int(i)] = True
    dropped = [m[2] for m, k in zip(made, keep, strict=True) if k and len(m[2])]
    return turfs(keep), dropped


def _fit(
    routes: list[tuple[int, ...]],
    doors: pd.DataFrame,
    walk: np.ndarray,
    config: PlanConfig,
    fixed: np.ndarray,
) -> list[tuple[int, ...]] | None:
    """
    Bring every walk of a team within the shift, or return None.

    `walk` is the team's matrix with the staging point once per volunteer. A walk
    over the shift hands its doors nearest a teammate's walk over (cheapest
    insertion, :func:`canvass.turf._windows._moved`) until it is down to the planned
    fill of a shift; a car leg's doors (`fixed`) stay.
    """
    tp, wp = config.turf, config.walk
    k = len(routes)

    def seconds(v: int, r: tuple[int, ...]) -> float:
        path = [v, *(k + x for x in r), v]
        return float(walk[path[:-1], path[1:]].sum()) + wp.door_s * len(r)

    out = list(routes)
    for v in range(k):
        if seconds(v, out[v]) <= tp.shift_s:
            continue
        order = [v, *(u for u in range(k) if u != v)]
        moved = _moved(
            [out[u] for u in order],
            doors,
            walk,
            tp.shift_s * tp.fill,
            tp.shift_s,
            wp.door_s,
            -1,
            fixed,
        )
        for u, r in zip(order, moved, strict=True):
            out[u] = r
    if any(seconds(v, r) > tp.shift_s for v, r in enumerate(out)):
        return None
    return out
