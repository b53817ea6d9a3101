from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from _walknet import CRS, make_doors, write_osm

from canvass import network, schema
from canvass.config import WalkParams
from canvass.errors import InputError, NetworkError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def osm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_osm(tmp_path_factory.mktemp("net") / "grid.osm")


@pytest.fixture(scope="module")
def G(osm_file: Path) -> nx.MultiDiGraph:
    return network.read_walk_graph(osm_file, WalkParams(cache_dir="none"), crs=CRS)


def _shared(name: str) -> Path:
    p = SHARED / name
    if not p.is_file():
        pytest.skip(f"{p} not found (shared data is next to the repo on CI)")
    return p


def test_read_osm_walkable_projected(G: nx.MultiDiGraph) -> None:
    highways = {d["highway"] for _, _, d in G.edges(data=True)}
    assert highways == {
        "residential",
        "primary",
    }  # no motorway, cycleway, private drive
    assert G.graph["crs"] == "EPSG:26986"
    for u, v, d in G.edges(data=True):
        assert G.has_edge(v, u)  # walking goes both ways
        assert isinstance(d["name"], str)
        assert d["length"] == pytest.approx(d["geometry"].length)
        start = shapely.Point(G.nodes[u]["x"], G.nodes[u]["y"])
        assert shapely.Point(d["geometry"].coords[0]).distance(start) < 1e-6
    # a 150 m block is about 150 m long after projection
    lengths = [d["length"] for _, _, d in G.edges(data=True) if d["name"] == "A Street"]
    assert np.median(lengths) == pytest.approx(150, rel=0.01)
    assert nx.number_weakly_connected_components(G) == 2  # the grid and Island Rd


def test_local_utm_when_no_crs(osm_file: Path) -> None:
    G = network.read_walk_graph(osm_file, WalkParams(cache_dir="none"))
    assert G.graph["crs"] == "EPSG:32618"


def test_cache_roundtrip(osm_file: Path, tmp_path: Path) -> None:
    params = WalkParams(cache_dir=str(tmp_path / "cache"))
    g1 = network.read_walk_graph(osm_file, params, crs=CRS)
    files = list((tmp_path / "cache").glob("*.pickle"))
    assert len(files) == 1
    g2 = network.read_walk_graph(osm_file, params, crs=CRS)
    assert nx.utils.edges_equal(g1.edges, g2.edges)
    network.read_walk_graph(osm_file, params, crs="EPSG:32618")  # other CRS, other key
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2


def test_graphml_roundtrip(G: nx.MultiDiGraph, tmp_path: Path) -> None:
    import osmnx as ox

    path = tmp_path / "grid.graphml"
    ox.save_graphml(G, path)
    H = network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)
    assert H.number_of_edges() == G.number_of_edges()
    assert {d["highway"] for _, _, d in H.edges(data=True)} == {
        "residential",
        "primary",
    }


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="not found"):
        network.read_walk_graph(tmp_path / "nope.osm", WalkParams(cache_dir="none"))
    bad = tmp_path / "streets.csv"
    bad.write_text("a,b\n")
    with pytest.raises(NetworkError, match="unknown network format"):
        network.read_walk_graph(bad, WalkParams(cache_dir="none"))
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>\n')
    with pytest.raises(NetworkError, match="no walkable"):
        network.read_walk_graph(empty, WalkParams(cache_dir="none"))


def test_shared_bz2_and_pbf_agree() -> None:
    params = WalkParams(cache_dir="none")
    xml = network.read_walk_graph(
        _shared("osm_us_samples/bangor_maine.osm.bz2"), params
    )
    pbf = network.read_walk_graph(
        _shared("osm_us_samples/bangor_maine.osm.pbf"), params
    )
    assert xml.number_of_edges() == pbf.number_of_edges() > 5000
    assert xml.graph["crs"] == "EPSG:32619"  # Maine is in UTM 19N
    oak = network.read_walk_graph(
        _shared("osm_us_samples/West-Oakland.osm.bz2"), params
    )
    assert oak.number_of_nodes() > 20


def test_shared_graphml() -> None:
    G = network.read_walk_graph(
        _shared("osm_northampton_walk_2020/northampton_walk_2020.graphml"),
        WalkParams(cache_dir="none"),
        crs=CRS,
    )
    assert G.number_of_nodes() == 5258
    assert all(isinstance(d["highway"], str) for _, _, d in G.edges(data=True))


def test_snap_to_edge_with_side(G: nx.MultiDiGraph) -> None:
    # mid-block of A Street (x 150..300 is Birch..Main), 12 m north and 12 m south
    doors = make_doors([(225, 12), (225, -12), (170, 12)])
    res = network.snap_doors(doors, G, WalkParams())
    d = res.doors
    assert len(res.left_out) == 0
    for door_id in d.index:
        u, v, k = (
            d.at[door_id, schema.EDGE_U],
            d.at[door_id, schema.EDGE_V],
            d.at[door_id, schema.EDGE_KEY],
        )
        edge = G.edges[u, v, int(k)]
        assert edge["name"] == "A Street"
        assert d.at[door_id, schema.STREET_CLASS] == "residential"
        assert d.at[door_id, schema.SNAP_M] == pytest.approx(12, abs=0.5)
        line = edge["geometry"]
        pos = d.at[door_id, schema.EDGE_POS_M]
        assert 0 < pos < line.length  # on the edge, not at a node
        # side: the sign of the cross product of the edge direction and the door
        a, b = np.array(line.coords[0]), np.array(line.coords[-1])
        p = np.array(d.geometry[door_id].coords[0])
        cross = (b - a)[0] * (p - a)[1] - (b - a)[1] * (p - a)[0]
        assert d.at[door_id, schema.SIDE] == ("L" if cross > 0 else "R")
    assert d.at["D0000", schema.SIDE] != d.at["D0001", schema.SIDE]
    ua = d.at["D0000", schema.EDGE_POS_M]
    ub = d.at["D0001", schema.EDGE_POS_M]
    assert ua == pytest.approx(ub, abs=0.5)
    assert min(ua, 150 - ua) == pytest.approx(75, abs=1)
    # the door near the corner of Birch Street still snaps to A Street (the nearer edge)
    assert (
        min(d.at["D0002", schema.EDGE_POS_M], 150 - d.at["D0002", schema.EDGE_POS_M])
        < 25
    )


def test_snap_reports_far_and_unreachable(G: nx.MultiDiGraph) -> None:
    doors = make_doors(
        [(225, 12), (225, 900), (100, 2010), (225, 1000)], n_targets=[1, 2, 1, 0]
    )
    res = network.snap_doors(doors, G, WalkParams(max_snap_m=150))
    left = res.left_out.set_index(schema.DOOR_ID)
    assert left.loc["D0001", schema.REASON] == "too_far_from_street"
    assert left.loc["D0002", schema.REASON] == "unreachable"
    assert "D0003" not in left.index  # not a target: not reported, still not snapped
    assert list(res.left_out.columns) == list(schema.LEFT_OUT_COLUMNS)
    schema.validate_left_out(res.left_out)
    d = res.doors
    assert d[schema.EDGE_U].isna().tolist() == [False, True, True, True]
    assert d.at["D0001", schema.SNAP_M] > 500
    # not silently moved: geometry is unchanged and the input is untouched
    assert d.geometry.equals(doors.geometry)
    assert schema.EDGE_U not in doors.columns
    assert res.report["too_far_from_street"] == 2
    assert res.report["unreachable"] == 1


def test_snap_crs_mismatch(G: nx.MultiDiGraph) -> None:
    doors = make_doors([(225, 12)], crs="EPSG:32618")
    with pytest.raises(InputError, match="read the network with crs"):
        network.snap_doors(doors, G, WalkParams())


def test_utm_crs() -> None:
    assert network.utm_crs(-72.6, 42.3).to_epsg() == 32618
    assert network.utm_crs(151.2, -33.9).to_epsg() == 32756
    # a zone in metres, the one the longitude falls in
    crs = network.utm_crs(-72.6, 42.3)
    assert crs.axis_info[0].unit_name == "metre"
    assert network.utm_crs(-78.1, 42.3).to_epsg() == 32617


@pytest.mark.network
def test_download_walk_graph() -> None:  # pragma: no cover - needs internet
    G = network.download_walk_graph(
        "Florence, Northampton, Massachusetts, USA", WalkParams(cache_dir="none")
    )
    assert G.number_of_edges() > 100
    assert pyproj.CRS.from_user_input(G.graph["crs"]).is_projected


def test_corner_door_snaps_to_the_street_of_its_address(G: nx.MultiDiGraph) -> None:
    """Nearer Birch Street (10 m) than A Street (20 m): the address decides."""
    doors = make_doors([(160, 20), (160, 20), (160, 20), (160, 60)])
    doors[schema.STREET_NAME] = ["A ST", "BIRCH ST", "ELM ST", "A ST"]
    d = network.snap_doors(doors, G, WalkParams()).doors

    def street(door_id: str) -> str:
        u, v = d.at[door_id, schema.EDGE_U], d.at[door_id, schema.EDGE_V]
        return str(G.edges[u, v, int(d.at[door_id, schema.EDGE_KEY])]["name"])

    assert street("D0000") == "A Street"
    assert d.at["D0000", schema.SNAP_M] == pytest.approx(20, abs=0.5)
    assert street("D0001") == "Birch Street"
    assert street("D0002") == "Birch Street"  # no street of that name: the nearest
    assert street("D0003") == "Birch Street"  # A Street is 50 m farther: too far
