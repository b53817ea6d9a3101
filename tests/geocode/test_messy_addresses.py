"""Issue 20, geocoding: messy real inputs never reach a walk list silently."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import usaddress
from shapely.geometry import Point, box

from canvass import schema
from canvass.config import GeocodeParams, PlanConfig
from canvass.errors import ConfigError, InputError
from canvass.geocode import DETAIL_CODES, geocode_voters, read_address_points
from canvass.geocode._address import (
    correct_street_names,
    normalize_street,
    normalize_unit,
    parse_address_line,
)
from canvass.geocode._usps import (
    STREET_SUFFIXES,
    SUFFIX_ABBREVIATIONS,
    UNIT_DESIGNATORS,
)

CRS = "EPSG:26986"
X0, Y0 = 100_000.0, 900_000.0  # Massachusetts Mainland metres


def _voters(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Canonical voters from (id, number, street, precinct)."""
    cols = {c: [""] * len(rows) for c in schema.VOTER_COLUMNS}
    frame = pd.DataFrame(cols, dtype="str")
    frame[schema.STREET_NUMBER] = [r[1] for r in rows]
    frame[schema.STREET_NAME] = [r[2] for r in rows]
    frame[schema.PRECINCT_ID] = [r[3] for r in rows]
    frame.index = pd.Index([r[0] for r in rows], name=schema.VOTER_ID)
    return frame


@pytest.fixture(scope="module")
def precincts() -> gpd.GeoDataFrame:
    """Two precincts 2 km wide side by side."""
    return gpd.GeoDataFrame(
        {schema.WARD: ["1", "2"], schema.PRECINCT: ["A", "A"], schema.NAME: ["", ""]},
        geometry=[
            box(X0, Y0, X0 + 2000, Y0 + 2000),
            box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000),
        ],
        index=pd.Index(["1A", "2A"], name=schema.PRECINCT_ID),
        crs=CRS,
    )


def _layer(tmp_path: Path, rows: list[dict[str, object]], name: str) -> Path:
    """Write address points (x, y in metres) as a GeoPackage with the given columns."""
    frame = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]),
        geometry=[Point(x, y) for x, y in zip(frame["x"], frame["y"], strict=True)],
        crs=CRS,
    )
    path = tmp_path / name
    gdf.to_file(path, driver="GPKG")
    return path


# --- item 11: USPS Publication 28 tables -------------------------------------------


def test_c1_table_is_complete_against_usaddress() -> None:
    # usaddress ships C1's spellings as a flat set; every one of them (but a few
    # two-letter codes and words that are no USPS suffix) must be in our table.
    not_usps = {"BL", "CI", "CK", "CR", "EX", "LA", "LP", "MI", "MN", "PK", "PW"}
    not_usps |= {"PWY", "RI", "RN", "TE", "TL", "TR", "XC", "XG", "MILE", "TURN"}
    theirs = {s.upper() for s in usaddress.STREET_NAMES} - not_usps
    assert theirs <= set(SUFFIX_ABBREVIATIONS)
    assert len(STREET_SUFFIXES) >= 200  # every C1 entry, not a sample
    for abbr, spellings in STREET_SUFFIXES.items():
        assert SUFFIX_ABBREVIATIONS[abbr] == abbr
        assert all(SUFFIX_ABBREVIATIONS[s] in (abbr, s) for s in spellings)
    assert SUFFIX_ABBREVIATIONS["KNOLL"] == "KNL"
    assert SUFFIX_ABBREVIATIONS["MEADOW"] == "MDW"


def test_c2_unit_designators() -> None:
    assert len(UNIT_DESIGNATORS) == 24
    assert UNIT_DESIGNATORS["APARTMENT"] == ("APT", True)
    assert UNIT_DESIGNATORS["REAR"] == ("REAR", False)
    assert normalize_unit("Hangar 4") == "4"
    assert normalize_unit("Penthouse") == "PH"  # needs no number: it is the unit
    assert normalize_unit("Rear") == "REAR"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Laurel Knoll", "LAUREL KNL"),
        ("Elm Bow", "ELM BOW"),
        ("Sunset Rise", "SUNSET RISE"),
        ("Cedar Crossing", "CEDAR XING"),
    ],
)
def test_more_suffixes_are_known(raw: str, expected: str) -> None:
    assert normalize_street(raw) == expected


def test_spelt_out_and_missing_parts_meet() -> None:
    known = ["S MEADOW RD", "LAKE VIEW BLVD", "N MAIN ST", "LAUREL RISE", "PARK ST"]
    fixes = correct_street_names(
        ["SOUTH MEADOW", "LAKE VIEW", "MAIN ST", "LAUREL", "PARK HL", "S MEADOW"],
        known,
    )
    assert fixes == {
        "SOUTH MEADOW": "S MEADOW RD",  # directional spelt out, type left out
        "S MEADOW": "S MEADOW RD",
        "LAKE VIEW": "LAKE VIEW BLVD",  # VIEW is the name here, BLVD left out
        "MAIN ST": "N MAIN ST",  # the one Main St has a directional
        "LAUREL": "LAUREL RISE",  # a non-USPS street type left out
    }  # PARK HL is never PARK ST
    # the directional is not guessed when two streets differ only by it
    assert correct_street_names(["MAIN ST"], ["N MAIN ST", "S MAIN ST"]) == {}


# --- item 12: ranges in one-line addresses -----------------------------------------


@pytest.mark.parametrize(
    ("line", "number", "street", "unit"),
    [
        ("12-14 MAIN ST", "12", "MAIN ST", ""),
        ("12 - 14 Main Street Apt 2", "12", "MAIN ST", "2"),
        ("012-014 N Main St, Northampton MA", "12", "N MAIN ST", ""),
    ],
)
def test_range_in_a_one_line_address(
    line: str, number: str, street: str, unit: str
) -> None:
    parts = parse_address_line(line)
    assert (parts["number"], parts["street"], parts["unit"]) == (number, street, unit)


# --- item 10: column settings and MassGIS names -------------------------------------


def test_massgis_shapefile_truncated_names(tmp_path: Path) -> None:
    rows = [
        {"FULL_NUMBE": "12A", "STREET_NAM": "MAIN ST", "POSTCODE": "01060"},
        {"FULL_NUMBE": "14-16", "STREET_NAM": "MAIN ST", "POSTCODE": "01060"},
    ]
    for r, x in zip(rows, (10.0, 30.0), strict=True):
        r |= {"x": X0 + x, "y": Y0 + 10.0, "MASTER_ADD": "1"}
    pts = read_address_points(_layer(tmp_path, rows, "massgis.gpkg"), CRS)
    assert pts["match_key"].tolist() == ["12A|MAIN ST", "14|MAIN ST", "16|MAIN ST"]
    assert (pts["zip5"] == "01060").all()


def test_columns_named_in_the_config(tmp_path: Path) -> None:
    rows = [{"HSE": "5", "RD_LABEL": "Elm Street", "x": X0 + 5, "y": Y0 + 5}]
    path = _layer(tmp_path, rows, "odd.gpkg")
    with pytest.raises(InputError, match="no usable address columns"):
        read_address_points(path, CRS)
    params = GeocodeParams(number_column="hse", street_column="RD_LABEL")
    pts = read_address_points(path, CRS, params)
    assert pts["match_key"].tolist() == ["5|ELM ST"]
    with pytest.raises(InputError, match=r"`geocode.zip_column` = 'ZIPPY'.*columns"):
        read_address_points(path, CRS, GeocodeParams(zip_column="ZIPPY"))
    cfg = PlanConfig.from_dict({"geocode": {"street_column": "RD_LABEL"}})
    assert cfg.geocode.street_column == "RD_LABEL"
    with pytest.raises(ConfigError, match="clash_m"):
        GeocodeParams(clash_m=0)


# --- item 6: same address, two places ------------------------------------------------


def test_same_address_far_apart_stays_two_doors(
    tmp_path: Path, precincts: gpd.GeoDataFrame
) -> None:
    rows = [  # 10 Reinhard Ave spelt two ways, 2.5 km apart, in two precincts
        {"NUMBER": "10", "STREET": "Reinhard Avenue", "x": X0 + 500, "y": Y0 + 500},
        {"NUMBER": "10", "STREET": "REINHARD AVE", "x": X0 + 3000, "y": Y0 + 500},
        {"NUMBER": "12", "STREET": "Reinhard Avenue", "x": X0 + 520, "y": Y0 + 500},
    ]
    pts = read_address_points(_layer(tmp_path, rows, "clash.gpkg"), CRS)
    voters = _voters(
        [
            ("V1", "10", "REINHARD AVENUE", "1A"),
            ("V2", "10", "REINHARD AVE", "2A"),
            ("V3", "12", "REINHARD AVE", "1A"),
            ("V4", "10", "REINHARD AVE", "9Z"),  # precinct tells nothing
        ]
    )
    res = geocode_voters(
        voters,
        precincts,
        streets=None,
        address_points=pts,
        params=GeocodeParams(),
    )
    v = res.voters
    d1, d2 = v.at["V1", schema.DOOR_ID], v.at["V2", schema.DOOR_ID]
    assert d1 != d2  # not merged into one door
    assert res.doors.at[d1, "geometry"].x == pytest.approx(X0 + 500)
    assert res.doors.at[d2, "geometry"].x == pytest.approx(X0 + 3000)
    assert v.at["V1", schema.GEOCODE_DETAIL].startswith("point_clash_resolved")
    assert v.at["V3", schema.GEOCODE_DETAIL] == "point"
    assert v.at["V4", schema.GEOCODE_METHOD] != "address_point"
    assert v.at["V4", schema.GEOCODE_DETAIL].startswith("no_precinct: point_clash")
    clash = res.report["address_point_clashes"]
    assert clash["addresses"] == 1
    assert clash["streets"] == {"REINHARD AVE": 1}


def test_points_of_one_building_are_not_a_clash(
    tmp_path: Path, precincts: gpd.GeoDataFrame
) -> None:
    rows = [  # unit points of one building, 40 m apart
        {"NUMBER": "3", "STREET": "Elm St", "UNIT": "", "x": X0 + 100, "y": Y0 + 100},
        {"NUMBER": "3", "STREET": "Elm St", "UNIT": "2", "x": X0 + 140, "y": Y0 + 100},
    ]
    pts = read_address_points(_layer(tmp_path, rows, "bldg.gpkg"), CRS)
    res = geocode_voters(
        _voters([("V1", "3", "ELM ST", "2A")]),
        precincts,
        streets=None,
        address_points=pts,
        params=GeocodeParams(),
    )
    assert res.voters.at["V1", schema.GEOCODE_DETAIL] == "point"
    assert res.report["address_point_clashes"]["addresses"] == 0


# --- item 13: a reason for every miss -------------------------------------------------


def test_geocode_detail_says_which_step_failed(
    tmp_path: Path, precincts: gpd.GeoDataFrame
) -> None:
    rows = [
        {"NUMBER": str(n), "STREET": "Maple Street", "x": X0 + 10 * n, "y": Y0 + 10}
        for n in (2, 4, 8, 10)
    ]
    pts = read_address_points(_layer(tmp_path, rows, "maple.gpkg"), CRS)
    voters = _voters(
        [
            ("V1", "4", "MAPLE ST", "1A"),
            ("V2", "4", "MAPEL ST", "1A"),  # misspelt street, corrected
            ("V3", "77", "IMAGINARY BLVD", "1A"),
            ("V4", "", "MAPLE ST", "1A"),
            ("V5", "5", "", "1A"),
            ("V6", "4", "4 MAPLE ST", "1A"),  # number typed again in the street
            ("V7", "6", "MAPLE ST", "1A"),  # between 4 and 8
            ("V8", "4A", "MAPLE ST", "1A"),
        ]
    )
    res = geocode_voters(
        voters, precincts, streets=None, address_points=pts, params=GeocodeParams()
    )
    d = res.voters[schema.GEOCODE_DETAIL]
    assert d["V1"] == "point"
    assert d["V2"] == "point_street_corrected"
    assert d["V3"].startswith("street_not_found")
    assert "precinct's centre" in d["V3"]
    assert d["V4"].startswith("no_number")
    assert d["V5"] == "no_street"
    assert d["V6"] == "point"
    assert d["V7"].startswith(
        "interpolated: not among the points; nearest numbers 4, 8"
    )
    assert d["V8"] == "point_suffix_dropped"
    codes = d.str.extract(r"^(\w+)", expand=False)
    assert codes.isin(DETAIL_CODES).all()
    by = res.report["voters_by_detail"]
    assert by["point"] == 2
    assert by["street_not_found"] == 1
    assert sum(by.values()) == len(voters)
    # Street corrections are listed by street, never with a house number.
    rep = res.report
    assert rep["street_corrections"] == {"MAPEL ST": "MAPLE ST"}
    assert rep["street_corrections_by_street"] == [
        {"street": "MAPLE ST", "voters": 1, "spellings": ["MAPEL ST"]}
    ]
    listed = [s for r in rep["street_corrections_by_street"] for s in r["spellings"]]
    assert not any(
        ch.isdigit() for ch in "".join([*listed, *rep["street_corrections"]])
    )
    assert schema.GEOCODE_DETAIL in res.doors.columns


def test_nearest_streets_named_for_an_unknown_street(
    tmp_path: Path, precincts: gpd.GeoDataFrame
) -> None:
    rows = [{"NUMBER": "2", "STREET": "Maple Street", "x": X0 + 20, "y": Y0 + 10}]
    pts = read_address_points(_layer(tmp_path, rows, "one.gpkg"), CRS)
    res = geocode_voters(
        _voters([("V1", "3", "MAPLEWOOD DR", "1A")]),
        precincts,
        streets=None,
        address_points=pts,
        params=GeocodeParams(),
    )
    assert res.voters.at["V1", schema.GEOCODE_DETAIL].startswith(
        "street_not_found: nearest MAPLE ST"
    )


def test_route_centroids_marks_the_address(
    tmp_path: Path, precincts: gpd.GeoDataFrame
) -> None:
    voters = _voters([("V1", "77", "IMAGINARY BLVD", "1A")])
    plain = geocode_voters(
        voters, precincts, streets=None, address_points=None, params=GeocodeParams()
    )
    marked = geocode_voters(
        voters,
        precincts,
        streets=None,
        address_points=None,
        params=GeocodeParams(route_centroids=True),
    )
    assert plain.doors[schema.ADDRESS].tolist() == ["77 IMAGINARY BLVD"]
    assert marked.doors[schema.ADDRESS].iloc[0].startswith("77 IMAGINARY BLVD [")
    assert "unverified" in marked.doors[schema.ADDRESS].iloc[0]
