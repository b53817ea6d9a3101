"""Tests of eligibility from behaviour, recalibration, the level and the fallback to
a naive baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synth_people import make_people

from canvass import schema
from canvass.config import PlanConfig
from canvass.score import (
    BASELINES,
    build_matrix,
    election_calendar,
    format_backtest,
    score_voters,
)
from canvass.score._calibrate import inner_check

SP = schema.STATE_PRIMARY


def _voters(n: int, registered: str = "2000-01-01") -> pd.DataFrame:
    base: dict[str, object] = {c: [""] * n for c in schema.VOTER_COLUMNS}
    base[schema.STATUS] = ["A"] * n
    base[schema.BIRTH_DATE] = [pd.Timestamp("1970-01-01")] * n
    base[schema.REGISTRATION_DATE] = [pd.Timestamp(registered)] * n
    base[schema.PRECINCT_ID] = [f"P{i % 4}" for i in range(n)]
    base[schema.STREET_NUMBER] = [str(i) for i in range(n)]
    base[schema.STREET_NAME] = ["MAIN ST"] * n
    ids = [f"V{i:04d}" for i in range(n)]
    return pd.DataFrame(base, index=pd.Index(ids, name=schema.VOTER_ID))


def _history(votes: dict[str, list[str]], etype: str = SP) -> pd.DataFrame:
    rows = [(v, d) for d, who in votes.items() for v in who]
    return pd.DataFrame(
        {
            schema.VOTER_ID: [v for v, _ in rows],
            schema.ELECTION_ID: [f"{d}_{etype}" for _, d in rows],
            schema.ELECTION_DATE: pd.to_datetime([d for _, d in rows]),
            schema.ELECTION_TYPE: etype,
        }
    )


def test_a_vote_before_the_registration_date_means_registered_then() -> None:
    voters = _voters(2, registered="2020-03-01")  # re-registered after moving
    hist = _history(
        {
            "2014-09-09": ["V0001"],
            "2016-09-08": ["V0000"],
            "2020-09-01": ["V0000"],
        }
    )
    mx = build_matrix(voters, hist, election_calendar(hist, PlanConfig()))
    # V0000 first voted in 2016: eligible from then, not in 2014
    assert mx.eligible[0].tolist() == [False, True, True]
    assert mx.registered[0] == np.datetime64("2016-09-08")
    # V0001 voted in 2014: eligible for everything after
    assert mx.eligible[1].tolist() == [True, True, True]
    assert mx.registered[1] == np.datetime64("2014-09-09")


def test_inner_check_falls_back_to_a_better_baseline() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.3
    noise = rng.random(2000)
    scores = dict.fromkeys(("rules", "segment", "logistic", "gbm"), noise)
    base = {
        "voted_last": y.astype(float),  # perfect
        "count_last4": noise,
        "share_last4": noise,
    }
    params = PlanConfig().score
    check = inner_check(SP, y, scores, base, params, level=0.3)
    assert check.choice == "voted_last"
    assert "P(vote) uses voted_last" in check.fallback
    assert check.inner_auc["voted_last"] == 1.0
    good = inner_check(SP, y, {**scores, "gbm": y + noise * 0.1}, base, params, 0.3)
    assert good.choice == "gbm"
    assert not good.fallback


def _flipping_people(n: int = 800) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Voters whose primary turnout flips once: in 2018 voters of 2016 stayed home
    (and the others voted), in 2020 everyone did what they did in 2018.

    A score fitted on 2018 learns "voted last time -> stays home" and ranks 2020
    backwards; voting in the last primary ranks it right.
    """
    rng = np.random.default_rng(3)
    v2014 = rng.random(n) < 0.4
    v2016 = rng.random(n) < 0.4
    v2018 = ~v2016 & (rng.random(n) < 0.9)
    v2020 = v2018 & (rng.random(n) < 0.95)
    voters = _voters(n)
    ids = voters.index.to_numpy()
    votes = {
        "2014-09-09": ids[v2014].tolist(),
        "2016-09-08": ids[v2016].tolist(),
        "2018-09-04": ids[v2018].tolist(),
        "2020-09-01": ids[v2020].tolist(),
    }
    general = {"2018-11-06": ids[rng.random(n) < 0.6].tolist()}
    hist = pd.concat(
        [_history(votes), _history(general, schema.STATE_ELECTION)],
        ignore_index=True,
    )
    return voters, hist


def test_a_score_that_loses_to_a_baseline_falls_back_loudly() -> None:
    voters, hist = _flipping_people()
    config = PlanConfig.from_dict(
        {"score": {"train_elections": 1, "next_state_primary": "2022-09-06"}}
    )
    result = score_voters(voters, hist, election_calendar(hist, config), config)
    bt = result.backtest
    fell = bt["fallback"][SP]
    assert fell["use"] in BASELINES
    assert fell["auc"] < fell["baseline_auc"]
    assert any(
        w.startswith("FALLBACK state_primary") for w in result.report["warnings"]
    )
    assert "!! FALLBACK state_primary" in format_backtest(bt)
    assert result.report["score_used"][SP] == fell["use"]
    # P(vote) is the calibrated baseline: voters of the last primary rank first
    p = result.voters["p_state_primary"]
    voted_2020 = hist.loc[hist[schema.ELECTION_ID] == "2020-09-01_state_primary"]
    last = voters.index.isin(voted_2020[schema.VOTER_ID])
    assert p[last].min() >= p[~last].max() or fell["use"] != "voted_last"
    assert p[last].mean() > p[~last].mean()


@pytest.fixture(scope="module")
def people() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_people(2500, seed=4)


def test_calibration_keeps_the_level(people: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    voters, history = people
    config = PlanConfig.from_dict({"score": {"backtest": False}})
    cal = election_calendar(history, config)
    out = score_voters(voters, history, cal, config).voters
    mx = build_matrix(voters, history, cal)
    when = np.datetime64(config.score.next_state_primary)
    train = mx.elections_of(when, SP)[-config.score.train_elections :]
    level = np.mean([mx.voted[mx.eligible[:, c], c].mean() for c in train])
    eligible = mx.eligible_on(when, np.datetime64(config.score.next_state_election))
    for name in ("rules", "segment", "logistic", "gbm"):
        mean = out[f"p_state_primary_{name}"].to_numpy()[eligible].mean()
        assert mean == pytest.approx(level, abs=0.002), name
    wanted = PlanConfig.from_dict(
        {"score": {"backtest": False, "expected_turnout": {"state_primary": 0.35}}}
    )
    shifted = score_voters(voters, history, cal, wanted).voters
    p = shifted["p_state_primary"].to_numpy()
    assert p[eligible].mean() == pytest.approx(0.35, abs=0.002)
    assert (
        np.corrcoef(pd.Series(p).rank(), out["p_state_primary"].rank().to_numpy())[0, 1]
        > 0.999
    )


def test_backtest_reports_brier_reliability_and_the_calendar(
    people: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    voters, history = people
    config = PlanConfig()
    cal = election_calendar(history, config, voters)
    result = score_voters(voters, history, cal, config)
    bt = result.backtest
    for etype in schema.TARGET_TYPES:
        used = bt["chosen"][etype]
        assert set(bt["inner_auc"][etype]) >= {"gbm", *BASELINES}
        best = min(bt["brier"][etype][b] for b in BASELINES)
        assert bt["brier"][etype][used] < best
        assert 0 <= bt["reliability"][etype][used] < 0.01
    rows = bt["calendar"]
    assert {r["typed_by"] for r in rows} <= {"date", "label", "coverage", "override"}
    assert all(r["turnout"] is not None for r in rows)
    assert all("coverage" in r for r in rows)
    assert "Election calendar as typed" in format_backtest(bt)
