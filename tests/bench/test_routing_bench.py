"""The routing bench poses the same instance and objective to every peer solver.

Tiny instances only: each solver runs for a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _bench import load_bench


def two_towns(fleet: int = 3) -> object:
    """Staging points at x=0 and x=1000; 4 doors near each; 600 s shifts, 60 s a door.

    Either town's doors fit one shift from its own staging point; serving both towns
    in one route walks 2,000 s more, so the optimum sends out one volunteer from each.
    """
    plans = load_bench("_plans")
    xs = np.array([0, 1000, 10, 20, 30, 40, 990, 980, 970, 960])
    walk = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    return plans.Instance(
        walk_s=walk,
        n_depots=2,
        service_s=60,
        shift_s=600,
        fleet=(fleet, fleet),
        fixed_s=600,
    )


def _assert_optimal(inst: object, plan: list[tuple[int, list[int]]]) -> None:
    plans = load_bench("_plans")
    s = plans.check_plan(inst, plan)
    assert s.complete, s.errors
    assert s.shifts == 2
    assert s.walk_s == 80 + 80
    assert sorted(sorted(q) for _, q in plan if q) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_pyvrp_gets_fixed_cost_and_required_doors() -> None:
    pytest.importorskip("pyvrp")
    routing = load_bench("routing")
    inst = two_towns()
    plan, _ = routing.run_pyvrp(inst, 0.3, seed=0)
    _assert_optimal(inst, plan)


def test_pyvrp_warm_start_keeps_a_good_plan() -> None:
    pytest.importorskip("pyvrp")
    routing = load_bench("routing")
    inst = two_towns()
    start = [(0, [3, 2, 1, 0]), (1, [7, 6, 5, 4])]
    plan, _ = routing.run_pyvrp(inst, 0.2, seed=1, initial=start)
    _assert_optimal(inst, plan)


def test_vroom_gets_fixed_cost_and_fleet() -> None:
    pytest.importorskip("vroom")
    routing = load_bench("routing")
    inst = two_towns()
    plan, _ = routing.run_vroom(inst, 0.3, level=1)
    _assert_optimal(inst, plan)


def test_best_of_prefers_complete_plans() -> None:
    routing = load_bench("routing")
    inst = two_towns()
    partial = [(0, [0, 1, 2, 3])]  # cheaper, but leaves four doors out
    full = [(0, [0, 1, 2, 3]), (1, [4, 5, 6, 7])]
    assert routing.best_of(inst, [partial, full]) == full


def test_standard_tsp_reader_and_router(tmp_path: Path) -> None:
    standard = load_bench("standard")
    f = tmp_path / "sq.tsp"
    f.write_text(
        "NAME : sq\nTYPE : TSP\nDIMENSION : 5\nEDGE_WEIGHT_TYPE : EUC_2D\n"
        "NODE_COORD_SECTION\n1 0 0\n2 0 10\n3 10 10\n4 10 0\n5 5 0.4\nEOF\n"
    )
    xy = standard.read_tsplib(f)
    d = standard.euc_2d(xy)
    assert d[0, 2] == 14  # 14.14 rounds down
    assert d[0, 4] == 5  # 5.016 rounds to 5
    length, _, k = standard.solve(d, 0.0)
    assert k == 4
    assert length == 10 + 10 + 10 + 5 + 5
    sizes = {"kroA100": 100, "a280": 280, "pcb442": 442}
    assert set(standard.OPTIMA) == set(sizes)
    for name, n in sizes.items():  # the stored instances parse whole
        assert len(standard.read_tsplib(standard.INSTANCES / f"{name}.tsp")) == n
