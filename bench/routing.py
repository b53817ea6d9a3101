"""Routing benchmark: canvass vs PyVRP and VROOM on the real Northampton network.

Doors are the real geocoded voter addresses of Northampton, MA; the walking network
is the 2020 OpenStreetMap walk graph. For each size the script plans the doors with
canvass (snap, cut turfs, OR-Tools per turf), then gives the *same* doors, the same
walking-time matrix, the same staging points and fleet, the same shift limit and
canvass's total wall time to PyVRP and to VROOM on the whole instance. Every plan is
scored on the same whole-instance matrix. A 1-tree lower bound over each canvass
route's doors plus its staging point bounds the walking any solver could do for that
split of doors into routes. By default turfs may cross precinct lines (the town is one
group, as the solvers it is compared with see it); ``--by-precinct`` cuts them inside
the real 2012-2021 precincts instead. Turf balance is reported both ways: on the
turfs' estimated times and on the routed times. Car legs (a turf that drives between
two clusters of doors) are off unless ``--car-legs``: the solvers compared walk
every step, so the comparison is on foot.

Usage::

    python bench/routing.py [--sizes 2000 8213] [--export DIR] [--turf-time 0.5]
                            [--by-precinct] [--car-legs]

The last line is ``routing: ratio_vs_pyvrp=.. ratio_vs_vroom=.. gap_to_bound=..
wall_s=..`` for the largest size.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import minimum_spanning_tree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from canvass import network, route, schema, turf  # noqa: E402
from canvass.config import PlanConfig  # noqa: E402
from canvass.turf import StreetIndex  # noqa: E402
from canvass.turf._costs import Anchors, LocalCosts  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
GRAPH = DATA / "osm_northampton_walk_2020" / "northampton_walk_2020.graphml"
GIS = DATA / "northampton_city_gis"
DOORS = GIS / "northampton_voter_address_counts_2026.csv"
PRECINCTS = GIS / "northampton_precincts_2012_2021_wgs84.geojson"
CRS = "EPSG:26986"
SHIFT_S, SPEED, DOOR_S = 7200, 1.2, 90


def load_doors(n: int, seed: int, by_precinct: bool = False) -> gpd.GeoDataFrame:
    df = pd.read_csv(DOORS, dtype={"street_number": str, "zip_code": str})
    if n < len(df):
        df = df.sample(n, random_state=seed).sort_values("id")
    pts = gpd.points_from_xy(df["longitude"], df["latitude"], crs="EPSG:4326")
    precinct: Any = "ALL"
    if by_precinct:  # the real 2012-2021 lines; a door outside all of them -> "ALL"
        shapes = gpd.read_file(PRECINCTS)[["WARDPREC", "geometry"]]
        hit = gpd.GeoDataFrame(geometry=pts).sjoin(shapes, predicate="within")
        hit = hit[~hit.index.duplicated()]
        precinct = (
            hit["WARDPREC"].reindex(range(len(df))).fillna("ALL").astype(str).to_numpy()
        )
    counts = df["people_count"].fillna(1).clip(lower=1).astype(int).to_numpy()
    return (
        gpd.GeoDataFrame(
            {
                schema.DOOR_ID: df["id"].astype(str).to_numpy(),
                schema.ADDRESS: (
                    df["street_number"] + " " + df["street_name"]
                ).to_numpy(),
                schema.STREET_NAME: df["street_name"].to_numpy(),
                schema.STREET_NUMBER: df["street_number"].to_numpy(),
                schema.PRECINCT_ID: precinct,
                schema.N_VOTERS: counts,
                schema.N_TARGETS: np.minimum(counts, 4),
                schema.VALUE: np.minimum(counts, 4) * 0.02,
            },
            geometry=pts,
        )
        .to_crs(CRS)
        .set_index(schema.DOOR_ID)
    )


def route_cost(
    tmat: np.ndarray, depot: int, seq: list[int], closed: bool = True
) -> int:
    if not seq:
        return 0
    path = [depot, *seq, depot] if closed else [depot, *seq]
    return int(sum(tmat[a, b] for a, b in itertools.pairwise(path)))


def one_tree(tmat: np.ndarray, depot: int, seq: list[int]) -> float:
    """1-tree bound on a closed tour through `seq` from `depot` (symmetrised)."""
    if not seq:
        return 0.0
    sym = np.minimum(tmat, tmat.T)
    d = np.sort(sym[depot, seq])
    if len(seq) == 1:
        return float(2 * d[0])
    sub = sym[np.ix_(seq, seq)].astype(float)
    sub[sub == 0] = 1e-9  # keep zero-length edges in the sparse graph
    np.fill_diagonal(sub, 0)
    return float(minimum_spanning_tree(sub).sum() + d[0] + d[1])


def check(
    tmat: np.ndarray, routes: list[tuple[int, list[int]]], n_doors: int
) -> tuple[int, int, int]:
    """Walking seconds, doors routed and routes over the shift, on the shared matrix."""
    seen: set[int] = set()
    walk = over = 0
    for depot, seq in routes:
        assert not seen & set(seq), "a door is visited twice"
        seen |= set(seq)
        w = route_cost(tmat, depot, seq)
        walk += w
        over += int(w + DOOR_S * len(seq) > SHIFT_S)
    assert all(0 <= i < n_doors + 10**9 for i in seen)
    return walk, len(seen), over


def run_pyvrp(
    tmat: np.ndarray,
    depots: list[int],
    fleet: list[int],
    n_dep: int,
    wall: float,
    seed: int,
) -> tuple[list[tuple[int, list[int]]], float]:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    n = len(tmat)
    locs = [pyvrp.Location(0, 0) for _ in range(n)]
    prize = 4 * SHIFT_S
    clients = [
        pyvrp.Client(location=i, service_duration=DOOR_S, prize=prize, required=False)
        for i in range(n_dep, n)
    ]
    deps = [pyvrp.Depot(location=i) for i in range(n_dep)]
    vts = [
        pyvrp.VehicleType(
            num_available=k, start_depot=d, end_depot=d, shift_duration=SHIFT_S
        )
        for d, k in zip(range(n_dep), fleet, strict=True)
    ]
    mat = np.asarray(tmat, dtype=np.int64)
    data = pyvrp.ProblemData(locs, clients, deps, vts, [mat], [mat])
    t0 = time.perf_counter()
    res = pyvrp.solve(
        data, stop=MaxRuntime(wall), seed=seed, display=False, collect_stats=False
    )
    used = time.perf_counter() - t0
    out = []
    for r in res.best.routes():
        seq = [n_dep + int(a.idx) for a in r.schedule() if a.is_client()]
        out.append((int(r.start_depot()), seq))
    if not res.best.is_feasible():
        print("  pyvrp: best solution is NOT feasible", flush=True)
    del depots
    return out, used


def run_vroom(
    tmat: np.ndarray, fleet: list[int], n_dep: int, wall: float, level: int
) -> tuple[list[tuple[int, list[int]]], float]:
    import vroom

    inp = vroom.Input()
    inp.set_durations_matrix("car", np.asarray(tmat, dtype=np.uint32))
    vid = 0
    for d, k in enumerate(fleet):
        for _ in range(k):
            inp.add_vehicle(
                vroom.Vehicle(
                    vid, start=d, end=d, time_window=vroom.TimeWindow(0, SHIFT_S)
                )
            )
            vid += 1
    for i in range(n_dep, len(tmat)):
        inp.add_job(vroom.Job(i, location=i, default_service=DOOR_S))
    t0 = time.perf_counter()
    sol = inp.solve(
        exploration_level=level, nb_threads=2, timeout=timedelta(seconds=wall)
    )
    used = time.perf_counter() - t0
    routes = sol.routes
    out: list[tuple[int, list[int]]] = []
    for _, grp in routes.groupby("vehicle_id", sort=True):
        jobs = grp[grp["type"] == "job"]["id"].astype(int).tolist()
        start_loc = int(grp[grp["type"] == "start"]["location_index"].iloc[0])
        out.append((start_loc, jobs))
    return out, used


def bench_size(
    G: Any, index: StreetIndex, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    doors = load_doors(n, args.seed, args.by_precinct)
    n = len(doors)
    cfg = PlanConfig.from_dict(
        {
            "seed": args.seed,
            "walk": {"speed_m_s": SPEED, "door_s": DOOR_S},
            "turf": {
                "shift_s": SHIFT_S,
                "cross_precincts": not args.by_precinct,
                "fill": args.fill,
                "tour_time_s": args.block_time,
                "car_legs": args.car_legs,
            },
            "route": {"time_limit_s": args.turf_time, "workers": args.workers},
        }
    )
    t0 = time.perf_counter()
    snapped = network.snap_doors(doors, G, cfg.walk)
    cut = turf.cut_turfs(snapped.doors, G, cfg)
    routed = route.route_turfs(cut.doors, cut.turfs, G, cfg)
    wall = time.perf_counter() - t0
    # whole-instance matrix over staging points + every door canvass could route
    in_turf = cut.doors[cut.doors[schema.TURF_ID] != ""]
    staging = sorted(set(cut.turfs[schema.STAGING_NODE]), key=str)
    dep_ix = {s: i for i, s in enumerate(staging)}
    n_dep = len(staging)
    t1 = time.perf_counter()
    anchors = Anchors.build(index, in_turf, staging, cfg.walk)
    costs = LocalCosts(index, anchors, margin_m=np.inf)
    tmat = np.asarray(np.ceil(costs.matrix / SPEED - 1e-9), dtype=np.int64)
    matrix_s = time.perf_counter() - t1
    pos = {d: n_dep + i for i, d in enumerate(in_turf.index)}
    ours: list[tuple[int, list[int]]] = []
    fleet = [0] * n_dep
    for _, grp in routed.stops.groupby(schema.ROUTE_ID, sort=True):
        tid = grp[schema.TURF_ID].iloc[0]
        d = dep_ix[cut.turfs.at[tid, schema.STAGING_NODE]]
        fleet[d] += 1
        ours.append((d, [pos[x] for x in grp.sort_values(schema.STOP)[schema.DOOR_ID]]))
    c_walk, c_doors, c_over = check(tmat, ours, len(in_turf))
    # balance as the volunteers will see it: each turf's routed time, walking + doors
    per_turf = routed.routes.groupby(schema.TURF_ID)[schema.TOTAL_S].sum()
    precinct = cut.turfs.loc[per_turf.index, schema.PRECINCT_ID]
    dev = (per_turf / per_turf.groupby(precinct).transform("mean") - 1).abs()
    routed_share = float((dev <= cfg.turf.balance).mean())
    bound = sum(one_tree(tmat, d, seq) for d, seq in ours)
    print(
        f"[{n} doors] canvass: walk {c_walk / 3600:.1f} h, doors routed {c_doors:,}/"
        f"{len(in_turf):,} (snapped-out {len(snapped.left_out)}), volunteers "
        f"{len(ours)}, turfs {len(cut.turfs)} "
        f"({100 * cut.report['share_balanced']:.0f}% of estimates and "
        f"{100 * routed_share:.0f}% of routed times within +-15% of their mean, "
        f"{cut.report['turfs_outside_balance']} outside), over shift {c_over}, "
        f"{cut.report['car_leg_turfs']} with car legs "
        f"({routed.report['drive_m'] / 1000:.1f} km driven), "
        f"wall {wall:.1f} s "
        f"(matrix for the other solvers {matrix_s:.1f} s)",
        flush=True,
    )
    if cut.report["car_leg_turfs"]:
        r = routed.routes
        print(
            f"[{n} doors] canvass as planned, with its car legs: walk "
            f"{r[schema.WALK_S].sum() / 3600:.1f} h, drive "
            f"{r[schema.DRIVE_S].sum() / 3600:.1f} h, longest route "
            f"{r[schema.TOTAL_S].max():,} s (the figures above walk every drive)",
            flush=True,
        )
    print(
        f"[{n} doors] lower bound (1-tree per route): {bound / 3600:.1f} h, gap "
        f"{100 * (c_walk / bound - 1):.1f}%",
        flush=True,
    )
    result: dict[str, Any] = {
        "n": n,
        "wall_s": wall,
        "canvass_walk_s": c_walk,
        "canvass_doors": c_doors,
        "volunteers": len(ours),
        "bound_s": bound,
    }
    solvers = {"canvass": ours}
    for name in args.solvers:
        try:
            if name == "pyvrp":
                sol, used = run_pyvrp(tmat, staging, fleet, n_dep, wall, args.seed)
            else:
                sol, used = run_vroom(tmat, fleet, n_dep, wall, args.vroom_level)
        except ImportError as err:
            print(f"  {name}: not installed ({err}); pip install -e '.[bench]'")
            continue
        w, k, over = check(tmat, sol, len(in_turf))
        used_routes = sum(1 for _, s in sol if s)
        # the same balance rule canvass keeps, on the solver's routes
        rt = np.array([route_cost(tmat, d, q) + DOOR_S * len(q) for d, q in sol if q])
        even = float((np.abs(rt / rt.mean() - 1) <= cfg.turf.balance).mean())
        label = (
            f"{name} (exploration level {args.vroom_level})"
            if name == "vroom"
            else name
        )
        print(
            f"[{n} doors] {label}: walk {w / 3600:.1f} h, doors routed {k:,}, "
            f"volunteers "
            f"{used_routes} ({100 * even:.0f}% within +-15% of their mean), over "
            f"shift {over}, wall {used:.1f} s; canvass/{name} walk "
            f"ratio {c_walk / max(w, 1):.3f}, per routed door "
            f"{(c_walk / max(c_doors, 1)) / max(w / max(k, 1), 1e-9):.3f}",
            flush=True,
        )
        result[name] = {
            "walk_s": w,
            "doors": k,
            "wall_s": used,
            "routes": used_routes,
            "balanced": even,
        }
        solvers[name] = sol
    if args.export:
        out = Path(args.export)
        out.mkdir(parents=True, exist_ok=True)
        ids = [str(x) for x in in_turf.index]
        inst = {
            "doors": ids,
            "staging_nodes": [str(s) for s in staging],
            "fleet": fleet,
            "index_note": "matrix rows/cols: staging points first, then doors",
            "walk_s": tmat.tolist(),
            "service_s": DOOR_S,
            "shift_s": SHIFT_S,
            "speed_m_s": SPEED,
        }
        with gzip.open(out / f"instance_{n}.json.gz", "wt") as fh:
            json.dump(inst, fh)
        for name, sol in solvers.items():
            rows = [
                {"staging": d, "stops": seq, "walk_s": route_cost(tmat, d, seq)}
                for d, seq in sol
            ]
            (out / f"routes_{n}_{name}.json").write_text(json.dumps(rows))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 9000])  # 9000 = all
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--turf-time", type=float, default=0.0, help="GLS s per turf (0 = LS only)"
    )
    ap.add_argument(
        "--block-time", type=float, default=0.0, help="GLS s per block (0 = LS only)"
    )
    ap.add_argument("--fill", type=float, default=1.0)
    ap.add_argument("--vroom-level", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--solvers", nargs="*", default=["pyvrp", "vroom"])
    ap.add_argument("--export", default="")
    ap.add_argument(
        "--by-precinct",
        action="store_true",
        help="cut turfs inside the real 2012-2021 precincts (default: whole town)",
    )
    ap.add_argument(
        "--car-legs",
        action="store_true",
        help="let turfs drive between legs (default off: the other solvers walk "
        "every step, and the comparison is on foot)",
    )
    args = ap.parse_args()
    if not GRAPH.is_file() or not DOORS.is_file():
        sys.exit(f"shared data not found under {DATA}; this bench needs ../shared/data")
    G = network.read_walk_graph(GRAPH, PlanConfig().walk, crs=CRS)
    index = StreetIndex(G)
    results = [bench_size(G, index, n, args) for n in args.sizes]
    last = max(results, key=lambda r: r["n"])
    rp = (
        last["canvass_walk_s"] / last["pyvrp"]["walk_s"]
        if "pyvrp" in last
        else float("nan")
    )
    rv = (
        last["canvass_walk_s"] / last["vroom"]["walk_s"]
        if "vroom" in last
        else float("nan")
    )
    gap = 100 * (last["canvass_walk_s"] / last["bound_s"] - 1)
    print(
        f"routing: ratio_vs_pyvrp={rp:.3f} ratio_vs_vroom={rv:.3f} "
        f"gap_to_bound={gap:.1f}% wall_s={last['wall_s']:.1f}"
    )


if __name__ == "__main__":
    main()
