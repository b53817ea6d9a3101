from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from canvass.turf import _solver
from canvass.turf._solver import SolveMemo, TurfProblem, solve_all


def _problem(name: str, seed: int = 0, time_limit_s: float = 0.0) -> TurfProblem:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, size=(9, 2))
    walk = np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))
    return TurfProblem(
        turf_id=name,
        walk_s=walk,
        service_s=np.full(8, 60, dtype=np.int64),
        penalty=np.full(8, 10**6, dtype=np.int64),
        vehicles=1,
        shift_s=7200,
        open_routes=False,
        time_limit_s=time_limit_s,
        solution_limit=0,
    )


def test_a_problem_seen_before_is_looked_up_not_solved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memo = SolveMemo()
    first = solve_all([_problem("a")], workers=1, memo=memo)
    calls: list[str] = []
    real = _solver.solve_turf

    def counted(p: TurfProblem) -> tuple[str, list[list[int]]]:
        calls.append(p.turf_id)
        return real(p)

    monkeypatch.setattr(_solver, "solve_turf", counted)
    # the same content under another id: looked up; another problem: solved
    again = solve_all([_problem("b"), _problem("c", seed=1)], workers=1, memo=memo)
    assert calls == ["c"]
    assert memo.hits == 1
    assert again["b"] == first["a"]
    assert sorted(again["b"][0]) == list(range(8))
    assert again["c"] == solve_all([_problem("c", seed=1)], workers=1)["c"]


def test_any_change_or_a_time_limit_misses_the_memo() -> None:
    p = _problem("a")
    walk = p.walk_s.copy()
    walk[1, 2] += 1.0
    assert SolveMemo.key(p) == SolveMemo.key(dataclasses.replace(p, turf_id="z"))
    for q in (
        dataclasses.replace(p, walk_s=walk),
        dataclasses.replace(p, shift_s=7199),
        dataclasses.replace(p, initial=((0, 1),)),
    ):
        assert SolveMemo.key(q) != SolveMemo.key(p)
    memo = SolveMemo()
    timed = _problem("t", time_limit_s=0.2)
    assert SolveMemo.key(timed) is None
    memo.put(timed, [[0]])
    assert memo.get(timed) is None
