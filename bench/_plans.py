"""Strict plan checker shared by the routing benchmarks.

An *instance* is a walking-time matrix over staging points (first) and doors (after
them), the seconds spent at each door, the shift limit, how many volunteers may be
sent out from each staging point, and the fixed cost of sending one out. A *plan* is
a list of routes ``(staging point, [door, ...])``; doors are numbered ``0..n-1``
(matrix position ``n_depots + door``); each route starts at its staging point and
walks back to it at the end.

:func:`check_plan` never trusts a solver: it recounts every route on the shared
matrix and lists every broken rule (a door visited twice anywhere in the plan, a
door number out of range, a route from a point that is not a staging point, a route
over the shift counting the minutes at the doors, more volunteers from a staging
point than allowed). A plan with any broken rule is *infeasible* and gets no score;
doors in no route are counted as left out (the plan is then *incomplete*).

The objective every solver is asked to minimise is ``fixed_s * volunteers sent out
+ walking seconds`` (one shift's seconds per volunteer by default), so fewer
shifts and less walking are both rewarded.

Re-score exported plans from the command line::

    python bench/_plans.py instance_2000.npz plans_2000_*.json
"""

from __future__ import annotations

import itertools
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Route = tuple[int, list[int]]
Plan = list[Route]


@dataclass(frozen=True)
class Instance:
    """
    A staged routing instance, the same for every solver.

    Parameters
    ----------
    walk_s
        ``(n_depots + n_doors)`` square matrix of whole walking seconds.
    n_depots
        Staging points at the start of the matrix.
    service_s
        Seconds spent at each door.
    shift_s
        Longest route, walking plus doors, in seconds.
    fleet
        Most volunteers that may be sent out from each staging point.
    fixed_s
        Cost of sending one volunteer out, in walking seconds (the objective).
    """

    walk_s: np.ndarray
    n_depots: int
    service_s: int
    shift_s: int
    fleet: tuple[int, ...]
    fixed_s: int

    def __post_init__(self) -> None:
        m = self.walk_s
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            msg = f"walk_s must be square, got shape {m.shape}"
            raise ValueError(msg)
        if not 0 < self.n_depots <= m.shape[0]:
            msg = f"n_depots={self.n_depots} outside 1..{m.shape[0]}"
            raise ValueError(msg)
        if len(self.fleet) != self.n_depots:
            msg = f"fleet has {len(self.fleet)} entries for {self.n_depots} depots"
            raise ValueError(msg)
        if (m < 0).any():
            msg = "walk_s has negative entries"
            raise ValueError(msg)

    @property
    def n_doors(self) -> int:
        """Doors in the instance."""
        return int(self.walk_s.shape[0]) - self.n_depots

    def save(self, path: Path, meta: dict[str, Any] | None = None) -> None:
        """Write the instance as a compressed ``.npz`` (matrix and settings)."""
        np.savez_compressed(
            path,
            walk_s=self.walk_s,
            n_depots=self.n_depots,
            service_s=self.service_s,
            shift_s=self.shift_s,
            fleet=np.asarray(self.fleet, dtype=np.int64),
            fixed_s=self.fixed_s,
            meta=json.dumps(meta or {}),
        )

    @classmethod
    def load(cls, path: Path) -> Instance:
        """Read an instance written by :meth:`save`."""
        with np.load(path) as z:
            return cls(
                walk_s=np.asarray(z["walk_s"], dtype=np.int64),
                n_depots=int(z["n_depots"]),
                service_s=int(z["service_s"]),
                shift_s=int(z["shift_s"]),
                fleet=tuple(int(x) for x in z["fleet"]),
                fixed_s=int(z["fixed_s"]),
            )


@dataclass(frozen=True)
class Score:
    """
    What the checker found in a plan.

    ``walk_s``, ``time_s``, ``shifts`` and ``objective`` are ``None`` when the plan is
    infeasible: a broken plan is never scored.
    """

    feasible: bool
    errors: tuple[str, ...]
    doors_visited: int
    left_out: int
    shifts: int | None = None
    walk_s: int | None = None
    time_s: int | None = None
    objective: int | None = None
    longest_s: int | None = None
    per_depot: dict[int, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Feasible and every door visited."""
        return self.feasible and self.left_out == 0


def route_walk(inst: Instance, depot: int, doors: Sequence[int]) -> int:
    """Walking seconds of a closed route from `depot` through `doors` and back."""
    if not doors:
        return 0
    path = [depot, *(inst.n_depots + d for d in doors), depot]
    m = inst.walk_s
    return int(sum(int(m[a, b]) for a, b in itertools.pairwise(path)))


def check_plan(inst: Instance, plan: Iterable[Route], max_errors: int = 20) -> Score:
    """
    Check a plan strictly on the shared matrix and score it if it is feasible.

    Parameters
    ----------
    inst
        The instance.
    plan
        Routes ``(staging point, doors in walking order)``; empty routes are
        volunteers not sent out and cost nothing.
    max_errors
        Keep at most this many error messages (all are counted).

    Returns
    -------
    Score
        Feasibility, every broken rule, doors visited and left out; for a
        feasible plan also volunteers sent out, walking, volunteer time
        (walking + doors), the objective and the longest route.
    """
    errors: list[str] = []
    n_err = 0

    def err(msg: str) -> None:
        nonlocal n_err
        n_err += 1
        if len(errors) < max_errors:
            errors.append(msg)

    seen: Counter[int] = Counter()
    per_depot: Counter[int] = Counter()
    walk = service = longest = shifts = 0
    for r, (depot, doors) in enumerate(plan):
        doors = [int(d) for d in doors]
        if not doors:
            continue
        if not (isinstance(depot, int | np.integer) and 0 <= depot < inst.n_depots):
            err(f"route {r} starts at {depot!r}, not a staging point")
            continue
        bad = [d for d in doors if not 0 <= d < inst.n_doors]
        if bad:
            err(f"route {r} visits door(s) {bad[:5]} outside 0..{inst.n_doors - 1}")
            continue
        seen.update(doors)
        per_depot[int(depot)] += 1
        shifts += 1
        w = route_walk(inst, int(depot), doors)
        t = w + inst.service_s * len(doors)
        if t > inst.shift_s:
            err(f"route {r} takes {t} s (walk {w} s + doors), over {inst.shift_s} s")
        walk += w
        service += inst.service_s * len(doors)
        longest = max(longest, t)
    twice = sorted(d for d, k in seen.items() if k > 1)
    for d in twice:
        err(f"door {d} visited {seen[d]} times")
    for d, k in sorted(per_depot.items()):
        if k > inst.fleet[d]:
            err(f"{k} volunteers from staging point {d}, at most {inst.fleet[d]}")
    visited = len(seen)
    left = inst.n_doors - visited
    if n_err:
        if n_err > len(errors):
            errors.append(f"... {n_err - len(errors)} more")
        return Score(False, tuple(errors), visited, left, per_depot=dict(per_depot))
    return Score(
        True,
        (),
        visited,
        left,
        shifts=shifts,
        walk_s=walk,
        time_s=walk + service,
        objective=inst.fixed_s * shifts + walk,
        longest_s=longest,
        per_depot=dict(per_depot),
    )


def save_plan(path: Path, plan: Plan, solver: str, extra: dict[str, Any]) -> None:
    """Write a plan as JSON: ``{"solver", "routes": [{"staging", "doors"}], ...}``."""
    rows = [{"staging": int(d), "doors": [int(x) for x in q]} for d, q in plan if q]
    path.write_text(json.dumps({"solver": solver, **extra, "routes": rows}))


def load_plan(path: Path) -> Plan:
    """Read a plan written by :func:`save_plan`."""
    data = json.loads(path.read_text())
    return [(int(r["staging"]), [int(x) for x in r["doors"]]) for r in data["routes"]]


def main(argv: list[str]) -> int:
    """Re-score exported plans: ``_plans.py INSTANCE.npz PLAN.json...``."""
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1])
        return 2
    inst = Instance.load(Path(argv[0]))
    worst = 0
    for p in argv[1:]:
        s = check_plan(inst, load_plan(Path(p)))
        row = {k: v for k, v in asdict(s).items() if k != "per_depot"}
        print(Path(p).name, json.dumps(row))
        worst = max(worst, int(not s.complete))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
