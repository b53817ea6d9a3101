"""The scores on a real voter file: Ohio, Warren and Clermont counties (2021).

Reads ``../shared/data/ohio_voter_history_2021_deid`` (skips when absent), loads it
once through the ``mapped`` loader, checks the typed calendar of a few known
elections and that the gradient-boosting score beats the naive baselines on the
held-out 2018 elections (leak-free backtest, on a sample of voters to stay fast;
``bench/real_scores.py`` measures the whole file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _bench import load_bench

from canvass import schema
from canvass.load import load_voter_file
from canvass.score import (
    BASELINES,
    build_matrix,
    door_keys,
    election_calendar,
    run_backtest,
)

FOLDER = "ohio_voter_history_2021_deid"
SAMPLE = 20_000


@pytest.fixture(scope="module")
def ohio(shared_data: Path) -> dict[str, Any]:
    path = shared_data / FOLDER / "warren_clermont_voter_history.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    # the PROVENANCE.md mapping, the same as the bench measuring the whole file
    config = load_bench("real_scores").ohio_config(path.parent)
    loaded = load_voter_file(config)
    return {"config": config, "loaded": loaded}


def _row(rows: list[dict[str, Any]], date: str, votes_min: int = 0) -> dict[str, Any]:
    found = [r for r in rows if r["date"] == date and r["votes"] >= votes_min]
    assert len(found) == 1, (date, found)
    return found[0]


def test_ohio_calendar_is_typed_by_date_and_coverage(ohio: dict[str, Any]) -> None:
    loaded = ohio["loaded"]
    assert len(loaded.voters) == 93_876
    rows = loaded.report["calendar"]
    assert len(rows) == 64  # every history column, also those nobody voted in
    expected = {
        "2018-05-08": schema.STATE_PRIMARY,
        "2014-05-06": schema.STATE_PRIMARY,
        "2018-11-06": schema.STATE_ELECTION,
        "2020-03-17": schema.PRESIDENTIAL_PRIMARY,
        "2016-11-08": schema.PRESIDENTIAL_ELECTION,
        "2018-08-07": schema.SPECIAL,  # "GENERAL-08/07/2018", 18 votes
        "2010-09-07": schema.SPECIAL,  # "PRIMARY-09/07/2010"
        "2016-06-07": schema.SPECIAL,  # "GENERAL-06/07/2016"
        "2009-05-05": schema.MUNICIPAL,
        "2019-11-05": schema.MUNICIPAL,
    }
    for date, etype in expected.items():
        assert _row(rows, date)["type"] == etype, date
    general = _row(rows, "2018-11-06")
    assert general["typed_by"] == "date"
    assert general["coverage"] > 0.95
    # GENERAL-11/06/2007 and PRIMARY-11/06/2007: two elections, nothing rejected
    same_day = [r for r in rows if r["date"] == "2007-11-06"]
    assert len(same_day) == 2
    assert not loaded.rejects["reason"].str.contains("duplicate vote").any()
    cal = election_calendar(loaded.history, ohio["config"], loaded.voters)
    gub = cal[cal[schema.IS_GUBERNATORIAL]]
    assert gub[schema.ELECTION_DATE].dt.year.tolist() == [2002, 2006, 2010, 2014, 2018]


def test_ohio_gbm_beats_the_naive_baselines(ohio: dict[str, Any]) -> None:
    loaded, config = ohio["loaded"], ohio["config"]
    rng = np.random.default_rng(0)
    keep = np.sort(rng.choice(len(loaded.voters), size=SAMPLE, replace=False))
    voters = loaded.voters.iloc[keep]
    history = loaded.history[loaded.history[schema.VOTER_ID].isin(voters.index)]
    elections = election_calendar(history, config, voters)
    mx = build_matrix(voters, history, elections)
    bt = run_backtest(mx, voters, door_keys(voters), elections, config)
    assert not bt["skipped"]
    assert bt["n"][schema.STATE_PRIMARY]["holdout"] == "2018 State Primary"
    assert bt["n"][schema.STATE_ELECTION]["holdout"] == "2018 State Election"
    for etype, auc in bt["auc"].items():
        best = max(auc[b] for b in BASELINES)
        assert auc["gbm"] > best + 0.05, (etype, auc)
        brier = bt["brier"][etype]
        assert brier["gbm"] < min(brier[b] for b in BASELINES), (etype, brier)
    assert not bt["fallback"]
    assert isinstance(pd.DataFrame(bt["calendar"]), pd.DataFrame)
