"""Coordinates that cannot be in their CRS: a one-line error naming the file and fix.

A GeoJSON without a ``crs`` member is read as WGS 84, so a county export in metres
or feet becomes longitudes of hundreds of thousands; reprojecting it gives infinities
and picking its UTM zone raises deep in geopandas. Every reader of a geographic input
(precincts are in tests/load/test_precincts.py) must refuse it up front.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point, box

from canvass import geocode, network, statewide
from canvass._crs import check_bounds
from canvass.config import WalkParams
from canvass.errors import InputError

STATE_PLANE = "EPSG:26986"  # Massachusetts Mainland, metres
UTM = "EPSG:32618"
LON, LAT = -72.64, 42.32


def _without_crs_member(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    data = json.loads(gdf.to_json(drop_id=True))
    data.pop("crs", None)
    path.write_text(json.dumps(data))
    return path


def _one_line(err: pytest.ExceptionInfo[InputError], path: Path) -> str:
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:")
    return text


def test_address_points_geojson_in_metres(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(
        {"street_number": ["12", "14"], "street_name": ["Elm St", "Elm St"]},
        geometry=[Point(LON, LAT), Point(LON + 0.001, LAT)],
        crs="EPSG:4326",
    ).to_crs(STATE_PLANE)
    path = _without_crs_member(pts, tmp_path / "addresses.geojson")
    with pytest.raises(InputError) as err:
        geocode.read_address_points(path, UTM)
    text = _one_line(err, path)
    assert "look like metres or feet" in text
    assert "ogr2ogr -a_srs EPSG:xxxx fixed.gpkg addresses.geojson" in text
    # the same points with their CRS declared read fine, inside the town
    pts.to_file(tmp_path / "ok.gpkg")
    good = geocode.read_address_points(tmp_path / "ok.gpkg", UTM)
    assert np.isfinite(good.geometry.x).all()
    assert len(good) == 2


def _graphml(tmp_path: Path, crs: str | None, xy: list[tuple[float, float]]) -> Path:
    import osmnx as ox

    G: nx.MultiDiGraph = nx.MultiDiGraph(**({"crs": crs} if crs else {}))
    for n, (x, y) in enumerate(xy, start=1):
        G.add_node(n, x=x, y=y)
    for u in range(1, len(xy)):
        for a, b in ((u, u + 1), (u + 1, u)):
            G.add_edge(a, b, highway="residential", length=100.0, osmid=u)
    path = tmp_path / "streets.graphml"
    ox.save_graphml(G, path)
    return path


def test_graphml_in_metres_labelled_wgs84(tmp_path: Path) -> None:
    """Before: every node projected to inf and every edge length was NaN."""
    to_m = pyproj.Transformer.from_crs(4326, UTM, always_xy=True)
    metres = [to_m.transform(LON + i * 0.001, LAT) for i in range(3)]
    params = WalkParams(cache_dir="none")
    path = _graphml(tmp_path, "epsg:4326", metres)
    with pytest.raises(InputError) as err:
        network.read_walk_graph(path, params, crs=UTM)
    text = _one_line(err, path)
    assert "look like metres or feet" in text
    assert "graph attribute `crs`" in text
    # declared right, the same graph reads with finite lengths
    path = _graphml(tmp_path, UTM, metres)
    G = network.read_walk_graph(path, params, crs=UTM)
    lengths = [d["length"] for _, _, d in G.edges(data=True)]
    assert lengths
    assert np.isfinite(lengths).all()


def test_statewide_precincts_without_crs_or_in_metres(tmp_path: Path) -> None:
    cells = gpd.GeoDataFrame(
        {"town": ["X"], "WARDPREC": ["1A"]},
        geometry=[box(LON, LAT, LON + 0.01, LAT + 0.01)],
        crs="EPSG:4326",
    )
    path = _without_crs_member(cells.to_crs(STATE_PLANE), tmp_path / "state.geojson")
    with pytest.raises(InputError) as err:
        statewide.read_state_precincts(path)
    assert "look like metres or feet" in _one_line(err, path)
    cells.to_crs(STATE_PLANE).to_file(tmp_path / "state.gpkg")
    layer = statewide.read_state_precincts(tmp_path / "state.gpkg")
    assert layer.crs == pyproj.CRS(STATE_PLANE)


@pytest.mark.parametrize(
    ("bounds", "crs", "words"),
    [
        ((700_000, 4_690_000, 701_000, 4_691_000), "EPSG:4326", "metres or feet"),
        ((-72.6, 42.3, -72.5, np.inf), UTM, "not finite"),
        ((1e9, 1e9, 1e9 + 1, 1e9 + 1), STATE_PLANE, "latitude -89.9"),
    ],
)
def test_check_bounds_refuses(bounds: tuple[float, ...], crs: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        check_bounds(np.array(bounds), pyproj.CRS(crs), "f.geojson", fix="fix it")


@pytest.mark.parametrize(
    ("bounds", "crs"),
    [
        ((-72.65, 42.31, -72.62, 42.34), "EPSG:4326"),
        ((106_000, 897_000, 108_000, 900_000), STATE_PLANE),
        ((693_000, 4_688_000, 696_000, 4_690_000), UTM),
        ((174.7, -41.3, 174.8, -41.2), "EPSG:4326"),  # Wellington: south and east
    ],
)
def test_check_bounds_accepts_real_towns(bounds: tuple[float, ...], crs: str) -> None:
    check_bounds(np.array(bounds), pyproj.CRS(crs), "f.geojson", fix="fix it")
