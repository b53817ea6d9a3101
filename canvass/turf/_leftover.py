"""Turf cutting internals: a place for doors a turf could not keep.

Private to :mod:`canvass.turf`. Every turf is finally routed on its own, as the
routing stage will route it (:func:`canvass.turf._windows.polish`); a turf whose
estimate was too low (the split times the walk back to the start at 1.3 times the
straight line, a window may leave a turf as it found it) then loses the doors that
do not fit in the shift. Such doors are not left out: each goes where it adds
least time to a nearby turf's loop within the planned fill (regret insertion, as in
route elimination, :func:`canvass.turf._eliminate.insert_all`), and each turf that
took doors is routed on its own again and kept only if it still holds every door.
Doors no nearby turf has room for become new turfs, routed the same way, from the
staging point nearest them; a door that cannot be worked from there (a river or a
highway between, so the nearest point is far on foot) is walked from the staging
point within reach with the shortest walk there and back. A door is left out only
when it cannot be walked to and worked in one shift from any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import schema
from ..config import PlanConfig
from ._costs import Anchors, LocalCosts, StreetIndex
from ._eliminate import insert_all
from ._legs import Commute, has_legs
from ._solver import SolveMemo, route_s
from ._windows import Plan, Turf, _centres, _window, polish

__all__ = ["place_left"]

logger = logging.getLogger(__name__)

#: Nearest turfs a group of left doors is offered to.
_NEIGHBOURS = 6
#: Rounds of new turfs made of doors no turf has room for.
_NEW_ROUNDS = 4


def place_left(
    index: StreetIndex,
    plans: list[Plan],
    left: pd.DataFrame,
    config: PlanConfig,
    staging: Callable[[pd.DataFrame], Any],
    commute: Commute | None = None,
    memo: SolveMemo | None = None,
    reach: Callable[[pd.DataFrame], list[Any]] | None = None,
) -> tuple[list[Plan], pd.DataFrame]:
    """
    Put doors the turfs lost back into nearby turfs with room, or into new turfs.

    Parameters
    ----------
    index
        The street network.
    plans
        Per group (precinct, or ``"ALL"``), its turfs.
    left
        The doors to place (work rows, with ``precinct_id``).
    config
        Run configuration (``turf.fill``, the shift, ``turf.cross_precincts``).
    staging
        Gives a new turf's staging node.
    commute
        With an office: the drive from it to each staging point and back.
    memo
        Answers of problems solved before in this cut.
    reach
        Gives the staging nodes within reach of a door, nearest first (tried
        when the nearest cannot hold it).

    Returns
    -------
    plans, left
        The turfs with the doors placed, and the doors that fit in no shift.
    """
    if not len(left):
        return plans, left
    if schema.CAR_STOP in left.columns:  # walked from the staging point of their turf
        left = left.assign(**{schema.CAR_STOP: None})
    out: list[tuple[str, list[Turf]]] = [(pid, list(turfs)) for pid, turfs in plans]
    still: list[pd.DataFrame] = []
    for gi, doors in _by_group(out, left, config):
        turfs, rest = _insert(index, out[gi][1], doors, config, commute, memo)
        turfs, rest = _new_turfs(index, turfs, rest, config, staging, commute, memo)
        if len(rest) and reach is not None:
            turfs, rest = _best_stops(index, turfs, rest, config, reach, commute, memo)
        out[gi] = (out[gi][0], turfs)
        if len(rest):
            still.append(rest)
    gone = pd.concat(still) if still else left.iloc[:0]
    logger.debug(
        "%s doors lost by their turfs: %s placed, %s fit in no shift",
        len(left),
        len(left) - len(gone),
        len(gone),
    )
    return out, gone


def _by_group(
    plans: list[tuple[str, list[Turf]]], left: pd.DataFrame, config: PlanConfig
) -> list[tuple[int, pd.DataFrame]]:
    """Return the left doors by the group (plan) they belong to; `plans` may grow."""
    if config.turf.cross_precincts or schema.PRECINCT_ID not in left.columns:
        if not plans:
            plans.append(("ALL", []))
        return [(0, left)]
    at = {pid: gi for gi, (pid, _) in enumerate(plans)}
    out: list[tuple[int, pd.DataFrame]] = []
    for pid, doors in left.groupby(schema.PRECINCT_ID, sort=True):
        gi = at.get(str(pid))
        if gi is None:  # a precinct all of whose doors were lost
            at[str(pid)] = gi = len(plans)
            plans.append((str(pid), []))
        out.append((gi, doors))
    return out


def _insert(
    index: StreetIndex,
    turfs: list[Turf],
    doors: pd.DataFrame,
    config: PlanConfig,
    commute: Commute | None,
    memo: SolveMemo | None,
) -> tuple[list[Turf], pd.DataFrame]:
    """
    Insert each left door into the turfs nearest it with room under the fill.

    Doors are taken in groups by the turf nearest them; each group is offered to
    the `_NEIGHBOURS` turfs nearest it (turfs with car legs keep their doors as
    they are). A turf that took doors is routed on its own; if it then loses a
    door, the whole group's insertion is undone and its doors stay left.
    """
    tp, wp = config.turf, config.walk
    capacity = tp.shift_s * tp.fill
    free = [x for x, t in enumerate(turfs) if not has_legs(t[0], t[2])]
    if not free or not len(doors):
        return turfs, doors
    centre = _centres([turfs[x] for x in free])
    xy = shapely.get_coordinates(doors.geometry.to_numpy())
    d = np.hypot(
        xy[:, None, 0] - centre[None, :, 0], xy[:, None, 1] - centre[None, :, 1]
    )
    nearest = d.argmin(axis=1)
    out = list(turfs)
    rest: list[pd.DataFrame] = []
    for c in np.unique(nearest):
        mine = doors.iloc[np.flatnonzero(nearest == c)]
        order = np.argsort(np.hypot(*(centre - centre[c]).T), kind="stable")
        group = [free[int(x)] for x in order[:_NEIGHBOURS]]
        pseudo: Turf = (mine, 0.0, out[group[0]][2])
        prob, all_doors, nodes = _window(
            index,
            [pseudo, *(out[x] for x in group)],
            config,
            0.0,
            0.0,
            0,
            "",
            extra=-1,
            commute=commute,
        )
        k = len(nodes)
        walk = np.ceil(prob.walk_s - 1e-9)
        if prob.open_routes:
            walk[:, :k] = 0
        sizes = np.cumsum([len(mine), *(len(out[x][0]) for x in group)])
        kept = [list(range(int(sizes[v]), int(sizes[v + 1]))) for v in range(k)]
        routes, missed = insert_all(
            kept, list(range(len(mine))), walk, capacity, wp.door_s
        )
        if len(missed) == len(mine):
            rest.append(mine)
            continue
        new = [
            (all_doors.iloc[r], route_s(prob, v, r, wp.door_s), nodes[v])
            for v, r in enumerate(routes)
        ]
        polished, lost = polish(index, [("", new)], config, commute, memo)
        placed = polished[0][1]
        if len(lost) or len(placed) != len(group):
            rest.append(mine)  # a turf could not keep what it took: undo
            continue
        for x, t in zip(group, placed, strict=True):
            out[x] = t
        if missed:
            rest.append(mine.iloc[missed])
    left = pd.concat(rest) if rest else doors.iloc[:0]
    return out, left


def _new_turfs(
    index: StreetIndex,
    turfs: list[Turf],
    doors: pd.DataFrame,
    config: PlanConfig,
    staging: Callable[[pd.DataFrame], Any],
    commute: Commute | None,
    memo: SolveMemo | None,
) -> tuple[list[Turf], pd.DataFrame]:
    """
    Make turfs of the doors no turf has room for.

    The doors, in nearest-neighbour order, become one turf routed
    on its own; what that turf cannot fit in the shift becomes the next one, and so
    on, until a round places nothing more (a door no walk from a staging point near
    it fits in a shift).
    """
    out = list(turfs)
    rest = doors
    for _ in range(_NEW_ROUNDS):
        if not len(rest):
            break
        members = rest.iloc[_nearest_chain(rest)]
        polished, lost = polish(
            index, [("", [(members, 0.0, staging(members))])], config, commute, memo
        )
        if len(lost) == len(rest):
            break
        out += polished[0][1]
        rest = lost
    return out, rest


def _best_stops(
    index: StreetIndex,
    turfs: list[Turf],
    doors: pd.DataFrame,
    config: PlanConfig,
    reach: Callable[[pd.DataFrame], list[Any]],
    commute: Commute | None,
    memo: SolveMemo | None,
) -> tuple[list[Turf], pd.DataFrame]:
    """
    Walk each door still left from the staging point with the shortest round trip.

    The nearest staging point by the straight line may be far on foot (across a
    river); each door takes, of the nodes `reach` gives, the one with the shortest
    walk there and back on the network. Doors sharing a node become one turf, routed
    on its own; what it cannot hold stays left.
    """
    best: dict[Any, list[int]] = {}
    for i in range(len(doors)):
        one = doors.iloc[[i]]
        cands = reach(one)
        if not cands:
            continue
        m = LocalCosts(index, Anchors.build(index, one, cands, config.walk)).matrix
        k = len(cands)
        trip = m[:k, k] + m[k, :k]
        best.setdefault(cands[int(np.argmin(trip))], []).append(i)
    if not best:
        return turfs, doors
    new: list[Turf] = [(doors.iloc[ix], 0.0, node) for node, ix in best.items()]
    polished = polish(index, [("", new)], config, commute, memo)[0]
    placed = [t for t in polished[0][1] if len(t[0])]
    taken = {d for t in placed for d in t[0].index}
    return [*turfs, *placed], doors[~doors.index.isin(taken)]


def _nearest_chain(doors: pd.DataFrame) -> np.ndarray:
    """Door positions in nearest-neighbour order from the westernmost door."""
    xy = shapely.get_coordinates(doors.geometry.to_numpy())
    todo = np.ones(len(xy), dtype=bool)
    at = int(np.argmin(xy[:, 0])) if len(xy) else 0
    order: list[int] = []
    for _ in range(len(xy)):
        order.append(at)
        todo[at] = False
        if not todo.any():
            break
        d = np.where(todo, np.hypot(*(xy - xy[at]).T), np.inf)
        at = int(np.argmin(d))
    return np.asarray(order, dtype=np.int64)
