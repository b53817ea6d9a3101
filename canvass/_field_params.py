"""Parameters of the field stages: walking, turfs, routes, outputs, the campaign.

Frozen dataclasses, each checking itself in ``__post_init__`` with a message that names
the setting and the fix. Split from :mod:`canvass.params` (which re-exports them)
to keep modules short; import them from ``canvass.config``.
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
    "OutputParams",
    "RouteParams",
    "TurfParams",
    "WalkParams",
]


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
    door_access
        Count the walk from the street up to each door and back (the door's distance
        to its street, ``snap_m``, each way) in every walking time: turf sizes,
        routes and arrival times. Doors at one point (units of one building) are
        walked between directly. Off = doors sit on the street (plans come out
        shorter than they walk).
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
    door_access: bool = True
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
        Share of the shift a turf is sized to (the rest is slack for the router): a
        target the cut prices, so a turf may end a little over it, never over the
        shift.
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
    search_moves_per_door
        Budget of the search across neighbouring turfs that saves volunteers (moves
        of doors between turfs, at least 8,000 in all): more finds fewer shifts and
        takes longer (all 8,087 Northampton doors at full shifts: 1.0 -> 222
        shifts, cut 98 s; 1.5 -> 219, 99 s; 2.0 -> 217, 112 s); 0 = no such
        search. Deterministic: the same doors give the same turfs.
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
    search_moves_per_door: float = 1.5

    def __post_init__(self) -> None:
        positive("turf", "shift_s", self.shift_s)
        positive(
            "turf",
            "search_moves_per_door",
            self.search_moves_per_door,
            allow_zero=True,
        )
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
        Knocks at one door after which it is left out (``attempt_cap``). With
        `shift_volunteers` set, a door at the cap whose next knock is worth at
        least `min_value_share` of the median door's competes for the shift's
        time, up to ``max_attempts + 2`` knocks (docs/replan.md, "Volunteers to
        spare").
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
        slot (1 = as much as a not-home in the same slot; 0 = not at all). The
        planner's guess: the campaign's own knocks replace it with 0, 0.25, 0.5,
        0.75 or 1 once one fits them clearly better (likelihood ratio;
        docs/replan.md).
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
        (docs/replan.md, "Volunteers to spare"); doors at ``max_attempts``
        worth a knock also compete for the shift by value per minute.
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
