"""Routing benchmark: canvass vs PyVRP and VROOM on the real Northampton network.

Doors are the real geocoded voter addresses of Northampton, MA; the walking network
is the 2020 OpenStreetMap walk graph; shifts are 2 h, walking 1.2 m/s, 90 s a door.

Same freedoms, same objective. Every solver gets the same instance
(:class:`bench._plans.Instance`), built from the doors and the network only, never
from any solver's answer:

- the candidate staging points are a documented sample of the car-reachable street
  nodes canvass itself chooses from (``canvass.turf._cut._staging_nodes``): a
  quadtree over the doors splits squares until each holds at most
  ``--stage-doors`` doors (or is 100 m wide), and each square gets the candidate
  node nearest its doors' mean. canvass is given exactly these candidates too (its
  candidate list is replaced by the sample);
- any solver may send up to ``--per-stage`` volunteers from every staging point; the
  number of volunteers is an outcome;
- every door is required, a route walks back to its staging point, and the shift
  counts walking and the 90 s at each door;
- the objective is ``fixed_s * volunteers sent out + walking seconds`` with
  ``fixed_s`` one shift's seconds: PyVRP's ``fixed_cost``, VROOM's
  ``VehicleCosts(fixed=...)``. canvass has no such setting: it cuts turfs of
  ``turf.fill`` (0.9, ``--fill``) of a shift, balanced within ``turf.balance``
  (15 %, ``--balance``) of their mean, one volunteer each, and routes each turf
  with OR-Tools; its plan is scored on the same objective.

Same CPU and wall time. Each solver gets 2 cores and ``--wall`` seconds fixed in
advance: PyVRP runs two seeds in two processes and keeps the better, VROOM runs 2
threads, canvass cuts in one process and routes with 2 workers (its per-turf search
time is what the cut leaves of ``--wall``). The walking-time matrix is computed once
and given to the peers (charged to nobody; canvass still computes its own local
costs inside its ``--wall``).

Strict checking. Every plan is re-scored by :func:`bench._plans.check_plan` on the
shared matrix; an infeasible plan is reported as such and not scored, doors in no
route are left out. Compared: (a) volunteer shifts to knock every door and (b) total
volunteer time (walking + doors); walking per door is printed only at equal
coverage.

Reference. ``gap_to_best`` is the gap in the objective to the best complete plan of
any solver in the run or of PyVRP given ``--ref-factor`` x the wall time (two seeds,
2 cores) warm-started from the run's best plan. ``--export DIR`` writes the instance
(``.npz``) and every plan (JSON) for re-scoring with ``python bench/_plans.py``.

Usage::

    python bench/routing.py [--sizes 2000 8213] [--seeds 0 1 2] [--wall 120]
                            [--ref-factor 10] [--export DIR]

The last line is ``routing: shifts_ratio_vs_pyvrp=.. shifts_ratio_vs_vroom=..
time_ratio_vs_pyvrp=.. time_ratio_vs_vroom=.. gap_to_best=..% wall_s=..``
(canvass / peer on the means over seeds; the worse of the sizes run, and of the
sizes whose ``result_N.json`` an earlier run left in the ``--export`` folder).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _plans import Instance, Plan, Score, check_plan, save_plan  # noqa: E402

from canvass import network, route, schema, turf  # noqa: E402
from canvass.config import PlanConfig  # noqa: E402
from canvass.turf import StreetIndex, _cut  # noqa: E402
from canvass.turf._costs import Anchors, LocalCosts  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
GRAPH = DATA / "osm_northampton_walk_2020" / "northampton_walk_2020.graphml"
GIS = DATA / "northampton_city_gis"
DOORS = GIS / "northampton_voter_address_counts_2026.csv"
PRECINCTS = GIS / "northampton_precincts_2012_2021_wgs84.geojson"
CRS = "EPSG:26986"
SHIFT_S, SPEED, DOOR_S = 7200, 1.2, 90
SOLVERS = ("canvass", "pyvrp", "vroom")


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


def staging_sample(
    G: Any, doors: gpd.GeoDataFrame, max_doors: int, min_side_m: float = 100.0
) -> list[Any]:
    """
    A sample of the car-reachable nodes canvass chooses staging points from.

    A quadtree over the doors: a square is split in four while it holds more than
    `max_doors` doors and is wider than `min_side_m`; each square with doors gets the
    candidate node nearest its doors' mean (duplicates merged). The sample is as
    dense as the doors, from the doors and the network alone.
    """
    cands, tree = _cut._staging_nodes(G, network.main_component(G))
    xy = shapely.get_coordinates(doors.geometry.to_numpy())
    lo = xy.min(axis=0)
    side = float((xy.max(axis=0) - lo).max()) + 1.0
    means: list[np.ndarray] = []
    todo = [(lo, side, np.arange(len(xy)))]
    while todo:
        corner, w, ix = todo.pop()
        if len(ix) == 0:
            continue
        if len(ix) <= max_doors or w <= min_side_m:
            means.append(xy[ix].mean(axis=0))
            continue
        half = w / 2
        right = xy[ix, 0] >= corner[0] + half
        top = xy[ix, 1] >= corner[1] + half
        for r in (False, True):
            for t in (False, True):
                sub = ix[(right == r) & (top == t)]
                todo.append((corner + half * np.array([r, t]), half, sub))
    hits = tree.nearest(shapely.points(np.array(means)))
    return [cands[int(i)] for i in dict.fromkeys(np.asarray(hits).tolist())]


# ---------------------------------------------------------------- the solvers


def run_canvass(
    G: Any,
    snapped: gpd.GeoDataFrame,
    staging: list[Any],
    door_ix: dict[Any, int],
    args: argparse.Namespace,
    seed: int,
) -> tuple[Plan, float, dict[str, Any]]:
    """Cut and route with canvass, its staging candidates replaced by `staging`."""
    pts = shapely.points([(G.nodes[s]["x"], G.nodes[s]["y"]) for s in staging])
    sample = (list(staging), shapely.STRtree(pts))
    settings: dict[str, Any] = {
        "seed": seed,
        "walk": {"speed_m_s": SPEED, "door_s": DOOR_S},
        "turf": {
            "shift_s": SHIFT_S,
            "cross_precincts": not args.by_precinct,
            "fill": args.fill,
            "balance": args.balance,
            "car_legs": args.car_legs,
        },
        "route": {"time_limit_s": 0.0, "workers": 2},
    }
    t0 = time.perf_counter()
    with mock.patch.object(_cut, "_staging_nodes", return_value=sample):
        cut = turf.cut_turfs(snapped, G, PlanConfig.from_dict(settings))
    cut_s = time.perf_counter() - t0
    # what the cut leaves of the wall time goes to the per-turf search (2 workers)
    left = args.wall - cut_s - 2.0  # (the workers' start and the routes' read-back)
    per_turf = max(0.0, 0.9 * 2 * left / max(1, len(cut.turfs)))
    settings["route"]["time_limit_s"] = round(per_turf, 2)
    routed = route.route_turfs(cut.doors, cut.turfs, G, PlanConfig.from_dict(settings))
    wall = time.perf_counter() - t0
    dep = {s: i for i, s in enumerate(staging)}
    plan: Plan = []
    for _, grp in routed.stops.groupby(schema.ROUTE_ID, sort=True):
        node = cut.turfs.at[grp[schema.TURF_ID].iloc[0], schema.STAGING_NODE]
        seq = grp.sort_values(schema.STOP)[schema.DOOR_ID]
        plan.append((dep.get(node, -1), [door_ix[d] for d in seq]))
    info = {
        "turfs": len(cut.turfs),
        "cut_s": cut_s,
        "turf_search_s": per_turf,
        "car_leg_turfs": cut.report["car_leg_turfs"],
        "balanced": cut.report["share_balanced"],
    }
    return plan, wall, info


_SHARED: dict[str, Any] = {}  # the instance, inherited by forked workers


def _pyvrp_data(inst: Instance) -> Any:
    import pyvrp

    n_dep, n = inst.n_depots, inst.n_doors
    mat = np.asarray(inst.walk_s, dtype=np.int64)
    return pyvrp.ProblemData(
        [pyvrp.Location(0, 0) for _ in range(n_dep + n)],
        [
            pyvrp.Client(location=n_dep + i, service_duration=inst.service_s)
            for i in range(n)
        ],
        [pyvrp.Depot(location=d) for d in range(n_dep)],
        [
            pyvrp.VehicleType(
                num_available=k,
                start_depot=d,
                end_depot=d,
                fixed_cost=inst.fixed_s,
                shift_duration=inst.shift_s,
            )
            for d, k in enumerate(inst.fleet)
        ],
        [mat],
        [mat],
    )


def _pyvrp_one(seed: int, wall: float, initial: Plan | None) -> Plan:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    inst: Instance = _SHARED["inst"]
    data = _pyvrp_data(inst)
    start = None
    if initial:
        start = pyvrp.Solution(
            data, [pyvrp.Route(data, q, d) for d, q in initial if q]
        )  # vehicle type d starts at staging point d
    res = pyvrp.solve(
        data,
        stop=MaxRuntime(wall),
        seed=seed,
        display=False,
        collect_stats=False,
        initial_solution=start,
    )
    return [
        (int(r.start_depot()), [int(a.idx) for a in r.schedule() if a.is_client()])
        for r in res.best.routes()
    ]


def best_of(inst: Instance, plans: list[Plan]) -> Plan:
    """The plan with the lowest objective among complete ones (else the first)."""
    scored = [(check_plan(inst, p), p) for p in plans]
    ok = [(s.objective, i) for i, (s, _) in enumerate(scored) if s.complete]
    return scored[min(ok)[1]][1] if ok else plans[0]


def run_pyvrp(
    inst: Instance, wall: float, seed: int, initial: Plan | None = None
) -> tuple[Plan, float]:
    """Two PyVRP seeds in two processes for `wall` seconds; the better plan."""
    _SHARED["inst"] = inst
    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
        futs = [
            ex.submit(_pyvrp_one, s, wall, initial) for s in (2 * seed, 2 * seed + 1)
        ]
        plans = [f.result() for f in futs]
    return best_of(inst, plans), time.perf_counter() - t0


def run_vroom(inst: Instance, wall: float, level: int) -> tuple[Plan, float]:
    """VROOM on 2 threads for `wall` seconds."""
    import vroom

    t0 = time.perf_counter()
    n_dep = inst.n_depots
    inp = vroom.Input()
    inp.set_durations_matrix("car", np.asarray(inst.walk_s, dtype=np.uint32))
    vid = 0
    for d, k in enumerate(inst.fleet):
        for _ in range(k):
            inp.add_vehicle(
                vroom.Vehicle(
                    vid,
                    start=d,
                    end=d,
                    time_window=vroom.TimeWindow(0, inst.shift_s),
                    costs=vroom.VehicleCosts(fixed=inst.fixed_s, per_hour=3600),
                )
            )
            vid += 1
    for i in range(inst.n_doors):
        inp.add_job(vroom.Job(i, location=n_dep + i, default_service=inst.service_s))
    sol = inp.solve(
        exploration_level=level, nb_threads=2, timeout=timedelta(seconds=wall)
    )
    plan: Plan = []
    for _, grp in sol.routes.groupby("vehicle_id", sort=True):
        jobs = grp[grp["type"] == "job"]["id"].astype(int).tolist()
        start = int(grp[grp["type"] == "start"]["location_index"].iloc[0])
        plan.append((start, jobs))
    return plan, time.perf_counter() - t0


# ---------------------------------------------------------------- reporting


def spread(xs: list[float], fmt: str = "{:.1f}") -> str:
    if not xs:
        return "-"
    m = statistics.fmean(xs)
    if len(xs) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} [{fmt.format(min(xs))}-{fmt.format(max(xs))}]"


def summarise(
    n: int,
    inst: Instance,
    runs: dict[str, list[tuple[Score, float]]],
    best: int,
    source: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n}
    print(f"[{n} doors] best complete plan: objective {best:,} ({source})", flush=True)
    for name, rs in runs.items():
        if not rs:
            continue
        bad = [s for s, _ in rs if not s.feasible]
        part = [s for s, _ in rs if s.feasible and not s.complete]
        full = [s for s, _ in rs if s.complete]
        walls = [w for _, w in rs]
        row: dict[str, Any] = {
            "runs": len(rs),
            "infeasible": len(bad),
            "incomplete": len(part),
            "wall_s": statistics.fmean(walls),
        }
        if full:
            row |= {
                "shifts": statistics.fmean(s.shifts or 0 for s in full),
                "time_s": statistics.fmean(s.time_s or 0 for s in full),
                "gap": statistics.fmean(
                    100 * ((s.objective or 0) / best - 1) for s in full
                ),
            }
        out[name] = row
        msg = (
            f"[{n} doors] {name}: {len(full)}/{len(rs)} complete feasible plans"
            f"{f', {len(bad)} INFEASIBLE (not scored)' if bad else ''}"
            f"{f', {len(part)} leave doors out' if part else ''}"
        )
        if full:
            msg += (
                f"; shifts {spread([float(s.shifts or 0) for s in full])}, "
                f"volunteer time {spread([(s.time_s or 0) / 3600 for s in full])} h, "
                f"walking {spread([(s.walk_s or 0) / 3600 for s in full])} h "
                f"({spread([(s.walk_s or 0) / inst.n_doors for s in full])} s a door), "
                f"longest route {max(s.longest_s or 0 for s in full):,} s, "
                f"gap_to_best "
                f"{spread([100 * ((s.objective or 0) / best - 1) for s in full])} %"
            )
        for s in part:
            msg += f"; left out {s.left_out} doors (shifts {s.shifts})"
        msg += f"; wall {spread(walls)} s"
        print(msg, flush=True)
        for s in bad[:1]:
            print(f"    first errors: {'; '.join(s.errors[:3])}", flush=True)
    return out


def bench_size(
    G: Any, index: StreetIndex, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    doors = load_doors(n, 0, args.by_precinct)
    n = len(doors)
    wcfg = PlanConfig.from_dict({"walk": {"speed_m_s": SPEED, "door_s": DOOR_S}})
    snapped = network.snap_doors(doors, G, wcfg.walk).doors
    work = snapped[snapped[schema.EDGE_U].notna()]
    staging = staging_sample(G, work, args.stage_doors)
    t1 = time.perf_counter()
    anchors = Anchors.build(index, work, staging, wcfg.walk)
    costs = LocalCosts(index, anchors, margin_m=np.inf)
    tmat = np.asarray(np.ceil(costs.matrix / SPEED - 1e-9), dtype=np.int64)
    del costs
    matrix_s = time.perf_counter() - t1
    inst = Instance(
        walk_s=tmat,
        n_depots=len(staging),
        service_s=DOOR_S,
        shift_s=SHIFT_S,
        fleet=(args.per_stage,) * len(staging),
        fixed_s=SHIFT_S,
    )
    door_ix = {d: i for i, d in enumerate(work.index)}
    lb = math.ceil(inst.n_doors * DOOR_S / SHIFT_S)
    print(
        f"[{n} doors] instance: {inst.n_doors:,} doors on the network "
        f"({n - inst.n_doors} not snapped), {len(staging)} staging points "
        f"(quadtree, <= {args.stage_doors} doors a square), "
        f"up to {args.per_stage} volunteers each, "
        f"objective {SHIFT_S} s a volunteer + walking s; at least {lb} shifts for the "
        f"door time alone; matrix {matrix_s:.1f} s (charged to nobody); wall "
        f"{args.wall:.0f} s per solver on 2 cores",
        flush=True,
    )
    out = Path(args.export) if args.export else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
        inst.save(
            out / f"instance_{n}.npz",
            meta={
                "doors": [str(x) for x in work.index],
                "staging_nodes": [str(s) for s in staging],
                "note": "matrix rows/cols: staging points first, then doors",
            },
        )
    runs: dict[str, list[tuple[Score, float]]] = {s: [] for s in SOLVERS}
    plans: list[Plan] = []
    names: list[str] = []
    for seed in args.seeds:
        for name in SOLVERS:
            if name not in args.solvers:
                continue
            try:
                if name == "canvass":
                    plan, used, info = run_canvass(
                        G, snapped, staging, door_ix, args, seed
                    )
                    same = args.fill == 1 and args.balance >= 1
                    note = (
                        f"turf.fill {args.fill:g}, turf.balance {args.balance:g}"
                        f"{' (as the peers: full shifts, no band)' if same else ''}, "
                        f"{info['turfs']} turfs, cut {info['cut_s']:.1f} s, "
                        f"{info['turf_search_s']:.2f} s search a turf, "
                        f"{100 * info['balanced']:.0f}% of turf estimates within "
                        f"{100 * args.balance:.0f}% of their mean, "
                        f"{info['car_leg_turfs']} with car legs"
                    )
                elif name == "pyvrp":
                    plan, used = run_pyvrp(inst, args.wall, seed)
                    note = f"seeds {2 * seed}, {2 * seed + 1}"
                else:
                    plan, used = run_vroom(inst, args.wall, args.vroom_level)
                    note = f"exploration level {args.vroom_level}"
            except ImportError as err:
                print(f"  {name}: not installed ({err}); pip install -e '.[bench]'")
                args.solvers = [s for s in args.solvers if s != name]
                continue
            s = check_plan(inst, plan)
            runs[name].append((s, used))
            plans.append(plan)
            names.append(f"{name} seed {seed}")
            state = (
                "INFEASIBLE"
                if not s.feasible
                else "complete"
                if s.complete
                else f"{s.left_out} doors left out"
            )
            print(
                f"  seed {seed} {name}: {state}, shifts {s.shifts}, objective "
                f"{s.objective}, wall {used:.1f} s ({note})",
                flush=True,
            )
            if out:
                save_plan(
                    out / f"plan_{n}_{name}_seed{seed}.json",
                    plan,
                    name,
                    {"seed": seed, "wall_s": used, "feasible": s.feasible},
                )
    scores = [check_plan(inst, p) for p in plans]
    complete = [(s.objective or 0, i) for i, s in enumerate(scores) if s.complete]
    best_plan = plans[min(complete)[1]] if complete else None
    source = names[min(complete)[1]] if complete else "none"
    if best_plan is not None and args.ref_factor > 0:
        try:
            ref, used = run_pyvrp(inst, args.ref_factor * args.wall, 99, best_plan)
            rs = check_plan(inst, ref)
            print(
                f"  reference: PyVRP {args.ref_factor:g} x {args.wall:.0f} s from the "
                f"run's best plan: objective {rs.objective} "
                f"({'complete' if rs.complete else 'NOT complete'}), {used:.0f} s",
                flush=True,
            )
            if rs.complete and (rs.objective or 0) < min(complete)[0]:
                best_plan, source = ref, "the reference run"
        except ImportError:
            print("  reference: PyVRP not installed; best of the run only")
    best = check_plan(inst, best_plan).objective if best_plan else 0
    if out and best_plan:
        save_plan(out / f"plan_{n}_best.json", best_plan, "best", {})
    return summarise(n, inst, runs, best or 0, source)


def ratio(res: dict[str, Any], peer: str, key: str) -> float:
    a, b = res.get("canvass", {}), res.get(peer, {})
    if key not in a or key not in b or a["infeasible"] or b["infeasible"]:
        return float("nan")
    if a["incomplete"] or b["incomplete"]:
        return float("nan")
    return float(a[key] / b[key])


def worst(xs: list[float]) -> float:
    """The worst ratio (nan if any is nan: a size where a ratio is undefined)."""
    return float("nan") if any(math.isnan(x) for x in xs) or not xs else max(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 9000])  # 9000 = all
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--wall", type=float, default=120.0, help="seconds per solver")
    ap.add_argument("--ref-factor", type=float, default=10.0)
    ap.add_argument(
        "--stage-doors",
        type=int,
        default=60,
        help="most doors per quadtree square that gets one staging point",
    )
    ap.add_argument("--per-stage", type=int, default=4)
    ap.add_argument("--fill", type=float, default=0.9, help="canvass's turf.fill")
    ap.add_argument(
        "--balance", type=float, default=0.15, help="canvass's turf.balance"
    )
    ap.add_argument("--vroom-level", type=int, default=5)
    ap.add_argument("--solvers", nargs="*", default=list(SOLVERS))
    ap.add_argument("--export", default="")
    ap.add_argument("--by-precinct", action="store_true", help="canvass only")
    ap.add_argument("--car-legs", action="store_true", help="canvass only")
    args = ap.parse_args()
    if not GRAPH.is_file() or not DOORS.is_file():
        sys.exit(f"shared data not found under {DATA}; this bench needs ../shared/data")
    G = network.read_walk_graph(GRAPH, PlanConfig().walk, crs=CRS)
    index = StreetIndex(G)
    results = [bench_size(G, index, n, args) for n in args.sizes]
    if args.export:  # sizes run separately (other seeds) join the last line
        out = Path(args.export)
        for r in results:
            (out / f"result_{r['n']}.json").write_text(json.dumps(r))
        done = {r["n"] for r in results}
        for p in sorted(out.glob("result_*.json")):
            r = json.loads(p.read_text())
            if r["n"] not in done:
                print(f"(with {p.name} from an earlier run)")
                results.append(r)
    line = " ".join(
        f"{k}_ratio_vs_{p}={worst([ratio(r, p, key) for r in results]):.3f}"
        for k, key in (("shifts", "shifts"), ("time", "time_s"))
        for p in ("pyvrp", "vroom")
    )
    gaps = [r.get("canvass", {}).get("gap", float("nan")) for r in results]
    walls = [r.get("canvass", {}).get("wall_s", float("nan")) for r in results]
    print(f"routing: {line} gap_to_best={worst(gaps):.1f}% wall_s={max(walls):.1f}")


if __name__ == "__main__":
    main()
