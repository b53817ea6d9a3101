"""Re-planning by the value of the next knock: P(contact) by attempt, the cap, come
back, the time slot, learning from the campaign's results, stable turf names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import Campaign

from canvass import schema
from canvass.config import CampaignParams, OutputParams, PlanConfig
from canvass.errors import ConfigError
from canvass.results import (
    P_CONTACT,
    door_visits,
    fit_contact_model,
    import_results,
    keep_turf_ids,
    next_knock,
    settle_turfs,
)
from canvass.turf import TURF_ORDER

P = "p_state_primary"
SAT = "2026-09-12T11:00:00-04:00"  # a Saturday, day
SAT2 = "2026-09-19T11:00:00-04:00"
SAT3 = "2026-09-26T11:00:00-04:00"
WED = "2026-09-16T18:30:00-04:00"  # a Wednesday, evening


def _config(**campaign: object) -> PlanConfig:
    date = str(campaign.pop("date", ""))
    return dataclasses.replace(
        PlanConfig(),
        campaign=CampaignParams(**campaign),  # type: ignore[arg-type]
        output=OutputParams(date=date),
    )


def _voters(p: dict[str, float] | None = None) -> pd.DataFrame:
    """Five targets: D1 (two voters), D2, D3, D4, all at P(vote) 0.5 by default."""
    doors = {"V1": "D1", "V2": "D1", "V3": "D2", "V4": "D3", "V5": "D4"}
    out = pd.DataFrame(
        {
            schema.DOOR_ID: list(doors.values()),
            schema.IS_TARGET: True,
            schema.SUPPRESSED: "",
            schema.LIFT: 0.0225,
            P: [0.5] * len(doors),
        },
        index=pd.Index(list(doors), name=schema.VOTER_ID),
    )
    for v, value in (p or {}).items():
        out.loc[v, P] = value
    return out


def _events(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """(door, time, result) for every voter of the door."""
    doors = _voters()[schema.DOOR_ID]
    out = [
        {"voter_id": v, "door_id": d, "result": r, "contacted_at": t}
        for d, t, r in rows
        for v in doors.index[doors == d]
    ]
    return pd.DataFrame(out, columns=["voter_id", "door_id", "result", "contacted_at"])


def _p(voters: pd.DataFrame, door: str) -> float:
    return float(voters.loc[voters[schema.DOOR_ID] == door, P_CONTACT].iloc[0])


def test_no_history_keeps_the_lift_of_targeting() -> None:
    out, left, report = next_knock(_voters(), _config(), _events())
    # P(contact) = lift.contact_rate, so lift = effect x 0.25 as targeting gave it
    assert np.allclose(out[P_CONTACT], 0.25)
    assert np.allclose(out[schema.LIFT], 0.09 * 0.25)
    assert left.empty
    assert report["doors_new"] == 4
    assert report["doors_reknock"] == 0


def test_the_value_falls_after_each_not_home() -> None:
    events = _events(
        ("D1", SAT, "NOT_HOME"), ("D3", SAT, "NOT_HOME"), ("D3", SAT2, "NOT_HOME")
    )
    out, left, report = next_knock(_voters(), _config(), events)
    fresh, once, twice = _p(out, "D2"), _p(out, "D1"), _p(out, "D3")
    assert fresh > once > twice > 0
    lift = out.groupby(schema.DOOR_ID)[schema.LIFT].first()
    assert lift["D2"] > lift["D1"] > lift["D3"]
    assert left.empty
    assert report["doors_reknock"] == 2
    assert report["doors_new"] == 2


def test_the_cap_drops_a_door() -> None:
    events = _events(
        ("D1", SAT, "NOT_HOME"), ("D1", SAT2, "NOT_HOME"), ("D1", SAT3, "NOT_HOME")
    )
    out, left, report = next_knock(_voters(), _config(), events)
    assert left[schema.REASON].tolist() == ["attempt_cap"]
    assert left[schema.DOOR_ID].tolist() == ["D1"]
    d1 = out[schema.DOOR_ID] == "D1"
    assert not out.loc[d1, schema.IS_TARGET].any()
    assert (out.loc[d1, schema.SUPPRESSED] == "attempt_cap").all()
    assert (out.loc[d1, schema.LIFT] == 0).all()
    assert report["left_out"]["attempt_cap"] == 1
    # a higher cap keeps it
    out4, left4, _ = next_knock(_voters(), _config(max_attempts=4), events)
    assert left4.empty
    assert out4.loc[d1, schema.IS_TARGET].all()


def test_come_back_is_honoured() -> None:
    events = _events(("D2", SAT, "COME_BACK"), ("D1", SAT, "NOT_HOME"))
    # the next shift is the same Saturday, same slot: not now
    same = _config(next_slot="weekend_day", date="2026-09-12")
    out, left, report = next_knock(_voters(), same, events)
    assert left.set_index(schema.DOOR_ID)[schema.REASON].to_dict() == {
        "D2": "come_back_later"
    }
    assert not out.loc["V3", schema.IS_TARGET]
    assert out.loc["V3", schema.SUPPRESSED] == ""  # still to reach, later
    assert report["left_out"]["come_back_later"] == 1
    # that evening (another slot) or another day: back, and worth more than a
    # fresh door, since someone there answers
    for cfg in (
        _config(next_slot="weekday_evening", date="2026-09-12"),
        _config(next_slot="weekend_day", date="2026-09-13"),
    ):
        out, left, _ = next_knock(_voters(), cfg, events)
        assert left.empty
        assert _p(out, "D2") > _p(out, "D4") > _p(out, "D1")


def _asked(events: pd.DataFrame, door: str, when: str) -> pd.DataFrame:
    """`events` with the time `door`'s come-back asked for (``come_back``)."""
    out = events.assign(come_back="")
    hit = (out["door_id"] == door) & (out["result"] == "COME_BACK")
    out.loc[hit, "come_back"] = when
    return out


def test_a_come_back_time_is_honoured() -> None:
    """A day asked for keeps the door out before it and brings it in on it."""
    base = _events(("D2", SAT, "COME_BACK"), ("D1", SAT, "NOT_HOME"))
    events = _asked(base, "D2", "2026-09-19")
    wed = _config(next_slot="weekday_evening", date="2026-09-16")
    out, left, report = next_knock(_voters(), wed, events)
    row = left.set_index(schema.DOOR_ID).loc["D2"]
    assert row[schema.REASON] == "come_back_later"
    assert row[schema.DETAIL] == "asked to come back 2026-09-19"
    assert not out.loc["V3", schema.IS_TARGET]
    # without the time, that Wednesday evening would have had it
    out, left, _ = next_knock(_voters(), wed, base)
    assert left.empty
    # on the day asked for it is in, and counted as due
    sat = _config(next_slot="weekend_day", date="2026-09-19")
    out, left, report = next_knock(_voters(), sat, events)
    assert left.empty
    assert out.loc["V3", schema.IS_TARGET]
    assert report["come_back_due"] == 1
    # a slot asked for: not on a weekday evening, yes on a weekend day
    slot = _asked(base, "D2", "weekend_day")
    _, left, _ = next_knock(_voters(), wed, slot)
    assert left[schema.DOOR_ID].tolist() == ["D2"]
    _, left, _ = next_knock(_voters(), sat, slot)
    assert left.empty
    # a time of day: 18:30 is evening (campaign.evening_hour 17)
    evening = _asked(base, "D2", "18:30")
    _, left, _ = next_knock(_voters(), wed, evening)
    assert left.empty
    _, left, _ = next_knock(_voters(), sat, evening)
    assert left[schema.DOOR_ID].tolist() == ["D2"]


def test_a_come_back_due_beats_the_cap_and_low_value_up_to_the_ceiling() -> None:
    knocks = [("D4", t, "NOT_HOME") for t in (SAT, WED, SAT2)]
    due = _asked(_events(*knocks, ("D4", SAT3, "COME_BACK")), "D4", "weekend_day")
    low = {"V5": 0.03}  # a small effect: D4 would be low_value
    sat = _config(next_slot="weekend_day", date="2026-10-03")
    out, left, report = next_knock(_voters(low), sat, due)
    assert left.empty, left
    assert out.loc["V5", schema.IS_TARGET]
    assert report["come_back_due"] == 1
    # another slot than asked for: out of this shift, not finished at the cap
    _, left, _ = next_knock(_voters(low), _config(next_slot="weekday_evening"), due)
    assert left[schema.REASON].tolist() == ["come_back_later"]
    no_time = _asked(due, "D4", "")
    _, left, _ = next_knock(_voters(low), sat, no_time)
    assert left[schema.REASON].tolist() == ["attempt_cap"]
    # past max_attempts + CAP_CEILING_EXTRA knocks even a due door stays out
    more = [("D4", f"2026-10-0{d}T11:00:00-04:00", "NOT_HOME") for d in (1, 2)]
    over = _asked(
        _events(*knocks, *more, ("D4", SAT3, "COME_BACK")), "D4", "weekend_day"
    )
    _, left, report = next_knock(_voters(low), sat, over)
    assert left[schema.REASON].tolist() == ["attempt_cap"]
    assert report["come_back_due"] == 0


def test_each_person_s_own_answers_count() -> None:
    """At a door of two households the one that answered is likely in, the other not."""
    events = pd.DataFrame(
        [
            {"voter_id": "V1", "door_id": "D1", "result": "COME_BACK"},
            {"voter_id": "V2", "door_id": "D1", "result": "NOT_HOME"},
            {"voter_id": "V3", "door_id": "D2", "result": "NOT_HOME"},
        ]
    ).assign(contacted_at=SAT)
    out, _, _ = next_knock(_voters(), _config(), events)
    p = out[P_CONTACT]
    assert p["V1"] > p["V5"] > p["V2"]  # V5: a door never knocked
    assert p["V2"] == pytest.approx(p["V3"])  # V2's own history: one not-home
    # a voter with no row of their own takes the door's history
    alone = events[events["voter_id"] != "V2"]
    out, _, _ = next_knock(_voters(), _config(), alone)
    assert out.loc["V2", P_CONTACT] == pytest.approx(out.loc["V1", P_CONTACT])


def test_a_slot_not_yet_tried_is_preferred() -> None:
    events = _events(("D1", SAT, "NOT_HOME"), ("D3", WED, "NOT_HOME"))
    sat, _, _ = next_knock(_voters(), _config(next_slot="weekend_day"), events)
    wed, _, _ = next_knock(_voters(), _config(next_slot="weekday_evening"), events)
    assert _p(sat, "D3") > _p(sat, "D1")  # D3 was tried on a weekday evening only
    assert _p(wed, "D1") > _p(wed, "D3")
    # no slot named: a not-home is a not-home
    anyslot, _, _ = next_knock(_voters(), _config(), events)
    assert _p(anyslot, "D1") == pytest.approx(_p(anyslot, "D3"))
    # weight 1: other slots count fully
    flat, _, _ = next_knock(
        _voters(), _config(next_slot="weekend_day", other_slot_weight=1.0), events
    )
    assert _p(flat, "D1") == pytest.approx(_p(flat, "D3"))


def test_low_value_doors_are_left_out() -> None:
    out, left, report = next_knock(_voters({"V5": 0.04}), _config(), _events())
    assert left[schema.REASON].tolist() == ["low_value"]
    assert left[schema.DOOR_ID].tolist() == ["D4"]
    assert not out.loc["V5", schema.IS_TARGET]
    assert report["left_out"]["low_value"] == 1
    _, kept, _ = next_knock(
        _voters({"V5": 0.04}), _config(min_value_share=0.0), _events()
    )
    assert kept.empty


def _many_doors(rate1: float, rate2: float, n: int) -> pd.DataFrame:
    """n doors knocked once (rate1 answered), the not-homes again (rate2)."""
    rows = []
    for i in range(n):
        first = "CONTACTED" if i < rate1 * n else "NOT_HOME"
        rows.append((f"X{i}", f"X{i}", first, SAT))
        if first == "NOT_HOME":
            second = (
                "CONTACTED"
                if (i - rate1 * n) < rate2 * n * (1 - rate1)
                else ("NOT_HOME")
            )
            rows.append((f"X{i}", f"X{i}", second, SAT2))
    return pd.DataFrame(rows, columns=["voter_id", "door_id", "result", "contacted_at"])


def test_the_contact_model_learns_from_the_campaign() -> None:
    config = _config()
    prior = fit_contact_model(door_visits(_many_doors(0.5, 0.1, 0)), config)
    assert prior.rates[:3] == pytest.approx((0.25, 0.23, 0.20))
    assert not prior.learnt
    few = fit_contact_model(door_visits(_many_doors(0.5, 0.1, 20)), config)
    many = fit_contact_model(door_visits(_many_doors(0.5, 0.1, 4000)), config)
    assert 0.25 < few.rates[0] < 0.3  # 20 doors barely move the prior
    assert many.rates[0] == pytest.approx(0.5, abs=0.02)
    assert many.rates[1] == pytest.approx(0.1, abs=0.02)
    assert many.learnt
    # a steep fall means households differ a lot: a not-home says more
    assert many.p_home(np.array([0.0]), np.array([1.0]))[0] < 0.2
    # and a door that answered is likely to answer again
    assert many.p_home(np.array([1.0]), np.array([0.0]))[0] > 0.6


def test_the_contact_model_fits_the_households_spread() -> None:
    """Maximum likelihood over every knock finds how much households differ."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(2500):
        p_home = rng.beta(0.75, 2.25)  # mean 0.25, kappa 3: households differ a lot
        for t in (SAT, WED, SAT2, SAT3):
            hit = rng.random() < p_home
            rows.append((f"X{i}", f"X{i}", "CONTACTED" if hit else "NOT_HOME", t))
    events = pd.DataFrame(
        rows, columns=["voter_id", "door_id", "result", "contacted_at"]
    )
    config = _config(other_slot_weight=1.0, prior_weight=50.0)
    model = fit_contact_model(door_visits(events), config)
    assert 2.2 < model.a + model.b < 4.5
    assert model.a / (model.a + model.b) == pytest.approx(0.25, abs=0.03)
    # so a not-home says a lot, and an answer more
    p0, miss, ans = model.p_home(np.array([0.0, 0, 1]), np.array([0.0, 2, 0]))
    assert miss < 0.75 * p0
    assert ans > p0 + 0.15
    # the priors alone (25, 23, 20 %) say households differ little
    prior = fit_contact_model(door_visits(events.iloc[:0]), config)
    assert prior.a + prior.b > 6


def _slot_households(shared: float, n: int, seed: int = 11) -> pd.DataFrame:
    """n households knocked on Saturday, Wednesday evening, Saturday, Wednesday.

    Each household's chance of being in, per slot, is `shared` its own habit
    and the rest particular to the slot (Beta(0.75, 2.25) each)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        habit, sat, wed = rng.beta(0.75, 2.25, size=3)
        p = {
            "sat": shared * habit + (1 - shared) * sat,
            "wed": shared * habit + (1 - shared) * wed,
        }
        for t, slot in ((SAT, "sat"), (WED, "wed"), (SAT2, "sat"), (WED2, "wed")):
            hit = rng.random() < p[slot]
            rows.append((f"X{i}", f"X{i}", "CONTACTED" if hit else "NOT_HOME", t))
    return pd.DataFrame(rows, columns=["voter_id", "door_id", "result", "contacted_at"])


def test_the_other_slot_weight_is_learnt_from_the_campaign() -> None:
    """A not-home in another slot says as much as the campaign's knocks show."""
    # each slot its own: a not-home on Wednesday evening says nothing of Saturday
    apart = _slot_households(0.0, 3000)
    model = fit_contact_model(door_visits(apart), _config(other_slot_weight=1.0))
    assert model.slot_weight <= 0.25
    # one habit in every slot: a not-home is a not-home
    alike = _slot_households(1.0, 3000)
    model = fit_contact_model(door_visits(alike), _config(other_slot_weight=0.0))
    assert model.slot_weight >= 0.75
    # a few households do not move the setting
    few = fit_contact_model(
        door_visits(_slot_households(0.0, 30)), _config(other_slot_weight=1.0)
    )
    assert few.slot_weight == 1.0
    # no knock in two slots: the setting
    assert fit_contact_model(door_visits(apart.iloc[:0]), _config()).slot_weight == 0.5


def test_the_next_knock_uses_the_learnt_slot_weight() -> None:
    """With each slot its own, a door tried only on Wednesday evenings is worth a
    fresh door's knock on Saturday, whatever the setting said."""
    households = _slot_households(0.0, 3000)
    knocked = households.drop_duplicates("voter_id").set_index("voter_id")
    voters = pd.concat(
        [
            _voters(),
            pd.DataFrame(  # the campaign's other voters, all done
                {
                    schema.DOOR_ID: knocked["door_id"],
                    schema.IS_TARGET: False,
                    schema.SUPPRESSED: "",
                    schema.LIFT: 0.0,
                    P: 0.5,
                },
                index=pd.Index(knocked.index, name=schema.VOTER_ID),
            ),
        ]
    )
    events = pd.concat(
        [households, _events(("D1", WED, "NOT_HOME"), ("D1", WED2, "NOT_HOME"))]
    )
    cfg = _config(next_slot="weekend_day", other_slot_weight=1.0)
    out, _, report = next_knock(voters, cfg, events)
    assert report["contact_model"]["other_slot_weight"] <= 0.25
    fresh = _p(out, "D2")
    assert _p(out, "D1") >= 0.9 * fresh  # two weekday misses barely count
    # the same misses on Saturdays count in full
    sat = pd.concat(
        [households, _events(("D1", SAT, "NOT_HOME"), ("D1", SAT2, "NOT_HOME"))]
    )
    out, _, _ = next_knock(voters, cfg, sat)
    assert _p(out, "D1") < 0.9 * fresh


def test_refused_and_moved_are_not_misses() -> None:
    v = door_visits(_events(("D1", SAT, "MOVED"), ("D2", SAT, "REFUSED")))
    row = v.set_index("door_id")
    assert bool(row.loc["D1", "silent"])
    assert not bool(row.loc["D1", "answered"])
    assert bool(row.loc["D2", "answered"])


def test_turf_names_stay_with_their_doors() -> None:
    doors = pd.DataFrame(
        {schema.TURF_ID: ["A-T01", "A-T01", "A-T02", "A-T02", "A-T03", ""]},
        index=pd.Index(["d1", "d2", "d3", "d4", "d5", "d6"], name=schema.DOOR_ID),
    )
    turfs = pd.DataFrame(
        {schema.VALUE: [1.0, 2.0, 3.0]},
        index=pd.Index(["A-T01", "A-T02", "A-T03"], name=schema.TURF_ID),
    )
    # last run: d1, d2 were in A-T02, d3, d4 in A-T01, d6 in A-T03
    previous = pd.Series({"d1": "A-T02", "d2": "A-T02", "d3": "A-T01", "d6": "A-T03"})
    named, named_turfs, report = keep_turf_ids(doors, turfs, previous)
    assert named[schema.TURF_ID].tolist()[:4] == ["A-T02", "A-T02", "A-T01", "A-T01"]
    # A-T03 of this cut shares no door with the last one's A-T03: a new name
    assert named.loc["d5", schema.TURF_ID] not in {"A-T01", "A-T02", "A-T03"}
    assert named.loc["d6", schema.TURF_ID] == ""
    assert sorted(named_turfs.index) == sorted(set(named[schema.TURF_ID]) - {""})
    assert named_turfs.loc["A-T02", schema.VALUE] == 1.0
    assert report == {"turfs_renamed": 3, "doors_again": 3, "doors_same_turf": 3}


def _two_turfs(est_s: float = 3000.0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A-T01 at x = 0-30 m, A-T02 at x = 100-120 m, and m (60 m), f (200 m) in it."""
    xs = {"a1": 0, "a2": 10, "a3": 20, "a4": 30, "b1": 100, "b2": 110, "b3": 120}
    xs |= {"m": 60, "f": 200}
    turf_of = ["A-T01"] * 4 + ["A-T02"] * 5
    doors = gpd.GeoDataFrame(
        {
            schema.TURF_ID: turf_of,
            schema.N_TARGETS: 1,
            schema.VALUE: 0.01,
            TURF_ORDER: [0, 1, 2, 3, 0, 1, 2, 3, 4],
            schema.WALKER: 1,
        },
        geometry=gpd.points_from_xy(list(xs.values()), [0.0] * len(xs)),
        index=pd.Index(list(xs), name=schema.DOOR_ID),
        crs="EPSG:26986",
    )
    turfs = gpd.GeoDataFrame(
        {
            schema.PRECINCT_ID: "A",
            schema.N_DOORS: [4, 5],
            schema.N_TARGETS: [4, 5],
            schema.VALUE: [0.04, 0.05],
            schema.EST_S: est_s,
            "volunteers": 1,
            schema.N_LEGS: 1,
        },
        geometry=[
            doors[doors[schema.TURF_ID] == t].union_all().buffer(30)
            for t in ("A-T01", "A-T02")
        ],
        index=pd.Index(["A-T01", "A-T02"], name=schema.TURF_ID),
        crs="EPSG:26986",
    )
    return doors, turfs


def test_doors_go_back_to_their_turf_where_it_costs_little() -> None:
    doors, turfs = _two_turfs()
    # last run: m and f were in A-T01
    previous = pd.Series(
        dict.fromkeys(("a1", "a2", "a3", "a4", "m", "f"), "A-T01")
        | dict.fromkeys(("b1", "b2", "b3"), "A-T02")
    )
    config = _config(stable_m=40.0)
    out, out_t, report = settle_turfs(doors, turfs, previous, config)
    # m: 30 m from A-T01's nearest door, 40 m from A-T02's: back to A-T01
    assert out.loc["m", schema.TURF_ID] == "A-T01"
    # f: 170 m from A-T01, 80 m from A-T02: more than 40 m farther, stays
    assert out.loc["f", schema.TURF_ID] == "A-T02"
    assert report["doors_moved_back"] == 1
    assert report["doors_same_turf"] == 8
    wp = config.walk
    assert report["extra_walk_s"] == pytest.approx(
        2 * 1.3 * (30 - 40) / wp.speed_m_s, abs=0.1
    )
    assert out.loc["m", TURF_ORDER] == 3  # next to a4, its nearest door there
    assert out_t.loc["A-T01", schema.N_DOORS] == 5
    assert out_t.loc["A-T02", schema.N_DOORS] == 4
    assert out_t.loc["A-T01", schema.VALUE] == pytest.approx(0.05)
    assert out_t.loc["A-T01", schema.EST_S] == round(
        3000 + wp.door_s + 2 * 1.3 * 30 / wp.speed_m_s
    )
    assert out_t.loc["A-T01", "geometry"].contains(out.loc["m", "geometry"])
    assert doors.loc["m", schema.TURF_ID] == "A-T02"  # the input is not changed
    # off, or no room in A-T01: nothing moves
    for cfg, full in ((_config(stable_m=-1.0), 3000.0), (config, 8200.0)):
        d, t = _two_turfs(full)
        same, _, rep = settle_turfs(d, t, previous, cfg)
        assert rep["doors_moved_back"] == 0
        assert same.loc["m", schema.TURF_ID] == "A-T02"
    # a wider slack takes f back too
    wide, _, rep = settle_turfs(doors, turfs, previous, _config(stable_m=100.0))
    assert rep["doors_moved_back"] == 2
    assert set(wide.loc[["m", "f"], schema.TURF_ID]) == {"A-T01"}


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="next_slot"):
        CampaignParams(next_slot="sunday")
    with pytest.raises(ConfigError, match="max_attempts"):
        CampaignParams(max_attempts=0)
    with pytest.raises(ConfigError, match="repeat_contact_rates"):
        CampaignParams(repeat_contact_rates=(0.2, 1.5))
    with pytest.raises(ConfigError, match="other_slot_weight"):
        CampaignParams(other_slot_weight=2.0)


def test_the_next_run_caps_and_reports(campaign: Campaign, tmp_path: Path) -> None:
    """Through the database: three not-homes at a door leave it out of the run."""
    from canvass.pipeline import run

    config = campaign.copy(tmp_path)
    rows = campaign.template()
    door = rows["door_id"].iloc[0]
    at_door = rows[rows["door_id"] == door]
    filled = []
    for day in ("2026-01-03", "2026-01-10", "2026-01-17"):
        filled.append(at_door.assign(date=day, result="NOT_HOME"))
    path = tmp_path / "filled.csv"
    pd.concat(filled).to_csv(path, index=False)
    report = import_results([path], config)
    assert report.totals["imported"] == 3 * len(at_door)
    plan = run(config)
    left = plan.left_out.set_index(schema.DOOR_ID)[schema.REASON]
    assert left.get(door) == "attempt_cap"
    assert door not in set(plan.stops[schema.DOOR_ID])
    replan = plan.summary()["reports"]["history"]["replan"]
    assert replan["left_out"]["attempt_cap"] == 1
    assert replan["doors_reknock"] == 0
    assert replan["doors_new"] + replan["left_out"]["low_value"] >= len(plan.turfs)
    assert replan["turfs"]["doors_again"] > 0
    assert replan["turfs"]["doors_same_turf"] > 0
    assert set(replan["turfs_by_value_per_hour"]) == set(plan.turfs.index)


# --- volunteers to spare (campaign.shift_volunteers) -------------------------------

FRI = "2026-09-18T18:30:00-04:00"  # a Friday, evening
WED2 = "2026-09-23T18:30:00-04:00"


def _town(done: tuple[str, ...] = ()) -> pd.DataFrame:
    """Good doors A1-A4 (P(vote) 0.5), low-value L1 > L2, C1 and C2 (0.5) for caps."""
    p = {"A1": 0.5, "A2": 0.5, "A3": 0.5, "A4": 0.5, "L1": 0.045, "L2": 0.04}
    p |= {"C1": 0.5, "C2": 0.5, "X1": 0.5}
    return pd.DataFrame(
        {
            schema.DOOR_ID: list(p),
            schema.IS_TARGET: [d not in done for d in p],
            schema.SUPPRESSED: "",
            schema.LIFT: 0.0225,
            P: list(p.values()),
        },
        index=pd.Index([f"V{d}" for d in p], name=schema.VOTER_ID),
    )


def _knocks(*rows: tuple[str, str, str]) -> pd.DataFrame:
    out = [
        {"voter_id": f"V{d}", "door_id": d, "result": r, "contacted_at": t}
        for d, t, r in rows
    ]
    return pd.DataFrame(out, columns=["voter_id", "door_id", "result", "contacted_at"])


# C1: three not-homes, the last on a weekday evening; C2: the last on a Saturday
_CAPPED = (
    ("C1", SAT, "NOT_HOME"),
    ("C1", SAT2, "NOT_HOME"),
    ("C1", WED2, "NOT_HOME"),
    ("C2", WED, "NOT_HOME"),
    ("C2", FRI, "NOT_HOME"),
    ("C2", SAT2, "NOT_HOME"),
)


def _targets(out: pd.DataFrame) -> set[str]:
    return set(out.loc[out[schema.IS_TARGET].astype(bool), schema.DOOR_ID])


def test_spare_volunteers_bring_back_low_value_first() -> None:
    cfg = _config(next_slot="weekend_day")
    events = _knocks(*_CAPPED)
    base, left, report = next_knock(_town(), cfg, events)
    reasons = left.set_index(schema.DOOR_ID)[schema.REASON].to_dict()
    assert reasons == {
        "C1": "attempt_cap",
        "C2": "attempt_cap",
        "L1": "low_value",
        "L2": "low_value",
    }
    # C2 was last knocked on a Saturday, the next shift's slot: not in the reserve
    assert report["reserve"] == {"low_value": 2, "attempt_cap": 1}
    assert report["brought_back"] == {"low_value": 0, "attempt_cap": 0}
    # one door of room: the better low-value door, not the capped one
    one, left1, rep1 = next_knock(_town(), cfg, events, bring_back=1)
    assert _targets(one) - _targets(base) == {"L1"}
    assert set(left1[schema.DOOR_ID]) == {"C1", "C2", "L2"}
    assert rep1["brought_back"] == {"low_value": 1, "attempt_cap": 0}
    assert rep1["left_out"]["low_value"] == 1
    assert one.loc["VL1", schema.LIFT] > 0
    # two: both low-value doors; three: then C1, which is no longer suppressed
    two, _, _ = next_knock(_town(), cfg, events, bring_back=2)
    assert _targets(two) - _targets(base) == {"L1", "L2"}
    many, left9, rep9 = next_knock(_town(), cfg, events, bring_back=9)
    assert _targets(many) - _targets(base) == {"L1", "L2", "C1"}
    assert many.loc["VC1", schema.SUPPRESSED] == ""
    assert many.loc["VC2", schema.SUPPRESSED] == "attempt_cap"
    assert left9[schema.DOOR_ID].tolist() == ["C2"]
    assert rep9["brought_back"] == {"low_value": 2, "attempt_cap": 1}
    assert rep9["doors_reknock"] == 1  # C1


def test_capped_doors_come_back_only_below_the_ceiling_and_in_a_new_slot() -> None:
    from canvass.results import CAP_CEILING_EXTRA

    events = _knocks(*_CAPPED)
    # no next slot named: no door is "in another slot"
    out, _, rep = next_knock(_town(), _config(), events, bring_back=9)
    assert "C1" not in _targets(out)
    assert rep["reserve"]["attempt_cap"] == 0
    # on a weekday evening, C2 (last knocked on Saturday) may come back, C1 not
    eve, _, _ = next_knock(_town(), _config(next_slot="weekday_evening"), events, 9)
    assert "C2" in _targets(eve)
    assert "C1" not in _targets(eve)
    # at the ceiling (max_attempts + CAP_CEILING_EXTRA knocks) never again
    stamps = [f"2026-09-{d:02d}T18:30:00-04:00" for d in (14, 15, 16, 17, 18)]
    ceiling = _knocks(*[("C1", s, "NOT_HOME") for s in stamps[: 3 + CAP_CEILING_EXTRA]])
    out, left, rep = next_knock(
        _town(), _config(next_slot="weekend_day"), ceiling, bring_back=9
    )
    assert "C1" not in _targets(out)
    assert rep["reserve"]["attempt_cap"] == 0
    assert left.set_index(schema.DOOR_ID).loc["C1", schema.REASON] == "attempt_cap"


def test_with_the_volunteers_known_capped_doors_compete_for_the_shift() -> None:
    """A door at the cap, below the ceiling and worth a knock, is a candidate for
    the shift's time (choose_doors), not only for the room left over."""
    events = _knocks(*_CAPPED)
    cfg = _config(next_slot="weekend_day", shift_volunteers=2)
    out, left, rep = next_knock(_town(), cfg, events)
    reasons = left.set_index(schema.DOOR_ID)[schema.REASON].to_dict()
    # C1 (last knocked on a weekday evening) and C2 (last on a Saturday: its
    # value counts that not-home in full) compete; low-value doors wait for room
    assert {"C1", "C2"} <= _targets(out)
    assert not {"C1", "C2"} & set(reasons)
    assert out.loc["VC1", schema.SUPPRESSED] == ""
    assert out.loc["VC2", schema.LIFT] > 0
    # C1 was not home on two Saturdays, C2 on one: C2 is worth more on Saturday
    assert out.loc["VC2", schema.LIFT] > out.loc["VC1", schema.LIFT]
    assert reasons["L1"] == reasons["L2"] == "low_value"
    assert rep["cap_compete"] == 2
    assert rep["reserve"] == {"low_value": 2, "attempt_cap": 0}
    assert rep["doors_reknock"] == 2
    # not told the volunteers, or told to wait for room: both stay at the cap
    for config, competes in ((_config(next_slot="weekend_day"), True), (cfg, False)):
        held, left2, rep2 = next_knock(_town(), config, events, cap_competes=competes)
        assert not {"C1", "C2"} & _targets(held)
        assert set(left2.loc[left2[schema.REASON] == "attempt_cap", "door_id"]) == {
            "C1",
            "C2",
        }
        assert rep2["cap_compete"] == 0
    # at the ceiling a door never competes
    stamps = [f"2026-09-{d:02d}T18:30:00-04:00" for d in (14, 15, 16, 17, 18)]
    ceiling = _knocks(*[("C1", s, "NOT_HOME") for s in stamps])
    out, left, rep = next_knock(_town(), cfg, ceiling)
    assert "C1" not in _targets(out)
    assert left.set_index(schema.DOOR_ID).loc["C1", schema.REASON] == "attempt_cap"
    assert rep["cap_compete"] == 0


def test_spare_volunteers_never_bring_back_done_or_come_back_here() -> None:
    # A4's voter is done (not a target after apply_history); X1 asked to come back
    # this very Saturday in this slot
    events = _knocks(*_CAPPED, ("A4", SAT, "CONTACTED"), ("X1", SAT, "COME_BACK"))
    cfg = _config(next_slot="weekend_day", date="2026-09-12")
    out, left, rep = next_knock(_town(done=("A4",)), cfg, events, bring_back=99)
    assert "A4" not in _targets(out)
    assert "X1" not in _targets(out)
    assert left.set_index(schema.DOOR_ID).loc["X1", schema.REASON] == (
        "come_back_later"
    )
    assert rep["left_out"]["come_back_later"] == 1
    assert rep["brought_back"] == {"low_value": 2, "attempt_cap": 1}


def test_doors_to_fill_measures_the_shift() -> None:
    from canvass.results import doors_to_fill

    turfs = pd.DataFrame({schema.EST_S: [3600.0, 3600.0], schema.N_DOORS: [40, 40]})
    assert doors_to_fill(turfs, _config()) == 0  # shift_volunteers unknown
    assert doors_to_fill(turfs, _config(shift_volunteers=1)) == 0  # 1 x 7200 s full
    # 3 volunteers x 7200 s = 21600 s, 7200 s planned at 90 s a door: 160 more
    assert doors_to_fill(turfs, _config(shift_volunteers=3)) == 160
    with pytest.raises(ConfigError, match="shift_volunteers"):
        CampaignParams(shift_volunteers=-1)


def test_no_shift_volunteers_changes_nothing(campaign: Campaign) -> None:
    """shift_volunteers = 0 (the recorded run): no doors back, no spare report."""
    replan = campaign.plan.summary()["reports"]["history"]["replan"]
    assert campaign.config.campaign.shift_volunteers == 0
    assert "spare" not in replan
    assert replan["brought_back"] == {"low_value": 0, "attempt_cap": 0}
    low = campaign.plan.left_out.loc[
        campaign.plan.left_out[schema.REASON] == "low_value", schema.DOOR_ID
    ]
    assert replan["left_out"]["low_value"] == len(low)
    assert not set(low) & set(campaign.plan.stops[schema.DOOR_ID])


def test_the_run_fills_spare_volunteers(
    campaign: Campaign, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the pipeline: volunteers to spare bring back low-value doors, never
    a done or do-not-knock door, and the summary says so."""
    from canvass.cli import _print_summary
    from canvass.pipeline import run

    config = campaign.copy(tmp_path)
    rows = campaign.template()
    doors = list(dict.fromkeys(rows["door_id"]))
    done, dnk = doors[0], doors[1]
    filled = pd.concat(
        [
            rows[rows["door_id"] == done].assign(date="2026-01-03", result="CONTACTED"),
            rows[rows["door_id"] == dnk].assign(
                date="2026-01-03", result="DO_NOT_KNOCK"
            ),
        ]
    )
    path = tmp_path / "filled.csv"
    filled.to_csv(path, index=False)
    assert import_results([path], config).totals["imported"] == len(filled)
    before = run(config)
    low_before = set(
        before.left_out.loc[before.left_out[schema.REASON] == "low_value", "door_id"]
    )
    assert low_before, "the demo campaign needs low-value doors for this test"
    many = dataclasses.replace(
        config,
        campaign=dataclasses.replace(config.campaign, shift_volunteers=500),
    )
    plan = run(many)
    replan = plan.summary()["reports"]["history"]["replan"]
    spare = replan["spare"]
    assert spare["shift_volunteers"] == 500
    assert spare["room_doors"] > 0
    assert spare["brought_back"]["low_value"] == len(low_before)
    assert spare["idle_shifts"] > 0  # 500 volunteers: nothing left for most
    routed = set(plan.stops[schema.DOOR_ID])
    assert done not in routed
    assert dnk not in routed
    assert "low_value" not in set(plan.left_out[schema.REASON])
    assert low_before & set(plan.doors.index[plan.doors[schema.TURF_ID] != ""])
    capsys.readouterr()
    _print_summary(plan.summary(), {}, tmp_path, quiet=False)
    cells = capsys.readouterr().out.replace("│", " ")  # wrapped table cells
    printed = " ".join(cells.split())
    assert "volunteers to spare" in printed
    assert f"brought back {len(low_before):,} low-value doors" in printed
    assert "still idle" in printed
