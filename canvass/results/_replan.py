"""Re-planning by the value of the next knock (docs/replan.md).

A door's value for the next shift is, summed over the people there still to reach,
the chance that someone answers at this knock times the effect of a contact for that
person (the ``[lift]`` curve). The chance of an answer is household-level and
beta-binomial: each door's chance of being home at a knock is drawn from a
Beta(a, b) over the town's households, so after ``n`` knocks of which ``h`` were
answered it is ``(a + h) / (a + b + n)``. A household that was out twice is likely
out often, so the chance falls with each not-home; one that answered (a "come back",
a housemate spoken to) is likely in. ``a`` and ``b`` come from the chance of an
answer at the 1st, 2nd, 3rd ... knock of doors never answered before: the priors
``lift.contact_rate`` and ``campaign.repeat_contact_rates``, each shrunk towards
the campaign's own rate as its results come in (``(answered + w x prior) /
(knocks + w)``, ``w = campaign.prior_weight``); under the beta model the rate at
knock k is ``a / (a + b + k - 1)``, which is fitted to them.

A not-home in another time slot than the next shift's counts only
``campaign.other_slot_weight`` of a not-home in the same slot (households out on
weekday evenings may be in on Saturdays), so doors not yet tried in the slot are
preferred. Doors knocked ``campaign.max_attempts`` times are left out
(``attempt_cap``), as are doors whose people asked to come back and were recorded
in this very slot on this day (``output.date``; ``come_back_later``) and doors
whose next knock is worth under ``campaign.min_value_share`` of the median door's
(``low_value``). :func:`keep_turf_ids` names each new turf after the previous
run's turf most of its doors were in, so a volunteer can go back to the same turf.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import schema
from ..config import PlanConfig
from ..target import lift_curve
from . import _db as db
from ._spare import reserve_order

__all__ = [
    "ANSWERED",
    "P_CONTACT",
    "ContactModel",
    "door_visits",
    "fit_contact_model",
    "keep_turf_ids",
    "next_knock",
    "previous_turfs",
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
_KAPPA_GRID: Final = np.geomspace(0.2, 2000.0, 400)
_TURF_NO = re.compile(r"^(.*?)(\d+)$")


def read_attempts(config: PlanConfig) -> pd.DataFrame:
    """Return the recorded attempts: ``voter_id``, ``door_id``, ``result``, time."""
    engine = db.open_db(config)
    e = db.events.c
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(e.voter_id, e.door_id, e.result, e.contacted_at)
            ).all()
    finally:
        engine.dispose()
    return pd.DataFrame(rows, columns=["voter_id", "door_id", "result", "contacted_at"])


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
        ``come_back``, ``slot`` and ``k`` (the door's knock number, from 1),
        in time order per door.
    """
    cols = ["door_id", "contacted_at", "answered", "silent", "come_back", "slot", "k"]
    if events.empty:
        return pd.DataFrame(columns=cols)
    ev = events.assign(
        answered=events["result"].isin(ANSWERED),
        silent=events["result"].isin(_SILENT),
        come_back=events["result"].eq("COME_BACK"),
    )
    visits = (
        ev.groupby(["door_id", "contacted_at"], sort=True)
        .agg(
            answered=("answered", "any"),
            silent=("silent", "all"),
            come_back=("come_back", "any"),
        )
        .reset_index()
    )
    visits["slot"] = slot_of(visits["contacted_at"], evening_hour).to_numpy()
    visits["k"] = visits.groupby("door_id").cumcount() + 1
    return visits[cols]


@dataclass(frozen=True)
class ContactModel:
    """
    The chance that someone answers a knock, fitted to the campaign's results.

    Parameters
    ----------
    a, b
        Beta(a, b) of a household's chance of being home at a knock.
    rates
        Shrunk chance of an answer at knock 1, 2, ... of doors never answered.
    knocks, answered
        The campaign's own counts behind each rate.
    learnt
        The campaign's first knocks outweigh the prior (knocks >= prior weight).
    """

    a: float
    b: float
    rates: tuple[float, ...]
    knocks: tuple[int, ...]
    answered: tuple[int, ...]
    learnt: bool

    def p_home(
        self, answered: np.ndarray, misses: np.ndarray
    ) -> np.ndarray:  # (a + h) / (a + b + n)
        """Return the chance of an answer after `answered` answers and `misses`."""
        return np.asarray((self.a + answered) / (self.a + self.b + answered + misses))


def fit_contact_model(visits: pd.DataFrame, config: PlanConfig) -> ContactModel:
    """
    Estimate the beta-binomial contact model from the knocks recorded so far.

    Parameters
    ----------
    visits
        Knocks (:func:`door_visits`).
    config
        ``lift.contact_rate`` (1st knock) and ``campaign.repeat_contact_rates``
        (later knocks) are the priors; ``campaign.prior_weight`` their weight.

    Returns
    -------
    model
        The fitted model.
    """
    cp = config.campaign
    priors = [config.lift.contact_rate, *cp.repeat_contact_rates]
    v = visits[~visits["silent"].astype(bool)] if len(visits) else visits
    n_k: list[int] = []
    x_k: list[int] = []
    if len(v):
        # a door's knocks up to (and with) its first answer
        before = v.groupby("door_id")["answered"].transform(
            lambda s: s.astype(int).cumsum().shift(fill_value=0)
        )
        fresh = v[before.to_numpy() == 0]
        k = fresh.groupby("door_id").cumcount().to_numpy() + 1
        for i in range(1, max(len(priors), int(k.max(initial=0))) + 1):
            at = fresh["answered"].to_numpy(dtype=bool)[k == i]
            n_k.append(len(at))
            x_k.append(int(at.sum()))
    n_k += [0] * (len(priors) - len(n_k))
    x_k += [0] * (len(priors) - len(x_k))
    w = cp.prior_weight
    prior = [priors[min(i, len(priors) - 1)] for i in range(len(n_k))]
    rates = [(x + w * p) / (n + w) for x, n, p in zip(x_k, n_k, prior, strict=True)]
    weights = np.array([n + w for n in n_k], dtype=float)
    r = np.clip(np.array(rates), 1e-4, 1 - 1e-4)
    ks = np.arange(len(r), dtype=float)
    best: tuple[float, float, float] | None = None
    for kappa in _KAPPA_GRID:  # rate at knock k = a / (kappa + k - 1), a = r1 kappa
        a = float(r[0]) * kappa
        err = float(np.sum(weights * (r - a / (kappa + ks)) ** 2))
        if best is None or err < best[0]:
            best = (err, a, kappa)
    assert best is not None
    _, a, kappa = best
    return ContactModel(
        a=a,
        b=kappa - a,
        rates=tuple(round(x, 4) for x in rates),
        knocks=tuple(n_k),
        answered=tuple(x_k),
        learnt=bool(n_k[0] >= w),
    )


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
    model = fit_contact_model(visits, config)
    v = visits[~visits["silent"].astype(bool)]
    same = (
        v["slot"].map(lambda s: _same_slot(str(s), cp.next_slot)).to_numpy(dtype=bool)
    )
    miss = ~v["answered"].to_numpy(dtype=bool)
    w_miss = np.where(same, 1.0, cp.other_slot_weight) * miss
    per_door = (
        pd.DataFrame(
            {
                "door_id": v["door_id"].to_numpy(),
                "h": v["answered"].to_numpy(dtype=float),
                "m": w_miss,
            }
        )
        .groupby("door_id")[["h", "m"]]
        .sum()
    )
    knocks = visits.groupby("door_id").size()
    doors = door_of.fillna("").to_numpy(dtype=str)
    h = per_door["h"].reindex(doors).fillna(0.0).to_numpy()
    m = per_door["m"].reindex(doors).fillna(0.0).to_numpy()
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
    come_back = _come_back_here(visits, cp.next_slot, config.output.date)
    later = (target_doors & come_back) - capped
    left_cut = target_doors - capped - later
    vals = value.reindex(sorted(left_cut)).fillna(0.0)
    positive = vals.to_numpy()[vals.to_numpy() > 0]
    median = float(np.median(positive)) if len(positive) else 0.0
    low = set(vals.index[vals.to_numpy() < cp.min_value_share * median])
    last = visits.groupby("door_id").tail(1)
    last_same = set(
        last.loc[
            last["slot"].map(lambda x: _same_slot(str(x), cp.next_slot)).astype(bool),
            "door_id",
        ].astype(str)
    )
    low_order, cap_order = reserve_order(low, capped, value, knocks, last_same, config)
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
            rows.append((d, reason, round(float(value.get(d, 0.0)), 6), detail))
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


def _same_slot(slot: str, next_slot: str) -> bool:
    """Whether a knock in `slot` tried the next shift's slot (dates alone: the day)."""
    if not next_slot or not slot:
        return True
    return slot == next_slot or next_slot.startswith(slot + "_")


def _come_back_here(visits: pd.DataFrame, next_slot: str, date: str) -> set[str]:
    """Doors whose last knock was a "come back" in the next shift's slot and day."""
    if not date or visits.empty:
        return set()
    last = visits.groupby("door_id").tail(1)
    hit = last[last["come_back"].astype(bool)]
    day = hit["contacted_at"].astype(str).str.slice(0, 10) == date
    slot = hit["slot"].map(lambda s: _same_slot(str(s), next_slot)).astype(bool)
    return set(hit.loc[day & slot, "door_id"].astype(str))


def previous_turfs(config: PlanConfig) -> pd.Series:
    """Return door -> turf id of the latest run recorded in the campaign database."""
    engine = db.open_db(config)
    r, s, t = db.runs.c, db.stops.c, db.routes.c
    try:
        with engine.connect() as conn:
            last = conn.execute(
                sa.select(r.run_id).order_by(r.created_at.desc(), r.run_id.desc())
            ).first()
            if last is None:
                return pd.Series(dtype=object)
            rows = conn.execute(
                sa.select(s.door_id, t.turf_id)
                .join(
                    db.routes,
                    sa.and_(t.run_id == s.run_id, t.route_id == s.route_id),
                )
                .where(s.run_id == last[0])
            ).all()
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows, columns=["door_id", "turf_id"])
    return frame.drop_duplicates("door_id").set_index("door_id")["turf_id"]


def keep_turf_ids(
    doors: pd.DataFrame, turfs: pd.DataFrame, previous: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """
    Name each turf after the previous run's turf most of its doors were in.

    The cut itself is not changed: only the names, so that "turf 3A-T04" is the
    same neighbourhood from one shift to the next where the doors allow (greedy
    by the number of shared doors; each old name is given once; a turf sharing
    no doors keeps its name, or takes the next free number).

    Parameters
    ----------
    doors
        Doors with ``turf_id`` (:func:`canvass.turf.cut_turfs`).
    turfs
        The turf table, indexed by ``turf_id``.
    previous
        Door id -> turf id of the previous run (:func:`previous_turfs`).

    Returns
    -------
    doors, turfs
        Copies with the new names.
    report
        ``turfs_renamed``, ``doors_again`` (doors in both runs) and
        ``doors_same_turf`` (of those, in a turf of the same name).
    """
    tid = doors[schema.TURF_ID].astype(str)
    in_turf = tid[tid != ""]
    old = previous.reindex(in_turf.index.astype(str)).to_numpy()
    pairs = pd.DataFrame({"new": in_turf.to_numpy(), "old": old}).dropna()
    overlap = pairs.value_counts().sort_values(ascending=False, kind="stable")
    names: dict[str, str] = {}
    used: set[str] = set()
    for key in overlap.index:
        new_id, old_id = str(key[0]), str(key[1])
        if new_id not in names and old_id not in used:
            names[new_id] = old_id
            used.add(old_id)
    taken = set(used) | set(previous.astype(str))
    for new in turfs.index.astype(str):
        if new in names:
            continue
        name = new
        while name in taken:
            hit = _TURF_NO.match(name)
            name = (
                f"{hit.group(1)}{int(hit.group(2)) + 1:0{len(hit.group(2))}d}"
                if hit
                else f"{name}-1"
            )
        names[new] = name
        taken.add(name)
    out_doors = doors.copy()
    out_doors[schema.TURF_ID] = tid.map(lambda x: names.get(x, x)).to_numpy()
    out_turfs = turfs.rename(index=names)
    again = pairs.assign(new=pairs["new"].map(names))
    report = {
        "turfs_renamed": sum(1 for k, n in names.items() if k != n),
        "doors_again": len(again),
        "doors_same_turf": int((again["new"] == again["old"]).sum()),
    }
    return out_doors, out_turfs, report
