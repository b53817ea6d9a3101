"""Tests for canvass.load: canonical voter and history tables, reports, outputs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from _voterfiles import (
    LAST_NAMES,
    MA_ELECTIONS,
    check_accounting,
    config,
    voter_id,
    write_ma,
)

from canvass import load, schema
from canvass.errors import InputError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
NC_SAMPLE = SHARED / "voter_file_layouts" / "samples_fake_data" / "nc_sample_fake.csv"


@pytest.fixture
def ma_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return write_ma(tmp_path, 12)


def test_ma_voters_are_canonical(ma_files: tuple[Path, Path, Path]) -> None:
    vot, anp, acp = ma_files
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    v = result.voters
    schema.validate_voters(v)
    assert len(v) == 12
    assert v.index.name == schema.VOTER_ID
    assert v.index[0] == voter_id(1)  # leading zero kept
    assert (v[schema.ZIP5] == "01060").all()
    assert v[schema.BIRTH_DATE].dtype.kind == "M"
    assert v[schema.REGISTRATION_DATE].dtype.kind == "M"
    assert str(v[schema.BIRTH_YEAR].dtype) == "Int64"
    assert v.loc[voter_id(1), schema.BIRTH_YEAR] == 1941
    assert set(v[schema.STATUS]) == {"A", "I"}
    assert set(v[schema.PARTY]) == {"D", "U", "R"}
    assert v.loc[voter_id(7), schema.STREET_NUMBER_SUFFIX] == "A"
    assert v.loc[voter_id(5), schema.UNIT] == "3"
    assert v.loc[voter_id(1), schema.PRECINCT_ID] == "2A"
    assert (v[schema.CITY] == "NORTHAMPTON").all()  # from the history files
    assert list(v.columns) == [*schema.VOTER_COLUMNS, schema.SOURCE, schema.LINE]
    assert v.loc[voter_id(3), schema.LINE] == 4  # header is line 1
    assert (v[schema.SOURCE] == vot.name).all()


def test_ma_history_types_and_parties(ma_files: tuple[Path, Path, Path]) -> None:
    vot, anp, acp = ma_files
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    h = result.history
    schema.validate_history(h)
    expected = {
        f"{dt.datetime.strptime(d, '%m/%d/%Y').date():%Y-%m-%d}_{t}"
        for _, d, t in MA_ELECTIONS
    }
    assert set(h[schema.ELECTION_ID]) == expected
    assert h[schema.ELECTION_DATE].dtype.kind == "M"
    by_type = h.groupby(schema.ELECTION_TYPE)[schema.PARTY_VOTED].agg(set)
    assert by_type["state_election"] == {""}
    assert by_type["state_primary"] <= {"D", "R"}
    assert "" not in by_type["presidential_primary"]
    # voter i votes in election j when (i + j) % 3 != 0
    n_expected = sum(
        1 for j in range(len(MA_ELECTIONS)) for i in range(1, 13) if (i + j) % 3
    )
    assert len(h) == n_expected
    assert result.rejects.empty
    check_accounting(result.report, result.rejects)


@pytest.mark.parametrize(
    ("header", "gender", "trailing"),
    [
        (True, True, True),
        (False, True, True),
        (False, False, True),
        (True, False, False),
        (False, False, False),
        (False, True, False),
    ],
)
def test_ma_layout_variants_give_same_tables(
    tmp_path: Path, header: bool, gender: bool, trailing: bool
) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "v").mkdir()
    ref = write_ma(tmp_path / "ref", 9)
    var = write_ma(tmp_path / "v", 9, header=header, gender=gender, trailing=trailing)
    a = load.load_voter_file(config(voters=[ref[0]], history=list(ref[1:])))
    b = load.load_voter_file(config(voters=[var[0]], history=list(var[1:])))
    cols = list(schema.VOTER_COLUMNS)
    pd.testing.assert_frame_equal(a.voters[cols], b.voters[cols])
    pd.testing.assert_frame_equal(a.history, b.history)
    assert b.rejects.empty
    layouts = {f["layout"] for f in b.report["files"]}
    assert ("ma_vot" if gender else "ma_vot_no_gender") in layouts
    assert {"ma_anp", "ma_acp"} <= layouts


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]
)
def test_ma_encodings(tmp_path: Path, encoding: str) -> None:
    vot, anp, acp = write_ma(tmp_path, 12, encoding=encoding, newline="\r\n")
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    assert set(result.voters[schema.LAST_NAME]) == set(LAST_NAMES)  # accents survive
    assert result.rejects.empty
    assert len(result.history) > 0
    enc = result.report["files"][0]["encoding"]
    assert (
        enc
        in {
            "utf-8": ("utf-8",),
            "utf-8-sig": ("utf-8-sig",),
            "latin-1": ("cp1252",),
            "cp1252": ("cp1252",),
            "utf-16": ("utf-16",),
        }[encoding]
    )


def test_declared_encoding_rejects_invalid_lines(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 6)
    data = vot.read_bytes().replace("MÜLLER".encode(), "M\xdcLLER".encode("latin-1"))
    vot.write_bytes(data)
    result = load.load_voter_file(
        config(voters=[vot], history=[anp, acp], encoding="utf-8")
    )
    rej = result.rejects[result.rejects["file"] == vot.name]
    assert list(rej["reason"]) == ["bytes not valid in utf-8"]
    assert len(result.voters) == 5
    check_accounting(result.report, result.rejects)
    # auto falls back to Windows-1252 and keeps every row
    auto = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    assert len(auto.voters) == 6
    assert "MÜLLER" in set(auto.voters[schema.LAST_NAME])


def test_report_has_no_personal_data(ma_files: tuple[Path, Path, Path]) -> None:
    vot, anp, acp = ma_files
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    text = json.dumps(result.report, default=str)
    for name in [*LAST_NAMES, "ELM ST", "MAIN ST", "ALEX"]:
        assert name not in text
    assert result.report["voters"] == 12
    assert sum(result.report["precincts"].values()) == 12


def test_write_load_outputs_round_trip(
    ma_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    vot, anp, acp = ma_files
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    paths = load.write_load_outputs(result, tmp_path / "out")
    assert [p.name for p in paths] == [
        "voters.parquet",
        "history.parquet",
        "rejects.csv",
        "load_report.json",
    ]
    voters = pd.read_parquet(paths[0])
    assert voters.index[0] == voter_id(1)
    assert (voters[schema.ZIP5] == "01060").all()
    history = pd.read_parquet(paths[1])
    assert len(history) == len(result.history)
    assert json.loads(paths[3].read_text())["voters"] == 12
    assert list(pd.read_csv(paths[2]).columns) == ["file", "line", "reason"]


def test_glob_patterns_relative_to_config(tmp_path: Path) -> None:
    write_ma(tmp_path, 6)
    toml = tmp_path / "canvass.toml"
    toml.write_text('[inputs]\nvoters = ["*VOT_*.txt"]\nhistory = ["*A?P_*.txt"]\n')
    from canvass.config import PlanConfig

    result = load.load_voter_file(PlanConfig.from_toml(toml))
    assert len(result.voters) == 6
    assert len(result.report["files"]) == 3


@pytest.mark.skipif(
    not NC_SAMPLE.exists(), reason="../shared/data (NC fake sample) absent"
)
def test_nc_sample(tmp_path: Path) -> None:
    result = load.load_voter_file(config(voter_format="nc", voters=[NC_SAMPLE]))
    v = result.voters
    assert len(v) == 100
    assert result.rejects.empty
    assert v[schema.STREET_NUMBER].str.fullmatch(r"\d+").all()
    assert (v[schema.STREET_NAME] != "").all()
    assert v[schema.BIRTH_YEAR].notna().all()  # from the age column
    assert set(v[schema.STATUS]) <= {"A", "I", "R", "D", "S"}
    assert v[schema.ZIP5].str.len().eq(5).all()
    assert "DU994065" in v.index
    assert v.loc["DU994065", schema.UNIT] == "394"
    assert v.loc["DU994065", schema.PRECINCT_ID] == "1-7"
    # history keyed on ncid
    ids = list(v.index[:3])
    hist = tmp_path / "ncvhis1.txt"
    head = "county_id\tcounty_desc\tvoter_reg_num\telection_lbl\telection_desc\t"
    head += "voting_method\tvoted_party_cd\tvoted_party_desc\tpct_label\tncid\n"
    votes = [
        ("11/08/2016", "GENERAL", "DEM", ids[0]),
        ("03/15/2016", "PRIMARY", "DEM", ids[0]),
        ("11/06/2018", "GENERAL", "UNA", ids[1]),
        ("11/05/2019", "MUNICIPAL GENERAL", "", ids[2]),
    ]
    rows = [
        f"1\tALAMANCE\t1\t{d}\t{d} {kind}\tIN-PERSON\t{party}\t\t1\t{ncid}"
        for d, kind, party, ncid in votes
    ]
    hist.write_text(head + "\n".join(rows) + "\n")
    result = load.load_voter_file(
        config(voter_format="nc", voters=[NC_SAMPLE], history=[hist])
    )
    types = dict(
        zip(
            result.history[schema.ELECTION_ID],
            result.history[schema.PARTY_VOTED],
            strict=True,
        )
    )
    assert types == {
        "2016-11-08_presidential_election": "",
        "2016-03-15_presidential_primary": "DEM",
        "2018-11-06_state_election": "",
        "2019-11-05_municipal": "",
    }


VAN_HEADER = (
    "Voter File VANID\tFirstName\tLastName\tFullname\tPhone1\tPhone2\tvAddress\t"
    "Adress2\tCity\tState\tZip5\tAge\tSex\tParty"
)


def test_van_export_utf16(tmp_path: Path) -> None:
    rows = [
        "000123\tJOSÉ\tRIVERA\tJOSÉ RIVERA\t\t\t12 1/2 MAIN ST\tAPT 4\tNorthampton\t"
        "MA\t01060\t34\tM\tD",
        "000124\tANN\tLEE\tANN LEE\t\t\t7 ELM ST #2\t\tNorthampton\tMA\t1060\t71\tF\tU",
        "000125\tBO\tKIM\tBO KIM\t\t\t40 KING ST\t\tNorthampton\tMA\t01060\t\tF\tR",
    ]
    path = tmp_path / "export.xls"
    path.write_text(VAN_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-16")
    result = load.load_voter_file(config(voter_format="van", voters=[path]))
    v = result.voters
    assert list(v.index) == ["000123", "000124", "000125"]
    assert v.loc["000123", schema.FIRST_NAME] == "JOSÉ"
    assert v.loc["000123", schema.STREET_NUMBER] == "12"
    assert v.loc["000123", schema.STREET_NUMBER_SUFFIX] == "1/2"
    assert v.loc["000123", schema.UNIT] == "4"
    assert v.loc["000124", schema.UNIT] == "2"
    assert v.loc["000124", schema.ZIP5] == "01060"
    assert result.report["flags"]["zip_leading_zero_restored"]["count"] == 1
    assert v.loc["000124", schema.BIRTH_YEAR] == dt.date.today().year - 71
    assert pd.isna(v.loc["000125", schema.BIRTH_YEAR])
    assert (v[schema.STATUS] == "A").all()
    assert result.history.empty
    schema.validate_history(result.history)


def test_van_refuses_history(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text(VAN_HEADER + "\n")
    with pytest.raises(InputError, match="VAN list exports carry no vote history"):
        load.load_voter_file(config(voter_format="van", voters=[path], history=[path]))


OHIO = (
    "SOS_VOTERID,LAST_NAME,FIRST_NAME,DATE_OF_BIRTH,REGISTRATION_DATE,VOTER_STATUS,"
    "PARTY_AFFILIATION,RESIDENTIAL_ADDRESS1,RESIDENTIAL_SECONDARY_ADDR,RESIDENTIAL_CITY,"
    "RESIDENTIAL_ZIP,PRECINCT_CODE,PRIMARY-05/07/2013,GENERAL-11/05/2013,"
    "PRIMARY-03/15/2016,GENERAL-11/08/2016,PRIMARY-05/08/2018,GENERAL-11/06/2018\n"
    'OH0000000001,SMITH,ANN,1970-02-03,1999-10-01,ACTIVE,D,"12 ELM ST",APT 4,CLEVELAND,'
    "44101,18-AAA,D,X,D,X,D,X\n"
    'OH0000000002,JONES,BOB,1988-12-30,2010-01-15,CONFIRMATION,,"7 OAK AVE",,CLEVELAND,'
    "44102,18-AAB,,,,X,,\n"
    'OH0000000003,"LEE, JR",CY,2001-05-05,2016-01-01,ACTIVE,R,100 MAIN ST #2,,'
    "CLEVELAND,44103,18-AAC,,,R,X,,X\n"
)
OHIO_MAPPING = {
    "state": "OH",
    "history": "wide",
    "status_values": {"CONFIRMATION": "I"},
    "columns": {
        "voter_id": "SOS_VOTERID",
        "last_name": "LAST_NAME",
        "first_name": "FIRST_NAME",
        "birth_date": "DATE_OF_BIRTH",
        "registration_date": "REGISTRATION_DATE",
        "status": "VOTER_STATUS",
        "party": "PARTY_AFFILIATION",
        "address": "RESIDENTIAL_ADDRESS1",
        "unit": "RESIDENTIAL_SECONDARY_ADDR",
        "city": "RESIDENTIAL_CITY",
        "zip5": "RESIDENTIAL_ZIP",
        "precinct_code": "PRECINCT_CODE",
    },
}


def test_mapped_wide_history_ohio(tmp_path: Path) -> None:
    path = tmp_path / "SWVF_1_22.txt"
    path.write_text(OHIO)
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[path], mapping=OHIO_MAPPING)
    )
    v, h = result.voters, result.history
    assert v.loc["OH0000000001", schema.UNIT] == "4"
    assert v.loc["OH0000000003", schema.UNIT] == "2"
    assert v.loc["OH0000000003", schema.LAST_NAME] == "LEE, JR"  # quoted comma
    assert v.loc["OH0000000002", schema.STATUS] == "I"
    assert v.loc["OH0000000001", schema.PRECINCT_ID] == "18AAA"  # same rule as shapes
    assert (v[schema.STATE] == "OH").all()
    one = h[h[schema.VOTER_ID] == "OH0000000001"]
    assert dict(zip(one[schema.ELECTION_ID], one[schema.PARTY_VOTED], strict=True)) == {
        "2013-05-07_municipal": "D",
        "2013-11-05_municipal": "",
        "2016-03-15_presidential_primary": "D",
        "2016-11-08_presidential_election": "",
        "2018-05-08_state_primary": "D",
        "2018-11-06_state_election": "",
    }
    assert len(h) == 6 + 1 + 3
    check_accounting(result.report, result.rejects)
    wide = next(f for f in result.report["files"] if f["layout"] == "mapped_wide")
    assert wide["rows_in"] == 10
    # voter 3 registered in 2016-01 and voted in 2016: no flag; nobody voted before
    assert "voted_before_registering" not in result.report["flags"]


def test_mapped_long_history_florida(tmp_path: Path) -> None:
    voters = tmp_path / "ALA_20161231.txt"
    voters.write_text(
        "ALA\t0100000001\tDOE\tJOHN\t\tN\t1234 NW 5TH AVE\t\tGAINESVILLE\t32601\t"
        "01/02/1960\t05/06/1990\tDEM\t12\tACT\n"
        "ALA\t0100000002\tROE\tRITA\t\tN\t55 SW 2ND ST\tAPT 3\tGAINESVILLE\t32607\t"
        "11/12/1975\t08/09/2015\tNPA\t13\tACT\n"
    )
    hist = tmp_path / "ALA_H_20161231.txt"
    hist.write_text(
        "ALA\t0100000001\t11/08/2016\tGEN\tY\n"
        "ALA\t0100000001\t03/15/2016\tPPP\tA\n"
        "ALA\t0100000002\t11/08/2016\tGEN\tN\n"
        "ALA\t0100000001\t08/30/2016\tPRI\tE\n"
        "ALA\t0100000002\t04/01/2017\tOTH\tY\n"
        "ALA\t0100000002\t04/01/2017\tXYZ\tY\n"
        "ALA\t0100000009\t11/08/2016\tGEN\tY\n"
    )
    mapping = {
        "state": "FL",
        "header": False,
        "delimiter": "\t",
        "history": "long",
        "history_header": False,
        "election_types": {"OTH": "municipal"},
        "columns": {
            "voter_id": "2",
            "last_name": "3",
            "first_name": "4",
            "address": "7",
            "unit": "8",
            "city": "9",
            "zip5": "10",
            "birth_date": "11",
            "registration_date": "12",
            "party": "13",
            "precinct": "14",
            "status": "15",
        },
        "history_columns": {
            "voter_id": "2",
            "election_date": "3",
            "election_type": "4",
            "voted": "5",
        },
    }
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[voters], history=[hist], mapping=mapping)
    )
    assert list(result.voters.index) == ["0100000001", "0100000002"]
    assert (result.voters[schema.STATUS] == "A").all()  # Florida ACT
    h = result.history
    assert set(h[schema.ELECTION_ID]) == {
        "2016-11-08_presidential_election",
        "2016-03-15_presidential_primary",
        "2016-08-30_state_primary",
        "2017-04-01_municipal",
    }
    reasons = sorted(result.rejects["reason"])
    assert reasons == ["unknown election code 'XYZ'", "voter id not in the voter file"]
    assert result.report["flags"]["unknown_election_codes"]["codes"] == {"XYZ": 1}
    fl = next(f for f in result.report["files"] if f["file"] == hist.name)
    assert fl["rows_did_not_vote"] == 1
    check_accounting(result.report, result.rejects)


def test_classify_election() -> None:
    c = load.classify_election
    assert c("STATE ELECTION", dt.date(2020, 11, 3)) == "presidential_election"
    assert c("STATE ELECTION", dt.date(2022, 11, 8)) == "state_election"
    assert c("State Primary", dt.date(2016, 9, 8)) == "state_primary"
    assert c("PRESIDENTIAL PRIMARY", dt.date(2020, 3, 3)) == "presidential_primary"
    assert c("TOWN MEETING", dt.date(2021, 5, 1)) == "municipal"
    assert c("CITY ELECTION", dt.date(2021, 11, 2)) == "municipal"
    assert c("LOCAL ELECTION", dt.date(2021, 11, 2)) == "municipal"
    assert c("SPECIAL STATE ELECTION", dt.date(2021, 3, 2)) == "special"
    assert c("SPECIAL TOWN ELECTION", dt.date(2021, 3, 2)) == "special"
    assert c("PRI", dt.date(2018, 8, 28), state="FL") == "state_primary"
    assert (
        c("03/15/2016 PRIMARY", dt.date(2016, 3, 15), state="NC")
        == "presidential_primary"
    )
    assert c("GENERAL", dt.date(2017, 11, 7), state="VA") == "state_election"
    assert c("RECALL ELECTION", dt.date(2022, 6, 1)) == "special"
    assert c("OVERRIDE ELECTION", dt.date(2022, 6, 1)) == "municipal"
    assert c("ANNUAL TOWN MEETING", dt.date(2022, 5, 2)) == "municipal"
    assert c("DEM PRIMARY", dt.date(2022, 9, 6)) == "state_primary"
    with pytest.raises(InputError, match="unknown election code 'BINGO NIGHT'"):
        c("BINGO NIGHT", dt.date(2020, 1, 1))


DOCS = Path(__file__).resolve().parents[2] / "docs" / "voter-files.md"


def test_documented_configs_are_valid() -> None:
    import re
    import tomllib

    from canvass.config import PlanConfig

    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert len(blocks) >= 3
    for block in blocks:
        PlanConfig.from_dict(tomllib.loads(block))


def test_precinct_mismatches_are_listed(
    ma_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    vot, anp, acp = ma_files
    shapes = gpd.GeoDataFrame(
        {"WARDPREC": ["1A", "1B", "2A", "3A"]},
        geometry=[
            box(-72.64 + i * 0.01, 42.32, -72.63 + i * 0.01, 42.33) for i in range(4)
        ],
        crs="EPSG:4326",
    )
    shapes.to_file(tmp_path / "precincts.geojson")
    result = load.load_voter_file(
        config(
            voters=[vot],
            history=[anp, acp],
            precincts=str(tmp_path / "precincts.geojson"),
        )
    )
    match = result.report["precinct_match"]
    per_code = result.voters[schema.PRECINCT_ID].value_counts()
    assert match["voter_codes_without_shape"] == {"2B": int(per_code["2B"])}
    assert match["shapes_without_voters"] == ["3A"]
    assert match["voters_matched"] + match["voters_unmatched"] == len(result.voters)
    bad = load.load_voter_file(
        config(voters=[vot], precincts=str(tmp_path / "missing.gpkg"))
    )
    assert "not found" in bad.report["precinct_match"]["error"]


def test_nc_quoted_fields(tmp_path: Path) -> None:
    cols = ["county_id", "ncid", "last_name", "first_name", "res_street_address",
            "res_city_desc", "state_cd", "zip_code", "party_cd", "status_cd",
            "birth_year", "registr_dt", "precinct_abbrv", "ward_abbrv"]  # fmt: skip
    row = ["32", "EH12345", "SMITH", 'JOHN "JACK"', "12 OAK ST APT 2", "DURHAM",
           "NC", "27701", "UNA", "A", "1980", "03/04/2008", "01", ""]  # fmt: skip
    voters = tmp_path / "ncvoter32.txt"
    quoted = ['"' + c.replace('"', '""') + '"' for c in row]
    voters.write_text(
        "\t".join(f'"{c}"' for c in cols) + "\n" + "\t".join(quoted) + "\n"
    )
    hist = tmp_path / "ncvhis32.txt"
    hist.write_text(
        '"ncid"\t"election_lbl"\t"election_desc"\t"voted_party_cd"\n'
        '"EH12345"\t"03/03/2020"\t"03/03/2020 PRIMARY"\t"DEM"\n'
        '"EH12345"\t"11/08/2022"\t"11/08/2022 GENERAL"\t""\n'
    )
    result = load.load_voter_file(
        config(voter_format="nc", voters=[voters], history=[hist])
    )
    v = result.voters.loc["EH12345"]
    assert v[schema.FIRST_NAME] == 'JOHN "JACK"'
    assert v[schema.UNIT] == "2"
    assert v[schema.BIRTH_YEAR] == 1980
    assert v[schema.PRECINCT_ID] == "1"
    assert set(result.history[schema.ELECTION_ID]) == {
        "2020-03-03_presidential_primary",
        "2022-11-08_state_election",
    }


def test_mapped_wide_iso_dates_and_vote_methods(tmp_path: Path) -> None:
    path = tmp_path / "county.csv"
    path.write_text(
        "id,zip,General 2020-11-03,Primary 2022-06-07,General 2022-11-08\n"
        "007,02139,A,D,E\n"
        "008,02139,,N,P\n"
    )
    mapping = {
        "state": "MI",
        "history": "wide",
        "columns": {"voter_id": "id", "zip5": "zip"},
    }
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[path], mapping=mapping)
    )
    h = result.history
    assert sorted(
        zip(
            h[schema.VOTER_ID],
            h[schema.ELECTION_ID],
            h[schema.PARTY_VOTED],
            strict=True,
        )
    ) == [
        ("007", "2020-11-03_presidential_election", ""),
        ("007", "2022-06-07_state_primary", "D"),
        ("007", "2022-11-08_state_election", ""),
        ("008", "2022-11-08_state_election", ""),
    ]
    wide = next(f for f in result.report["files"] if f["layout"] == "mapped_wide")
    assert (wide["rows_in"], wide["rows_did_not_vote"]) == (5, 1)
