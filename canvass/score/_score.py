"""Scoring stage: the election calendar and turnout propensity of every voter.

:func:`election_calendar` types every election in the history by its date, the
file's label and the precincts that voted in it (with overrides from ``[elections]``)
and flags the gubernatorial ones. :func:`score_voters` gives every voter P(vote) in
the next state primary and the next gubernatorial state election (dates in
``[score]``), with all scores side by side (``rules``, ``segment``, fitted
``logistic``/``gbm``; see :mod:`canvass.score._propensity`), each recalibrated on the
latest training election and set to the expected level
(:mod:`canvass.score._calibrate`); ``p_<type>`` is the score the inner check chose,
or the naive baseline that beat it. It labels new registrants, writes a short
history summary for walk lists and runs the hold-out backtest
(:mod:`canvass.score._backtest`).
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
from ..load import typed_calendar
from . import _backtest
from . import _calibrate as calibration
from . import _features as features
from . import _propensity as propensity
from ._calibrate import shift_to_level

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
        score chosen by ``score.method``, or the naive baseline that beat it), one
        recalibrated ``p_<type>_<score>`` column per score,
        ``is_new_registrant`` and ``history`` (summary string for walk lists).
    backtest
        Hold-out metrics (see :func:`canvass.score.run_backtest`); empty when
        ``score.backtest`` is off.
    report
        ``score_used`` (election type -> the score ``p_<type>`` holds: a score
        name or a naive baseline) and ``warnings`` (plain sentences: a baseline
        beat the chosen score).
    """

    voters: pd.DataFrame
    backtest: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def state_of(config: PlanConfig) -> str:
    """Two-letter state of the voter file (``mapping.state``, else by format)."""
    fmt = config.inputs.voter_format
    return config.mapping.state.upper() or {"ma": "MA", "nc": "NC"}.get(fmt, "")


def election_calendar(
    history: pd.DataFrame,
    config: PlanConfig,
    voters: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """
    Build the typed election calendar from the vote history.

    Each election is typed by its date (the November general day, the state's
    primary calendar), the file's label and, given `voters`, the precincts whose
    voters voted in it (:mod:`canvass.load._calendar`; docs/voter-files.md "How
    elections are typed").

    Parameters
    ----------
    history
        Long vote history with ``election_id``, ``election_date`` and
        ``election_type`` (the type the file's label gave) per row.
    config
        Run configuration: the state (``mapping.state``), ``[elections]``
        overrides (an election id or an ISO date -> type) and
        ``score.min_precinct_coverage``.
    voters
        The voter table, for each election's turnout and precinct coverage; None =
        no coverage evidence (no election is retyped for it).

    Returns
    -------
    elections
        Index ``election_id``, sorted by date: ``election_date`` (datetime),
        ``election_type``, ``is_gubernatorial`` (a state election in a
        non-presidential year: in Massachusetts 2014, 2018, 2022 ...), ``label``
        ("2018 State Election"), and the evidence: ``file_type``, ``typed_by``
        (``override``, ``date``, ``label``, ``coverage``), ``why``, ``votes``,
        ``turnout``, ``coverage`` and ``rel_coverage``.

    Raises
    ------
    InputError
        If the history is not usable or an election has no valid date.
    ConfigError
        If an override names an election that is not in the history.
    """
    schema.validate_history(history)
    cal = typed_calendar(
        history,
        voters,
        state=state_of(config),
        overrides=config.elections,
        min_coverage=config.score.min_precinct_coverage,
    )
    if bad := cal.index[cal[schema.ELECTION_DATE].isna()].tolist():
        msg = (
            f"Election(s) {bad[:5]} in the vote history have no valid date; "
            "fix the history file's election dates."
        )
        raise InputError(msg)
    if untyped := cal.index[cal["why"].eq("no type in the file")].tolist():
        warnings.warn(
            f"Election(s) {untyped[:5]} have no type in the vote history; typed as "
            "special. Set their type under [elections] in the config.",
            DataQualityWarning,
            stacklevel=2,
        )
    iso = cal[schema.ELECTION_DATE].dt.strftime("%Y-%m-%d")
    for key in config.elections:
        if not ((cal.index == key) | (iso == key).to_numpy()).any():
            msg = (
                f"`[elections]` override {key!r} matches no election id or date in "
                "the vote history; use an id or a YYYY-MM-DD date from the history."
            )
            raise ConfigError(msg)
    years = cal[schema.ELECTION_DATE].dt.year
    cal[schema.IS_GUBERNATORIAL] = cal[schema.ELECTION_TYPE].eq(
        schema.STATE_ELECTION
    ) & (years % 4 == 2)
    label = years.astype(str) + " " + cal[schema.ELECTION_TYPE].map(_TITLES)
    dupe = label.duplicated(keep=False)
    label[dupe] = label[dupe] + " (" + iso[dupe] + ")"
    dupe = label.duplicated(keep=False)  # two elections on one date
    ids = pd.Series(cal.index, index=cal.index)
    label[dupe] = label[dupe] + " " + ids[dupe]
    cal[schema.LABEL] = label.astype("string")
    cal[schema.ELECTION_TYPE] = cal[schema.ELECTION_TYPE].astype("string")
    cal.index.name = schema.ELECTION_ID
    first = [*schema.ELECTION_COLUMNS]
    cal = cal[first + [c for c in cal.columns if c not in first]]
    schema.validate_elections(cal)
    logger.info(
        "Election calendar: %s elections (%s)",
        f"{len(cal):,}",
        ", ".join(
            f"{t} {n}" for t, n in cal[schema.ELECTION_TYPE].value_counts().items()
        ),
    )
    return cal


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
    for etype, when in _target_dates(config).items():
        if len(mx.dates) and when <= mx.dates.max():
            setting = "next_" + etype
            msg = (
                f"`score.{setting}` ({when}) is not after the latest election in the "
                f"history ({mx.dates.max()}); set it to the upcoming election's date."
            )
            raise InputError(msg)
    result_bt: dict[str, Any] = {}
    if params.backtest:
        result_bt = _backtest.run_backtest(mx, voters, doors, elections, config)
    report: dict[str, Any] = {"score_used": {}, "warnings": []}
    is_new_any = np.zeros(len(voters), dtype=bool)
    for etype, when in _target_dates(config).items():
        train = mx.elections_of(when, etype)[-params.train_elections :]
        age_on = _target_dates(config)[schema.STATE_ELECTION]
        eligible = mx.eligible_on(when, age_on=max(when, age_on))
        level = params.expected_turnout.get(etype)
        if not train:
            warnings.warn(
                f"The vote history has no {etype} election; P(vote) in the next one "
                "falls back to each voter's share of eligible elections voted in.",
                DataQualityWarning,
                stacklevel=2,
            )
            scores, is_new = _fallback(mx, when)
            if level is not None:
                scores = {
                    k: shift_to_level(v, eligible, level) for k, v in scores.items()
                }
            used: str = "gbm" if params.method == "auto" else str(params.method)
        else:
            model = (
                fitted[etype]
                if fitted is not None and etype in fitted
                else propensity.fit(
                    mx, voters, doors, train, etype, params, config.seed
                )
            )
            raw, is_new = propensity.predict(
                model, mx, voters, doors, when, new_since=since
            )
            base = calibration.baselines(mx, when, etype)
            scores = calibration.calibrated(
                model.calibration, {**raw, **base}, eligible, level
            )
            check = model.calibration
            used = check.choice if check is not None else str(params.method)
            used = "gbm" if used == "auto" else used
            if check is not None and check.fallback:
                report["warnings"].append(check.fallback)
            held_out = result_bt.get("fallback", {}).get(etype)
            if held_out:
                used = held_out["use"]
        for name in propensity.SCORE_NAMES:
            out[f"p_{etype}_{name}"] = scores[name]
        out[f"p_{etype}"] = scores[used]
        report["score_used"][etype] = used
        is_new_any |= is_new
    report["warnings"].extend(result_bt.get("warnings", []))
    out[schema.IS_NEW_REGISTRANT] = is_new_any
    now = max(_target_dates(config).values())
    out[HISTORY] = features.history_summary(mx, now, params.window).to_numpy()
    logger.info(
        "Scored %s voters (%s new registrants) with %s; mean P(vote) %s",
        f"{len(out):,}",
        f"{int(is_new_any.sum()):,}",
        ", ".join(f"{t} {m}" for t, m in report["score_used"].items()),
        ", ".join(
            f"{t} {out[f'p_{t}'].mean():.2f}" for t in schema.TARGET_TYPES if len(out)
        ),
    )
    return ScoreResult(voters=out, backtest=result_bt, report=report)


def _fallback(
    mx: features.VoteMatrix, when: np.datetime64
) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    before = mx.columns_before(when)
    voted = mx.voted[:, before].sum(axis=1)
    elig = mx.eligible[:, before].sum(axis=1)
    p = np.round((voted + 0.5) / (elig + 1.0), 6)
    return dict.fromkeys(propensity.SCORE_NAMES, p), np.asarray(elig == 0)
