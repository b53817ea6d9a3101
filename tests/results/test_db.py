"""The campaign database file, its schema version and migrations; the config;
exporting the history; the command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SURVEY, Campaign

from canvass.cli import cli
from canvass.config import CampaignParams, PlanConfig
from canvass.errors import ConfigError, InputError
from canvass.outputs import RESULT_CODES
from canvass.results import (
    DONE,
    SCHEMA_VERSION,
    VAN_NAMES,
    export_results,
    import_results,
    open_db,
    parse_result,
)

DAY = dt.date.today() - dt.timedelta(days=1)


def _config(tmp_path: Path, **campaign: object) -> PlanConfig:
    return PlanConfig(campaign=CampaignParams(**campaign), base_dir=str(tmp_path))  # type: ignore[arg-type]


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    engine = open_db(_config(tmp_path, db="campaign.db"))
    engine.dispose()
    path = tmp_path / "campaign.db"
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    assert {"runs", "routes", "stops", "listed", "events", "assignments"} <= tables
    assert {"volunteers", "imports", "schema_version"} <= tables
    assert version == (SCHEMA_VERSION,)


def test_migrations_apply_once_and_newer_databases_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from canvass.results import _db

    config = _config(tmp_path, db="campaign.db")
    open_db(config).dispose()
    calls: list[int] = []

    nxt = SCHEMA_VERSION + 1

    def later(conn: sa.engine.Connection) -> None:
        calls.append(nxt)
        conn.execute(sa.text("CREATE TABLE extra (x INTEGER)"))

    monkeypatch.setattr(_db, "MIGRATIONS", [*_db.MIGRATIONS, (nxt, later)])
    monkeypatch.setattr(_db, "SCHEMA_VERSION", nxt)
    open_db(config).dispose()
    open_db(config).dispose()
    assert calls == [nxt]
    monkeypatch.undo()
    with pytest.raises(InputError, match="newer than this canvass"):
        open_db(config)


def test_a_version_2_database_gets_the_come_back_column(tmp_path: Path) -> None:
    """Version 3 adds ``events.come_back``, keeping the attempts already there."""
    config = _config(tmp_path, db="campaign.db")
    open_db(config).dispose()
    path = tmp_path / "campaign.db"
    with sqlite3.connect(path) as conn:  # back to version 2, with one attempt
        conn.execute("ALTER TABLE events DROP COLUMN come_back")
        conn.execute("DELETE FROM schema_version WHERE version > 2")
        conn.execute(
            "INSERT INTO events (event_id, voter_id, door_id, volunteer, "
            "contacted_at, contact_date, result, answers, source, contact_type) "
            "VALUES ('e-00000001', 'V1', 'D1', '', '2026-09-12', '2026-09-12', "
            "'COME_BACK', '{}', 'paper', 'walk')"
        )
    open_db(config).dispose()
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        rows = conn.execute("SELECT event_id, come_back FROM events").fetchall()
    assert version == (SCHEMA_VERSION,) == (3,)
    assert rows == [("e-00000001", None)]


def test_no_database_configured_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[campaign\] db"):
        open_db(_config(tmp_path))
    with pytest.raises(ConfigError, match="folder"):
        open_db(_config(tmp_path, db="missing/campaign.db"))


@pytest.mark.parametrize(
    ("campaign", "message"),
    [
        ({"survey": ("favourite_colour",)}, "neither built in"),
        ({"survey": ("needs_ride", "needs_ride")}, "twice"),
        ({"start": "2026-10-01", "end": "2026-09-01"}, "swap"),
        ({"start": "next week"}, "date like"),
        ({"questions": {"Bad Name": ("Y",)}}, "lower case"),
        ({"questions": {"result": ("Y",)}}, "not one of the file columns"),
        ({"questions": {"sign": ()}}, "distinct"),
        ({"questions": {"sign": ("Y", "y")}}, "distinct"),
        ({"db": "mysql://x/y"}, "postgresql"),
    ],
)
def test_campaign_settings_are_checked(campaign: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        CampaignParams(**campaign)


def test_campaign_section_from_toml(tmp_path: Path) -> None:
    toml = tmp_path / "canvass.toml"
    toml.write_text(
        '[campaign]\ndb = "c.db"\nsurvey = ["support_1_5", "yard_sign"]\n'
        '[campaign.questions]\nyard_sign = ["Y", "N", "ALREADY"]\n'
    )
    config = PlanConfig.from_toml(toml)
    assert config.campaign.survey == ("support_1_5", "yard_sign")
    assert config.campaign.all_questions["yard_sign"] == ("Y", "N", "ALREADY")


def test_result_names_use_the_walk_list_codes() -> None:
    codes = [c for c, _, _ in RESULT_CODES]
    assert set(VAN_NAMES) == set(codes)
    assert set(DONE) < set(codes)
    for code, mark, label in RESULT_CODES:
        assert parse_result(code) == code
        assert parse_result(mark.lower()) == code
        assert parse_result(f" {label} ") == code
        assert parse_result(VAN_NAMES[code]) == code
    assert parse_result("Left Message") is None


def _fill(campaign: Campaign, tmp_path: Path) -> Path:
    t = campaign.template()
    t["date"] = DAY.isoformat()
    t.loc[t.index[0], "result"] = "NH"
    t.loc[t.index[1], ["result", "support_1_5", "needs_ride"]] = ["C", "2", "Y"]
    t.loc[t.index[2], "result"] = "DNK"
    path = tmp_path / "filled.csv"
    t.to_csv(path, index=False)
    return path


def test_export_van_and_csv(campaign: Campaign, tmp_path: Path) -> None:
    config = campaign.copy(tmp_path)
    import_results([_fill(campaign, tmp_path)], config)
    assert export_results(config, "van", tmp_path / "van.csv") == 3
    van = pd.read_csv(tmp_path / "van.csv", dtype=str, keep_default_na=False)
    assert list(van.columns) == [
        "VANID", "Date Canvassed", "Contact Type", "Result", *SURVEY,
    ]  # fmt: skip
    assert set(van.Result) == {"Not Home", "Canvassed", "Do Not Walk"}
    assert set(van["Date Canvassed"]) == {f"{DAY.month}/{DAY.day}/{DAY.year}"}
    contact = van[van.Result == "Canvassed"].iloc[0]
    assert (contact.support_1_5, contact.needs_ride) == ("2", "Y")
    assert (tmp_path / "van.csv").stat().st_mode & 0o777 == 0o600
    assert export_results(config, "csv", tmp_path / "h.csv") == 3
    hist = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False)
    assert set(hist.result) == {"NOT_HOME", "CONTACTED", "DO_NOT_KNOCK"}
    assert set(hist.run_id) == {campaign.plan.run_id}
    assert "name" not in hist.columns
    assert list(hist.columns[-2:]) == ["source", "contact_type"]
    later = (DAY + dt.timedelta(days=1)).isoformat()
    assert export_results(config, "csv", tmp_path / "e.csv", since=later) == 0
    # the VAN file comes back in as a VAN bulk upload
    (tmp_path / "again").mkdir()
    back = campaign.copy(tmp_path / "again")
    report = import_results([tmp_path / "van.csv"], back)
    assert report.files[0].kind == "van"
    assert report.files[0].imported == 3


def test_cli_import_and_export(campaign: Campaign, tmp_path: Path) -> None:
    config = campaign.copy(tmp_path)
    toml = tmp_path / "canvass.toml"
    toml.write_text(
        f'[campaign]\ndb = "{config.campaign.db}"\n'
        'survey = ["support_1_5", "will_volunteer", "needs_ride"]\n'
    )
    path = _fill(campaign, tmp_path)
    runner = CliRunner()
    args = ["results", "import", str(path), "--config", str(toml)]
    rejects = tmp_path / "rej.csv"
    result = runner.invoke(cli, [*args, "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "3 imported, 0 already imported" in result.output
    result = runner.invoke(cli, [*args, "--rejects", str(rejects)])
    assert "0 imported, 3 already imported" in result.output
    out = tmp_path / "van.csv"
    result = runner.invoke(
        cli, ["results", "export", "--config", str(toml), "--format", "van",
              "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 attempts written" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = runner.invoke(cli, ["results", "import", str(bad), "--config", str(toml)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert len(result.output.strip().splitlines()) == 1
    assert "not a results file" in result.output


def test_import_needs_a_recorded_run(tmp_path: Path) -> None:
    config = _config(tmp_path, db="c.db")
    path = tmp_path / "p.csv"
    path.write_text("run_id,route_id,voter_id,date,result\nr,x,1,2026-01-01,NH\n")
    with pytest.raises(InputError, match="no runs yet"):
        import_results([path], config)


def test_redacted_runs_write_no_templates(demo_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from canvass.outputs import write_walk_lists

    redacted = dataclasses.replace(
        demo_plan,
        config=dataclasses.replace(
            demo_plan.config,
            output=dataclasses.replace(demo_plan.config.output, redact=True),
        ),
    )
    files = write_walk_lists(redacted, tmp_path)
    assert "results" not in files
    assert not (tmp_path / "results").exists()


def test_cli_run_records_itself(demo_town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = Path(demo_town.config).read_text()
    assert "[campaign]" not in text
    toml = Path(demo_town.config).with_name("canvass-campaign-test.toml")
    db = tmp_path / "campaign.db"
    toml.write_text(text + f'\n[campaign]\ndb = "{db}"\nsurvey = ["needs_ride"]\n')
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["-q", "run", "--config", str(toml), "--out", str(out),
              "--time-limit", "0", "--workers", "1"],
    )  # fmt: skip
    toml.unlink()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
        n_listed = conn.execute("SELECT count(*) FROM listed").fetchone()[0]
    template = pd.read_csv(
        sorted((out / "results").glob("*.csv"))[0], dtype=str, encoding="utf-8-sig"
    )
    assert set(template.run_id) == {run_id}
    assert template.columns[-1] == "needs_ride"
    assert n_listed > 0
