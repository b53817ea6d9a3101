from __future__ import annotations

from pathlib import Path

import pytest

from canvass.config import PlanConfig, RouteParams, TurfParams, UniverseParams
from canvass.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "canvass.example.toml"


def test_defaults_are_valid():
    config = PlanConfig()
    assert config.walk.speed_m_s == 1.2
    assert config.turf.shift_s == 7200
    assert config.target.universe in config.universes


def test_example_file_loads_and_equals_defaults():
    """canvass.example.toml documents the defaults; it must stay in sync with them."""
    config = PlanConfig.from_toml(EXAMPLE)
    default = PlanConfig()
    for section in ("walk", "turf", "route", "score", "target", "lift", "output"):
        assert getattr(config, section) == getattr(default, section), section
    assert config.universes == default.universes


def test_example_file_is_generated_from_the_code():
    """`make example-config` rewrites it; a new setting must show up there."""
    from canvass._toml import example_toml

    assert EXAMPLE.read_text(encoding="utf-8") == example_toml(PlanConfig()), (
        "canvass.example.toml is out of date: run `make example-config`"
    )


def test_omitted_keys_keep_defaults(tmp_path):
    path = tmp_path / "canvass.toml"
    path.write_text(
        'seed = 5\n[turf]\nshift_s = 5400\n[inputs]\nvoters = ["v/*.txt"]\n'
    )
    config = PlanConfig.from_toml(path)
    assert config.seed == 5
    assert config.turf == TurfParams(shift_s=5400)
    assert config.route == RouteParams()
    assert config.inputs.voters == ("v/*.txt",)
    assert config.resolve("v/x.txt") == tmp_path / "v" / "x.txt"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[turf]\nmax_door = 3\n", r"unknown setting\(s\) \['max_door'\] in \[turf\]"),
        ("[turfs]\n", r"unknown setting\(s\) \['turfs'\] in the top level"),
        ("[turf]\nshift_s = 'two hours'\n", "`turf.shift_s` must be a whole number"),
        ("[turf]\nshift_s = 0\n", "`turf.shift_s` must be greater than 0"),
        ("[walk]\nspeed_m_s = -1\n", "`walk.speed_m_s` must be greater than 0"),
        ("[turf]\ndrive_m_s = 0\n", "`turf.drive_m_s` must be greater than 0"),
        ("[turf]\npark_s = -5\n", "`turf.park_s` must be at least 0"),
        ("[turf]\ncar_legs = 'yes'\n", "must be true or false"),
        ("[lift]\ncontact_rate = 1.5\n", "`lift.contact_rate` must be between 0 and 1"),
        ("[inputs]\nvoter_format = 'tx'\n", "`inputs.voter_format` must be one of"),
        ("[target]\nuniverse = 'nobody'\n", r"add \[universes.nobody\]"),
        ("seed = \n", "not valid TOML"),
        ("[route]\nopen_routes = 1\n", "must be true or false"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, text, match):
    path = tmp_path / "canvass.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        PlanConfig.from_toml(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_universe_bounds_checked():
    with pytest.raises(ConfigError, match="min_p"):
        UniverseParams(kind="band", min_p=0.7, max_p=0.2)


def test_config_round_trips_to_plain_data():
    data = PlanConfig().to_dict()
    assert data["walk"]["crossing_m"]["primary"] == 100.0
    assert isinstance(data["universes"]["drop_off"], dict)


def test_missing_config_file_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        PlanConfig.from_toml(tmp_path / "nope.toml")
