"""New York's statewide layout (issue 20 item 14), with made-up people.

Fields follow ../shared/data/voter_file_layouts/NY_voter_file_layout.pdf: 45 quoted,
comma-separated fields without a header; the residence street is split into number,
fraction, apartment, pre-direction, street name and post-direction (fields 5-10);
``REASONCODE`` (41) is the status reason; ``VoterHistory`` (45) lists the elections
voted in, separated by semicolons.
"""

from __future__ import annotations

from pathlib import Path

from _voterfiles import check_accounting, config

from canvass import load, schema

NY_MAPPING: dict[str, object] = {
    "state": "NY",
    "header": False,
    "delimiter": ",",
    "history": "cell",
    "history_separator": ";",
    "election_types": {"GE": "general", "PR": "primary", "PP": "presidential_primary"},
    "status_values": {"AM": "A", "AF": "A", "AP": "A", "AU": "A"},
    "columns": {
        "last_name": "1",
        "first_name": "2",
        "street_number": "5",
        "street_number_suffix": "6",
        "unit": "7",
        "street_pre_direction": "8",
        "street_name": "9",
        "street_post_direction": "10",
        "city": "11",
        "zip5": "12",
        "birth_date": "18",
        "party": "20",
        "registration_date": "36",
        "status": "40",
        "status_reason": "41",
        "voter_id": "44",
        "vote_history": "45",
    },
}


def _ny_row(i: int, **over: str) -> str:
    fields = [""] * 45
    values = {
        1: "DOE",
        2: "SAM",
        5: str(10 + i),
        8: "",
        9: "MAIN ST",
        10: "",
        11: "ALBANY",
        12: "12207",
        18: "19800101",
        20: "DEM",
        36: "20100105",
        40: "A",
        41: "",
        44: f"NY{i:018d}",
        45: "",
    }
    named = {"pre": 8, "street": 9, "post": 10, "apt": 7, "half": 6, "status": 40}
    for key, value in over.items():
        values[named.get(key, 0) or {"reason": 41, "history": 45}[key]] = value
    for pos, value in values.items():
        fields[pos - 1] = value
    return ",".join('"' + f + '"' for f in fields) + "\r\n"


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "AllNYSVoters_20190101.txt"
    rows = [
        _ny_row(1, pre="E", history="20181106 GE;20180913 PR;20161108 GE"),
        _ny_row(2, street="PECAN BLVD", post="SW", half="1/2", apt="3B"),
        _ny_row(3, pre="N", post="E", status="I", reason="MOVED"),
        _ny_row(4, history="20160419 PP;2004;General Election, 2012;;"),
        _ny_row(5, status="AM", history="11/06/2018 GE"),
    ]
    path.write_text("".join(rows))
    return path


def test_new_york_layout_loads(tmp_path: Path) -> None:
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[_write(tmp_path)], mapping=NY_MAPPING)
    )
    v = result.voters
    ids = [f"NY{i:018d}" for i in range(1, 6)]
    # the directions reach the street name the geocoder matches on
    assert list(v.loc[ids, schema.STREET_NAME]) == [
        "E MAIN ST",
        "PECAN BLVD SW",
        "N MAIN ST E",
        "MAIN ST",
        "MAIN ST",
    ]
    assert v.loc[ids[1], schema.STREET_NUMBER_SUFFIX] == "1/2"
    assert v.loc[ids[1], schema.UNIT] == "3B"
    assert list(v.loc[ids, "status_reason"]) == ["", "", "MOVED", "", ""]
    assert list(v.loc[ids, schema.STATUS]) == ["A", "A", "I", "A", "A"]
    h = result.history
    got = sorted(zip(h[schema.VOTER_ID], h[schema.ELECTION_ID], strict=True))
    assert got == [
        (ids[0], "2016-11-08_presidential_election"),
        (ids[0], "2018-09-13_state_primary"),
        (ids[0], "2018-11-06_state_election"),
        (ids[3], "2016-04-19_presidential_primary"),
        (ids[4], "2018-11-06_state_election"),
    ]
    assert sorted(result.rejects["reason"]) == [
        "unreadable history item '2004'; fix mapping.history_item_patterns or "
        "mapping.history_separator",
        "unreadable history item 'General Election, 2012'; fix "
        "mapping.history_item_patterns or mapping.history_separator",
    ]
    assert set(result.rejects["line"]) == {4}
    cell = next(f for f in result.report["files"] if f["layout"] == "mapped_cell")
    assert (cell["rows_in"], cell["rows_loaded"]) == (7, 5)
    check_accounting(result.report, result.rejects)


def test_history_item_patterns_read_party_and_other_orders(tmp_path: Path) -> None:
    path = tmp_path / "county.csv"
    path.write_text(
        "id,history\n"
        "1,GE 2018-11-06 | PR 2018-09-13 DEM\n"
        "1,GE 2016-11-08\n"  # duplicate voter row: its votes go with it
        "2,\n"
    )
    mapping = {
        "state": "NY",
        "history": "cell",
        "history_separator": "|",
        "history_item_patterns": [
            r"^(?P<type>[A-Z]{2}) (?P<date>\d{4}-\d{2}-\d{2})( (?P<party>[A-Z]+))?$"
        ],
        "election_types": {"GE": "general", "PR": "primary"},
        "columns": {"voter_id": "id", "vote_history": "history"},
    }
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[path], mapping=mapping)
    )
    h = result.history
    assert sorted(zip(h[schema.ELECTION_ID], h[schema.PARTY_VOTED], strict=True)) == [
        ("2018-09-13_state_primary", "DEM"),
        ("2018-11-06_state_election", ""),
    ]
    assert list(result.rejects["line"]) == [3, 3]
    assert result.rejects["reason"].iloc[1].startswith("its voter row was rejected")
    check_accounting(result.report, result.rejects)
