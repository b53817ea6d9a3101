"""Route elimination: a short turf dissolved into neighbours that have room."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from _walknet import CRS, grid_turfs, write_osm

from canvass import network
from canvass.config import PlanConfig, WalkParams
from canvass.turf import _eliminate, _repair, _windows


@pytest.fixture(scope="module")
def G(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    path = write_osm(tmp_path_factory.mktemp("elim") / "grid.osm")
    return network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)


def _line(xs: list[float]) -> np.ndarray:
    """Walking seconds on a straight street: staging points at 0 and 1,000 m."""
    pos = np.array([0.0, 1000.0, *xs])
    return np.abs(pos[:, None] - pos[None, :])


def _seconds(walk: np.ndarray, k: int, v: int, r: list[int]) -> float:
    path = [v, *[k + x for x in r], v]
    return float(walk[path[:-1], path[1:]].sum()) + 90 * len(r)


def test_insert_all_places_every_door_within_the_limit() -> None:
    # route 0 works near 0 m, route 1 near 1,000 m; doors 6-7 near each end
    xs = [10.0, 20.0, 30.0, 980.0, 970.0, 960.0, 40.0, 950.0]
    walk = _line(xs)
    routes, left = _eliminate.insert_all([[0, 1, 2], [3, 4, 5]], [6, 7], walk, 600, 90)
    assert left == []
    assert sorted(x for r in routes for x in r) == list(range(8))
    assert 6 in routes[0]
    assert 7 in routes[1]
    assert all(_seconds(walk, 2, v, r) <= 600 for v, r in enumerate(routes))


def test_insert_all_leaves_out_what_fits_nowhere() -> None:
    xs = [10.0, 20.0, 990.0, 500.0]
    walk = _line(xs)
    # door 3 (at 500 m) costs 1,000 m of walking in either route: over the limit
    routes, left = _eliminate.insert_all([[0, 1], [2]], [3], walk, 800, 90)
    assert left == [3]
    assert routes == [[0, 1], [2]]


def test_insert_all_serves_the_door_with_one_place_first() -> None:
    # route 1 has room for one door: door 1 (near 1,000 m) fits only there, door 0
    # fits in both; cheapest-first would give route 1 door 0 and strand door 1
    xs = [200.0, 800.0, 10.0, 990.0]
    walk = _line(xs)
    routes, left = _eliminate.insert_all([[2], [3]], [0, 1], walk, 600, 90)
    assert left == []
    assert 1 in routes[1]
    assert 0 in routes[0]


def _turfs(G: nx.MultiDiGraph, sizes: list[int], cfg: PlanConfig) -> list:
    return grid_turfs(G, sizes, cfg)


@pytest.mark.parametrize("balance", [1.0, 0.3])
def test_a_short_turf_is_dissolved_into_neighbours_with_room(
    G: nx.MultiDiGraph, balance: float
) -> None:
    cfg = PlanConfig.from_dict({"turf": {"shift_s": 3600, "balance": balance}})
    index = _windows.StreetIndex(G)
    plans = _turfs(G, [14, 14, 14, 3], cfg)
    before = plans[0][1]
    out = _eliminate.eliminate(index, plans, cfg)
    after = out[0][1]
    assert len(after) == len(before) - 1
    doors = [i for m, _, _ in after for i in m.index]
    assert sorted(doors) == sorted(i for m, _, _ in before for i in m.index)
    times = np.array([t for _, t, _ in after])
    assert times.max() <= 3600 * cfg.turf.fill
    was = np.array([t for _, t, _ in before])
    assert _repair._outside(times, times.mean(), balance) <= _repair._outside(
        was, was.mean(), balance
    )
    # each estimate is the turf's own walk, as the routing stage will time it
    again, _ = _windows.polish(index, out, cfg)
    assert [round(t) for _, t, _ in again[0][1]] == [round(t) for t in times]


def test_no_turf_is_dissolved_when_the_neighbours_are_full(G: nx.MultiDiGraph) -> None:
    cfg = PlanConfig.from_dict({"turf": {"shift_s": 3600, "balance": 1.0}})
    index = _windows.StreetIndex(G)
    plans = _turfs(G, [15, 15, 15], cfg)
    full = min(t for _, t, _ in plans[0][1])
    # a planned fill every turf already reaches: no room for more doors
    tight = PlanConfig.from_dict(
        {"turf": {"shift_s": 3600, "balance": 1.0, "fill": (full - 1) / 3600}}
    )
    out = _eliminate.eliminate(index, plans, tight)
    assert [list(m.index) for m, _, _ in out[0][1]] == [
        list(m.index) for m, _, _ in plans[0][1]
    ]
