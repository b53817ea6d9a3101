"""Import results files into the campaign database: every row loaded or rejected.

All files are read and checked first (a file that cannot be read stops the import
before anything is written); then every row is either imported as a contact
attempt, found already imported, a blank paper row, or rejected with the reason, so
for every file rows = imported + already + blank + rejected. The whole import is one
database transaction: interrupted, it changes nothing.

Each attempt has an event id: the phone's own (a UUID made when the result was
recorded), or one derived from what identifies the attempt (paper: run, route,
voter and date; VAN: voter, date, result, contact type and canvasser). Importing a
file again therefore adds nothing; a row whose event is already in the database
with another result is rejected as a conflict rather than overwriting it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..config import PlanConfig
from ..errors import InputError
from ..load import split_member
from . import _db as db
from ._codes import CODES, normalise_answer, parse_result
from ._comeback import parse_come_back
from ._formats import ResultsFile, read_results_file

__all__ = ["FileCounts", "ImportReport", "import_results"]

logger = logging.getLogger(__name__)

#: Test hooks (used by the interruption test only): seconds to sleep after each
#: inserted attempt, and a file to append a line to after each.
SLEEP_ENV: Final = "CANVASS_TEST_IMPORT_SLEEP"
PROGRESS_ENV: Final = "CANVASS_TEST_IMPORT_PROGRESS"
REJECT_COLUMNS: Final = ("file", "line", "voter_id", "reason")
_EVENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,79}$")
_CHUNK = 500
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d")


@dataclass
class FileCounts:
    """What became of one file's rows: rows = imported + already + blank + rejected."""

    file: str
    kind: str
    rows: int
    imported: int = 0
    already: int = 0
    blank: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    """
    The outcome of one import.

    Parameters
    ----------
    files
        Counts per file.
    rejects
        Rejected rows: ``file``, ``line``, ``voter_id``, ``reason``.
    rejects_path
        Where the rejects were written (None when not written).
    """

    files: list[FileCounts]
    rejects: pd.DataFrame
    rejects_path: Path | None = None
    events: int = field(default=0)
    #: Runs the imported attempts belong to (their progress maps are drawn again).
    runs: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """Counts over all files."""
        keys = ("rows", "imported", "already", "blank", "rejected")
        return {k: sum(int(getattr(f, k)) for f in self.files) for k in keys}


def _parse_when(text: str, kind: str) -> tuple[str, dt.date] | str:
    """Return (contacted_at, date) or the reason the text is not a date."""
    if not text:
        return "no date" if kind != "phone" else "no time"
    if kind == "phone" or "T" in text:
        try:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return f"malformed time {text[:30]!r} (ISO 8601, e.g. 2026-09-05T14:05)"
        return stamp.isoformat(timespec="seconds"), stamp.date()
    head = text.split()[0]
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(head, fmt).date()
        except ValueError:
            continue
        return day.isoformat(), day
    return f"malformed date {text[:30]!r} (e.g. 2026-09-05 or 9/5/2026)"


def _event_id(kind: str, row: pd.Series, result: str, day: dt.date) -> str:
    if kind == "phone":
        return str(row["event_id"])
    if kind == "paper":
        key = [row["run_id"], row["route_id"], row["voter_id"], day.isoformat()]
    else:
        key = [
            row["voter_id"],
            day.isoformat(),
            result,
            str(row["contact_type"]).lower(),
            row["volunteer"],
        ]
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode()).hexdigest()
    return f"{kind}-{digest[:32]}"


def _fingerprint(event: dict[str, Any]) -> tuple[str, ...]:
    """Return what must agree for two records of one event id to be one attempt."""
    return (
        str(event["voter_id"]),
        str(event["contact_date"]),
        str(event["result"]),
        json.dumps(event["answers"], sort_keys=True),
        str(event["run_id"] or ""),
        str(event["route_id"] or ""),
        str(event.get("come_back") or ""),
    )


@dataclass
class _Known:
    """What the database knows about the voters, runs and events of an import."""

    runs: dict[str, str]  # run_id -> created_at
    routes: set[tuple[str, str]]
    listed: pd.DataFrame  # run_id, route_id, voter_id, door_id, created_at
    events: dict[str, tuple[str, ...]]


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _known(conn: Connection, voter_ids: set[str], event_ids: set[str]) -> _Known:
    runs = {r.run_id: r.created_at for r in conn.execute(sa.select(db.runs))}
    if not runs:
        msg = (
            "the campaign database has no runs yet: plan with `canvass run` and this "
            "[campaign] db first, so results can be checked against the walk lists."
        )
        raise InputError(msg)
    routes = {
        (r.run_id, r.route_id)
        for r in conn.execute(sa.select(db.routes.c.run_id, db.routes.c.route_id))
    }
    parts = []
    for chunk in _chunks(sorted(voter_ids)):
        q = sa.select(db.listed).where(db.listed.c.voter_id.in_(chunk))
        parts.append(pd.DataFrame(conn.execute(q).mappings().all()))
    cols = ["run_id", "route_id", "voter_id", "door_id", "is_target"]
    listed = pd.concat([p for p in parts if len(p)] or [pd.DataFrame(columns=cols)])
    listed["created_at"] = listed["run_id"].map(runs)
    listed = listed.sort_values("created_at", kind="stable")
    events: dict[str, tuple[str, ...]] = {}
    for chunk in _chunks(sorted(event_ids)):
        q = sa.select(db.events).where(db.events.c.event_id.in_(chunk))
        for ev in conn.execute(q).mappings():
            events[ev["event_id"]] = _fingerprint(dict(ev))
    return _Known(runs, routes, listed, events)


class _Checker:
    """Turns rows into attempts or reasons, remembering the import's own events."""

    def __init__(self, config: PlanConfig, known: _Known) -> None:
        self.config = config
        self.known = known
        self.questions = config.campaign.all_questions
        self.today = dt.date.today()
        self.start = dt.date.fromisoformat(config.campaign.start or "0001-01-01")
        self.end = dt.date.fromisoformat(config.campaign.end or "9999-12-31")
        self.seen: dict[str, tuple[str, int, tuple[str, ...]]] = {}
        #: attempts found already imported (their runs' progress is drawn again)
        self.already: list[dict[str, Any]] = []
        by_voter = known.listed.groupby("voter_id", sort=False)
        self.latest_door = by_voter["door_id"].last().to_dict()
        self.on_route = {
            (r.run_id, r.route_id, r.voter_id): r.door_id
            for r in known.listed.itertuples()
        }
        self.route_ids = {(r.voter_id, r.route_id) for r in known.listed.itertuples()}

    def answers(self, row: pd.Series) -> dict[str, str] | str:
        out: dict[str, str] = {}
        for col in row.index:
            if not str(col).startswith("q:") or not row[col]:
                continue
            q = str(col)[2:]
            answer = normalise_answer(str(row[col]), self.questions[q])
            if answer is None:
                return (
                    f"answer {str(row[col])[:20]!r} to {q} is not one of "
                    f"{list(self.questions[q])}"
                )
            out[q] = answer
        return out

    def check(
        self, f: ResultsFile, line: int, row: pd.Series
    ) -> dict[str, Any] | str | None:
        """Return the attempt, the reject reason, or None for a blank paper row."""
        answers = self.answers(row)
        if isinstance(answers, str):
            return answers
        raw = str(row["result"])
        if not raw and not answers:
            return None if f.kind == "paper" else "no result"
        result = parse_result(raw) if raw else "CONTACTED"
        if result is None:
            return f"unknown result code {raw[:20]!r} (use one of {', '.join(CODES)})"
        if answers and result != "CONTACTED":
            return f"survey answers with result {result} (only CONTACTED has answers)"
        come_back = parse_come_back(str(row["come_back"]))
        if come_back is None:
            return (
                f"come_back {str(row['come_back'])[:20]!r} is not a day, a time or a "
                "slot (e.g. 2026-09-19, 18:30, 2026-09-19T18:30, weekend_day)"
            )
        if come_back and result != "COME_BACK":
            return f"come_back with result {result} (only COME_BACK has one)"
        voter = str(row["voter_id"])
        if not voter:
            return "no voter id"
        when = _parse_when(str(row["when"]), f.kind)
        if isinstance(when, str):
            return when
        stamp, day = when
        if day > self.today:
            return f"dated {day} in the future"
        if not self.start <= day <= self.end:
            first = self.config.campaign.start or "…"
            last = self.config.campaign.end or "…"
            return f"dated {day}, outside the campaign ({first} to {last})"
        if voter not in self.latest_door:
            return "unknown voter id (on no walk list of this campaign)"
        run, route = str(row["run_id"]), str(row["route_id"])
        door = self.latest_door[voter]
        if run and run not in self.known.runs:
            return f"unknown run {run[:40]!r} (not in this campaign database)"
        if run and route:
            if (run, route) not in self.known.routes:
                return f"unknown route {route[:40]!r} in run {run[:40]!r}"
            if (run, route, voter) not in self.on_route:
                return f"voter not on route {route[:40]!r}"
            door = self.on_route[(run, route, voter)]
        elif route and (voter, route) not in self.route_ids:
            return f"voter not on route {route[:40]!r}"
        if f.kind == "phone" and not _EVENT_ID.match(str(row["event_id"])):
            return "malformed event id (8-80 letters, digits, '-', '.', ':', '_')"
        event = {
            "event_id": _event_id(f.kind, row, result, day),
            "voter_id": voter,
            "door_id": door,
            "run_id": run or None,
            "route_id": route or None,
            "volunteer": str(row["volunteer"])[:200],
            "contacted_at": stamp,
            "contact_date": day,
            "result": result,
            "answers": answers,
            "source": f.kind,
            "contact_type": (str(row["contact_type"]) or "walk").lower()[:40],
            "come_back": come_back or None,
        }
        return self._dedupe(f, line, event)

    def _dedupe(
        self, f: ResultsFile, line: int, event: dict[str, Any]
    ) -> dict[str, Any] | str:
        eid = event["event_id"]
        print_ = _fingerprint(event)
        if eid in self.seen:
            name, first, earlier = self.seen[eid]
            same = "duplicate of" if earlier == print_ else "conflicts with"
            return f"{same} line {first} of {name}"
        self.seen[eid] = (f.name, line, print_)
        if eid in self.known.events:
            if self.known.events[eid] == print_:
                self.already.append(event)
                return "already"
            return "conflicts with an attempt already imported (same event id)"
        return event


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    archive, _ = split_member(path)
    with archive.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _insert(conn: Connection, events: list[dict[str, Any]]) -> None:
    sleep = float(os.environ.get(SLEEP_ENV, "0") or 0)
    progress = os.environ.get(PROGRESS_ENV, "")
    if not sleep and not progress:
        for chunk in range(0, len(events), _CHUNK):
            conn.execute(db.events.insert(), events[chunk : chunk + _CHUNK])
        return
    for event in events:  # test hook: one at a time, observable from outside
        conn.execute(db.events.insert(), [event])
        if progress:
            with Path(progress).open("a", encoding="utf-8") as fh:
                fh.write(f"{event['event_id']}\n")
        time.sleep(sleep)


def _write_rejects(rejects: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        rejects.to_csv(fh, index=False, lineterminator="\n")
    return path


def import_results(
    paths: list[Path],
    config: PlanConfig,
    *,
    rejects_path: Path | None = None,
) -> ImportReport:
    """
    Import results files into the campaign database, in one transaction.

    Parameters
    ----------
    paths
        Phone CSVs, filled paper templates and VAN exports or bulk-upload files,
        in any order and mix (see docs/results.md).
    config
        The configuration: ``[campaign]`` database, dates and survey questions.
    rejects_path
        Where to write the rejected rows (``file``, ``line``, ``voter_id``,
        ``reason``; mode 0600); None = do not write them.

    Returns
    -------
    ImportReport
        Counts per file and the rejected rows.

    Raises
    ------
    InputError
        If a file cannot be read or is not a results file (nothing is imported),
        or the database has no runs yet.
    ConfigError
        If no campaign database is configured.
    """
    files = [read_results_file(Path(p), config) for p in paths]
    engine = db.open_db(config)
    rejects: list[dict[str, Any]] = []
    try:
        with engine.begin() as conn:
            voters = {v for f in files for v in f.rows["voter_id"] if v}
            eids = {e for f in files for e in f.rows["event_id"] if e}
            checker = _Checker(config, _known(conn, voters, eids))
            staged = [_check_file(f, checker, rejects) for f in files]
            # derived event ids are known only now: look them up as well
            derived = {e["event_id"] for _, _, g in staged for _, e in g} - eids
            late = _known_events(conn, derived)
            counts = [_store(conn, f, c, good, late, rejects) for f, c, good in staged]
            mine = [e for _, _, g in staged for _, e in g] + checker.already
            runs = _runs_of(checker.known, mine)
    finally:
        engine.dispose()
    frame = pd.DataFrame(rejects, columns=list(REJECT_COLUMNS))
    frame = frame.sort_values(["file", "line"], kind="stable").reset_index(drop=True)
    report = ImportReport(counts, frame, None, sum(c.imported for c in counts), runs)
    if rejects_path is not None:
        report.rejects_path = _write_rejects(frame, rejects_path)
    for c in counts:
        logger.info(
            "%s (%s): %s rows, %s imported, %s already imported, %s blank, %s rejected",
            c.file, c.kind, c.rows, c.imported, c.already, c.blank, c.rejected,
        )  # fmt: skip
    return report


_Staged = tuple[ResultsFile, FileCounts, list[tuple[int, dict[str, Any]]]]


def _reject(
    rejects: list[dict[str, Any]], f: ResultsFile, line: int, voter: str, reason: str
) -> None:
    rejects.append(
        {"file": f.name, "line": line, "voter_id": voter[:80], "reason": reason}
    )


def _check_file(
    f: ResultsFile, checker: _Checker, rejects: list[dict[str, Any]]
) -> _Staged:
    """Check every row of one file; return the attempts to store, with counts."""
    c = FileCounts(f.name, f.kind, f.n_rows)
    for bad_line, why in zip(f.bad["line"], f.bad["reason"], strict=True):
        _reject(rejects, f, int(bad_line), "", f"malformed row: {why}")
        c.rejected += 1
    good: list[tuple[int, dict[str, Any]]] = []
    for line, row in zip(f.rows.index.tolist(), f.rows.to_dict("records"), strict=True):
        outcome = checker.check(f, int(line), pd.Series(row))
        if outcome is None:
            c.blank += 1
        elif outcome == "already":
            c.already += 1
        elif isinstance(outcome, str):
            c.rejected += 1
            _reject(rejects, f, int(line), str(row["voter_id"]), outcome)
        else:
            good.append((int(line), outcome))
    return f, c, good


def _store(
    conn: Connection,
    f: ResultsFile,
    c: FileCounts,
    good: list[tuple[int, dict[str, Any]]],
    late: dict[str, tuple[str, ...]],
    rejects: list[dict[str, Any]],
) -> FileCounts:
    """Insert one file's new attempts (and its ``imports`` row); return its counts."""
    keep = []
    for line, event in good:
        before = late.get(event["event_id"])
        if before is None:
            keep.append(event)
        elif before == _fingerprint(event):
            c.already += 1
        else:
            c.rejected += 1
            _reject(
                rejects, f, line, event["voter_id"],
                "conflicts with an attempt already imported (same voter, route and "
                "date; another result)",
            )  # fmt: skip
    c.imported = len(keep)
    res = conn.execute(
        db.imports.insert().values(
            file_name=f.name[:300],
            sha256=_sha256(f.path),
            kind=f.kind,
            imported_at=_now(),
            rows=c.rows,
            imported=c.imported,
            already=c.already,
            blank=c.blank,
            rejected=c.rejected,
        )
    )
    key = res.inserted_primary_key
    import_id = key[0] if key is not None else None
    _insert(conn, [{**e, "import_id": import_id} for e in keep])
    return c


def _known_events(conn: Connection, ids: set[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for chunk in _chunks(sorted(ids)):
        q = sa.select(db.events).where(db.events.c.event_id.in_(chunk))
        for ev in conn.execute(q).mappings():
            out[ev["event_id"]] = _fingerprint(dict(ev))
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _runs_of(known: _Known, events: list[dict[str, Any]]) -> list[str]:
    """Return the runs attempts belong to: the run named, else runs listing them."""
    runs = {str(e["run_id"]) for e in events if e["run_id"]}
    unnamed = [e for e in events if not e["run_id"]]
    if unnamed:
        listed = known.listed
        by_voter = listed.groupby("voter_id")[["run_id", "created_at"]]
        for e in unnamed:
            if e["voter_id"] not in by_voter.groups:
                continue
            rows = by_voter.get_group(e["voter_id"])
            day = str(e["contact_date"])
            pairs = zip(rows["run_id"], rows["created_at"], strict=True)
            runs.update(str(r) for r, c in pairs if str(c)[:10] <= day)
    return sorted(runs)
