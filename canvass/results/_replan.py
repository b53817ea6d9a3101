"""Re-planning by the value of the next knock (docs/replan.md).

A door's value for the next shift is, summed over the people there still to reach,
the chance that someone answers at this knock times the effect of a contact for that
person (the ``[lift]`` curve). The chance of an answer is household-level and
beta-binomial (:mod:`._contact`): after ``n`` knocks of which ``h`` were answered it
is ``(a + h) / (a + b + n)``, so it falls with each not-home and rises after an
answer (a "come back", a housemate spoken to); ``a`` and ``b`` are fitted to every
knock recorded, with the priors ``lift.contact_rate`` and
``campaign.repeat_contact_rates``.

A not-home in another time slot than the next shift's counts only
``campaign.other_slot_weight`` of a not-home in the same slot (households out on
weekday evenings may be in on Saturdays), or the weight the campaign's own knocks
favour once they say so clearly (:func:`canvass.results.fit_contact_model`), so
doors not yet tried in the slot are preferred. Doors knocked
``campaign.max_attempts`` times are left out (``attempt_cap``; with
``campaign.shift_volunteers`` set, such a door below the ceiling,
``CAP_CEILING_EXTRA`` more knocks, and worth a knock competes for the shift's time
instead); so are doors whose
last knock was a "come back" for another day or slot than the next shift's (the
``come_back`` time, :mod:`._comeback`) or, with no time said, recorded in this
very slot on this day (``output.date``;
``come_back_later``); and doors whose next knock is worth under
``campaign.min_value_share`` of the median door's (``low_value``). A "come back"
whose time is the next shift's is kept even at the cap (up to
``CAP_CEILING_EXTRA`` more knocks) and even of low value.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import schema
from ..config import PlanConfig
from ..target import lift_curve
from . import _db as db
from ._comeback import come_back_meets
from ._contact import fit_contact_model
from ._spare import CAP_CEILING_EXTRA, reserve_order

__all__ = [
    "ANSWERED",
    "P_CONTACT",
    "door_visits",
    "next_knock",
    "read_attempts",
    "slot_of",
]

logger = logging.getLogger(__name__)

#: Results that say someone at the door answered.
ANSWERED: Final = frozenset({"CONTACTED", "REFUSED", "COME_BACK", "LANGUAGE_BARRIER"})
#: Results that say nothing about whether anyone is home.
_SILENT: Final = frozenset({"MOVED", "DECEASED", "INACCESSIBLE", "DO_NOT_KNOCK"})
#: Voter column: P(contact) at the next knock.
P_CONTACT: Final = "p_contact"


def read_attempts(config: PlanConfig) -> pd.DataFrame:
    """Return the recorded attempts: voter, door, result, time and ``come_back``."""
    engine = db.open_db(config)
    e = db.events.c
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(e.voter_id, e.door_id, e.result, e.contacted_at, e.come_back)
            ).all()
    finally:
        engine.dispose()
    out = pd.DataFrame(
        rows, columns=["voter_id", "door_id", "result", "contacted_at", "come_back"]
    )
    out["come_back"] = out["come_back"].fillna("").astype(str)
    return out


def slot_of(stamps: pd.Series, evening_hour: int) -> pd.Series:
    """
    Return the time slot of each recorded time (``weekend_evening``, ...).

    A date without a time (paper lists, VAN) gives only ``weekday`` or ``weekend``;
    an unreadable one gives ``""``.
    """
    text = stamps.astype("string").fillna("")
    when = pd.to_datetime(text.str.slice(0, 19), errors="coerce", format="ISO8601")
    weekend = when.dt.day_of_week >= 5
    day = np.where(weekend, "weekend", "weekday")
    evening = np.where(when.dt.hour >= evening_hour, "_evening", "_day")
    timed = text.str.contains("T", regex=False).to_numpy(dtype=bool)
    out = np.where(timed, np.char.add(day.astype(str), evening.astype(str)), day)
    return pd.Series(np.where(when.isna(), "", out), index=stamps.index, dtype=object)


def door_visits(events: pd.DataFrame, evening_hour: int = 17) -> pd.DataFrame:
    """
    Group attempts into knocks: one row per door per recorded time.

    Returns
    -------
    visits
        ``door_id``, ``contacted_at``, ``answered`` (someone answered),
        ``silent`` (only results that say nothing about being home),
        ``come_back``, ``when`` (the time a "come back" asked for, ``""`` when
        not said), ``slot`` and ``k`` (the door's knock number, from 1), in time
        order per door.
    """
    cols = [
        "door_id", "contacted_at", "answered", "silent", "come_back", "when",
        "slot", "k",
    ]  # fmt: skip
    if events.empty:
        return pd.DataFrame(columns=cols)
    said = (
        events["come_back"].fillna("").astype(str)
        if "come_back" in events.columns
        else pd.Series("", index=events.index)
    )
    ev = events.assign(
        answered=events["result"].isin(ANSWERED),
        silent=events["result"].isin(_SILENT),
        come_back=events["result"].eq("COME_BACK"),
        when=said.where(events["result"].eq("COME_BACK"), ""),
    )
    visits = (
        ev.groupby(["door_id", "contacted_at"], sort=True)
        .agg(
            answered=("answered", "any"),
            silent=("silent", "all"),
            come_back=("come_back", "any"),
            when=("when", "max"),
        )
        .reset_index()
    )
    visits["slot"] = slot_of(visits["contacted_at"], evening_hour).to_numpy()
    visits["k"] = visits.groupby("door_id").cumcount() + 1
    return visits[cols]


def _effect(voters: pd.DataFrame, config: PlanConfig) -> np.ndarray:
    """Turnout effect of one contact per voter (the ``[lift]`` curve)."""
    once = dataclasses.replace(
        config, lift=dataclasses.replace(config.lift, contact_rate=1.0)
    )
    p = voters[f"p_{config.target.election_type}"].to_numpy(dtype=float)
    return lift_curve(p, once)


def next_knock(
    voters: pd.DataFrame,
    config: PlanConfig,
    events: pd.DataFrame | None = None,
    bring_back: int = 0,
    *,
    cap_competes: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """
    Value every target by the next knock at their door, and leave doors out.

    Parameters
    ----------
    voters
        Targeted voters after :func:`canvass.results.apply_history` (done voters
        are no longer targets).
    config
        ``[campaign]`` (cap, slot, priors, low-value share), ``[lift]`` and
        ``output.date`` (the next shift's day).
    events
        The recorded attempts (``voter_id``, ``door_id``, ``result``,
        ``contacted_at``); None reads them from ``campaign.db``.
    bring_back
        Doors to take back from those left out, for volunteers to spare
        (:func:`canvass.results.doors_to_fill`): ``low_value`` ones best first,
        then doors at the cap last knocked in another slot
        (:func:`canvass.results.reserve_order`).
    cap_competes
        With ``campaign.shift_volunteers`` set, doors at the cap with fewer than
        ``max_attempts +`` :data:`CAP_CEILING_EXTRA` knocks whose next knock is
        worth at least ``min_value_share`` of the median door's stay targets: they
        compete for the shift's time by value per minute
        (:func:`canvass.results.choose_doors`). False: they only come back as
        `bring_back` (the rule before; the bench's comparison).

    Returns
    -------
    voters
        Copy with ``p_contact`` and ``lift`` = p_contact x effect for targets;
        targets at doors left out are no longer targets (``attempt_cap`` also
        sets ``suppressed``: the door is finished for the campaign).
    left_out
        The doors left out (``schema.LEFT_OUT_COLUMNS``): reason ``attempt_cap``,
        ``come_back_later`` or ``low_value``, with the value the knock had.
    report
        PII-free counts: ``doors_new``, ``doors_reknock``, left out by reason,
        the contact model and the next slot.
    """
    cp = config.campaign
    if events is None:
        events = read_attempts(config)
    out = voters.copy()
    door_of = out[schema.DOOR_ID].astype("string")
    ids = out.index.astype(str)
    voter_door = pd.Series(door_of.to_numpy(), index=ids)
    ev = events[events["voter_id"].astype(str).isin(set(ids))].copy()
    # the door as the plan sees it (the walk list's when the voter is not placed)
    mapped = ev["voter_id"].astype(str).map(voter_door)
    ev["door_id"] = mapped.fillna(ev["door_id"]).astype(str)
    visits = door_visits(ev, cp.evening_hour)
    # each person's own answers and not-homes: a housemate who answered says little
    # about whether this voter's household is in (door-level where they have none)
    own = door_visits(ev.assign(door_id=ev["voter_id"].astype(str)), cp.evening_hour)
    model = fit_contact_model(own, config)
    weight = model.slot_weight  # the setting, or what the campaign's knocks say
    by_voter, by_door = _history(own, cp, weight), _history(visits, cp, weight)
    knocks = visits.groupby("door_id").size()
    doors = door_of.fillna("").to_numpy(dtype=str)
    mine = by_voter.reindex(ids)
    at_door = by_door.reindex(doors)
    h = np.nan_to_num(
        np.where(mine["h"].isna(), at_door["h"].to_numpy(), mine["h"].to_numpy())
    )
    m = np.nan_to_num(
        np.where(mine["m"].isna(), at_door["m"].to_numpy(), mine["m"].to_numpy())
    )
    n_knocks = knocks.reindex(doors).fillna(0).to_numpy(dtype=np.int64)
    p = model.p_home(h, m)
    target = out[schema.IS_TARGET].astype(bool).to_numpy()
    lift = np.where(target, p * _effect(out, config), 0.0)
    out[P_CONTACT] = np.where(target, p, 0.0)
    out[schema.LIFT] = lift
    # doors left out, in order: cap, come back later, low value
    value = pd.Series(lift, index=ids).groupby(doors).sum()
    target_doors = set(pd.Series(doors[target]).unique()) - {""}
    at_cap = knocks[knocks >= cp.max_attempts].index.astype(str)
    capped = target_doors & set(at_cap)
    come_back, due, asked = _come_back_here(visits, config)
    # a voter's "come back at this time" beats the cap, up to the hard ceiling
    ceiling = set(
        knocks[knocks >= cp.max_attempts + CAP_CEILING_EXTRA].index.astype(str)
    )
    promised = (target_doors & set(asked)) - ceiling
    due &= promised
    capped -= promised  # out of this shift only if it is not the time asked for
    later = (target_doors & come_back) - capped
    left_cut = target_doors - capped - later
    vals = value.reindex(sorted(left_cut)).fillna(0.0)
    positive = vals.to_numpy()[vals.to_numpy() > 0]
    median = float(np.median(positive)) if len(positive) else 0.0
    low = set(vals.index[vals.to_numpy() < cp.min_value_share * median]) - due
    last = visits.groupby("door_id").tail(1)
    last_same = set(
        last.loc[
            last["slot"].map(lambda x: _same_slot(str(x), cp.next_slot)).astype(bool),
            "door_id",
        ].astype(str)
    )
    low_order, cap_order = reserve_order(low, capped, value, knocks, last_same, config)
    compete: set[str] = set()
    if cap_competes and cp.shift_volunteers > 0:
        # the shift's volunteers known: a door at the cap, below the ceiling and
        # worth a knock, competes with the others for their time (choose_doors)
        # instead of waiting for room; its value already counts a repeat in the
        # slot tried before as a full not-home, another slot's as less
        bar = cp.min_value_share * median
        compete = {d for d in capped - ceiling if float(value.get(d, 0.0)) >= bar}
        capped -= compete
        cap_order = [d for d in cap_order if d not in compete]
    take = max(0, bring_back)
    low_back = set(low_order[:take])
    cap_back = set(cap_order[: max(0, take - len(low_back))])
    low -= low_back
    capped -= cap_back
    rows = []
    for reason, group, detail in (
        ("attempt_cap", capped, f"knocked {cp.max_attempts} times already"),
        ("come_back_later", later, "asked to come back: not in this slot today"),
        (
            "low_value",
            low,
            f"next knock worth under {cp.min_value_share:.0%} of the median door's",
        ),
    ):
        for d in sorted(group):
            why = f"asked to come back {asked[d]}" if d in asked else detail
            if reason != "come_back_later":
                why = detail
            rows.append((d, reason, round(float(value.get(d, 0.0)), 6), why))
    left = pd.DataFrame(rows, columns=list(schema.LEFT_OUT_COLUMNS))
    gone = np.isin(doors, list(capped | later | low)) & target
    free = out[schema.SUPPRESSED].astype("string").fillna("").eq("").to_numpy()
    cap_hit = np.isin(doors, list(capped)) & target & free
    out[schema.SUPPRESSED] = np.where(cap_hit, "attempt_cap", out[schema.SUPPRESSED])
    out[schema.IS_TARGET] = target & ~gone
    out[schema.LIFT] = np.where(gone, 0.0, lift)
    out[P_CONTACT] = np.where(gone, 0.0, out[P_CONTACT])
    kept = target_doors - capped - later - low
    reknock = {d for d in kept if knocks.get(d, 0) > 0}
    report = {
        "next_slot": cp.next_slot or "any",
        "doors_new": len(kept - reknock),
        "doors_reknock": len(reknock),
        "come_back_due": len(due & kept),
        "cap_compete": len(compete),
        "left_out": {
            "attempt_cap": len(capped),
            "come_back_later": len(later),
            "low_value": len(low),
        },
        "contact_model": {
            "rates_by_knock": list(model.rates),
            "knocks": list(model.knocks),
            "answered": list(model.answered),
            "beta_a": round(model.a, 4),
            "beta_b": round(model.b, 4),
            "learnt": model.learnt,
            "other_slot_weight": model.slot_weight,
        },
        "max_knocks_so_far": int(n_knocks.max(initial=0)),
        "reserve": {"low_value": len(low_order), "attempt_cap": len(cap_order)},
        "brought_back": {"low_value": len(low_back), "attempt_cap": len(cap_back)},
    }
    logger.info(
        "Next knock (slot %s): %s new doors, %s re-knocks; left out %s at the cap, "
        "%s to come back later, %s of low value; P(answer) by knock %s%s",
        report["next_slot"],
        f"{report['doors_new']:,}",
        f"{report['doors_reknock']:,}",
        f"{len(capped):,}",
        f"{len(later):,}",
        f"{len(low):,}",
        "/".join(f"{r:.0%}" for r in model.rates[:4]),
        " (learnt)" if model.learnt else " (prior)",
    )
    if low_back or cap_back:
        logger.info(
            "Volunteers to spare: brought back %s doors of low value and %s at the "
            "attempt cap",
            f"{len(low_back):,}",
            f"{len(cap_back):,}",
        )
    return out, left, report


def _history(visits: pd.DataFrame, cp: Any, other_slot_weight: float) -> pd.DataFrame:
    """Answers ``h`` and not-homes ``m`` (another slot's weighted) per ``door_id``."""
    v = visits[~visits["silent"].astype(bool)]
    same = (
        v["slot"].map(lambda s: _same_slot(str(s), cp.next_slot)).to_numpy(dtype=bool)
    )
    miss = ~v["answered"].to_numpy(dtype=bool)
    return (
        pd.DataFrame(
            {
                "door_id": v["door_id"].astype(str).to_numpy(),
                "h": v["answered"].to_numpy(dtype=float),
                "m": np.where(same, 1.0, other_slot_weight) * miss,
            }
        )
        .groupby("door_id")[["h", "m"]]
        .sum()
    )


def _same_slot(slot: str, next_slot: str) -> bool:
    """Whether a knock in `slot` tried the next shift's slot (dates alone: the day)."""
    if not next_slot or not slot:
        return True
    return slot == next_slot or next_slot.startswith(slot + "_")


def _come_back_here(
    visits: pd.DataFrame, config: PlanConfig
) -> tuple[set[str], set[str], dict[str, str]]:
    """
    Doors whose last knock was a "come back", against the next shift.

    Returns the doors to leave out of it (asked for another day or slot, or, when
    the time was not said, recorded in this very slot on this day), the doors it
    is the time asked for (``due``), and door -> the time asked for.
    """
    cp, date = config.campaign, config.output.date
    if visits.empty:
        return set(), set(), {}
    last = visits.groupby("door_id").tail(1)
    hit = last[last["come_back"].astype(bool)]
    when = hit["when"].fillna("").astype(str)
    doors = hit["door_id"].astype(str)
    said = when != ""
    meets = when.map(
        lambda w: come_back_meets(w, date, cp.next_slot, cp.evening_hour)
    ).astype(bool)
    day = hit["contacted_at"].astype(str).str.slice(0, 10) == date
    slot = hit["slot"].map(lambda s: _same_slot(str(s), cp.next_slot)).astype(bool)
    later = set(doors[said & ~meets]) | (
        set(doors[~said & day & slot]) if date else set()
    )
    due = set(doors[said & meets])
    return later, due, dict(zip(doors[said], when[said], strict=True))
