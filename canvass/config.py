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
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import schema
from ._checks import positive
from ._toml import build, plain
from .errors import ConfigError
from .params import (
    CampaignParams,
    LiftParams,
    OutputParams,
    RouteParams,
    ScoreParams,
    SupportersParams,
    TargetParams,
    TurfParams,
    UniverseParams,
    WalkParams,
    default_universes,
)

__all__ = [
    "CampaignParams",
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
    "SupportersParams",
    "TargetParams",
    "TurfParams",
    "UniverseParams",
    "WalkParams",
]

#: Fields of a supporter list that ``[supporters.columns]`` can name (see
#: docs/supporters.md; the built-in header names live in :mod:`canvass.match`).
_SUPPORTER_FIELDS = (
    "supporter_id", "first_name", "last_name", "full_name", "middle_name", "email",
    "phone", "address", "unit", "city", "state", "zip5", "birth_date", "birth_year",
    "tags", "volunteer", "has_car", "event", "attended",
)  # fmt: skip

VoterFormat = Literal["ma", "nc", "van", "mapped"]


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
        Voter files (paths or glob patterns), relative to the config file; plain or
        gzip/bzip2/xz/zip, members of a zip as ``export.zip:*VOT*.txt``.
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
        Optional address-point layer for geocoding (file with points or lat/lon;
        tables may be compressed).
    do_not_knock
        Optional CSV with a ``voter_id`` or ``address`` column of doors never to knock.
    encoding
        Text encoding of the voter and history files: ``auto`` (byte-order mark, else
        UTF-8, else Windows-1252/Latin-1) or a codec name such as ``utf-8``,
        ``latin-1``, ``utf-16``. A few lines invalid in a declared codec are
        rejected; more stop the load with the likely encoding.
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
        built-in rule of :func:`canvass.load.normalise_precinct_code`.
    town, town_column
        Keep only this town's precincts from a county- or statewide file (column
        guessed from ``TOWN``/``MUNICIPALITY`` when `town_column` is empty).
    crs
        CRS of the precinct file's coordinates ("EPSG:2249"), replacing what the file
        declares: for a Shapefile without its .prj or a GeoJSON in metres or feet
        (GeoJSON without a ``crs`` member is read as WGS 84). Empty = as the file
        says.
    """

    code_column: str = ""
    ward_column: str = ""
    precinct_column: str = ""
    code_pattern: str = ""
    town: str = ""
    town_column: str = ""
    crs: str = ""

    def __post_init__(self) -> None:
        if self.crs:
            import pyproj

            try:
                pyproj.CRS.from_user_input(self.crs)
            except pyproj.exceptions.CRSError:
                msg = (
                    f"`precincts.crs` = {self.crs!r} is not a CRS pyproj knows; "
                    'give an EPSG code such as "EPSG:2249".'
                )
                raise ConfigError(msg) from None
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
    "street_pre_direction", "street_post_direction", "status_reason", "vote_history",
    "household_id",
)  # fmt: skip
#: Wide cells and long ``voted`` codes that mean "voted" (no party ballot named).
VOTED_MARKS = (
    "X", "Y", "YES", "V", "VOTED", "1", "TRUE", "T", "A", "AB", "ABS", "E", "EV",
    "EARLY", "P", "POLL", "POLLS", "M", "MAIL", "IP", "PROV",
)  # fmt: skip
#: Wide cells that name the party ballot taken (Ohio's letters and common codes).
PARTY_MARKS = (
    "C", "D", "G", "L", "R", "S", "DEM", "REP", "LIB", "GRN", "GRE", "CON", "WOR",
)  # fmt: skip
#: How the items of a one-cell history (``history = "cell"``) are read, in order.
HISTORY_ITEM_PATTERNS = (
    r"^(?P<date>\d{8}|\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})[ ,]+(?P<type>.+)$",
    r"^(?P<type>.+?)[ ,]+(?P<date>\d{8}|\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})$",
)
_HISTORY_KEYS = (
    "voter_id",
    "election_date",
    "election_type",
    "election",
    "voted",
    "party_voted",
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
        ("1A", "Ward 1 Precinct A") used when ward/precinct are not separate;
        ``street_pre_direction``/``street_post_direction`` (New York's "E" in
        "52 E MAIN ST", "SW" in "1200 PECAN BLVD SW") are joined into the street
        name; ``status_reason`` is kept for the moved/deceased suppressions;
        ``vote_history`` is the one-cell history column of ``history = "cell"``;
        ``household_id`` is a household key (voters at one address share it),
        used to group households in scoring when the file has one.
    status_values
        File status codes -> canonical (``A``/``I``), e.g. ``CONFIRMATION = "I"``.
    history
        ``none``, ``wide`` (one column per election in the voter file), ``long``
        (a separate file, ``inputs.history``, one row per voter per election) or
        ``cell`` (one column, ``columns.vote_history``, listing every election the
        voter voted in, as New York's ``VoterHistory``).
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
    voted_values
        Cell or code values meaning "voted" without naming a party ballot.
    party_values
        Wide cell values naming the party ballot taken (a vote, with its party).
        A wide cell or ``voted`` code in none of these three lists is rejected.
    history_separator
        Separator of the items in a ``cell`` history ("2016-11-08 GENERAL;...").
    history_item_patterns
        Regexes tried in order on each ``cell`` history item; named groups ``date``
        (required), ``type`` (else ``wide_type``) and ``party`` (optional).
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
    history: Literal["none", "wide", "long", "cell"] = "none"
    wide_pattern: str = (
        r"^(?P<type>[A-Za-z ]+)[-_ ]"
        r"(?P<date>\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})$"
    )
    wide_type: str = "general"
    history_delimiter: str = ""
    history_header: bool = True
    history_columns: dict[str, str] = field(default_factory=dict)
    not_voted: tuple[str, ...] = ("N", "NO", "0", "FALSE", "F", "-")
    voted_values: tuple[str, ...] = VOTED_MARKS
    party_values: tuple[str, ...] = PARTY_MARKS
    history_separator: str = ";"
    history_item_patterns: tuple[str, ...] = HISTORY_ITEM_PATTERNS
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
        if self.history not in ("none", "wide", "long", "cell"):
            msg = (
                "`mapping.history` must be none, wide, long or cell, "
                f"got {self.history!r}."
            )
            raise ConfigError(msg)
        _check_date_pattern("mapping.wide_pattern", self.wide_pattern)
        for pattern in self.history_item_patterns:
            _check_date_pattern("mapping.history_item_patterns", pattern)
        if self.history == "cell":
            if "vote_history" not in self.columns:
                msg = (
                    'mapping.history = "cell" needs [mapping.columns] vote_history '
                    "naming the column that lists the elections voted in."
                )
                raise ConfigError(msg)
            if not self.history_separator or not self.history_item_patterns:
                msg = (
                    'mapping.history = "cell" needs a non-empty history_separator '
                    "and history_item_patterns."
                )
                raise ConfigError(msg)
        lists = {
            "not_voted": self.not_voted,
            "voted_values": self.voted_values,
            "party_values": self.party_values,
        }
        seen: dict[str, str] = {}
        for name, values in lists.items():
            for value in values:
                key = value.strip().upper()
                if key in seen and seen[key] != name:
                    msg = (
                        f"{value!r} is in both mapping.{seen[key]} and "
                        f"mapping.{name}; keep it in one of them."
                    )
                    raise ConfigError(msg)
                seen[key] = name


def _check_date_pattern(setting: str, pattern: str) -> None:
    """Raise a ConfigError unless `pattern` compiles with a ``date`` group."""
    try:
        groups = re.compile(pattern).groupindex
    except re.error as err:
        msg = f"`{setting}` is not a valid regex ({err}): {pattern!r}."
        raise ConfigError(msg) from None
    if "date" not in groups:
        msg = f"`{setting}` needs a named group (?P<date>...): {pattern!r}."
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
    route_centroids
        Route voters whose address matched nothing, at their precinct's centre,
        marked "location unverified" on every output; by default they are left out
        (``left_out.csv``, reason ``address_not_found``) and listed in
        ``verify_addresses.csv`` for the data director.
    clash_m
        Address points with the same number and street (and zip) farther apart than
        this many metres are different places: each voter goes to the one in its
        file precinct, and the clash is reported.
    number_column
        Address-point column holding the house number (empty = guess it; MassGIS
        ``FULL_NUMBER_STANDARDIZED`` / ``FULL_NUMBE`` are known).
    street_column
        Address-point column holding the street name (empty = guess it).
    unit_column
        Address-point column holding the unit (empty = guess it).
    zip_column
        Address-point column holding the zip code (empty = guess it).
    address_column
        Address-point column holding a one-line address such as ``12 Main St``, used
        when there is no street column (empty = guess it).
    """

    address_points: bool = True
    interpolate: bool = True
    setback_m: float = 12.0
    route_centroids: bool = False
    clash_m: float = 500.0
    number_column: str = ""
    street_column: str = ""
    unit_column: str = ""
    zip_column: str = ""
    address_column: str = ""

    def __post_init__(self) -> None:
        positive("geocode", "setback_m", self.setback_m, allow_zero=True)
        positive("geocode", "clash_m", self.clash_m)


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
        positive("cluster", "workers", self.workers)
        positive("cluster", "partitions", self.partitions, allow_zero=True)
        positive("cluster", "timeout_s", self.timeout_s)


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
    universes: dict[str, UniverseParams] = field(default_factory=default_universes)
    #: Election-type overrides, keyed by election id or ISO date:
    #: ``[elections] "2021-11-02" = "municipal"``.
    elections: dict[str, str] = field(default_factory=dict)
    lift: LiftParams = field(default_factory=LiftParams)
    walk: WalkParams = field(default_factory=WalkParams)
    turf: TurfParams = field(default_factory=TurfParams)
    route: RouteParams = field(default_factory=RouteParams)
    output: OutputParams = field(default_factory=OutputParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    campaign: CampaignParams = field(default_factory=CampaignParams)
    supporters: SupportersParams = field(default_factory=SupportersParams)
    base_dir: str = "."

    def __post_init__(self) -> None:
        types = schema.ELECTION_TYPES
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
        if self.universes[self.target.universe].among != "all" and not (
            self.supporters.files
        ):
            msg = (
                f"`target.universe` {self.target.universe!r} is drawn from the "
                "supporters, but no supporter list is configured; set "
                "`supporters.files` or pick another universe."
            )
            raise ConfigError(msg)
        if unknown := sorted(set(self.supporters.columns) - set(_SUPPORTER_FIELDS)):
            msg = (
                f"unknown key(s) {unknown} in [supporters.columns]; expected some "
                f"of {list(_SUPPORTER_FIELDS)}."
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
            config = build(cls, raw, "")
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
        data: dict[str, Any] = plain(dataclasses.asdict(self))
        return data
