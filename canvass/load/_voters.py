"""Load stage: voter files, vote history and precinct shapes into canonical tables.

:func:`load_voter_file` reads the configured layout (``ma``, ``nc``, ``van`` or
``mapped``, see :mod:`canvass.load._adapters` and :mod:`canvass.load._mapped`), then
types and checks every row in one pass and reports all problems together. Nothing is
lost silently: each input row is either loaded or written to the rejects table with its
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

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema
from ..config import PlanConfig
from ..errors import DataQualityWarning, InputError
from ._adapters import Parsed, read_ma, read_nc, read_van
from ._archive import expand_input
from ._calendar import calendar_rows, typed_calendar
from ._fields import classify_election, classify_many, label_kind, parse_dates
from ._precincts import (
    local_crs,
    match_precincts,
    normalise_precinct_code,
    precinct_code,
    read_precincts,
)
from ._validate import Flags, Rejects, check_history, check_voters

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
        PII-free counts: per-file rows in/loaded/rejected, flags, elections, and
        ``calendar``: the typed election calendar (date, the file's type, the type
        given, by which rule, votes, turnout and precinct coverage per election).
    """

    voters: pd.DataFrame
    history: pd.DataFrame
    rejects: pd.DataFrame
    report: dict[str, Any]


def _expand(config: PlanConfig, patterns: tuple[str, ...], setting: str) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        paths.extend(expand_input(config.resolve(pattern), setting))
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
        from ._mapped import read_mapped

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


def _finish(parsed: Parsed, config: PlanConfig, *, fmt: str, state: str) -> LoadResult:
    rejects = Rejects(parsed)
    flags = Flags()
    voters = check_voters(parsed, config, rejects, flags)
    history = check_history(parsed, config, voters, rejects, flags, state=state)
    if (voters[schema.CITY] == "").all():  # MA: the town from the history files
        city = pd.Series(history.city, index=voters.index, dtype=str).fillna("")
        # A VOT file is one town's: voters with no history yet (new registrants)
        # get the town their file's other voters voted in.
        known = city[city != ""]
        if len(known):
            town = known.groupby(voters.loc[known.index, schema.SOURCE]).agg(
                lambda s: s.value_counts().index[0]
            )
            blank = city == ""
            city[blank] = voters.loc[blank, schema.SOURCE].map(town).fillna("")
        voters[schema.CITY] = city
    rej = rejects.frame()
    report = _report(parsed, voters, history.table, rej, flags, fmt=fmt, state=state)
    calendar = typed_calendar(
        history.table,
        voters,
        state=state,
        overrides=config.elections,
        min_coverage=config.score.min_precinct_coverage,
        empty=_empty_elections(parsed, config, state, history.table),
        warn=False,
    )
    report["calendar"] = calendar_rows(calendar)
    return LoadResult(voters=voters, history=history.table, rejects=rej, report=report)


def _empty_elections(
    parsed: Parsed, config: PlanConfig, state: str, history: pd.DataFrame
) -> list[tuple[str, pd.Timestamp, str]]:
    """Wide history columns nobody voted in, as (id, date, file type)."""
    if not parsed.empty_elections:
        return []
    texts = pd.Series([d for d, _ in parsed.empty_elections], dtype=str)
    raw = pd.Series([t for _, t in parsed.empty_elections], dtype=str)
    dates, _ = parse_dates(texts, fmt=config.mapping.date_format)
    types = classify_many(
        raw, dates, state=state, overrides=config.mapping.election_types
    )
    known = set(history[schema.ELECTION_ID].astype(str))
    out: list[tuple[str, pd.Timestamp, str]] = []
    for date, etype, text in zip(dates, types, raw, strict=True):
        if pd.isna(date) or not etype:
            continue
        eid = f"{pd.Timestamp(date):%Y-%m-%d}_{etype}"
        if eid in known:
            eid = f"{eid}_{label_kind(text)}"
        known.add(eid)
        out.append((eid, pd.Timestamp(date), str(etype)))
    return out


def _report(
    parsed: Parsed,
    voters: pd.DataFrame,
    history: pd.DataFrame,
    rejects: pd.DataFrame,
    flags: Flags,
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
    marks: dict[str, int] = {}
    for f in parsed.files:
        found = f.get("unknown_vote_marks")
        for mark, n in (found if isinstance(found, dict) else {}).items():
            marks[str(mark)] = marks.get(str(mark), 0) + int(n)
    if marks:
        flags.flags["unknown_vote_marks"] = {
            "count": sum(marks.values()),
            "marks": dict(sorted(marks.items(), key=lambda kv: -kv[1])),
        }
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
    if warning := _no_history_warning(parsed, history, rejects):
        report["warnings"] = [warning]
        logger.warning("%s", warning)
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


def _no_history_warning(
    parsed: Parsed, history: pd.DataFrame, rejects: pd.DataFrame
) -> str:
    """Return a plain sentence when no vote at all was loaded, else ``""``."""
    if len(history):
        return ""
    hist_files = [f for f in parsed.files if f.get("kind") == "history"]
    names = {str(f["file"]) for f in hist_files}
    n_in = sum(int(str(f["rows_in"])) for f in hist_files)
    n_rej = int(rejects["file"].isin(names).sum())
    if not hist_files:
        why = "no history file or history columns were given"
    elif n_rej:
        why = f"all {n_in:,} history rows read were rejected (see rejects.csv)"
    else:
        why = "the history holds no vote"
    return (
        f"No vote history loaded: {why}. Every voter looks new and gets the same "
        "fallback turnout score, so targeting cannot tell voters apart by past "
        "turnout; give the history (inputs.history or [mapping] history)."
    )


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
