from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _walknet import CRS, grid_doors, lonlat, make_doors, write_osm

from canvass import network, route, schema, turf
from canvass.config import PlanConfig, WalkParams


@pytest.fixture(scope="module")
def G(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    path = write_osm(tmp_path_factory.mktemp("route") / "grid.osm")
    return network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)


def _config(
    shift_s: int = 1800, office: tuple[float, float] | None = None, **route_kw: object
) -> PlanConfig:
    turf_kw: dict[str, object] = {"shift_s": shift_s}
    if office is not None:
        lon, lat = lonlat(*office)
        turf_kw["office"] = [lat, lon]
    rk: dict[str, object] = {"time_limit_s": 30.0, "solution_limit": 40, "workers": 1}
    rk.update(route_kw)
    return PlanConfig.from_dict({"turf": turf_kw, "route": rk})


def _plan(
    G: nx.MultiDiGraph, doors, cfg: PlanConfig, cut_cfg: PlanConfig | None = None, **kw
):
    snapped = network.snap_doors(doors, G, cfg.walk)
    cut = turf.cut_turfs(snapped.doors, G, cut_cfg or cfg)
    routed = route.route_turfs(cut.doors, cut.turfs, G, cfg, **kw)
    return snapped, cut, routed


def _check_invariants(doors, snapped, cut, routed, cfg: PlanConfig) -> None:
    stops, routes = routed.stops, routed.routes
    schema.validate_stops(stops)  # each door at most once
    schema.validate_routes(routes)
    left = pd.concat(
        [snapped.left_out, cut.left_out, routed.left_out], ignore_index=True
    )
    schema.validate_left_out(left)
    targets = set(doors.index[doors[schema.N_TARGETS] > 0])
    routed_ids = set(stops[schema.DOOR_ID])
    left_ids = list(left[schema.DOOR_ID])
    assert len(left_ids) == len(set(left_ids))
    assert routed_ids.isdisjoint(left_ids)
    assert routed_ids | set(left_ids) == targets  # every target exactly once
    shift = cfg.turf.shift_s
    assert (routes[schema.TOTAL_S] <= shift).all()
    for rid, grp in stops.groupby(schema.ROUTE_ID):
        assert grp[schema.STOP].tolist() == list(range(1, len(grp) + 1))
        assert (np.diff(grp[schema.ARRIVE_S]) > 0).all()
        assert grp[schema.ARRIVE_S].iloc[-1] + cfg.walk.door_s <= shift
        r = routes.loc[rid]
        assert r[schema.N_DOORS] == len(grp)
        legs_m = grp[schema.LEG_M].sum()
        if cfg.route.open_routes:  # the walk ends at the last door
            assert r[schema.WALK_M] == pytest.approx(legs_m, abs=2)
        else:  # the walk back to the start is walked but is no stop's leg
            assert r[schema.WALK_M] >= legs_m - 2
            ends = shapely.get_coordinates(r.geometry)[[0, -1]]
            assert np.allclose(ends[0], ends[1], atol=1.0), (
                "a closed route ends where it began"
            )
        assert r[schema.TOTAL_S] == r[schema.WALK_S] + r[schema.DOOR_S]


def test_invariants_closed_routes(G: nx.MultiDiGraph) -> None:
    xy = grid_doors()
    doors = make_doors(
        xy,
        precinct=["1A" if x < 300 else "1B" for x, _ in xy],
        n_targets=[0 if i % 5 == 0 else 1 for i in range(len(xy))],
    )
    cfg = _config(shift_s=1800)
    calls: list[tuple[int, int]] = []
    snapped, cut, routed = _plan(
        G, doors, cfg, progress=lambda d, t: calls.append((d, t))
    )
    _check_invariants(doors, snapped, cut, routed, cfg)
    assert calls[-1][0] == calls[-1][1] == len(cut.turfs)
    # closed routes start and end at the turf's staging point, along the streets
    for _, r in routed.routes.iterrows():
        node = cut.turfs.at[r[schema.TURF_ID], schema.STAGING_NODE]
        start = shapely.Point(G.nodes[node]["x"], G.nodes[node]["y"])
        coords = list(r.geometry.coords)
        assert shapely.Point(coords[0]).distance(start) < 1e-6
        assert shapely.Point(coords[-1]).distance(start) < 1e-6
        # the walk up to each door and back is walked, not drawn
        route_doors = routed.stops.loc[
            routed.stops[schema.ROUTE_ID] == r.name, schema.DOOR_ID
        ]
        access_m = 2 * snapped.doors.loc[route_doors, schema.SNAP_M].sum()
        assert access_m > 0
        assert r.geometry.length == pytest.approx(r[schema.WALK_M] - access_m, rel=0.35)
        # the path follows the streets: every vertex is on some walkable edge
        edges = shapely.union_all([d["geometry"] for _, _, d in G.edges(data=True)])
        assert edges.buffer(0.5).contains(r.geometry)


def test_dropped_for_time_least_valuable_first(G: nx.MultiDiGraph) -> None:
    rng = np.random.default_rng(3)
    # one street's two sides, as far to walk: the shift holds one side's doors, so
    # the value alone decides which (the north side's are worth more)
    xy = [(x, y) for x, y in grid_doors() if x < 150 and y < 75]
    values = [
        round(float(rng.uniform(0.6, 1.0) if y > 0 else rng.uniform(0.01, 0.3)), 3)
        for _, y in xy
    ]
    doors = make_doors(xy, value=values)
    cfg = _config(shift_s=800, office=(0, 0))
    snapped, cut, routed = _plan(
        G, doors, cfg, cut_cfg=_config(shift_s=20000, office=(0, 0))
    )
    _check_invariants(doors, snapped, cut, routed, cfg)
    left = routed.left_out
    assert len(left) > 0
    assert len(routed.stops) > 0
    assert set(left[schema.REASON]) == {"dropped_for_time"}
    assert left[schema.VALUE].tolist() == [
        doors.at[d, schema.VALUE] for d in left[schema.DOOR_ID]
    ]
    kept = doors.loc[routed.stops[schema.DOOR_ID], schema.VALUE]
    assert kept.mean() > left[schema.VALUE].mean()


def _side_changes(stops: pd.DataFrame) -> int:
    sides = stops[schema.SIDE].tolist()
    return sum(a != b for a, b in itertools.pairwise(sides))


def test_quiet_street_zigzag(G: nx.MultiDiGraph) -> None:
    xs = [165, 195, 225, 255, 285]
    xy = [(x, s) for x in xs for s in (12, -12)]
    doors = make_doors(xy)
    cfg = _config(shift_s=7200, office=(150, 0), open_routes=True)
    snapped, cut, routed = _plan(G, doors, cfg)
    _check_invariants(doors, snapped, cut, routed, cfg)
    order = routed.stops[schema.DOOR_ID].tolist()
    x_seq = [xy[int(d[1:])][0] for d in order]
    assert x_seq == sorted(x_seq)  # one pass down the block
    assert _side_changes(routed.stops) >= 4  # crossing back and forth


def test_busy_street_one_side_then_the_other(G: nx.MultiDiGraph) -> None:
    ys = [15, 45, 75, 105, 135]
    xy = [
        (300 + s, y) for y in ys for s in (12, -12)
    ]  # both sides of Main St (primary)
    doors = make_doors(xy)
    cfg = _config(shift_s=7200, office=(300, 0), open_routes=True)
    snapped, cut, routed = _plan(G, doors, cfg)
    _check_invariants(doors, snapped, cut, routed, cfg)
    assert set(snapped.doors[schema.STREET_CLASS]) == {"primary"}
    assert len(routed.stops) == len(xy)
    assert _side_changes(routed.stops) == 1


def test_deterministic_with_solution_limit(G: nx.MultiDiGraph) -> None:
    xy = grid_doors()[:60]
    doors = make_doors(xy)
    cfg = _config(shift_s=2400)
    a = _plan(G, doors, cfg)[2]
    b = _plan(G, doors, cfg)[2]
    pd.testing.assert_frame_equal(a.stops, b.stops)
    assert a.routes.geometry.geom_equals(b.routes.geometry).all()


def test_several_volunteers_and_parallel_workers(G: nx.MultiDiGraph) -> None:
    xy = grid_doors()
    doors = make_doors(xy, precinct=["1A" if x < 300 else "1B" for x, _ in xy])
    cfg = PlanConfig.from_dict(
        {
            "turf": {"shift_s": 1800, "volunteers_per_turf": 2},
            "route": {"time_limit_s": 30.0, "solution_limit": 30, "workers": 2},
        }
    )
    snapped, cut, routed = _plan(G, doors, cfg)
    _check_invariants(doors, snapped, cut, routed, cfg)
    # teams of two, or one where a precinct's walks do not pair up (1A: 6, 1B: 3)
    assert sorted(cut.turfs["volunteers"]) == [1, 2, 2, 2, 2]
    per_turf = routed.routes.groupby(schema.TURF_ID).size()
    assert per_turf.to_dict() == cut.turfs["volunteers"].to_dict()
    assert routed.left_out.empty  # each team was cut as it is routed
    assert routed.routes.index.str.match(r"^1[AB]-T\d\d-V[12]$").all()


def test_units_share_one_stop(G: nx.MultiDiGraph) -> None:
    doors = make_doors([(225, 12), (225, -12)], n_targets=[5, 1])
    doors[schema.N_UNITS] = [6, 1]
    cfg = _config()
    snapped, cut, routed = _plan(G, doors, cfg)
    _check_invariants(doors, snapped, cut, routed, cfg)
    assert routed.stops[schema.DOOR_ID].tolist().count("D0000") == 1
    assert routed.routes[schema.N_TARGETS].sum() == 6
