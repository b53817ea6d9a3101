"""Demo town house lots: numbered doors along the streets (private).

Used by :mod:`canvass.demo`. Works in the local metres of :mod:`canvass.demo._streets`.
Each street gets doors on both sides, odd numbers on the left of the street's
direction and even on the right, numbered by distance from the street's start the
way assessors number new streets, with the spacing, setbacks and clearances of an
older New England residential neighbourhood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry import Point

from ._streets import Town

__all__ = ["Lot", "build_lots"]

_CLEAR_M = 20.0  # no door this close (along the street) to a junction
_MIN_OTHER_STREET_M = 10.0  # no door this close to another street's centreline
_MIN_DOOR_GAP_M = 10.0  # nor this close to another street's door (corner lots)
_SQUEEZED = 0.01  # share of houses squeezed in later, numbered "12 1/2" or "12A"


@dataclass(frozen=True)
class Lot:
    """One house lot: a door point set back from its street, with its number."""

    street: str
    number: int
    side: str  # "L" (odd numbers) or "R" (even numbers) of the street direction
    x: float
    y: float
    highway: str
    suffix: str = ""  # house-number suffix: "1/2" or "A" for a house squeezed in

    @property
    def label(self) -> str:
        """Return the house number as an address layer writes it ("12", "12 1/2")."""
        if not self.suffix:
            return str(self.number)
        sep = " " if "/" in self.suffix else ""
        return f"{self.number}{sep}{self.suffix}"


def build_lots(town: Town, seed: int) -> list[Lot]:
    """
    Place house lots along every street, odd numbers on the left, even on the right.

    Doors stand 8-15 m from the centreline, 14-26 m apart (25-40 m on the primary
    road), never within 20 m of a junction, never within 10 m of another street or of
    another street's door. House numbers grow along the street's direction:
    ``number = 2 * floor(s / 12) + (1 | 2)`` for a door at distance ``s`` metres from
    the street's start, so numbers on one side never repeat; about 1 % of the houses
    were "squeezed in" and carry the previous house's number with a suffix
    (``12 1/2`` or ``12A``).

    Parameters
    ----------
    town
        The town from :func:`canvass.demo._streets.build_town`.
    seed
        Random seed.

    Returns
    -------
    lots
        Every lot, street by street in town order, then by side and distance.
    """
    rng = np.random.default_rng([seed, 202])
    squeeze = np.random.default_rng([seed, 203])
    streets_at: dict[int, int] = {}  # a junction is a node shared by streets
    for st in town.streets:
        for n in set(st.nodes):
            streets_at[n] = streets_at.get(n, 0) + 1
    lines = [town.line(s) for s in town.streets]
    tree = shapely.STRtree(lines)
    # doors placed so far, hashed by 10 m cell, to keep other streets' doors apart
    placed: dict[tuple[int, int], list[tuple[float, float, int]]] = {}
    lots: list[Lot] = []
    for si, street in enumerate(town.streets):
        line = lines[si]
        length = line.length
        stations = [line.project(Point(town.xy[n])) for n in street.nodes]
        junctions = [
            st
            for n, st in zip(street.nodes, stations, strict=True)
            if streets_at[n] > 1
        ]
        lo_step, hi_step = (25.0, 40.0) if street.highway == "primary" else (14.0, 26.0)
        for side, sign in (("L", 1.0), ("R", -1.0)):
            s = rng.uniform(4.0, 12.0)
            previous: Lot | None = None
            while s < length - 4.0:
                if any(abs(s - j) < _CLEAR_M for j in junctions):
                    s += rng.uniform(lo_step, hi_step)
                    continue
                here = line.interpolate(s)
                ahead = line.interpolate(min(s + 1.0, length))
                behind = line.interpolate(max(s - 1.0, 0.0))
                dx, dy = ahead.x - behind.x, ahead.y - behind.y
                norm = math.hypot(dx, dy)
                setback = rng.uniform(8.0, 15.0)
                x = here.x - sign * dy / norm * setback
                y = here.y + sign * dx / norm * setback
                if _fits(x, y, si, tree, placed):
                    number = 2 * int(s // 12.0) + (1 if side == "L" else 2)
                    lot = Lot(street.name, number, side, x, y, street.highway)
                    if (
                        previous is not None
                        and not previous.suffix
                        and squeeze.random() < _SQUEEZED
                    ):
                        # a house squeezed in later takes the previous number: "12 1/2"
                        suffix = "1/2" if squeeze.random() < 0.6 else "A"
                        lot = replace(lot, number=previous.number, suffix=suffix)
                    lots.append(lot)
                    previous = lot
                    cell = (int(x // _MIN_DOOR_GAP_M), int(y // _MIN_DOOR_GAP_M))
                    placed.setdefault(cell, []).append((x, y, si))
                s += rng.uniform(lo_step, hi_step)
    return lots


def _fits(
    x: float,
    y: float,
    street: int,
    tree: shapely.STRtree,
    placed: dict[tuple[int, int], list[tuple[float, float, int]]],
) -> bool:
    """Check that a door is clear of other streets and of other streets' doors."""
    pt = Point(x, y)
    near = tree.query(pt, predicate="dwithin", distance=_MIN_OTHER_STREET_M)
    if any(int(k) != street for k in near):
        return False
    cx, cy = int(x // _MIN_DOOR_GAP_M), int(y // _MIN_DOOR_GAP_M)
    for i in (cx - 1, cx, cx + 1):
        for j in (cy - 1, cy, cy + 1):
            for px, py, ps in placed.get((i, j), ()):
                if ps != street and (px - x) ** 2 + (py - y) ** 2 < _MIN_DOOR_GAP_M**2:
                    return False
    return True
