"""Write the match outputs and the volunteer roster (private).

Files hold ids, match probabilities, weights and agreement levels only: a supporter
is named by the list file, its spreadsheet row and the list's own id, a voter by the
voter id. The only file with names is ``volunteers.csv``, the roster the volunteers
gave the chapter for that purpose.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..geocode import display_address
from ._match import MatchResult

__all__ = [
    "MATCH_COLUMNS",
    "ROSTER_COLUMNS",
    "flag_voters",
    "volunteer_roster",
    "write_match_outputs",
]

logger = logging.getLogger(__name__)

IS_SUPPORTER: Final = schema.IS_SUPPORTER
SUPPORTER_HOUSEHOLD: Final = schema.SUPPORTER_HOUSEHOLD
_ID_COLUMNS: Final = ("source", "line", "supporter_id")
_LEVELS: Final = (
    "first_name",
    "last_name",
    "suffix",
    "birth",
    "address",
    "email",
    "phone",
)
#: Columns of ``matches.csv`` (``review.csv`` adds the runner-up and the reason).
MATCH_COLUMNS: Final = (
    *_ID_COLUMNS, "voter_id", "match_probability", "match_weight",
    *(f"{c}_agreement" for c in _LEVELS), "candidates", "is_volunteer", "is_donor",
    "is_event",
)  # fmt: skip
#: Columns of ``volunteers.csv``: the roster ``canvass assign`` reads.
ROSTER_COLUMNS: Final = (
    "name", "phone", "email", "has_car", "home_address", "area", "nearest_turfs",
    "voter_id", "source", "line",
)  # fmt: skip


def _table(decisions: pd.DataFrame, status: str) -> pd.DataFrame:
    rows = decisions[decisions["status"] == status].copy()
    for col in _LEVELS:
        rows[f"{col}_agreement"] = rows.get(col, "")
    cols = [c for c in MATCH_COLUMNS if c in rows]
    if status == "review":
        cols += ["reason", "second_voter_id", "second_probability"]
    out = rows[cols].sort_values(["source", "line"], kind="stable")
    return out.reset_index(drop=True)


def write_match_outputs(
    result: MatchResult,
    out_dir: Path,
    *,
    roster: pd.DataFrame | None = None,
    config: dict[str, Any] | None = None,
) -> list[Path]:
    """
    Write the match files of a supporter list into `out_dir`.

    ``matches.csv``, ``review.csv``, ``unmatched.csv``, ``unregistered.csv``,
    ``match_report.json`` and (when there are volunteers) ``volunteers.csv``.

    Parameters
    ----------
    result
        The match.
    out_dir
        Folder to write into (created when missing).
    roster
        Volunteer roster from :func:`volunteer_roster`; None = build one without
        turfs.
    config
        The ``[supporters]`` settings, recorded in the report.

    Returns
    -------
    paths
        The files written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    dec = result.decisions
    written: list[Path] = []

    def csv(frame: pd.DataFrame, name: str) -> None:
        path = out_dir / name
        frame.to_csv(path, index=False, float_format="%.4f", lineterminator="\n")
        written.append(path)

    csv(_table(dec, "matched"), "matches.csv")
    csv(_table(dec, "review"), "review.csv")
    unmatched = dec[dec["status"] == "unmatched"]
    cols = [*_ID_COLUMNS, "reason", "match_probability", "in_area"]
    csv(
        unmatched[cols]
        .rename(columns={"match_probability": "best_probability"})
        .sort_values(["source", "line"], kind="stable"),
        "unmatched.csv",
    )
    drive = unmatched[
        unmatched["in_area"].astype(bool)
        & unmatched["reason"].isin(["no_candidate", "weak_evidence"])
    ]
    zips = result.supporters.supporters["zip5"].reindex(drive.index).fillna("")
    csv(
        drive[list(_ID_COLUMNS)].assign(zip5=zips.to_numpy()),
        "unregistered.csv",
    )
    roster = roster if roster is not None else volunteer_roster(result)
    if len(roster):
        csv(roster, "volunteers.csv")
    report = {
        **result.report,
        "settings": config or {},
        "parameters": result.parameters,
    }
    path = out_dir / "match_report.json"
    path.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    written.append(path)
    logger.info("Wrote %s match files to %s", len(written), out_dir)
    return written


def flag_voters(
    voters: pd.DataFrame, result: MatchResult, *, contact: bool = False
) -> pd.DataFrame:
    """
    Mark matched supporters and their households on the voters table.

    Parameters
    ----------
    voters
        Voters (index ``voter_id``); with ``door_id`` after geocoding, households
        are the voters at a supporter's door, else at the same number, street,
        unit and zip.
    result
        The match.
    contact
        Also copy the list's e-mail and phone of matched supporters into
        ``supporter_email`` and ``supporter_phone`` (printed on walk lists); only
        when ``supporters.contact_on_walk_lists`` asks for it.

    Returns
    -------
    voters
        Copy with ``is_supporter`` and ``supporter_household`` (a supporter or
        living with one).
    """
    out = voters.copy()
    ids = set(result.matched["voter_id"].astype(str))
    out[IS_SUPPORTER] = out.index.astype(str).isin(ids)
    if schema.DOOR_ID in out:
        home = out[schema.DOOR_ID].astype("string").fillna("")
    else:
        parts = [schema.STREET_NUMBER, schema.STREET_NAME, schema.UNIT, schema.ZIP5]
        home = out[[c for c in parts if c in out]].astype(str).agg("|".join, axis=1)
    homes = set(home[out[IS_SUPPORTER]]) - {""}
    out[SUPPORTER_HOUSEHOLD] = home.isin(homes).to_numpy() | out[IS_SUPPORTER]
    if contact:
        matched = result.matched
        rows = result.supporters.supporters.reindex(matched.index)
        for col in ("email", "phone"):
            by_voter = pd.Series(
                rows[col].fillna("").to_numpy(), index=matched["voter_id"].to_numpy()
            )
            by_voter = by_voter[by_voter.ne("")]
            by_voter = by_voter[~by_voter.index.duplicated()]
            lookup = by_voter.to_dict()
            out[f"supporter_{col}"] = [lookup.get(v, "") for v in out.index.astype(str)]
    logger.info(
        "%s voters are matched supporters, %s live with one",
        f"{int(out[IS_SUPPORTER].sum()):,}",
        f"{int((out[SUPPORTER_HOUSEHOLD] & ~out[IS_SUPPORTER]).sum()):,}",
    )
    return out


def _nearest_turfs(
    points: gpd.GeoSeries, turfs: gpd.GeoDataFrame, k: int = 3
) -> list[str]:
    if not len(turfs):
        return [""] * len(points)
    centres = turfs.geometry.representative_point()
    cx, cy = centres.x.to_numpy(), centres.y.to_numpy()
    ids = turfs.index.astype(str).to_numpy()
    out = []
    for p in points:
        if p is None or p.is_empty:
            out.append("")
            continue
        d = np.hypot(cx - p.x, cy - p.y)
        out.append(";".join(ids[np.argsort(d, kind="stable")[:k]]))
    return out


def volunteer_roster(
    result: MatchResult,
    voters: pd.DataFrame | None = None,
    *,
    doors: gpd.GeoDataFrame | None = None,
    turfs: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """
    Return the volunteers of the supporter list as the roster ``canvass assign`` reads.

    Parameters
    ----------
    result
        The match (volunteers are rows with ``is_volunteer``).
    voters
        Voters table; gives the matched volunteer's home address and precinct.
    doors, turfs
        Door points and turf polygons of a run: each volunteer's three nearest turfs
        (from their home door), nearest first.

    Returns
    -------
    roster
        Columns :data:`ROSTER_COLUMNS`: ``name``, ``phone``, ``email``, ``has_car``
        (yes, no or empty when the list does not say), ``home_address`` (the
        voter file's when matched, else the list's), ``area`` (precinct when
        matched, else zip), ``nearest_turfs``, ``voter_id``, ``source``, ``line``.
        Volunteers with a nearest turf come first, in turf order.
    """
    dec = result.decisions
    rows = result.supporters.supporters
    vol = dec[dec["is_volunteer"].astype(bool) & dec.index.isin(rows.index)]
    if not len(vol):
        return pd.DataFrame(columns=list(ROSTER_COLUMNS))
    sup = rows.loc[vol.index]
    matched = vol["status"].eq("matched")
    vid = vol["voter_id"].where(matched, "").astype(str)
    name = (
        sup["first_name"].str.title() + " " + sup["last_name"].str.title()
    ).str.strip()
    home = sup["address"].astype(str)
    area = sup["zip5"].astype(str)
    if voters is not None and matched.any():
        found = vid.isin(voters.index.astype(str))
        v = voters.loc[vid[found].to_list()]
        street = display_address(
            v[schema.STREET_NUMBER].astype(str),
            v[schema.STREET_NUMBER_SUFFIX].astype(str)
            if schema.STREET_NUMBER_SUFFIX in v
            else v[schema.STREET_NUMBER].astype(str).str[:0],
            v[schema.STREET_NAME].astype(str),
        )
        unit = v[schema.UNIT].astype(str) if schema.UNIT in v else street.str[:0]
        home[found] = (street + np.where(unit.ne(""), " #" + unit, "")).to_numpy()
        if schema.PRECINCT_ID in v:
            area[found] = v[schema.PRECINCT_ID].astype(str).to_numpy()
    nearest = [""] * len(vol)
    if voters is not None and doors is not None and turfs is not None:
        door_of = voters.get(schema.DOOR_ID)
        if door_of is not None:
            door_ids = vid.map(door_of.astype(str)).fillna("")
            pts = doors.geometry.reindex(door_ids.where(door_ids.ne(""), None))
            nearest = _nearest_turfs(
                gpd.GeoSeries(pts.to_numpy(), crs=doors.crs), turfs
            )
    roster = pd.DataFrame(
        {
            "name": name.to_numpy(),
            "phone": sup["phone"].to_numpy(),
            "email": sup["email"].to_numpy(),
            "has_car": sup["has_car"].to_numpy(),
            "home_address": home.to_numpy(),
            "area": area.to_numpy(),
            "nearest_turfs": nearest,
            "voter_id": vid.to_numpy(),
            "source": sup["source"].to_numpy(),
            "line": sup["line"].to_numpy(),
        }
    )
    first = roster["nearest_turfs"].str.split(";").str[0].fillna("")
    order = np.lexsort(
        (roster["line"].to_numpy(), first.to_numpy(), first.eq("").to_numpy())
    )
    return roster.iloc[order].reset_index(drop=True)
