"""The run folder: complete, reproducible, crash-safe and private (issues 2 and 6)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from canvass import schema
from canvass.outputs import _folder as output
from canvass.pipeline import run


def _hashes(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "manifest.json":  # created_at is the one timestamp allowed
            doc = json.loads(data)
            doc.pop("created_at")
            data = json.dumps(doc, sort_keys=True).encode()
        out[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def test_run_folder_has_everything(demo_outputs):
    for name in ("index.html", "summary.json", "manifest.json", "turf_map.html"):
        assert (demo_outputs / name).is_file(), name
    assert list((demo_outputs / "walklists").glob("*.csv"))
    assert list(demo_outputs.rglob("*.pdf"))
    assert list(demo_outputs.rglob("*.gpx"))
    summary = json.loads((demo_outputs / "summary.json").read_text())
    for key in ("voters", "targets", "doors", "turfs", "volunteers", "doors_routed"):
        assert isinstance(summary[key], int), key
    assert isinstance(summary["doors_left_out"], list)
    pages = list((demo_outputs / "routes").glob("*.html"))
    assert len(pages) == summary["volunteers"]


def test_walk_lists_hold_exactly_the_routed_doors(demo_outputs, demo_plan):
    summary = json.loads((demo_outputs / "summary.json").read_text())
    per_turf = [
        pd.read_csv(p, dtype=str)
        for p in sorted((demo_outputs / "walklists").glob("*.csv"))
        if p.name != "all.csv"
    ]
    doors = pd.concat(per_turf)["door_id"]
    assert doors.nunique() == summary["doors_routed"]
    left = {row["door_id"] for row in summary["doors_left_out"]}
    targets = set(demo_plan.target_doors.index)
    # every target door is in exactly one turf's walk list or left out
    door_turfs = pd.concat(per_turf).groupby("door_id")["turf_id"].nunique()
    assert (door_turfs == 1).all()
    assert set(doors) | left >= targets
    assert set(doors).isdisjoint(left)


def test_maps_contain_the_routes(demo_outputs, demo_plan):
    director = (demo_outputs / "turf_map.html").read_text()
    assert director.count("L.polyline") + director.count('"LineString"') >= 1
    for route_id in demo_plan.routes.index[:3]:
        page = (demo_outputs / "routes" / f"{route_id}.html").read_text()
        assert "L.polyline" in page or '"LineString"' in page
        assert 'name="viewport"' in page


def test_manifest_records_inputs_versions_and_seed(demo_outputs, demo_plan):
    manifest = json.loads((demo_outputs / "manifest.json").read_text())
    assert manifest["seed"] == demo_plan.config.seed
    assert manifest["packages"]["ortools"]
    assert any(k.endswith(".osm") for k in manifest["inputs"])
    assert all(len(v["sha256"]) == 64 for v in manifest["inputs"].values())
    assert manifest["config"]["turf"]["shift_s"] == demo_plan.config.turf.shift_s


def test_same_inputs_config_and_seed_give_identical_bytes(
    demo_config, demo_outputs, tmp_path
):
    """Plan the town a second time from scratch: every output file is identical."""
    again = tmp_path / "again"
    output.write_plan(run(demo_config), again)
    assert _hashes(again) == _hashes(demo_outputs)


def test_outputs_are_owner_only(demo_outputs):
    mode = stat.S_IMODE(demo_outputs.stat().st_mode)
    assert mode == 0o700
    for path in demo_outputs.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_failed_write_leaves_previous_outputs(demo_plan, tmp_path, monkeypatch):
    out = tmp_path / "run"
    output.write_plan(demo_plan, out)
    before = _hashes(out)

    from canvass.outputs import _maps as maps

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(maps, "write_route_pages", boom)
    with pytest.raises(KeyboardInterrupt):
        output.write_plan(demo_plan, out)
    assert _hashes(out) == before
    assert not list(tmp_path.glob(".run.*"))


def test_interrupted_swap_is_recovered(tmp_path):
    out = tmp_path / "run"
    previous = tmp_path / ".run.previous"
    previous.mkdir()
    (previous / "index.html").write_text("old")
    (tmp_path / ".run.partial").mkdir()
    note = output.recover_interrupted(out)
    assert note is not None
    assert (out / "index.html").read_text() == "old"
    assert not previous.exists()


def test_left_out_csv_matches_plan(demo_outputs, demo_plan):
    left = pd.read_csv(demo_outputs / "left_out.csv", dtype={schema.DOOR_ID: str})
    assert len(left) == len(demo_plan.left_out)
