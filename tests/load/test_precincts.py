"""Tests for precinct shapes, the local CRS and precinct-code normalisation."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from canvass import load, schema
from canvass.config import PrecinctParams
from canvass.errors import ConfigError, DataQualityWarning, InputError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
NORTHAMPTON = SHARED / "northampton_city_gis" / "northampton_precincts.gpkg"
DRA = SHARED / "ma_vtd2020_dra" / "hampshire_vtd2020_dra.gpkg"

# four 1 km squares near Northampton, MA, in WGS 84
LON, LAT, D = -72.64, 42.32, 0.012


def _town(
    codes: dict[str, list[str]] | None = None, crs: str | None = "EPSG:4326"
) -> gpd.GeoDataFrame:
    cells = [
        box(LON + i * D, LAT + j * D, LON + (i + 1) * D, LAT + (j + 1) * D)
        for j in range(2)
        for i in range(2)
    ]
    data = codes or {"WARD": ["1", "1", "2", "2"], "PRECINCT": ["A", "B", "A", "B"]}
    return gpd.GeoDataFrame(data, geometry=cells, crs=crs)


@pytest.mark.parametrize(
    ("ward", "precinct", "code"),
    [
        ("1", "A", "1A"),
        ("01", "a", "1A"),
        ("", "3", "3"),
        ("", "03", "3"),
        ("1", "2", "1-2"),
        ("12", "", "12"),
        ("7", "B", "7B"),
        ("0", "4", "4"),
        ("", "1/7", "1-7"),
        ("1", "1A", "1A"),
        ("01", "1-A", "1A"),
        ("2", "12", "2-12"),
    ],
)
def test_precinct_code(ward: str, precinct: str, code: str) -> None:
    assert load.precinct_code(ward, precinct) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1A", "1A"),
        ("Ward 1 Precinct A", "1A"),
        ("01-A", "1A"),
        ("1-A", "1A"),
        ("W1 P A", "1A"),
        ("w1pa", "1A"),
        ("Northampton City Ward 3 Precinct B", "3B"),
        ("Amherst Town Precinct 2", "2"),
        ("Ware Town Precinct 1", "1"),
        ("West Springfield Town Precinct 3", "3"),
        ("PCT 3", "3"),
        ("03", "3"),
        ("Wd 3 Pct 2", "3-2"),
        ("1 2", "1-2"),
        ("W01-P02", "1-2"),
        ("", ""),
        ("08N", "8N"),
        ("1/7", "1-7"),
    ],
)
def test_normalise_precinct_code(text: str, code: str) -> None:
    assert load.normalise_precinct_code(text) == code


def test_voter_file_and_shape_spellings_meet() -> None:
    spellings = ["1A", "Ward 1 Precinct A", "01-A", "W1 P A", "ward 01 precinct a"]
    assert {load.normalise_precinct_code(s) for s in spellings} == {
        load.precinct_code("1", "A")
    }


def test_code_pattern_overrides_rule() -> None:
    params = PrecinctParams(code_pattern=r"^(?P<ward>\d{2})(?P<precinct>\d{2})$")
    assert load.normalise_precinct_code("0102", params) == "1-2"
    with pytest.raises(ConfigError, match="code_pattern"):
        PrecinctParams(code_pattern=r"(?P<ward>\d+)")
    with pytest.raises(ConfigError, match="not a valid regex"):
        PrecinctParams(code_pattern=r"(")


def test_local_crs_is_utm() -> None:
    crs = load.local_crs(_town())
    assert crs.is_projected
    assert "UTM zone 18N" in crs.name


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "zip", "folder"])
def test_read_precincts_formats(tmp_path: Path, fmt: str) -> None:
    gdf = _town().to_crs("EPSG:26986")  # Massachusetts State Plane
    if fmt in ("gpkg", "geojson"):
        path = tmp_path / f"precincts.{fmt}"
        gdf.to_file(path)
    else:
        folder = tmp_path / "shp"
        folder.mkdir()
        gdf.to_file(folder / "precincts.shp")
        path = folder if fmt == "folder" else folder / "precincts.shp"
        if fmt == "zip":
            path = tmp_path / "precincts.zip"
            with zipfile.ZipFile(path, "w") as zf:
                for part in folder.iterdir():
                    zf.write(part, part.name)
    result = load.read_precincts(path, PrecinctParams())
    schema.validate_precincts(result)
    assert list(result.index) == ["1A", "1B", "2A", "2B"]
    assert result.crs.is_projected
    assert "UTM" in result.crs.name
    assert result[schema.AREA_KM2].between(0.9, 1.4).all()
    assert list(result[schema.WARD]) == ["1", "1", "2", "2"]
    assert list(result[schema.PRECINCT]) == ["A", "B", "A", "B"]


@pytest.mark.parametrize(
    "codes",
    [
        {"WARDPREC": ["1A", "1B", "2A", "2B"]},
        {
            "NAME": [
                "Ward 1 Precinct A",
                "Ward 1 Precinct B",
                "Ward 2 Precinct A",
                "Ward 2 Precinct B",
            ]
        },
        {"code": ["01-A", "01-B", "02-A", "02-B"]},
    ],
)
def test_read_precincts_code_columns(
    tmp_path: Path, codes: dict[str, list[str]]
) -> None:
    path = tmp_path / "p.geojson"
    _town(codes).to_file(path)
    result = load.read_precincts(path, PrecinctParams())
    assert list(result.index) == ["1A", "1B", "2A", "2B"]
    assert list(result[schema.WARD]) == ["1", "1", "2", "2"]


def test_repairs_self_intersecting_polygon(tmp_path: Path) -> None:
    gdf = _town()
    x0, y0 = LON, LAT
    bowtie = Polygon([(x0, y0), (x0 + D, y0 + D), (x0 + D, y0), (x0, y0 + D)])
    gdf.loc[0, "geometry"] = bowtie
    path = tmp_path / "p.gpkg"
    gdf.to_file(path)
    with pytest.warns(DataQualityWarning, match="repaired 1 invalid"):
        result = load.read_precincts(path, PrecinctParams())
    assert result.geometry.is_valid.all()
    assert set(result.geom_type) <= {"Polygon", "MultiPolygon"}
    assert result.loc["1A", schema.AREA_KM2] > 0


def test_multi_layer_geopackage_picks_polygons(tmp_path: Path) -> None:
    path = tmp_path / "city.gpkg"
    pts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(LON, LAT)], crs="EPSG:4326")
    pts.to_file(path, layer="aaa_points")
    _town().to_file(path, layer="precincts")
    result = load.read_precincts(path, PrecinctParams())
    assert len(result) == 4


def _no_crs(t: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio warns that there is no CRS
        _town(crs=None).to_file(t / "p.shp")
    return t / "p.shp"


def _lines(t: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {"WARD": ["1"], "PRECINCT": ["A"]},
        geometry=[LineString([(LON, LAT), (LON + D, LAT)])],
        crs="EPSG:4326",
    )
    gdf.to_file(t / "l.geojson")
    return t / "l.geojson"


def _garbage(t: Path) -> Path:
    (t / "p.geojson").write_text("this is not geojson")
    return t / "p.geojson"


def _bad_zip(t: Path) -> Path:
    (t / "p.zip").write_bytes(b"PK\x03\x04 broken")
    return t / "p.zip"


def _two_files(t: Path) -> Path:
    _town().to_file(t / "a.geojson")
    _town().to_file(t / "b.geojson")
    return t


def _no_code(t: Path) -> Path:
    _town({"POP": ["1", "2", "3", "4"]}).to_file(t / "p.geojson")
    return t / "p.geojson"


def _metres_geojson(t: Path) -> Path:
    """A county export in state-plane metres with no `crs` member (read as WGS 84)."""
    text = _town().to_crs("EPSG:26986").to_json(drop_id=True)
    data = json.loads(text)
    data.pop("crs", None)
    (t / "p.geojson").write_text(json.dumps(data))
    return t / "p.geojson"


def _off_the_earth(t: Path) -> Path:
    """Declared State Plane, but coordinates no projection can place on the earth."""
    cells = [box(1e9, 1e9, 1e9 + 1000, 1e9 + 1000)]
    gdf = gpd.GeoDataFrame({"WARDPREC": ["1A"]}, geometry=cells, crs="EPSG:26986")
    gdf.to_file(t / "p.gpkg")
    return t / "p.gpkg"


def _repeats(t: Path) -> Path:
    _town({"TOWN": ["X", "X", "Y", "Y"], "PRECINCT": ["1", "2", "1", "2"]}).to_file(
        t / "p.gpkg"
    )
    return t / "p.gpkg"


PRECINCT_ERRORS = [
    ("no CRS", _no_crs, "no CRS"),
    ("no CRS, says how to set one", _no_crs, "set precincts.crs"),
    ("GeoJSON in metres without crs", _metres_geojson, "look like metres or feet"),
    ("GeoJSON in metres: the fix", _metres_geojson, 'precincts.crs = "EPSG:xxxx"'),
    ("GeoJSON in metres: names GDAL's fix", _metres_geojson, "ogr2ogr -a_srs"),
    ("coordinates off the earth", _off_the_earth, "do not fit the file's CRS"),
    ("no polygons", _lines, "no polygons"),
    ("not a geodata file", _garbage, "cannot read precinct shapes"),
    ("broken zip", _bad_zip, "zip"),
    ("folder with two files", _two_files, "expected one precinct file"),
    ("no code column", _no_code, "precincts.code_column"),
    ("codes repeat across towns", _repeats, "precincts.town"),
    ("missing", lambda t: t / "nope.gpkg", "not found"),
]


@pytest.mark.parametrize(
    ("name", "build", "words"), PRECINCT_ERRORS, ids=[e[0] for e in PRECINCT_ERRORS]
)
def test_precinct_file_errors(
    tmp_path: Path, name: str, build: object, words: str
) -> None:
    assert callable(build)
    path = build(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL may warn about the broken file itself
        with pytest.raises(InputError) as info:
            load.read_precincts(path, PrecinctParams())
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_precincts_crs_setting_reads_a_geojson_in_metres(tmp_path: Path) -> None:
    """`precincts.crs` declares what the file could not: same shapes as the truth."""
    right = tmp_path / "right.gpkg"
    _town().to_crs("EPSG:26986").to_file(right)
    expected = load.read_precincts(right, PrecinctParams())
    path = _metres_geojson(tmp_path)
    result = load.read_precincts(path, PrecinctParams(crs="EPSG:26986"))
    assert list(result.index) == list(expected.index)
    assert result.crs == expected.crs
    assert result[schema.AREA_KM2].round(6).tolist() == pytest.approx(
        expected[schema.AREA_KM2].round(6).tolist()
    )
    with pytest.raises(ConfigError, match=r"precincts\.crs"):
        PrecinctParams(crs="EPSG:99999999")


def test_local_crs_refuses_coordinates_off_the_earth() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(700_000, 4_700_000)], crs="EPSG:4326")
    with pytest.raises(InputError, match="Cannot pick a local UTM zone"):
        load.local_crs(gdf)


def test_town_filter(tmp_path: Path) -> None:
    path = _repeats(tmp_path)
    result = load.read_precincts(path, PrecinctParams(town="y"))
    assert list(result.index) == ["1", "2"]
    with pytest.raises(InputError, match="no precincts for town 'Z'"):
        load.read_precincts(path, PrecinctParams(town="Z"))


@pytest.mark.skipif(
    not NORTHAMPTON.exists(), reason="../shared/data (Northampton GIS) absent"
)
def test_northampton_real_precincts() -> None:
    result = load.read_precincts(
        NORTHAMPTON, PrecinctParams(), layer="precincts_2012_2021"
    )
    assert list(result.index) == [f"{w}{p}" for w in range(1, 8) for p in "AB"]
    assert "UTM zone 18N" in result.crs.name
    assert 85 < result[schema.AREA_KM2].sum() < 95  # Northampton is about 92 km²


@pytest.mark.skipif(
    not DRA.exists(), reason="../shared/data (DRA Hampshire VTDs) absent"
)
def test_dra_county_file_one_town() -> None:
    with pytest.raises(InputError, match=r"precincts\.town"):
        load.read_precincts(DRA, PrecinctParams())
    result = load.read_precincts(DRA, PrecinctParams(town="Northampton"))
    assert list(result.index) == [f"{w}{p}" for w in range(1, 8) for p in "AB"]


@settings(max_examples=200, deadline=None)
@given(
    ward=st.integers(min_value=1, max_value=30),
    precinct=st.one_of(
        st.sampled_from(list("ABCDEFGH")), st.integers(min_value=1, max_value=12)
    ),
    pad=st.booleans(),
)
def test_code_spellings_meet_property(ward: int, precinct: object, pad: bool) -> None:
    p = str(precinct)
    w = f"{ward:02d}" if pad else str(ward)
    canonical = load.precinct_code(str(ward), p)
    spellings = [f"Ward {w} Precinct {p}", f"W{w} P{p}", f"{w}-{p}", f"{w} {p}",
                 f"Town of X Ward {w} Pct. {p}", f"WARD {w}, PRECINCT {p}"]  # fmt: skip
    if not p.isdigit():
        spellings.append(f"{w}{p}")
    for text in spellings:
        assert load.normalise_precinct_code(text) == canonical, text


def test_3d_polygons_become_2d(tmp_path: Path) -> None:
    from shapely import force_3d

    gdf = _town()
    gdf["geometry"] = force_3d(gdf.geometry.to_numpy(), 10.0)
    gdf.to_file(tmp_path / "p.gpkg")
    result = load.read_precincts(tmp_path / "p.gpkg", PrecinctParams())
    assert not result.has_z.any()
    assert list(result.index) == ["1A", "1B", "2A", "2B"]


def test_second_read_is_an_independent_copy(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    _town().to_file(path)
    first = load.read_precincts(path, PrecinctParams())
    first.loc["1A", schema.NAME] = "changed"
    second = load.read_precincts(path, PrecinctParams())
    assert second.loc["1A", schema.NAME] == "1A"
    _town({"WARDPREC": ["3A", "3B", "4A", "4B"]}).to_file(path, mode="w")
    third = load.read_precincts(path, PrecinctParams())
    assert list(third.index) == ["3A", "3B", "4A", "4B"]  # a changed file is re-read
