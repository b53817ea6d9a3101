"""The campaign bench's ledger sorts every knock by kind (bench/_campaign_ledger.py)."""

from __future__ import annotations

import pytest
from _bench import load_bench

ledger_mod = load_bench("_campaign_ledger")

# the simulator's result rows: one per voter at the door (bench/_campaign_town.py)
NH = [{"voter_id": "v1", "result": "NOT_HOME"}]
CB = [{"voter_id": "v1", "result": "COME_BACK"}]


def test_knocks_are_sorted_by_attempt_slot_and_history() -> None:
    led = ledger_mod.Ledger()
    led.predicted = {"A": 0.25}
    led.note("A", "weekend_day", False, 100.0, 60.0, 0.0, NH)  # first
    led.note("A", "weekend_day", False, 50.0, 60.0, 0.0, NH)  # 2nd, same slot
    led.note("A", "weekday_evening", False, 30.0, 150.0, 0.07, CB)  # 3rd, new slot
    led.note("A", "weekday_evening", False, 20.0, 150.0, 0.05, NH)  # answered before
    led.note("A", "weekend_day", True, 10.0, 60.0, 0.01, NH)  # everyone done
    for _ in range(3):
        led.note("B", "weekend_day", False, 5.0, 60.0, 0.0, NH)
    led.note("B", "weekend_day", False, 5.0, 60.0, 0.0, NH)  # 4th knock
    rows = led.rows
    assert rows["first"].knocks == 2
    assert rows["re2_same"].knocks == 2
    assert rows["re3_new"].knocks == 1
    assert rows["re3_same"].knocks == 1
    assert rows["re4+_same"].knocks == 1
    assert rows["partial"].knocks == 1
    assert rows["reminder"].knocks == 1
    assert rows["re3_new"].answered == 1
    assert rows["re3_new"].votes == pytest.approx(0.07)
    assert rows["first"].travel_s == pytest.approx(105.0)
    assert rows["first"].n_predicted == 1  # only A had a prediction
    assert sum(r.knocks for r in rows.values()) == 9
    lines = led.table()
    assert lines[0].startswith("first")
    assert any(line.startswith("reminder") for line in lines)
    never = led.unknocked(["A", "B", "C", "D"], {"C": "left_out_low_value"})
    assert never == {"left_out_low_value": 1, "not_reached": 1}


def test_calibration_sets_each_voters_prediction_against_their_own_results() -> None:
    cal = ledger_mod.Calibration()
    cal.predicted = {"v1": 0.25, "v2": 0.5}
    cal.note("weekend_day", [{"voter_id": "v1", "result": "NOT_HOME"}])  # first
    cal.note("weekday_evening", [{"voter_id": "v1", "result": "NOT_HOME"}])
    cal.note("weekday_evening", [{"voter_id": "v1", "result": "COME_BACK"}])
    cal.note("weekend_day", [{"voter_id": "v2", "result": "NOT_HOME"}])  # first
    cal.note("weekend_day", [{"voter_id": "v2", "result": "NOT_HOME"}])
    cal.note("weekend_day", [{"voter_id": "v3", "result": "NOT_HOME"}])  # no guess
    assert cal.rows["first"] == [2.0, 0.75, 0.0]
    assert cal.rows["miss1_other"] == [1.0, 0.25, 0.0]  # v1's miss was another slot
    assert cal.rows["miss1_same"] == [1.0, 0.5, 0.0]
    assert cal.rows["miss2+"] == [1.0, 0.25, 1.0]  # a "come back" is an answer
    (line,) = cal.lines()
    assert line.startswith("P(answer) by voter, predicted vs recorded: first 2 ")


def test_the_ratio_splits_into_factors_that_multiply_back() -> None:
    hours = 2.0
    a, b = ledger_mod.Ledger(), ledger_mod.Ledger()
    # a: 20 first knocks of 0.03 votes, 10 re-knocks of 0.01; 100 s walk, 90 s door
    for i in range(20):
        a.note(f"A{i}", "weekend_day", False, 100.0, 90.0, 0.03, NH)
    for i in range(10):
        a.note(f"A{i}", "weekend_day", False, 100.0, 90.0, 0.01, NH)
    a.idle("shift_end", hours * 3600 - 30 * 190.0)
    # b: 30 first knocks of 0.02 votes, 120 s walk, 80 s door
    for i in range(30):
        b.note(f"B{i}", "weekend_day", False, 120.0, 80.0, 0.02, NH)
    dec = ledger_mod.decompose(a, b, hours)
    votes_a, votes_b = 20 * 0.03 + 10 * 0.01, 30 * 0.02
    assert dec["ratio"] == pytest.approx(votes_a / votes_b)
    assert dec["time_used"] == pytest.approx((30 * 190) / (30 * 200))
    assert dec["walking"] == pytest.approx((120 + 80) / (100 + 80))
    assert dec["at_door"] == pytest.approx((100 + 80) / (100 + 90))
    # had a's first knocks banked b's 0.02: (20 * 0.02 + 0.1) / 30 a knock
    assert dec["first_value"] == pytest.approx((votes_a / 30) / (0.5 / 30))
    assert dec["rest"] == pytest.approx((0.5 / 30) / 0.02)
    assert "idle" in a.time_lines(hours)[0]
    assert a.time_lines(hours)[0].startswith("time: knocking 79.2%")
    a.turf_time(3600.0, 4500.0)
    assert "actual/planned 1.25" in a.time_lines(hours)[1]
    assert ledger_mod.decompose(a, ledger_mod.Ledger(), hours) == {}
