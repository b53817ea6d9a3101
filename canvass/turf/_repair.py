"""Turf cutting internals: the balance repair (private to :mod:`canvass.turf`).

After the improvement passes, turfs still outside ``turf.balance`` of their
precinct's mean, or over the shift, are re-routed with their nearest turfs, pulled
hard towards the band; turfs the first rounds cannot fix get wider windows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..config import PlanConfig
from ._costs import StreetIndex
from ._legs import Commute, handoffs
from ._solver import SolveMemo, TurfProblem, solve_all
from ._windows import (
    _WINDOW_SOLUTIONS,
    WINDOW,
    Plan,
    Turf,
    _centres,
    _read,
    _window,
    polish,
)

__all__ = ["rebalance"]

#: Window re-routing weighs a second outside the band this much against `_SCALE`
#: for a second of walking while repairing (under 9 times: only by taking doors).
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
#: Share of the band the wide windows pull towards (narrow ones: a third). Pulling
#: all eight turfs as tightly as the narrow windows do costs walking for turfs that
#: were already even (Northampton, 2,000 doors: 74.1 h walked against 73.0 h).
_CHAIN_SPREAD = 2 / 3
#: A second of a turf over the shift weighs this many seconds outside the band
#: when the repair judges a window (a turf over the shift loses doors).
_OVER_COST = 10


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
