"""Issue 20 item 1: a door placed only at a precinct centre is never routed silently."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from canvass import geocode, load, schema
from canvass.cli import cli
from canvass.config import PlanConfig
from canvass.outputs import write_plan
from canvass.pipeline import run


def _imaginary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every 10th voter of the test town live at an address nothing knows."""
    real = load.load_voter_file

    def messy(config: PlanConfig) -> Any:
        result = real(config)
        voters = result.voters.copy()
        rows = voters.index[::10]
        voters.loc[rows, schema.STREET_NAME] = "IMAGINARY BLVD"
        voters.loc[rows, schema.STREET_NUMBER] = [
            str(77 + 2 * i) for i in range(len(rows))
        ]
        return dataclasses.replace(result, voters=voters)

    monkeypatch.setattr(load, "load_voter_file", messy)


@pytest.fixture(scope="module")
def plans(demo_config: PlanConfig) -> tuple[Any, Any]:
    with pytest.MonkeyPatch.context() as mp:
        _imaginary(mp)
        left = run(demo_config)
        routed = run(
            dataclasses.replace(
                demo_config,
                geocode=dataclasses.replace(demo_config.geocode, route_centroids=True),
            )
        )
    return left, routed


def _centre_targets(plan: Any) -> pd.Index:
    doors = plan.doors
    return doors.index[
        (doors[schema.GEOCODE_METHOD] == "centroid") & (doors[schema.N_TARGETS] > 0)
    ]


def test_centroid_doors_are_left_out_with_the_reason(plans, tmp_path) -> None:
    plan, _ = plans
    centre = _centre_targets(plan)
    assert len(centre) > 0
    assert set(centre).isdisjoint(plan.stops[schema.DOOR_ID])
    left = plan.left_out.set_index(schema.DOOR_ID)
    assert not plan.left_out[schema.DOOR_ID].duplicated().any()
    assert (left.loc[centre, schema.REASON] == "address_not_found").all()
    assert left.loc[centre, schema.DETAIL].str.contains("verify").all()
    schema.validate_left_out(plan.left_out)
    # every target door is still routed once or left out with a reason
    targets = set(plan.target_doors.index)
    assert set(plan.stops[schema.DOOR_ID]) | set(left.index) == targets
    assert plan.reports["turf"]["address_not_found"] == len(centre)

    out = tmp_path / "run"
    write_plan(plan, out)
    verify = pd.read_csv(out / "verify_addresses.csv", dtype="str")
    assert set(verify[schema.DOOR_ID]) == set(centre)
    assert verify[schema.ADDRESS].str.contains("IMAGINARY BLVD").all()
    assert (verify["routed"] == "False").all()
    assert verify[schema.GEOCODE_DETAIL].str.startswith("street_not_found").all()
    assert "verify_addresses.csv" in (out / "index.html").read_text()


def test_route_centroids_routes_them_marked(plans) -> None:
    _, plan = plans
    centre = _centre_targets(plan)
    assert len(centre) > 0
    assert "address_not_found" not in set(plan.left_out[schema.REASON])
    routed = set(plan.stops[schema.DOOR_ID])
    assert routed & set(centre)
    assert (
        plan.doors.loc[centre, schema.ADDRESS]
        .str.endswith(geocode.UNVERIFIED_MARK)
        .all()
    )


def test_geocode_command_needs_no_streets_with_address_points(
    demo_town: Any, tmp_path
) -> None:
    config = demo_town.config.read_text()
    no_streets = "\n".join(
        line for line in config.splitlines() if not line.startswith("streets")
    )
    path = demo_town.config.parent / "no_streets.toml"
    path.write_text(no_streets + "\n")
    out = tmp_path / "geo"
    res = CliRunner().invoke(cli, ["geocode", "--config", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    voters = pd.read_parquet(out / "voters_geocoded.parquet")
    assert (voters[schema.GEOCODE_METHOD] == "address_point").mean() > 0.9
    assert voters[schema.GEOCODE_DETAIL].ne("").all()
    # without address points either, the streets are still asked for
    bare = "\n".join(
        line
        for line in no_streets.splitlines()
        if not line.startswith("address_points")
    )
    path.write_text(bare + "\n")
    res = CliRunner().invoke(cli, ["geocode", "--config", str(path), "--out", str(out)])
    assert res.exit_code != 0
    assert "inputs.streets" in res.output
