"""The field director's progress: counts per turf, precinct and volunteer, flags.

A crafted contact history is imported through the ordinary importer (phone CSVs),
then :func:`run_progress` must find exactly the problems planted in it: a burst of
doors within a minute, a door recorded twice, a result off the volunteer's assigned
route, contact rates outside 10-30 % once there are enough knocks, and none of them
where the history is clean.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SURVEY, Campaign

from canvass import schema
from canvass.cli import cli
from canvass.config import PlanConfig
from canvass.pipeline import load_plan
from canvass.results import (
    FLAG_COLUMNS,
    MIN_KNOCKS,
    PROGRESS_COLUMNS,
    Assignment,
    import_results,
    run_progress,
    store_assignment,
)

DAY = dt.date.today() - dt.timedelta(days=2)
EARLIER = DAY - dt.timedelta(days=1)


@dataclasses.dataclass
class Run:
    config: PlanConfig
    folder: Path
    listed: pd.DataFrame
    run_id: str


def _run_copy(campaign: Campaign, tmp_path: Path) -> Run:
    """A private copy of the recorded run: database and run folder."""
    config = campaign.copy(tmp_path)
    folder = tmp_path / "maps"
    shutil.copytree(campaign.out, folder)
    db = Path(config.campaign.db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET folder = ?", (str(folder),))
        listed = pd.read_sql("SELECT * FROM listed", conn)
    return Run(config, folder, listed, str(listed["run_id"].iloc[0]))


def _event(row: Any, when: str, result: str, who: str) -> dict[str, str]:
    return {
        "event_id": str(uuid.uuid4()),
        "voter_id": row.voter_id,
        "run_id": row.run_id,
        "route_id": row.route_id,
        "door_id": row.door_id,
        "time": when,
        "result": result,
        "volunteer": who,
        **dict.fromkeys(SURVEY, ""),
    }


def _import(run: Run, rows: list[dict[str, str]], tmp_path: Path) -> None:
    path = tmp_path / f"phone-{uuid.uuid4().hex[:6]}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    report = import_results([path], run.config)
    assert report.totals["rejected"] == 0, report.rejects.to_dict("records")


def _doors(run: Run) -> pd.DataFrame:
    """One listed voter per door, doors in route and stop order."""
    return run.listed.drop_duplicates("door_id").sort_values(["route_id", "door_id"])


def _t(day: dt.date, minute: int, second: int = 0) -> str:
    h, m = divmod(minute, 60)
    return f"{day.isoformat()}T{10 + h:02d}:{m:02d}:{second:02d}-04:00"


@pytest.fixture
def crafted(campaign: Campaign, tmp_path: Path) -> tuple[Run, dict[str, Any]]:
    """A run with a history holding one planted problem of every kind."""
    run = _run_copy(campaign, tmp_path)
    doors = _doors(run)
    routes = sorted(doors["route_id"].unique())
    first, second = routes[0], routes[1]
    on_first = doors[doors["route_id"] == first]
    on_second = doors[doors["route_id"] == second]
    # Olga walks the first route (assigned); one of her results is on the second
    table = pd.DataFrame(
        [{"run_id": run.run_id, "route_id": first, "volunteer": "Olga Ortiz",
          "has_car": "no", "reach_m": "300", "reach": "walk_graph", "flag": ""}]
    )  # fmt: skip
    store_assignment(run.config, Assignment(table, pd.DataFrame()), run.run_id)
    rows = []
    slow = list(on_first.itertuples())[:4]
    for k, r in enumerate(slow):  # Olga: 4 doors, 5 minutes apart: no burst
        rows.append(_event(r, _t(DAY, 5 * k), "NOT_HOME", "Olga"))
    stray = next(on_second.itertuples())
    rows.append(_event(stray, _t(DAY, 40), "CONTACTED", "Olga"))
    fast = list(on_second.itertuples())[1:5]  # Fran: 4 doors in 45 seconds
    for k, r in enumerate(fast):
        rows.append(_event(r, _t(DAY, 60, 15 * k), "NOT_HOME", "Fran"))
    twice = list(on_second.itertuples())[6]
    rows.append(_event(twice, _t(DAY, 90), "NOT_HOME", "Fran"))
    rows.append(_event(twice, _t(DAY, 120), "CONTACTED", "Fran"))
    # Lou: enough knocks (one a door, a day apart) with almost no contacts
    many = list(doors.itertuples())
    assert len(many) >= MIN_KNOCKS + 5
    for k, r in enumerate(many[:MIN_KNOCKS]):
        result = "CONTACTED" if k < 2 else "NOT_HOME"
        rows.append(_event(r, _t(EARLIER, 3 * k), result, "Lou"))
    # Hal: every knock a contact, but too few knocks to judge
    for k, r in enumerate(many[: MIN_KNOCKS - 1]):
        when = _t(EARLIER - dt.timedelta(days=1), 3 * k)
        rows.append(_event(r, when, "COME_BACK", "Hal"))
    _import(run, rows, tmp_path)
    planted = {
        "stray": stray.door_id,
        "fast": [r.door_id for r in fast],
        "twice": twice.door_id,
        "first": first,
        "second": second,
        "n_events": len(rows),
    }
    return run, planted


def test_quality_flags_find_what_was_planted(
    crafted: tuple[Run, dict[str, Any]],
) -> None:
    run, planted = crafted
    plan = load_plan(run.folder)
    progress = run_progress(plan, run.config)
    flags = progress.flags
    assert list(flags.columns) == list(FLAG_COLUMNS)
    by_kind = flags.groupby("flag").size().to_dict()
    # fast doors: Fran's burst, one flag naming its four doors; Olga's slow walk none
    fast = flags[flags["flag"] == "fast_doors"]
    assert len(fast) == 1
    assert fast.iloc[0]["volunteer"] == "Fran"
    assert set(fast.iloc[0]["door_id"].split()) == set(planted["fast"])
    # off route: Olga's one result on the second route, not her four on her own
    off = flags[flags["flag"] == "off_route"]
    assert off["door_id"].tolist() == [planted["stray"]]
    assert "Olga" in off.iloc[0]["volunteer"]
    # the same door twice in a day
    twice = flags[flags["flag"] == "door_twice"]
    assert planted["twice"] in set(twice["door_id"])
    # contact rates: Lou (2 of 50 = 4 %) flagged low; Hal (49 knocks) not judged
    rate = flags[flags["flag"].str.startswith("contact_rate")]
    vols = rate[rate["level"] == "volunteer"]
    assert vols["key"].tolist() == ["Lou"]
    assert vols.iloc[0]["flag"] == "contact_rate_low"
    assert set(by_kind) <= {"fast_doors", "off_route", "door_twice",
                            "contact_rate_low", "contact_rate_high"}  # fmt: skip
    # the volunteer table
    v = progress.volunteers
    assert int(v.loc["Lou", "knocks"]) == MIN_KNOCKS
    assert int(v.loc["Lou", "contact_knocks"]) == 2
    assert float(v.loc["Lou", "contact_rate"]) == pytest.approx(2 / MIN_KNOCKS)
    assert int(v.loc["Hal", "knocks"]) == MIN_KNOCKS - 1
    assert int(v.loc["Olga Ortiz", "routes"]) == 1  # assigned, named as "Olga"
    assert int(v.loc["Fran", "flags"]) >= 2


def test_flags_change_no_data(crafted: tuple[Run, dict[str, Any]]) -> None:
    run, planted = crafted
    db = Path(run.config.campaign.db)
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT * FROM events ORDER BY event_id").fetchall()
    run_progress(load_plan(run.folder), run.config)
    with sqlite3.connect(db) as conn:
        after = conn.execute("SELECT * FROM events ORDER BY event_id").fetchall()
    assert before == after
    assert len(after) == planted["n_events"]


def test_counts_and_votes_match_the_history(
    crafted: tuple[Run, dict[str, Any]],
) -> None:
    run, _ = crafted
    plan = load_plan(run.folder)
    progress = run_progress(plan, run.config)
    with sqlite3.connect(run.config.campaign.db) as conn:
        ev = pd.read_sql("SELECT * FROM events", conn)
    t = progress.totals
    assert t["attempts"] == len(ev)
    assert t["doors_knocked"] == ev["door_id"].nunique()
    contacted = set(ev.loc[ev["result"] == "CONTACTED", "voter_id"])
    assert t["people_contacted"] == len(contacted)
    voters = plan.voters
    routed = voters[voters[schema.DOOR_ID].isin(set(plan.stops[schema.DOOR_ID]))]
    targets = routed[routed[schema.IS_TARGET].astype(bool)]
    banked = targets.loc[targets.index.isin(list(contacted)), schema.LIFT].sum()
    assert t["votes_banked"] == pytest.approx(float(banked), abs=1e-3)
    done = set(ev.loc[ev["result"].isin(["CONTACTED", "REFUSED"]), "voter_id"])
    left = targets.loc[~targets.index.isin(list(done)), schema.LIFT].sum()
    assert t["votes_left"] == pytest.approx(float(left), abs=1e-3)
    assert 0 < t["votes_banked"] < float(targets[schema.LIFT].sum())
    # turfs add up to the run; precincts too
    for frame in (progress.turfs, progress.precincts):
        assert int(frame["doors_knocked"].sum()) == t["doors_knocked"]
        assert frame["votes_banked"].sum() == pytest.approx(t["votes_banked"], abs=0.01)
    table = progress.table()
    assert list(table.columns) == list(PROGRESS_COLUMNS)
    assert set(table["level"]) == {"run", "precinct", "turf", "volunteer"}


def test_import_redraws_the_progress_map(campaign: Campaign, tmp_path: Path) -> None:
    run = _run_copy(campaign, tmp_path)
    for name in ("progress.html", "progress.csv", "progress_flags.csv"):
        (run.folder / name).unlink(missing_ok=True)
    doors = list(_doors(run).itertuples())
    rows = [
        _event(r, _t(DAY, k, 0), "NOT_HOME", "Fran") for k, r in enumerate(doors[:3])
    ]
    rows[0]["time"] = rows[1]["time"]  # two doors at once
    path = tmp_path / "phone.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    toml = tmp_path / "canvass.toml"
    toml.write_text(
        f'[campaign]\ndb = "{run.config.campaign.db}"\nstart = "2020-01-01"\n'
        f"survey = {list(SURVEY)!r}\n".replace("'", '"'),
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        cli, ["results", "import", str(path), "--config", str(toml),
              "--rejects", str(tmp_path / "rej.csv")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Progress of run" in res.output
    page = (run.folder / "progress.html").read_text(encoding="utf-8")
    csv = pd.read_csv(run.folder / "progress.csv", dtype=str, keep_default_na=False)
    row = csv[csv["level"] == "run"].iloc[0]
    assert row["doors_knocked"] == "3"
    assert "Doors knocked per turf" in page
    # offline: Leaflet inlined, no script or stylesheet fetched
    assert "<script src=" not in page
    assert 'rel="stylesheet" href=' not in page
    # the director's page names volunteers, never voters
    plan = load_plan(run.folder)
    names = set(plan.voters[schema.LAST_NAME].dropna().astype(str).str.title())
    assert not [n for n in names if len(n) > 4 and f">{n}" in page]
    assert (run.folder / "progress.html").stat().st_mode & 0o777 == 0o600
    # importing the same file again adds nothing but draws the map again
    (run.folder / "progress.html").unlink()
    again = CliRunner().invoke(
        cli, ["results", "import", str(path), "--config", str(toml),
              "--rejects", str(tmp_path / "rej.csv")],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "3 already imported" in again.output
    assert (run.folder / "progress.html").is_file()
    # and on demand (results that `canvass serve` took in)
    (run.folder / "progress.csv").unlink()
    res = CliRunner().invoke(
        cli, ["results", "progress", "--config", str(toml), "--run", str(run.folder)]
    )
    assert res.exit_code == 0, res.output
    assert (run.folder / "progress.csv").is_file()
    # a later run written over the folder: the old run's progress is not drawn there
    import json

    meta_path = run.folder / "plan" / "plan.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["run_id"] = "a-later-run"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    (run.folder / "progress.html").unlink()
    res = CliRunner().invoke(
        cli, ["results", "import", str(path), "--config", str(toml),
              "--rejects", str(tmp_path / "rej.csv")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "now holds run a-later-run" in res.output
    assert not (run.folder / "progress.html").exists()


def test_progress_of_an_unrecorded_run_is_a_one_line_error(
    campaign: Campaign, tmp_path: Path
) -> None:
    from canvass.errors import InputError

    run = _run_copy(campaign, tmp_path)
    plan = load_plan(run.folder)
    other = dataclasses.replace(plan, run_id="not-a-run")
    with pytest.raises(InputError, match="not in the campaign database") as err:
        run_progress(other, run.config)
    assert "\n" not in str(err.value)


def test_canvass_run_with_a_database_draws_progress_and_keeps_its_plan(
    demo_town: Any, tmp_path: Path
) -> None:
    town = Path(demo_town.config)
    toml = town.parent / f"progress-{uuid.uuid4().hex[:6]}.toml"
    db = tmp_path / "campaign.db"
    toml.write_text(
        town.read_text(encoding="utf-8")
        + "\n[route]\ntime_limit_s = 0.0\nsolution_limit = 0\nworkers = 1\n"
        + f'\n[campaign]\ndb = "{db}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "maps"
    try:
        res = CliRunner().invoke(
            cli, ["-q", "run", "--config", str(toml), "--out", str(out)]
        )
    finally:
        toml.unlink()
    assert res.exit_code == 0, res.output
    assert "Progress map:" in res.output
    csv = pd.read_csv(out / "progress.csv", dtype=str, keep_default_na=False)
    run = csv[csv["level"] == "run"].iloc[0]
    assert run["doors_knocked"] == "0"  # nothing knocked yet
    assert float(run["votes_left"]) > 0
    with sqlite3.connect(db) as conn:
        folder = conn.execute("SELECT folder FROM runs").fetchone()[0]
    assert Path(folder) == out.resolve()
    plan = load_plan(out)
    assert len(plan.routes) == int(run["routes"])
