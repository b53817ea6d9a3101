"""Importing results: paper templates, phone CSVs, VAN files, and broken files.

Every file either stops with a one-line error naming it, or has every row imported,
found already imported, blank, or rejected with a reason.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import SURVEY, Campaign

from canvass.config import PlanConfig
from canvass.errors import InputError
from canvass.results import PHONE_COLUMNS, import_results, open_db

TODAY = dt.date.today()
DAY = (TODAY - dt.timedelta(days=3)).isoformat()


def count(config: PlanConfig, table: str) -> int:
    """Rows in a table of the campaign database (SQLite or PostgreSQL)."""
    engine = open_db(config)
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    finally:
        engine.dispose()
    return int(n or 0)


def _check_counts(report: Any) -> None:
    for c in report.files:
        assert c.rows == c.imported + c.already + c.blank + c.rejected, c
    assert len(report.rejects) == report.totals["rejected"]


def _filled(campaign: Campaign, n: int = 4) -> pd.DataFrame:
    t = campaign.template()
    t["date"] = DAY
    t.loc[t.index[0], "result"] = "NH"
    t.loc[t.index[1], "result"] = "contacted"
    t.loc[t.index[1], "support_1_5"] = "4"
    t.loc[t.index[1], "needs_ride"] = "y"
    t.loc[t.index[2], "result"] = "Refused"
    t.loc[t.index[3], "will_volunteer"] = "N"  # answers alone: a contact
    return t.iloc[: max(n, 4)] if n else t


def _phone(campaign: Campaign, rows: list[dict[str, str]]) -> pd.DataFrame:
    t = campaign.template()
    out = []
    for i, extra in enumerate(rows):
        base = t.iloc[i % len(t)]
        row = {
            "event_id": str(uuid.uuid4()),
            "voter_id": base["voter_id"],
            "run_id": base["run_id"],
            "route_id": base["route_id"],
            "door_id": base["door_id"],
            "time": f"{DAY}T14:0{i % 10}:00-04:00",
            "result": "NOT_HOME",
            "volunteer": "Sam",
            **dict.fromkeys(SURVEY, ""),
        }
        row.update(extra)
        out.append(row)
    return pd.DataFrame(out, columns=[*PHONE_COLUMNS, *SURVEY])


def test_paper_template_imports_and_again_adds_nothing(
    campaign: Campaign, tmp_path: Path
) -> None:
    config = campaign.copy(tmp_path)
    filled = _filled(campaign, n=0)
    path = tmp_path / "filled.csv"
    filled.to_csv(path, index=False)
    first = import_results([path], config, rejects_path=tmp_path / "rej.csv")
    _check_counts(first)
    (c,) = first.files
    assert (c.kind, c.imported, c.rejected) == ("paper", 4, 0)
    assert c.blank == len(filled) - 4
    again = import_results([path], config)
    assert again.files[0].imported == 0
    assert again.files[0].already == 4
    assert count(config, "events") == 4
    with sqlite3.connect(config.campaign.db) as conn:
        rows = dict(conn.execute("SELECT result, answers FROM events").fetchall())
    assert set(rows) == {"NOT_HOME", "CONTACTED", "REFUSED"}
    assert '"support_1_5": "4"' in rows["CONTACTED"] or '"will_volunteer"' in str(rows)
    assert (tmp_path / "rej.csv").stat().st_mode & 0o777 == 0o600


def test_a_corrected_paper_row_is_a_conflict_not_a_second_attempt(
    campaign: Campaign, tmp_path: Path
) -> None:
    config = campaign.copy(tmp_path)
    path = tmp_path / "filled.csv"
    filled = _filled(campaign)
    filled.to_csv(path, index=False)
    import_results([path], config)
    filled.loc[filled.index[0], "result"] = "COME_BACK"
    filled.to_csv(path, index=False)
    report = import_results([path], config)
    _check_counts(report)
    assert report.files[0].rejected == 1
    assert "conflicts with an attempt already imported" in report.rejects.reason[0]
    assert count(config, "events") == 4


def test_phone_csv_imports_by_event_id(campaign: Campaign, tmp_path: Path) -> None:
    config = campaign.copy(tmp_path)
    phone = _phone(
        campaign,
        [{}, {"result": "C", "support_1_5": "5"}, {"result": "MV"}, {}],
    )
    path = tmp_path / "phone.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        phone.to_csv(fh, index=False)
    report = import_results([path], config)
    _check_counts(report)
    assert report.files[0].kind == "phone"
    assert report.files[0].imported == 4
    assert import_results([path], config).files[0].already == 4


def test_van_export_utf16_with_extra_columns(
    campaign: Campaign, tmp_path: Path
) -> None:
    config = campaign.copy(tmp_path)
    t = campaign.template()
    us = f"{TODAY.month}/{max(TODAY.day - 1, 1)}/{TODAY.year}"
    if TODAY.day == 1:
        us = f"{TODAY.month}/1/{TODAY.year}"
    lines = [
        "Voter File VANID\tContact Name\tDate Canvassed\tResult\tContact Type\t"
        "Canvassed By\tCreated By\tDate Created\tInput Type Name\tMiniVAN Campaign"
    ]
    for vid, result in [
        (t.voter_id[0], "Not Home"),
        (t.voter_id[1], "Canvassed"),
        (t.voter_id[2], "Language Barrier"),
        ("999999999", "Not Home"),  # not on any walk list
        (t.voter_id[3], "Left Message"),  # a phone result, not a door result
    ]:
        lines.append(
            f"{vid}\tX, Y\t{us}\t{result}\tWalk\tSam\tAdmin\t{us}\tMiniVAN\tFall"
        )
    path = tmp_path / "ContactHistory.xls"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    report = import_results([path], config)
    _check_counts(report)
    (c,) = report.files
    assert (c.kind, c.rows, c.imported, c.rejected) == ("van", 5, 3, 2)
    reasons = " ".join(report.rejects.reason)
    assert "unknown voter id" in reasons
    assert "unknown result code 'Left Message'" in reasons


def _corpus(campaign: Campaign, folder: Path) -> dict[str, tuple[Path, str]]:
    """Broken results files: name -> (file, expected error or reject reason)."""
    t = _filled(campaign)
    good = t.iloc[:4]
    out: dict[str, tuple[Path, str]] = {}

    def csv(name: str, frame: pd.DataFrame, expect: str, **kw: Any) -> None:
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, **kw)
        out[name] = (path, expect)

    def raw(name: str, data: bytes, expect: str) -> None:
        path = folder / f"{name}.csv"
        path.write_bytes(data)
        out[name] = (path, expect)

    raw("binary", b"PK\x03\x04" + bytes(range(256)) * 8, "binary")
    raw("empty", b"", "empty")
    raw("utf32", good.to_csv(index=False).encode("utf-32"), "binary data")
    raw("header_only", b"run_id,route_id,voter_id,date,result\n", "no rows")
    csv("missing_result_column", good.drop(columns=["result"]), "lacks the column")
    csv("not_results", pd.DataFrame({"a": ["1"], "b": ["2"]}), "not a results file")
    text = good.to_csv(index=False)
    raw("truncated", text.encode()[: len(text) - 12], "ends in the middle")
    dup = good.rename(columns={"unit": "result"})
    csv("column_twice", dup, "twice")
    unknown = good.copy()
    unknown.loc[unknown.index[0], "result"] = "XYZZY"
    csv("unknown_code", unknown, "unknown result code")
    ids = good.copy()
    ids.loc[ids.index[0], "voter_id"] = "NOPE0001"
    csv("unknown_voter", ids, "unknown voter id")
    future = good.copy()
    future["date"] = (TODAY + dt.timedelta(days=30)).isoformat()
    csv("future_dates", future, "in the future")
    early = good.copy()
    early["date"] = "2019-06-01"
    csv("before_campaign", early, "outside the campaign")
    bad_date = good.copy()
    bad_date["date"] = "someday"
    csv("malformed_date", bad_date, "malformed date")
    other_route = good.copy()
    other_route["route_id"] = next(
        r for r in campaign.plan.routes.index if r != good.route_id.iloc[0]
    )
    csv("voter_not_on_route", other_route, "voter not on route")
    run = good.copy()
    run["run_id"] = "some-other-run"
    csv("unknown_run", run, "unknown run")
    answers = good.copy()
    answers.loc[answers.index[0], "support_1_5"] = "3"  # with result NH
    csv("answers_without_contact", answers, "survey answers with result NOT_HOME")
    fields = (text.rstrip("\n") + "\n" + text.splitlines()[1] + ",x,y\n").encode()
    raw("malformed_row", fields, "malformed row")
    phone = _phone(campaign, [{}, {}])
    phone.loc[1] = phone.loc[0]
    csv("duplicated_rows", phone, "duplicate of line 2")
    badid = _phone(campaign, [{"event_id": "x"}])
    csv("malformed_event_id", badid, "malformed event id")
    conflict = _phone(campaign, [{}, {}])
    conflict.loc[1, "event_id"] = conflict.loc[0, "event_id"]
    conflict.loc[1, "result"] = "REFUSED"
    csv("conflicting_event", conflict, "conflicts with line 2")
    return out


def test_broken_corpus_one_line_errors_or_rejected_rows(
    campaign: Campaign, tmp_path: Path
) -> None:
    corpus = _corpus(campaign, tmp_path)
    assert len(corpus) >= 15
    config = campaign.copy(tmp_path)
    for name, (path, expect) in corpus.items():
        try:
            report = import_results([path], config)
        except InputError as err:
            message = str(err)
            assert "\n" not in message, name
            assert str(path) in message, name
            assert expect in message, (name, message)
            continue
        _check_counts(report)
        assert report.totals["rejected"] >= 1, name
        assert any(expect in r for r in report.rejects.reason), (name, report.rejects)


def test_a_bad_file_stops_the_whole_import(campaign: Campaign, tmp_path: Path) -> None:
    config = campaign.copy(tmp_path)
    good = tmp_path / "good.csv"
    _filled(campaign).to_csv(good, index=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,here\n1,2\n")
    with pytest.raises(InputError, match="not a results file"):
        import_results([good, bad], config)
    assert count(config, "events") == 0
    assert count(config, "imports") == 0


def kill_mid_import(
    campaign: Campaign, config: PlanConfig, tmp_path: Path
) -> tuple[int, int]:
    """Start an import in a subprocess, SIGKILL it after 5 of 30 rows are inserted.

    Returns the (events, imports) counts before and checks they are unchanged after.
    """
    db = config.campaign.db
    before = (count(config, "events"), count(config, "imports"))
    phone = _phone(campaign, [{"result": "NOT_HOME"} for _ in range(30)])
    path = tmp_path / "phone.csv"
    phone.to_csv(path, index=False)
    toml = tmp_path / "canvass.toml"
    toml.write_text(
        f'[campaign]\ndb = "{db}"\nstart = "2020-01-01"\n'
        f"survey = {list(SURVEY)!r}\n".replace("'", '"')
    )
    progress = tmp_path / "progress.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "CANVASS_TEST_IMPORT_SLEEP": "0.2",
        "CANVASS_TEST_IMPORT_PROGRESS": str(progress),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "canvass", "results", "import", str(path),
         "--config", str(toml), "--rejects", str(tmp_path / "rej.csv")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if progress.exists() and len(progress.read_text().splitlines()) >= 5:
            break
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"import ended early: {err[-500:]}")
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the import never got going")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(progress.read_text().splitlines()) < 30  # killed mid-way
    assert (count(config, "events"), count(config, "imports")) == before
    report = import_results([path], config)  # and it can be imported afterwards
    assert report.files[0].imported == 30
    return before


def test_killed_import_changes_nothing(campaign: Campaign, tmp_path: Path) -> None:
    config = campaign.copy(tmp_path)
    first = tmp_path / "first.csv"
    _filled(campaign).to_csv(first, index=False)
    import_results([first], config)
    assert kill_mid_import(campaign, config, tmp_path) == (4, 1)
    with sqlite3.connect(config.campaign.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_come_back_column_is_checked_and_stored(
    campaign: Campaign, tmp_path: Path
) -> None:
    """The optional ``come_back`` column: normalised, and rejected when wrong."""
    config = campaign.copy(tmp_path)
    phone = _phone(
        campaign,
        [
            {"result": "CB", "come_back": "Weekend day"},
            {"result": "COME_BACK", "come_back": "9/19/2026 6:30 pm"},
            {"result": "COME_BACK"},  # no time said
            {"result": "COME_BACK", "come_back": "tomorrow-ish"},
            {"result": "NOT_HOME", "come_back": "18:30"},
        ],
    )
    path = tmp_path / "phone.csv"
    phone.to_csv(path, index=False)
    report = import_results([path], config)
    _check_counts(report)
    assert report.totals["imported"] == 3
    reasons = sorted(report.rejects.reason)
    assert reasons[0].startswith("come_back 'tomorrow-ish' is not a day, a time")
    assert reasons[1] == "come_back with result NOT_HOME (only COME_BACK has one)"
    with sqlite3.connect(config.campaign.db) as conn:
        got = sorted(
            conn.execute("SELECT come_back FROM events").fetchall(),
            key=lambda r: str(r[0]),
        )
    assert got == [("2026-09-19T18:30",), (None,), ("weekend_day",)]
    # a paper template has the column too, empty until filled in
    filled = _filled(campaign)
    assert "come_back" in filled.columns
    assert set(filled["come_back"]) == {""}
    filled.loc[filled.index[0], ["result", "come_back"]] = ["CB", "2026-09-20"]
    paper = tmp_path / "paper.csv"
    filled.to_csv(paper, index=False)
    report = import_results([paper], config)
    _check_counts(report)
    assert report.totals["rejected"] == 0
    with sqlite3.connect(config.campaign.db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM events WHERE come_back = '2026-09-20'"
        ).fetchone() == (1,)


def test_come_back_values_are_normalised() -> None:
    from canvass.results._comeback import come_back_meets, parse_come_back

    assert parse_come_back("") == ""
    assert parse_come_back(" Weekend-Evening ") == "weekend_evening"
    assert parse_come_back("evening") == "evening"
    assert parse_come_back("6:05 am") == "06:05"
    assert parse_come_back("12:30 am") == "00:30"
    assert parse_come_back("2026-09-19T18:30:00-04:00") == "2026-09-19T18:30"
    for bad in ("13:00 pm", "24:00", "2026-02-30", "saturday", "18h30"):
        assert parse_come_back(bad) is None, bad
    # the next shift (day, slot) against what was asked for
    assert not come_back_meets("2026-09-19", "2026-09-16", "weekday_evening", 17)
    assert come_back_meets("2026-09-19", "2026-09-19", "weekend_day", 17)
    assert come_back_meets("2026-09-19", "2026-09-26", "weekend_day", 17)
    assert not come_back_meets("18:30", "2026-09-19", "weekend_day", 17)
    assert come_back_meets("18:30", "2026-09-19", "weekend_evening", 17)
    assert not come_back_meets("weekend", "", "weekday_evening", 17)
    assert come_back_meets("weekend", "", "weekend_day", 17)
    assert not come_back_meets("2026-09-19T10:00", "2026-09-19", "weekend_evening", 17)
    assert come_back_meets("weekend_day", "", "", 17)  # no slot said: any shift
    assert come_back_meets("", "2026-09-19", "weekday_day", 17)
