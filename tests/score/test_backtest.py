"""Tests of the hold-out backtest, its printed table and its HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from synth_people import make_people

from canvass import schema
from canvass.config import PlanConfig
from canvass.score import (
    BASELINES,
    SCORE_NAMES,
    election_calendar,
    format_backtest,
    score_voters,
    write_backtest_report,
)


@pytest.fixture(scope="module")
def backtest() -> dict[str, Any]:
    voters, history = make_people(2500, seed=5)
    config = PlanConfig(seed=7)
    return score_voters(
        voters, history, election_calendar(history, config), config
    ).backtest


def test_backtest_keys_and_json(backtest: dict[str, Any]) -> None:
    for key in ("auc", "brier", "calibration", "deciles", "n", "roc", "rules_table"):
        assert set(backtest[key]) == set(schema.TARGET_TYPES), key
    for etype in schema.TARGET_TYPES:
        assert set(backtest["auc"][etype]) == {*SCORE_NAMES, *BASELINES}
        assert all(0.5 < v <= 1 for v in backtest["auc"][etype].values())
        assert all(0 <= v <= 1 for v in backtest["brier"][etype].values())
        deciles = backtest["deciles"][etype]["gbm"]
        assert [d["decile"] for d in deciles] == list(range(1, 11))
        assert deciles[-1]["turnout"] > deciles[0]["turnout"]
        assert sum(d["n"] for d in deciles) == backtest["n"][etype]["voters"]
        cal = backtest["calibration"][etype]["segment"]
        assert sum(r["n"] for r in cal) == backtest["n"][etype]["voters"]
    assert backtest["n"][schema.STATE_PRIMARY]["holdout"] == "2024 State Primary"
    assert backtest["n"][schema.STATE_ELECTION]["holdout"] == "2022 State Election"
    assert "2022 State Election" not in backtest["n"][schema.STATE_ELECTION]["train"]
    json.dumps(backtest)


def test_fitted_models_beat_naive_baselines(backtest: dict[str, Any]) -> None:
    for etype in schema.TARGET_TYPES:
        auc = backtest["auc"][etype]
        best_naive = max(auc[b] for b in BASELINES)
        assert auc["logistic"] > best_naive + 0.01, (etype, auc)
        assert auc["gbm"] > best_naive + 0.01, (etype, auc)


def test_format_backtest_table(backtest: dict[str, Any]) -> None:
    text = format_backtest(backtest)
    assert "2024 State Primary" in text
    for name in (*SCORE_NAMES, *BASELINES):
        assert f"  {name} " in text
    assert "not real-world accuracy" in text
    short = format_backtest({"auc": backtest["auc"]})
    assert f"{backtest['auc']['state_primary']['gbm']:.3f}" in short
    assert "off" in format_backtest({})


def test_report_is_self_contained_and_deterministic(
    backtest: dict[str, Any], tmp_path: Path
) -> None:
    one = write_backtest_report(backtest, tmp_path / "a")
    two = write_backtest_report(backtest, tmp_path / "b")
    assert one.name == "backtest.html"
    assert one.read_bytes() == two.read_bytes()
    text = one.read_text(encoding="utf-8")
    assert text.count("<svg") == 2
    assert "<metadata>" not in text
    assert 'src="http' not in text
    assert 'href="http' not in text
    assert "<script" not in text


def test_backtest_skips_types_without_history() -> None:
    voters, history = make_people(300, seed=9)
    keep = history[schema.ELECTION_TYPE].ne(schema.STATE_ELECTION) | history[
        schema.ELECTION_DATE
    ].eq(pd.Timestamp("2022-11-08"))
    history = history[keep]
    config = PlanConfig()
    bt = score_voters(
        voters, history, election_calendar(history, config), config
    ).backtest
    assert schema.STATE_ELECTION in bt["skipped"]
    assert schema.STATE_ELECTION not in bt["auc"]
    assert "not backtested" in format_backtest(bt)
