"""`canvass run` and `canvass match` with a [supporters] list over the test town."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from canvass.cli import cli
from canvass.config import PlanConfig
from canvass.load import load_voter_file
from canvass.target import lookalikes


def _write_list(config: PlanConfig, path: Path) -> pd.DataFrame:
    """A list of 120 of the town's voters (every 4th a volunteer) and 10 strangers."""
    voters = load_voter_file(config).voters
    rng = np.random.default_rng(2)
    pick = voters.iloc[rng.choice(len(voters), size=120, replace=False)]
    rows = pd.DataFrame(
        {
            "first_name": pick["first_name"].str.title(),
            "last_name": pick["last_name"].str.title(),
            "email": [f"s{i}@example.org" for i in range(len(pick))],
            "zip_code": pick["zip5"],
            "can2_user_address": pick["street_number"] + " " + pick["street_name"],
            "dob": pick["birth_date"].dt.strftime("%m/%d/%Y"),
            "can2_user_tags": ["volunteer" if i % 4 == 0 else "" for i in range(120)],
            "has_car": ["yes" if i % 8 == 0 else "" for i in range(120)],
        }
    )
    strangers = pd.DataFrame(
        {
            "first_name": [f"Zed{i}" for i in range(10)],
            "last_name": ["Nobody"] * 10,
            "email": [f"z{i}@example.org" for i in range(10)],
            "zip_code": ["99999"] * 10,
        }
    )
    out = pd.concat([rows, strangers], ignore_index=True)
    out.to_csv(path, index=False)
    return pick


@pytest.fixture(scope="module")
def supporter_run(demo_config: PlanConfig, tmp_path_factory: pytest.TempPathFactory):
    from canvass.outputs import write_plan
    from canvass.pipeline import run

    folder = tmp_path_factory.mktemp("supporters")
    pick = _write_list(demo_config, folder / "supporters.csv")
    config = dataclasses.replace(
        demo_config,
        supporters=dataclasses.replace(
            demo_config.supporters, files=(str(folder / "supporters.csv"),)
        ),
        target=dataclasses.replace(demo_config.target, universe="supporter_households"),
    )
    plan = run(config)
    out = folder / "run"
    write_plan(plan, out)
    return plan, pick, out, config


def test_run_targets_supporters_and_their_households(supporter_run: Any):
    plan, pick, _, _ = supporter_run
    voters = plan.voters
    assert voters.loc[pick.index, "is_supporter"].mean() > 0.9
    targets = voters[voters["is_target"]]
    assert len(targets) > 0
    assert targets["supporter_household"].all()
    assert plan.precinct_table["supporters"].sum() == voters["is_supporter"].sum()
    assert plan.summary()["supporters"]["matched"] >= 110


def test_run_folder_has_the_match_files_and_no_contacts_on_walk_lists(
    supporter_run: Any,
):
    _, _, out, _ = supporter_run
    for name in ("matches.csv", "review.csv", "unmatched.csv", "volunteers.csv"):
        assert (out / "supporters" / name).exists(), name
    roster = pd.read_csv(out / "supporters" / "volunteers.csv", dtype=str).fillna("")
    assert len(roster) >= 25
    assert roster["nearest_turfs"].str.len().gt(0).mean() > 0.8
    assert set(roster["has_car"]) <= {"yes", "no", ""}
    walk = (out / "walklists" / "all.csv").read_text(encoding="utf-8-sig")
    assert "@example.org" not in walk
    assert "supporters" in (out / "turf_map.html").read_text()


def test_lookalikes_follow_supporter_share():
    voters = pd.DataFrame(
        {
            "precinct_id": ["1A"] * 40 + ["2B"] * 40,
            "party": ["D"] * 80,
            "birth_year": [1960] * 80,
            "is_supporter": [True] * 20 + [False] * 20 + [True] * 1 + [False] * 39,
        }
    )
    like = lookalikes(voters, 1.5)
    assert like.iloc[:40].all()
    assert not like.iloc[40:].any()


def test_match_command(supporter_run: Any, tmp_path: Path):
    _, _, _, config = supporter_run
    toml = tmp_path / "canvass.toml"
    inputs = config.inputs
    toml.write_text(
        "[inputs]\n"
        f'voter_format = "{inputs.voter_format}"\n'
        f"voters = {[str(config.resolve(v)) for v in inputs.voters]}\n".replace(
            "'", '"'
        )
        + f"history = {[str(config.resolve(v)) for v in inputs.history]}\n".replace(
            "'", '"'
        )
        + "[supporters]\n"
        + f'files = ["{config.supporters.files[0]}"]\n'
    )
    result = CliRunner().invoke(cli, ["match", "--config", str(toml), "--out",
                                      str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Supporters: matched" in result.stdout
    assert (tmp_path / "m" / "match_report.json").exists()
    empty = tmp_path / "empty.toml"
    empty.write_text("[inputs]\n")
    result = CliRunner().invoke(cli, ["match", "--config", str(empty)])
    assert result.exit_code == 1
    assert "no supporter list" in result.output
