"""The oracle-ceiling bench uses the backtest's features, from earlier elections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _bench import load_bench
from synth_people import make_people

from canvass import schema
from canvass.config import PlanConfig
from canvass.score import (
    VoteMatrix,
    area_keys,
    build_matrix,
    door_keys,
    election_calendar,
    features_as_of,
    fit,
)

ceiling = load_bench("score_ceiling")
CONFIG = PlanConfig.from_dict({"score": {"backtest": False}})


@pytest.fixture(scope="module")
def town() -> tuple[VoteMatrix, pd.DataFrame, np.ndarray]:
    voters, history = make_people(400, seed=3)
    cal = election_calendar(history, CONFIG)
    return build_matrix(voters, history, cal), voters, door_keys(voters)


@pytest.mark.parametrize("etype", [schema.STATE_PRIMARY, schema.STATE_ELECTION])
def test_features_are_those_the_backtest_scores_with(
    town: tuple[VoteMatrix, pd.DataFrame, np.ndarray], etype: str
) -> None:
    mx, voters, doors = town
    params = CONFIG.score
    cols = mx.elections_of(np.datetime64("9999-12-31"), etype)
    hold = cols[-1]
    train = cols[:-1][-params.train_elections :]
    fitted = fit(mx, voters, doors, train, etype, params, 0, current=False, inner=False)
    expected = features_as_of(
        mx,
        voters,
        doors,
        mx.dates[hold],
        etype,
        fitted.k,
        fitted.windows,
        fitted.n_all,
        current=False,
        areas=area_keys(voters),
    )
    got = ceiling.election_features(mx, voters, doors, hold, etype, params)
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert not any(c.startswith(("party_", "active")) for c in got.columns)


def test_every_earlier_election_and_never_the_held_out_one(
    town: tuple[VoteMatrix, pd.DataFrame, np.ndarray],
) -> None:
    mx, voters, doors = town
    cols = mx.elections_of(np.datetime64("9999-12-31"), schema.STATE_PRIMARY)
    hold = cols[-1]
    got = ceiling.election_features(
        mx, voters, doors, hold, schema.STATE_PRIMARY, CONFIG.score, "all"
    )
    earlier = mx.columns_before(mx.dates[hold])
    one_by_one = [c for c in got.columns if c.startswith("e") and c[1:].isdigit()]
    assert one_by_one == [f"e{j}" for j in earlier]
    for j in earlier:
        values = got[f"e{j}"].to_numpy()
        eligible = mx.eligible[:, j]
        assert np.isnan(values[~eligible]).all()
        np.testing.assert_array_equal(values[eligible], mx.voted[eligible, j])
    y = mx.voted[:, hold].astype(np.float32)
    for name in got.columns:  # no column is the label itself
        assert not np.array_equal(got[name].to_numpy(), y), name


def test_exits_with_a_message_without_the_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ceiling.real_scores, "DATA", tmp_path / "absent")
    monkeypatch.setattr("sys.argv", ["score_ceiling.py"])
    assert ceiling.main() == 0
    assert "not found; nothing to measure" in capsys.readouterr().out
