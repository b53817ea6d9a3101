"""Load stage: voter files, vote history and precinct shapes into canonical tables.

:func:`load_voter_file` reads the configured layout (``ma``, ``nc``, ``van`` or
``mapped``, see :mod:`canvass.adapters` and :mod:`canvass.mapped`), then types and
checks every row in one pass and reports all problems together. Nothing is lost
silently: each input row is either loaded or written to the rejects table with its
file, line and reason, and ``rows_in == rows_loaded + rows_rejected`` for every file.

What is rejected and what is kept with a flag
---------------------------------------------
Rejected (the row cannot be used):

* a row with the wrong number of fields, or bytes invalid in the declared encoding;
* a voter or history row without a voter id;
* a second voter row with an id already loaded (``duplicate voter id``; the first
  row wins, the report counts them);
* a history row with an unreadable, missing or future election date, an unknown
  election code (``unknown election code 'X'``; map it in
  ``[mapping.election_types]``), a voter id absent from the voter file, or a repeat
  of a vote already recorded for the same voter and election.

Kept and flagged in ``report["flags"]`` (count and up to 20 voter ids):

* an unreadable or impossible birth date (in the future or before 1890: set to NaT);
* born after registering, registered in the future, no street address;
* voted before the registration date (common after a voter re-registers at a new
  address, so the vote is kept);
* zip codes missing their leading zero (padded back).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from ._fields import (
    as_int_year,
    birth_year_from_age,
    classify_election,
    classify_many,
    normalise_status,
    normalise_zip,
    parse_dates,
)
from .adapters import AGE, ELECTION_TYPE_RAW, Parsed, read_ma, read_nc, read_van
from .config import PlanConfig
from .errors import DataQualityWarning, InputError
from .precincts import (
    local_crs,
    match_precincts,
    normalise_precinct_code,
    precinct_code,
    read_precincts,
)

__all__ = [
    "LoadResult",
    "classify_election",
    "load_voter_file",
    "local_crs",
    "match_precincts",
    "normalise_precinct_code",
    "precinct_code",
    "read_precincts",
    "write_load_outputs",
]

logger = logging.getLogger(__name__)

REJECT_COLUMNS = ("file", "line", "reason")
HISTORY_OUT = (*schema.HISTORY_COLUMNS, schema.PARTY_VOTED)
_EXAMPLES = 20


@dataclass(frozen=True)
class LoadResult:
    """
    The loaded voter file.

    Parameters
    ----------
    voters
        Index ``voter_id``; columns :data:`canvass.schema.VOTER_COLUMNS` plus
        ``source`` (file name) and ``line`` (line in that file).
    history
        ``voter_id``, ``election_id``, ``election_date``, ``election_type``,
        ``party_voted`` ("" when the file does not say).
    rejects
        ``file``, ``line``, ``reason``: one row per unusable input row.
    report
        PII-free counts: per-file rows in/loaded/rejected, flags, elections.
    """

    voters: pd.DataFrame
    history: pd.DataFrame
    rejects: pd.DataFrame
    report: dict[str, Any]


def _expand(config: PlanConfig, patterns: tuple[str, ...], setting: str) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        full = config.resolve(pattern)
        if glob.has_magic(str(full)):
            found = sorted(Path(p) for p in glob.glob(str(full)))  # noqa: PTH207
            if not found:
                msg = f"`{setting}`: no file matches {pattern!r}; check the pattern."
                raise InputError(msg)
            paths.extend(found)
        else:
            paths.append(full)
    return paths


def load_voter_file(config: PlanConfig) -> LoadResult:
    """
    Read the configured voter file(s) and vote history into canonical tables.

    Parameters
    ----------
    config
        Uses ``inputs.voter_format``, ``inputs.voters``, ``inputs.history``,
        ``inputs.encoding`` and, for ``mapped``, the ``[mapping]`` section.

    Returns
    -------
    LoadResult
        Voters, long history, rejects and the load report.

    Raises
    ------
    InputError
        A whole-file problem: missing or empty file, wrong delimiter, missing
        required columns, truncated file, not a voter file.
    """
    inputs = config.inputs
    voters = _expand(config, inputs.voters, "inputs.voters")
    if not voters:
        msg = "`inputs.voters` is empty; list the voter file(s) in the config."
        raise InputError(msg)
    history = _expand(config, inputs.history, "inputs.history")
    fmt = inputs.voter_format
    state = config.mapping.state.upper() or {"ma": "MA", "nc": "NC"}.get(fmt, "")
    if fmt == "ma":
        parsed = read_ma(voters, history, encoding=inputs.encoding)
    elif fmt == "nc":
        parsed = read_nc(voters, history, encoding=inputs.encoding)
    elif fmt == "van":
        if history:
            msg = (
                "`inputs.history` is set but VAN list exports carry no vote history; "
                'remove it, or load the state\'s file with voter_format = "mapped".'
            )
            raise InputError(msg)
        parsed = read_van(voters, encoding=inputs.encoding)
    else:
        from .mapped import read_mapped

        parsed = read_mapped(voters, history, config)
    parsed.raise_errors()
    result = _finish(parsed, config, fmt=fmt, state=state)
    if inputs.precincts:
        result.report["precinct_match"] = _precinct_match(config, result.voters)
    return result


def _precinct_match(config: PlanConfig, voters: pd.DataFrame) -> dict[str, object]:
    """Match the voters' precinct codes against the configured precinct shapes."""
    path = config.resolve(config.inputs.precincts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)  # reported by the run
            shapes = read_precincts(
                path, config.precincts, layer=config.inputs.precinct_layer
            )
    except InputError as err:
        return {"error": str(err)}
    return match_precincts(voters, shapes)


class _Rejects:
    def __init__(self, parsed: Parsed) -> None:
        self.parts = list(parsed.rejects)

    def add(
        self, frame: pd.DataFrame, mask: pd.Series, reason: str | pd.Series
    ) -> None:
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
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)[list(REJECT_COLUMNS)]
        out["line"] = out["line"].astype(int)
        out["file"] = out["file"].astype(str)
        out["reason"] = out["reason"].astype(str)
        return out.sort_values(["file", "line"], kind="stable").reset_index(drop=True)


class _Flags:
    def __init__(self) -> None:
        self.flags: dict[str, dict[str, Any]] = {}

    def add(self, name: str, ids: pd.Series) -> None:
        if len(ids):
            uniq = ids.astype(str).unique()
            self.flags[name] = {
                "count": len(ids),
                "voter_ids": [str(i) for i in uniq[:_EXAMPLES]],
            }


def _concat(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    frames = [p for p in parts if len(p.columns)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for c in columns:
        if c not in out.columns:
            out[c] = ""
    return out


def _finish(parsed: Parsed, config: PlanConfig, *, fmt: str, state: str) -> LoadResult:
    rejects = _Rejects(parsed)
    flags = _Flags()
    voters, vot_ok = _voters(parsed, config, rejects, flags)
    history = _history(parsed, config, voters, rejects, flags, state=state)
    if vot_ok and (voters[schema.CITY] == "").all():
        voters[schema.CITY] = pd.Series(history.city, index=voters.index, dtype=str)
    rej = rejects.frame()
    report = _report(parsed, voters, history.table, rej, flags, fmt=fmt, state=state)
    return LoadResult(voters=voters, history=history.table, rejects=rej, report=report)


def _voters(
    parsed: Parsed, config: PlanConfig, rejects: _Rejects, flags: _Flags
) -> tuple[pd.DataFrame, bool]:
    v = _concat(parsed.voters, (*schema.VOTER_COLUMNS, schema.VOTER_ID, AGE))
    v = v.fillna("")  # adapters strip every field already
    no_id = v[schema.VOTER_ID] == ""
    rejects.add(v, no_id, "missing voter id")
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
        rejects.add(v, dup, reason)
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
    out = v.set_index(schema.VOTER_ID)[
        [*schema.VOTER_COLUMNS, schema.SOURCE, schema.LINE]
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
    return out, True


@dataclass(frozen=True)
class _History:
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


def _empty_history(n_voters: int) -> _History:
    empty = pd.DataFrame(
        {
            schema.VOTER_ID: pd.Series(dtype=str),
            schema.ELECTION_ID: pd.Series(dtype=str),
            schema.ELECTION_DATE: pd.Series(dtype="datetime64[us]"),
            schema.ELECTION_TYPE: pd.Series(dtype=str),
            schema.PARTY_VOTED: pd.Series(dtype=str),
        }
    )
    return _History(empty, np.full(n_voters, "", dtype=object))


Reason = str | Callable[[pd.Series], pd.Series]


def _history(
    parsed: Parsed,
    config: PlanConfig,
    voters: pd.DataFrame,
    rejects: _Rejects,
    flags: _Flags,
    *,
    state: str,
) -> _History:
    cols = (
        schema.VOTER_ID,
        schema.ELECTION_DATE,
        ELECTION_TYPE_RAW,
        schema.PARTY_VOTED,
    )
    h = _concat(parsed.history, cols).fillna("")
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
    raw_date, raw_type = h[schema.ELECTION_DATE], h[ELECTION_TYPE_RAW]
    checks: list[tuple[pd.Series, Reason]] = [
        (h[schema.VOTER_ID] == "", "missing voter id"),
        (bad_date, lambda m: "unreadable election date '" + raw_date[m] + "'"),
        (date.isna() & ~bad_date, "missing election date"),
        (date > today, "election date in the future"),
        (unknown, lambda m: "unknown election code '" + raw_type[m] + "'"),
        (pd.Series(vcode < 0, index=h.index), "voter id not in the voter file"),
    ]
    bad = pd.Series(False, index=h.index)
    for mask, reason in checks:
        new = mask & ~bad
        if bool(new.any()):
            rejects.add(h, new, reason if isinstance(reason, str) else reason(new))
        bad |= mask
    if unknown.any():
        counts = raw_type[unknown].value_counts()
        flags.flags["unknown_election_codes"] = {
            "count": int(unknown.sum()),
            "codes": {str(k): int(n) for k, n in counts.items()},
        }
    keep = ~bad.to_numpy()
    h = h[keep].copy()
    vcode = vcode[keep]
    h[schema.ELECTION_DATE] = date[keep]
    h[schema.ELECTION_TYPE] = types[keep]
    e_codes, e_pairs = pd.factorize(
        h[schema.ELECTION_DATE].astype("int64").astype(str)
        + "_"
        + h[schema.ELECTION_TYPE]
    )
    ids = []
    for pair in e_pairs:
        micros, kind = str(pair).split("_", 1)
        ids.append(f"{pd.Timestamp(int(micros), unit='us'):%Y-%m-%d}_{kind}")
    h[schema.ELECTION_ID] = np.asarray(ids, dtype=object)[e_codes] if ids else ""
    dup = pd.DataFrame({"v": vcode, "e": e_codes}).duplicated().to_numpy()
    if dup.any():
        eid = h[schema.ELECTION_ID]
        dup_s = pd.Series(dup, index=h.index)
        rejects.add(h, dup_s, "duplicate vote record for election " + eid[dup_s])
        h, vcode = h[~dup], vcode[~dup]
    reg = voters[schema.REGISTRATION_DATE].to_numpy()[vcode]
    early = h[schema.ELECTION_DATE].to_numpy() < reg
    flags.add("voted_before_registering", h.loc[early, schema.VOTER_ID])
    # a party ballot means nothing in a general election (Ohio marks those with X)
    partisan = ~h[schema.ELECTION_TYPE].isin(
        (schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION)
    )
    h[schema.PARTY_VOTED] = h[schema.PARTY_VOTED].str.upper().where(partisan, "")
    order = np.lexsort((h[schema.ELECTION_DATE].to_numpy(), vcode))
    h, vcode = h.iloc[order], vcode[order]
    city = np.full(len(voters), "", dtype=object)
    if schema.CITY in h.columns:
        towns = h[schema.CITY].to_numpy(dtype=object)
        has = towns != ""
        v_has, t_has = vcode[has], towns[has]
        if len(v_has):
            last = np.flatnonzero(np.r_[v_has[1:] != v_has[:-1], True])
            city[v_has[last]] = t_has[last]
    table = h[list(HISTORY_OUT)].reset_index(drop=True)
    for c in (
        schema.VOTER_ID,
        schema.ELECTION_ID,
        schema.ELECTION_TYPE,
        schema.PARTY_VOTED,
    ):
        table[c] = table[c].astype(str)
    table[schema.ELECTION_DATE] = table[schema.ELECTION_DATE].astype("datetime64[us]")
    schema.validate_history(table)
    return _History(table, city)


def _report(
    parsed: Parsed,
    voters: pd.DataFrame,
    history: pd.DataFrame,
    rejects: pd.DataFrame,
    flags: _Flags,
    *,
    fmt: str,
    state: str,
) -> dict[str, Any]:
    rejected = rejects["file"].value_counts()
    files = []
    for f in parsed.files:
        name = str(f["file"])
        rows_in = int(str(f["rows_in"]))
        n_rej = int(rejected.get(name, 0))
        files.append({**f, "rows_loaded": rows_in - n_rej, "rows_rejected": n_rej})
        logger.info(
            "%s: %s rows in = %s loaded + %s rejected",
            name,
            f"{rows_in:,}",
            f"{rows_in - n_rej:,}",
            f"{n_rej:,}",
        )
    reasons = rejects["reason"].str.replace(r"'.*'|\(.*\)|\d+", "…", regex=True)
    elections = (
        history.groupby(schema.ELECTION_ID).size() if len(history) else pd.Series()
    )
    report: dict[str, Any] = {
        "format": fmt,
        "state": state,
        "files": files,
        "voters": len(voters),
        "history_rows": len(history),
        "rejected_rows": len(rejects),
        "rejects_by_reason": {
            str(k): int(n) for k, n in reasons.value_counts().items()
        },
        "flags": flags.flags,
        "elections": {str(k): int(n) for k, n in elections.items()},
        "status": {
            str(k): int(n) for k, n in voters[schema.STATUS].value_counts().items()
        },
        "precincts": {
            str(k): int(n)
            for k, n in voters[schema.PRECINCT_ID].value_counts().sort_index().items()
        },
    }
    logger.info(
        "Loaded %s voters and %s history rows (%s rows rejected, %s flags)",
        f"{len(voters):,}",
        f"{len(history):,}",
        f"{len(rejects):,}",
        len(flags.flags),
    )
    for name, flag in flags.flags.items():
        logger.warning("Load check %s: %s rows", name, f"{flag['count']:,}")
    return report


def write_load_outputs(result: LoadResult, out_dir: Path) -> list[Path]:
    """
    Write the loaded tables and the load report for inspection.

    Parameters
    ----------
    result
        What :func:`load_voter_file` returned.
    out_dir
        Folder to write into (created if missing).

    Returns
    -------
    list of Path
        ``voters.parquet``, ``history.parquet``, ``rejects.csv``,
        ``load_report.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        out / "voters.parquet",
        out / "history.parquet",
        out / "rejects.csv",
        out / "load_report.json",
    ]
    result.voters.to_parquet(paths[0])
    result.history.to_parquet(paths[1], index=False)
    result.rejects.to_csv(paths[2], index=False)
    paths[3].write_text(json.dumps(result.report, indent=2, default=str) + "\n")
    return paths
