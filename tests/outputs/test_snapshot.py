"""The plan tables a run folder keeps give back the same outputs, byte for byte."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import pytest

from canvass.errors import InputError
from canvass.outputs import (
    PLAN_FOLDER,
    read_plan_data,
    with_volunteer_names,
    write_plan_data,
    write_route_pages,
    write_walk_lists,
)
from canvass.pipeline import load_plan


def test_kept_plan_writes_the_same_route_outputs(
    demo_plan: Any, demo_outputs: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "run"
    written = write_plan_data(demo_plan, kept)
    assert {p.name for p in written} >= {
        "plan.json",
        "voters.parquet",
        "routes.parquet",
    }
    plan = load_plan(kept)
    assert plan.run_id == demo_plan.run_id
    assert plan.config == demo_plan.config
    assert list(plan.routes.index) == list(demo_plan.routes.index)
    again = tmp_path / "again"
    write_walk_lists(plan, again)
    write_route_pages(plan, again)
    files = [p for p in again.rglob("*") if p.is_file()]
    assert len(files) > 3 * len(plan.routes)
    differ = [
        str(p.relative_to(again))
        for p in files
        if not filecmp.cmp(p, demo_outputs / p.relative_to(again), shallow=False)
    ]
    assert differ == []


def test_volunteer_names_replace_slots_on_named_routes_only(demo_plan: Any) -> None:
    first, second = sorted(demo_plan.routes.index)[:2]
    named = with_volunteer_names(demo_plan, {str(first): "Maria"})
    assert named.routes.loc[first, "volunteer"] == "Maria"
    assert (
        named.routes.loc[second, "volunteer"]
        == demo_plan.routes.loc[second, "volunteer"]
    )
    stops = named.stops[named.stops["route_id"] == first]
    assert set(stops["volunteer"]) == {"Maria"}
    assert demo_plan.routes.loc[first, "volunteer"] != "Maria"  # a copy


def test_folder_without_plan_tables_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="keeps no plan tables") as err:
        read_plan_data(tmp_path)
    assert "\n" not in str(err.value)
    (tmp_path / PLAN_FOLDER).mkdir()
    (tmp_path / PLAN_FOLDER / "plan.json").write_text('{"run_id": "x"}')
    with pytest.raises(InputError, match="cannot read the plan tables"):
        read_plan_data(tmp_path)
