"""Read a volunteer roster: who can walk, with or without a car, from where.

A roster is a CSV (any encoding or delimiter :func:`canvass.load.read_table` reads)
with a header row. Columns, matched ignoring case, spaces and ``_``:

``name`` (required)
    The volunteer's name; route pages, PDFs and GPX show the first word only.
``phone``, ``email`` (optional)
    For the field director; carried into the assignment file, never into the
    database or the walk lists.
``has_car`` (optional)
    ``yes``/``no`` (also ``y``, ``n``, ``true``, ``false``, ``1``, ``0``). Empty:
    treated as no car (walking reach), and the assignment says so.
``home_address`` (or ``home``, ``address``; optional)
    One line, e.g. ``12 Main St Apt 2, 01060``; placed with canvass's offline
    geocoder (the run's address points and streets).
``area`` (optional)
    A precinct id of the run, or a 5-digit zip: where the volunteer lives when the
    address is not given or not found.
``team`` (optional)
    Volunteers with the same team name walk the same turf.
``voter_id`` (optional)
    The volunteer's own voter id (``canvass match`` writes it into
    ``volunteers.csv``): their door is their home.

The ``volunteers.csv`` that ``canvass match`` writes is such a roster (its other
columns are ignored). A row without a name, with an unreadable ``has_car`` or with
the same name as an earlier row is rejected with the reason; rows in = volunteers +
rejected.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from ..errors import InputError
from ..load import read_table

__all__ = ["ROSTER_COLUMNS", "Roster", "first_name", "read_roster"]

logger = logging.getLogger(__name__)

#: Columns the roster is read into (all strings but ``has_car``: True, False, NA).
ROSTER_COLUMNS: Final = (
    "name", "phone", "email", "has_car", "car_given", "home_address", "area", "team",
    "voter_id", "line",
)  # fmt: skip
_ALIASES: Final = {
    "name": ("name", "volunteer", "full name"),
    "phone": ("phone", "mobile", "cell"),
    "email": ("email", "e-mail"),
    "has_car": ("has car", "car"),
    "home_address": ("home address", "home", "address"),
    "area": ("area", "neighbourhood", "neighborhood", "precinct", "zip", "zip5"),
    "team": ("team",),
    "voter_id": ("voter id", "voter file vanid", "vanid"),
}
_YES: Final = {"y", "yes", "true", "1", "t"}
_NO: Final = {"n", "no", "false", "0", "f"}


@dataclass(frozen=True)
class Roster:
    """
    Volunteers read from a roster file, and the rows that could not be used.

    Parameters
    ----------
    volunteers
        Columns :data:`ROSTER_COLUMNS`, one row per volunteer, in file order.
    rejects
        ``file``, ``line``, ``reason``.
    rows
        Data rows in the file (= volunteers + rejects).
    """

    volunteers: pd.DataFrame
    rejects: pd.DataFrame
    rows: int


def first_name(name: object) -> str:
    """Return the first word of a name, as route pages show a volunteer."""
    words = str(name or "").strip().split()
    return words[0] if words else ""


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def read_roster(path: Path) -> Roster:
    """
    Read a volunteer roster.

    Parameters
    ----------
    path
        The roster CSV (see the module docstring for its columns).

    Returns
    -------
    Roster
        The volunteers and the rejected rows with their reasons.

    Raises
    ------
    InputError
        If the file cannot be read or has no ``name`` column.
    """
    table = read_table(path, what="volunteer roster", header_only_ok=True)
    header = [_key(h) for h in table.header or []]
    frame = table.frame.copy()
    frame.columns = header
    found = {}
    for field, names in _ALIASES.items():
        hit = next((n for n in names if n in header), None)
        if hit is not None:
            found[field] = hit
    if "name" not in found:
        msg = (
            f"{path}: the volunteer roster has no `name` column (found "
            f"{(table.header or [])[:8]}); give one name per row, optionally phone, "
            "email, has_car, home_address, area, team (docs/results.md)."
        )
        raise InputError(msg)
    rejects = [
        {"file": table.name, "line": int(line), "reason": f"malformed row: {why}"}
        for line, why in zip(table.bad["line"], table.bad["reason"], strict=True)
    ]
    rows = []
    seen: dict[str, int] = {}
    for line, rec in zip(frame.index, frame.to_dict("records"), strict=True):
        get = {f: str(rec.get(col, "") or "").strip() for f, col in found.items()}
        name = re.sub(r"\s+", " ", get.get("name", ""))
        if not name:
            rejects.append({"file": table.name, "line": int(line), "reason": "no name"})
            continue
        car_text = get.get("has_car", "").lower()
        if car_text and car_text not in _YES | _NO:
            rejects.append(
                {"file": table.name, "line": int(line),
                 "reason": f"has_car {car_text[:20]!r} is not yes or no"}
            )  # fmt: skip
            continue
        if name.casefold() in seen:
            rejects.append(
                {"file": table.name, "line": int(line),
                 "reason": f"same name as line {seen[name.casefold()]}; tell the two "
                 "apart (e.g. add a last initial)"}
            )  # fmt: skip
            continue
        seen[name.casefold()] = int(line)
        rows.append(
            {
                "name": name[:200],
                "phone": get.get("phone", ""),
                "email": get.get("email", ""),
                "has_car": car_text in _YES,
                "car_given": bool(car_text),
                "home_address": get.get("home_address", ""),
                "area": get.get("area", ""),
                "team": get.get("team", ""),
                "voter_id": get.get("voter_id", ""),
                "line": int(line),
            }
        )
    volunteers = pd.DataFrame(rows, columns=list(ROSTER_COLUMNS))
    bad = pd.DataFrame(rejects, columns=["file", "line", "reason"])
    n_rows = len(frame) + len(table.bad)
    logger.info(
        "%s: %s rows, %s volunteers, %s rejected",
        table.name, n_rows, len(volunteers), len(bad),
    )  # fmt: skip
    return Roster(volunteers, bad.sort_values("line", kind="stable"), n_rows)
