"""Scoring stage: the election calendar and turnout propensity of every voter.

:func:`election_calendar` types every election in the history (with overrides from
``[elections]`` in the config) and flags the gubernatorial ones. :func:`score_voters`
gives every voter P(vote) in the next state primary and the next gubernatorial
state election (dates in ``[score]``), with all three scores side by side
(``rules``, ``segment``, fitted ``logistic``/``gbm``; see
:mod:`canvass.score._propensity`),
labels new registrants, writes a short history summary for walk lists and runs the
hold-out backtest (:mod:`canvass.score._backtest`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from .. import schema
from ..config import PlanConfig
from ..errors import ConfigError, DataQualityWarning, InputError
from . import _backtest
from . import _features as features
from . import _propensity as propensity

__all__ = [
    "HISTORY",
    "ScoreResult",
    "election_calendar",
    "score_voters",
    "shift_to_level",
]

logger = logging.getLogger(__name__)

#: Column with the short per-voter history summary ("SP 1/4 · SE 2/3 · P 2/2").
HISTORY: Final = "history"

_TITLES: Final = {
    schema.STATE_PRIMARY: "State Primary",
    schema.STATE_ELECTION: "State Election",
    schema.PRESIDENTIAL_PRIMARY: "Presidential Primary",
    schema.PRESIDENTIAL_ELECTION: "Presidential Election",
    schema.MUNICIPAL: "Municipal Election",
    schema.SPECIAL: "Special Election",
}


@dataclass(frozen=True)
class ScoreResult:
    """
    Scored voters and the backtest.

    Parameters
    ----------
    voters
        Copy of the input with ``p_state_primary`` and ``p_state_election`` (the
        score chosen by ``score.method``), one ``p_<type>_<score>`` column per score,
        ``is_new_registrant`` and ``history`` (summary string for walk lists).
    backtest
        Hold-out metrics (see :func:`canvass.score.run_backtest`); empty when
        ``score.backtest`` is off.
    """

    voters: pd.DataFrame
    backtest: dict[str, Any] = field(default_factory=dict)


def election_calendar(history: pd.DataFrame, config: PlanConfig) -> pd.DataFrame:
    """
    Build the election calendar from the vote history.

    Parameters
    ----------
    history
        Long vote history with ``election_id``, ``election_date`` and
        ``election_type`` per row.
    config
        Run configuration; ``config.elections`` maps an election id or an ISO date
        to the type it should have (for example a town election the file typed as a
        special).

    Returns
    -------
    elections
        Index ``election_id``, sorted by date: ``election_date`` (datetime),
        ``election_type``, ``is_gubernatorial`` (a state election in a
        non-presidential year: in Massachusetts 2014, 2018, 2022 ...) and ``label``
        ("2018 State Election").

    Raises
    ------
    InputError
        If the history is not usable or an election has no valid date.
    ConfigError
        If an override names an election that is not in the history.
    """
    schema.validate_history(history)
    # one small table of (election, date, type) combinations, then the most common
    # date and type of each election: fast on tens of millions of history rows
    combos = (
        history.groupby(
            [schema.ELECTION_ID, schema.ELECTION_DATE, schema.ELECTION_TYPE],
            dropna=False,
            observed=True,
        )
        .size()
        .rename("n")
        .reset_index()
    )
    combos[schema.ELECTION_ID] = combos[schema.ELECTION_ID].astype(str)
    combos[schema.ELECTION_DATE] = pd.to_datetime(
        combos[schema.ELECTION_DATE], errors="coerce"
    )
    combos[schema.ELECTION_TYPE] = combos[schema.ELECTION_TYPE].astype("string")
    cal = pd.DataFrame(
        {
            schema.ELECTION_DATE: _mode(combos, schema.ELECTION_DATE),
            schema.ELECTION_TYPE: _mode(combos, schema.ELECTION_TYPE),
        }
    )
    if bad := cal.index[cal[schema.ELECTION_DATE].isna()].tolist():
        msg = (
            f"Election(s) {bad[:5]} in the vote history have no valid date; "
            "fix the history file's election dates."
        )
        raise InputError(msg)
    if untyped := cal.index[cal[schema.ELECTION_TYPE].isna()].tolist():
        warnings.warn(
            f"Election(s) {untyped[:5]} have no type in the vote history; typed as "
            "special. Set their type under [elections] in the config.",
            DataQualityWarning,
            stacklevel=2,
        )
        cal[schema.ELECTION_TYPE] = cal[schema.ELECTION_TYPE].fillna(schema.SPECIAL)
    iso = cal[schema.ELECTION_DATE].dt.strftime("%Y-%m-%d")
    for key, etype in config.elections.items():
        hit = (cal.index == key) | (iso == key).to_numpy()
        if not hit.any():
            msg = (
                f"`[elections]` override {key!r} matches no election id or date in "
                "the vote history; use an id or a YYYY-MM-DD date from the history."
            )
            raise ConfigError(msg)
        cal.loc[hit, schema.ELECTION_TYPE] = etype
    years = cal[schema.ELECTION_DATE].dt.year
    cal[schema.IS_GUBERNATORIAL] = cal[schema.ELECTION_TYPE].eq(
        schema.STATE_ELECTION
    ) & (years % 4 == 2)
    label = years.astype(str) + " " + cal[schema.ELECTION_TYPE].map(_TITLES)
    dupe = label.duplicated(keep=False)
    label[dupe] = label[dupe] + " (" + iso[dupe] + ")"
    cal[schema.LABEL] = label.astype("string")
    cal.index.name = schema.ELECTION_ID
    cal = cal.sort_values(schema.ELECTION_DATE, kind="stable")
    schema.validate_elections(cal)
    logger.info(
        "Election calendar: %s elections (%s)",
        f"{len(cal):,}",
        ", ".join(
            f"{t} {n}" for t, n in cal[schema.ELECTION_TYPE].value_counts().items()
        ),
    )
    return cal


def _mode(combos: pd.DataFrame, column: str) -> pd.Series:
    """Most common non-missing value of `column` per election (ties: the first)."""
    counts = (
        combos.dropna(subset=[column])
        .groupby([schema.ELECTION_ID, column], sort=True)["n"]
        .sum()
        .reset_index()
        .sort_values("n", ascending=False, kind="stable")
        .drop_duplicates(schema.ELECTION_ID)
        .set_index(schema.ELECTION_ID)[column]
    )
    ids = pd.Index(sorted(combos[schema.ELECTION_ID].unique()), name=schema.ELECTION_ID)
    return counts.reindex(ids)


def _target_dates(config: PlanConfig) -> dict[str, np.datetime64]:
    return {
        schema.STATE_PRIMARY: np.datetime64(config.score.next_state_primary, "D"),
        schema.STATE_ELECTION: np.datetime64(config.score.next_state_election, "D"),
    }


def score_voters(
    voters: pd.DataFrame,
    history: pd.DataFrame,
    elections: pd.DataFrame,
    config: PlanConfig,
    *,
    fitted: Mapping[str, propensity.FittedScores] | None = None,
) -> ScoreResult:
    """
    Score every voter's turnout in the next state primary and state election.

    Parameters
    ----------
    voters
        Canonical voter table (index ``voter_id``); a ``door_id`` column, when
        present, groups households (else the street address does).
    history
        Long vote history (``party_voted`` is used when present).
    elections
        The calendar from :func:`election_calendar`.
    config
        Run configuration (``[score]`` and ``seed``).
    fitted
        Models already fitted per election type (e.g. once on a statewide sample by
        :mod:`canvass.statewide`, with the same `elections` calendar); those types
        are only predicted, not refitted.

    Returns
    -------
    result
        Scored copy of `voters` and the backtest metrics.

    Raises
    ------
    InputError
        If a table is not usable, or a target election date is not after the
        latest election in the history.
    """
    schema.validate_voters(voters)
    schema.validate_history(history)
    schema.validate_elections(elections)
    params = config.score
    mx = features.build_matrix(voters, history, elections)
    doors = features.door_keys(voters)
    out = voters.copy()
    since = (
        np.datetime64(params.new_registrant_since, "D")
        if params.new_registrant_since
        else None
    )
    is_new_any = np.zeros(len(voters), dtype=bool)
    for etype, when in _target_dates(config).items():
        if len(mx.dates) and when <= mx.dates.max():
            setting = "next_" + etype
            msg = (
                f"`score.{setting}` ({when}) is not after the latest election in the "
                f"history ({mx.dates.max()}); set it to the upcoming election's date."
            )
            raise InputError(msg)
        train = mx.elections_of(when, etype)[-params.train_elections :]
        if not train:
            warnings.warn(
                f"The vote history has no {etype} election; P(vote) in the next one "
                "falls back to each voter's share of eligible elections voted in.",
                DataQualityWarning,
                stacklevel=2,
            )
            scores, is_new = _fallback(mx, when)
        else:
            model = (
                fitted[etype]
                if fitted is not None and etype in fitted
                else propensity.fit(
                    mx, voters, doors, train, etype, params, config.seed
                )
            )
            scores, is_new = propensity.predict(
                model, mx, voters, doors, when, new_since=since
            )
        if etype in params.expected_turnout:
            age_on = _target_dates(config)[schema.STATE_ELECTION]
            eligible = mx.eligible_on(when, age_on=max(when, age_on))
            level = params.expected_turnout[etype]
            scores = {k: shift_to_level(v, eligible, level) for k, v in scores.items()}
        for name in propensity.SCORE_NAMES:
            out[f"p_{etype}_{name}"] = scores[name]
        out[f"p_{etype}"] = scores[params.method]
        is_new_any |= is_new
    out[schema.IS_NEW_REGISTRANT] = is_new_any
    now = max(_target_dates(config).values())
    out[HISTORY] = features.history_summary(mx, now, params.window).to_numpy()
    result_bt: dict[str, Any] = {}
    if params.backtest:
        result_bt = _backtest.run_backtest(mx, voters, doors, elections, config)
    logger.info(
        "Scored %s voters (%s new registrants) with %s; mean P(vote) %s",
        f"{len(out):,}",
        f"{int(is_new_any.sum()):,}",
        params.method,
        ", ".join(
            f"{t} {out[f'p_{t}'].mean():.2f}" for t in schema.TARGET_TYPES if len(out)
        ),
    )
    return ScoreResult(voters=out, backtest=result_bt)


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


def _fallback(
    mx: features.VoteMatrix, when: np.datetime64
) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    before = mx.columns_before(when)
    voted = mx.voted[:, before].sum(axis=1)
    elig = mx.eligible[:, before].sum(axis=1)
    p = np.round((voted + 0.5) / (elig + 1.0), 6)
    return dict.fromkeys(propensity.SCORE_NAMES, p), np.asarray(elig == 0)
