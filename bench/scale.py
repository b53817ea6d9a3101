"""Statewide scale benchmark: targeting a Massachusetts-sized file on one machine.

Usage::

    python bench/scale.py [--scale 1.0] [--state bench/out/state] [--workers 2]
                          [--scheduler ""|local|tcp://host:8786] [--no-speedup]
                          [--no-routing] [--compress gzip|bz2|xz|zip]

1. Makes the synthetic statewide input with ``bench/make_state.py`` when ``--state``
   has none of the asked scale (4.9 million voters at ``--scale 1``; no real person).
2. Speed-up: targets a seeded sample of towns (about 3 % of the voters) with 1 and
   then 2 workers.
3. The statewide run (:func:`canvass.statewide.run_state`): load, geocode by
   address-point match, join to precincts, statewide turnout models fitted once,
   scores for the next state primary and state election, both universes, door
   values, the statewide precinct table, and a statewide door-to-precinct check.
   Peak memory is sampled every 0.2 s over this process and all its children.
4. Routing: cuts and routes the turfs of a demo town (``canvass demo``) and reports
   turfs routed per second with the configured solver time limit per turf.

With ``--compress`` every town's VOT/ANP/ACP files are read compressed, as states
publish them: a compressed copy is written next to each (zip: one ``export.zip`` per
town, members picked by pattern) with a ``canvass.<kind>.toml`` pointing at it, and
the runs use those configs (the plain files stay, for comparison runs).

Prints progress, then ends with exactly
``scale: voters=<n> wall_s=<s> peak_gb=<g> turfs_per_s=<t>``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from canvass import cluster, statewide
from canvass.config import ClusterParams, PlanConfig

HERE = Path(__file__).resolve().parent
GB = 1024**3


class PeakMemory:
    """Sample the resident memory of this process and all its descendants."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _children(pid: int) -> list[int]:
        out: list[int] = []
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                out += [int(c) for c in task.read_text().split()]
        return out

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0

    def total(self) -> int:
        """Resident bytes of this process tree now."""
        todo, seen, total = [os.getpid()], set(), 0
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += self._rss(pid)
            todo += self._children(pid)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.total())
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.total())


def _make_state() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_state", HERE / "make_state.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_state"] = module
    spec.loader.exec_module(module)
    return module


def ensure_state(
    state: Path, scale: float, seed: int, jobs: int, *, reuse: bool = False
) -> dict[str, Any]:
    """Return the state's summary, building the state first when needed."""
    summary = state / "state.json"
    want = round(4_900_000 * scale)
    if summary.exists():
        data: dict[str, Any] = json.loads(summary.read_text(encoding="utf-8"))
        close = abs(data["voters"] - want) <= max(0.01 * want, 50)
        if reuse or (close and data["seed"] == seed):
            print(f"scale: using {state} ({data['voters']:,} voters)", flush=True)
            return data
    print(f"scale: building the synthetic state in {state} (scale {scale})", flush=True)
    args = ["--scale", str(scale), "--seed", str(seed), "--jobs", str(jobs)]
    code = _make_state().main([*args, "--out", str(state), "--force"])
    if code:
        raise SystemExit(code)
    out: dict[str, Any] = json.loads(summary.read_text(encoding="utf-8"))
    return out


def compressed_configs(configs: list[Path], kind: str) -> list[Path]:
    """Write (once) each town's voter files compressed and a config reading them."""
    import bz2
    import gzip
    import lzma
    import zipfile

    out = []
    for config in configs:
        text = config.read_text(encoding="utf-8")
        folder = config.parent / "voters"
        files = sorted(p for p in folder.glob("*.txt"))
        if kind == "zip":
            archive = folder / "export.zip"
            if not archive.exists():
                with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                    for p in files:
                        zf.write(p, p.name)
            for p in files:
                text = text.replace(
                    f'"voters/{p.name}"', f'"voters/export.zip:{p.name}"'
                )
        else:
            opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
            for p in files:
                packed = p.with_name(f"{p.name}.{kind}")
                if not packed.exists():
                    with p.open("rb") as src, opener(packed, "wb") as dst:
                        while chunk := src.read(1 << 24):
                            dst.write(chunk)
                text = text.replace(f'"voters/{p.name}"', f'"voters/{packed.name}"')
        twin = config.with_name(f"canvass.{kind}.toml")
        twin.write_text(text, encoding="utf-8")
        out.append(twin)
    return out


def _progress(label: str, t0: float) -> cluster.Progress:
    def show(done: int, total: int) -> None:
        if done == total or done % max(total // 10, 1) == 0:
            print(
                f"  {label}: {done}/{total} towns, {time.perf_counter() - t0:.0f} s",
                flush=True,
            )

    return show


def run(configs: list[Path], params: ClusterParams, state: Path, label: str) -> Any:
    """Run the statewide targeting of `configs`; return (result, wall seconds)."""
    layer = statewide.read_state_precincts(state / "precincts.gpkg")
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    with cluster.make_executor(params) as ex:
        result = statewide.run_state(
            configs, ex, precincts=layer, progress=_progress(label, t0)
        )
    wall = time.perf_counter() - t0
    # on a shared machine the workers may get less than a core each: say so
    print(
        f"scale: {label}: {wall:.1f} s wall, {(_cpu_s() - cpu0) / wall:.2f} cores "
        "busy on average (this process and its pool workers)",
        flush=True,
    )
    return result, wall


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def speedup(configs: list[Path], state: Path, seed: int) -> float:
    """Wall time of a ~3 % sample of towns on 1 worker over 2 workers."""
    sizes = np.array(
        [sum(p.stat().st_size for p in c.parent.glob("voters/*VOT*")) for c in configs]
    )
    order = np.random.default_rng([seed, 2]).permutation(len(configs))
    n = int((np.cumsum(sizes[order]) <= 0.03 * sizes.sum()).sum())
    sample = sorted(configs[int(i)] for i in order[: max(n, min(8, len(order)))])
    walls = []
    for w in (1, 2):
        _, wall = run(sample, ClusterParams(workers=w), state, f"sample x{w}")
        walls.append(wall)
        print(f"scale: sample of {len(sample)} towns on {w} worker(s): {wall:.1f} s")
    return walls[0] / walls[1]


def route_rate(seed: int) -> tuple[int, float, float]:
    """Cut and route a demo town's turfs; return (turfs, seconds, turfs per s)."""
    from canvass import demo, guards, load, network, route, target, turf
    from canvass import geocode as gc
    from canvass import score as sc

    with tempfile.TemporaryDirectory() as tmp:
        town = demo.make_demo_town(Path(tmp) / "demo", seed=seed, n_voters=5000)
        config = PlanConfig.from_toml(town.config)
        guards.preflight(config)
        inputs = config.inputs
        precincts = load.read_precincts(
            config.resolve(inputs.precincts), config.precincts
        )
        loaded = load.load_voter_file(config)
        G = network.read_walk_graph(
            config.resolve(inputs.streets), config.walk, crs=precincts.crs
        )
        points = gc.read_address_points(
            config.resolve(inputs.address_points), precincts.crs
        )
        geo = gc.geocode_voters(
            loaded.voters,
            precincts,
            streets=G,
            address_points=points,
            params=config.geocode,
        )
        elections = sc.election_calendar(loaded.history, config)
        scored = sc.score_voters(geo.voters, loaded.history, elections, config)
        targeted = target.select_targets(
            scored.voters, loaded.history, elections, config
        )
        doors = target.door_values(geo.doors, targeted)
        snapped = network.snap_doors(doors, G, config.walk)
        cut = turf.cut_turfs(snapped.doors, G, config)
        t0 = time.perf_counter()
        routed = route.route_turfs(cut.doors, cut.turfs, G, config)
        wall = time.perf_counter() - t0
    n = len(cut.turfs)
    print(
        f"scale: routed {n} demo turfs ({routed.stops['door_id'].nunique():,} doors) "
        f"in {wall:.1f} s with {config.route.workers} workers and "
        f"{config.route.time_limit_s:g} s of search per turf",
        flush=True,
    )
    return n, wall, n / wall if wall > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--state", type=Path, default=HERE / "out" / "state")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default="", help='"", "local" or tcp://host:port')
    ap.add_argument("--no-speedup", action="store_true")
    ap.add_argument("--no-routing", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="use --state as it is")
    ap.add_argument("--compress", choices=["gzip", "bz2", "xz", "zip"])
    args = ap.parse_args(argv)
    state: Path = args.state.resolve()
    ensure_state(state, args.scale, args.seed, args.workers, reuse=args.reuse)
    configs = sorted(state.glob("towns/*/canvass.toml"))
    if args.compress:
        t0 = time.perf_counter()
        configs = compressed_configs(configs, args.compress)
        took = time.perf_counter() - t0
        print(f"scale: inputs {args.compress}-compressed in {took:.0f} s", flush=True)
    ratio = speedup(configs, state, args.seed) if not args.no_speedup else float("nan")
    params = ClusterParams(scheduler=args.scheduler, workers=args.workers)
    with PeakMemory() as mem:
        result, wall = run(configs, params, state, "state")
    out = state / "results"
    out.mkdir(exist_ok=True)
    result.precinct_table.to_csv(out / "precinct_table.csv", index=False)
    n = result.counts["voters"]
    print(f"scale: stage seconds summed over workers {result.seconds}")
    print(f"scale: counts {result.counts}")
    print(f"scale: statewide door/precinct check {result.door_check}")
    print(f"scale: load+score {n / wall:,.0f} voters/s ({n:,} voters in {wall:.1f} s)")
    print(f"scale: peak memory {mem.peak / GB:.2f} GB (this process and its workers)")
    print(f"scale: speed-up from 1 to 2 workers {ratio:.2f}x")
    turfs_per_s = 0.0
    if not args.no_routing:
        _, _, turfs_per_s = route_rate(args.seed)
    print(
        f"scale: voters={n} wall_s={wall:.1f} peak_gb={mem.peak / GB:.2f} "
        f"turfs_per_s={turfs_per_s:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
