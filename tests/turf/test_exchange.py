"""Search across neighbouring turfs: moves priced exactly, a volunteer saved."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from _walknet import CRS, grid_turfs, write_osm

from canvass import network, schema
from canvass.config import PlanConfig, WalkParams
from canvass.turf import _eliminate, _exchange, _ls, _windows


@pytest.fixture(scope="module")
def G(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    path = write_osm(tmp_path_factory.mktemp("exchange") / "grid.osm")
    return network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)


def _random_region(seed: int) -> _ls.Region:
    rng = np.random.default_rng(seed)
    k, n = 4, 30
    xy = rng.random((k + n, 2)) * 1000
    walk = np.ceil(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)))
    if seed % 2:  # one-way streets: the search must not assume symmetry
        walk += rng.integers(0, 30, walk.shape)
    np.fill_diagonal(walk, 0)
    perm = rng.permutation(np.arange(k, k + n))
    routes = [list(perm[i::k]) for i in range(k)]
    routes[3] = routes[3][:2]  # a short route; the rest of its doors in none
    band = (500.0, 2500.0) if seed % 3 == 0 else (0.0, np.inf)
    return _ls.Region(walk, routes, 3000, 60, 5000, *band, band_cost=2.0)


@pytest.mark.parametrize("seed", range(12))
def test_every_step_lowers_the_cost_by_its_price(seed: int) -> None:
    region = _random_region(seed)
    doors = sorted(x for r in region.routes for x in r)
    steps = 0
    while steps < 400:
        before = region.cost(3.0)
        if not region.step(3.0):
            break
        steps += 1
        assert region.cost(3.0) < before - 1e-7
        assert sorted(x for r in region.routes for x in r) == doors
    assert steps > 0


def test_a_dissolved_route_fits_or_nothing_is_returned() -> None:
    for seed in range(6):
        region = _random_region(seed)
        found, _ = _ls.improve_region(region, 3, 400)
        if found is None:
            continue
        done = _ls.Region(region.walk, found, region.cap, region.door_s, 0.0)
        assert (done.times() <= region.cap + 1e-6).all()
        assert done.plain() < region.plain() - 0.5


def test_a_single_move_costs_what_it_was_priced() -> None:
    region = _random_region(1)
    t = region.times()
    n = np.array([len(r) for r in region.routes])
    paths = [
        region.path(v) if r else np.array([v, v]) for v, r in enumerate(region.routes)
    ]
    base = region._pen(t, 3.0)
    for kind in (region._relocate, region._swap, region._two_opt, region._tails):
        for price, _, move in kind(paths, t, n, base, 3.0)[:3]:
            trial = region.copy()
            before = trial.cost(3.0)
            trial._apply(move)
            assert trial.cost(3.0) - before == pytest.approx(price, abs=1e-6)


#: the grid's five 18-door turfs (walk up to each door counted) at this shift: route
#: elimination saves one volunteer, the search across turfs a second
_SHIFT = 4500


def _cfg(shift: int, balance: float, fill: float = 1.0, **turf: float) -> PlanConfig:
    return PlanConfig.from_dict(
        {
            "turf": {"shift_s": shift, "balance": balance, "fill": fill, **turf},
            "route": {"workers": 1},
        }
    )


def test_a_volunteer_is_saved_where_route_elimination_cannot(
    G: nx.MultiDiGraph,
) -> None:
    cfg = _cfg(_SHIFT, 1.0)
    index = _windows.StreetIndex(G)
    plans = grid_turfs(G, [18] * 5, cfg)
    before = plans[0][1]
    # each short turf's neighbours lack the room: route elimination saves one
    assert len(_eliminate.eliminate(index, plans, cfg)[0][1]) == 4
    after = _exchange.exchange(index, plans, cfg)[0][1]
    assert len(after) == 3
    # with no budget there is no search (turf.search_moves_per_door = 0)
    off = _cfg(_SHIFT, 1.0, search_moves_per_door=0)
    assert _exchange.exchange(index, plans, off) is plans
    doors = sorted(i for m, _, _ in after for i in m.index)
    assert doors == sorted(i for m, _, _ in before for i in m.index)
    assert all(t <= _SHIFT for _, t, _ in after)
    # routed on their own as the routing stage will, every door still fits
    timed, gone = _windows.polish(index, [("1A", after)], cfg)
    assert len(gone) == 0
    assert all(t <= _SHIFT for _, t, _ in timed[0][1])


def test_precincts_and_car_legs_are_left_whole(G: nx.MultiDiGraph) -> None:
    cfg = _cfg(_SHIFT, 1.0)
    index = _windows.StreetIndex(G)
    turfs = grid_turfs(G, [18] * 5, cfg)[0][1]
    # the last turf is walked from another parking spot: a car leg
    m, t, node = turfs[4]
    other = next(x for _, _, x in turfs if x != node)
    legged = (m.assign(**{schema.CAR_STOP: other}), t, node)
    plans = [("1A", turfs[:3]), ("1B", [turfs[3], legged])]
    out = _exchange.exchange(index, plans, cfg)
    for (pid, old), (qid, new) in zip(plans, out, strict=True):
        assert pid == qid
        assert sorted(i for m, _, _ in new for i in m.index) == sorted(
            i for m, _, _ in old for i in m.index
        )
    assert any(m.index.equals(legged[0].index) for m, _, _ in out[1][1])


def test_the_balance_band_is_kept(G: nx.MultiDiGraph) -> None:
    cfg = _cfg(_SHIFT, 0.15, fill=0.95)
    index = _windows.StreetIndex(G)
    plans = grid_turfs(G, [18] * 5, cfg)
    times = np.array([t for _, t, _ in plans[0][1]])
    was = _eliminate._n_outside(times, 0.15)
    after = _exchange.exchange(index, plans, cfg)[0][1]
    now = np.array([t for _, t, _ in after])
    assert _eliminate._n_outside(now, 0.15) <= was
    assert (now <= _SHIFT * 0.95 + 1e-6).all()
