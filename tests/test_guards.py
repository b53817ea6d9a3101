from __future__ import annotations

import dataclasses

import pytest

from canvass.config import PlanConfig, TurfParams, WalkParams
from canvass.errors import ConfigError, InputError
from canvass.guards import MAX_TURF_DOORS, preflight


def _config(tmp_path, **sections) -> PlanConfig:
    (tmp_path / "streets.osm").write_text("<osm/>")
    (tmp_path / "p.geojson").write_text("{}")
    (tmp_path / "VOT.txt").write_text("x")
    base = PlanConfig.from_dict(
        {
            "base_dir": str(tmp_path),
            "inputs": {
                "voters": ["VOT.txt"],
                "precincts": "p.geojson",
                "streets": "streets.osm",
            },
        }
    )
    return dataclasses.replace(base, **sections)


def test_sane_settings_pass(tmp_path):
    preflight(_config(tmp_path))


def test_missing_inputs_are_all_named(tmp_path):
    config = _config(tmp_path)
    config = dataclasses.replace(
        config,
        inputs=dataclasses.replace(
            config.inputs, streets="gone.osm", history=("hist/*.txt",)
        ),
    )
    with pytest.raises(InputError) as info:
        preflight(config)
    text = str(info.value)
    assert "`inputs.streets`" in text
    assert "`inputs.history` pattern" in text


def test_shift_shorter_than_a_door_is_refused(tmp_path):
    config = _config(tmp_path, turf=TurfParams(shift_s=60), walk=WalkParams(door_s=90))
    with pytest.raises(ConfigError, match=r"`turf.shift_s` = 60 s is not longer"):
        preflight(config)


def test_turf_too_large_for_the_solver_names_the_numbers(tmp_path):
    config = _config(
        tmp_path,
        turf=TurfParams(shift_s=36_000, volunteers_per_turf=10),
        walk=WalkParams(door_s=30),
    )
    with pytest.raises(ConfigError) as info:
        preflight(config)
    text = str(info.value)
    assert "12,000 doors" in text
    assert f"({MAX_TURF_DOORS:,})" in text
    assert "`turf.volunteers_per_turf`" in text


def test_matrices_that_would_not_fit_in_memory(tmp_path):
    config = _config(tmp_path)  # 80 doors a turf, 2 workers
    preflight(config, memory_bytes=2**30)
    with pytest.raises(ConfigError, match=r"set `route.workers` to 1"):
        preflight(config, memory_bytes=2 * 2 * 24 * 81**2 - 1)
