from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from plan_factory import make_plan, with_output

from canvass import outputs, schema
from canvass.errors import InputError
from canvass.outputs import _pdf as pdf
from canvass.outputs import _table as rows_table
from canvass.outputs._gpx import route_lonlat

GPX_NS = {"g": "http://www.topografix.com/GPX/1/1"}


@pytest.fixture(scope="module")
def plan():
    """Four turfs of 12 doors, one route each, some multi-unit buildings."""
    return make_plan(n_turfs=4, doors_per_turf=12, seed=1)


@pytest.fixture(scope="module")
def written(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("walk")
    return out, outputs.write_walk_lists(plan, out)


def test_walk_list_lists_every_household_member_in_walking_order(plan):
    table = rows_table.walk_list_table(plan)
    stops = plan.stops.sort_values([schema.ROUTE_ID, schema.STOP])
    # doors appear in route order, each door's rows together
    door_order = table[schema.DOOR_ID].drop_duplicates().tolist()
    assert door_order == stops[schema.DOOR_ID].tolist()
    assert (table.groupby(schema.ROUTE_ID)[schema.STOP].diff().dropna() >= 0).all()
    # every listed voter is at a routed door; the deceased voter is not listed
    listed = plan.voters[plan.voters[schema.SUPPRESSED] == ""]
    routed = listed[listed[schema.DOOR_ID].isin(stops[schema.DOOR_ID])]
    assert sorted(table[schema.VOTER_ID].dropna()) == sorted(routed.index)
    dead = plan.voters.index[plan.voters[schema.SUPPRESSED] == "deceased"]
    assert not table[schema.VOTER_ID].isin(dead).any()
    # target flags come from the voter table
    flags = table.dropna(subset=[schema.VOTER_ID]).set_index(schema.VOTER_ID)[
        schema.IS_TARGET
    ]
    assert flags.equals(plan.voters.loc[flags.index, schema.IS_TARGET].astype(bool))


def test_units_of_a_building_are_listed_in_unit_order(plan):
    table = rows_table.walk_list_table(plan)
    multi = table[table[schema.UNIT] != ""]
    assert len(multi), "the synthetic plan has multi-unit buildings"
    for _, door in multi.groupby(schema.DOOR_ID):
        units = door[schema.UNIT].drop_duplicates().tolist()
        assert units == ["2", "2A", "10"][: len(units)] or units == sorted(
            units, key=rows_table._unit_key
        )
        # a unit's voters are contiguous
        unit = door[schema.UNIT].tolist()
        assert sum(
            a != b for a, b in zip(unit, [None, *unit[:-1]], strict=True)
        ) == len(units)


def test_history_summary_counts_the_latest_elections():
    voters = pd.Index(["a", "b", "c"], name=schema.VOTER_ID)
    elections = pd.DataFrame(
        {
            schema.ELECTION_DATE: ["2018-09-04", "2020-11-03", "2022-09-06"],
            schema.ELECTION_TYPE: [
                schema.STATE_PRIMARY,
                schema.PRESIDENTIAL_ELECTION,
                schema.STATE_PRIMARY,
            ],
        },
        index=pd.Index(["SP18", "PE20", "SP22"], name=schema.ELECTION_ID),
    )
    history = pd.DataFrame(
        {
            schema.VOTER_ID: ["a", "a", "b", "a"],
            schema.ELECTION_ID: ["SP18", "SP22", "PE20", "PE20"],
        }
    )
    out = rows_table.history_summary(voters, history, elections, n=3)
    assert out["a"] == "3/3 P22 G20 P18"
    assert out["b"] == "1/3 G20"
    assert out["c"] == "0/3"
    assert rows_table.history_summary(voters, history, elections, n=1)["b"] == "0/1"


def test_a_ready_history_column_from_scoring_is_used(plan):
    voters = plan.voters.assign(history="SP 1/4 · SE 2/2")
    table = rows_table.walk_list_table(dataclasses.replace(plan, voters=voters))
    assert set(table["history"].dropna()) == {"SP 1/4 · SE 2/2"}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("first_last_initial", "Maria G."), ("full", "Maria Garcia"), ("none", "")],
)
def test_door_names(mode, expected):
    assert rows_table.door_name("MARIA", "GARCIA", mode) == expected
    assert rows_table.door_name("MARIA", None, "first_last_initial") == "Maria"


def test_volunteer_label():
    assert rows_table.volunteer_label(3) == "Volunteer 3"
    assert rows_table.volunteer_label("Ana") == "Ana"


def test_csv_per_turf_and_for_the_run(plan, written):
    out, files = written
    assert [p.name for p in files["csv"]] == [
        *(f"{t}.csv" for t in sorted(plan.turfs.index)),
        "all.csv",
    ]
    all_rows = pd.read_csv(
        out / "walklists" / "all.csv", dtype=str, keep_default_na=False
    )
    for col in ("Voter File VANID", "LastName", "FirstName", "Address", "Zip5", "Age"):
        assert col in all_rows.columns, col
    for col in ("Party", "Target", "VoteHistory", "stop", "side", "Result", "Notes"):
        assert col in all_rows.columns, col
    assert all_rows["door_id"].nunique() == len(plan.stops)
    assert set(all_rows["Target"]) <= {"Y", ""}
    assert (all_rows["Result"] == "").all()
    for path in files["csv"][:-1]:
        rows = pd.read_csv(path, dtype=str)
        assert set(rows["turf_id"]) == {path.stem}
        doors = plan.stops.loc[plan.stops[schema.TURF_ID] == path.stem, schema.DOOR_ID]
        assert set(rows["door_id"]) == set(doors)


def test_pdf_and_gpx_per_route(plan, written):
    _, files = written
    assert sorted(p.stem for p in files["pdf"]) == sorted(plan.routes.index)
    assert sorted(p.stem for p in files["gpx"]) == sorted(plan.routes.index)
    for path in files["pdf"]:
        data = path.read_bytes()
        assert data.startswith(b"%PDF")
        assert data.rstrip().endswith(b"%%EOF")
        assert b"/MediaBox [0 0 612.00 792.00]" in data  # US Letter


def test_gpx_has_the_street_path_and_numbered_doors_without_names(plan, written):
    _, files = written
    route_id = sorted(plan.routes.index)[0]
    path = next(p for p in files["gpx"] if p.stem == route_id)
    root = ET.parse(path).getroot()
    trkpts = root.findall(".//g:trkpt", GPX_NS)
    assert len(trkpts) == len(route_lonlat(plan, route_id)) >= 2
    names = [
        w.findtext("g:name", namespaces=GPX_NS) for w in root.findall("g:wpt", GPX_NS)
    ]
    n_stops = int((plan.stops[schema.ROUTE_ID] == route_id).sum())
    assert names == ["Start", *(str(i) for i in range(1, n_stops + 1))]
    text = path.read_text()
    for last in plan.voters[schema.LAST_NAME].unique():
        assert last not in text
        assert last.title() not in text
    assert "<time>" not in text


def test_outputs_are_byte_identical_for_the_same_plan(plan, written, tmp_path):
    out, _ = written
    outputs.write_walk_lists(plan, tmp_path)

    def digest(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.parent.name in ("walklists", "gpx")
        }

    assert digest(out) == digest(tmp_path)


def test_redacted_walk_lists_have_blocks_not_names(plan, tmp_path):
    red = with_output(plan, redact=True)
    files = outputs.write_walk_lists(red, tmp_path)
    rows = pd.read_csv(files["csv"][-1], dtype=str)
    assert "LastName" not in rows.columns
    assert "door_id" not in rows.columns
    assert rows["street_block"].str.contains(" block of ").all()
    assert rows["doors"].astype(int).sum() == len(plan.stops)
    for path in [*files["csv"], *files["gpx"]]:
        text = path.read_text(encoding="utf-8-sig")
        for last in plan.voters[schema.LAST_NAME].unique():
            assert last.title() not in text
            assert last not in text


def test_inputs_are_not_changed(plan, tmp_path):
    before = (plan.stops.copy(), plan.voters.copy(), plan.doors.copy())
    outputs.write_walk_lists(plan, tmp_path)
    pd.testing.assert_frame_equal(plan.stops, before[0])
    pd.testing.assert_frame_equal(plan.voters, before[1])
    pd.testing.assert_frame_equal(plan.doors, before[2])


def test_stops_at_unknown_doors_are_an_input_error(plan):
    stops = plan.stops.copy()
    stops.loc[0, schema.DOOR_ID] = "NOPE"
    with pytest.raises(InputError, match="not in the doors table"):
        rows_table.walk_list_table(dataclasses.replace(plan, stops=stops))


def _pdf_text(path: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        [exe, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_is_private_by_default_and_full_on_request(plan, tmp_path):
    """Default sheets name targets only, as first name and last initial (issue 6)."""
    route_id = str(plan.routes.index[0])
    table = rows_table.walk_list_table(plan)
    rows = table[table[schema.ROUTE_ID] == route_id]
    short = _pdf_text(pdf.write_route_pdf(plan, route_id, rows, tmp_path / "a.pdf"))
    full_plan = with_output(plan, door_names="full")
    full = _pdf_text(pdf.write_route_pdf(full_plan, route_id, rows, tmp_path / "b.pdf"))
    listed = rows.dropna(subset=[schema.VOTER_ID])
    targets = listed[listed[schema.IS_TARGET]]
    for r in targets.itertuples():
        initial = rows_table.door_name(r.first_name, r.last_name, "first_last_initial")
        assert initial in short
    for last in {n.title() for n in listed[schema.LAST_NAME]}:
        assert f"{last}," not in short
        assert f"{last}," in full
    assert "NH" in short
    assert "DNK" in short
    assert "People:" in short
    assert "Doors:" in short
    assert f"{len(targets)} to ask for" in short


def test_age_comes_from_birth_year_or_birth_date(plan):
    """Ages are taken at the latest election (2022) unless output.date is set."""
    voters = plan.voters.assign(birth_year=None, birth_date="05/01/1980")
    table = rows_table.walk_list_table(dataclasses.replace(plan, voters=voters))
    assert set(table["age"].dropna()) == {42}
    dated = with_output(plan, date="2026-09-01")
    table = rows_table.walk_list_table(dataclasses.replace(dated, voters=voters))
    assert set(table["age"].dropna()) == {46}


def test_pdf_header_gives_the_minutes_driven_between_legs(plan, tmp_path):
    route_id = str(plan.routes.index[0])
    table = rows_table.walk_list_table(plan)
    rows = table[table[schema.ROUTE_ID] == route_id]
    plain = _pdf_text(pdf.write_route_pdf(plan, route_id, rows, tmp_path / "a.pdf"))
    assert "driving" not in plain
    drive = pd.Series(0, index=plan.routes.index)
    drive[route_id] = 660
    driving = dataclasses.replace(
        plan, routes=plan.routes.assign(**{schema.DRIVE_S: drive})
    )
    text = _pdf_text(pdf.write_route_pdf(driving, route_id, rows, tmp_path / "b.pdf"))
    assert "Includes 11 min driving" in text
