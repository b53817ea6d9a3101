"""Who walks what: the roster, the assignment, the database, the named outputs."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import Campaign

from canvass import schema
from canvass.cli import cli
from canvass.errors import InputError
from canvass.pipeline import load_plan
from canvass.results import (
    ASSIGNMENT_COLUMNS,
    SCHEMA_VERSION,
    WALK_FACTOR,
    assign_volunteers,
    open_db,
    read_assignment,
    read_roster,
    store_assignment,
)


def _starts(plan: object) -> dict[str, tuple[float, float]]:
    routes = plan.routes  # type: ignore[attr-defined]
    out = {}
    for rid, geom in zip(routes.index, routes.geometry, strict=True):
        x, y = shapely.get_coordinates(geom)[0]
        out[str(rid)] = (float(x), float(y))
    return out


def _roster(tmp_path: Path, rows: list[dict[str, str]], name: str = "r.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _walkers(plan: object, n: int, seed: int = 1) -> list[dict[str, str]]:
    """`n` volunteers without a car, each living at a voter's door of the town."""
    voters = plan.voters  # type: ignore[attr-defined]
    at_door = voters[voters[schema.DOOR_ID].notna()]
    picks = at_door.sample(n, random_state=seed).index
    return [
        {"name": f"Walker{k} Test", "has_car": "no", "voter_id": str(v)}
        for k, v in enumerate(picks)
    ]


def test_roster_rows_are_read_or_rejected_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "Name,Phone,Email,Has Car,Home Address,Area,Team\n"
        "Maria Garcia,555-0101,,yes,12 Main St,,\n"
        ",555-0102,,no,,,\n"
        "Bob,,,perhaps,,,\n"
        "maria garcia,,,no,,,\n"
        "Ann Lee,,,,,1A,red\n"
        "Broken,row\n",
        encoding="utf-8",
    )
    roster = read_roster(path)
    assert roster.rows == len(roster.volunteers) + len(roster.rejects) == 6
    assert roster.volunteers["name"].tolist() == ["Maria Garcia", "Ann Lee"]
    assert roster.volunteers["has_car"].tolist() == [True, False]
    assert roster.volunteers["car_given"].tolist() == [True, False]
    reasons = dict(zip(roster.rejects["line"], roster.rejects["reason"], strict=True))
    assert reasons[3] == "no name"
    assert "perhaps" in reasons[4]
    assert "same name as line 2" in reasons[5]
    assert reasons[7].startswith("malformed row")


def test_roster_without_names_is_a_one_line_error(tmp_path: Path) -> None:
    path = _roster(tmp_path, [{"who": "Maria", "car": "y"}])
    with pytest.raises(InputError, match="no `name` column") as err:
        read_roster(path)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_match_volunteers_file_is_a_roster(tmp_path: Path) -> None:
    from canvass.match import volunteer_roster  # noqa: F401 - the writer exists

    cols = ("name", "phone", "email", "has_car", "home_address", "area",
            "nearest_turfs", "voter_id", "source", "line")  # fmt: skip
    path = tmp_path / "volunteers.csv"
    pd.DataFrame(
        [["Pat Doe", "", "pat@example.org", "yes", "3 Elm St", "1A", "1A-T01",
          "V1", "list.csv", "2"]], columns=cols,
    ).to_csv(path, index=False)  # fmt: skip
    roster = read_roster(path)
    v = roster.volunteers.iloc[0]
    assert (v["name"], v["has_car"], v["home_address"], v["area"], v["voter_id"]) == (
        "Pat Doe", True, "3 Elm St", "1A", "V1",
    )  # fmt: skip


@pytest.mark.parametrize("graph", [False, True], ids=["straight_line", "walk_graph"])
def test_no_car_volunteer_never_gets_a_route_beyond_walking_reach(
    campaign: Campaign, tmp_path: Path, graph: bool
) -> None:
    import networkx as nx

    from canvass import network

    plan = load_plan(campaign.out)
    streets = None
    if graph:
        cfg = plan.config
        streets = network.read_walk_graph(
            cfg.resolve(cfg.inputs.streets), cfg.walk, crs=plan.precincts.crs
        )
    walkers = _walkers(plan, len(plan.routes) - 2)  # fewer than routes
    roster = read_roster(_roster(tmp_path, walkers))
    starts = _starts(plan)
    doors = plan.doors
    nearest = []
    for w in walkers:  # straight line to the nearest route start
        home = doors.geometry.loc[plan.voters.at[w["voter_id"], schema.DOOR_ID]]
        nearest.append(
            min(np.hypot(home.x - x, home.y - y) for x, y in starts.values())
        )
    # a reach that half of them have a route start within: the others must not
    # get one although routes are left over
    reach = float(np.ceil(np.median(nearest) * WALK_FACTOR))
    a = assign_volunteers(plan, roster, streets=streets, max_walk_m=reach)
    t = a.table
    assert list(t.columns) == list(ASSIGNMENT_COLUMNS)
    staffed = a.assigned
    assert len(staffed) >= 1  # some live near a route
    assert (staffed["reach"] == ("walk_graph" if graph else "straight_line")).all()
    for r in staffed.itertuples():
        vid = roster.volunteers.set_index("name").loc[r.volunteer, "voter_id"]
        home = doors.geometry.loc[plan.voters.at[vid, schema.DOOR_ID]]
        sx, sy = starts[r.route_id]
        straight = float(np.hypot(home.x - sx, home.y - sy))
        assert float(r.reach_m) <= reach
        if graph:  # the walk is never shorter than the straight line
            assert float(r.reach_m) + 1 >= straight
        else:
            assert float(r.reach_m) == pytest.approx(straight * WALK_FACTOR, abs=1)
    # the ones left out have no route start in reach, and it says so
    left = t[(t["route_id"] == "") & (t["volunteer"] != "")]
    assert len(left) == len(roster.volunteers) - len(staffed)
    assert len(left) >= 1
    assert left["flag"].str.contains(f"within {reach:,.0f} m on foot").all()
    taken = set(staffed["route_id"])
    for r in left.itertuples():  # checked independently: nothing in reach was free
        if graph:
            continue
        vid = roster.volunteers.set_index("name").loc[r.volunteer, "voter_id"]
        home = doors.geometry.loc[plan.voters.at[vid, schema.DOOR_ID]]
        near = {
            k for k, (x, y) in starts.items()
            if np.hypot(home.x - x, home.y - y) * WALK_FACTOR <= reach
        }  # fmt: skip
        if "went to others" in r.flag:
            assert near
            assert near <= taken
        else:
            assert not near
    if graph and len(staffed):
        # the distance is the walk on the street graph (checked with networkx)
        r = staffed.iloc[0]
        vid = roster.volunteers.set_index("name").loc[r["volunteer"], "voter_id"]
        home = doors.geometry.loc[plan.voters.at[vid, schema.DOOR_ID]]
        ids = list(streets.nodes)
        xy = np.array([[streets.nodes[n]["x"], streets.nodes[n]["y"]] for n in ids])
        sx, sy = starts[r["route_id"]]
        h = int(np.argmin(np.hypot(xy[:, 0] - home.x, xy[:, 1] - home.y)))
        s = int(np.argmin(np.hypot(xy[:, 0] - sx, xy[:, 1] - sy)))
        walk = nx.shortest_path_length(
            streets.to_undirected(), ids[h], ids[s], weight="length"
        )
        offsets = np.hypot(*(xy[h] - [home.x, home.y])) + np.hypot(*(xy[s] - [sx, sy]))
        assert float(r["reach_m"]) == pytest.approx(walk + offsets, abs=1.5)


def test_drivers_get_the_nearest_route_and_counts_are_stated(
    campaign: Campaign, tmp_path: Path
) -> None:
    plan = load_plan(campaign.out)
    n_routes = len(plan.routes)
    rows = [dict(r, has_car="yes") for r in _walkers(plan, n_routes + 3, seed=5)]
    rows.append({"name": "Nowhere Person", "has_car": "yes"})
    roster = read_roster(_roster(tmp_path, rows))
    a = assign_volunteers(plan, roster)
    t = a.table
    assert len(a.assigned) == n_routes  # every route staffed
    extra = t[t["route_id"] == ""]
    assert len(extra) == 4
    assert extra["flag"].str.contains("more volunteers than routes").all()
    # routes of equal value: a lone driver gets the route whose start is nearest home
    doors = plan.doors.assign(**{schema.VALUE: 1.0})
    stops = plan.stops.drop_duplicates(schema.ROUTE_ID)  # one door per route
    even = dataclasses.replace(plan, doors=doors, stops=stops)
    one = read_roster(_roster(tmp_path, rows[:1], "one.csv"))
    b = assign_volunteers(even, one)
    got = b.assigned.iloc[0]
    vid = rows[0]["voter_id"]
    home = plan.doors.geometry.loc[plan.voters.at[vid, schema.DOOR_ID]]
    dist = {k: np.hypot(home.x - x, home.y - y) for k, (x, y) in _starts(plan).items()}
    assert got["route_id"] == min(dist, key=lambda k: dist[k])
    unstaffed = b.table[b.table["volunteer"] == ""]
    assert len(unstaffed) == n_routes - 1
    assert (unstaffed["flag"] == "no volunteer").all()
    # only the first name goes on the outputs
    assert got["first_name"] == got["volunteer"].split()[0]


def test_short_of_volunteers_the_most_valuable_routes_are_staffed(
    campaign: Campaign, tmp_path: Path
) -> None:
    plan = load_plan(campaign.out)
    assert schema.VALUE in plan.doors.columns
    value = (
        plan.stops[schema.DOOR_ID]
        .map(plan.doors[schema.VALUE])
        .groupby(plan.stops[schema.ROUTE_ID].astype(str))
        .sum()
    )
    k = 3
    assert len(value) > k
    rows = [dict(r, has_car="yes") for r in _walkers(plan, k, seed=5)]
    a = assign_volunteers(plan, read_roster(_roster(tmp_path, rows)))
    staffed = set(a.assigned["route_id"])
    assert staffed == set(value.nlargest(k).index)
    # and among those, the total distance is the smallest matching
    starts = _starts(plan)
    homes = [
        plan.doors.geometry.loc[plan.voters.at[r["voter_id"], schema.DOOR_ID]]
        for r in rows
    ]
    got = dict(zip(a.assigned["volunteer"], a.assigned["route_id"], strict=True))

    def total(order: tuple[str, ...]) -> float:
        return sum(
            float(np.hypot(h.x - starts[rid][0], h.y - starts[rid][1]))
            for h, rid in zip(homes, order, strict=True)
        )

    import itertools

    best = min(itertools.permutations(sorted(staffed)), key=total)
    chosen = tuple(got[r["name"]] for r in rows)
    assert total(chosen) == pytest.approx(total(best), rel=0.05)


def test_a_team_walks_one_turf(campaign: Campaign, tmp_path: Path) -> None:
    plan = load_plan(campaign.out)
    routes = plan.routes.copy()
    first, second = sorted(routes.index)[:2]
    routes.loc[second, schema.TURF_ID] = routes.loc[first, schema.TURF_ID]
    plan = dataclasses.replace(plan, routes=routes)
    rows = [dict(r, has_car="yes", team="red") for r in _walkers(plan, 2, seed=9)]
    rows += [dict(r, has_car="yes") for r in _walkers(plan, 2, seed=11)]
    a = assign_volunteers(plan, read_roster(_roster(tmp_path, rows)))
    team = a.assigned[a.assigned["team"] == "red"]
    assert sorted(team["route_id"]) == sorted([first, second])
    assert team["flag"].str.contains("team red").all()


def test_edited_assignment_is_read_back_with_rejects(
    campaign: Campaign, tmp_path: Path
) -> None:
    plan = load_plan(campaign.out)
    routes = sorted(plan.routes.index)
    path = tmp_path / "assignment.csv"
    path.write_text(
        "run_id,route_id,volunteer,has_car\n"
        f"{plan.run_id},{routes[0]},Maria Garcia,no\n"
        f"{plan.run_id},{routes[0]},Bob Lee,yes\n"
        f"{plan.run_id},NOPE-1,Ann,yes\n"
        f"other-run,{routes[1]},Ann,yes\n"
        f"{plan.run_id},{routes[2]},,\n"
        f"{plan.run_id},,Spare Sam,maybe\n"
        f"{plan.run_id},,Spare Sue,no\n",
        encoding="utf-8",
    )
    a = read_assignment(path, plan)
    reasons = dict(zip(a.rejects["line"], a.rejects["reason"], strict=True))
    assert reasons[3] == f"route {routes[0]} already given on line 2"
    assert "not a route of run" in reasons[4]
    assert "not this run" in reasons[5]
    assert "maybe" in reasons[7]
    assert a.assigned["volunteer"].tolist() == ["Maria Garcia"]
    assert len(a.table[a.table["volunteer"] == "Spare Sue"]) == 1
    # every route appears: the ones not in the file are unstaffed
    assert set(a.table["route_id"]) - {""} == {str(r) for r in routes}
    # stored with the run, replacing an earlier assignment
    config = campaign.copy(tmp_path)
    assert store_assignment(config, a, plan.run_id) == 1
    assert store_assignment(config, a, plan.run_id) == 1
    with sqlite3.connect(config.campaign.db) as conn:
        rows = conn.execute(
            "SELECT a.route_id, v.name, v.has_car FROM assignments a "
            "JOIN volunteers v USING (volunteer_id)"
        ).fetchall()
    assert rows == [(routes[0], "Maria Garcia", 0)]


def test_old_database_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    """A schema-version-1 database (as canvass made it before assign) is upgraded."""
    from canvass.config import CampaignParams, PlanConfig
    from canvass.results import _db

    db = tmp_path / "campaign.db"
    config = PlanConfig(campaign=CampaignParams(db=str(db)), base_dir=str(tmp_path))  # type: ignore[arg-type]
    open_db(config).dispose()
    with sqlite3.connect(db) as conn:  # turn it back into a version-1 database
        for table, cols in _db.V2_COLUMNS.items():
            for col in cols:
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
        conn.execute("DELETE FROM schema_version WHERE version > 1")
        conn.execute(
            "INSERT INTO runs VALUES ('r1', 'old', '2026-01-01T00:00:00+00:00', "
            "'state_primary', 'u', 1, 1, 1)"
        )
        conn.execute(
            "INSERT INTO routes VALUES ('r1', 'A-T01-V1', 'A-T01', '1', 1, 1, 1, 1)"
        )
        conn.execute("INSERT INTO volunteers VALUES (1, 'Old Timer', '2026-01-01')")
        conn.execute(
            "INSERT INTO assignments VALUES (1, 'r1', 'A-T01-V1', 1, '2026-01-02')"
        )
        cols = {r[1] for r in conn.execute("PRAGMA table_info(assignments)")}
        assert "reach_m" not in cols
    open_db(config).dispose()
    with sqlite3.connect(db) as conn:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        assert version == (SCHEMA_VERSION,)
        assert SCHEMA_VERSION >= 2
        for table, cols in _db.V2_COLUMNS.items():
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            assert set(cols) <= have, table
        assert conn.execute("SELECT name, has_car FROM volunteers").fetchall() == [
            ("Old Timer", None)
        ]
        assert conn.execute("SELECT route_id, reach_m FROM assignments").fetchall() == [
            ("A-T01-V1", None)
        ]
        assert conn.execute("SELECT folder FROM runs").fetchall() == [(None,)]


def test_cli_assign_names_the_route_outputs(campaign: Campaign, tmp_path: Path) -> None:
    config = campaign.copy(tmp_path)
    folder = tmp_path / "maps"
    shutil.copytree(campaign.out, folder)
    plan = load_plan(folder)
    routes = sorted(plan.routes.index)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    # someone has started filling in one results template: it must be kept
    tpl = folder / "results" / f"{routes[1]}.csv"
    frame = pd.read_csv(tpl, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.loc[0, "result"] = "NH"
    frame.to_csv(tpl, index=False, encoding="utf-8-sig")
    filled = tpl.read_bytes()
    toml = tmp_path / "canvass.toml"
    toml.write_text(f'[campaign]\ndb = "{config.campaign.db}"\n', encoding="utf-8")
    assignment = tmp_path / "edited.csv"
    assignment.write_text(
        "route_id,volunteer,has_car\n"
        f"{routes[0]},Zelda Quartermaine,no\n{routes[1]},Yusuf Oyelaran,yes\n"
        "NOPE,Bad Row,no\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        cli, ["assign", "--config", str(toml), "--run", str(folder),
              "--assignment", str(assignment), "--out", str(tmp_path / "out.csv"),
              "--rejects", str(tmp_path / "rej.csv")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "2 of" in res.output
    assert "1 row(s) rejected" in res.output
    rej = pd.read_csv(tmp_path / "rej.csv")
    assert rej["line"].tolist() == [4]
    assert "NOPE" in rej["reason"].iloc[0]
    page = (folder / "routes" / f"{routes[0]}.html").read_text(encoding="utf-8")
    assert f"Route {routes[0]} · Zelda</h1>" in page
    assert "Quartermaine" not in page
    gpx = (folder / "gpx" / f"{routes[0]}.gpx").read_text(encoding="utf-8")
    assert "(Zelda)" in gpx
    assert "Quartermaine" not in gpx
    # the walk-list CSV names the volunteer on that route's rows only
    lists = pd.read_csv(folder / "walklists" / "all.csv", dtype=str,
                        encoding="utf-8-sig")  # fmt: skip
    mine = lists[lists["route_id"] == routes[0]]
    assert set(mine["volunteer"]) == {"Zelda"}
    assert "Zelda" not in set(lists.loc[lists["route_id"] == routes[2], "volunteer"])
    # routes nobody was assigned to are written exactly as before
    for kind, ext in (("routes", "html"), ("gpx", "gpx")):
        p = folder / kind / f"{routes[2]}.{ext}"
        assert p.read_bytes() == before[p]
    assert tpl.read_bytes() == filled  # the filled-in template is kept
    if shutil.which("pdftotext"):
        import subprocess

        pdf = folder / "walklists" / f"{routes[0]}.pdf"
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Zelda" in text
        assert "Quartermaine" not in text
    with sqlite3.connect(config.campaign.db) as conn:
        n = conn.execute("SELECT count(*) FROM assignments").fetchone()[0]
    assert n == 2


def test_cli_assign_explains_a_run_folder_without_plan_tables(
    campaign: Campaign, tmp_path: Path
) -> None:
    folder = tmp_path / "maps"
    shutil.copytree(campaign.out, folder)
    shutil.rmtree(folder / "plan")
    config = campaign.copy(tmp_path)
    toml = tmp_path / "canvass.toml"
    toml.write_text(f'[campaign]\ndb = "{config.campaign.db}"\n', encoding="utf-8")
    roster = _roster(tmp_path, [{"name": "A B", "has_car": "yes"}])
    res = CliRunner().invoke(
        cli, ["assign", "--config", str(toml), "--run", str(folder),
              "--roster", str(roster)],
    )  # fmt: skip
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1
    assert "keeps no plan tables" in lines[0]


def test_no_home_gets_any_route_flagged(campaign: Campaign, tmp_path: Path) -> None:
    plan = load_plan(campaign.out)
    rows = [
        {"name": "Homeless Walker", "has_car": "no", "home_address": "1 Nowhere Ln"},
        {"name": "Area Only", "has_car": "yes", "area": str(plan.precincts.index[0])},
    ]
    a = assign_volunteers(plan, read_roster(_roster(tmp_path, rows)))
    got = a.assigned.set_index("volunteer")
    assert len(got) == 2
    assert got.loc["Homeless Walker", "reach"] == "no_home"
    assert got.loc["Homeless Walker", "reach_m"] == ""
    assert "reach not checked" in got.loc["Homeless Walker", "flag"]
    assert "centre of its area" in got.loc["Area Only", "flag"]
    assert float(got.loc["Area Only", "reach_m"]) >= 0
