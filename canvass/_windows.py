"""Turf cutting internals: the optimal split of a walk, and window re-routing.

Private to :mod:`canvass.turf`. A turf is carried as ``(members, est_s, node)``: its
doors in walking order, its estimated time (walking plus minutes per door) and its
staging node. The balance rule everything here serves: every turf of a precinct
within ``turf.balance`` (default 15 %) of the precinct's mean estimated time.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import shapely

from . import schema
from ._costs import Anchors, LocalCosts, StreetIndex
from ._solver import TurfProblem, solve_all
from .config import PlanConfig, WalkParams

__all__ = ["Turf", "balance_stats", "improve", "rebalance", "split_tour"]

#: One turf: its doors in walking order, estimated seconds, staging node.
Turf = tuple[pd.DataFrame, float, Any]
#: One group (precinct) of turfs, in street order.
Plan = tuple[str, list[Turf]]

#: Neighbouring turfs re-routed together after the split.
WINDOW = 4
#: Walking seconds a turf's time costs per second outside the balance band: larger
#: than any walking a lopsided cut could save.
BAND_COST = 50
#: Walking seconds per second outside the balance band while improving: light, so
#: walking comes first and the repair pass only fixes what is left.
_IMPROVE_COST = 1
#: Rounds of the balance repair.
_REPAIR_ROUNDS = 3


def split_tour(
    step_s: np.ndarray,
    xy: np.ndarray,
    wp: WalkParams,
    capacity: float,
    target: float,
    weight: float,
    band: tuple[float, float] | None = None,
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
        walk = prefix[j - 1] - prefix[i] + close
        t = walk + wp.door_s * (j - i)
        # the walk along the tour only grows as the loop grows backwards; the walk
        # back does not, so loops are tried until the first bound alone is too long
        along = t - close
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
        The largest deviation of a turf's ``est_s`` from its precinct's mean, the
        share of turfs within `limit` of it, and the number outside.
    """
    if not len(turfs):
        return 0.0, 1.0, 0
    est = turfs[schema.EST_S].astype(float)
    dev = (est / est.groupby(turfs[schema.PRECINCT_ID]).transform("mean") - 1).abs()
    inside = dev <= limit + 1e-9
    return (
        round(float(dev.max()), 3),
        round(float(inside.mean()), 3),
        int((~inside).sum()),
    )


def _window(
    index: StreetIndex,
    turfs: list[Turf],
    config: PlanConfig,
    mean: float,
    spread: float,
    cost: int,
    name: str,
) -> tuple[TurfProblem, pd.DataFrame, list[Any]]:
    """
    Build the OR-Tools problem that re-routes `turfs` together.

    Each turf keeps its staging point and starts from its current walk; every door
    must be placed (dropping one costs far more than any walk); each turf's time is
    pulled into ``mean * (1 -+ spread)``, and under the planned fill of a shift, at
    `cost` per second outside. The hard limit is the shift itself, as in routing.
    """
    tp, wp, rp = config.turf, config.walk, config.route
    shift = int(tp.shift_s * tp.volunteers_per_turf)
    capacity = int(shift * tp.fill)
    members = [t[0] for t in turfs]
    nodes = [t[2] for t in turfs]
    doors = pd.concat(members)
    costs = LocalCosts(index, Anchors.build(index, doors, nodes, wp))
    sizes = np.cumsum([0, *[len(m) for m in members]])
    k = len(turfs)
    problem = TurfProblem(
        turf_id=name,
        walk_s=costs.matrix / wp.speed_m_s,
        service_s=np.full(len(doors), wp.door_s, dtype=np.int64),
        penalty=np.full(len(doors), 20 * capacity, dtype=np.int64),
        vehicles=k,
        shift_s=shift,
        open_routes=rp.open_routes,
        time_limit_s=tp.tour_time_s,
        solution_limit=rp.solution_limit,
        starts=tuple(range(k)),
        n_depots=k,
        min_end_s=int((1 - spread) * mean),
        max_end_s=int(min(capacity, (1 + spread) * mean)),
        balance_cost=cost,
        initial=tuple(tuple(range(int(sizes[v]), int(sizes[v + 1]))) for v in range(k)),
    )
    return problem, doors, nodes


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
    if not complete:
        routes = [list(r) for r in problem.initial]
    wp, open_routes = config.walk, config.route.open_routes
    w = np.ceil(problem.walk_s - 1e-9)
    new: list[Turf] = []
    for v, r in enumerate(routes):
        if not r:
            continue
        seq = [v, *[x + problem.n_depots for x in r]]
        if not open_routes:
            seq.append(v)
        t = float(w[seq[:-1], seq[1:]].sum()) + wp.door_s * len(r)
        new.append((doors.iloc[r], t, nodes[v]))
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
    index: StreetIndex, plans: list[Plan], config: PlanConfig, pass_no: int
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
            )
            problems.append(prob)
            windows.append((gi, group, doors, nodes))
    if not problems:
        return plans
    sols = solve_all(problems, config.route.workers)
    out: list[tuple[str, list[Turf | None]]] = [
        (pid, list(turfs)) for pid, turfs in plans
    ]
    for (gi, group, doors, nodes), prob in zip(windows, problems, strict=True):
        # when the solver could not place every door the cut stays, re-timed
        new, _ = _read(prob, sols[prob.turf_id], doors, nodes, config)
        for x, t in itertools.zip_longest(group, new):
            out[gi][1][x] = t
    return [(pid, [t for t in turfs if t is not None]) for pid, turfs in out]


def _outside(times: np.ndarray, mean: float, limit: float) -> float:
    """Seconds by which `times` fall outside ``mean * (1 -+ limit)``, summed."""
    lo, hi = (1 - limit) * mean, (1 + limit) * mean
    return float((np.maximum(lo - times, 0) + np.maximum(times - hi, 0)).sum())


def rebalance(index: StreetIndex, plans: list[Plan], config: PlanConfig) -> list[Plan]:
    """
    Repair turfs still outside the balance band after the improvement passes.

    Each turf outside ``turf.balance`` of its precinct's mean is re-routed together
    with its nearest turfs (by the centre of their doors), pulled hard towards the
    mean. A window's new cut is kept only when it brings the window's turfs closer
    to the band. A turf can stay outside when its doors sit far from every other
    turf's (an isolated cluster no neighbour can share evenly); the turf report
    counts such turfs.
    """
    limit = config.turf.balance
    for _ in range(_REPAIR_ROUNDS):
        problems: list[TurfProblem] = []
        windows: list[tuple[int, list[int], pd.DataFrame, list[Any], float]] = []
        for gi, (_, turfs) in enumerate(plans):
            if len(turfs) < 2:
                continue
            times = np.array([t[1] for t in turfs])
            mean = float(times.mean())
            dev = np.abs(times / mean - 1)
            centre = _centres(turfs)
            taken: set[int] = set()
            for bad in np.argsort(-dev, kind="stable"):
                if dev[bad] <= limit or bad in taken:
                    continue
                near = np.argsort(np.hypot(*(centre - centre[bad]).T), kind="stable")
                group = [int(x) for x in near if int(x) not in taken][:WINDOW]
                if bad not in group:
                    continue
                taken.update(group)
                prob, doors, nodes = _window(
                    index,
                    [turfs[x] for x in group],
                    config,
                    mean,
                    limit / 3,
                    BAND_COST,
                    str(len(windows)),
                )
                problems.append(prob)
                windows.append((gi, group, doors, nodes, mean))
        if not problems:
            break
        sols = solve_all(problems, config.route.workers)
        changed = False
        out = [(pid, list(turfs)) for pid, turfs in plans]
        for (gi, group, doors, nodes, mean), prob in zip(
            windows, problems, strict=True
        ):
            new, complete = _read(prob, sols[prob.turf_id], doors, nodes, config)
            if not complete or len(new) != len(group):
                continue
            before = np.array([plans[gi][1][x][1] for x in group])
            after = np.array([t[1] for t in new])
            if _outside(after, mean, limit) < _outside(before, mean, limit):
                for x, t in zip(group, new, strict=True):
                    out[gi][1][x] = t
                changed = True
        plans = out
        if not changed:
            break
    return plans
