"""Parameters of the targeting, turf, routing and output stages.

Frozen dataclasses, each checking itself in ``__post_init__`` with a message that names
the setting and the fix. :class:`canvass.config.PlanConfig` groups them with the input
parameters and reads them from ``canvass.toml``; import them from ``canvass.config``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from ._checks import fraction, iso_date, positive
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


@dataclass(frozen=True, slots=True)
class WalkParams:
    """
    Walking network and walking costs.

    Parameters
    ----------
    speed_m_s
        Walking speed (DOMAIN.md 3.2: 1.2 m/s used by field routers).
    door_s
        Time spent at each door, in seconds.
    max_snap_m
        Doors farther than this from any street are reported, not moved.
    crossing_m
        Extra walking, in metres, to cross a street of each OSM class to reach a door
        on the other side (DOMAIN.md 3.1, Edna's field-tested table).
    intersection_only
        Street classes crossed only at intersections, never mid-block (busy roads are
        worked one side, then the other).
    cache_dir
        Folder for the parsed, projected walking graph (keyed by the file's
        checksum); empty = ``$XDG_CACHE_HOME/canvass`` (``~/.cache/canvass``),
        ``"none"`` = no cache.
    """

    speed_m_s: float = 1.2
    door_s: int = 90
    max_snap_m: float = 150.0
    crossing_m: dict[str, float] = field(
        default_factory=lambda: {
            "motorway": 400.0,
            "trunk": 400.0,
            "primary": 100.0,
            "secondary": 60.0,
            "tertiary": 35.0,
            "residential": 20.0,
            "unclassified": 20.0,
            "living_street": 10.0,
            "service": 10.0,
        }
    )
    intersection_only: tuple[str, ...] = ("motorway", "trunk", "primary")
    cache_dir: str = ""

    def __post_init__(self) -> None:
        positive("walk", "speed_m_s", self.speed_m_s)
        positive("walk", "door_s", self.door_s, allow_zero=True)
        positive("walk", "max_snap_m", self.max_snap_m)


@dataclass(frozen=True, slots=True)
class TurfParams:
    """
    How doors are cut into turfs.

    Parameters
    ----------
    shift_s
        Length of one volunteer shift in seconds (default 2 h).
    volunteers_per_turf
        Volunteers sent out together to a turf (a team parked at one staging
        point, each with a walk of one shift). Walks are grouped into teams of
        this many, nearest first; a walk that cannot share a staging point with a
        neighbour within the shift is a turf of its own.
    balance
        Allowed spread of estimated turf time around the precinct mean (0.15 = 15 %).
    cross_precincts
        Allow turfs to cross precinct lines.
    office
        Optional staging office as ``[lat, lon]``: every route then starts and
        ends there, and volunteers drive from it to a parking spot by their turf
        and back (timed in the turf's estimate), unless walking from the office is
        shorter. Empty = each turf gets its own staging point on a street
        reachable by car.
    fill
        Share of the shift a turf is sized to (the rest is slack for the router).
    tour_time_s
        Guided-local-search seconds for the street tour that orders each block of
        up to 900 doors before cutting; 0 = local search to a local optimum
        (deterministic).
    car_legs
        Let a turf that cannot be evened out on foot (a hamlet far from every other
        door) be walked in two or more legs with a short drive between them.
    drive_m_s
        Driving speed between legs, over the street network's distance (8 m/s,
        about 29 km/h: rural and town roads with turns and stops).
    park_s
        Seconds added to every drive between legs, to park and get going.
    """

    shift_s: int = 7200
    volunteers_per_turf: int = 1
    balance: float = 0.15
    cross_precincts: bool = False
    office: tuple[float, ...] = ()
    fill: float = 0.9
    tour_time_s: float = 0.0
    car_legs: bool = True
    drive_m_s: float = 8.0
    park_s: int = 120

    def __post_init__(self) -> None:
        positive("turf", "shift_s", self.shift_s)
        positive("turf", "drive_m_s", self.drive_m_s)
        positive("turf", "park_s", self.park_s, allow_zero=True)
        if self.office and (
            len(self.office) != 2
            or not -90 <= self.office[0] <= 90
            or not -180 <= self.office[1] <= 180
        ):
            msg = (
                f"`turf.office` must be [lat, lon] in degrees, got {list(self.office)}."
            )
            raise ConfigError(msg)
        if not 0.1 <= self.fill <= 1.0:
            msg = f"`turf.fill` must be between 0.1 and 1, got {self.fill}."
            raise ConfigError(msg)
        positive("turf", "tour_time_s", self.tour_time_s, allow_zero=True)
        if self.volunteers_per_turf < 1:
            msg = (
                "`turf.volunteers_per_turf` must be at least 1, "
                f"got {self.volunteers_per_turf}."
            )
            raise ConfigError(msg)
        fraction("turf", "balance", self.balance)


@dataclass(frozen=True, slots=True)
class RouteParams:
    """
    How volunteers are routed inside each turf.

    Parameters
    ----------
    open_routes
        Routes end at the last door instead of back at the staging point.
    time_limit_s
        Guided-local-search time per turf; 0 keeps the first solution.
    solution_limit
        Stop the search after this many solutions (deterministic; 0 = no limit).
    workers
        Worker processes that solve turfs in parallel.
    """

    open_routes: bool = False
    time_limit_s: float = 2.0
    solution_limit: int = 0
    workers: int = 2

    def __post_init__(self) -> None:
        positive("route", "time_limit_s", self.time_limit_s, allow_zero=True)
        positive("route", "solution_limit", self.solution_limit, allow_zero=True)
        positive("route", "workers", self.workers)


@dataclass(frozen=True, slots=True)
class OutputParams:
    """
    What is written and how much personal data it carries.

    Parameters
    ----------
    redact
        Write maps safe to share publicly: no names, doors aggregated to blocks.
    offline_pages
        Inline Leaflet's scripts and styles into the route pages and the turf map,
        so they draw without a connection (background tiles still need one).
    door_names
        What a volunteer sees per targeted voter: ``first_last_initial``,
        ``full`` or ``none``.
    script
        Canvass script printed on walk lists.
    date
        Canvass date printed on walk lists, ``YYYY-MM-DD``; empty leaves a blank to
        fill in by hand. Ages are computed at this date (or, when empty, at the
        latest election in the vote history).
    page_base_url
        Web address where the run folder is published, e.g.
        ``https://example.org/canvass/``. QR codes on walk lists open
        ``<page_base_url>routes/<route_id>.html``; empty puts the relative path in
        the QR code and prints it beside it.
    """

    redact: bool = False
    offline_pages: bool = False
    door_names: Literal["first_last_initial", "full", "none"] = "first_last_initial"
    script: str = (
        "Hi, I'm a volunteer with our local campaign. Can we count on you to vote "
        "in the upcoming election? Do you know where your polling place is?"
    )
    date: str = ""
    page_base_url: str = ""

    def __post_init__(self) -> None:
        if self.date:
            try:
                dt.date.fromisoformat(self.date)
            except ValueError:
                msg = (
                    f"`output.date` must be a date like 2026-09-01, got {self.date!r}; "
                    "fix it or leave it empty."
                )
                raise ConfigError(msg) from None
        if self.page_base_url and not self.page_base_url.endswith("/"):
            msg = (
                f"`output.page_base_url` must end with '/', got "
                f"{self.page_base_url!r}; add the trailing slash."
            )
            raise ConfigError(msg)


#: Time slots of a shift (``campaign.next_slot``).
SLOTS: tuple[str, ...] = (
    "weekday_day",
    "weekday_evening",
    "weekend_day",
    "weekend_evening",
)
#: Survey questions every campaign can name in ``campaign.survey`` without defining
#: them: question -> allowed answers.
BUILTIN_QUESTIONS: dict[str, tuple[str, ...]] = {
    "support_1_5": ("1", "2", "3", "4", "5"),
    "will_volunteer": ("Y", "N"),
    "needs_ride": ("Y", "N"),
}
_SERVE_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/$")
_QUESTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: Column names of the results files that a question may not take.
_RESERVED = frozenset(
    {
        "event_id", "voter_id", "run_id", "route_id", "door_id", "volunteer",
        "time", "date", "result", "contact_type", "stop", "address", "unit",
        "name", "notes", "source", "come_back",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CampaignParams:
    """
    The campaign: its contact-history database, its dates and its survey.

    See docs/results.md for the files results come back in.

    Parameters
    ----------
    db
        Contact-history database: a SQLite file (relative to the config file,
        created readable by its owner only) or a ``postgresql://user@host/dbname``
        URL. Empty = no database: runs neither record themselves nor leave out
        doors already done, and ``canvass results`` cannot be used.
    start, end
        First and last day of the campaign (``YYYY-MM-DD``); results dated outside
        are rejected on import. Empty = open (results dated in the future are
        always rejected).
    survey
        Survey questions asked at the door, in order: one column each in the paper
        results templates, the phone CSV and the VAN export. Each is a built-in
        question (``support_1_5``: 1-5; ``will_volunteer``, ``needs_ride``: Y/N)
        or one defined in `questions`.
    questions
        Your own questions: name (lower case, digits, ``_``) -> allowed answers,
        e.g. ``yard_sign = ["Y", "N"]``. Answers are matched ignoring case.
    serve_url
        Where ``canvass serve`` will be reached from the volunteers' phones, e.g.
        ``http://192.168.1.20:8642/`` (the organiser's laptop on the local
        network). When set, ``canvass run`` gives every route a secret key and the
        QR code on its walk list opens ``<serve_url>r/<route>/<key>/``;
        ``canvass serve`` then listens on that address. Empty: QR codes hold
        ``output.page_base_url`` + ``routes/<route>.html``.
    max_attempts
        Knocks at one door after which it is left out (``attempt_cap``).
    repeat_contact_rates
        Prior chance that someone answers at the 2nd, 3rd, ... knock of a door
        that was not home every time before (the 1st is ``lift.contact_rate``).
        Default from DOMAIN.md 5b: 25 % a pass with a fifth of the households
        never home answers 25, 23 and 20 % of the 1st, 2nd and 3rd knocks. Learnt
        from the campaign's own results as they come in (docs/replan.md).
    prior_weight
        Weight of those priors, in knocks: the campaign's own rate at attempt k
        is ``(answered + w x prior) / (knocks + w)``.
    other_slot_weight
        How much a not-home in another time slot counts against the next shift's
        slot (1 = as much as a not-home in the same slot; 0 = not at all).
    next_slot
        Time slot of the next shift: ``weekday_day``, ``weekday_evening``,
        ``weekend_day`` or ``weekend_evening``; empty = every slot alike. Doors
        not yet tried in it are worth more; a "come back" recorded in this slot
        on ``output.date`` keeps its door out of this shift.
    evening_hour
        Hour of the day (local time of the recorded results) from which a knock
        counts as evening.
    min_value_share
        A door whose next knock is worth less than this share of the median
        target door's is left out (``low_value``).
    shift_volunteers
        Volunteers out on the next shift; 0 = unknown. When the plan's turfs
        hold less work than they have (``turf.shift_s`` each), doors left out
        for ``low_value`` come back, best first, then doors at ``max_attempts``
        whose last knock was in another slot than ``next_slot`` (at most
        ``max_attempts + 2`` knocks a door), until the shift is full
        (docs/replan.md, "Volunteers to spare").
    stable_m
        A door goes back to the turf (of the same name) it was in at the last
        run when its nearest door there is at most this many metres (straight
        line) farther than its nearest door in the turf the new cut gave it, and
        that turf has room (``turf.shift_s`` and ``turf.balance``); negative:
        never (docs/replan.md, "Turfs that stay put").
    """

    db: str = ""
    start: str = ""
    end: str = ""
    survey: tuple[str, ...] = ()
    questions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    serve_url: str = ""
    max_attempts: int = 3
    repeat_contact_rates: tuple[float, ...] = (0.23, 0.20)
    prior_weight: float = 200.0
    other_slot_weight: float = 0.5
    next_slot: str = ""
    evening_hour: int = 17
    min_value_share: float = 0.2
    shift_volunteers: int = 0
    stable_m: float = 15.0

    def __post_init__(self) -> None:
        iso_date("campaign", "start", self.start, allow_empty=True)
        if self.serve_url and not _SERVE_URL.match(self.serve_url):
            msg = (
                f"`campaign.serve_url` must look like http://192.168.1.20:8642/ (http, "
                f"a host, an optional port, ending with '/'), got {self.serve_url!r}."
            )
            raise ConfigError(msg)
        iso_date("campaign", "end", self.end, allow_empty=True)
        if self.start and self.end and self.start > self.end:
            msg = (
                f"`campaign.start` ({self.start}) is after `campaign.end` "
                f"({self.end}); swap them."
            )
            raise ConfigError(msg)
        if "://" in self.db and not self.db.startswith(
            ("postgresql://", "postgresql+psycopg://", "postgres://")
        ):
            msg = (
                f"`campaign.db` must be a SQLite file name or a postgresql:// URL, "
                f"got {self.db.split('://')[0]}://..."
            )
            raise ConfigError(msg)
        for name, answers in self.questions.items():
            if not _QUESTION_NAME.match(name) or name in _RESERVED:
                msg = (
                    f"`campaign.questions.{name}`: a question name is lower case "
                    "letters, digits and _ (at most 40), starts with a letter and is "
                    f"not one of the file columns {sorted(_RESERVED)}."
                )
                raise ConfigError(msg)
            clean = [a.strip().upper() for a in answers]
            if not answers or "" in clean or len(set(clean)) < len(clean):
                msg = (
                    f"`campaign.questions.{name}` needs a list of distinct, "
                    'non-empty answers, e.g. ["Y", "N"].'
                )
                raise ConfigError(msg)
        known = self.all_questions
        if unknown := [q for q in self.survey if q not in known]:
            msg = (
                f"`campaign.survey` names {unknown}, which are neither built in "
                f"({sorted(BUILTIN_QUESTIONS)}) nor defined in [campaign.questions]."
            )
            raise ConfigError(msg)
        if len(set(self.survey)) < len(self.survey):
            msg = "`campaign.survey` lists a question twice; list each once."
            raise ConfigError(msg)
        if self.max_attempts < 1:
            msg = f"`campaign.max_attempts` must be 1 or more, got {self.max_attempts}."
            raise ConfigError(msg)
        for rate in self.repeat_contact_rates:
            fraction("campaign", "repeat_contact_rates", rate)
        positive("campaign", "prior_weight", self.prior_weight)
        fraction("campaign", "other_slot_weight", self.other_slot_weight)
        fraction("campaign", "min_value_share", self.min_value_share)
        if self.next_slot and self.next_slot not in SLOTS:
            msg = (
                f"`campaign.next_slot` must be one of {list(SLOTS)} or empty, "
                f"got {self.next_slot!r}."
            )
            raise ConfigError(msg)
        if self.shift_volunteers < 0:
            msg = (
                "`campaign.shift_volunteers` must be 0 (unknown) or the number of "
                f"volunteers out on the next shift, got {self.shift_volunteers}."
            )
            raise ConfigError(msg)
        if not 0 <= self.evening_hour <= 23:
            msg = f"`campaign.evening_hour` must be 0-23, got {self.evening_hour}."
            raise ConfigError(msg)

    @property
    def all_questions(self) -> dict[str, tuple[str, ...]]:
        """Built-in and defined questions: name -> allowed answers."""
        return {**BUILTIN_QUESTIONS, **self.questions}
