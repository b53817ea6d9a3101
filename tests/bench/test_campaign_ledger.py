"""The campaign bench's ledger sorts every knock by kind (bench/_campaign_ledger.py)."""

from __future__ import annotations

import pytest
from _bench import load_bench

ledger_mod = load_bench("_campaign_ledger")

NH = [{"result": "NOT_HOME"}]
CB = [{"result": "COME_BACK"}]


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
