"""Tests of election typing: date rules per state, the coverage veto, overrides,
same-day elections, the household key and the typed calendar in the load report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _voterfiles import check_accounting, config

from canvass import load, schema
from canvass.load._calendar import type_elections
from canvass.score import door_keys

SP, SE = schema.STATE_PRIMARY, schema.STATE_ELECTION
PP, PE = schema.PRESIDENTIAL_PRIMARY, schema.PRESIDENTIAL_ELECTION
MU, SPECIAL = schema.MUNICIPAL, schema.SPECIAL


def _typed(
    rows: list[tuple[str, str]],
    state: str,
    *,
    coverage: list[float] | None = None,
    votes: list[int] | None = None,
    overrides: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Type (date, file type) rows; ids E0, E1, ..."""
    table = pd.DataFrame(
        {
            schema.ELECTION_DATE: pd.to_datetime([d for d, _ in rows]),
            "file_type": [t for _, t in rows],
            "votes": votes or [100] * len(rows),
            "rel_coverage": coverage or [np.nan] * len(rows),
        },
        index=pd.Index([f"E{i}" for i in range(len(rows))], name=schema.ELECTION_ID),
    )
    return type_elections(table, state=state, overrides=overrides)


def test_general_day_and_primary_tables() -> None:
    assert load.general_day(2018) == dt.date(2018, 11, 6)
    assert load.general_day(2022) == dt.date(2022, 11, 8)
    assert load.general_day(2015) == dt.date(2015, 11, 3)
    ohio = load.primary_dates("OH", 2018)
    assert ohio is not None
    assert dt.date(2018, 5, 8) in ohio[SP]
    later = load.primary_dates("oh", 2030)  # the rule: Tuesday after 1st Monday in May
    assert later is not None
    assert later[SP] == {dt.date(2030, 5, 7)}
    assert load.primary_dates("OH", 2032) == {PP: frozenset({dt.date(2032, 3, 16)})}
    pa = load.primary_dates("PA", 2026)  # third Tuesday in May
    assert pa is not None
    assert pa[SP] == {dt.date(2026, 5, 19)}
    ny = load.primary_dates("NY", 2028)  # fourth Tuesday in June since 2019
    assert ny is not None
    assert ny[SP] == {dt.date(2028, 6, 27)}
    assert load.primary_dates("NY", 2025) == {MU: frozenset({dt.date(2025, 6, 24)})}
    fl = load.primary_dates("FL", 2028)  # 11 weeks before; PPP third Tuesday March
    assert fl == {
        SP: frozenset({dt.date(2028, 8, 22)}),
        PP: frozenset({dt.date(2028, 3, 21)}),
    }
    nc = load.primary_dates("NC", 2030)  # Tuesday after the first Monday in March
    assert nc == {SP: frozenset({dt.date(2030, 3, 5)})}
    assert load.primary_dates("NC", 2028) == {PP: frozenset({dt.date(2028, 3, 7)})}
    assert load.primary_dates("MA", 2031) is None  # outside the listed years
    assert load.primary_dates("GA", 2018) is None  # not in the table


@pytest.mark.parametrize(
    ("state", "date", "file_type", "expected", "by"),
    [
        ("OH", "2018-05-08", SP, SP, "date"),
        ("OH", "2010-09-07", SP, SPECIAL, "date"),  # a September local primary
        ("OH", "2018-08-07", SE, SPECIAL, "date"),  # a "GENERAL" in August
        ("OH", "2020-03-17", PP, PP, "date"),
        ("OH", "2020-04-28", SP, PP, "date"),  # 2020: in-person voting moved
        ("OH", "2009-05-05", MU, MU, "date"),
        ("OH", "2007-11-06", MU, MU, "date"),
        ("OH", "2022-08-02", SP, SPECIAL, "date"),  # second primary, legislature
        ("OH", "2001-05-08", SPECIAL, SPECIAL, "label"),
        ("MA", "2018-09-04", SP, SP, "date"),
        ("MA", "2020-03-03", PP, PP, "date"),
        ("MA", "2018-11-06", SE, SE, "date"),
        ("MA", "2016-11-08", SE, PE, "date"),
        ("MA", "2019-05-07", MU, MU, "label"),  # a town election
        ("NC", "2016-03-15", PP, PP, "date"),  # combined primary
        ("NC", "2018-05-08", SP, SP, "date"),
        ("NC", "2016-06-07", SP, SPECIAL, "date"),  # congressional second primary
        ("FL", "2018-08-28", SP, SP, "date"),
        ("FL", "2016-03-15", PP, PP, "date"),
        ("FL", "2018-09-25", SP, SPECIAL, "date"),
        ("NY", "2018-06-26", SP, SP, "date"),
        ("NY", "2018-09-13", SP, SP, "date"),
        ("NY", "2016-04-19", PP, PP, "date"),
        ("PA", "2018-05-15", SP, SP, "date"),
        ("PA", "2016-04-26", PP, PP, "date"),
        ("PA", "2019-05-21", MU, MU, "date"),
        ("VA", "2017-11-07", SE, SE, "date"),  # odd-year governor
        ("KY", "2019-11-05", MU, SE, "date"),
        ("GA", "2018-05-22", SP, SP, "label"),  # not in the table: the label
    ],
)
def test_typing_rules_per_state(
    state: str, date: str, file_type: str, expected: str, by: str
) -> None:
    typed = _typed([(date, file_type)], state)
    assert typed.loc["E0", schema.ELECTION_TYPE] == expected
    assert typed.loc["E0", "typed_by"] == by


def test_only_one_primary_a_year_outside_the_table() -> None:
    typed = _typed(
        [("2018-05-22", SP), ("2018-07-24", SP), ("2018-11-06", SE)],
        "GA",
        votes=[5000, 800, 20000],
    )
    assert typed[schema.ELECTION_TYPE].tolist() == [SP, SPECIAL, SE]


def test_coverage_veto_and_overrides() -> None:
    rows = [("2018-05-08", SP), ("2018-11-06", SE), ("2019-11-05", MU)]
    typed = _typed(rows, "OH", coverage=[0.2, 1.0, 0.1])
    assert typed[schema.ELECTION_TYPE].tolist() == [SPECIAL, SE, MU]
    assert typed.loc["E0", "typed_by"] == "coverage"
    assert "20%" in typed.loc["E0", "why"]
    # unknown coverage vetoes nothing; an override beats every rule
    typed = _typed(rows, "OH", coverage=[np.nan, 0.2, 0.1], overrides={"E2": SE})
    assert typed[schema.ELECTION_TYPE].tolist() == [SP, SPECIAL, SE]
    assert typed.loc["E2", "typed_by"] == "override"
    by_date = _typed(rows, "OH", overrides={"2018-05-08": SPECIAL})
    assert by_date.loc["E0", schema.ELECTION_TYPE] == SPECIAL


def _ohio_file(tmp_path: Path) -> Path:
    """A small Ohio-style wide file: 4 precincts of 30 voters, households of 2."""
    rng = np.random.default_rng(1)
    n = 120
    cols = {
        "VOTER_ID": [f"OH{i:04d}" for i in range(n)],
        "HOUSEHOLD_ID": [f"H{i // 2:04d}" for i in range(n)],
        "REGISTRATION_DATE": ["01/15/2019"] * n,  # re-registered: votes before it
        "BIRTH_YEAR": ["1970"] * n,
        "PRECINCT_NAME": [f"P{i % 4}" for i in range(n)],
        "PRIMARY-05/08/2018": np.where(rng.random(n) < 0.3, "R", ""),
        "GENERAL-08/07/2018": np.where(np.arange(n) == 0, "X", ""),
        "GENERAL-11/06/2018": np.where(rng.random(n) < 0.6, "X", ""),
        "GENERAL-11/06/2007": np.where(rng.random(n) < 0.3, "X", ""),
        "PRIMARY-11/06/2007": np.where(np.arange(n) < 3, "X", ""),
        "PRIMARY-09/13/2016": [""] * n,  # nobody voted
    }
    cols["GENERAL-11/06/2007"][:3] = "X"  # voted in both elections of that day
    path = tmp_path / "ohio.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


def _ohio_config(path: Path) -> object:
    return config(
        voter_format="mapped",
        voters=[path],
        mapping={
            "state": "OH",
            "history": "wide",
            "columns": {
                "voter_id": "VOTER_ID",
                "household_id": "HOUSEHOLD_ID",
                "registration_date": "REGISTRATION_DATE",
                "birth_year": "BIRTH_YEAR",
                "precinct_code": "PRECINCT_NAME",
            },
        },
    )


def test_same_day_elections_stay_distinct(tmp_path: Path) -> None:
    result = load.load_voter_file(_ohio_config(_ohio_file(tmp_path)))  # type: ignore[arg-type]
    check_accounting(result.report, result.rejects)
    assert not result.rejects["reason"].str.contains("duplicate vote").any()
    same_day = result.history[
        result.history[schema.ELECTION_DATE] == pd.Timestamp("2007-11-06")
    ]
    ids = same_day.groupby(schema.ELECTION_ID).size()
    assert sorted(ids.index) == ["2007-11-06_municipal", "2007-11-06_municipal_primary"]
    assert ids["2007-11-06_municipal_primary"] == 3
    assert ids["2007-11-06_municipal"] > 3


def test_load_report_shows_the_typed_calendar(tmp_path: Path) -> None:
    result = load.load_voter_file(_ohio_config(_ohio_file(tmp_path)))  # type: ignore[arg-type]
    rows = result.report["calendar"]
    by_date = {r["election_id"]: r for r in rows}
    assert by_date["2018-05-08_state_primary"]["type"] == SP
    assert by_date["2018-05-08_state_primary"]["typed_by"] == "date"
    assert by_date["2018-08-07_state_election"]["type"] == SPECIAL  # one vote in August
    assert by_date["2018-11-06_state_election"]["coverage"] == 1.0
    assert 0.4 < float(by_date["2018-11-06_state_election"]["turnout"]) < 0.8
    (empty,) = [r for r in rows if r["date"] == "2016-09-13"]  # nobody voted
    assert empty["votes"] == 0
    assert empty["type"] == SPECIAL
    assert len(rows) == 6
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def test_household_id_is_mapped_and_groups_households(tmp_path: Path) -> None:
    result = load.load_voter_file(_ohio_config(_ohio_file(tmp_path)))  # type: ignore[arg-type]
    voters = result.voters
    assert voters.loc["OH0001", schema.HOUSEHOLD_ID] == "H0000"
    keys = door_keys(voters)
    assert keys[0] == keys[1] != keys[2]
    assert len(np.unique(keys)) == 60
