"""Tests of the election calendar, eligibility, features and the three scores."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from synth_people import make_people

from canvass import schema
from canvass.config import PlanConfig
from canvass.errors import ConfigError, DataQualityWarning, InputError
from canvass.score import BASELINES, HISTORY, election_calendar, score_voters
from canvass.score import _features as features
from canvass.score import _propensity as propensity

FAST = PlanConfig.from_dict({"score": {"backtest": False}})


def _history(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """History rows (voter_id, date, type)."""
    return pd.DataFrame(
        {
            schema.VOTER_ID: [r[0] for r in rows],
            schema.ELECTION_ID: [f"{r[1]}_{r[2]}" for r in rows],
            schema.ELECTION_DATE: pd.to_datetime([r[1] for r in rows]),
            schema.ELECTION_TYPE: [r[2] for r in rows],
        }
    )


def _voters(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, object] = {c: [""] * n for c in schema.VOTER_COLUMNS}
    base[schema.STATUS] = ["A"] * n
    base[schema.PARTY] = ["D"] * n
    base[schema.BIRTH_DATE] = [pd.Timestamp("1970-01-01")] * n
    base[schema.REGISTRATION_DATE] = [pd.Timestamp("2000-01-01")] * n
    base.update(columns)
    ids = [f"V{i}" for i in range(n)]
    return pd.DataFrame(base, index=pd.Index(ids, name=schema.VOTER_ID))


SP, SE, PE = schema.STATE_PRIMARY, schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION


@pytest.fixture(scope="module")
def people() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_people(1200, seed=1)


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_people(400, seed=2)


@pytest.fixture(scope="module")
def scored(people: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    voters, history = people
    cal = election_calendar(history, FAST)
    return score_voters(voters, history, cal, FAST).voters


# --- calendar -------------------------------------------------------------------


def test_calendar_types_labels_and_gubernatorial() -> None:
    hist = _history(
        [
            ("V0", "2018-11-06", SE),
            ("V0", "2016-11-08", PE),
            ("V1", "2018-09-04", SP),
            ("V1", "2020-11-03", PE),
        ]
    )
    cal = election_calendar(hist, PlanConfig())
    assert list(cal[schema.ELECTION_DATE].dt.year) == [2016, 2018, 2018, 2020]
    assert cal.loc["2018-11-06_state_election", schema.IS_GUBERNATORIAL]
    assert not cal.loc["2016-11-08_presidential_election", schema.IS_GUBERNATORIAL]
    assert cal.loc["2018-11-06_state_election", schema.LABEL] == "2018 State Election"
    schema.validate_elections(cal)


def test_calendar_overrides_by_date_and_id() -> None:
    hist = _history(
        [("V0", "2021-11-02", schema.SPECIAL), ("V0", "2017-05-02", schema.SPECIAL)]
    )
    config = PlanConfig.from_dict(
        {
            "elections": {
                "2021-11-02": "municipal",
                "2017-05-02_special": "state_primary",
            }
        }
    )
    cal = election_calendar(hist, config)
    assert cal.loc["2021-11-02_special", schema.ELECTION_TYPE] == schema.MUNICIPAL
    assert cal.loc["2017-05-02_special", schema.ELECTION_TYPE] == SP
    assert cal.loc["2021-11-02_special", schema.LABEL] == "2021 Municipal Election"


def test_calendar_override_errors() -> None:
    hist = _history([("V0", "2021-11-02", schema.SPECIAL)])
    with pytest.raises(ConfigError, match="matches no election"):
        election_calendar(
            hist, PlanConfig.from_dict({"elections": {"1999": "special"}})
        )
    with pytest.raises(ConfigError, match="must name one of"):
        PlanConfig.from_dict({"elections": {"2021-11-02": "town_meeting"}})


# --- eligibility ----------------------------------------------------------------


def test_no_penalty_before_registration_or_age_18() -> None:
    elections = ["2014-09-09", "2016-09-08", "2018-09-04", "2020-09-01"]
    voters = _voters(
        registration_date=[
            pd.Timestamp("2000-01-01"),
            pd.Timestamp("2017-06-01"),  # registered after the 2016 primary
            pd.Timestamp("2000-01-01"),
        ],
        birth_date=[
            pd.Timestamp("1960-01-01"),
            pd.Timestamp("1960-01-01"),
            pd.Timestamp("2000-10-20"),  # 18 on 2018-10-20: before the state election
        ],
    )
    rows = [("V0", d, SP) for d in elections] + [("V0", "2018-11-06", SE)]
    rows += [("V1", d, SP) for d in elections[2:]] + [("V2", "2020-09-01", SP)]
    hist = _history(rows)
    cal = election_calendar(hist, PlanConfig())
    mx = features.build_matrix(voters, hist, cal)
    sp = [i for i, t in enumerate(mx.types) if t == SP]
    assert mx.eligible[0, sp].all()
    assert mx.eligible[1, sp].tolist() == [False, False, True, True]
    # MA: 17-year-olds who are 18 by the state election may vote in the primary
    assert mx.eligible[2, sp].tolist() == [False, False, True, True]
    when = np.datetime64("2026-09-01")
    feats = features.features_as_of(mx, voters, features.door_keys(voters), when, SP, 4)
    assert feats["SP_share"].tolist() == [1.0, 1.0, 0.5]
    assert feats["SP_eligible"].tolist() == [4.0, 2.0, 2.0]
    summary = features.history_summary(mx, when, 4)
    assert summary.iloc[0].startswith("SP 4/4")
    assert summary.iloc[1].startswith("SP 2/2")


def test_birth_year_only_is_never_eligible_too_early() -> None:
    voters = _voters(birth_date=[pd.NaT], birth_year=[2000])
    hist = _history([("V9", "2018-11-06", SE), ("V9", "2018-09-04", SP)])
    cal = election_calendar(hist, PlanConfig())
    mx = features.build_matrix(voters, hist, cal)
    # born some day of 2000: only certainly 18 on 2018-12-31
    assert not mx.eligible[0].any()


def test_voting_proves_eligibility() -> None:
    voters = _voters(registration_date=[pd.Timestamp("2022-01-01")])
    hist = _history([("V0", "2018-11-06", SE), ("V0", "2022-11-08", SE)])
    mx = features.build_matrix(voters, hist, election_calendar(hist, PlanConfig()))
    assert mx.eligible[0].all()


def test_pattern_marks_not_eligible_apart_from_not_voting() -> None:
    voters = _voters(
        registration_date=[pd.Timestamp("2000-01-01"), pd.Timestamp("2019-01-01")]
    )
    hist = _history(
        [("V0", "2018-09-04", SP), ("V1", "2020-09-01", SP), ("V0", "2022-09-06", SP)]
    )
    mx = features.build_matrix(voters, hist, election_calendar(hist, PlanConfig()))
    pattern = features.pattern_as_of(mx, np.datetime64("2026-01-01"), SP, 4)
    assert pattern.tolist() == ["-VNV", "--VN"]


# --- scores ---------------------------------------------------------------------


def test_scores_are_probabilities_and_labelled(scored: pd.DataFrame) -> None:
    for etype in schema.TARGET_TYPES:
        for name in (*propensity.SCORE_NAMES, None):
            col = f"p_{etype}" if name is None else f"p_{etype}_{name}"
            assert scored[col].between(0, 1).all(), col
        # p_<type> is one of the scores (auto: the best on the inner check) or,
        # when a naive baseline ranked better, that baseline
        same = [
            n
            for n in propensity.SCORE_NAMES
            if (scored[f"p_{etype}"] == scored[f"p_{etype}_{n}"]).all()
        ]
        assert same or scored[f"p_{etype}"].nunique() <= 10
    assert scored[HISTORY].str.len().gt(0).all()
    assert scored[schema.IS_NEW_REGISTRANT].dtype == bool


def test_scores_rank_habitual_above_never(scored: pd.DataFrame) -> None:
    hist_sp = scored[HISTORY].str.extract(r"SP (\d)/4")[0]
    always = scored.loc[hist_sp.eq("4"), "p_state_primary"].mean()
    never = scored.loc[hist_sp.eq("0"), "p_state_primary"].mean()
    assert always > 0.4 > 0.15 > never


def test_same_seed_same_scores_and_input_untouched(
    people: tuple[pd.DataFrame, pd.DataFrame], scored: pd.DataFrame
) -> None:
    voters, history = people
    before_v, before_h = voters.copy(), history.copy()
    cal = election_calendar(history, FAST)
    again = score_voters(voters, history, cal, FAST).voters
    pd.testing.assert_frame_equal(again, scored)
    pd.testing.assert_frame_equal(voters, before_v)
    pd.testing.assert_frame_equal(history, before_h)
    # scoring adds columns and leaves the voters' own columns as they were
    assert set(voters.columns) < set(scored.columns)
    pd.testing.assert_frame_equal(scored[list(voters.columns)], voters)


def test_new_registrants_get_a_labelled_prior(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    voters, history = small
    voters = voters.copy()
    newbies = voters.index[:5]
    voters.loc[newbies, schema.REGISTRATION_DATE] = pd.Timestamp("2025-03-01")
    voters.loc[newbies, schema.BIRTH_DATE] = pd.Timestamp("1990-06-01")
    voters.loc[newbies, schema.BIRTH_YEAR] = 1990
    history = history[~history[schema.VOTER_ID].isin(newbies)]
    cal = election_calendar(history, FAST)
    out = score_voters(voters, history, cal, FAST).voters
    assert out.loc[newbies, schema.IS_NEW_REGISTRANT].all()
    assert (out.loc[newbies, HISTORY] == "new").all()
    for etype in schema.TARGET_TYPES:
        for n in propensity.SCORE_NAMES:
            # one prior for their age group (recalibrated with the column), never
            # a score from a history they do not have
            assert out.loc[newbies, f"p_{etype}_{n}"].nunique() == 1
    assert out[schema.IS_NEW_REGISTRANT].sum() < len(out) / 3


def test_method_selects_the_column(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    voters, history = small
    config = dataclasses.replace(
        FAST, score=dataclasses.replace(FAST.score, method="rules")
    )
    result = score_voters(voters, history, election_calendar(history, config), config)
    out = result.voters
    for etype in schema.TARGET_TYPES:
        used = result.report["score_used"][etype]
        if used == "rules":
            assert (out[f"p_{etype}"] == out[f"p_{etype}_rules"]).all()
        else:  # a naive baseline ranked the latest training election better
            assert used in BASELINES
            assert any(
                f"{etype}: the rules score" in w for w in result.report["warnings"]
            )
            assert not (out[f"p_{etype}"] == out[f"p_{etype}_rules"]).all()


def test_target_date_must_be_in_the_future(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    voters, history = small
    config = PlanConfig.from_dict({"score": {"next_state_primary": "2020-09-01"}})
    with pytest.raises(InputError, match="next_state_primary"):
        score_voters(voters, history, election_calendar(history, config), config)


def test_bad_score_config_is_explained() -> None:
    with pytest.raises(ConfigError, match=r"score\.next_state_election"):
        PlanConfig.from_dict({"score": {"next_state_election": "Nov 3"}})


def test_calendar_uses_the_most_common_date_and_warns_on_untyped() -> None:
    hist = _history(
        [("V0", "2018-11-06", SE), ("V1", "2018-11-06", SE), ("V2", "2018-11-07", SE)]
    )
    hist[schema.ELECTION_ID] = "E1"
    extra = _history([("V0", "2019-05-07", SE)])
    extra[schema.ELECTION_TYPE] = None
    hist = pd.concat([hist, extra], ignore_index=True)
    with pytest.warns(DataQualityWarning, match="no type"):
        cal = election_calendar(hist, PlanConfig())
    assert cal.loc["E1", schema.ELECTION_DATE] == pd.Timestamp("2018-11-06")
    assert cal.loc["2019-05-07_state_election", schema.ELECTION_TYPE] == schema.SPECIAL


def test_expected_turnout_shifts_level_not_ranking(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    voters, history = small
    cal = election_calendar(history, FAST)
    base = score_voters(voters, history, cal, FAST).voters
    config = PlanConfig.from_dict(
        {"score": {"backtest": False, "expected_turnout": {"state_primary": 0.4}}}
    )
    out = score_voters(voters, history, cal, config).voters
    for name in propensity.SCORE_NAMES:
        col = f"p_state_primary_{name}"
        assert out[col].mean() == pytest.approx(0.4, abs=0.01)
        assert out[col].rank().corr(base[col].rank()) > 0.999
    pd.testing.assert_series_equal(out["p_state_election"], base["p_state_election"])


def test_new_registrant_since_date(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    voters, history = small
    config = PlanConfig.from_dict(
        {"score": {"backtest": False, "new_registrant_since": "2023-01-01"}}
    )
    out = score_voters(
        voters, history, election_calendar(history, config), config
    ).voters
    recent = pd.to_datetime(voters[schema.REGISTRATION_DATE]) >= "2023-01-01"
    assert recent.any()
    assert out.loc[recent, schema.IS_NEW_REGISTRANT].all()
    assert not out.loc[
        pd.to_datetime(voters[schema.REGISTRATION_DATE]) < "2010-01-01",
        schema.IS_NEW_REGISTRANT,
    ].any()


def test_state_election_scores_learn_from_gubernatorial_years() -> None:
    hist = _history(
        [
            ("V0", d, SE)
            for d in ("2014-11-04", "2016-11-08", "2018-11-06", "2020-11-03")
        ]
    )
    cal = election_calendar(hist, PlanConfig())
    assert cal[schema.IS_GUBERNATORIAL].tolist() == [True, False, True, False]
    mx = features.build_matrix(_voters(party=["D"]), hist, cal)
    cols = mx.elections_of(np.datetime64("2026-11-03"), SE)
    assert [str(mx.dates[c]) for c in cols] == ["2014-11-04", "2018-11-06"]


def test_gbm_grows_small_trees_with_leaves_scaled_to_the_rows(
    small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    voters, history = small
    cal = election_calendar(history, FAST)
    mx = features.build_matrix(voters, history, cal)
    params = FAST.score
    when = np.datetime64(params.next_state_primary)
    train = mx.elections_of(when, SP)[-params.train_elections :]
    fitted = propensity.fit(
        mx, voters, features.door_keys(voters), train, SP, params, 0, inner=False
    )
    gbm = fitted.models["gbm"]
    rows = sum(
        int((mx.eligible[:, c] & mx.eligible[:, :c].any(axis=1)).sum()) for c in train
    )
    assert gbm.min_samples_leaf == max(20, round(propensity.MIN_LEAF_SHARE * rows))
    leaves = [
        int(tree.nodes["is_leaf"].sum()) for stage in gbm._predictors for tree in stage
    ]
    assert max(leaves) <= propensity.GBM_PARAMS["max_leaf_nodes"] == 4
    assert min(leaves) > 1  # it learned something
