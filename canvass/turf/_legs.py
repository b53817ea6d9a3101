"""Car legs: a turf walked in more than one loop, with a short drive between them.

Private to the turf and routing stages. Most turfs are one walking loop from their
staging point. In rural and semi-rural precincts some doors sit in hamlets a
kilometre or more from every other target door: on foot such a hamlet is a turf
far shorter than the rest, and no walk can even it out. Field directors hand such
doors out as a leg of a driving turf ("car moves", DOMAIN.md 3.1): the volunteer
parks, walks one cluster, drives to the next and parks again. A door's leg is the
car stop it is walked from (``schema.CAR_STOP``; empty = the turf's staging point).

The costs below keep every route consistent with where the car is: between two
doors of the same leg the volunteer walks; between legs they walk back to the car,
drive to the other leg's stop (``turf.drive_m_s`` over the street network, plus
``turf.park_s`` to park) and walk on from there. A route may visit legs in any
order and the car is always where the cost assumes it is, because it only ever
moves with a change of leg. So the solver, the split and the estimates work on an
ordinary seconds matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .. import schema
from ..config import PlanConfig
from ._costs import Anchors, LocalCosts, StreetIndex

__all__ = [
    "Commute",
    "TurfCosts",
    "car_seconds",
    "car_stops",
    "drive_s",
    "handoffs",
    "has_legs",
]

Coords = tuple[float, float]


def car_stops(members: pd.DataFrame, node: Hashable) -> list[Hashable]:
    """Return each door's car stop: its ``car_stop``, or the turf's `node`."""
    if schema.CAR_STOP not in members.columns:
        return [node] * len(members)
    return [node if pd.isna(s) else s for s in members[schema.CAR_STOP].to_numpy()]


def has_legs(members: pd.DataFrame, node: Hashable) -> bool:
    """Whether some door of the turf is walked from another car stop than `node`."""
    return any(s != node for s in car_stops(members, node))


def _drive(metres: np.ndarray, config: PlanConfig) -> np.ndarray:
    """Seconds to drive `metres` and park; 0 where there is nowhere to drive."""
    tp = config.turf
    return np.where(metres > 0, metres / tp.drive_m_s + tp.park_s, 0.0)


def car_seconds(
    metres: np.ndarray,
    k: int,
    car: np.ndarray,
    owner: np.ndarray,
    config: PlanConfig,
) -> np.ndarray:
    """
    Travel seconds of a routing problem whose doors may be walked in car legs.

    Parameters
    ----------
    metres
        Walking metres among the anchors: `k` staging points (one per volunteer),
        then any other car stops, then the n doors (the last n anchors).
    k
        Staging points (volunteers).
    car
        Per door, the anchor of the car stop its leg is walked from, or -1 for a
        door walked from its volunteer's staging point.
    owner
        Per door with a car stop, the volunteer whose leg it is (the caller lets
        only that volunteer visit it).
    config
        Walking and driving speeds.

    Returns
    -------
    seconds
        ``(k + n, k + n)``: staging points, then doors. Between a leg's door and
        any stop not of the same leg: walk to the car, drive (with parking), walk
        on. Where the car is follows from the door: at its leg's stop, or at the
        owner's staging point for a door walked from there.
    """
    n = len(car)
    first = metres.shape[0] - n
    walk = metres / config.walk.speed_m_s
    keep = np.concatenate([np.arange(k), np.arange(first, first + n)])
    out: np.ndarray = walk[np.ix_(keep, keep)]
    if not (car >= 0).any():
        return out
    drive = _drive(metres[:first, :first], config)
    door = np.arange(first, first + n)
    staging = np.arange(k)
    for h in np.flatnonzero(car >= 0):
        s, ah = int(car[h]), first + int(h)
        at = np.where(car >= 0, car, int(owner[h]))  # the car, for each door
        same = car == s  # doors of the same leg: on foot
        into = walk[door, at] + drive[at, s] + walk[s, ah]
        out[k:, k + h] = np.where(same, walk[door, ah], into)
        out[:k, k + h] = drive[staging, s] + walk[s, ah]
        away = walk[ah, s] + drive[s, at] + walk[at, door]
        out[k + h, k:] = np.where(same, walk[ah, door], away)
        out[k + h, :k] = walk[ah, s] + drive[s, staging]
    return out


@dataclass(frozen=True)
class Commute:
    """
    Driving from the office to a turf's parking spot and back.

    With ``turf.office`` set, every route starts and ends at the office, but a
    volunteer does not walk 3 km across town to their turf: they drive to a
    parking spot by it (the turf's own staging node), walk the turf from there and
    drive back. The drive is timed like a car leg's (street-network metres at
    ``turf.drive_m_s`` plus ``turf.park_s``; none for a turf walked straight from
    the office). The turf stage adds it to each volunteer's first and last step
    (:meth:`add`), so turfs far from the office are cut shorter.

    Parameters
    ----------
    office
        The office's street node.
    index
        The street index the seconds are by node of.
    out_s, back_s
        Seconds to drive from the office to each node and park, and back.
    """

    office: Hashable
    index: StreetIndex
    out_s: np.ndarray
    back_s: np.ndarray

    @classmethod
    def build(cls, index: StreetIndex, office: Hashable, config: PlanConfig) -> Commute:
        """Drive times from the office to every node of the network and back."""
        n = len(index.nodes)
        graph = csr_matrix((index.w, (index.eu, index.ev)), shape=(n, n))
        src = index.ix[office]
        far = 100.0 * config.turf.drive_m_s * config.turf.shift_s  # unreachable
        out, back = (
            np.nan_to_num(dijkstra(g, directed=True, indices=src), posinf=far)
            for g in (graph, graph.T.tocsr())
        )
        return cls(office, index, _drive(out, config), _drive(back, config))

    def seconds(self, node: Hashable, *, back: bool = True) -> float:
        """Seconds driven to (and `back` from) a turf parked at `node`."""
        i = self.index.ix[node]
        return float(self.out_s[i] + (self.back_s[i] if back else 0.0))

    def turf_seconds(
        self, members: pd.DataFrame, node: Hashable, config: PlanConfig
    ) -> np.ndarray:
        """
        Travel seconds of a turf parked at `node`, as the router will time them.

        The router starts from the office and drives to each leg's parking spot
        (the turf's own for a door with no other), so a turf with a second leg may
        drive there straight from the office; :meth:`add` is the quicker bound the
        cut uses while turfs still change.
        """
        stops = pd.Series(car_stops(members, node), index=members.index, dtype=object)
        parked = members.assign(**{schema.CAR_STOP: stops})
        return TurfCosts.build(self.index, parked, self.office, config).seconds

    def add(self, seconds: np.ndarray, nodes: list[Hashable]) -> np.ndarray:
        """
        Return `seconds` with the drives added to each volunteer's first and last step.

        `seconds` has one staging point per volunteer first (parked at `nodes`),
        then the doors; the step between two staging points stays free (a
        volunteer with no doors does not drive).
        """
        out = seconds.copy()
        k = len(nodes)
        for v, node in enumerate(nodes):
            i = self.index.ix[node]
            out[v, k:] += self.out_s[i]
            out[k:, v] += self.back_s[i]
        return out


@dataclass(frozen=True)
class TurfCosts:
    """
    Travel costs of one turf: its staging point (position 0) and doors (1..n).

    Parameters
    ----------
    costs
        Walking costs among the anchors: the car stops (the staging point first),
        then the doors.
    stops
        The car stops, the staging point first.
    leg
        Each door's car stop, as a position in `stops`.
    seconds
        Travel seconds between positions (0 = staging point, door ``i`` at
        ``i + 1``), from :func:`car_seconds`.
    drive_m, drive_s
        Driving metres and seconds (parking included) between car stops.
    """

    costs: LocalCosts
    stops: list[Hashable]
    leg: np.ndarray
    seconds: np.ndarray
    drive_m: np.ndarray
    drive_s: np.ndarray

    @classmethod
    def build(
        cls,
        index: StreetIndex,
        members: pd.DataFrame,
        node: Hashable,
        config: PlanConfig,
    ) -> TurfCosts:
        """Costs of the turf whose doors are `members`, staged at `node`."""
        per_door = car_stops(members, node)
        stops = list(dict.fromkeys([node, *per_door]))
        at = {s: i for i, s in enumerate(stops)}
        leg = np.array([at[s] for s in per_door], dtype=np.int64)
        costs = LocalCosts(index, Anchors.build(index, members, stops, config.walk))
        k = len(stops)
        drive_m = costs.matrix[:k, :k].copy()
        drive_s = _drive(drive_m, config)  # (as car_seconds times them)
        car = np.where(leg > 0, leg, -1)
        seconds = car_seconds(costs.matrix, 1, car, np.zeros_like(leg), config)
        return cls(costs, stops, leg, seconds, drive_m, drive_s)

    def _anchor(self, i: int) -> int:
        return 0 if i == 0 else len(self.stops) + i - 1

    def _stop(self, i: int) -> int:
        return 0 if i == 0 else int(self.leg[i - 1])

    def hop(self, a: int, b: int) -> tuple[float, float, float, list[Coords]]:
        """
        One step of a route, from position `a` to position `b`.

        Returns
        -------
        walk_m, drive_m, drive_s, coords
            Metres walked, metres and seconds driven (0 within a leg), and the path.
        """
        sa, sb = self._stop(a), self._stop(b)
        ia, ib = self._anchor(a), self._anchor(b)
        c = self.costs
        if sa == sb:
            return c.path_length(ia, ib), 0.0, 0.0, c.leg(ia, ib)
        walk = c.path_length(ia, sa) + c.path_length(sb, ib)
        coords = [*c.leg(ia, sa), *c.leg(sa, sb), *c.leg(sb, ib)]
        return walk, float(self.drive_m[sa, sb]), float(self.drive_s[sa, sb]), coords

    def stop_xy(self, s: int) -> tuple[float, float]:
        """Coordinates of car stop `s`."""
        return self.costs.index.node_xy(self.stops[s])


#: A turf as the turf stage carries it: doors in walking order, seconds, staging.
Turf = tuple[pd.DataFrame, float, Any]

#: Turfs nearest a turf out of balance tried as the other end of a car leg.
_PARTNERS = 3


def drive_s(
    index: StreetIndex,
    a: Hashable,
    b: Hashable,
    config: PlanConfig,
    doors: pd.DataFrame,
) -> float:
    """Seconds to drive from node `a` to node `b` and park (0 when they coincide).

    `doors` is any snapped door frame (only its columns are used).
    """
    if a == b:
        return 0.0
    anchors = Anchors.build(index, doors.iloc[:0], [a, b], config.walk)
    m = LocalCosts(index, anchors).matrix
    return float(_drive(m[0, 1:2], config)[0])


def _car_stop(
    index: StreetIndex, run: pd.DataFrame, cands: list[Any], config: PlanConfig
) -> Any:
    """Return the car stop (of `cands`) from which the run is walked shortest."""
    anchors = Anchors.build(index, run, cands, config.walk)
    m = LocalCosts(index, anchors).matrix
    k = len(cands)
    return cands[int(np.argmin(m[:k, k] + m[k + len(run) - 1, :k]))]


def handoffs(
    index: StreetIndex,
    turfs: list[Turf],
    bad: int,
    near: list[int],
    mean: float,
    config: PlanConfig,
    car_nodes: Callable[[pd.DataFrame], list[Any]],
) -> list[tuple[list[int], list[Turf]]]:
    """
    Cuts that even out turf `bad` by handing a run of doors over as a car leg.

    A turf too short (a hamlet) takes the first or last doors of a nearby turf's
    loop as a second leg; a turf too long hands its own first or last doors to a
    nearby turf the same way. The leg is walked from the car-reachable node
    (of `car_nodes`, or the giving turf's staging point) nearest its doors. The run
    is sized so the receiving turf comes to about the precinct's `mean` (or the
    giving one down to it), counting the drive there and back; a long turf also
    tries handing over just one or two doors, and a run of a whole turf merges it.
    Each candidate is returned as (the turfs it replaces, receiver first; the new
    turfs), estimated roughly: the caller routes and times them before judging.
    """
    door_s = config.walk.door_s
    short = turfs[bad][1] < mean
    pairs = (
        [(d, bad) for d in near[:_PARTNERS]]
        if short
        else [(bad, r) for r in near[:_PARTNERS]]
    )
    out: list[tuple[list[int], list[Turf]]] = []
    for d, r in pairs:
        dm, dt, dn = turfs[d]
        rm, rt, rn = turfs[r]
        if d == r or has_legs(dm, dn):
            continue
        want = (
            (mean - rt - 2 * drive_s(index, rn, dn, config, dm)) if short else dt - mean
        )
        if want <= 0:
            continue
        s = np.ceil(TurfCosts.build(index, dm, dn, config).seconds - 1e-9)
        n = len(dm)
        for seq in (np.arange(n), np.arange(n)[::-1]):  # from either end of the loop
            pos = seq + 1
            path = np.concatenate([[s[0, pos[0]]], s[pos[:-1], pos[1:]]]).cumsum()
            loop = path + s[pos, 0] + door_s * np.arange(1, n + 1)
            k = int(np.argmin(np.abs(loop - want))) + 1
            sizes = {k - 1, k, k + 1} | (set() if short else {1, 2})
            for kk in sorted(x for x in sizes if 1 <= x <= n):
                run = dm.iloc[seq[:kk]]
                stop = _car_stop(
                    index, run, list(dict.fromkeys([dn, *car_nodes(run)])), config
                )
                moved = run.assign(**{schema.CAR_STOP: stop})
                rest = dm.iloc[np.sort(seq[kk:])]
                new: list[Turf] = [(pd.concat([rm, moved]), rt, rn)]
                if len(rest):
                    new.append((rest, dt, dn))
                out.append(([r, d], new))
    return out
