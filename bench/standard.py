"""The per-turf router alone on public TSPLIB instances (gap to the proven optimum).

canvass routes each turf with the OR-Tools model of :func:`canvass.turf.solve_turf`
(a time dimension capped at the shift, droppable doors, guided local search). This
script poses public symmetric TSP instances (``bench/instances/*.tsp``, EUC_2D,
100-442 cities; sources and optima in ``bench/instances/README.md``) to that same
function as one volunteer with an unlimited shift and every stop required, so the
routing engine's quality is visible apart from the cut. CVRP instances cannot be
posed to it: the turf model has no capacity dimension.

Usage::

    python bench/standard.py [--time 2 30]

The last line is ``standard: mean_gap=..% worst_gap=..% time_s=..`` for the longest
time limit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from canvass.turf import TurfProblem, solve_turf  # noqa: E402

INSTANCES = ROOT / "bench" / "instances"
#: Proven optimal tour lengths (TSPLIB, Reinelt 1991/1995).
OPTIMA = {"kroA100": 21282, "a280": 2579, "pcb442": 50778}


def read_tsplib(path: Path) -> np.ndarray:
    """City coordinates of an EUC_2D TSPLIB file."""
    xy: list[tuple[float, float]] = []
    in_coords = False
    for line in path.read_text().splitlines():
        s = line.strip()
        if s.startswith("NODE_COORD_SECTION"):
            in_coords = True
            continue
        if s == "EOF" or not s:
            in_coords = in_coords and s != "EOF"
            continue
        if in_coords:
            _, x, y = s.split()[:3]
            xy.append((float(x), float(y)))
    return np.array(xy)


def euc_2d(xy: np.ndarray) -> np.ndarray:
    """TSPLIB EUC_2D distances: Euclidean, rounded to the nearest integer."""
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return np.asarray(np.floor(d + 0.5), dtype=np.int64)


def tour_length(dist: np.ndarray, order: list[int]) -> int:
    """Length of the closed tour from city 0 through `order` (city indexes >= 1)."""
    seq = [0, *order, 0]
    return int(dist[seq[:-1], seq[1:]].sum())


def solve(dist: np.ndarray, seconds: float) -> tuple[int, float, int]:
    """Tour length, wall seconds and cities visited by the turf router."""
    n = len(dist) - 1
    big = int(dist.sum()) + 1
    p = TurfProblem(
        turf_id="tsp",
        walk_s=dist.astype(float),
        service_s=np.zeros(n, dtype=np.int64),
        penalty=np.full(n, big, dtype=np.int64),
        vehicles=1,
        shift_s=big,
        open_routes=False,
        time_limit_s=seconds,
        solution_limit=0,
    )
    t0 = time.perf_counter()
    _, routes = solve_turf(p)
    used = time.perf_counter() - t0
    order = [x + 1 for x in routes[0]]
    return tour_length(dist, order), used, len(set(order))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time", type=float, nargs="+", default=[2.0, 30.0])
    ap.add_argument("--instances", nargs="*", default=list(OPTIMA))
    args = ap.parse_args()
    gaps: dict[float, list[float]] = {t: [] for t in args.time}
    for name in args.instances:
        dist = euc_2d(read_tsplib(INSTANCES / f"{name}.tsp"))
        for t in args.time:
            length, used, k = solve(dist, t)
            if k != len(dist) - 1:
                print(f"{name}: only {k} of {len(dist) - 1} cities routed at {t:g} s")
                gaps[t].append(float("inf"))
                continue
            gap = 100 * (length / OPTIMA[name] - 1)
            gaps[t].append(gap)
            print(
                f"{name} ({len(dist)} cities), {t:g} s: tour {length} vs optimum "
                f"{OPTIMA[name]}, gap {gap:.2f}% (wall {used:.1f} s)",
                flush=True,
            )
    t = max(args.time)
    print(
        f"standard: mean_gap={statistics.fmean(gaps[t]):.2f}% "
        f"worst_gap={max(gaps[t]):.2f}% time_s={t:g}"
    )


if __name__ == "__main__":
    main()
