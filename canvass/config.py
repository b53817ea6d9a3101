"""Run configuration: frozen dataclasses loaded from ``canvass.toml``.

Each stage has one frozen parameter class that checks itself in ``__post_init__``;
:class:`PlanConfig` groups them and reads a TOML file where every key is optional
(missing keys keep the defaults documented in ``canvass.example.toml``). Unknown
tables or keys are a :class:`~canvass.errors.ConfigError`, so a typo such as
``max_door`` is never silently ignored. Relative input paths are resolved against the
folder of the TOML file, so a config and its data can move together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

__all__ = [
    "ClusterParams",
    "GeocodeParams",
    "InputParams",
    "LiftParams",
    "MappingParams",
    "OutputParams",
    "PlanConfig",
    "PrecinctParams",
    "RouteParams",
    "ScoreParams",
    "TargetParams",
    "TurfParams",
    "UniverseParams",
    "WalkParams",
]

VoterFormat = Literal["ma", "nc", "van", "mapped"]


def _positive(
    section: str, name: str, value: float, *, allow_zero: bool = False
) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "greater than 0"
        msg = f"`{section}.{name}` must be {bound}, got {value}."
        raise ConfigError(msg)


def _iso_date(
    section: str, name: str, value: str, *, allow_empty: bool = False
) -> None:
    if allow_empty and not value:
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        msg = f"`{section}.{name}` must be a date like 2026-09-01, got {value!r}."
        raise ConfigError(msg) from None


def _fraction(section: str, name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        msg = f"`{section}.{name}` must be between 0 and 1, got {value}."
        raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class InputParams:
    """
    Where the run's input files are and how to read them.

    Parameters
    ----------
    voter_format
        Voter-file layout: ``ma`` (VOT + ANP/ACP), ``nc`` (ncvoter + ncvhis),
        ``van`` (VAN list export) or ``mapped`` (any CSV/TSV through ``[mapping]``).
    voters
        Voter files (paths or glob patterns), relative to the config file.
    history
        Vote-history files (paths or glob patterns); empty when the history is in
        the voter file itself (wide history, VAN).
    precincts
        Precinct shapes: anything pyogrio reads, or a folder of them.
    precinct_layer
        Layer name inside a multi-layer precinct file (GeoPackage); empty = first.
    streets
        Walking network: ``.osm``, ``.osm.bz2``, ``.osm.pbf`` or GraphML.
    address_points
        Optional address-point layer for geocoding (file with points or lat/lon).
    do_not_knock
        Optional CSV with a ``voter_id`` or ``address`` column of doors never to knock.
    encoding
        Text encoding of the voter and history files: ``auto`` (byte-order mark, else
        UTF-8, else Windows-1252/Latin-1) or a codec name such as ``utf-8``,
        ``latin-1``, ``utf-16``. Lines invalid in a declared codec are rejected.
    """

    voter_format: VoterFormat = "ma"
    voters: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    precincts: str = ""
    precinct_layer: str = ""
    streets: str = ""
    address_points: str = ""
    do_not_knock: str = ""
    encoding: str = "auto"

    def __post_init__(self) -> None:
        if self.voter_format not in typing.get_args(VoterFormat):
            msg = (
                f"`inputs.voter_format` must be one of {typing.get_args(VoterFormat)}, "
                f"got {self.voter_format!r}."
            )
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class PrecinctParams:
    """
    How precinct shapes are read and how precinct codes are matched.

    Parameters
    ----------
    code_column
        Column of the precinct file holding the full code ("1A", "Ward 1 Precinct A");
        empty = guess from common names.
    ward_column, precinct_column
        Alternatively, separate ward and precinct columns.
    code_pattern
        Regular expression with named groups ``ward`` and ``precinct`` that splits
        the file's codes (and mapped voter files' precinct codes), replacing the
        built-in rule of :func:`canvass.precincts.normalise_precinct_code`.
    town, town_column
        Keep only this town's precincts from a county- or statewide file (column
        guessed from ``TOWN``/``MUNICIPALITY`` when `town_column` is empty).
    """

    code_column: str = ""
    ward_column: str = ""
    precinct_column: str = ""
    code_pattern: str = ""
    town: str = ""
    town_column: str = ""

    def __post_init__(self) -> None:
        if self.code_pattern:
            try:
                groups = re.compile(self.code_pattern).groupindex
            except re.error as err:
                msg = f"`precincts.code_pattern` is not a valid regex ({err})."
                raise ConfigError(msg) from None
            if "precinct" not in groups:
                msg = "`precincts.code_pattern` needs a named group (?P<precinct>...)."
                raise ConfigError(msg)


_MAPPED_KEYS = (
    "voter_id", "last_name", "first_name", "middle_name", "name_suffix",
    "street_number", "street_number_suffix", "street_name", "unit", "address",
    "city", "state", "zip5", "party", "status", "birth_date", "birth_year", "age",
    "registration_date", "ward", "precinct", "precinct_code",
)  # fmt: skip
_HISTORY_KEYS = (
    "voter_id", "election_date", "election_type", "election", "voted", "party_voted"
)


@dataclass(frozen=True, slots=True)
class MappingParams:
    """
    Column mapping for ``inputs.voter_format = "mapped"`` (see docs/voter-files.md).

    Parameters
    ----------
    delimiter
        Field delimiter of the voter file; empty = sniffed (tab, pipe, comma, ``;``).
    header
        The file has a header row; without one, name columns by 1-based number.
    state
        Two-letter state code, used to type elections (see ``classify_election``).
    date_format
        ``strftime`` format of all dates; empty = try the usual US formats.
    columns
        canvass column -> file column. ``voter_id`` is required; ``address`` is a
        one-line street address split into number, street and unit; ``age`` gives
        the birth year when there is no birth date; ``precinct_code`` is a full code
        ("1A", "Ward 1 Precinct A") used when ward/precinct are not separate.
    status_values
        File status codes -> canonical (``A``/``I``), e.g. ``CONFIRMATION = "I"``.
    history
        ``none``, ``wide`` (one column per election in the voter file) or ``long``
        (a separate file, ``inputs.history``, one row per voter per election).
    wide_pattern
        Regex matched against column names to find wide history columns; named group
        ``date`` (required) and ``type`` (optional, else ``wide_type``).
    wide_type
        Election type text for wide columns whose name has no type.
    history_delimiter, history_header
        Delimiter (empty = sniffed) and header flag of the long history file.
    history_columns
        canvass name -> history file column: ``voter_id``, ``election_date``,
        ``election_type`` or ``election`` (one label holding date and type), and
        optionally ``voted`` (a code; rows in `not_voted` are skipped) and
        ``party_voted``.
    not_voted
        Cell or code values meaning "did not vote" (wide cells and the ``voted``
        column); an empty cell never counts as a vote.
    election_types
        The file's election codes -> canonical type, ``general`` or ``primary``
        (e.g. Florida ``OTH = "municipal"``); codes not listed use the built-in rule.
    """

    delimiter: str = ""
    header: bool = True
    state: str = ""
    date_format: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    status_values: dict[str, str] = field(default_factory=dict)
    history: Literal["none", "wide", "long"] = "none"
    wide_pattern: str = (
        r"^(?P<type>[A-Za-z ]+)[-_ ]"
        r"(?P<date>\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})$"
    )
    wide_type: str = "general"
    history_delimiter: str = ""
    history_header: bool = True
    history_columns: dict[str, str] = field(default_factory=dict)
    not_voted: tuple[str, ...] = ("N", "NO", "0", "FALSE", "F", "-")
    election_types: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if unknown := sorted(set(self.columns) - set(_MAPPED_KEYS)):
            msg = (
                f"unknown key(s) {unknown} in [mapping.columns]; "
                f"expected some of {list(_MAPPED_KEYS)}."
            )
            raise ConfigError(msg)
        if unknown := sorted(set(self.history_columns) - set(_HISTORY_KEYS)):
            msg = (
                f"unknown key(s) {unknown} in [mapping.history_columns]; "
                f"expected some of {list(_HISTORY_KEYS)}."
            )
            raise ConfigError(msg)
        if self.history not in ("none", "wide", "long"):
            msg = f"`mapping.history` must be none, wide or long, got {self.history!r}."
            raise ConfigError(msg)
        try:
            groups = re.compile(self.wide_pattern).groupindex
        except re.error as err:
            msg = f"`mapping.wide_pattern` is not a valid regex ({err})."
            raise ConfigError(msg) from None
        if "date" not in groups:
            msg = "`mapping.wide_pattern` needs a named group (?P<date>...)."
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class GeocodeParams:
    """
    How voter addresses become door points.

    Parameters
    ----------
    address_points
        Match against the address-point layer first (when one is given).
    interpolate
        Fall back to interpolation along named street segments.
    setback_m
        Distance of an interpolated door from the street centreline, in metres.
    """

    address_points: bool = True
    interpolate: bool = True
    setback_m: float = 12.0

    def __post_init__(self) -> None:
        _positive("geocode", "setback_m", self.setback_m, allow_zero=True)


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

    def __post_init__(self) -> None:
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
        _fraction("universe", "min_p", self.min_p)
        _fraction("universe", "max_p", self.max_p)
        if self.min_p > self.max_p:
            msg = f"universe `min_p` ({self.min_p}) is above `max_p` ({self.max_p})."
            raise ConfigError(msg)


def _default_universes() -> dict[str, UniverseParams]:
    return {
        "primary_low_propensity": UniverseParams(
            kind="band", min_p=0.05, max_p=0.6, parties=("D", "U")
        ),
        "gubernatorial_low_propensity": UniverseParams(
            kind="band", min_p=0.1, max_p=0.65, parties=()
        ),
        "drop_off": UniverseParams(kind="drop_off"),
        "new_registrants": UniverseParams(kind="new_registrants", parties=("D", "U")),
    }


@dataclass(frozen=True, slots=True)
class ScoreParams:
    """
    How turnout propensity is scored.

    Parameters
    ----------
    method
        Score used for targeting: ``gbm`` (gradient boosting), ``logistic``,
        ``segment`` (observed turnout of the voter's history segment) or ``rules``.
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
        = the level learned from the training elections.
    """

    method: Literal["gbm", "logistic", "segment", "rules"] = "gbm"
    window: int = 4
    backtest: bool = True
    next_state_primary: str = "2026-09-01"
    next_state_election: str = "2026-11-03"
    train_elections: int = 2
    new_registrant_since: str = ""
    max_train_rows: int = 200_000
    shrink: float = 20.0
    expected_turnout: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
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
        _positive("score", "max_train_rows", self.max_train_rows)
        _positive("score", "shrink", self.shrink, allow_zero=True)
        for name in (
            "next_state_primary",
            "next_state_election",
            "new_registrant_since",
        ):
            _iso_date(
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
        _fraction("lift", "contact_rate", self.contact_rate)
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
        Folder for the parsed, projected walking graph (keyed by the file's checksum);
        empty = ``$XDG_CACHE_HOME/canvass`` (``~/.cache/canvass``), ``"none"`` = no cache.
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
        _positive("walk", "speed_m_s", self.speed_m_s)
        _positive("walk", "door_s", self.door_s, allow_zero=True)
        _positive("walk", "max_snap_m", self.max_snap_m)


@dataclass(frozen=True, slots=True)
class TurfParams:
    """
    How doors are cut into turfs.

    Parameters
    ----------
    shift_s
        Length of one volunteer shift in seconds (default 2 h).
    volunteers_per_turf
        Volunteers who share a turf; a turf is sized for this many shifts.
    balance
        Allowed spread of estimated turf time around the precinct mean (0.15 = 15 %).
    cross_precincts
        Allow turfs to cross precinct lines.
    office
        Optional staging office as ``[lat, lon]``; every turf then starts there.
        Empty = each turf gets its own staging point on a street reachable by car.
    fill
        Share of the shift a turf is sized to (the rest is slack for the router).
    tour_time_s
        Guided-local-search seconds for the street tour that orders each block of
        up to 900 doors before cutting; 0 = local search to a local optimum
        (deterministic).
    """

    shift_s: int = 7200
    volunteers_per_turf: int = 1
    balance: float = 0.15
    cross_precincts: bool = False
    office: tuple[float, ...] = ()
    fill: float = 0.9
    tour_time_s: float = 0.0

    def __post_init__(self) -> None:
        _positive("turf", "shift_s", self.shift_s)
        if self.office and (
            len(self.office) != 2
            or not -90 <= self.office[0] <= 90
            or not -180 <= self.office[1] <= 180
        ):
            msg = f"`turf.office` must be [lat, lon] in degrees, got {list(self.office)}."
            raise ConfigError(msg)
        if not 0.1 <= self.fill <= 1.0:
            msg = f"`turf.fill` must be between 0.1 and 1, got {self.fill}."
            raise ConfigError(msg)
        _positive("turf", "tour_time_s", self.tour_time_s, allow_zero=True)
        if self.volunteers_per_turf < 1:
            msg = (
                "`turf.volunteers_per_turf` must be at least 1, "
                f"got {self.volunteers_per_turf}."
            )
            raise ConfigError(msg)
        _fraction("turf", "balance", self.balance)


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
        _positive("route", "time_limit_s", self.time_limit_s, allow_zero=True)
        _positive("route", "solution_limit", self.solution_limit, allow_zero=True)
        _positive("route", "workers", self.workers)


@dataclass(frozen=True, slots=True)
class OutputParams:
    """
    What is written and how much personal data it carries.

    Parameters
    ----------
    redact
        Write maps safe to share publicly: no names, doors aggregated to blocks.
    offline_pages
        Inline Leaflet's scripts and styles into volunteer pages.
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


@dataclass(frozen=True, slots=True)
class ClusterParams:
    """
    Where the heavy pieces of a run are computed (see :mod:`canvass.cluster`).

    Parameters
    ----------
    scheduler
        ``""`` = this machine (a process pool), ``"local"`` = a Dask LocalCluster on
        this machine, or a Dask scheduler address such as ``tcp://10.0.0.5:8786``.
    workers
        Worker processes for ``""`` and ``"local"``.
    processes
        Dask LocalCluster workers are processes (false = threads in this process).
    partitions
        Partitions of the door layer in a Dask spatial join (0 = two per worker).
    timeout_s
        Seconds to wait for a remote scheduler.
    """

    scheduler: str = ""
    workers: int = 2
    processes: bool = True
    partitions: int = 0
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        s = self.scheduler
        address = re.match(r"^(tcp|tls|ucx|inproc)://\S+$", s)
        if s not in ("", "local") and not address:
            msg = (
                f'`cluster.scheduler` must be "", "local" or an address like '
                f"tcp://10.0.0.5:8786, got {s!r}."
            )
            raise ConfigError(msg)
        _positive("cluster", "workers", self.workers)
        _positive("cluster", "partitions", self.partitions, allow_zero=True)
        _positive("cluster", "timeout_s", self.timeout_s)


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """All parameters of one planning run (see ``canvass.example.toml``)."""

    seed: int = 0
    run_name: str = "run"
    inputs: InputParams = field(default_factory=InputParams)
    precincts: PrecinctParams = field(default_factory=PrecinctParams)
    mapping: MappingParams = field(default_factory=MappingParams)
    geocode: GeocodeParams = field(default_factory=GeocodeParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    target: TargetParams = field(default_factory=TargetParams)
    universes: dict[str, UniverseParams] = field(default_factory=_default_universes)
    #: Election-type overrides, keyed by election id or ISO date:
    #: ``[elections] "2021-11-02" = "municipal"``.
    elections: dict[str, str] = field(default_factory=dict)
    lift: LiftParams = field(default_factory=LiftParams)
    walk: WalkParams = field(default_factory=WalkParams)
    turf: TurfParams = field(default_factory=TurfParams)
    route: RouteParams = field(default_factory=RouteParams)
    output: OutputParams = field(default_factory=OutputParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    base_dir: str = "."

    def __post_init__(self) -> None:
        types = (
            "state_primary",
            "state_election",
            "presidential_primary",
            "presidential_election",
            "municipal",
            "special",
        )
        if bad := {k: v for k, v in self.elections.items() if v not in types}:
            msg = f"`[elections]` override(s) {bad} must name one of {types}."
            raise ConfigError(msg)
        if self.target.universe not in self.universes:
            msg = (
                f"`target.universe` is {self.target.universe!r} but no such universe "
                f"is defined; add [universes.{self.target.universe}] or pick one of "
                f"{sorted(self.universes)}."
            )
            raise ConfigError(msg)

    @classmethod
    def from_toml(cls, path: Path) -> PlanConfig:
        """
        Read a configuration file; omitted keys keep their defaults.

        Parameters
        ----------
        path
            A ``canvass.toml`` file.

        Returns
        -------
        config
            The configuration, with `base_dir` set to the file's folder.

        Raises
        ------
        ConfigError
            If the file is not valid TOML, or a key is unknown or out of range.
        """
        try:
            with Path(path).open("rb") as fh:
                raw: dict[str, Any] = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            msg = f"{path}: not valid TOML ({err}); fix the syntax at that line."
            raise ConfigError(msg) from err
        except OSError as err:
            msg = f"{path}: cannot read the config file ({err.strerror})."
            raise ConfigError(msg) from err
        raw.setdefault("base_dir", str(Path(path).resolve().parent))
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, source: str = "config") -> PlanConfig:
        """
        Build a configuration from nested dictionaries (as parsed from TOML).

        Raises
        ------
        ConfigError
            If a key is unknown or a value has the wrong type or range.
        """
        try:
            config = _build(cls, raw, "")
        except ConfigError as err:
            msg = f"{source}: {err}"
            raise ConfigError(msg) from err
        if not isinstance(config, PlanConfig):  # pragma: no cover - _build returns cls
            raise TypeError
        return config

    def resolve(self, value: str) -> Path:
        """Return an input path, relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain data (for ``manifest.json``)."""
        plain: dict[str, Any] = _plain(dataclasses.asdict(self))
        return plain


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def _build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass `cls` from `raw`, checking keys and value types."""
    if not isinstance(raw, dict):
        msg = f"`{where or 'top level'}` must be a table, got {type(raw).__name__}."
        raise ConfigError(msg)
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    if unknown := sorted(set(raw) - set(known)):
        place = f"[{where}]" if where else "the top level"
        msg = (
            f"unknown setting(s) {unknown} in {place}; "
            f"expected some of {sorted(known)}."
        )
        raise ConfigError(msg)
    kwargs = {
        name: _convert(hints[name], value, f"{where}.{name}" if where else name)
        for name, value in raw.items()
    }
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    """Convert one TOML value to the field's declared type, or explain the mismatch."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, where)
    if origin is dict:
        if not isinstance(value, dict):
            msg = f"`{where}` must be a table, got {value!r}."
            raise ConfigError(msg)
        return {str(k): _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            msg = f"`{where}` must be a list, got {value!r}."
            raise ConfigError(msg)
        return tuple(_convert(args[0], v, where) for v in value)
    if origin is Literal:
        if value not in args:
            msg = f"`{where}` must be one of {list(args)}, got {value!r}."
            raise ConfigError(msg)
        return value
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is bool:
        if not isinstance(value, bool):
            msg = f"`{where}` must be true or false, got {value!r}."
            raise ConfigError(msg)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"`{where}` must be a whole number, got {value!r}."
            raise ConfigError(msg)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"`{where}` must be a number, got {value!r}."
            raise ConfigError(msg)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            msg = f"`{where}` must be a string, got {value!r}."
            raise ConfigError(msg)
        return value
    return value
