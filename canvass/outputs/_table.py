"""The walk-list table: who is at each routed door, in walking order.

The CSVs, PDFs, GPX tracks, route pages and the turf map all list the same rows;
they are built here once, so the writers import this module and not each other.

A walk list has one row per registered voter at every routed door, in walking order:
the doors in the order of the volunteer's route, and at each door all its voters
(targets flagged, as PDI marks them with an asterisk), units of a building together in
unit order. Column names follow the VAN list export (``Voter File VANID``,
``LastName``, ``FirstName``, ``Address``, ``City``, ``State``, ``Zip5``, ``Age``,
``Sex``, ``Party``; DOMAIN.md §4.4) plus the stop number, side of street, target flag,
a short vote-history summary and blank ``Result``/``Notes`` columns for data entry with
the result codes of DOMAIN.md §4.2.

With ``output.redact`` the files carry no names: the CSVs and PDFs list street blocks
(``100 block of MAIN ST``) with door and target counts, and GPX waypoints are block
centres. Voters suppressed as moved, deceased or do-not-knock are never listed.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "CSV_COLUMNS",
    "RESULT_CODES",
    "blank",
    "block_label",
    "block_table",
    "door_name",
    "history_summary",
    "reference_year",
    "safe_name",
    "volunteer_label",
    "walk_list_table",
]

logger = logging.getLogger(__name__)

#: Canonical door results (DOMAIN.md §4.2): (code, short mark, label for people).
RESULT_CODES: Final = (
    ("NOT_HOME", "NH", "Not home"),
    ("CONTACTED", "C", "Contacted"),
    ("REFUSED", "R", "Refused"),
    ("MOVED", "MV", "Moved"),
    ("DECEASED", "D", "Deceased"),
    ("INACCESSIBLE", "IN", "Inaccessible"),
    ("LANGUAGE_BARRIER", "LB", "Language barrier"),
    ("COME_BACK", "CB", "Come back"),
    ("DO_NOT_KNOCK", "DNK", "Do not knock"),
)

#: Internal walk-list column -> CSV header: VAN list-export names for the voter's
#: fields, canvass's own names (as in :mod:`canvass.schema`) for turf, route, stop and
#: door, which VAN has no column for.
CSV_COLUMNS: Final = {
    schema.TURF_ID: schema.TURF_ID,
    schema.ROUTE_ID: schema.ROUTE_ID,
    schema.VOLUNTEER: schema.VOLUNTEER,
    schema.STOP: schema.STOP,
    schema.DOOR_ID: schema.DOOR_ID,
    schema.SIDE: schema.SIDE,
    "odd_even": "odd_even",
    schema.VOTER_ID: "Voter File VANID",
    schema.LAST_NAME: "LastName",
    schema.FIRST_NAME: "FirstName",
    schema.MIDDLE_NAME: "MiddleName",
    schema.ADDRESS: "Address",
    schema.UNIT: "Unit",
    schema.CITY: "City",
    schema.STATE: "State",
    schema.ZIP5: "Zip5",
    "age": "Age",
    "sex": "Sex",
    schema.PARTY: "Party",
    schema.IS_TARGET: "Target",
    "history": "VoteHistory",
    schema.PRECINCT_ID: "Precinct",
    # only with supporters.contact_on_walk_lists = true (canvass.match.flag_voters)
    "supporter_email": "Email",
    "supporter_phone": "Phone",
    "result": "Result",
    "notes": "Notes",
}

#: Voter columns that a scoring stage may provide with a ready history summary.
HISTORY_COLUMNS: Final = ("history_summary", "vote_history", "history")
SEX_COLUMNS: Final = ("sex", "gender")
#: Suppression reasons that take a voter off the sheet (inactive voters stay listed).
UNLISTED: Final = ("moved", "deceased", "dnk", "do_not_knock")
_CODE: Final = {
    schema.STATE_PRIMARY: "P",
    schema.STATE_ELECTION: "G",
    schema.PRESIDENTIAL_PRIMARY: "PP",
    schema.PRESIDENTIAL_ELECTION: "G",
    schema.MUNICIPAL: "M",
    schema.SPECIAL: "S",
}
_DIGITS = re.compile(r"(\d+)")
CSV_ENCODING: Final = "utf-8-sig"  # Excel opens accented names correctly


def reference_year(plan: Plan) -> int | None:
    """
    Return the year ages are computed at: ``output.date``, else the last election.

    Returns
    -------
    year
        The year, or None when neither is known (ages are then left blank).
    """
    if plan.config.output.date:
        return int(plan.config.output.date[:4])
    if len(plan.elections) and schema.ELECTION_DATE in plan.elections.columns:
        dates = pd.to_datetime(plan.elections[schema.ELECTION_DATE], errors="coerce")
        if dates.notna().any():
            return int(dates.max().year)
    return None


def history_summary(
    voter_ids: pd.Index, history: pd.DataFrame, elections: pd.DataFrame, n: int = 8
) -> pd.Series:
    """
    Summarise each voter's record in the last `n` elections, e.g. ``3/8 G22 P22 G20``.

    Codes follow VAN custom formats: ``P`` state primary, ``G`` state or presidential
    election, ``PP`` presidential primary, ``M`` municipal, ``S`` special, with the
    two-digit year; newest first.

    Parameters
    ----------
    voter_ids
        The voters to summarise.
    history
        Long vote history (one row per voter per election voted in).
    elections
        The election calendar.
    n
        How many of the latest elections to look at.

    Returns
    -------
    summary
        One string per voter id; ``0/8`` for a voter with no votes in that window.
    """
    out = pd.Series("", index=voter_ids, dtype=object)
    if not len(elections) or schema.ELECTION_DATE not in elections.columns:
        return out.astype("string")
    cal = elections.assign(_d=pd.to_datetime(elections[schema.ELECTION_DATE]))
    cal = cal.sort_values(["_d"], ascending=False, kind="stable").head(n)
    window = len(cal)
    codes = {
        str(eid): f"{_CODE.get(str(row[schema.ELECTION_TYPE]), 'O')}{row['_d']:%y}"
        for eid, row in cal.iterrows()
    }
    rank = {str(eid): i for i, eid in enumerate(cal.index)}
    voted = history.loc[
        history[schema.VOTER_ID].isin(voter_ids)
        & history[schema.ELECTION_ID].astype(str).isin(codes),
        [schema.VOTER_ID, schema.ELECTION_ID],
    ].drop_duplicates()
    voted = voted.assign(
        _r=voted[schema.ELECTION_ID].astype(str).map(rank),
        _c=voted[schema.ELECTION_ID].astype(str).map(codes),
    ).sort_values([schema.VOTER_ID, "_r"], kind="stable")
    grouped = voted.groupby(schema.VOTER_ID, sort=False)["_c"]
    text = grouped.agg(lambda s: " ".join(s))
    count = grouped.size()
    out[:] = f"0/{window}"
    hit = text.index.intersection(voter_ids)
    out.loc[hit] = pd.Series(
        [f"{count[v]}/{window} {text[v]}" for v in hit], index=hit, dtype=object
    )
    return out.astype("string")


def blank(value: Any) -> bool:
    """Return True for None, NaN, NA and NaT."""
    return value is None or bool(pd.isna(value))


def door_name(first: object, last: object, mode: str) -> str:
    """
    Return how a volunteer sees a voter's name (``output.door_names``).

    Parameters
    ----------
    first, last
        The voter's first and last name.
    mode
        ``first_last_initial`` ("Maria G."), ``full`` ("Maria Garcia") or ``none``.

    Returns
    -------
    name
        The name to show, or "" for ``none``.
    """
    f = "" if blank(first) else str(first).strip().title()
    la = "" if blank(last) else str(last).strip().title()
    if mode == "none":
        return ""
    if mode == "full":
        return f"{f} {la}".strip()
    return f"{f} {la[:1]}.".strip() if la else f


def volunteer_label(volunteer: object) -> str:
    """Return how a route's volunteer is shown: ``3`` becomes ``Volunteer 3``."""
    text = "" if blank(volunteer) else str(volunteer).strip()
    if not text:
        return "Volunteer"
    return f"Volunteer {text}" if text.replace(".", "").isdigit() else text


def _unit_key(unit: object) -> tuple[int, int, str]:
    """Natural sort key for unit numbers: no unit first, then 1, 2, 2A, 10, B."""
    if blank(unit) or not str(unit).strip():
        return (0, 0, "")
    text = str(unit).strip().upper().lstrip("#")
    m = _DIGITS.search(text)
    return (1, int(m.group(1)), text) if m else (2, 0, text)


def _ordered_stops(plan: Plan) -> pd.DataFrame:
    stops = plan.stops
    schema.validate_stops(stops)
    missing = sorted(set(stops[schema.DOOR_ID]) - set(plan.doors.index))
    if missing:
        msg = (
            f"{len(missing)} routed door(s) are not in the doors table (e.g. "
            f"{missing[:3]}); the route and door tables come from different runs."
        )
        raise InputError(msg)
    return stops.sort_values([schema.ROUTE_ID, schema.STOP], kind="stable").reset_index(
        drop=True
    )


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip()


def walk_list_table(plan: Plan) -> pd.DataFrame:
    """
    Build the walk list: every listed voter at every routed door, in walking order.

    Parameters
    ----------
    plan
        A finished plan.

    Returns
    -------
    walk_list
        One row per voter, ordered by route, stop, unit, last and first name, with
        the keys of :data:`CSV_COLUMNS` (``sex`` only when the voter file has it).
        Doors without any listed voter keep one row with blank voter fields, so
        every routed door appears.
    """
    stops = _ordered_stops(plan)
    doors = plan.doors
    voters = plan.voters
    if schema.SUPPRESSED in voters.columns:
        reason = _text(voters[schema.SUPPRESSED]).str.lower()
        voters = voters[~reason.isin(UNLISTED)]
    voters = voters[voters[schema.DOOR_ID].isin(stops[schema.DOOR_ID])]

    door_cols = [c for c in (schema.ADDRESS, schema.SIDE) if c in doors.columns]
    frame = stops.drop(columns=[c for c in door_cols if c in stops.columns]).join(
        pd.DataFrame(doors[door_cols]), on=schema.DOOR_ID
    )
    if schema.SIDE not in frame.columns:
        frame[schema.SIDE] = ""
    if schema.STREET_NUMBER in doors.columns:
        number = pd.to_numeric(
            _text(doors[schema.STREET_NUMBER]).str.extract(r"(\d+)")[0], errors="coerce"
        )
        parity = np.where(number.isna(), "", np.where(number % 2 == 1, "odd", "even"))
        frame["odd_even"] = frame[schema.DOOR_ID].map(
            pd.Series(parity, index=doors.index)
        )
    else:
        frame["odd_even"] = ""

    people = pd.DataFrame(index=voters.index)
    for col in (
        schema.DOOR_ID,
        schema.LAST_NAME,
        schema.FIRST_NAME,
        schema.MIDDLE_NAME,
        schema.UNIT,
        schema.CITY,
        schema.STATE,
        schema.ZIP5,
        schema.PARTY,
        schema.PRECINCT_ID,
    ):
        people[col] = (
            _text(voters[col])
            if col in voters.columns
            else pd.Series("", index=voters.index)
        )
    people[schema.DOOR_ID] = voters[schema.DOOR_ID].astype("string")
    for col in ("supporter_email", "supporter_phone"):
        if col in voters.columns:
            people[col] = _text(voters[col])
    if schema.IS_TARGET in voters.columns:
        people[schema.IS_TARGET] = voters[schema.IS_TARGET].fillna(False).astype(bool)
    else:
        people[schema.IS_TARGET] = False
    year = reference_year(plan)
    birth = (
        pd.to_numeric(voters[schema.BIRTH_YEAR], errors="coerce")
        if schema.BIRTH_YEAR in voters.columns
        else pd.Series(np.nan, index=voters.index)
    )
    if schema.BIRTH_DATE in voters.columns and birth.isna().any():
        dates = pd.to_datetime(
            voters[schema.BIRTH_DATE], errors="coerce", format="mixed"
        )
        birth = birth.astype("float64").fillna(dates.dt.year.astype("float64"))
    people["age"] = (year - birth).astype("Int64") if year is not None else pd.NA
    sex = next((c for c in SEX_COLUMNS if c in voters.columns), None)
    if sex is not None:
        people["sex"] = _text(voters[sex]).str.upper().str[:1]
    ready = next((c for c in HISTORY_COLUMNS if c in voters.columns), None)
    people["history"] = (
        _text(voters[ready])
        if ready is not None
        else history_summary(voters.index, plan.history, plan.elections)
    )
    people["_unit"] = [_unit_key(u) for u in people[schema.UNIT]]
    people = people.rename_axis(schema.VOTER_ID).reset_index()
    people = people.sort_values(
        [schema.DOOR_ID, "_unit", schema.LAST_NAME, schema.FIRST_NAME, schema.VOTER_ID],
        kind="stable",
    ).drop(columns="_unit")
    people["_order"] = np.arange(len(people))

    table = frame.merge(people, on=schema.DOOR_ID, how="left", sort=False)
    table = table.sort_values([schema.ROUTE_ID, schema.STOP, "_order"], kind="stable")
    table = table.drop(columns="_order").reset_index(drop=True)
    table[schema.IS_TARGET] = table[schema.IS_TARGET].fillna(False).astype(bool)
    table["result"] = ""
    table["notes"] = ""
    keep = [c for c in CSV_COLUMNS if c in table.columns]
    return table[keep]


def block_label(street_name: object, street_number: object) -> str:
    """Return the US "hundred block" of an address, e.g. ``100 block of MAIN ST``."""
    street = "" if blank(street_name) else str(street_name).strip()
    m = _DIGITS.search("" if blank(street_number) else str(street_number))
    if not m:
        return street or "unnamed street"
    return f"{int(m.group(1)) // 100 * 100} block of {street or 'unnamed street'}"


def block_table(plan: Plan) -> pd.DataFrame:
    """
    Aggregate each route's doors to street blocks (for ``output.redact``).

    A block is a hundred-number block of one street; its point is the centre of all
    doors with voters on it (targets or not), so a block with one target door does
    not give that door away.

    Returns
    -------
    blocks
        One row per route and block in walking order (first stop on the block):
        ``route_id``, ``turf_id``, ``volunteer``, ``stop`` (block number along the
        route), ``block``, ``doors``, ``targets``, ``x``, ``y`` (projected CRS).
    """
    stops = _ordered_stops(plan)
    doors = plan.doors
    street = doors[schema.STREET_NAME] if schema.STREET_NAME in doors.columns else None
    number = (
        doors[schema.STREET_NUMBER] if schema.STREET_NUMBER in doors.columns else None
    )
    labels = pd.Series(
        [
            block_label(
                street.iloc[i] if street is not None else "",
                number.iloc[i] if number is not None else "",
            )
            for i in range(len(doors))
        ],
        index=doors.index,
        dtype=object,
    )
    xy = pd.DataFrame({"x": doors.geometry.x, "y": doors.geometry.y, "block": labels})
    centres = xy.groupby("block").agg(x=("x", "mean"), y=("y", "mean"))
    frame = stops[[schema.ROUTE_ID, schema.TURF_ID, schema.VOLUNTEER, schema.DOOR_ID]]
    frame = frame.assign(
        block=frame[schema.DOOR_ID].map(labels),
        targets=frame[schema.DOOR_ID].map(doors[schema.N_TARGETS]).fillna(0),
    )
    grouped = frame.groupby([schema.ROUTE_ID, "block"], sort=False)
    blocks = grouped.agg(
        turf_id=(schema.TURF_ID, "first"),
        volunteer=(schema.VOLUNTEER, "first"),
        doors=(schema.DOOR_ID, "size"),
        targets=("targets", "sum"),
    ).reset_index()
    blocks["targets"] = blocks["targets"].astype(int)
    blocks[schema.STOP] = blocks.groupby(schema.ROUTE_ID).cumcount() + 1
    blocks = blocks.join(centres, on="block")
    cols = [schema.ROUTE_ID, schema.TURF_ID, schema.VOLUNTEER, schema.STOP, "block"]
    return blocks[[*cols, "doors", "targets", "x", "y"]]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """Return `name` as a safe file stem (ids are already simple; this is a guard)."""
    return _UNSAFE.sub("_", name).strip("._") or "unnamed"
