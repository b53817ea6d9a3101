"""Parameters of the targeting, turf, routing and output stages.

Frozen dataclasses, each checking itself in ``__post_init__`` with a message that names
the setting and the fix. :class:`canvass.config.PlanConfig` groups them with the input
parameters and reads them from ``canvass.toml``; import them from ``canvass.config``.
The targeting stages' parameters are defined here, the field stages' (walking, turfs,
routes, outputs, the campaign) in ``canvass/_field_params.py``, re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ._checks import fraction, iso_date, positive
from ._field_params import (
    BUILTIN_QUESTIONS,
    SLOTS,
    CampaignParams,
    OutputParams,
    RouteParams,
    TurfParams,
    WalkParams,
)
from .errors import ConfigError

__all__ = [
    "BUILTIN_QUESTIONS",
    "SLOTS",
    "CampaignParams",
    "LiftParams",
    "OutputParams",
    "RouteParams",
    "ScoreParams",
    "SupportersParams",
    "TargetParams",
    "TurfParams",
    "UniverseParams",
    "WalkParams",
    "default_universes",
]


@dataclass(frozen=True, slots=True)
class UniverseParams:
    """
    One named target universe (``[universes.<name>]`` in the TOML file).

    Parameters
    ----------
    kind
        ``low_propensity`` (P(vote) at most `max_p` for the target election),
        ``band`` (P(vote) within [`min_p`, `max_p`]), ``drop_off`` (voted in
        presidential elections only) or ``new_registrants`` (no history yet).
    min_p, max_p
        Propensity bounds for ``low_propensity`` and ``band``.
    parties
        Enrollment codes eligible for the universe; empty = everyone. For a
        Massachusetts Democratic primary use ``["D", "U"]`` (unenrolled voters may
        take a party ballot).
    max_voted, of_last
        Transparent rule for ``low_propensity``: when `max_voted` is 0 or more, pick
        voters who voted in at most `max_voted` of the last `of_last` elections of
        the target type they were eligible for (instead of ``P(vote) <= max_p``).
    include_new_registrants
        Let new registrants (no history, scored by a prior) into a
        ``low_propensity`` or ``band`` universe; off by default, they have their
        own universe kind.
    among
        Whom the universe is drawn from: ``all`` voters, the ``supporters`` matched
        from ``[supporters]`` lists, supporters and their ``households`` (voters at
        a supporter's door), or ``lookalikes`` (those plus voters of the precinct,
        age band and party groups where supporters are over-represented; see
        ``supporters.lookalike_ratio``).
    """

    kind: Literal["low_propensity", "band", "drop_off", "new_registrants"] = (
        "low_propensity"
    )
    min_p: float = 0.0
    max_p: float = 0.5
    parties: tuple[str, ...] = ()
    max_voted: int = -1
    of_last: int = 4
    include_new_registrants: bool = False
    among: Literal["all", "supporters", "households", "lookalikes"] = "all"

    def __post_init__(self) -> None:
        amongs = ("all", "supporters", "households", "lookalikes")
        if self.among not in amongs:
            msg = f"universe `among` must be one of {amongs}, got {self.among!r}."
            raise ConfigError(msg)
        if self.of_last < 1 or self.max_voted >= self.of_last:
            msg = (
                f"universe `of_last` ({self.of_last}) must be at least 1 and above "
                f"`max_voted` ({self.max_voted}); e.g. max_voted = 1, of_last = 4."
            )
            raise ConfigError(msg)
        kinds = ("low_propensity", "band", "drop_off", "new_registrants")
        if self.kind not in kinds:
            msg = f"universe kind must be one of {kinds}, got {self.kind!r}."
            raise ConfigError(msg)
        fraction("universe", "min_p", self.min_p)
        fraction("universe", "max_p", self.max_p)
        if self.min_p > self.max_p:
            msg = f"universe `min_p` ({self.min_p}) is above `max_p` ({self.max_p})."
            raise ConfigError(msg)


def default_universes() -> dict[str, UniverseParams]:
    """Return the universes a run knows without a ``[universes]`` table."""
    return {
        "primary_low_propensity": UniverseParams(
            kind="band", min_p=0.05, max_p=0.6, parties=("D", "U")
        ),
        "gubernatorial_low_propensity": UniverseParams(
            kind="band", min_p=0.1, max_p=0.65, parties=()
        ),
        "drop_off": UniverseParams(kind="drop_off"),
        "new_registrants": UniverseParams(kind="new_registrants", parties=("D", "U")),
        "supporters_primary": UniverseParams(
            kind="low_propensity", max_p=0.6, parties=("D", "U"), among="supporters"
        ),
        "supporters_gubernatorial": UniverseParams(
            kind="low_propensity", max_p=0.65, among="supporters"
        ),
        "supporter_households": UniverseParams(
            kind="band", min_p=0.05, max_p=0.65, among="households"
        ),
        "supporter_lookalikes": UniverseParams(
            kind="band", min_p=0.05, max_p=0.65, parties=("D", "U"), among="lookalikes"
        ),
    }


@dataclass(frozen=True, slots=True)
class SupportersParams:
    """
    The chapter's supporter lists and how they are matched to the voter file.

    Parameters
    ----------
    files
        Supporter lists (CSV, TSV or XLSX; paths or globs relative to the config).
        Empty = no supporters: ``canvass run`` ignores the section.
    sheet
        XLSX sheet name; empty = the first sheet.
    columns
        canvass field -> the file's column, for columns the built-in header names
        of the organising tools miss (docs/supporters.md lists every field).
    match_probability
        A supporter is matched to the voter whose match probability reaches this.
    review_probability
        Best pairs from this probability up to `match_probability` go to
        ``review.csv`` for a person to decide.
    target_precision
        When above 0, the threshold is chosen per list instead of
        `match_probability`: the lowest one (not below `review_probability`)
        whose matches the model expects to be this precise, the mean of their
        match probabilities (e.g. 0.99); none reaching it leaves every pair to
        review. 0 = use `match_probability`.
    volunteer_tags, donor_tags, event_tags
        Words that mark a tag (or event name) as volunteer, donor or event
        attendee, compared without case as parts of the tag text.
    contact_on_walk_lists
        Print matched supporters' list e-mail and phone on walk lists and route
        pages; off by default (the list's contact data stays off the doors).
    lookalike_ratio
        A voter group (precinct x age band x party) is "like the supporters" when
        its share of supporters is at least this many times the file's share.
    em_max_pairs
        Record pairs sampled for each expectation-maximisation training pass.
    """

    files: tuple[str, ...] = ()
    sheet: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    match_probability: float = 0.9
    review_probability: float = 0.2
    target_precision: float = 0.0
    volunteer_tags: tuple[str, ...] = ("volunteer", "canvasser", "phonebanker")
    donor_tags: tuple[str, ...] = ("donor", "donat", "contribut")
    event_tags: tuple[str, ...] = ("event", "attend", "rally", "meeting")
    contact_on_walk_lists: bool = False
    lookalike_ratio: float = 1.5
    em_max_pairs: int = 1_000_000

    def __post_init__(self) -> None:
        fraction("supporters", "match_probability", self.match_probability)
        fraction("supporters", "review_probability", self.review_probability)
        if not 0 <= self.target_precision < 1:
            msg = (
                "`supporters.target_precision` must be at least 0 (off) and below 1, "
                f"e.g. 0.99; got {self.target_precision}."
            )
            raise ConfigError(msg)
        if not 0 < self.review_probability <= self.match_probability < 1:
            msg = (
                "`supporters.review_probability` must be above 0 and at most "
                "`supporters.match_probability`, which must be below 1; got "
                f"{self.review_probability} and {self.match_probability}."
            )
            raise ConfigError(msg)
        positive("supporters", "lookalike_ratio", self.lookalike_ratio)
        positive("supporters", "em_max_pairs", self.em_max_pairs)


@dataclass(frozen=True, slots=True)
class ScoreParams:
    """
    How turnout propensity is scored.

    Parameters
    ----------
    method
        Score used for targeting: ``auto`` (per election type, the score that ranked
        the latest training election best when fitted on the ones before it),
        ``gbm`` (gradient boosting), ``logistic``, ``segment`` (observed turnout of
        the voter's history segment) or ``rules``. Whichever it is, a naive baseline
        that beats it (in that inner check, or on the backtest's held-out
        election) replaces it, with a warning in the run summary.
    window
        Number of past elections of the same type used as features (k).
    backtest
        Run the hold-out backtest and write its report.
    next_state_primary, next_state_election
        ISO dates of the target elections scored (the next state primary and the
        next gubernatorial state election); used for age and registration
        eligibility. Defaults: Massachusetts 2026 (primary moved to 1 September by
        St. 2025, c. 34; state election 3 November).
    train_elections
        Number of latest past elections of each type the scores are fitted on.
    new_registrant_since
        ISO date; voters registered on or after it are new registrants even if they
        were eligible for an election before (empty = only voters never eligible
        for any election in the history).
    max_train_rows
        Fit the models on at most this many voter-election rows (a seeded sample).
    shrink
        Pseudo-count pulling small segments' turnout toward their parent segment.
    expected_turnout
        Optional turnout you expect in the target election, by type (for example
        ``{state_primary = 0.28}``): every score is shifted on the log-odds scale so
        that its mean over the eligible voters equals it (ranking unchanged). Empty
        = the mean turnout of the training elections of that type.
    calibrate
        How the probabilities are recalibrated on the latest training election
        before the level is set: ``platt`` (logistic on the log-odds; keeps the
        ranking), ``isotonic`` or ``none``.
    train_pool
        Also fit on the presidential counterpart (presidential primaries for a state
        primary, presidential elections for a state election): the latest
        `train_pool` elections of both kinds together (0 = only the type itself).
    min_precinct_coverage
        An election typed statewide by its date and label is typed special when
        voters of fewer than this share as many precincts voted in it as in the
        best-covered election of the file.
    """

    method: Literal["auto", "gbm", "logistic", "segment", "rules"] = "auto"
    window: int = 4
    backtest: bool = True
    next_state_primary: str = "2026-09-01"
    next_state_election: str = "2026-11-03"
    train_elections: int = 2
    new_registrant_since: str = ""
    max_train_rows: int = 200_000
    shrink: float = 20.0
    expected_turnout: dict[str, float] = field(default_factory=dict)
    calibrate: Literal["platt", "isotonic", "none"] = "platt"
    train_pool: int = 0
    min_precinct_coverage: float = 0.5

    def __post_init__(self) -> None:
        if self.calibrate not in ("platt", "isotonic", "none"):
            msg = (
                "`score.calibrate` must be platt, isotonic or none, "
                f"got {self.calibrate!r}."
            )
            raise ConfigError(msg)
        if self.train_pool < 0:
            msg = f"`score.train_pool` must be 0 or more, got {self.train_pool}."
            raise ConfigError(msg)
        if not 0.0 <= self.min_precinct_coverage <= 1.0:
            msg = (
                "`score.min_precinct_coverage` must be between 0 and 1, "
                f"got {self.min_precinct_coverage}."
            )
            raise ConfigError(msg)
        for key, value in self.expected_turnout.items():
            if key not in ("state_primary", "state_election"):
                msg = (
                    f"`score.expected_turnout` key {key!r} must be state_primary or "
                    "state_election."
                )
                raise ConfigError(msg)
            if not 0.0 < value < 1.0:
                msg = (
                    f"`score.expected_turnout.{key}` must be between 0 and 1 "
                    f"(exclusive), got {value}."
                )
                raise ConfigError(msg)
        if self.window < 1:
            msg = f"`score.window` must be at least 1, got {self.window}."
            raise ConfigError(msg)
        if self.train_elections < 1:
            msg = (
                "`score.train_elections` must be at least 1, "
                f"got {self.train_elections}."
            )
            raise ConfigError(msg)
        positive("score", "max_train_rows", self.max_train_rows)
        positive("score", "shrink", self.shrink, allow_zero=True)
        for name in (
            "next_state_primary",
            "next_state_election",
            "new_registrant_since",
        ):
            iso_date(
                "score", name, getattr(self, name), allow_empty=name.startswith("new")
            )


@dataclass(frozen=True, slots=True)
class TargetParams:
    """
    Which election the campaign works for and whom it knocks.

    Parameters
    ----------
    election_type
        ``state_primary`` or ``state_election`` (gubernatorial in Massachusetts).
    universe
        Name of the universe in ``[universes]`` to knock.
    suppress
        Standard suppressions: any of ``inactive``, ``moved``, ``deceased``,
        ``do_not_knock``.
    moved_statuses, deceased_statuses
        Voter status codes (upper case) that mean the voter moved away or died;
        optional ``moved``/``deceased`` true/false columns and a ``status_reason``
        text column are used too when the voter file has them.
    """

    election_type: Literal["state_primary", "state_election"] = "state_primary"
    universe: str = "primary_low_propensity"
    suppress: tuple[str, ...] = ("inactive", "moved", "deceased", "do_not_knock")
    moved_statuses: tuple[str, ...] = ("M", "MOVED", "R", "REMOVED")
    deceased_statuses: tuple[str, ...] = ("D", "DECEASED")

    def __post_init__(self) -> None:
        known = ("inactive", "moved", "deceased", "do_not_knock")
        if bad := sorted(set(self.suppress) - set(known)):
            msg = f"`target.suppress` has unknown value(s) {bad}; use any of {known}."
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class LiftParams:
    """
    Expected extra votes from a knock: effect(propensity) x contact rate.

    Parameters
    ----------
    contact_rate
        Share of knocked doors where someone answers (DOMAIN.md 3.2: 10-30 %).
    curve_p, curve_effect
        Piecewise-linear effect curve: turnout lift (in probability points) among
        contacted voters at the given propensities. The default peaks at middle
        propensity, as the field evidence for low-salience races says (DOMAIN.md 2.3).
    """

    contact_rate: float = 0.25
    curve_p: tuple[float, ...] = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
    curve_effect: tuple[float, ...] = (0.0, 0.02, 0.07, 0.09, 0.07, 0.03, 0.0)

    def __post_init__(self) -> None:
        fraction("lift", "contact_rate", self.contact_rate)
        if len(self.curve_p) != len(self.curve_effect) or len(self.curve_p) < 2:
            msg = (
                "`lift.curve_p` and `lift.curve_effect` must have the same length "
                f"(at least 2), got {len(self.curve_p)} and {len(self.curve_effect)}."
            )
            raise ConfigError(msg)
        if list(self.curve_p) != sorted(self.curve_p):
            msg = "`lift.curve_p` must be increasing."
            raise ConfigError(msg)
