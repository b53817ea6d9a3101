from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from _walknet import (
    CRS,
    HAMLET_WAYS,
    grid_doors,
    hamlet_doors,
    lonlat,
    make_doors,
    write_osm,
)

from canvass import network, route, schema, turf
from canvass.config import PlanConfig, WalkParams
from canvass.errors import InputError
from canvass.turf import _cut, _legs, _repair, _split, _windows


@pytest.fixture(scope="module")
def G(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    path = write_osm(tmp_path_factory.mktemp("turf") / "grid.osm")
    return network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)


def _snapped(G: nx.MultiDiGraph, **kw: object) -> tuple:
    xy = grid_doors()
    precinct = ["1A" if x < 300 else "1B" for x, _ in xy]
    targets = [0 if i % 7 == 3 else 1 + i % 3 for i in range(len(xy))]
    doors = make_doors(xy, precinct=precinct, n_targets=targets, **kw)
    return doors, network.snap_doors(doors, G, WalkParams())


def _config(**turf_kw: object) -> PlanConfig:
    return PlanConfig.from_dict({"turf": {"shift_s": 1800, **turf_kw}})


def test_turfs_cover_targets_once_inside_precincts(G: nx.MultiDiGraph) -> None:
    doors, snapped = _snapped(G)
    res = turf.cut_turfs(snapped.doors, G, _config())
    d = res.doors
    assert d.index.equals(doors.index)  # every door, same order
    targets = d[schema.N_TARGETS] > 0
    assert (d.loc[targets, schema.TURF_ID] != "").all()
    assert (d.loc[~targets, schema.TURF_ID] == "").all()
    t = res.turfs
    schema.validate_turfs(t)
    assert len(t) >= 4
    assert t[schema.N_DOORS].sum() == targets.sum()
    for tid, row in t.iterrows():
        members = d[d[schema.TURF_ID] == tid]
        assert len(members) == row[schema.N_DOORS]
        assert set(members[schema.PRECINCT_ID]) == {row[schema.PRECINCT_ID]}
        assert tid.startswith(row[schema.PRECINCT_ID] + "-T")
        assert row[schema.STAGING_NODE] in G.nodes
        assert row.geometry.contains(members.union_all()) or row.geometry.buffer(
            1
        ).contains(members.union_all())
        assert row[schema.EST_S] <= 1800 * 0.9 * 1.05


def test_turfs_balanced_within_precinct(G: nx.MultiDiGraph) -> None:
    _, snapped = _snapped(G)
    res = turf.cut_turfs(snapped.doors, G, _config())
    for _, grp in res.turfs.groupby(schema.PRECINCT_ID):
        est = grp[schema.EST_S].to_numpy(dtype=float)
        if len(est) > 1:
            assert np.abs(est / est.mean() - 1).max() <= 0.15, est


def test_turfs_deterministic_and_input_untouched(G: nx.MultiDiGraph) -> None:
    _, snapped = _snapped(G)
    before = snapped.doors.copy()
    a = turf.cut_turfs(snapped.doors, G, _config())
    b = turf.cut_turfs(snapped.doors, G, _config())
    assert a.doors[schema.TURF_ID].equals(b.doors[schema.TURF_ID])
    assert a.turfs.drop(columns="geometry").equals(b.turfs.drop(columns="geometry"))
    assert snapped.doors.equals(before)


def test_office_staging_and_cross_precincts(G: nx.MultiDiGraph) -> None:
    _, snapped = _snapped(G)
    lon, lat = lonlat(300, 150)  # Main St at B St
    res = turf.cut_turfs(
        snapped.doors, G, _config(office=[lat, lon], cross_precincts=True)
    )
    nodes = set(res.turfs[schema.STAGING_NODE])
    assert len(nodes) == 1
    node = nodes.pop()
    assert G.nodes[node]["street_count"] >= 4


def test_unsnapped_doors_stay_out(G: nx.MultiDiGraph) -> None:
    doors = make_doors([(225, 12), (225, 900)], n_targets=[1, 1])
    snapped = network.snap_doors(doors, G, WalkParams())
    res = turf.cut_turfs(snapped.doors, G, _config())
    assert res.doors[schema.TURF_ID].tolist() == ["1A-T01", ""]
    assert len(res.turfs) == 1


def test_requires_snapped_doors(G: nx.MultiDiGraph) -> None:
    doors = make_doors([(225, 12)])
    with pytest.raises(InputError, match="edge_u"):
        turf.cut_turfs(doors, G, _config())


def test_hilbert_key_locality() -> None:
    x = np.array([0.0, 1.0, 1000.0, 1001.0])
    y = np.array([0.0, 0.0, 1000.0, 1000.0])
    k = turf.hilbert_key(x, y)
    assert len(set(k.tolist())) == 4
    assert abs(int(k[0]) - int(k[1])) < abs(int(k[0]) - int(k[2]))


def test_split_tour_fits_capacity_and_balances() -> None:
    # 40 doors 20 m apart on a straight street: 16.7 s walking + 60 s at each door
    xy = np.column_stack([np.arange(40) * 20.0, np.zeros(40)])
    step = np.concatenate([[0.0], np.full(39, 20.0 / 1.2)])
    wp = WalkParams(door_s=60)
    segs, _ = _split.split_tour(step, xy, wp, 900.0, 900.0, 1.0)
    assert segs[0][0] == 0
    assert segs[-1][1] == 40
    assert all(a[1] == b[0] for a, b in itertools.pairwise(segs))  # a partition
    times = np.array([t for _, _, t in segs])
    assert (times <= 900).all()
    assert len(segs) == 5  # 40 x ~77 s = 3,067 s plus walks back: 4 overflow
    balanced, _ = _split.split_tour(step, xy, wp, 900.0, float(times.mean()), 4.0)
    bt = np.array([t for _, _, t in balanced])
    assert np.abs(bt / bt.mean() - 1).max() <= 0.15


def test_estimates_are_the_routed_walks(G: nx.MultiDiGraph) -> None:
    from canvass import route

    _, snapped = _snapped(G)
    cfg = PlanConfig.from_dict(
        {"turf": {"shift_s": 1800}, "route": {"time_limit_s": 0.0, "workers": 1}}
    )
    res = turf.cut_turfs(snapped.doors, G, cfg)
    routed = route.route_turfs(res.doors, res.turfs, G, cfg)
    total = routed.routes.groupby(schema.TURF_ID)[schema.TOTAL_S].sum()
    est = res.turfs.loc[total.index, schema.EST_S]
    # the same walk on the same costs: only per-leg rounding differs
    assert (np.abs(total - est) <= res.turfs.loc[total.index, schema.N_DOORS] + 2).all()


def _plan_of(G: nx.MultiDiGraph, doors: pd.DataFrame, sizes: list[int]) -> list:
    """Precinct 1A's doors in street order cut into turfs of the given sizes."""
    d = doors[doors[schema.PRECINCT_ID] == "1A"].copy()
    d[schema.VALUE] = 1.0
    d = d.iloc[_cut._street_order(d, _windows.StreetIndex(G))]
    cuts = np.cumsum([0, *sizes])
    node = sorted(network.main_component(G), key=str)[0]
    return [(d.iloc[a:b], 0.0, node) for a, b in itertools.pairwise(cuts)]


def test_repair_evens_out_a_lopsided_precinct(G: nx.MultiDiGraph) -> None:
    _, snapped = _snapped(G)
    cfg = _config(shift_s=7200)
    index = _windows.StreetIndex(G)
    n = int((snapped.doors[schema.PRECINCT_ID] == "1A").sum())
    turfs = _plan_of(G, snapped.doors, [3, n // 2 - 3, n - n // 2])
    timed, gone = _windows.polish(index, [("1A", turfs)], cfg)
    assert len(gone) == 0
    before = np.array([t for _, t, _ in timed[0][1]])
    assert np.abs(before / before.mean() - 1).max() > 0.15  # lopsided to start
    fixed = _repair.rebalance(index, timed, cfg)
    fixed, gone = _windows.polish(index, fixed, cfg)
    after = np.array([t for _, t, _ in fixed[0][1]])
    assert len(gone) == 0
    assert sum(len(m) for m, _, _ in fixed[0][1]) == n  # no door lost or doubled
    assert len({i for m, _, _ in fixed[0][1] for i in m.index}) == n
    assert np.abs(after / after.mean() - 1).max() <= 0.15, after


def test_restage_never_lengthens_a_loop(G: nx.MultiDiGraph) -> None:
    _, snapped = _snapped(G)
    cfg = _config()
    index = _windows.StreetIndex(G)
    d = snapped.doors[snapped.doors[schema.PRECINCT_ID] == "1A"].copy()
    d[schema.VALUE] = 1.0
    main = network.main_component(G)
    far = max(main, key=lambda n: G.nodes[n]["x"] + G.nodes[n]["y"])
    turfs = [(d.iloc[:12], 0.0, far), (d.iloc[12:24], 0.0, far)]
    timed, _ = _windows.polish(index, [("1A", turfs)], cfg)
    nodes = sorted(main, key=str)
    moved = _windows.restage(index, timed, cfg, lambda members: nodes)
    for (m0, t0, _), (m1, t1, n1) in zip(timed[0][1], moved[0][1], strict=True):
        assert set(m0.index) == set(m1.index)
        assert t1 <= t0
        assert n1 in G.nodes
    assert sum(t for _, t, _ in moved[0][1]) < sum(t for _, t, _ in timed[0][1])


def _line_doors(xs: list[float]) -> tuple:
    """Doors on a straight street at `xs`; staging points at 0 m and 1,000 m."""
    import geopandas as gpd

    doors = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, [0.0] * len(xs)))
    pos = np.array([0.0, 1000.0, *xs])
    walk = np.abs(pos[:, None] - pos[None, :])  # 1 m a second
    return doors, walk


@pytest.mark.parametrize("move", [1, -1])
def test_moved_start_hands_over_nearest_doors_within_the_shift(move: int) -> None:
    # route 0: three doors by its staging point; route 1: ten doors near 1,000 m
    xs = [0.0, 10.0, 20.0, *[550.0 + 50 * i for i in range(10)]]
    start = [(0, 1, 2), tuple(range(3, 13))]
    if move < 0:  # route 0 holds almost everything and must give doors away
        start = [tuple(range(0, 12)), (12,)]
    doors, walk = _line_doors(xs)

    def seconds(v: int, seq: tuple[int, ...]) -> float:
        path = [v, *[2 + x for x in seq], v]
        return float(walk[path[:-1], path[1:]].sum()) + 90 * len(seq)

    before = [seconds(v, r) for v, r in enumerate(start)]
    mean, shift = float(np.mean(before)), 2400.0
    new = _windows._moved(start, doors, walk, mean, shift, 90, move)
    assert sorted(x for r in new for x in r) == list(range(13))  # none lost
    assert all(new)  # no route emptied
    after = [seconds(v, r) for v, r in enumerate(new)]
    assert max(after) <= shift
    moved = sorted(set(new[0]) ^ set(start[0]))
    assert moved  # something moved
    if move > 0:
        assert moved == list(range(3, 3 + len(moved)))  # the nearest doors first
        assert after[0] >= mean
    else:
        assert moved == list(range(12 - len(moved), 12))  # those nearest route 1
        assert after[0] < before[0]
        assert after[0] <= mean


@pytest.fixture(scope="module")
def hamlet_town(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The grid plus a hamlet of six doors 2.5 km east, all in one precinct."""
    path = write_osm(tmp_path_factory.mktemp("hamlet") / "g.osm", HAMLET_WAYS)
    G = network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)
    xy = grid_doors() + hamlet_doors()
    doors = make_doors(xy, value=[1.0] * len(xy))
    return G, network.snap_doors(doors, G, WalkParams()).doors


def test_a_hamlet_is_walked_as_a_car_leg_and_every_turf_is_even(
    hamlet_town: tuple,
) -> None:
    G, snapped = hamlet_town
    hamlet = snapped.index[-len(hamlet_doors()) :]
    res = turf.cut_turfs(snapped, G, _config(shift_s=3600))
    t = res.turfs
    est = t[schema.EST_S].to_numpy(dtype=float)
    assert np.abs(est / est.mean() - 1).max() <= 0.15, est
    assert res.report["turfs_outside_balance"] == 0
    assert res.report["car_leg_turfs"] >= 1
    d = res.doors
    (tid,) = d.loc[hamlet, schema.TURF_ID].unique()  # the hamlet stays together
    assert t.at[tid, schema.N_LEGS] == 2
    members = d[d[schema.TURF_ID] == tid]
    stops = set(members[schema.CAR_STOP])
    assert len(stops) == 2
    assert t.at[tid, schema.STAGING_NODE] in stops
    assert stops <= set(G.nodes)
    # with walking alone the hamlet is a turf of its own, far shorter than the rest
    foot = turf.cut_turfs(snapped, G, _config(shift_s=3600, car_legs=False))
    assert foot.report["car_leg_turfs"] == 0
    assert foot.report["turfs_outside_balance"] >= 1
    assert (foot.turfs[schema.N_LEGS] == 1).all()
    assert set(foot.doors[schema.CAR_STOP].dropna()) <= set(G.nodes)


def test_car_leg_costs_keep_the_car_where_the_route_left_it(hamlet_town: tuple) -> None:
    G, snapped = hamlet_town
    cfg = _config(shift_s=3600)
    index = _windows.StreetIndex(G)
    main = snapped.iloc[:3]
    far = snapped.iloc[-2:]
    node, stop = (
        sorted(network.main_component(G), key=str)[0],
        snapped.iloc[-1][schema.EDGE_U],
    )
    members = pd.concat([main, far.assign(**{schema.CAR_STOP: stop})])
    c = _legs.TurfCosts.build(index, members, node, cfg)
    assert c.stops == [node, stop]
    assert list(c.leg) == [0, 0, 0, 1, 1]
    walk = c.costs.matrix / cfg.walk.speed_m_s
    drive = c.drive_s[0, 1]
    assert drive == pytest.approx(walk[0, 1] * cfg.walk.speed_m_s / 8.0 + 120)
    # door 1 (leg 0) to door 4 (leg 1): back to the car, drive, walk on
    assert c.seconds[1, 4] == pytest.approx(walk[2, 0] + drive + walk[1, 5])
    assert c.seconds[4, 5] == pytest.approx(walk[5, 6])  # same leg: on foot
    assert c.seconds[0, 4] == pytest.approx(drive + walk[1, 5])
    assert c.seconds[5, 0] == pytest.approx(walk[6, 1] + drive)
    # every step of a route is the walk plus the drive the seconds matrix charges
    for a, b in itertools.permutations(range(6), 2):
        walk_m, _, hop_s, coords = c.hop(a, b)
        assert walk_m / cfg.walk.speed_m_s + hop_s == pytest.approx(c.seconds[a, b])
        if (a == 0 or a <= 3) != (b == 0 or b <= 3):  # a change of leg
            xy = {(round(x), round(y)) for x, y in coords}
            assert {tuple(round(v) for v in c.stop_xy(i)) for i in (0, 1)} <= xy


def test_routes_drive_between_legs_within_the_shift(hamlet_town: tuple) -> None:
    G, snapped = hamlet_town
    cfg = _config(shift_s=3600)
    res = turf.cut_turfs(snapped, G, cfg)
    routed = route.route_turfs(res.doors, res.turfs, G, cfg)
    stops, routes = routed.stops, routed.routes
    in_turfs = int(res.turfs[schema.N_DOORS].sum())
    assert len(stops) == in_turfs
    assert stops[schema.DOOR_ID].is_unique
    assert (routes[schema.TOTAL_S] <= 3600).all()
    legs = res.turfs.index[res.turfs[schema.N_LEGS] > 1]
    mine = routes[routes[schema.TURF_ID].isin(legs)]
    assert (mine[schema.DRIVE_S] > 0).all()
    assert (mine[schema.DRIVE_M] > 2000).all()
    assert (routes.loc[~routes[schema.TURF_ID].isin(legs), schema.DRIVE_S] == 0).all()
    # each leg is walked in one go: a route drives to a door at most once per leg
    drives = stops[stops[schema.DRIVE_S] > 0].groupby(schema.TURF_ID).size()
    assert set(drives.index) == set(legs)
    assert (drives <= res.turfs.loc[drives.index, schema.N_LEGS]).all()
    # the estimate is the routed time: walk, drive and doors
    total = routes.groupby(schema.TURF_ID)[schema.TOTAL_S].sum()
    est = res.turfs.loc[total.index, schema.EST_S]
    assert (np.abs(total - est) <= res.turfs.loc[total.index, schema.N_DOORS] + 4).all()


def test_a_small_precinct_carries_its_hamlet_as_a_car_leg(hamlet_town: tuple) -> None:
    # precinct 1B: one grid block and the hamlet; the hamlet's drive is too long for
    # a turf of its own to be even with the block's, so one turf drives out to it
    G, snapped = hamlet_town
    doors = snapped.assign(
        **{
            schema.PRECINCT_ID: [
                "1A" if x < 300 else "1B" for x, _ in grid_doors() + hamlet_doors()
            ]
        }
    )
    # at 5,400 s the block's 30 doors (each walked up to) fill two walks
    cfg = _config(shift_s=5400)
    res = turf.cut_turfs(doors, G, cfg)
    t = res.turfs
    assert res.report["turfs_outside_balance"] == 0
    for _, grp in t.groupby(schema.PRECINCT_ID):
        est = grp[schema.EST_S].to_numpy(dtype=float)
        assert np.abs(est / est.mean() - 1).max() <= 0.15, est
    hamlet = res.doors.index[-len(hamlet_doors()) :]
    (tid,) = res.doors.loc[hamlet, schema.TURF_ID].unique()
    assert tid.startswith("1B-")
    assert t.at[tid, schema.N_LEGS] == 2
    routed = route.route_turfs(res.doors, t, G, cfg)
    assert routed.report["doors_routed"] == t[schema.N_DOORS].sum()
    assert (routed.routes[schema.TOTAL_S] <= 5400).all()
    foot = turf.cut_turfs(doors, G, _config(shift_s=5400, car_legs=False))
    assert foot.report["turfs_outside_balance"] >= 1


def test_repair_survives_a_short_turf_left_alone_by_a_long_ones_window(
    hamlet_town: tuple,
) -> None:
    # the long turf's windows take its four nearest turfs, leaving the hamlet turf
    # with no neighbour to be shared out among (once a crash on an unseen town)
    G, snapped = hamlet_town
    cfg = _config(shift_s=7200)
    index = _windows.StreetIndex(G)
    d = snapped.assign(**{schema.VALUE: 1.0})
    grid, hamlet = d.iloc[: -len(hamlet_doors())], d.iloc[-len(hamlet_doors()) :]
    grid = grid.iloc[_cut._street_order(grid, index)]
    node = sorted(network.main_component(G), key=str)[0]
    cuts = np.cumsum([0, 30, 12, 12, 12])
    turfs = [(grid.iloc[a:b], 0.0, node) for a, b in itertools.pairwise(cuts)]
    turfs.append((hamlet, 0.0, hamlet.iloc[0][schema.EDGE_U]))
    timed, gone = _windows.polish(index, [("1A", turfs)], cfg)
    assert len(gone) == 0
    times = np.array([t for _, t, _ in timed[0][1]])
    dev = times / times.mean() - 1
    assert dev[0] > -dev[-1] > 0.15  # the long turf is repaired first
    fixed = _repair.rebalance(index, timed, cfg)
    doors = [i for m, _, _ in fixed[0][1] for i in m.index]
    placed = [i for m, _, _ in timed[0][1] for i in m.index]
    assert sorted(doors) == sorted(placed)  # no door lost or doubled


def test_teams_share_a_staging_point_and_are_routed_as_cut(G: nx.MultiDiGraph) -> None:
    _, snapped = _snapped(G)
    cfg = PlanConfig.from_dict(
        {
            "turf": {"shift_s": 1800, "volunteers_per_turf": 2},
            "route": {"time_limit_s": 0.0, "workers": 1},
        }
    )
    res = turf.cut_turfs(snapped.doors, G, cfg)
    t, d = res.turfs, res.doors
    assert res.left_out.empty
    assert set(t["volunteers"]) == {1, 2}  # pairs, and a walk left over
    assert (t["volunteers"] == 2).sum() >= 3
    inside = d[d[schema.TURF_ID] != ""]
    walkers = inside.groupby(schema.TURF_ID)[schema.WALKER].agg(["min", "max"])
    assert (walkers["min"] == 1).all()
    assert (walkers["max"] == t.loc[walkers.index, "volunteers"]).all()
    assert _split.balance_stats(t)[2] == 0  # even per volunteer
    routed = route.route_turfs(d, t, G, cfg)
    assert routed.left_out.empty  # a team's walks fit as they were cut
    assert (routed.routes[schema.TOTAL_S] <= 1800).all()
    per_turf = routed.routes.groupby(schema.TURF_ID)
    assert per_turf.size().to_dict() == t["volunteers"].to_dict()
    total = per_turf[schema.TOTAL_S].sum()
    # every volunteer of a team starts where the turf is staged, and the router
    # starts from the team's walks: at most what the cut estimated
    assert (total <= t.loc[total.index, schema.EST_S] + t[schema.N_DOORS] + 2).all()
    starts = routed.routes.groupby(schema.TURF_ID)[["start_x", "start_y"]].nunique()
    assert (starts == 1).all().all()


def test_team_walks_are_grouped_nearest_first() -> None:
    from canvass.turf import _teams

    def walk(x0: float) -> tuple:
        xy = [(x0 + 10.0 * i, 0.0) for i in range(5)]
        return make_doors(xy), 0.0, 0

    walks = [walk(0), walk(1000), walk(60), walk(1060), walk(3000)]
    assert _teams._groups(walks, 2) == [[0, 2], [1, 3], [4]]
    # closest first: the far walk joins the pair nearer to it, not a third
    assert _teams._groups(walks, 3) == [[0, 2], [1, 3, 4]]
    assert _teams._groups(walks[:1], 2) == [[0]]


def test_balance_is_per_volunteer() -> None:
    t = pd.DataFrame(
        {
            schema.PRECINCT_ID: ["1A", "1A", "1A"],
            schema.EST_S: [7200, 3600, 7000],
            "volunteers": [2, 1, 2],
        }
    )
    assert _split.balance_stats(t, 0.15)[2] == 0
    assert _split.balance_stats(t.drop(columns="volunteers"), 0.15)[2] == 3


@pytest.mark.parametrize(("shift", "fits"), [(2000, True), (1700, False)])
def test_a_team_walk_over_the_shift_hands_doors_to_a_teammate(
    shift: int, fits: bool
) -> None:
    from canvass.turf import _teams

    # one street from the staging point (x = 0): walk A to 500 m, walk B beyond it
    x = np.array([100.0, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    doors = make_doors([(v, 0.0) for v in x])
    at = np.concatenate([[0.0, 0.0], x])
    walk = np.ceil(np.abs(at[:, None] - at[None, :]) / 1.2)
    cfg = PlanConfig.from_dict(
        {"walk": {"speed_m_s": 1.2, "door_s": 90}, "turf": {"shift_s": shift}}
    )
    routes = [(0, 1, 2, 3, 4), (5, 6, 7, 8, 9)]  # B: 2,117 s as a loop
    out = _teams._fit(routes, doors, walk, cfg, np.zeros(10, dtype=bool))
    if not fits:  # A cannot take enough of B's doors: no team
        assert out is None
        return
    assert out is not None
    assert sorted(x for r in out for x in r) == list(range(10))
    assert set(out[0]) > {0, 1, 2, 3, 4}  # B's doors nearest A moved over
    for v, r in enumerate(out):
        path = [v, *(2 + i for i in r), v]
        assert walk[path[:-1], path[1:]].sum() + 90 * len(r) <= shift


def test_from_an_office_volunteers_drive_to_turfs_beyond_walking(
    hamlet_town: tuple,
) -> None:
    G, snapped = hamlet_town
    hamlet = snapped.index[-len(hamlet_doors()) :]
    lon, lat = lonlat(0, 0)  # the grid's far corner from the hamlet
    cfg = PlanConfig.from_dict(
        {
            "turf": {"shift_s": 3600, "office": [lat, lon]},
            "route": {"time_limit_s": 0.0, "workers": 1},
        }
    )
    res = turf.cut_turfs(snapped, G, cfg)
    assert res.left_out.empty  # the hamlet is 2.5 km out: reached by car
    t, d = res.turfs, res.doors
    (office,) = set(t[schema.STAGING_NODE])
    (tid,) = d.loc[hamlet, schema.TURF_ID].unique()
    parking = set(d.loc[d[schema.TURF_ID] == tid, schema.CAR_STOP])
    assert office not in parking  # parked by the hamlet, not walked from the office
    routed = route.route_turfs(d, t, G, cfg)
    assert routed.left_out.empty
    r = routed.routes
    assert (r[schema.TOTAL_S] <= 3600).all()
    ox, oy = G.nodes[office]["x"], G.nodes[office]["y"]
    assert np.allclose(r["start_x"], ox)
    assert np.allclose(r["start_y"], oy)
    (hamlet_route,) = r.index[r[schema.TURF_ID] == tid]
    assert r.at[hamlet_route, schema.DRIVE_M] > 4000  # out and back
    assert r.at[hamlet_route, schema.WALK_M] < 2000
    # the estimate includes the drive, as the route does
    assert abs(r.at[hamlet_route, schema.TOTAL_S] - t.at[tid, schema.EST_S]) < 60


def test_a_team_timed_far_above_its_precinct_goes_back_to_its_walks() -> None:
    from canvass.turf import _teams

    def walk(n: int, t: float, walker: int | None = None) -> tuple:
        d = make_doors([(10.0 * i, 0.0) for i in range(n)])
        return (d if walker is None else d.assign(**{schema.WALKER: walker}), t, 0)

    solos = [walk(3, 6000.0, 1), walk(3, 6200.0, 1)]
    walks = [walk(3, 6100.0), walk(3, 5900.0)]
    # a pair timed at 8,000 s each (a long walk out to each part): dissolved
    pair = walk(6, 16000.0, 1)
    pair[0].loc[pair[0].index[3:], schema.WALKER] = 2
    none = make_doors([]).iloc[:0]
    turfs, dropped = _teams._even(solos, [(pair, walks, none)], 0.15)
    assert [t[1] for t in turfs] == [6100.0, 5900.0]
    assert all((t[0][schema.WALKER] == 1).all() for t in turfs)
    assert dropped == []
    # the same pair at 6,000 s each stays a team
    even = (pair[0], 12000.0, 0)
    turfs, _ = _teams._even(solos, [(even, walks, none)], 0.15)
    assert [t[1] for t in turfs] == [12000.0]
