"""The next plan knows the history: done doors drop out, households with someone
still to reach stay, attempts are counted; runs record themselves."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
from conftest import Campaign

from canvass import schema
from canvass.results import ATTEMPTS, LAST_RESULT, SCHEMA_VERSION, import_results

DAY = (dt.date.today() - dt.timedelta(days=2)).isoformat()


def test_the_run_recorded_itself(campaign: Campaign) -> None:
    plan = campaign.plan
    with sqlite3.connect(campaign.db) as conn:
        runs = conn.execute("SELECT run_id, n_routes FROM runs").fetchall()
        n_routes = conn.execute("SELECT count(*) FROM routes").fetchone()[0]
        n_stops = conn.execute("SELECT count(*) FROM stops").fetchone()[0]
        listed = pd.read_sql("SELECT * FROM listed", conn)
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    assert runs == [(plan.run_id, len(plan.routes))]
    assert n_routes == len(plan.routes)
    assert n_stops == len(plan.stops)
    assert set(listed.door_id) == set(plan.stops[schema.DOOR_ID])
    targets = plan.voters.index[plan.voters[schema.IS_TARGET]]
    routed_targets = set(targets) & set(
        plan.voters.index[plan.voters[schema.DOOR_ID].isin(plan.stops.door_id)]
    )
    assert routed_targets <= set(listed.voter_id)
    assert version == (SCHEMA_VERSION,)
    # every template row is a listed voter
    files = sorted((campaign.out / "results").glob("*.csv"))
    assert len(files) == len(plan.routes)
    rows = pd.concat(pd.read_csv(f, dtype=str, encoding="utf-8-sig") for f in files)
    assert len(rows) == len(listed)
    assert set(rows.voter_id) == set(listed.voter_id)
    assert list(rows.columns[-3:]) == ["support_1_5", "will_volunteer", "needs_ride"]


def _doors(campaign: Campaign) -> dict[str, list[str]]:
    """Routed doors by their number of targets: door -> target voter ids."""
    voters = campaign.plan.voters
    routed = voters[
        voters[schema.IS_TARGET]
        & voters[schema.DOOR_ID].isin(campaign.plan.stops.door_id)
    ]
    return {
        str(d): sorted(map(str, g.index)) for d, g in routed.groupby(schema.DOOR_ID)
    }


def test_next_plan_leaves_done_doors_out(campaign: Campaign, tmp_path: Path) -> None:
    from canvass.pipeline import run

    config = campaign.copy(tmp_path)
    doors = _doors(campaign)
    multi = [d for d, v in doors.items() if len(v) >= 2]
    single = [d for d, v in doors.items() if len(v) == 1]
    assert len(multi) >= 3
    assert len(single) >= 2
    done_door, kept_door, gated_door = multi[:3]
    not_home_door, moved_door = single[:2]
    listed = pd.concat(
        pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for f in sorted((campaign.out / "results").glob("*.csv"))
    )
    listed["date"] = DAY
    res = pd.Series("", index=listed.index)
    at = listed.door_id
    res[at.eq(done_door) & listed.voter_id.isin(doors[done_door])] = "CONTACTED"
    res[listed.voter_id.eq(doors[kept_door][0])] = "REFUSED"
    res[listed.voter_id.eq(doors[gated_door][0])] = "INACCESSIBLE"
    res[at.eq(not_home_door)] = "NOT_HOME"
    res[listed.voter_id.eq(doors[moved_door][0])] = "MOVED"
    listed["result"] = res
    path = tmp_path / "filled.csv"
    listed.to_csv(path, index=False)
    report = import_results([path], config)
    assert report.totals["imported"] == int(res.ne("").sum())

    plan = run(config)
    voters = plan.voters
    history = plan.reports["history"]
    assert history["events"] == int(res.ne("").sum())
    for d in (done_door, gated_door, moved_door):
        assert plan.doors.loc[d, schema.N_TARGETS] == 0, d
        assert d not in set(plan.stops[schema.DOOR_ID]), d
    assert plan.doors.loc[kept_door, schema.N_TARGETS] == len(doors[kept_door]) - 1
    assert plan.doors.loc[not_home_door, schema.N_TARGETS] == 1
    assert plan.doors.loc[not_home_door, ATTEMPTS] == 1
    assert voters.loc[doors[kept_door][0], schema.SUPPRESSED] == "refused"
    assert voters.loc[doors[moved_door][0], schema.SUPPRESSED] == "moved"
    assert voters.loc[doors[done_door][0], LAST_RESULT] == "CONTACTED"
    gated = voters[voters[schema.DOOR_ID] == gated_door]
    assert not gated[schema.IS_TARGET].any()
    assert history["doors_done"] >= 3
    assert history["doors_kept"] >= 1
    # everything not touched is planned as before
    untouched = set(doors) - {done_door, kept_door, gated_door, moved_door}
    assert untouched <= set(plan.target_doors.index)


def test_no_database_no_history(demo_plan) -> None:  # type: ignore[no-untyped-def]
    assert "history" not in demo_plan.reports
    assert ATTEMPTS not in demo_plan.voters.columns
