"""The doors for the next shift: best value per minute of work, to fill the shift."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from canvass import schema
from canvass.config import CampaignParams, PlanConfig
from canvass.results import LAST_RESULT, NO_TIME, choose_doors, door_work_s


def _config(volunteers: int, shift_s: int = 3600) -> PlanConfig:
    base = PlanConfig()
    return dataclasses.replace(
        base,
        campaign=CampaignParams(shift_volunteers=volunteers),
        turf=dataclasses.replace(base.turf, shift_s=shift_s),
    )


def _town(
    doors: dict[str, tuple[float, float, float]],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Doors {id: (x, y, value)} in metres, one target voter each."""
    ids = list(doors)
    frame = gpd.GeoDataFrame(
        {
            schema.N_TARGETS: 1,
            schema.VALUE: [doors[d][2] for d in ids],
        },
        geometry=[shapely.Point(doors[d][0], doors[d][1]) for d in ids],
        index=pd.Index(ids, name=schema.DOOR_ID),
        crs="EPSG:26986",
    )
    voters = pd.DataFrame(
        {
            schema.DOOR_ID: ids,
            schema.IS_TARGET: True,
            schema.LIFT: [doors[d][2] for d in ids],
            LAST_RESULT: "",
        },
        index=pd.Index([f"V{d}" for d in ids], name=schema.VOTER_ID),
    )
    return frame, voters


def _street(n: int, value: float, x0: float = 0.0, gap: float = 20.0) -> dict:
    return {f"S{i}": (x0 + gap * i, 0.0, value) for i in range(n)}


def test_no_shift_volunteers_keeps_every_door() -> None:
    doors, voters = _town(_street(30, 0.01))
    out_d, out_v, left, report = choose_doors(doors, voters, _config(0))
    assert left.empty
    assert (out_d[schema.N_TARGETS] == 1).all()
    assert out_v[schema.IS_TARGET].all()
    assert report[NO_TIME] == 0


def test_the_shift_is_filled_best_value_per_minute_first() -> None:
    # 60 doors 20 m apart on one street, values rising along it: one volunteer-hour
    # holds about 60 * 3600 / (90 + 28) ~ 30 of them
    street = {f"S{i}": (20.0 * i, 0.0, 0.001 * (i + 1)) for i in range(60)}
    doors, voters = _town(street)
    cfg = _config(1)
    out_d, out_v, left, report = choose_doors(doors, voters, cfg)
    kept = out_d.index[out_d[schema.N_TARGETS] > 0]
    assert 25 <= len(kept) <= 35
    assert set(kept) == {f"S{i}" for i in range(60 - len(kept), 60)}  # the best
    assert set(left[schema.DOOR_ID]) == set(doors.index) - set(kept)
    assert (left[schema.REASON] == NO_TIME).all()
    assert report["doors_chosen"] == len(kept)
    assert report[NO_TIME] == 60 - len(kept)
    # the chosen work fills the hour, not more
    xy = np.column_stack([doors.geometry.x, doors.geometry.y])
    work = door_work_s(xy, doors.index.isin(kept), cfg)
    assert 3600 - work.max() <= work[doors.index.isin(kept)].sum() <= 3600
    gone = voters[schema.DOOR_ID].isin(left[schema.DOOR_ID])
    assert not out_v.loc[gone, schema.IS_TARGET].any()
    assert (out_v.loc[gone, schema.LIFT] == 0).all()
    assert out_v.loc[~gone, schema.IS_TARGET].all()
    assert (out_d.loc[left[schema.DOOR_ID], schema.VALUE] == 0).all()


def test_a_lone_door_must_be_worth_its_walk() -> None:
    # a street of 40 doors worth 0.01 each, and one door worth 0.015 a kilometre
    # away: per knock it is the best door, per minute of work the worst
    town = {**_street(40, 0.01), "FAR": (0.0, 1000.0, 0.015)}
    doors, voters = _town(town)
    out_d, _, left, _ = choose_doors(doors, voters, _config(1))
    assert "FAR" in set(left[schema.DOOR_ID])
    # the same door among the street's doors is chosen first
    town["FAR"] = (390.0, 5.0, 0.015)
    doors, voters = _town(town)
    out_d, _, left, _ = choose_doors(doors, voters, _config(1))
    assert "FAR" not in set(left[schema.DOOR_ID])
    assert out_d.loc["FAR", schema.N_TARGETS] == 1


def test_a_voter_who_asked_to_come_back_is_kept() -> None:
    street = {f"S{i}": (20.0 * i, 0.0, 0.001 * (i + 1)) for i in range(60)}
    doors, voters = _town(street)
    voters.loc["VS0", LAST_RESULT] = "COME_BACK"  # the least valuable door
    out_d, _, left, _ = choose_doors(doors, voters, _config(1))
    assert "S0" not in set(left[schema.DOOR_ID])
    assert out_d.loc["S0", schema.N_TARGETS] == 1


def test_more_volunteers_than_doors_keeps_them_all() -> None:
    doors, voters = _town(_street(10, 0.01))
    _, _, left, report = choose_doors(doors, voters, _config(3))
    assert left.empty
    assert report["doors_chosen"] == 10
    assert report["work_h"] < report["shift_h"]


@pytest.mark.parametrize("volunteers", [1, 2])
def test_doors_of_no_value_are_not_chosen(volunteers: int) -> None:
    town = {**_street(5, 0.01), "ZERO": (50.0, 1.0, 0.0)}
    doors, voters = _town(town)
    _, _, left, report = choose_doors(doors, voters, _config(volunteers))
    assert report["doors_chosen"] == 5
    assert "ZERO" not in set(left[schema.DOOR_ID])  # not a candidate at all


def test_doors_off_the_street_or_without_a_place_are_not_chosen() -> None:
    doors, voters = _town(_street(40, 0.01))
    doors[schema.EDGE_U] = 1.0
    doors.loc["S5", schema.EDGE_U] = np.nan  # not snapped: the cut cannot walk it
    doors.loc["S6", "geometry"] = None
    doors.loc["S7", schema.VALUE] = 1.0  # the best door, but unplaced
    doors.loc["S7", "geometry"] = None
    out_d, _, left, report = choose_doors(doors, voters, _config(1))
    gone = set(left[schema.DOOR_ID])
    assert not {"S5", "S6", "S7"} & gone  # not candidates: not counted as no_time
    assert report["doors_chosen"] + report[NO_TIME] == 37
    assert out_d.loc["S7", schema.N_TARGETS] == 1  # left as it was


def test_the_run_chooses_the_shift_s_doors(campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Through the pipeline: one volunteer's shift gets the doors best per minute,
    the rest are left out for ``no_time`` and listed in left_out."""
    from canvass.pipeline import run

    config = campaign.copy(tmp_path)
    one = dataclasses.replace(
        config, campaign=dataclasses.replace(config.campaign, shift_volunteers=1)
    )
    plan = run(one)
    replan = plan.summary()["reports"]["history"]["replan"]
    chosen = replan["shift_doors"]
    assert chosen["shift_h"] == round(one.turf.shift_s / 3600, 2)
    assert chosen[NO_TIME] > 0
    assert replan["left_out"][NO_TIME] == chosen[NO_TIME]
    gone = set(plan.left_out.loc[plan.left_out[schema.REASON] == NO_TIME, "door_id"])
    assert len(gone) == chosen[NO_TIME]
    assert not gone & set(plan.stops[schema.DOOR_ID])
    assert len(set(plan.stops[schema.DOOR_ID])) <= chosen["doors_chosen"]
