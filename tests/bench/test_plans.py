"""The routing bench's plan checker (bench/_plans.py) fails on broken plans."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from _bench import load_bench

plans = load_bench("_plans")


def line_instance(fleet: tuple[int, int] = (2, 1), shift_s: int = 400) -> ModuleType:
    """Two staging points at x=0 and x=100, five doors at x=10, 20, 30, 90, 110."""
    xs = np.array([0, 100, 10, 20, 30, 90, 110])
    walk = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    return plans.Instance(
        walk_s=walk,
        n_depots=2,
        service_s=50,
        shift_s=shift_s,
        fleet=fleet,
        fixed_s=1000,
    )


GOOD = [(0, [0, 1, 2]), (1, [3, 4])]  # doors 0-2 from x=0, 3-4 from x=100


def test_good_plan_is_scored_exactly() -> None:
    s = plans.check_plan(line_instance(), GOOD)
    assert s.feasible
    assert s.complete
    assert s.errors == ()
    # route 1: 0->10->20->30->0 = 60; route 2: 100->90->110->100 = 10+20+10 = 40
    assert s.walk_s == 100
    assert s.shifts == 2
    assert s.time_s == 100 + 5 * 50
    assert s.objective == 2 * 1000 + 100
    assert s.longest_s == 60 + 3 * 50
    assert s.per_depot == {0: 1, 1: 1}


def test_empty_routes_are_volunteers_not_sent() -> None:
    s = plans.check_plan(line_instance(), [*GOOD, (0, []), (1, [])])
    assert s.feasible
    assert s.shifts == 2


def test_door_twice_across_routes_is_infeasible_and_unscored() -> None:
    s = plans.check_plan(line_instance(), [(0, [0, 1, 2]), (1, [3, 4, 2])])
    assert not s.feasible
    assert any("door 2 visited 2 times" in e for e in s.errors)
    assert s.objective is None
    assert s.walk_s is None
    assert s.shifts is None


def test_door_twice_within_one_route_is_infeasible() -> None:
    s = plans.check_plan(line_instance(), [(0, [0, 1, 0, 2]), (1, [3, 4])])
    assert not s.feasible
    assert any("door 0" in e for e in s.errors)


def test_shift_counts_the_doors() -> None:
    # walking 60 s fits a 200 s shift, but three doors of 50 s make it 210 s
    inst = line_instance(shift_s=200)
    s = plans.check_plan(inst, [(0, [0, 1, 2]), (1, [3]), (1, [4])])
    assert not s.feasible
    assert any("route 0 takes 210 s" in e for e in s.errors)
    # exactly at the limit is allowed
    ok = plans.check_plan(line_instance(shift_s=210), GOOD)
    assert ok.feasible
    assert ok.longest_s == 210


def test_route_must_start_at_a_staging_point() -> None:
    inst = line_instance()
    for depot in (2, -1, 7):  # a door's matrix position, negative, past the end
        s = plans.check_plan(inst, [(depot, [0, 1, 2]), (1, [3, 4])])
        assert not s.feasible, depot
        assert any("not a staging point" in e for e in s.errors)


def test_door_out_of_range_is_infeasible() -> None:
    s = plans.check_plan(line_instance(), [(0, [0, 1, 2, 5]), (1, [3, 4])])
    assert not s.feasible
    assert any("outside 0..4" in e for e in s.errors)
    s = plans.check_plan(line_instance(), [(0, [-1, 0, 1, 2]), (1, [3, 4])])
    assert not s.feasible


def test_fleet_per_staging_point() -> None:
    inst = line_instance(fleet=(2, 1))
    two_from_0 = [(0, [0, 1]), (0, [2]), (1, [3, 4])]
    assert plans.check_plan(inst, two_from_0).feasible
    two_from_1 = [(0, [0, 1, 2]), (1, [3]), (1, [4])]
    s = plans.check_plan(inst, two_from_1)
    assert not s.feasible
    assert any("2 volunteers from staging point 1, at most 1" in e for e in s.errors)


def test_missing_doors_are_left_out() -> None:
    s = plans.check_plan(line_instance(), [(0, [0, 2])])
    assert s.feasible
    assert not s.complete
    assert s.doors_visited == 2
    assert s.left_out == 3
    assert plans.check_plan(line_instance(), []).left_out == 5


def test_instance_rejects_inconsistent_settings() -> None:
    walk = np.zeros((4, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="fleet"):
        plans.Instance(walk, 2, 0, 10, (1,), 0)
    with pytest.raises(ValueError, match="square"):
        plans.Instance(np.zeros((3, 4)), 1, 0, 10, (1,), 0)


def test_export_and_rescore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = line_instance()
    inst.save(tmp_path / "inst.npz", meta={"n": 5})
    back = plans.Instance.load(tmp_path / "inst.npz")
    np.testing.assert_array_equal(back.walk_s, inst.walk_s)
    assert (back.fleet, back.fixed_s, back.shift_s) == (inst.fleet, 1000, 400)
    plans.save_plan(tmp_path / "good.json", GOOD, "x", {"seed": 0})
    plans.save_plan(tmp_path / "bad.json", [(0, [0, 1, 2]), (0, [2, 3, 4])], "y", {})
    assert plans.load_plan(tmp_path / "good.json") == GOOD
    assert plans.main([str(tmp_path / "inst.npz"), str(tmp_path / "good.json")]) == 0
    assert plans.main([str(tmp_path / "inst.npz"), str(tmp_path / "bad.json")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0].split(" ", 1)[1])["objective"] == 2100
    assert json.loads(out[1].split(" ", 1)[1])["feasible"] is False
