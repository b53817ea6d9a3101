"""Scoring stage, part 1: vote-history matrices, eligibility and voter features.

The long ``history`` table becomes two dense voter x election matrices: *voted* and
*eligible*. A voter is eligible for an election when they were registered by its
date and 18 by then (for a state primary: 18 by the state election that follows it,
as Massachusetts lets 17-year-olds vote in that primary), or when they voted in it.
Nobody is penalised for elections before they could vote: every participation
feature counts votes *and* eligible elections, so "not eligible" and "did not vote"
stay apart.

:func:`features_as_of` builds the model features for "the voter as of just before
date *t*" (only elections before *t* are looked at), which lets the same code build
training rows (features before a past election, label = voted in it) and scoring
rows (features before the next election).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import schema

__all__ = [
    "REGULAR",
    "TYPE_CODES",
    "VoteMatrix",
    "area_keys",
    "build_matrix",
    "door_keys",
    "features_as_of",
    "history_summary",
    "pattern_as_of",
    "window",
]

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: Short codes of the election types for walk lists ("SP 1/4 · SE 2/3 · P 2/2").
TYPE_CODES: Final = {
    schema.STATE_PRIMARY: "SP",
    schema.STATE_ELECTION: "SE",
    schema.PRESIDENTIAL_PRIMARY: "PP",
    schema.PRESIDENTIAL_ELECTION: "P",
    schema.MUNICIPAL: "M",
    schema.SPECIAL: "S",
}
_PARTY_GROUPS: Final = ("D", "R", "U")
_AGE_BINS: Final = (-np.inf, 30.0, 45.0, 65.0, np.inf)
AGE_GROUPS: Final = ("18-29", "30-44", "45-64", "65+")
_NEVER_YEARS: Final = 30.0


@dataclass(frozen=True)
class VoteMatrix:
    """
    Dense vote history of every voter, with eligibility.

    Parameters
    ----------
    voted, eligible
        Boolean arrays (voters x elections) in the order of ``voters`` and of the
        calendar (sorted by date).
    dates
        Election dates (``datetime64[D]``), ascending.
    types
        Election type of each column.
    ballot
        Party ballot taken in primaries: 0 none/unknown, 1 D, 2 R, 3 other.
    registered, adult
        Registration date and the date the voter turns 18 (``NaT`` = unknown).
    gubernatorial
        Which elections are gubernatorial (from the calendar), when known.
    """

    voted: BoolArray
    eligible: BoolArray
    dates: npt.NDArray[np.datetime64]
    types: npt.NDArray[np.str_]
    ballot: npt.NDArray[np.int8]
    registered: npt.NDArray[np.datetime64]
    adult: npt.NDArray[np.datetime64]
    gubernatorial: BoolArray | None = None

    def elections_of(self, when: np.datetime64, etype: str) -> list[int]:
        """
        Return the past elections a score for `etype` learns from, by date.

        For a state election these are the gubernatorial ones when the calendar
        flags any (so a state whose November elections are all typed
        ``state_election`` still learns a governor's race from governors' races).
        """
        cols = self.columns_before(when, etype)
        if etype == schema.STATE_ELECTION and self.gubernatorial is not None:
            gub = [c for c in cols if self.gubernatorial[c]]
            if gub:
                return gub
        return cols

    def columns_before(
        self, when: np.datetime64, etype: str | tuple[str, ...] | None = None
    ) -> list[int]:
        """Return the elections strictly before `when` (of some types), by date."""
        mask = self.dates < when
        if etype is not None:
            wanted = (etype,) if isinstance(etype, str) else etype
            mask &= np.isin(self.types, wanted)
        return [int(i) for i in np.flatnonzero(mask)]

    def eligible_on(self, when: np.datetime64, age_on: np.datetime64) -> BoolArray:
        """Who could vote in an election held on `when` (18 by `age_on`)."""
        reg_ok = np.isnat(self.registered) | (self.registered <= when)
        age_ok = np.isnat(self.adult) | (self.adult <= age_on)
        return np.asarray(reg_ok & age_ok)


def _dates(values: pd.Series) -> npt.NDArray[np.datetime64]:
    parsed = pd.to_datetime(values, errors="coerce")
    return np.asarray(parsed.to_numpy(dtype="datetime64[ns]")).astype("datetime64[D]")


def _adult_on(voters: pd.DataFrame) -> npt.NDArray[np.datetime64]:
    """Date the voter turns 18 (at the latest, when only the birth year is known).

    With only a birth year, 31 December of that year is assumed, so an unknown day
    never makes anyone eligible too early.
    """
    n = len(voters)
    born = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if schema.BIRTH_YEAR in voters:
        year = pd.to_numeric(voters[schema.BIRTH_YEAR], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        ok = np.isfinite(year) & (year > 1850)
        next_year = (year[ok] + 19).astype(int).astype(str).astype("datetime64[Y]")
        born[ok] = next_year.astype("datetime64[D]") - np.timedelta64(1, "D")
    if schema.BIRTH_DATE in voters:
        exact = _dates(voters[schema.BIRTH_DATE])
        ok = ~np.isnat(exact)
        years = exact[ok].astype("datetime64[Y]")
        offset = exact[ok] - years.astype("datetime64[D]")
        born[ok] = (years + 18).astype("datetime64[D]") + offset
    return born


def _age_reference(dates: npt.NDArray[np.datetime64], types: list[str]) -> list[int]:
    """For each election, the column whose date the voter must be 18 by."""
    ref = list(range(len(dates)))
    generals = (schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION)
    for j, etype in enumerate(types):
        if etype != schema.STATE_PRIMARY:
            continue
        year = dates[j].astype("datetime64[Y]")
        later = [
            i
            for i, t in enumerate(types)
            if t in generals
            and dates[i] > dates[j]
            and dates[i].astype("datetime64[Y]") == year
        ]
        if later:
            ref[j] = later[0]
    return ref


def _registered_by_behaviour(
    registered: npt.NDArray[np.datetime64],
    voted: BoolArray,
    dates: npt.NDArray[np.datetime64],
) -> npt.NDArray[np.datetime64]:
    """
    Move the registration date back to the first recorded vote when earlier.

    Files reset the registration date when a voter re-registers or moves (a quarter
    of Ohio's voters have votes before it): a recorded vote means the voter was
    registered then. A blank date stays blank (eligible for everything).
    """
    if not voted.shape[1]:
        return registered
    any_vote = voted.any(axis=1)
    first = dates[np.argmax(voted, axis=1)]
    earlier = any_vote & ~np.isnat(registered) & (first < registered)
    out = registered.copy()
    out[earlier] = first[earlier]
    return out


def build_matrix(
    voters: pd.DataFrame, history: pd.DataFrame, elections: pd.DataFrame
) -> VoteMatrix:
    """
    Turn the long history into voted/eligible matrices aligned with `voters`.

    Parameters
    ----------
    voters
        Canonical voter table (index ``voter_id``).
    history
        Long vote history (``voter_id``, ``election_id``, optional ``party_voted``).
    elections
        Election calendar (index ``election_id``), as made by
        :func:`canvass.score.election_calendar`.

    Returns
    -------
    matrix
        The dense history; history rows of voters or elections not in the tables
        are ignored (and counted in the log).
    """
    cal = elections.sort_values(schema.ELECTION_DATE, kind="stable")
    dates = _dates(cal[schema.ELECTION_DATE])
    types = [str(t) for t in cal[schema.ELECTION_TYPE]]
    n, m = len(voters), len(cal)
    rows = voters.index.get_indexer(pd.Index(history[schema.VOTER_ID].astype(str)))
    cols = cal.index.get_indexer(pd.Index(history[schema.ELECTION_ID].astype(str)))
    ok = (rows >= 0) & (cols >= 0)
    if (~ok).any():
        logger.info(
            "Ignored %s history rows of unknown voters", f"{int((~ok).sum()):,}"
        )
    voted = np.zeros((n, m), dtype=bool)
    voted[rows[ok], cols[ok]] = True
    ballot = np.zeros((n, m), dtype=np.int8)
    if schema.PARTY_VOTED in history:
        party = history[schema.PARTY_VOTED].astype("string").str.strip().str.upper()
        code = np.select(
            [
                party.eq("D").fillna(False),
                party.eq("R").fillna(False),
                party.fillna("").ne(""),
            ],
            [1, 2, 3],
            0,
        ).astype(np.int8)
        ballot[rows[ok], cols[ok]] = code[ok]
    registered = (
        _dates(voters[schema.REGISTRATION_DATE])
        if schema.REGISTRATION_DATE in voters
        else np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    )
    registered = _registered_by_behaviour(registered, voted, dates)
    adult = _adult_on(voters)
    ref = _age_reference(dates, types)
    eligible = np.zeros((n, m), dtype=bool)
    reg_ok = np.isnat(registered)
    for j in range(m):
        reg_j = reg_ok | (registered <= dates[j])
        age_j = np.isnat(adult) | (adult <= dates[ref[j]])
        eligible[:, j] = (reg_j & age_j) | voted[:, j]
    return VoteMatrix(
        voted=voted,
        eligible=eligible,
        dates=dates,
        types=np.array(types, dtype=str),
        ballot=ballot,
        registered=registered,
        adult=adult,
        gubernatorial=(
            cal[schema.IS_GUBERNATORIAL].to_numpy(dtype=bool)
            if schema.IS_GUBERNATORIAL in cal
            else None
        ),
    )


def door_keys(voters: pd.DataFrame) -> npt.NDArray[np.int64]:
    """
    Return an integer household key per voter.

    The file's ``household_id``, else ``door_id``, else the building address.

    Voters with no key get a key of their own.
    """
    key: pd.Series | None = None
    hh = (
        voters[schema.HOUSEHOLD_ID].astype("string").str.strip()
        if schema.HOUSEHOLD_ID in voters
        else None
    )
    if hh is not None and hh.fillna("").ne("").any():
        key = hh.mask(hh.eq(""))
    elif schema.DOOR_ID in voters:
        key = voters[schema.DOOR_ID].astype("string")
    else:
        parts: list[pd.Series] = [
            voters[c].astype("string").fillna("").str.strip().str.upper()
            for c in (
                schema.STREET_NUMBER,
                schema.STREET_NUMBER_SUFFIX,
                schema.STREET_NAME,
                schema.ZIP5,
            )
            if c in voters
        ]
        if parts:
            joined = parts[0]
            for part in parts[1:]:
                joined = joined + "|" + part
            key = joined.mask(joined.str.strip("|").eq(""))
    if key is None:
        return np.arange(len(voters), dtype=np.int64)
    codes, _ = pd.factorize(key)
    codes = codes.astype(np.int64)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def _loo_rate(
    keys: npt.NDArray[np.int64], num: FloatArray, den: FloatArray
) -> FloatArray:
    """Leave-one-out ratio of sums within each household (NaN when alone)."""
    size = int(keys.max(initial=-1)) + 1
    tot_num = np.bincount(keys, weights=num, minlength=size)[keys] - num
    tot_den = np.bincount(keys, weights=den, minlength=size)[keys] - den
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot_den > 0, tot_num / np.maximum(tot_den, 1e-12), np.nan)


def window(
    mx: VoteMatrix, when: np.datetime64, etype: str | tuple[str, ...], k: int
) -> tuple[FloatArray, FloatArray, list[int]]:
    """Votes and eligible elections among the last `k` of some types before `when`."""
    cols = mx.columns_before(when, etype)[-k:] if k > 0 else []
    voted = mx.voted[:, cols].sum(axis=1).astype(float)
    elig = mx.eligible[:, cols].sum(axis=1).astype(float)
    return voted, elig, cols


#: Regular (non-special) election types: the sequence features read these.
REGULAR: Final = (
    schema.STATE_PRIMARY,
    schema.STATE_ELECTION,
    schema.PRESIDENTIAL_PRIMARY,
    schema.PRESIDENTIAL_ELECTION,
    schema.MUNICIPAL,
)
#: Number of latest regular elections read one by one (``seq1`` = latest).
SEQUENCE: Final = 8
_SLOTS_SPECIAL: Final = 2


def _slot(mx: VoteMatrix, j: int) -> FloatArray:
    """1 voted, 0 eligible and did not vote, NaN not eligible."""
    return np.where(mx.eligible[:, j], mx.voted[:, j].astype(float), np.nan)


def area_keys(voters: pd.DataFrame) -> npt.NDArray[np.int64] | None:
    """Integer precinct key per voter (None when the file has no precincts)."""
    if schema.PRECINCT_ID not in voters:
        return None
    vals = voters[schema.PRECINCT_ID].astype("string").fillna("").str.strip()
    if not vals.ne("").any():
        return None
    codes, _ = pd.factorize(vals.mask(vals.eq("")))
    codes = codes.astype(np.int64)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def features_as_of(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    keys: npt.NDArray[np.int64],
    when: np.datetime64,
    target_type: str,
    k: int,
    windows: Mapping[str, int] | None = None,
    n_all: int | None = None,
    *,
    current: bool = True,
    areas: npt.NDArray[np.int64] | None = None,
) -> pd.DataFrame:
    """
    Model features of every voter as of just before `when`.

    Parameters
    ----------
    mx
        The dense history.
    voters
        The voter table (for party, status, age and registration).
    keys
        Household keys from :func:`door_keys`.
    when
        The date of the election being predicted; only earlier elections count.
    target_type
        Election type being predicted (its window is also used for the door rate).
    k
        Number of past elections of each type looked at.
    windows
        Per election type, a smaller window than `k` (so that features built at
        different dates have the same scale: a model fitted when only two state
        elections had happened sees at most two when it scores); key ``regular``
        caps the sequence of the latest regular elections.
    n_all
        Count participation over the last `n_all` elections only (all by default).
    current
        Use the file's party and status. They describe the voter *today*: right for
        scoring an upcoming election, a leak when scoring a past one (the
        backtest), where the party comes only from the primary ballots before
        `when`.
    areas
        Precinct keys (:func:`area_keys`) for the precinct's turnout in the last
        election of the type; None = no precinct feature.

    Returns
    -------
    features
        Numeric float32 columns (NaN where unknown), indexed like `voters`.
    """
    out: dict[str, FloatArray] = {}
    n = len(voters)
    for etype in TYPE_CODES:
        k_type = k if windows is None else min(k, windows.get(etype, k))
        voted, elig, cols = window(mx, when, etype, k_type)
        if not cols and etype != target_type:
            continue
        tag = TYPE_CODES[etype]
        out[f"{tag}_voted"] = voted
        out[f"{tag}_eligible"] = elig
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{tag}_share"] = np.where(
                elig > 0, voted / np.maximum(elig, 1), np.nan
            )
        if cols:
            out[f"{tag}_last_voted"] = mx.voted[:, cols[-1]].astype(float)
            out[f"{tag}_last_eligible"] = mx.eligible[:, cols[-1]].astype(float)
        slots = min(k_type, _SLOTS_SPECIAL) if etype == schema.SPECIAL else k_type
        for i, j in enumerate(cols[::-1][:slots]):
            out[f"{tag}{i + 1}"] = _slot(mx, j)
    before = mx.columns_before(when)
    regular = mx.columns_before(when, REGULAR)
    n_seq = SEQUENCE if windows is None else min(SEQUENCE, windows.get("regular", 0))
    for i, j in enumerate(regular[::-1][:n_seq]):
        out[f"seq{i + 1}"] = _slot(mx, j)
    recent = before[-n_all:] if n_all else before
    out["all_voted"] = mx.voted[:, recent].sum(axis=1).astype(float)
    out["all_eligible"] = mx.eligible[:, recent].sum(axis=1).astype(float)
    v_all = mx.voted[:, before]
    years = (when - mx.dates[before]).astype(float) / 365.25
    last_vote = np.where(v_all, years[None, :], np.inf).min(axis=1, initial=np.inf)
    out["never_voted"] = (~np.isfinite(last_vote)).astype(float)
    out["years_since_vote"] = np.minimum(last_vote, _NEVER_YEARS)
    # party ballot of the latest primary voted in (history before `when` only)
    last_ballot = np.zeros(n, dtype=np.int8)
    for j in before:
        got = mx.ballot[:, j] > 0
        last_ballot[got] = mx.ballot[got, j]
    out["ballot_D"] = np.asarray(last_ballot == 1, dtype=np.float64)
    out["ballot_R"] = np.asarray(last_ballot == 2, dtype=np.float64)
    out["ballot_other"] = np.asarray(last_ballot == 3, dtype=np.float64)
    if current:
        party = _column(voters, schema.PARTY).str.upper()
        for code in _PARTY_GROUPS:
            out[f"party_{code}"] = np.asarray(party.eq(code), dtype=np.float64)
        status = _column(voters, schema.STATUS).str.upper()
        out["active"] = np.asarray(status.ne(schema.INACTIVE), dtype=np.float64)
    age = 18.0 + (when - mx.adult).astype(float) / 365.25
    out["age"] = np.where(np.isnat(mx.adult), np.nan, age)
    reg = (when - mx.registered).astype(float) / 365.25
    out["years_registered"] = np.where(np.isnat(mx.registered), np.nan, reg)
    # turnout of the others at the same door (and precinct), same type and overall
    k_target = k if windows is None else min(k, windows.get(target_type, k))
    t_voted, t_elig, t_cols = window(mx, when, target_type, k_target)
    out["door_same_type"] = _loo_rate(keys, t_voted, t_elig)
    out["door_all"] = _loo_rate(keys, out["all_voted"], out["all_eligible"])
    ones = np.ones(n)
    out["door_others"] = np.asarray(
        np.bincount(keys, weights=ones)[keys] - 1, dtype=np.float64
    )
    if t_cols:
        last_v = mx.voted[:, t_cols[-1]].astype(float)
        last_e = mx.eligible[:, t_cols[-1]].astype(float)
        out["door_same_last"] = _loo_rate(keys, last_v, last_e)
        if areas is not None:
            out["precinct_same_last"] = _loo_rate(areas, last_v, last_e)
            out["precinct_same_type"] = _loo_rate(areas, t_voted, t_elig)
    # float32 halves the memory of the largest table the scores build
    return pd.DataFrame(out, index=voters.index).astype(np.float32)


def _column(voters: pd.DataFrame, name: str) -> pd.Series:
    if name not in voters:
        return pd.Series("", index=voters.index, dtype="string")
    return voters[name].astype("string").fillna("").str.strip()


def pattern_as_of(
    mx: VoteMatrix, when: np.datetime64, etype: str | tuple[str, ...], k: int
) -> npt.NDArray[np.str_]:
    """
    History pattern of the last `k` elections of a type before `when`.

    One character per election, oldest first: ``V`` voted, ``N`` eligible but did
    not vote, ``-`` not eligible (or no such election yet).
    """
    cols = mx.columns_before(when, etype)[-k:] if k > 0 else []
    n = mx.voted.shape[0]
    out = np.full(n, "-" * (k - len(cols)), dtype=f"<U{max(k, 1)}")
    for j in cols:
        char = np.where(mx.voted[:, j], "V", np.where(mx.eligible[:, j], "N", "-"))
        out = np.char.add(out, char)
    return np.asarray(out, dtype=str)


def age_group(age: FloatArray) -> npt.NDArray[np.str_]:
    """Age band labels (``18-29`` ... ``65+``, ``?`` when unknown)."""
    idx = np.digitize(np.nan_to_num(age, nan=-1.0), _AGE_BINS[1:-1])
    labels = np.array(AGE_GROUPS, dtype=str)[idx]
    return np.where(np.isnan(age), "?", labels)


def history_summary(mx: VoteMatrix, when: np.datetime64, k: int) -> pd.Series:
    """
    One short string per voter for walk lists, e.g. ``"SP 1/4 · SE 2/3 · P 2/2"``.

    Each part is votes / eligible elections among the last `k` of that type; types
    absent from the calendar are left out, and a voter eligible for none shows
    ``"new"``.
    """
    parts: list[npt.NDArray[np.str_]] = []
    for etype, tag in TYPE_CODES.items():
        voted, elig, cols = window(mx, when, etype, k)
        if not cols:
            continue
        text = np.char.add(
            np.char.add(f"{tag} ", voted.astype(int).astype(str)),
            np.char.add("/", elig.astype(int).astype(str)),
        )
        parts.append(np.where(elig > 0, text, ""))
    n = mx.voted.shape[0]
    joined = np.full(n, "", dtype=object)
    for part in parts:
        sep = np.where((joined != "") & (part != ""), " · ", "")
        joined = joined + sep + part.astype(object)
    return pd.Series(np.where(joined == "", "new", joined), dtype="string")
