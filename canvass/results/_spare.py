"""Volunteers to spare: bring back doors left out when the shift has time for them.

The re-planner (:func:`canvass.results.next_knock`) leaves doors out before the cut:
those at the attempt cap and those of low value. That is right while there are more
doors worth knocking than volunteer time, and wrong when there are fewer: volunteers
then go home early while doors that are still worth something wait. With
``campaign.shift_volunteers`` set, :func:`doors_to_fill` measures the work the cut
turfs hold against the shift (``shift_volunteers x turf.shift_s``), and
:func:`next_knock` (its ``bring_back`` argument) takes that many doors back from the
reserve :func:`reserve_order` gives: ``low_value`` doors best value first, then
doors at the cap whose last knock was in another slot than the next shift's, best
value first, each at most :data:`CAP_CEILING_EXTRA` knocks past
``campaign.max_attempts``. Done doors, do-not-knock and "come back" doors in the
same slot are never in the reserve (docs/replan.md, "Volunteers to spare").
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

from .. import schema
from ..config import PlanConfig

__all__ = ["CAP_CEILING_EXTRA", "doors_to_fill", "reserve_order", "spare_report"]

#: A door at the cap comes back at most this many knocks past ``max_attempts``.
CAP_CEILING_EXTRA: Final = 2


def reserve_order(
    low: set[str],
    capped: set[str],
    value: pd.Series,
    knocks: pd.Series,
    last_same_slot: set[str],
    config: PlanConfig,
) -> tuple[list[str], list[str]]:
    """
    Return the doors that may come back, in the order they come back.

    Parameters
    ----------
    low, capped
        Doors left out for ``low_value`` and ``attempt_cap``.
    value
        Door -> value of its next knock.
    knocks
        Door -> knocks so far.
    last_same_slot
        Doors whose last knock was in the next shift's slot (or whose slot is
        unknown): not brought back past the cap.
    config
        ``campaign.max_attempts`` and ``campaign.next_slot``.

    Returns
    -------
    low_back, cap_back
        ``low_value`` doors with a positive value, best first; then doors at the
        cap, knocked in another slot last and fewer than ``max_attempts +``
        :data:`CAP_CEILING_EXTRA` times, best first (ties by door id).
    """
    ceiling = config.campaign.max_attempts + CAP_CEILING_EXTRA

    def best_first(doors: set[str]) -> list[str]:
        vals = value.reindex(sorted(doors)).fillna(0.0)
        vals = vals[vals > 0]
        return list(vals.sort_values(ascending=False, kind="stable").index.astype(str))

    cap_ok = {
        d for d in capped if d not in last_same_slot and int(knocks.get(d, 0)) < ceiling
    }
    if not config.campaign.next_slot:
        cap_ok = set()  # the next slot unknown: no door is "in another slot"
    return best_first(low), best_first(cap_ok)


def doors_to_fill(turfs: pd.DataFrame, config: PlanConfig) -> int:
    """
    Return how many more doors the next shift's volunteers have time for.

    The turfs' work (``est_s``, walking and doors) is set against the shift,
    ``campaign.shift_volunteers x turf.shift_s``; the time a door takes is the
    turfs' own (their work / their doors). 0 when ``shift_volunteers`` is 0
    (unknown) or the turfs already fill the shift.
    """
    want = config.campaign.shift_volunteers * config.turf.shift_s
    work = float(turfs[schema.EST_S].sum()) if len(turfs) else 0.0
    if want <= 0 or work >= want:
        return 0
    n = int(turfs[schema.N_DOORS].sum()) if len(turfs) else 0
    per_door = work / n if n and work > 0 else float(config.walk.door_s)
    return math.ceil((want - work) / max(per_door, 1.0))


def spare_report(
    turfs: pd.DataFrame, config: PlanConfig, asked: int, replan: dict[str, Any]
) -> dict[str, Any]:
    """
    PII-free account of the volunteers' time against the plan.

    Parameters
    ----------
    turfs
        The turfs as cut (after any doors brought back).
    config
        ``campaign.shift_volunteers`` and ``turf.shift_s``.
    asked
        Doors the first cut had room for (:func:`doors_to_fill`).
    replan
        The report of :func:`canvass.results.next_knock` (``brought_back``).

    Returns
    -------
    report
        ``shift_volunteers``, ``work_h`` (the turfs' work), ``room_doors`` (doors
        the first cut had room for), ``brought_back`` by reason and
        ``idle_shifts``: volunteer shifts the turfs still leave empty (nothing
        left worth a knock).
    """
    cp = config.campaign
    work = float(turfs[schema.EST_S].sum()) if len(turfs) else 0.0
    idle = max(0.0, cp.shift_volunteers * config.turf.shift_s - work)
    return {
        "shift_volunteers": cp.shift_volunteers,
        "work_h": round(work / 3600, 2),
        "room_doors": asked,
        "brought_back": dict(replan.get("brought_back", {})),
        "idle_shifts": round(idle / config.turf.shift_s, 1),
    }
