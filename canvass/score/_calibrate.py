"""Scoring stage, part 4: naive baselines, recalibration and the choice of score.

Turnout levels move between elections (an Ohio gubernatorial election drew 46 % in
2014 and 63 % in 2018), so a score fitted on past elections ranks well but its
probabilities carry the old level. :func:`inner_check` refits the scores without the
latest training election and scores it blind, which gives, per score:

* its *inner AUC*, used to pick the score (``score.method = "auto"``) and to check it
  against the naive baselines (:data:`BASELINES`); a baseline that ranks better
  replaces the chosen score, with a warning;
* a recalibration of the *shape* (Platt: a logistic regression on the log-odds,
  which keeps the ranking; or isotonic);
* the baselines' own calibration (observed turnout per baseline value).

:func:`calibrated` applies all that and then sets the *level* on the log-odds scale:
``score.expected_turnout`` when configured, else the mean turnout of the training
elections of the type.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from ..config import ScoreParams
from ._features import VoteMatrix

__all__ = [
    "BASELINES",
    "Calibration",
    "baselines",
    "calibrated",
    "inner_check",
    "shift_to_level",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The naive baselines, over the last four elections of the type (for a state
#: election: the gubernatorial ones): voted in the latest; votes / 4; votes /
#: elections the voter was eligible for.
BASELINES: Final = ("voted_last", "count_last4", "share_last4")
_PRIOR_M: Final = 5.0  # pseudo-voters pulling a baseline value's rate to the mean
_EPS: Final = 1e-6


@dataclass(frozen=True)
class Calibration:
    """
    What the inner check on the latest training election learned.

    Parameters
    ----------
    kind
        ``platt``, ``isotonic`` or ``none``.
    level
        Mean turnout of the training elections of the type (eligible voters).
    choice
        Score to use: a name of :data:`canvass.score.SCORE_NAMES` or a baseline.
    inner_auc
        AUC of every score and baseline on the latest training election, fitted
        without it (empty when there was no earlier election to fit on).
    platt
        Score -> (slope, intercept) on the log-odds.
    isotonic
        Score -> fitted ``IsotonicRegression``.
    baseline_rates
        Baseline -> table of observed turnout per baseline value.
    fallback
        A plain sentence when a baseline replaced the chosen score, else ``""``.
    """

    kind: str
    level: float
    choice: str
    inner_auc: dict[str, float] = field(default_factory=dict)
    platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    isotonic: dict[str, Any] = field(default_factory=dict)
    baseline_rates: dict[str, pd.DataFrame] = field(default_factory=dict)
    fallback: str = ""


def baselines(mx: VoteMatrix, when: np.datetime64, etype: str) -> dict[str, FloatArray]:
    """
    Compute the naive baselines of every voter for an election of `etype`.

    ``share_last4`` is NaN for voters eligible for none of the four elections.
    """
    cols = mx.elections_of(when, etype)[-4:]
    n = mx.voted.shape[0]
    if not cols:
        zero = np.zeros(n)
        return {"voted_last": zero, "count_last4": zero, "share_last4": zero + np.nan}
    voted = mx.voted[:, cols].sum(axis=1).astype(float)
    elig = mx.eligible[:, cols].sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(elig > 0, voted / np.maximum(elig, 1), np.nan)
    return {
        "voted_last": mx.voted[:, cols[-1]].astype(float),
        "count_last4": voted / len(cols),
        "share_last4": share,
    }


def auc(y: BoolArray, p: FloatArray) -> float:
    """ROC AUC, with NaN scores ranked lowest."""
    return float(roc_auc_score(y, np.nan_to_num(p, nan=-1.0)))


def _logit(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(clipped / (1 - clipped)))


def _expit(x: FloatArray) -> FloatArray:
    return np.asarray(1 / (1 + np.exp(-np.clip(x, -30.0, 30.0))))


def _value_key(values: FloatArray) -> npt.NDArray[np.int64]:
    return np.asarray(np.round(np.nan_to_num(values, nan=-1.0) * 1e4), dtype=np.int64)


def _rate_table(values: FloatArray, y: BoolArray) -> pd.DataFrame:
    keys = _value_key(values)
    frame = pd.DataFrame({"key": keys, "y": y.astype(float)})
    table = frame.groupby("key")["y"].agg(["sum", "count"])
    prior = float(y.mean())
    table["rate"] = (table["sum"] + _PRIOR_M * prior) / (table["count"] + _PRIOR_M)
    table.attrs["prior"] = prior
    return table


def _apply_rates(table: pd.DataFrame, values: FloatArray) -> FloatArray:
    rates = pd.Series(_value_key(values)).map(table["rate"])
    return np.asarray(
        rates.fillna(float(table.attrs.get("prior", 0.5))).to_numpy(dtype=float)
    )


def inner_check(
    etype: str,
    y: BoolArray,
    scores: dict[str, FloatArray],
    base: dict[str, FloatArray],
    params: ScoreParams,
    level: float,
) -> Calibration:
    """
    Learn from the latest training election, scored blind.

    Parameters
    ----------
    etype
        The election type.
    y
        Who of the eligible voters voted in the latest training election.
    scores
        Each score of the models fitted without that election, for the same
        voters (raw probabilities).
    base
        The naive baselines of the same voters as of just before it.
    params
        ``method`` and ``calibrate``.
    level
        Mean turnout of the training elections of the type.

    Returns
    -------
    calibration
        Recalibration, level and the score to use.
    """
    aucs = {n: round(auc(y, p), 4) for n, p in scores.items()}
    for name in BASELINES:
        aucs[name] = round(auc(y, base[name]), 4)
    platt: dict[str, tuple[float, float]] = {}
    isotonic: dict[str, Any] = {}
    for name, p in scores.items():
        if params.calibrate == "platt":
            lr = LogisticRegression(C=1e6, max_iter=1000)
            lr.fit(_logit(p)[:, None], y)
            platt[name] = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
        elif params.calibrate == "isotonic":
            iso = IsotonicRegression(
                out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4
            ).fit(p, y)
            isotonic[name] = iso
    rates = {n: _rate_table(base[n], y) for n in BASELINES}
    if params.method == "auto":  # ties: the simpler score
        choice = max(scores, key=lambda n: aucs[n])
    else:
        choice = params.method
    best = max(BASELINES, key=lambda n: aucs[n])
    fallback = ""
    if aucs[best] > aucs[choice]:
        fallback = (
            f"{etype}: the {choice} score ranked the latest training election "
            f"worse (AUC {aucs[choice]:.3f}) than the naive baseline {best} "
            f"({aucs[best]:.3f}); P(vote) uses {best} instead."
        )
        logger.warning("%s", fallback)
        choice = best
    return Calibration(
        kind=params.calibrate,
        level=level,
        choice=choice,
        inner_auc=aucs,
        platt=platt,
        isotonic=isotonic,
        baseline_rates=rates,
        fallback=fallback,
    )


def calibrated(
    calibration: Calibration | None,
    scores: dict[str, FloatArray],
    eligible: BoolArray,
    level: float | None = None,
) -> dict[str, FloatArray]:
    """
    Recalibrated probabilities of the scores and baselines, at the wanted level.

    Parameters
    ----------
    calibration
        From :func:`inner_check`; None = the level shift only.
    scores
        Raw scores and baselines by name (full length).
    eligible
        Voters the level is the mean over.
    level
        Wanted mean turnout; None = the calibration's training level (none: no
        shift).

    Returns
    -------
    probabilities
        Same names; rounded to 6 decimals.
    """
    out: dict[str, FloatArray] = {}
    for name, values in scores.items():
        p = np.asarray(values, dtype=float)
        if calibration is not None:
            if name in calibration.baseline_rates:
                p = _apply_rates(calibration.baseline_rates[name], p)
            elif name in calibration.platt:
                a, b = calibration.platt[name]
                p = _expit(a * _logit(p) + b)
            elif name in calibration.isotonic:
                p = np.asarray(calibration.isotonic[name].predict(p), dtype=float)
        p = np.nan_to_num(p, nan=0.0)
        target = (
            level
            if level is not None
            else (calibration.level if calibration is not None else None)
        )
        if target is not None and 0 < target < 1:
            p = shift_to_level(p, eligible, target)
        out[name] = np.round(np.clip(p, 0.0, 1.0), 6)
    return out


def shift_to_level(
    p: np.ndarray[Any, Any], eligible: np.ndarray[Any, Any], level: float
) -> np.ndarray[Any, Any]:
    """
    Shift probabilities on the log-odds scale so their mean over `eligible` is `level`.

    Parameters
    ----------
    p
        Probabilities in [0, 1].
    eligible
        Boolean mask of the voters the mean is taken over.
    level
        Wanted mean turnout, in (0, 1).

    Returns
    -------
    shifted
        Same ranking, new level (rounded to 6 decimals).
    """
    if not eligible.any():
        return p
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    logit = np.log(clipped / (1 - clipped))
    lo, hi = -15.0, 15.0
    for _ in range(60):  # bisection: the mean is increasing in the shift
        mid = (lo + hi) / 2
        mean = float((1 / (1 + np.exp(-(logit[eligible] + mid)))).mean())
        lo, hi = (mid, hi) if mean < level else (lo, mid)
    shifted = 1 / (1 + np.exp(-(logit + (lo + hi) / 2)))
    return np.asarray(np.round(shifted, 6))
