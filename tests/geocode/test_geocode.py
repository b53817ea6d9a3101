from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box

from canvass import schema
from canvass.config import GeocodeParams
from canvass.errors import InputError
from canvass.geocode import geocode_voters, read_address_points
from canvass.geocode._interpolate import street_chains

CRS = "EPSG:26986"  # NAD83 / Massachusetts Mainland, metres
LAT0, LON0 = 42.3200, -72.6400
DLAT, DLON = 0.0045, 0.0061  # about 500 m each way


def _osm_xml() -> str:
    """Maple Street west-east, Elm Street south-north crossing it, Oak Road apart."""
    nodes = {
        1: (LAT0, LON0),
        2: (LAT0, LON0 + DLON / 2),
        3: (LAT0, LON0 + DLON),
        4: (LAT0 - DLAT / 2, LON0 + DLON / 2),
        5: (LAT0 + DLAT / 2, LON0 + DLON / 2),
        6: (LAT0 + DLAT * 0.8, LON0),
        7: (LAT0 + DLAT * 0.8, LON0 + DLON * 0.4),
    }
    ways = [
        (10, "Maple Street", "residential", [1, 2, 3]),
        (11, "Elm Street", "residential", [4, 2, 5]),
        (12, "Oak Road", "residential", [6, 7]),
    ]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for nid, (lat, lon) in nodes.items():
        lines.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, name, hw, refs in ways:
        lines.append(f'<way id="{wid}" version="1">')
        lines.extend(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<tag k="highway" v="{hw}"/><tag k="name" v="{name}"/></way>')
    lines.append("</osm>")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def streets(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    path = tmp_path_factory.mktemp("osm") / "town.osm"
    path.write_text(_osm_xml())
    G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    return ox.project_graph(G, to_crs=CRS)


@pytest.fixture(scope="module")
def precincts(streets: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Two precincts split north-south through the middle of Maple Street."""
    nodes = ox.graph_to_gdfs(streets, edges=False)
    x0, y0, x1, y1 = nodes.total_bounds
    mid = nodes.loc[2].geometry.x
    pad = 200
    return gpd.GeoDataFrame(
        {
            schema.WARD: ["1", "1"],
            schema.PRECINCT: ["A", "B"],
            schema.NAME: ["1A", "1B"],
        },
        geometry=[
            box(x0 - pad, y0 - pad, mid, y1 + pad),
            box(mid, y0 - pad, x1 + pad, y1 + pad),
        ],
        index=pd.Index(["1A", "1B"], name=schema.PRECINCT_ID),
        crs=CRS,
    )


def _maple_point(streets: nx.MultiDiGraph, number: int) -> Point:
    """Where house `number` of Maple Street really is: 10 m per number, odd north."""
    a = streets.nodes[1]
    x = a["x"] + 10 * number
    y = a["y"] + (15 if number % 2 else -15)
    return Point(x, y)


@pytest.fixture(scope="module")
def address_csv(
    tmp_path_factory: pytest.TempPathFactory, streets: nx.MultiDiGraph
) -> Path:
    """Maple St 2..40 (no 21-29: those are left to interpolation) in title case."""
    numbers = [n for n in range(2, 41) if not 21 <= n <= 29]
    pts = gpd.GeoSeries([_maple_point(streets, n) for n in numbers], crs=CRS).to_crs(
        4326
    )
    frame = pd.DataFrame(
        {
            "ADDR_NUM": [str(n) for n in numbers],
            "StreetName": ["Maple Street"] * len(numbers),
            "Zip": ["01060"] * len(numbers),
            "Latitude": pts.y,
            "Longitude": pts.x,
        }
    )
    path = tmp_path_factory.mktemp("ap") / "points.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def points(address_csv: Path) -> gpd.GeoDataFrame:
    return read_address_points(address_csv, CRS)


def _voters(rows: list[tuple[str, str, str, str, str, str]]) -> pd.DataFrame:
    """Canonical voters from (id, number, street, unit, zip, precinct)."""
    cols = {c: [""] * len(rows) for c in schema.VOTER_COLUMNS}
    frame = pd.DataFrame(cols, dtype="str")
    frame[schema.STREET_NUMBER] = [r[1] for r in rows]
    frame[schema.STREET_NAME] = [r[2] for r in rows]
    frame[schema.UNIT] = [r[3] for r in rows]
    frame[schema.ZIP5] = [r[4] for r in rows]
    frame[schema.PRECINCT_ID] = [r[5] for r in rows]
    frame.index = pd.Index([r[0] for r in rows], name=schema.VOTER_ID)
    return frame


VOTERS = [
    ("V01", "4", "MAPLE ST", "", "01060", "1A"),
    ("V02", "4", "maple street", "", "01060", "1A"),
    ("V03", "12", "MAPLE ST", "APT 1", "01060", "1A"),
    ("V04", "12", "MAPEL ST", "#2", "01060", "1A"),  # typo, unit spelt differently
    ("V05", "12", "MAPLE ST", "UNIT 2", "01060", "1A"),
    ("V06", "23", "MAPLE ST", "", "01060", "1A"),  # interpolated between 19 and 31
    ("V07", "24", "MAPLE ST", "", "01060", "1A"),
    ("V08", "7", "OAK RD", "", "01060", "1A"),  # no points on Oak Rd: by length
    ("V09", "3", "OAK RD", "", "01060", "1A"),
    ("V10", "9", "NOWHERE LN", "", "01060", "1B"),  # centroid of 1B
    ("V11", "36", "MAPLE ST", "", "01060", "1A"),  # really in 1B: disagreement
    ("V12", "16 1/2", "MAPLE ST", "", "01060", "1A"),  # fraction: falls back to 16
]


@pytest.fixture(scope="module")
def result(precincts, streets, points):
    return geocode_voters(
        _voters(VOTERS),
        precincts,
        streets=streets,
        address_points=points,
        params=GeocodeParams(),
    )


def test_read_address_points_guesses_columns(points: gpd.GeoDataFrame) -> None:
    assert len(points) == 30
    assert set(points["street_name"]) == {"MAPLE ST"}
    assert points.crs.equals(gpd.GeoSeries([], crs=CRS).crs)
    assert points["match_key"].iloc[0] == "2|MAPLE ST"
    assert (points["zip5"] == "01060").all()


def test_read_address_points_without_address_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("lat,lon,colour\n42.3,-72.6,red\n")
    with pytest.raises(InputError, match="no usable address columns"):
        read_address_points(path, CRS)


@pytest.mark.parametrize("kind", ["gzip", "zip", "xz"])
def test_read_address_points_compressed(
    tmp_path: Path, address_csv: Path, points: gpd.GeoDataFrame, kind: str
) -> None:
    import gzip
    import lzma
    import zipfile

    text = address_csv.read_text().replace(",", "\t").encode("utf-16")
    if kind == "zip":
        path = tmp_path / "MAD.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("MAD/points.tsv", text)
            zf.writestr("MAD/metadata.xml", "<meta/>")
        path = Path(f"{path}:*.tsv")
    else:
        path = tmp_path / f"points.tsv.{kind}"
        path.write_bytes({"gzip": gzip.compress, "xz": lzma.compress}[kind](text))
    pts = read_address_points(path, CRS)
    assert pts["match_key"].tolist() == points["match_key"].tolist()
    assert pts.geometry.distance(points.geometry).max() < 0.01
    bad = tmp_path / "cut.csv.gz"
    bad.write_bytes(gzip.compress(address_csv.read_bytes())[:-30])
    with pytest.raises(InputError, match=r"cut\.csv\.gz: the gzip-compressed"):
        read_address_points(bad, CRS)


def test_read_address_points_one_line_and_geopackage(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame(
        {"FULL_ADDRESS": ["12 1/2 North Main Street Apt 3", "7A Elm St"]},
        geometry=[Point(-72.63, 42.32), Point(-72.631, 42.321)],
        crs=4326,
    )
    path = tmp_path / "pts.gpkg"
    g.to_file(path)
    pts = read_address_points(path, CRS)
    assert pts["match_key"].tolist() == ["7A|ELM ST", "12 1/2|N MAIN ST"]  # units last
    assert pts["unit"].tolist() == ["", "3"]


def test_methods_per_voter(result) -> None:
    m = result.voters[schema.GEOCODE_METHOD]
    assert m["V01"] == m["V03"] == m["V04"] == m["V11"] == m["V12"] == "address_point"
    assert m["V06"] == m["V07"] == m["V08"] == m["V09"] == "interpolated"
    assert m["V10"] == "centroid"
    assert result.report["voters_by_method"] == {
        "address_point": 6 + 1,
        "interpolated": 4,
        "centroid": 1,
        "none": 0,
    }


def test_exact_match_at_the_address_point(result, streets) -> None:
    door = result.voters.at["V01", schema.DOOR_ID]
    assert result.voters.at["V02", schema.DOOR_ID] == door
    assert result.doors.at[door, "geometry"].distance(_maple_point(streets, 4)) < 0.01
    assert result.doors.at[door, schema.ADDRESS] == "4 MAPLE ST"
    assert result.doors.at[door, schema.N_VOTERS] == 2


def test_apartments_share_a_door_and_keep_units(result) -> None:
    doors = result.voters.loc[["V03", "V04", "V05"], schema.DOOR_ID]
    assert doors.nunique() == 1
    door = doors.iloc[0]
    assert result.doors.at[door, schema.N_UNITS] == 2
    assert result.doors.at[door, schema.N_VOTERS] == 3
    assert (
        result.voters.loc["V04", schema.UNIT] == "#2"
    )  # the voter keeps the file's unit
    assert result.report["voters_street_corrected"] == 1
    assert result.report["street_corrections"] == {"MAPEL ST": "MAPLE ST"}


def test_interpolation_orders_numbers_and_sides(result, streets) -> None:
    d = result.doors
    p23 = d.at[result.voters.at["V06", schema.DOOR_ID], "geometry"]
    p24 = d.at[result.voters.at["V07", schema.DOOR_ID], "geometry"]
    y_street = streets.nodes[1]["y"]
    # odd numbers on the north side (learnt from the points), even on the south
    assert p23.y > y_street > p24.y
    maple = (
        street_chains(streets, CRS).query("street_name == 'MAPLE ST'").geometry.iloc[0]
    )
    assert maple.distance(p23) == pytest.approx(12.0, abs=0.5)  # the default setback
    # between its neighbours 19 and 31 along the street
    assert _maple_point(streets, 19).x < p23.x < _maple_point(streets, 31).x
    assert abs(p23.x - _maple_point(streets, 23).x) < 15


def test_interpolation_by_length_without_points(result, streets) -> None:
    d = result.doors
    p3 = d.at[result.voters.at["V09", schema.DOOR_ID], "geometry"]
    p7 = d.at[result.voters.at["V08", schema.DOOR_ID], "geometry"]
    oak = street_chains(streets, CRS).query("street_name == 'OAK RD'").geometry.iloc[0]
    assert oak.project(p3) < oak.project(p7)
    assert 11.0 < oak.distance(p3) < 13.0
    # odd numbers on the same side of the street
    assert np.sign(p3.y - oak.interpolate(oak.project(p3)).y) == np.sign(
        p7.y - oak.interpolate(oak.project(p7)).y
    )


def test_centroid_fallback_is_flagged(result, precincts) -> None:
    door = result.voters.at["V10", schema.DOOR_ID]
    assert result.doors.at[door, schema.GEOCODE_METHOD] == "centroid"
    rep = precincts.geometry.representative_point()["1B"]
    assert result.doors.at[door, "geometry"].equals(rep)
    assert result.doors.at[door, schema.PRECINCT_ID] == "1B"


def test_precinct_disagreement_listed(result) -> None:
    dis = result.report["precinct_disagreements"]
    assert dis["voters"] == 1
    assert dis["voter_list"] == [
        {
            "voter_id": "V11",
            "door_id": result.voters.at["V11", schema.DOOR_ID],
            "file_precinct_id": "1A",
            "geocoded_precinct_id": "1B",
        }
    ]
    assert result.voters.at["V11", schema.GEOCODE_PRECINCT_ID] == "1B"
    assert dis["by_precincts"] == [
        {"file_precinct_id": "1A", "geocoded_precinct_id": "1B", "voters": 1}
    ]
    assert dis["door_list"] == [
        {
            "door_id": result.voters.at["V11", schema.DOOR_ID],
            "file_precinct_ids": ["1A"],
            "geocoded_precinct_id": "1B",
        }
    ]
    assert result.report["precinct_agree_pct"] == pytest.approx(100 * 11 / 12, abs=0.01)


def test_doors_schema_and_ids(result) -> None:
    schema.validate_doors(result.doors)
    assert result.doors.index.tolist() == [
        f"D{i:05d}" for i in range(1, len(result.doors) + 1)
    ]
    assert result.doors[schema.N_VOTERS].sum() == len(VOTERS)
    assert set(result.voters[schema.DOOR_ID]) == set(result.doors.index)


def test_deterministic_and_input_not_mutated(precincts, streets, points) -> None:
    voters = _voters(VOTERS)
    before_v, before_p, before_pts = voters.copy(), precincts.copy(), points.copy()
    a = geocode_voters(
        voters,
        precincts,
        streets=streets,
        address_points=points,
        params=GeocodeParams(),
    )
    shuffled = voters.sample(frac=1.0, random_state=3)
    b = geocode_voters(
        shuffled,
        precincts,
        streets=streets,
        address_points=points,
        params=GeocodeParams(),
    )
    pd.testing.assert_frame_equal(voters, before_v)
    assert_geodataframe_equal(precincts, before_p)
    assert_geodataframe_equal(points, before_pts)
    assert_geodataframe_equal(a.doors, b.doors)
    pd.testing.assert_frame_equal(a.voters, b.voters.loc[a.voters.index])


def test_without_address_points_or_streets(precincts) -> None:
    res = geocode_voters(
        _voters(VOTERS),
        precincts,
        streets=None,
        address_points=None,
        params=GeocodeParams(),
    )
    assert (res.voters[schema.GEOCODE_METHOD] == "centroid").all()
    assert res.report["placed_pct"] == 100.0


def test_unknown_precinct_is_not_geocoded(precincts) -> None:
    voters = _voters(
        [("X1", "1", "NOWHERE LN", "", "", "9Z"), ("X2", "", "", "", "", "1A")]
    )
    res = geocode_voters(
        voters, precincts, streets=None, address_points=None, params=GeocodeParams()
    )
    assert res.voters[schema.GEOCODE_METHOD].tolist() == ["none", "none"]
    assert res.voters[schema.DOOR_ID].tolist() == ["", ""]
    assert res.report["not_geocoded_voter_ids"] == ["X1", "X2"]
    assert len(res.doors) == 0


def test_door_outside_every_precinct(precincts, points) -> None:
    far = points.copy()
    far["geometry"] = far.geometry.translate(xoff=50_000)
    res = geocode_voters(
        _voters(VOTERS[:2]),
        precincts,
        streets=None,
        address_points=far,
        params=GeocodeParams(),
    )
    door = res.voters.at["V01", schema.DOOR_ID]
    assert res.doors.at[door, schema.PRECINCT_ID] == ""
    assert res.report["doors_outside_precincts"] == {"count": 1, "door_ids": [door]}


def test_missing_voter_columns_is_one_line_error(precincts) -> None:
    bad = _voters(VOTERS).drop(columns=[schema.STREET_NAME])
    with pytest.raises(InputError, match=r"lack column\(s\) \['street_name'\]"):
        geocode_voters(
            bad, precincts, streets=None, address_points=None, params=GeocodeParams()
        )


def test_street_chains_merge_both_directions(streets) -> None:
    chains = street_chains(streets, CRS)
    assert sorted(set(chains["street_name"])) == ["ELM ST", "MAPLE ST", "OAK RD"]
    maple = chains[chains["street_name"] == "MAPLE ST"]
    assert len(maple) == 1  # two edges, both directions: one line
    assert maple["length_m"].iloc[0] == pytest.approx(
        shapely.distance(
            _maple_point(streets, 0),
            Point(streets.nodes[3]["x"], streets.nodes[3]["y"]),
        ),
        abs=20,
    )


def test_suffix_found_only_as_plain_number_is_its_own_door(result, streets) -> None:
    door = result.voters.at["V12", schema.DOOR_ID]
    assert result.doors.at[door, schema.ADDRESS] == "16 1/2 MAPLE ST"
    assert result.doors.at[door, schema.GEOCODE_METHOD] == "address_point"
    assert result.doors.at[door, "geometry"].distance(_maple_point(streets, 16)) < 0.01


def test_unit_typed_into_the_street_column(precincts, streets, points) -> None:
    voters = _voters(
        [
            ("U1", "12", "MAPLE ST APT 3", "", "01060", "1A"),
            ("U2", "12", "Maple Street", "3", "01060", "1A"),
            ("U3", "12", "MAPLE ST", "4", "1060", "1A"),  # zip lost its leading zero
        ]
    )
    res = geocode_voters(
        voters,
        precincts,
        streets=streets,
        address_points=points,
        params=GeocodeParams(),
    )
    assert res.voters[schema.GEOCODE_METHOD].eq("address_point").all()
    assert res.voters[schema.DOOR_ID].nunique() == 1
    assert res.doors[schema.N_UNITS].iloc[0] == 2


def test_interpolation_switched_off(precincts, streets, points) -> None:
    res = geocode_voters(
        _voters(VOTERS),
        precincts,
        streets=streets,
        address_points=points,
        params=GeocodeParams(interpolate=False),
    )
    assert res.report["voters_by_method"]["interpolated"] == 0
    assert res.voters.at["V06", schema.GEOCODE_METHOD] == "centroid"


def test_read_address_points_from_osm(tmp_path: Path) -> None:
    osm = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" version="1" lat="42.3200000" lon="-72.6400000">
  <tag k="addr:housenumber" v="12A"/><tag k="addr:street" v="Maple Street"/>
  <tag k="addr:postcode" v="01060"/>
 </node>
 <node id="2" version="1" lat="42.3201000" lon="-72.6401000">
  <tag k="addr:housenumber" v="5"/>
 </node>
 <node id="3" version="1" lat="42.3210000" lon="-72.6410000"/>
 <node id="4" version="1" lat="42.3210000" lon="-72.6408000"/>
 <node id="5" version="1" lat="42.3212000" lon="-72.6408000"/>
 <node id="6" version="1" lat="42.3212000" lon="-72.6410000"/>
 <way id="10" version="1">
  <nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="3"/>
  <tag k="building" v="house"/><tag k="addr:housenumber" v="7"/>
  <tag k="addr:street" v="North Elm Street"/><tag k="addr:unit" v="Apt 2"/>
 </way>
</osm>
"""
    path = tmp_path / "addr.osm"
    path.write_text(osm)
    pts = read_address_points(path, CRS)
    assert sorted(pts["match_key"]) == ["12A|MAPLE ST", "7|N ELM ST"]
    building = pts[pts["match_key"] == "7|N ELM ST"].to_crs(4326).geometry.iloc[0]
    assert building.y == pytest.approx(42.3211, abs=1e-4)
    assert pts.loc[pts["match_key"] == "7|N ELM ST", "unit"].iloc[0] == "2"
    assert pts.loc[pts["match_key"] == "12A|MAPLE ST", "zip5"].iloc[0] == "01060"


def test_read_address_points_missing_file_and_no_crs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_address_points(tmp_path / "nope.csv", CRS)
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"address": ["1 Main St"]}, geometry=[Point(0, 0)]).to_file(
            path
        )
    with pytest.raises(InputError, match="has no CRS"):
        read_address_points(path, CRS)


@pytest.mark.slow
def test_real_northampton_addresses(shared_data: Path, tmp_path: Path) -> None:
    """A sample of Northampton's real voter addresses, its 2012-2021 precincts and
    the 2020 OSM walk network: clerk-style voter addresses against a MassGIS-like
    layer with full street names, 3 % of the sampled addresses left out."""
    from canvass.config import PrecinctParams
    from canvass.load import read_precincts

    noho = shared_data / "northampton_city_gis"
    graphml = (
        shared_data / "osm_northampton_walk_2020" / "northampton_walk_2020.graphml"
    )
    for p in (noho / "northampton_voter_address_counts_2026.gpkg", graphml):
        if not p.is_file():
            pytest.skip(f"{p} not found")
    precincts = read_precincts(
        noho / "northampton_precincts.gpkg",
        PrecinctParams(),
        layer="precincts_2012_2021",
    )
    ref = gpd.read_file(noho / "northampton_voter_address_counts_2026.gpkg")
    ref = ref[ref["people_count"].gt(0) & ref["street_number"].str.fullmatch(r"\d+")]
    rng = np.random.default_rng(5)
    sample = ref.iloc[np.sort(rng.choice(len(ref), size=1500, replace=False))]
    dropped = sample[sample["people_count"].eq(1)].iloc[::30]
    full = {"ST": "Street", "RD": "Road", "AVE": "Avenue", "DR": "Drive", "LN": "Lane"}
    layer = ref.drop(index=dropped.index)
    pd.DataFrame(
        {
            "ADDRESS_NUMBER": layer["street_number"],
            "STREET_NAME": [
                " ".join(
                    full.get(w, w.title()) if i else w.title()
                    for i, w in enumerate(s.split())
                )
                for s in layer["street_name"]
            ],
            "ZIP": layer["zip_code"],
            "LAT": layer.geometry.y,
            "LON": layer.geometry.x,
        }
    ).to_csv(tmp_path / "points.csv", index=False)
    points = read_address_points(tmp_path / "points.csv", precincts.crs)
    voters = _voters(
        [
            (
                f"V{i:05d}",
                r.street_number,
                r.street_name,
                "",
                r.zip_code,
                r.precinct_2012_2021,
            )
            for i, r in enumerate(sample.itertuples())
        ]
    )
    G = ox.project_graph(ox.load_graphml(graphml), to_crs=precincts.crs)
    res = geocode_voters(
        voters, precincts, streets=G, address_points=points, params=GeocodeParams()
    )
    rep = res.report
    assert rep["voters_by_method"]["address_point"] == len(sample) - len(dropped)
    assert rep["placed_pct"] == 100.0
    assert rep["precinct_agree_pct"] >= 99.0
    # every matched door is exactly at its reference point; interpolated ones near it
    truth = sample.to_crs(precincts.crs).geometry.to_numpy()
    doors = res.doors.geometry.loc[res.voters[schema.DOOR_ID]].to_numpy()
    err = shapely.distance(doors, truth)
    method = res.voters[schema.GEOCODE_METHOD].to_numpy()
    assert (err[method == "address_point"] < 0.01).all()
    assert np.median(err[method == "interpolated"]) < 60.0


def test_read_address_points_projected_xy_in_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stateplane.csv"
    path.write_text("ADDR_NUM,STREETNAME,X,Y\n12,MAIN ST,105000.5,897000.2\n")
    with pytest.raises(InputError, match="not latitude/longitude"):
        read_address_points(path, CRS)


def _line_chains(*lines: tuple[str, list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    from shapely.geometry import LineString

    chains = gpd.GeoDataFrame(
        {"street_name": [n for n, _ in lines]},
        geometry=[LineString(c) for _, c in lines],
        crs=CRS,
    )
    chains["length_m"] = chains.length
    return chains


def test_interpolation_follows_numbers_running_against_the_line() -> None:
    from canvass.geocode._interpolate import interpolate_numbers

    # numbers fall along the line's direction; even numbers are north (left) here
    chains = _line_chains(("BIRCH ST", [(0.0, 0.0), (1000.0, 0.0)]))
    known = gpd.GeoDataFrame(
        {"street_name": ["BIRCH ST"] * 4, "number": [200, 100, 201, 101]},
        geometry=[Point(100, 20), Point(900, 20), Point(100, -20), Point(900, -20)],
        crs=CRS,
    )
    wanted = pd.DataFrame({"street_name": ["BIRCH ST"] * 3, "number": [150, 151, 250]})
    out = interpolate_numbers(wanted, chains, known, setback_m=10.0)
    assert out.loc[0, "x"] == pytest.approx(500.0, abs=1.0)
    assert out.loc[0, "y"] == pytest.approx(10.0)
    assert out.loc[1, "y"] == pytest.approx(-10.0)
    assert out.loc[2, "x"] == pytest.approx(
        0.0, abs=1.0
    )  # beyond the known range: clamped


def test_interpolation_between_known_points_off_the_network() -> None:
    from canvass.geocode._interpolate import interpolate_numbers

    chains = _line_chains(("BIRCH ST", [(0.0, 0.0), (1000.0, 0.0)]))
    known = gpd.GeoDataFrame(
        {"street_name": ["HATHAWAY FRMS"] * 2, "number": [10, 30]},
        geometry=[Point(5000, 0), Point(5200, 100)],
        crs=CRS,
    )
    wanted = pd.DataFrame(
        {"street_name": ["HATHAWAY FRMS", "NOWHERE RD"], "number": [20, 5]}
    )
    out = interpolate_numbers(wanted, chains, known, setback_m=10.0)
    assert (out.loc[0, "x"], out.loc[0, "y"]) == pytest.approx((5100.0, 50.0))
    assert np.isnan(out.loc[1, "x"])


def test_same_street_name_in_two_towns() -> None:
    from canvass.geocode._interpolate import interpolate_numbers

    chains = _line_chains(
        ("MAIN ST", [(0.0, 0.0), (1000.0, 0.0)]),  # town A, zip 01060
        ("MAIN ST", [(0.0, 9000.0), (800.0, 9000.0)]),  # town B, zip 01062
    )
    known = gpd.GeoDataFrame(
        {"street_name": ["MAIN ST"] * 2, "number": [2, 98], "zip5": ["01060"] * 2},
        geometry=[Point(10, -20), Point(990, -20)],
        crs=CRS,
    )
    areas = gpd.GeoSeries(
        [box(-100, -500, 1100, 500), box(-100, 8500, 1100, 9500)],
        index=["A1", "B1"],
        crs=CRS,
    )
    wanted = pd.DataFrame(
        {
            "street_name": ["MAIN ST"] * 3,
            "number": [50, 50, 51],
            "zip5": ["01060", "01062", "01062"],
            "area": ["A1", "B1", "B1"],
        }
    )
    out = interpolate_numbers(wanted, chains, known, setback_m=10.0, areas=areas)
    assert out.loc[0, "y"] == pytest.approx(-10.0)  # zip 01060: between 2 and 98
    assert out.loc[0, "x"] == pytest.approx(500.0, abs=15.0)
    assert out.loc[1, "y"] > 8000  # town B's Main St
    assert out.loc[2, "y"] > 8000


def test_read_address_points_ranges_and_unit_points(tmp_path: Path) -> None:
    path = tmp_path / "massgis.csv"
    path.write_text(
        "ADDRESS_NUMBER,STREET_NAME,UNIT,POSTCODE,LATITUDE,LONGITUDE\n"
        "12-14,Maple Street,,01060,42.32,-72.64\n"
        "20,Maple Street,2,01060,42.3203,-72.6403\n"
        "20,Maple Street,,01060,42.3202,-72.6402\n"
    )
    pts = read_address_points(path, CRS)
    assert sorted(pts["match_key"]) == [
        "12|MAPLE ST",
        "14|MAPLE ST",
        "20|MAPLE ST",
        "20|MAPLE ST",
    ]
    # the building's own point comes before its unit points
    first20 = pts[pts["match_key"] == "20|MAPLE ST"].iloc[0]
    assert first20["unit"] == ""
