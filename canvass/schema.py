"""The tables that flow between stages: column names, types and validators.

Every stage takes these tables in, validates them with the ``validate_*`` functions
here, and returns *copies* with columns added; no stage changes its input. The README's
"Data model" section describes the same tables for users.

Tables
------
voters (DataFrame, index ``voter_id``)
    One row per registered voter, from any voter-file adapter (``canvass.load``).
history (DataFrame, RangeIndex)
    Long vote history: one row per voter per election voted in.
elections (DataFrame, index ``election_id``)
    The election calendar: date and type of every election in the history.
precincts (GeoDataFrame, index ``precinct_id``)
    Precinct polygons in the run's local metric CRS.
doors (GeoDataFrame, index ``door_id``)
    One row per street door (a house, or the shared door of a multi-unit building).
turfs (GeoDataFrame, index ``turf_id``)
    One row per turf (one volunteer shift or a few), with its outline.
stops (DataFrame, RangeIndex)
    The routes: one row per door visit, in walking order within each route.
routes (GeoDataFrame, index ``route_id``)
    One row per volunteer route, with the walked path along the streets.
left_out (DataFrame, RangeIndex)
    Target doors that are in no route, each with its reason.

Ids are strings. Distances are metres (``_m``), times seconds (``_s``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pandas as pd

from .errors import InputError

__all__ = [
    "DOOR_ID",
    "ELECTION_ID",
    "ELECTION_TYPES",
    "LEFT_OUT_REASONS",
    "PRECINCT_ID",
    "ROUTE_ID",
    "TURF_ID",
    "VOTER_ID",
    "validate_doors",
    "validate_elections",
    "validate_history",
    "validate_left_out",
    "validate_precincts",
    "validate_routes",
    "validate_stops",
    "validate_turfs",
    "validate_voters",
]

# --- ids --------------------------------------------------------------------------
VOTER_ID: Final = "voter_id"
DOOR_ID: Final = "door_id"
PRECINCT_ID: Final = "precinct_id"
TURF_ID: Final = "turf_id"
ROUTE_ID: Final = "route_id"
ELECTION_ID: Final = "election_id"

# --- election types ---------------------------------------------------------------
STATE_PRIMARY: Final = "state_primary"
STATE_ELECTION: Final = "state_election"
PRESIDENTIAL_PRIMARY: Final = "presidential_primary"
PRESIDENTIAL_ELECTION: Final = "presidential_election"
MUNICIPAL: Final = "municipal"
SPECIAL: Final = "special"
ELECTION_TYPES: Final = (
    STATE_PRIMARY,
    STATE_ELECTION,
    PRESIDENTIAL_PRIMARY,
    PRESIDENTIAL_ELECTION,
    MUNICIPAL,
    SPECIAL,
)
#: The two election types canvass scores voters for.
TARGET_TYPES: Final = (STATE_PRIMARY, STATE_ELECTION)

# --- voter status -----------------------------------------------------------------
ACTIVE: Final = "A"
INACTIVE: Final = "I"

# --- voters -----------------------------------------------------------------------
LAST_NAME: Final = "last_name"
FIRST_NAME: Final = "first_name"
MIDDLE_NAME: Final = "middle_name"
NAME_SUFFIX: Final = "name_suffix"
STREET_NUMBER: Final = "street_number"
STREET_NUMBER_SUFFIX: Final = "street_number_suffix"
STREET_NAME: Final = "street_name"
UNIT: Final = "unit"
CITY: Final = "city"
STATE: Final = "state"
ZIP5: Final = "zip5"
PARTY: Final = "party"
STATUS: Final = "status"
BIRTH_DATE: Final = "birth_date"
BIRTH_YEAR: Final = "birth_year"
REGISTRATION_DATE: Final = "registration_date"
WARD: Final = "ward"
PRECINCT: Final = "precinct"
SOURCE: Final = "source"
LINE: Final = "line"
#: Optional household key of the file (Ohio's de-identified HOUSEHOLD_ID, VAN's
#: HouseholdID): voters sharing it live at one address; scoring groups them.
HOUSEHOLD_ID: Final = "household_id"
VOTER_COLUMNS: Final = (
    LAST_NAME,
    FIRST_NAME,
    MIDDLE_NAME,
    NAME_SUFFIX,
    STREET_NUMBER,
    STREET_NUMBER_SUFFIX,
    STREET_NAME,
    UNIT,
    CITY,
    STATE,
    ZIP5,
    PARTY,
    STATUS,
    BIRTH_DATE,
    BIRTH_YEAR,
    REGISTRATION_DATE,
    WARD,
    PRECINCT,
    PRECINCT_ID,
)
# added by geocoding
GEOCODE_METHOD: Final = "geocode_method"  # address_point | interpolated | centroid
GEOCODE_PRECINCT_ID: Final = "geocode_precinct_id"
#: Which geocoding step placed the address or failed, with the nearest candidates
#: for a miss (``"street_not_found: nearest MAPLE ST"``); codes in canvass.geocode.
GEOCODE_DETAIL: Final = "geocode_detail"
# added by scoring / targeting: P(vote) per target type is f"p_{type}"
IS_NEW_REGISTRANT: Final = "is_new_registrant"
IS_TARGET: Final = "is_target"
SUPPRESSED: Final = "suppressed"  # "" or the reason (inactive, moved, deceased, dnk)
LIFT: Final = "lift"  # expected extra votes if knocked
# added by supporter matching (canvass.match.flag_voters) when [supporters] is set
IS_SUPPORTER: Final = "is_supporter"
SUPPORTER_HOUSEHOLD: Final = "supporter_household"  # a supporter or lives with one

# --- history / elections ----------------------------------------------------------
ELECTION_DATE: Final = "election_date"
ELECTION_TYPE: Final = "election_type"
PARTY_VOTED: Final = "party_voted"
HISTORY_COLUMNS: Final = (VOTER_ID, ELECTION_ID, ELECTION_DATE, ELECTION_TYPE)
IS_GUBERNATORIAL: Final = "is_gubernatorial"
LABEL: Final = "label"
ELECTION_COLUMNS: Final = (ELECTION_DATE, ELECTION_TYPE, IS_GUBERNATORIAL, LABEL)

# --- precincts --------------------------------------------------------------------
NAME: Final = "name"
AREA_KM2: Final = "area_km2"
PRECINCT_COLUMNS: Final = (WARD, PRECINCT, NAME)

# --- doors ------------------------------------------------------------------------
ADDRESS: Final = "address"  # display form, e.g. "12 MAIN ST"
N_VOTERS: Final = "n_voters"
N_UNITS: Final = "n_units"
N_TARGETS: Final = "n_targets"
VALUE: Final = "value"  # expected extra votes at this door (sum of targets' lift)
DOOR_COLUMNS: Final = (ADDRESS, STREET_NAME, STREET_NUMBER, PRECINCT_ID, N_VOTERS)
# added by the network stage
EDGE_U: Final = "edge_u"
EDGE_V: Final = "edge_v"
EDGE_KEY: Final = "edge_key"
EDGE_POS_M: Final = "edge_pos_m"  # distance from edge_u along the edge
SIDE: Final = "side"  # "L" or "R" of the edge direction u -> v
SNAP_M: Final = "snap_m"
STREET_CLASS: Final = "street_class"  # OSM highway tag of the snapped edge

# --- turfs ------------------------------------------------------------------------
N_DOORS: Final = "n_doors"
EST_S: Final = "est_s"  # time to work the turf, walking plus doors (all its volunteers)
STAGING_NODE: Final = "staging_node"
N_LEGS: Final = "n_legs"  # walking loops of a turf, joined by short drives
CAR_STOP: Final = "car_stop"  # street node a door's leg is walked from (car legs)
WALKER: Final = "walker"  # which of a turf's volunteers walks the door (1 = first)
TURF_COLUMNS: Final = (PRECINCT_ID, N_DOORS, N_TARGETS, EST_S)

# --- stops and routes -------------------------------------------------------------
VOLUNTEER: Final = "volunteer"
STOP: Final = "stop"
ARRIVE_S: Final = "arrive_s"
LEG_M: Final = "leg_m"
LEG_S: Final = "leg_s"
DRIVE_S: Final = "drive_s"  # seconds driven (parking included) just before a stop
DRIVE_M: Final = "drive_m"
STOP_COLUMNS: Final = (ROUTE_ID, TURF_ID, VOLUNTEER, STOP, DOOR_ID, ARRIVE_S, LEG_M)
WALK_M: Final = "walk_m"
WALK_S: Final = "walk_s"
DOOR_S: Final = "door_s"
TOTAL_S: Final = "total_s"
ROUTE_COLUMNS: Final = (TURF_ID, VOLUNTEER, N_DOORS, WALK_M, WALK_S, TOTAL_S)

# --- results from the doors ----------------------------------------------------------
#: The phone CSV's columns in order (the survey questions follow ``volunteer``): what
#: the route page's recorder writes and ``canvass results import`` reads.
PHONE_COLUMNS: Final = (
    "event_id",
    "voter_id",
    "run_id",
    "route_id",
    "door_id",
    "time",
    "result",
    "volunteer",
    "come_back",  # optional on import: when a COME_BACK asked to come back
)

# --- left-out doors ---------------------------------------------------------------
REASON: Final = "reason"
DETAIL: Final = "detail"
LEFT_OUT_REASONS: Final = (
    "unreachable",  # not on the main walkable component
    "too_far_from_street",  # farther than walk.max_snap_m from any street
    "dropped_for_time",  # the shift ran out; least valuable doors go first
    "outside_precincts",  # geocoded outside every precinct
    "address_not_found",  # placed only at its precinct's centre: verify the address
    "not_geocoded",  # no door point could be found
    "attempt_cap",  # knocked campaign.max_attempts times already
    "come_back_later",  # asked to come back, in this very slot of this day
    "low_value",  # next knock worth under campaign.min_value_share of the median
)
LEFT_OUT_COLUMNS: Final = (DOOR_ID, REASON, VALUE, DETAIL)


def _missing(columns: Iterable[str], required: Iterable[str]) -> list[str]:
    have = set(columns)
    return [c for c in required if c not in have]


def _raise(table: str, problems: list[str]) -> None:
    if problems:
        msg = f"The {table} table is not usable: " + "; ".join(problems) + "."
        raise InputError(msg)


def _check_frame(
    df: object,
    table: str,
    *,
    index: str | None,
    required: Iterable[str],
    geo: str | None = None,
) -> list[str]:
    """Collect every problem of one table (columns, index, CRS, geometry type)."""
    if not isinstance(df, pd.DataFrame):
        msg = f"The {table} table must be a (Geo)DataFrame, got {type(df).__name__}."
        raise TypeError(msg)
    problems: list[str] = []
    if missing := _missing(df.columns, required):
        problems.append(f"missing column(s) {missing}")
    if index is not None:
        if df.index.name != index:
            problems.append(f"index must be named `{index}`, got `{df.index.name}`")
        elif not df.index.is_unique:
            dupes = df.index[df.index.duplicated()].unique()[:5].tolist()
            problems.append(f"`{index}` must be unique; duplicated: {dupes}")
    if geo is not None:
        crs = getattr(df, "crs", None)
        if "geometry" not in df.columns:
            problems.append("no geometry column")
        elif crs is None or not crs.is_projected:
            problems.append(
                f"CRS must be projected (metres), got {crs}; "
                "reproject with `canvass.load.local_crs()` first"
            )
        elif len(df) and not df.geom_type.isin(geo.split("|")).all():
            found = sorted(set(df.geom_type.dropna()))
            problems.append(f"geometries must be {geo}, found {found}")
    return problems


def validate_voters(voters: pd.DataFrame) -> None:
    """
    Check that `voters` is a canonical voter table; report every problem at once.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    _raise(
        "voters", _check_frame(voters, "voters", index=VOTER_ID, required=VOTER_COLUMNS)
    )


def validate_history(history: pd.DataFrame) -> None:
    """
    Check that `history` is a long vote-history table.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(history, "history", index=None, required=HISTORY_COLUMNS)
    if not problems:
        bad = sorted(
            set(history[ELECTION_TYPE].dropna().unique()) - set(ELECTION_TYPES)
        )
        if bad:
            problems.append(
                f"unknown election type(s) {bad}; expected {ELECTION_TYPES}"
            )
    _raise("history", problems)


def validate_elections(elections: pd.DataFrame) -> None:
    """
    Check that `elections` is an election calendar.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(
        elections, "elections", index=ELECTION_ID, required=ELECTION_COLUMNS
    )
    _raise("elections", problems)


def validate_precincts(precincts: pd.DataFrame) -> None:
    """
    Check that `precincts` is a projected polygon table indexed by `precinct_id`.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(
        precincts,
        "precincts",
        index=PRECINCT_ID,
        required=PRECINCT_COLUMNS,
        geo="Polygon|MultiPolygon",
    )
    _raise("precincts", problems)


def validate_doors(doors: pd.DataFrame, *, also: Iterable[str] = ()) -> None:
    """
    Check that `doors` is a projected point table indexed by `door_id`.

    Parameters
    ----------
    doors
        The door table.
    also
        Further columns the calling stage needs (for example ``turf_id``).

    Raises
    ------
    InputError
        Listing each problem found.
    """
    required = (*DOOR_COLUMNS, *also)
    problems = _check_frame(
        doors, "doors", index=DOOR_ID, required=required, geo="Point"
    )
    _raise("doors", problems)


def validate_turfs(turfs: pd.DataFrame) -> None:
    """
    Check that `turfs` is a projected polygon table indexed by `turf_id`.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(
        turfs, "turfs", index=TURF_ID, required=TURF_COLUMNS, geo="Polygon|MultiPolygon"
    )
    _raise("turfs", problems)


def validate_stops(stops: pd.DataFrame) -> None:
    """
    Check that `stops` lists door visits with each door at most once.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(stops, "stops", index=None, required=STOP_COLUMNS)
    if not problems and stops[DOOR_ID].duplicated().any():
        dupes = stops.loc[stops[DOOR_ID].duplicated(), DOOR_ID].unique()[:5].tolist()
        problems.append(f"a door appears in more than one stop: {dupes}")
    _raise("stops", problems)


def validate_routes(routes: pd.DataFrame) -> None:
    """
    Check that `routes` is a projected line table indexed by `route_id`.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(
        routes,
        "routes",
        index=ROUTE_ID,
        required=ROUTE_COLUMNS,
        geo="LineString|MultiLineString",
    )
    _raise("routes", problems)


def validate_left_out(left_out: pd.DataFrame) -> None:
    """
    Check that every left-out door has a known reason.

    Raises
    ------
    InputError
        Listing each problem found.
    """
    problems = _check_frame(left_out, "left_out", index=None, required=LEFT_OUT_COLUMNS)
    if not problems:
        bad = sorted(set(left_out[REASON].unique()) - set(LEFT_OUT_REASONS))
        if bad:
            problems.append(f"unknown reason(s) {bad}; expected {LEFT_OUT_REASONS}")
    _raise("left_out", problems)
