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


def test_renamed_outputs_keep_the_runs_serve_keys(
    demo_plan: Any, demo_outputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QR codes written again by `canvass assign` still open the served pages."""
    import dataclasses
    import json
    import shutil

    from canvass.outputs import SECRETS_FILE, _pdf, rewrite_route_outputs, route_secrets

    folder = tmp_path / "run"
    shutil.copytree(demo_outputs, folder)
    base = "http://192.168.1.20:8642/"
    campaign = dataclasses.replace(demo_plan.config.campaign, serve_url=base)
    plan = dataclasses.replace(
        demo_plan, config=dataclasses.replace(demo_plan.config, campaign=campaign)
    )
    keys = route_secrets(folder, [str(r) for r in plan.routes.index])
    before = (folder / SECRETS_FILE).read_text()
    seen: list[str] = []
    real = _pdf._qr_png
    monkeypatch.setattr(_pdf, "_qr_png", lambda link: seen.append(link) or real(link))
    first = str(sorted(plan.routes.index)[0])
    files = rewrite_route_outputs(with_volunteer_names(plan, {first: "Maria"}), folder)
    assert (folder / SECRETS_FILE).read_text() == before
    assert json.loads(before) == keys
    assert sorted(seen) == sorted(f"{base}r/{r}/{k}/" for r, k in keys.items())
    assert not list(folder.glob(".assign.partial"))
    assert files["kept"] == []
    assert "Maria" in (folder / "routes" / f"{first}.html").read_text()
