"""Load stage: type the elections of a vote history by date rules and evidence.

A file's labels say little on their own: Ohio calls every election ``PRIMARY`` or
``GENERAL`` (a May state primary, a September local levy and a special election for
one township all read ``PRIMARY``). :func:`typed_calendar` types each election once,
from the whole history, in this order:

1. ``[elections]`` override (``typed_by = "override"``);
2. a label that says ``SPECIAL`` (or recall, referendum) stays special (``label``);
3. **November general**: the Tuesday after the first Monday in November is the
   presidential election in years divisible by 4, the state election in other even
   years, a municipal election in odd years (a state election in the odd-year
   governor states VA, NJ, KY, MS, LA). A "general" on any other date is special
   (``date``);
4. **primary calendar** (:data:`PRIMARY_CALENDAR`, one entry per state): a primary
   on a listed presidential-primary date is ``presidential_primary`` (also the
   combined primaries of NC and OH), on a state-primary date ``state_primary``, on
   an odd-year local primary date ``municipal``; in a year the table covers, a
   primary on no listed date is special (``date``);
5. otherwise the label's type stands (``label``), and where the state is not in the
   table only the highest-turnout primary of each kind per year stays a statewide
   primary (runoffs and second primaries become special);
6. **coverage veto**: a statewide type (state or presidential primary or election)
   is special when voters of fewer than ``min_coverage`` (default half) as many
   precincts voted in it as in the best-covered election (``coverage``).

*Coverage* is the share of precincts (of at least 20 voters; the ZIP code when the
file has no precinct) where at least 1 % of today's voters voted. With fewer than
three such units it is unknown and nothing is vetoed.

The date rules and the primary table are in :mod:`canvass.load._primaries`
(extend it there for another state).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from .. import schema
from ._primaries import (
    PRIMARY_CALENDAR,
    Kinds,
    PrimaryCalendar,
    general_day,
    primary_dates,
)

__all__ = [
    "ODD_YEAR_GOVERNOR",
    "PRIMARY_CALENDAR",
    "PrimaryCalendar",
    "calendar_rows",
    "general_day",
    "primary_dates",
    "type_elections",
    "typed_calendar",
]

logger = logging.getLogger(__name__)

#: States electing their governor in odd years: their odd-year November general is
#: a state election.
ODD_YEAR_GOVERNOR: Final = frozenset({"VA", "NJ", "KY", "MS", "LA"})
STATEWIDE: Final = frozenset(
    {
        schema.STATE_PRIMARY,
        schema.PRESIDENTIAL_PRIMARY,
        schema.STATE_ELECTION,
        schema.PRESIDENTIAL_ELECTION,
    }
)
_PRIMARIES: Final = (schema.STATE_PRIMARY, schema.PRESIDENTIAL_PRIMARY)
_GENERALS: Final = (schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION)
#: Coverage: units (precincts) of at least this many voters count ...
MIN_UNIT_VOTERS: Final = 20
#: ... and a unit is covered when at least this share of its voters voted.
MIN_UNIT_SHARE: Final = 0.01


def _kind_on(day: dt.date, dates: Kinds) -> str:
    for kind in (
        schema.SPECIAL,
        schema.PRESIDENTIAL_PRIMARY,
        schema.STATE_PRIMARY,
        schema.MUNICIPAL,
    ):
        if day in dates.get(kind, frozenset()):
            return kind
    return ""


def _type_one(day: dt.date, file_type: str, state: str) -> tuple[str, str, str]:
    """Type, typed_by and the reason in words for one election (rules 2-5)."""
    year = day.year
    if file_type == schema.SPECIAL:
        return schema.SPECIAL, "label", "the file's label says special"
    if day == general_day(year) and (
        file_type in _GENERALS or (file_type == schema.MUNICIPAL and year % 2)
    ):
        if year % 4 == 0:
            etype = schema.PRESIDENTIAL_ELECTION
        elif year % 2 == 0 or state in ODD_YEAR_GOVERNOR:
            etype = schema.STATE_ELECTION
        else:
            etype = schema.MUNICIPAL
        return etype, "date", "November general election day"
    if file_type in _GENERALS and state != "LA":
        return schema.SPECIAL, "date", "a general on another day than election day"
    dates = primary_dates(state, year)
    if dates is not None and file_type != schema.SPECIAL:
        kind = _kind_on(day, dates)
        if kind and (file_type in _PRIMARIES or file_type == schema.MUNICIPAL):
            words = {
                schema.PRESIDENTIAL_PRIMARY: "presidential primary date",
                schema.STATE_PRIMARY: "state primary date",
                schema.MUNICIPAL: "local primary date",
                schema.SPECIAL: "statewide date of no regular primary",
            }[kind]
            return kind, "date", f"{state} {words}"
        if file_type in _PRIMARIES:
            return schema.SPECIAL, "date", f"not a {state} statewide primary date"
    return file_type, "label", "the file's label"


def type_elections(
    table: pd.DataFrame,
    *,
    state: str = "",
    overrides: Mapping[str, str] | None = None,
    min_coverage: float = 0.5,
    warn: bool = True,
) -> pd.DataFrame:
    """
    Type elections from their date, the file's label type and precinct coverage.

    Parameters
    ----------
    table
        Index ``election_id``; ``election_date``, ``file_type`` (the type the
        label gave), ``votes`` and ``rel_coverage`` (NaN when unknown).
    state
        Two-letter state code (date rules; empty = label and coverage only).
    overrides
        ``[elections]``: election id or ISO date -> type.
    min_coverage
        Statewide types with a relative coverage below this become special.
    warn
        Log a warning for each election the coverage veto retypes.

    Returns
    -------
    table
        A copy with ``election_type``, ``typed_by`` (``override``, ``date``,
        ``label``, ``coverage``) and ``why`` (the rule in words).
    """
    state = state.upper()
    out = table.copy()
    days = pd.to_datetime(out[schema.ELECTION_DATE]).dt.date
    typed = [
        _type_one(d, str(t), state)
        for d, t in zip(days, out["file_type"].astype(str), strict=True)
    ]
    out[schema.ELECTION_TYPE] = [t[0] for t in typed]
    out["typed_by"] = [t[1] for t in typed]
    out["why"] = [t[2] for t in typed]
    if state not in PRIMARY_CALENDAR:  # one regular primary of each kind a year
        prim = out[out[schema.ELECTION_TYPE].isin(_PRIMARIES)]
        years = pd.to_datetime(prim[schema.ELECTION_DATE]).dt.year
        best = prim.assign(_y=years).sort_values("votes", ascending=False)
        first = best.drop_duplicates(["_y", schema.ELECTION_TYPE]).index
        second = prim.index.difference(first)
        out.loc[second, schema.ELECTION_TYPE] = schema.SPECIAL
        out.loc[second, "typed_by"] = "label"
        out.loc[second, "why"] = "a second primary of the same year (fewer votes)"
    cov = pd.to_numeric(out["rel_coverage"], errors="coerce")
    veto = out[schema.ELECTION_TYPE].isin(STATEWIDE) & (cov < min_coverage)
    for eid in out.index[veto] if warn else []:
        logger.warning(
            "Election %s looks %s by its date and label, but voters of only %.0f %% "
            "as many precincts voted in it as in the best-covered election: typed "
            "special. Set its type under [elections] if that is wrong.",
            eid,
            out.at[eid, schema.ELECTION_TYPE],
            100 * float(cov[eid]),
        )
    out.loc[veto, schema.ELECTION_TYPE] = schema.SPECIAL
    out.loc[veto, "typed_by"] = "coverage"
    out.loc[veto, "why"] = [
        f"only {c:.0%} of the best precinct coverage" for c in cov[veto]
    ]
    iso = pd.to_datetime(out[schema.ELECTION_DATE]).dt.strftime("%Y-%m-%d")
    for key, etype in (overrides or {}).items():
        hit = (out.index == key) | (iso == key).to_numpy()
        out.loc[hit, schema.ELECTION_TYPE] = etype
        out.loc[hit, "typed_by"] = "override"
        out.loc[hit, "why"] = f"[elections] {key} = {etype}"
    return out


def _units(voters: pd.DataFrame) -> np.ndarray | None:
    """Precinct (else ZIP) code per voter, or None when neither is known."""
    for col in (schema.PRECINCT_ID, schema.ZIP5):
        if col in voters:
            vals = voters[col].astype("string").fillna("").str.strip()
            if (vals != "").any():
                codes, _ = pd.factorize(vals.mask(vals == ""))
                return np.asarray(codes)
    return None


def election_evidence(
    history: pd.DataFrame, voters: pd.DataFrame | None, ids: pd.Index
) -> pd.DataFrame:
    """
    Votes, turnout and precinct coverage of each election.

    Returns
    -------
    evidence
        Index `ids`: ``votes``, ``turnout`` (votes over today's voters, NaN without
        voters), ``coverage`` (share of covered precincts) and ``rel_coverage``
        (coverage over the best election's; NaN with fewer than 3 precincts).
    """
    eid = pd.Categorical(history[schema.ELECTION_ID].astype(str), categories=ids)
    codes = np.asarray(eid.codes, dtype=np.int64)
    votes = np.bincount(codes[codes >= 0], minlength=len(ids)).astype(float)
    out = pd.DataFrame({"votes": votes.astype(int)}, index=ids)
    out["turnout"] = np.nan
    out["coverage"] = np.nan
    out["rel_coverage"] = np.nan
    if voters is None or not len(voters):
        return out
    out["turnout"] = votes / len(voters)
    units = _units(voters)
    if units is None:
        return out
    size = np.bincount(units[units >= 0], minlength=int(units.max(initial=-1)) + 1)
    big = size >= MIN_UNIT_VOTERS
    if int(big.sum()) < 3:
        return out
    rows = voters.index.get_indexer(pd.Index(history[schema.VOTER_ID].astype(str)))
    ok = (rows >= 0) & (codes >= 0)
    unit = units[rows[ok]]
    ok_unit = unit >= 0
    n_units = len(size)
    grid = np.bincount(
        codes[ok][ok_unit] * n_units + unit[ok_unit], minlength=len(ids) * n_units
    ).reshape(len(ids), n_units)
    covered = (grid[:, big] / size[big][None, :]) >= MIN_UNIT_SHARE
    cov = covered.mean(axis=1)
    out["coverage"] = cov
    best = float(cov.max(initial=0.0))
    if best > 0:
        out["rel_coverage"] = cov / best
    return out


def typed_calendar(
    history: pd.DataFrame,
    voters: pd.DataFrame | None = None,
    *,
    state: str = "",
    overrides: Mapping[str, str] | None = None,
    min_coverage: float = 0.5,
    empty: Sequence[tuple[str, pd.Timestamp, str]] = (),
    warn: bool = True,
) -> pd.DataFrame:
    """
    Type every election of a vote history and show the evidence.

    Parameters
    ----------
    history
        Long history: ``election_id``, ``election_date`` and ``election_type`` (the
        type from the file's label) per vote.
    voters
        The voter table (``precinct_id`` or ``zip5``) for turnout and coverage;
        None = no coverage evidence (nothing is vetoed).
    state, overrides, min_coverage, warn
        See :func:`type_elections`.
    empty
        Elections of the file in which nobody voted: (id, date, label type); listed
        with zero votes.

    Returns
    -------
    calendar
        Index ``election_id`` sorted by date: ``election_date`` (NaT when the
        history has none), ``file_type`` (NA when the history has none; typed
        special), ``election_type``, ``typed_by``, ``why``, ``votes``, ``turnout``,
        ``coverage``, ``rel_coverage``.
    """
    combos = (
        history.groupby(
            [schema.ELECTION_ID, schema.ELECTION_DATE, schema.ELECTION_TYPE],
            dropna=False,
            observed=True,
        )
        .size()
        .rename("n")
        .reset_index()
    )
    combos[schema.ELECTION_ID] = combos[schema.ELECTION_ID].astype(str)
    combos[schema.ELECTION_DATE] = pd.to_datetime(
        combos[schema.ELECTION_DATE], errors="coerce"
    )
    combos[schema.ELECTION_TYPE] = combos[schema.ELECTION_TYPE].astype("string")
    cal = pd.DataFrame(
        {
            schema.ELECTION_DATE: _mode(combos, schema.ELECTION_DATE),
            "file_type": _mode(combos, schema.ELECTION_TYPE),
        }
    )
    extra = [e for e in empty if e[0] not in cal.index]
    if extra:
        more = pd.DataFrame(
            {
                schema.ELECTION_DATE: pd.to_datetime([e[1] for e in extra]),
                "file_type": pd.Series([e[2] for e in extra], dtype="string").array,
            },
            index=pd.Index([e[0] for e in extra]),
        )
        cal = pd.concat([cal, more])
    cal.index.name = schema.ELECTION_ID
    cal = cal.join(election_evidence(history, voters, cal.index))
    dated = cal[schema.ELECTION_DATE].notna()
    typed = type_elections(
        cal[dated].assign(file_type=cal.loc[dated, "file_type"].fillna(schema.SPECIAL)),
        state=state,
        overrides=overrides,
        min_coverage=min_coverage,
        warn=warn,
    )
    out = cal.join(typed[[schema.ELECTION_TYPE, "typed_by", "why"]])
    untyped = dated & out["file_type"].isna() & out["typed_by"].ne("override")
    out.loc[untyped, "why"] = "no type in the file"
    columns = [
        schema.ELECTION_DATE, "file_type", schema.ELECTION_TYPE, "typed_by", "why",
        "votes", "turnout", "coverage", "rel_coverage",
    ]  # fmt: skip
    return out[columns].sort_values(schema.ELECTION_DATE, kind="stable")


def calendar_rows(calendar: pd.DataFrame) -> list[dict[str, object]]:
    """Return the typed calendar as JSON-ready rows (for reports)."""
    rows: list[dict[str, object]] = []
    for eid, r in calendar.iterrows():
        date = r[schema.ELECTION_DATE]
        rows.append(
            {
                "election_id": str(eid),
                "date": "" if pd.isna(date) else f"{pd.Timestamp(date):%Y-%m-%d}",
                "file_type": "" if pd.isna(r["file_type"]) else str(r["file_type"]),
                "type": str(r[schema.ELECTION_TYPE]),
                "typed_by": str(r["typed_by"]),
                "why": str(r["why"]),
                "votes": int(r["votes"]),
                "turnout": _round(r["turnout"], 4),
                "coverage": _round(r["coverage"], 3),
                "rel_coverage": _round(r["rel_coverage"], 3),
            }
        )
    return rows


def _round(value: Any, digits: int) -> float | None:
    return None if pd.isna(value) else round(float(value), digits)


def _mode(combos: pd.DataFrame, column: str) -> pd.Series:
    """Most common non-missing value of `column` per election (ties: the first)."""
    counts = (
        combos.dropna(subset=[column])
        .groupby([schema.ELECTION_ID, column], sort=True)["n"]
        .sum()
        .reset_index()
        .sort_values("n", ascending=False, kind="stable")
        .drop_duplicates(schema.ELECTION_ID)
        .set_index(schema.ELECTION_ID)[column]
    )
    ids = pd.Index(sorted(combos[schema.ELECTION_ID].unique()), name=schema.ELECTION_ID)
    return counts.reindex(ids)
