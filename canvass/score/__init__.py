"""Stage 3, score: turnout propensity per election type, and its backtest.

:func:`election_calendar` types the elections of the history, :func:`score_voters`
fits and applies the scores, :func:`run_backtest` measures them on the latest
election of each type held out.
"""

from __future__ import annotations

from ._backtest import (
    BASELINES,
    format_backtest,
    format_calendar,
    run_backtest,
    write_backtest_report,
)
from ._calibrate import Calibration, baselines, calibrated, shift_to_level
from ._features import VoteMatrix, area_keys, build_matrix, door_keys, features_as_of
from ._propensity import SCORE_NAMES, FittedScores, feature_windows, fit
from ._score import HISTORY, ScoreResult, election_calendar, score_voters, state_of

__all__ = [
    "BASELINES",
    "HISTORY",
    "SCORE_NAMES",
    "Calibration",
    "FittedScores",
    "ScoreResult",
    "VoteMatrix",
    "area_keys",
    "baselines",
    "build_matrix",
    "calibrated",
    "door_keys",
    "election_calendar",
    "feature_windows",
    "features_as_of",
    "fit",
    "format_backtest",
    "format_calendar",
    "run_backtest",
    "score_voters",
    "shift_to_level",
    "state_of",
    "write_backtest_report",
]
