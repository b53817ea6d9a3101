"""Load stage helpers: type and check the raw tables every adapter produces.

:func:`check_voters` and :func:`check_history` turn the adapters' string tables into
the canonical ``voters`` and ``history`` tables, collecting every problem on the way:
unusable rows go to :class:`Rejects` (file, line, reason) and suspicious ones are
kept and counted in :class:`Flags`. The policy (what is rejected, what is flagged)
is documented in :mod:`canvass.load`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..config import PlanConfig
from ._adapters import AGE, ELECTION_TYPE_RAW, ORIGIN, Parsed
from ._fields import (
    as_int_year,
    birth_year_from_age,
    classify_many,
    label_kind,
    normalise_status,
    normalise_zip,
    parse_dates,
)
from ._precincts import precinct_code

__all__ = [
    "HISTORY_OUT",
    "REJECT_COLUMNS",
    "Flags",
    "History",
    "Rejects",
    "check_history",
    "check_voters",
    "concat",
]

REJECT_COLUMNS = ("file", "line", "reason")
HISTORY_OUT = (*schema.HISTORY_COLUMNS, schema.PARTY_VOTED)
#: Optional voter columns kept when a layout has them (read by later stages).
OPTIONAL_VOTER_COLUMNS = ("status_reason", schema.HOUSEHOLD_ID)
_EXAMPLES = 20


class Rejects:
    """Unusable rows with file, line and reason (starting with the adapters' own)."""

    def __init__(self, parsed: Parsed) -> None:
        self.parts = list(parsed.rejects)
        #: "file\x1fline" of each rejected voter row -> its reason
        self.voter_rows: dict[str, str] = {}

    def voter_rows_rejected(
        self, frame: pd.DataFrame, mask: pd.Series, reason: str | pd.Series
    ) -> None:
        """Reject voter rows (as :meth:`add`) and remember them for their votes."""
        self.add(frame, mask, reason)
        if bool(mask.any()):
            keys = frame.loc[mask, schema.SOURCE].astype(str) + "\x1f"
            keys = keys + frame.loc[mask, schema.LINE].astype(str)
            why = reason[mask] if isinstance(reason, pd.Series) else reason
            why = pd.Series(why, index=keys.index).astype(str)
            self.voter_rows.update(zip(keys, why, strict=True))

    def add(
        self, frame: pd.DataFrame, mask: pd.Series, reason: str | pd.Series
    ) -> None:
        """Reject the rows of `frame` where `mask` is true, with `reason`."""
        if bool(mask.any()):
            why = reason[mask] if isinstance(reason, pd.Series) else reason
            part = pd.DataFrame(
                {
                    "file": frame.loc[mask, schema.SOURCE],
                    "line": frame.loc[mask, schema.LINE],
                    "reason": why,
                }
            )
            self.parts.append(part)

    def frame(self) -> pd.DataFrame:
        """Return all rejects sorted by file and line."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)[list(REJECT_COLUMNS)]
        out["line"] = out["line"].astype(int)
        out["file"] = out["file"].astype(str)
        out["reason"] = out["reason"].astype(str)
        return out.sort_values(["file", "line"], kind="stable").reset_index(drop=True)


class Flags:
    """Kept-but-suspicious rows: per check, a count and up to 20 voter ids."""

    def __init__(self) -> None:
        self.flags: dict[str, dict[str, Any]] = {}

    def add(self, name: str, ids: pd.Series) -> None:
        """Record the voter ids that failed check `name` (nothing when empty)."""
        if len(ids):
            uniq = ids.astype(str).unique()
            self.flags[name] = {
                "count": len(ids),
                "voter_ids": [str(i) for i in uniq[:_EXAMPLES]],
            }


def concat(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate the adapters' tables, adding missing columns as ``""``."""
    frames = [p for p in parts if len(p.columns)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for c in columns:
        if c not in out.columns:
            out[c] = ""
    return out


def check_voters(
    parsed: Parsed, config: PlanConfig, rejects: Rejects, flags: Flags
) -> pd.DataFrame:
    """
    Type and check the voter rows; return the canonical voters table.

    Rows without an id and repeated ids are rejected; dates, zip codes, status,
    birth year and precinct codes are normalised and impossible values flagged.

    Returns
    -------
    DataFrame
        The voters table, index ``voter_id``.
    """
    v = concat(parsed.voters, (*schema.VOTER_COLUMNS, schema.VOTER_ID, AGE))
    parsed.voters.clear()  # the concatenated copy replaces the per-file tables
    v = v.fillna("")  # adapters strip every field already
    no_id = v[schema.VOTER_ID] == ""
    rejects.voter_rows_rejected(v, no_id, "missing voter id")
    v = v[~no_id]
    dup = v[schema.VOTER_ID].duplicated(keep="first")
    if dup.any():
        first = v[~dup].set_index(schema.VOTER_ID)
        where = first.loc[v.loc[dup, schema.VOTER_ID], [schema.SOURCE, schema.LINE]]
        reason = pd.Series(
            (
                "duplicate voter id (first at "
                + where[schema.SOURCE]
                + " line "
                + where[schema.LINE].astype(str)
                + ")"
            ).to_numpy(),
            index=v.index[dup],
        )
        rejects.voter_rows_rejected(v, dup, reason)
        flags.add("duplicate_voter_ids", v.loc[dup, schema.VOTER_ID])
    v = v[~dup].copy()
    ids = v[schema.VOTER_ID]
    v[schema.ZIP5], padded = normalise_zip(v[schema.ZIP5])
    flags.add("zip_leading_zero_restored", ids[padded])
    extra = (
        config.mapping.status_values if config.inputs.voter_format == "mapped" else {}
    )
    v[schema.STATUS] = normalise_status(v[schema.STATUS], extra)
    v[schema.PARTY] = v[schema.PARTY].str.upper()
    fmt = config.mapping.date_format if config.inputs.voter_format == "mapped" else ""
    birth, bad_birth = parse_dates(v[schema.BIRTH_DATE], fmt=fmt)
    flags.add("unreadable_birth_date", ids[bad_birth])
    today = pd.Timestamp(dt.date.today())
    impossible = (birth > today) | (birth < pd.Timestamp(1890, 1, 1))
    flags.add("impossible_birth_date", ids[impossible])
    birth = birth.mask(impossible)
    reg, bad_reg = parse_dates(v[schema.REGISTRATION_DATE], fmt=fmt)
    flags.add("unreadable_registration_date", ids[bad_reg])
    flags.add("registered_in_future", ids[reg > today])
    flags.add("no_street_address", ids[v[schema.STREET_NAME] == ""])
    year = birth.dt.year.astype("Int64")
    year = year.fillna(as_int_year(v[schema.BIRTH_YEAR]))
    year = year.fillna(birth_year_from_age(v[AGE], today.year))
    born_late = (birth > reg) | (birth.isna() & (year > reg.dt.year)).fillna(False)
    flags.add("born_after_registering", ids[born_late.astype(bool)])
    v[schema.BIRTH_DATE] = birth
    v[schema.REGISTRATION_DATE] = reg
    v[schema.BIRTH_YEAR] = year
    pair_codes, pairs = pd.factorize(v[schema.WARD] + "\x1f" + v[schema.PRECINCT])
    per_pair = [precinct_code(*str(p).split("\x1f", 1)) for p in pairs]
    built = pd.Series(
        np.asarray(per_pair, dtype=object)[pair_codes] if per_pair else [],
        index=v.index,
        dtype=object,
    )
    v[schema.PRECINCT_ID] = v[schema.PRECINCT_ID].where(
        v[schema.PRECINCT_ID] != "", built
    )
    v[schema.LINE] = v[schema.LINE].astype(int)
    optional = [c for c in OPTIONAL_VOTER_COLUMNS if c in v.columns]
    out = v.set_index(schema.VOTER_ID)[
        [*schema.VOTER_COLUMNS, *optional, schema.SOURCE, schema.LINE]
    ]
    str_cols = [
        c
        for c in out.columns
        if c
        not in (
            schema.BIRTH_DATE,
            schema.REGISTRATION_DATE,
            schema.BIRTH_YEAR,
            schema.LINE,
        )
    ]
    out[str_cols] = out[str_cols].astype(str)
    out.index = out.index.astype(str)
    schema.validate_voters(out)
    return out


@dataclass(frozen=True)
class History:
    """The checked history table and each voter's town from the latest vote."""

    table: pd.DataFrame
    city: np.ndarray  # per voter (voters' order): town from the latest vote, or ""


def _index_in(values: pd.Series, keys: pd.Index) -> np.ndarray:
    """Position of each value in `keys` (-1 when absent), hashed in Arrow."""
    found = pc.index_in(
        pa.array(values.astype(str), type=pa.string()),
        value_set=pa.array(pd.Series(keys, dtype=str), type=pa.string()),
    )
    return np.asarray(
        found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64
    )


def _empty_history(n_voters: int) -> History:
    empty = pd.DataFrame(
        {
            schema.VOTER_ID: pd.Series(dtype=str),
            schema.ELECTION_ID: pd.Series(dtype=str),
            schema.ELECTION_DATE: pd.Series(dtype="datetime64[us]"),
            schema.ELECTION_TYPE: pd.Series(dtype=str),
            schema.PARTY_VOTED: pd.Series(dtype=str),
        }
    )
    return History(empty, np.full(n_voters, "", dtype=object))


Reason = str | Callable[[pd.Series], pd.Series]


def _voter_row_rejected(
    h: pd.DataFrame, rejects: Rejects
) -> tuple[pd.Series, pd.Series]:
    """Votes read from a voter row that was rejected (wide and cell history)."""
    none = pd.Series(False, index=h.index)
    if ORIGIN not in h.columns or not rejects.voter_rows:
        return none, pd.Series("", index=h.index, dtype=object)
    lines = {int(k.rsplit("\x1f", 1)[1]) for k in rejects.voter_rows}
    near = (h[ORIGIN] != "") & h[schema.LINE].astype(int).isin(lines)
    out = pd.Series("", index=h.index, dtype=object)
    if near.any():
        keys = h.loc[near, ORIGIN].astype(str) + "\x1f"
        keys = keys + h.loc[near, schema.LINE].astype(str)
        out[near] = keys.map(rejects.voter_rows).fillna("")
    return out != "", out


def election_ids(
    when: np.ndarray, kinds: np.ndarray, label_kinds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """
    One id per distinct election: ``YYYY-MM-DD_type``.

    Elections on one date whose labels are of different kinds (``GENERAL`` and
    ``PRIMARY``) stay distinct even when they get the same type: the one with the
    most votes keeps the plain id, the others get ``_primary``, ``_general``...

    Returns
    -------
    codes, ids
        Integer election code and id string per row.
    """
    d_codes, d_uniq = pd.factorize(when)
    t_codes, t_uniq = pd.factorize(kinds)
    k_codes, k_uniq = pd.factorize(label_kinds)
    n_t, n_k = max(len(t_uniq), 1), max(len(k_uniq), 1)
    key = (d_codes.astype(np.int64) * n_t + t_codes) * n_k + k_codes
    e_codes, e_uniq = pd.factorize(key)
    counts = np.bincount(e_codes, minlength=len(e_uniq))
    best: dict[int, tuple[int, int]] = {}  # (date, type) -> (votes, election code)
    for code, k in enumerate(np.asarray(e_uniq).tolist()):
        dt_key = k // n_k
        if dt_key not in best or counts[code] > best[dt_key][0]:
            best[dt_key] = (int(counts[code]), code)
    ids = []
    for code, k in enumerate(np.asarray(e_uniq).tolist()):
        dt_key = k // n_k
        base = f"{pd.Timestamp(d_uniq[dt_key // n_t]):%Y-%m-%d}_{t_uniq[dt_key % n_t]}"
        ids.append(base if best[dt_key][1] == code else f"{base}_{k_uniq[k % n_k]}")
    election_id = (
        np.asarray(ids, dtype=object)[e_codes] if ids else np.array([], object)
    )
    return e_codes, election_id


def check_history(
    parsed: Parsed,
    config: PlanConfig,
    voters: pd.DataFrame,
    rejects: Rejects,
    flags: Flags,
    *,
    state: str,
) -> History:
    """
    Type and check the history rows against the voters; return the long table.

    Unreadable, missing or future dates, unknown election codes, unknown voters
    and repeated votes are rejected; votes before registration are flagged.
    """
    cols = (
        schema.VOTER_ID,
        schema.ELECTION_DATE,
        ELECTION_TYPE_RAW,
        schema.PARTY_VOTED,
    )
    h = concat(parsed.history, cols).fillna("")
    parsed.history.clear()  # the concatenated copy replaces the per-file tables
    if h.empty:
        return _empty_history(len(voters))
    fmt = config.mapping.date_format if config.inputs.voter_format == "mapped" else ""
    date, bad_date = parse_dates(h[schema.ELECTION_DATE], fmt=fmt)
    today = pd.Timestamp(dt.date.today())
    types = classify_many(
        h[ELECTION_TYPE_RAW], date, state=state, overrides=config.mapping.election_types
    )
    unknown = (types == "") & date.notna()
    vcode = _index_in(h[schema.VOTER_ID], voters.index)
    row_gone, row_reason = _voter_row_rejected(h, rejects)
    checks: list[tuple[pd.Series, Reason]] = [
        (row_gone, lambda m: "its voter row was rejected: " + row_reason[m]),
        (h[schema.VOTER_ID] == "", "missing voter id"),
        (
            bad_date,
            lambda m: (
                "unreadable election date '" + h.loc[m, schema.ELECTION_DATE] + "'"
            ),
        ),
        (date.isna() & ~bad_date, "missing election date"),
        (date > today, "election date in the future"),
        (
            unknown,
            lambda m: "unknown election code '" + h.loc[m, ELECTION_TYPE_RAW] + "'",
        ),
        (pd.Series(vcode < 0, index=h.index), "voter id not in the voter file"),
    ]
    bad = pd.Series(False, index=h.index)
    for mask, reason in checks:
        new = mask & ~bad
        if bool(new.any()):
            rejects.add(h, new, reason if isinstance(reason, str) else reason(new))
        bad |= mask
    if unknown.any():
        counts = h.loc[unknown, ELECTION_TYPE_RAW].value_counts()
        flags.flags["unknown_election_codes"] = {
            "count": int(unknown.sum()),
            "codes": {str(k): int(n) for k, n in counts.items()},
        }
    keep = ~bad.to_numpy()
    k_codes, k_uniq = pd.factorize(h[ELECTION_TYPE_RAW].astype(str))
    kind_of = np.asarray([label_kind(str(u)) for u in k_uniq] or [""], dtype=object)
    label_kinds = kind_of[np.maximum(k_codes, 0)][keep]
    lean = [schema.VOTER_ID, schema.PARTY_VOTED, schema.SOURCE, schema.LINE]
    if schema.CITY in h.columns:
        lean.append(schema.CITY)
    h = h.loc[keep, lean]  # the raw text columns are released here
    vcode, when = vcode[keep], date[keep].to_numpy()
    kinds = types[keep].to_numpy(dtype=object)
    e_codes, election_id = election_ids(when, kinds, label_kinds)
    dup = pd.DataFrame({"v": vcode, "e": e_codes}).duplicated().to_numpy()
    if dup.any():
        dup_ids = pd.Series(election_id, index=h.index, dtype=str)
        why = "duplicate vote record for election " + dup_ids
        rejects.add(h, pd.Series(dup, index=h.index), why)
        h, vcode, when = h[~dup], vcode[~dup], when[~dup]
        kinds, election_id = kinds[~dup], election_id[~dup]
    reg = voters[schema.REGISTRATION_DATE].to_numpy()[vcode]
    flags.add("voted_before_registering", h.loc[when < reg, schema.VOTER_ID])
    order = np.lexsort((when, vcode))
    h, vcode, when = h.iloc[order], vcode[order], when[order]
    kinds, election_id = kinds[order], election_id[order]
    # a party ballot means nothing in a general election (Ohio marks those with X)
    general = np.isin(kinds, [schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION])
    city = np.full(len(voters), "", dtype=object)
    if schema.CITY in h.columns:
        c_codes, c_uniq = pd.factorize(h[schema.CITY])
        towns = np.asarray(c_uniq, dtype=object)
        has = (c_codes >= 0) & (towns[np.maximum(c_codes, 0)] != "")
        v_has, t_has = vcode[has], c_codes[has]
        if len(v_has):
            last = np.flatnonzero(np.r_[v_has[1:] != v_has[:-1], True])
            city[v_has[last]] = towns[t_has[last]]
    table = pd.DataFrame(
        {
            schema.VOTER_ID: h[schema.VOTER_ID].astype(str).array,
            schema.ELECTION_ID: pd.Series(election_id, dtype=str).array,
            schema.ELECTION_DATE: when.astype("datetime64[us]"),
            schema.ELECTION_TYPE: pd.Series(kinds, dtype=str).array,
            schema.PARTY_VOTED: h[schema.PARTY_VOTED]
            .str.upper()
            .where(~general, "")
            .astype(str)
            .array,
        }
    )
    schema.validate_history(table)
    return History(table, city)
