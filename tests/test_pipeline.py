"""End-to-end checks of one planning run over the small demo town (issue 2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from canvass import schema
from canvass.config import PlanConfig
from canvass.errors import InputError
from canvass.pipeline import run


def test_plan_tables_follow_the_schema(demo_plan):
    schema.validate_voters(demo_plan.voters)
    schema.validate_history(demo_plan.history)
    schema.validate_precincts(demo_plan.precincts)
    schema.validate_doors(demo_plan.doors, also=[schema.TURF_ID, schema.N_TARGETS])
    schema.validate_turfs(demo_plan.turfs)
    schema.validate_stops(demo_plan.stops)
    schema.validate_routes(demo_plan.routes)
    schema.validate_left_out(demo_plan.left_out)


def test_every_target_door_is_routed_once_or_left_out_with_reason(demo_plan):
    targets = set(demo_plan.target_doors.index)
    routed = demo_plan.stops[schema.DOOR_ID]
    left = demo_plan.left_out[schema.DOOR_ID]
    assert not routed.duplicated().any()
    assert not left.duplicated().any()
    assert set(routed).isdisjoint(set(left))
    assert set(routed) | set(left) == targets
    assert demo_plan.left_out[schema.REASON].isin(schema.LEFT_OUT_REASONS).all()


def test_plan_has_real_work_in_it(demo_plan):
    summary = demo_plan.summary()
    assert summary["voters"] > 500
    assert 0 < summary["targets"] < summary["voters"]
    assert summary["turfs"] >= 2
    assert summary["volunteers"] >= summary["turfs"]
    # most target doors get routed in a town this small
    assert summary["doors_routed"] >= 0.8 * summary["doors"]


def test_routes_keep_their_shift(demo_plan):
    limit = demo_plan.config.turf.shift_s
    assert (demo_plan.routes[schema.TOTAL_S] <= limit).all()


def test_summary_is_json_and_pii_free(demo_plan):
    text = json.dumps(demo_plan.summary(), default=str)
    voters = demo_plan.voters
    full_names = (
        voters[schema.FIRST_NAME] + " " + voters[schema.LAST_NAME]
    ).str.upper()
    upper = text.upper()
    assert not any(name in upper for name in full_names.head(300))


def test_targeting_only_touches_the_universe(demo_plan):
    targets = demo_plan.voters[demo_plan.voters[schema.IS_TARGET]]
    assert (targets[schema.SUPPRESSED] == "").all()
    assert (targets[schema.LIFT] > 0).all()
    doors = demo_plan.doors
    counted = targets.groupby("door_id").size()
    pd.testing.assert_series_equal(
        doors.loc[counted.index, schema.N_TARGETS].astype(int),
        counted.astype(int),
        check_names=False,
    )


def test_missing_inputs_are_reported_before_work():
    with pytest.raises(InputError, match=r"inputs\.precincts"):
        run(PlanConfig())


def test_every_voter_has_a_town_even_without_history(demo_plan):
    """MA VOT files carry no residential town; new registrants get their file's."""
    voters = demo_plan.voters
    assert voters[schema.IS_NEW_REGISTRANT].any()
    assert (voters[schema.CITY] != "").all()


def test_summary_says_when_no_vote_history_was_loaded() -> None:
    import dataclasses

    import geopandas as gpd

    from canvass.pipeline import Plan

    warning = "No vote history loaded: no history file or history columns were given."
    doors = pd.DataFrame(
        {schema.N_TARGETS: [1], schema.VALUE: [0.5]}, index=pd.Index(["d1"])
    )
    plan = Plan(
        config=PlanConfig(),
        voters=pd.DataFrame({schema.IS_TARGET: [True, False]}),
        history=pd.DataFrame(),
        elections=pd.DataFrame(),
        precincts=gpd.GeoDataFrame(),
        doors=gpd.GeoDataFrame(doors),
        turfs=gpd.GeoDataFrame(index=pd.Index(["t1"])),
        stops=pd.DataFrame({schema.DOOR_ID: ["d1"]}),
        routes=gpd.GeoDataFrame({schema.WALK_M: [300.0]}),
        left_out=pd.DataFrame(
            columns=[schema.DOOR_ID, schema.REASON, schema.VALUE, schema.DETAIL]
        ),
        precinct_table=pd.DataFrame(),
        reports={"load": {"warnings": [warning]}},
    )
    assert plan.summary()["warnings"] == [warning]
    quiet = dataclasses.replace(plan, reports={"load": {}})
    assert "warnings" not in quiet.summary()
