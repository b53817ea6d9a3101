"""The same schema and the same operations on a real PostgreSQL server.

The server is started by the ``postgres_server`` fixture (Debian's binaries, unix
socket only); these tests skip with the reason when none can be started.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from conftest import Campaign

from canvass.config import PlanConfig
from canvass.results import (
    ATTEMPTS,
    SCHEMA_VERSION,
    apply_history,
    export_results,
    import_results,
    open_db,
    record_run,
)

DAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def _on(campaign: Campaign, url: str) -> PlanConfig:
    c = dataclasses.replace(campaign.config.campaign, db=url)
    return dataclasses.replace(campaign.config, campaign=c)


def _count(config: PlanConfig, table: str) -> int:
    engine = open_db(config)
    with engine.connect() as conn:
        n = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    engine.dispose()
    return int(n or 0)


def test_postgres_schema_version(campaign: Campaign, postgres_url: str) -> None:
    config = _on(campaign, postgres_url)
    engine = open_db(config)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        version = conn.execute(sa.text("SELECT max(version) FROM schema_version"))
        assert version.scalar() == SCHEMA_VERSION
    engine.dispose()
    assert {"runs", "routes", "stops", "listed", "events", "assignments"} <= names
    open_db(config).dispose()  # opening again applies nothing
    assert _count(config, "schema_version") == SCHEMA_VERSION


def test_postgres_record_import_export_history(
    campaign: Campaign, postgres_url: str, tmp_path: Path
) -> None:
    config = _on(campaign, postgres_url)
    plan = dataclasses.replace(campaign.plan, config=config)
    listed = record_run(plan)
    assert _count(config, "listed") == listed
    assert _count(config, "stops") == len(plan.stops)
    t = campaign.template()
    t["date"] = DAY
    t.loc[t.index[0], "result"] = "NOT_HOME"
    t.loc[t.index[1], ["result", "support_1_5"]] = ["CONTACTED", "5"]
    t.loc[t.index[2], "result"] = "NOPE"
    path = tmp_path / "filled.csv"
    t.to_csv(path, index=False)
    report = import_results([path], config)
    (c,) = report.files
    assert (c.imported, c.rejected, c.blank) == (2, 1, len(t) - 3)
    again = import_results([path], config)
    assert (again.files[0].imported, again.files[0].already) == (0, 2)
    assert _count(config, "events") == 2
    assert export_results(config, "van", tmp_path / "van.csv") == 2
    van = pd.read_csv(tmp_path / "van.csv", dtype=str, keep_default_na=False)
    assert set(van.Result) == {"Not Home", "Canvassed"}
    voters, history = apply_history(plan.voters, config)
    assert history["events"] == 2
    before = plan.voters.loc[t.voter_id[1], "suppressed"]
    assert voters.loc[t.voter_id[1], "suppressed"] == (before or "contacted")
    assert not voters.loc[t.voter_id[1], "is_target"]
    assert voters.loc[t.voter_id[0], ATTEMPTS] == 1


def test_postgres_killed_import_changes_nothing(
    campaign: Campaign, postgres_url: str, tmp_path: Path
) -> None:
    from test_import import kill_mid_import

    config = _on(campaign, postgres_url)
    record_run(dataclasses.replace(campaign.plan, config=config))
    assert kill_mid_import(campaign, config, tmp_path) == (0, 0)
