"""Stage 2: offline geocoding of voters to doors, and doors to precincts.

Each voter's address is normalised (:mod:`canvass.geocode._address`) and placed by the
first method that works, on *distinct addresses* rather than voters so that it scales to
statewide files:

1. ``address_point``: the address is in the address-point layer
   (:func:`read_address_points`), matched on number + street (+ zip when both sides
   have one), after correcting misspelt street names to known ones;
2. ``interpolated``: the house number is placed along the named street of the OSM
   network (:mod:`canvass.geocode._interpolate`), odd and even numbers on their own
   sides;
3. ``centroid``: the representative point of the voter's file precinct (low quality,
   flagged as such).

Voters at one building share one door and keep their unit. Doors are joined to the
precinct polygons spatially; doors outside every precinct, and doors whose geocoded
precinct differs from their voters' file precinct, are listed in the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from .. import schema
from ..config import GeocodeParams
from ..errors import InputError
from ._address import (
    address_key,
    correct_street_names,
    normalize_street_names,
    normalize_units,
    parse_address_line,
    parse_house_numbers,
    split_street_unit,
)
from ._doors import (
    ADDRESS_POINT,
    CENTROID,
    INTERPOLATED,
    METHODS,
    NOT_GEOCODED,
    build_doors,
)
from ._interpolate import interpolate_numbers, street_chains
from ._match import DETAIL_CODES, explain, match_points, street_only
from ._points import MATCH_KEY, read_address_points

__all__ = [
    "METHODS",
    "UNVERIFIED_MARK",
    "GeocodeResult",
    "geocode_voters",
    "read_address_points",
]

logger = logging.getLogger(__name__)

#: Appended to the printed address of a door routed at its precinct's centre.
UNVERIFIED_MARK: Final = " [location unverified: precinct centre]"

_NEEDED: Final = (
    schema.STREET_NUMBER,
    schema.STREET_NAME,
    schema.UNIT,
    schema.ZIP5,
    schema.PRECINCT_ID,
)


@dataclass(frozen=True)
class GeocodeResult:
    """
    What :func:`geocode_voters` returns.

    Parameters
    ----------
    voters
        Copy of the input with ``door_id``, ``geocode_method``, ``geocode_detail``
        (the step that placed the address or failed, see
        :data:`~canvass.geocode.DETAIL_CODES`) and ``geocode_precinct_id`` added
        (``""`` / ``"none"`` when not placed).
    doors
        One row per door (index ``door_id``): ``address``, ``street_name``,
        ``street_number``, ``zip5``, ``precinct_id`` (spatial join, ``""`` outside
        every precinct), ``file_precinct_id``, ``n_voters``, ``n_units``,
        ``geocode_method``, ``geocode_detail`` and Point geometry in the precincts'
        CRS; a door routed at a precinct centre (``geocode.route_centroids``) has
        :data:`UNVERIFIED_MARK` after its address.
    report
        PII-free counts: voters and doors by method and by detail code, match
        rates, street corrections by street (never with house numbers), address
        points that clash, doors outside the precincts and precinct disagreements
        (ids only).
    """

    voters: pd.DataFrame
    doors: gpd.GeoDataFrame
    report: dict[str, Any]


def _check_inputs(voters: pd.DataFrame, precincts: gpd.GeoDataFrame) -> None:
    problems: list[str] = []
    if missing := [c for c in _NEEDED if c not in voters.columns]:
        problems.append(f"voters lack column(s) {missing}")
    if voters.index.name != schema.VOTER_ID:
        problems.append(f"voters must be indexed by `{schema.VOTER_ID}`")
    if problems:
        msg = (
            "Cannot geocode: " + "; ".join(problems) + "; load them with canvass.load."
        )
        raise InputError(msg)
    schema.validate_precincts(precincts)


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[col].astype("str").fillna("").where(frame[col].notna(), "")


def _normalised_addresses(voters: pd.DataFrame) -> pd.DataFrame:
    """Normalised number, suffix, street, unit, zip5 and file precinct per voter."""
    parsed = parse_house_numbers(
        _text(voters, schema.STREET_NUMBER), _text(voters, schema.STREET_NUMBER_SUFFIX)
    )
    raw_street = _text(voters, schema.STREET_NAME)
    # Units typed into the street column ("MAIN ST APT 2") are split off first.
    split = {u: split_street_unit(u) for u in pd.unique(raw_street.astype("object"))}
    street_part = raw_street.map({k: v[0] for k, v in split.items()}).astype("str")
    unit_in_street = raw_street.map({k: v[1] for k, v in split.items()}).astype("str")
    units = normalize_units(_text(voters, schema.UNIT))
    out = pd.DataFrame(
        {
            "number": parsed["number"],
            "suffix": parsed["suffix"],
            "street": normalize_street_names(street_part),
            "unit": units.where(units != "", unit_in_street),
            "zip5": _text(voters, schema.ZIP5)
            .str.extract(r"^\s*(\d{3,5})", expand=False)
            .fillna("")
            .astype("str")
            .str.zfill(5)
            .replace("00000", ""),
            "file_precinct": _text(voters, schema.PRECINCT_ID),
        },
        index=voters.index,
    )
    # The number typed again into the street column ("12" + "12 MAIN ST").
    lead = out["street"].str.extract(r"^(\d+)\s+(\D.*)$")
    again = lead[0].notna() & (lead[0].str.lstrip("0") == out["number"])
    out.loc[again, "street"] = lead.loc[again, 1]
    # Files that put the whole line in the street column ("12 MAIN ST APT 2").
    line = (out["number"] == "") & raw_street.str.match(r"^\s*\d")
    if line.any():
        uniq = pd.unique(raw_street[line].astype("object"))
        lookup = {u: parse_address_line(u) for u in uniq}
        parts = raw_street[line].astype("object").map(lookup)
        for col, part in (
            ("number", "number"),
            ("suffix", "suffix"),
            ("street", "street"),
        ):
            out.loc[line, col] = parts.map(lambda p, k=part: p[k]).astype("str")
        unit = parts.map(lambda p: p["unit"]).astype("str")
        out.loc[line, "unit"] = out.loc[line, "unit"].where(
            out.loc[line, "unit"] != "", unit
        )
    return out


def _fix_streets(
    addrs: pd.DataFrame, points: gpd.GeoDataFrame | None, chain_names: set[str]
) -> tuple[pd.Series, dict[str, str]]:
    """Correct misspelt street names (within the zip first); return names and fixes."""
    known = set(chain_names)
    by_zip: dict[str, set[str]] = {}
    if points is not None:
        known |= set(points["street_name"])
        for z, g in points.groupby("zip5"):
            by_zip[str(z)] = set(g["street_name"])
    streets = addrs["street"].copy()
    unknown = addrs[~addrs["street"].isin(known) & (addrs["street"] != "")]
    applied: dict[str, str] = {}
    for z, g in unknown.groupby("zip5", sort=True):
        # The zip's own streets first: "VERON ST" is Vernon St in one zip and
        # Verona St in another.
        local = by_zip.get(str(z), set())
        fix = correct_street_names(set(g["street"]), local) if z and local else {}
        fix |= correct_street_names(set(g["street"]) - set(fix), known)
        sel = g.index[g["street"].isin(list(fix))]
        streets.loc[sel] = g.loc[sel, "street"].map(fix)
        applied.update(fix)
    return streets, dict(sorted(applied.items()))


def geocode_voters(
    voters: pd.DataFrame,
    precincts: gpd.GeoDataFrame,
    *,
    streets: nx.MultiDiGraph[Any] | None,
    address_points: gpd.GeoDataFrame | None,
    params: GeocodeParams,
) -> GeocodeResult:
    """
    Place every voter at a door and join the doors to the precincts.

    Parameters
    ----------
    voters
        Canonical voter table (index ``voter_id``) with the residential address
        columns and the file's ``precinct_id``.
    precincts
        Precinct polygons (index ``precinct_id``) in a projected CRS; doors come out
        in this CRS.
    streets
        Walking network from :func:`canvass.network.read_walk_graph` for
        interpolation, or ``None``.
    address_points
        Layer from :func:`read_address_points`, or ``None``.
    params
        Which methods to use and the interpolation setback.

    Returns
    -------
    GeocodeResult
        Voters with their door, the doors, and the report.

    Raises
    ------
    InputError
        When the voters lack address columns or the precincts are not usable.
    """
    _check_inputs(voters, precincts)
    crs = precincts.crs
    addrs = _normalised_addresses(voters)
    points = address_points if params.address_points else None
    if points is not None:
        missing = [c for c in (MATCH_KEY, "street_name", "zip5") if c not in points]
        if missing:
            msg = (
                f"address_points lack column(s) {missing}; read them with "
                "canvass.geocode.read_address_points."
            )
            raise InputError(msg)
        points = points.to_crs(crs).reset_index(drop=True)
    chains = (
        street_chains(streets, crs)
        if streets is not None and params.interpolate
        else street_chains(nx.MultiDiGraph(), crs)
    )
    known_streets = set(chains["street_name"])
    if points is not None:
        known_streets |= set(points["street_name"])
    fixed, fixes = _fix_streets(addrs, points, set(chains["street_name"]))
    corrected = fixed != addrs["street"]
    n_fixed = int(corrected.sum())
    by_street = (
        pd.DataFrame({"street": fixed[corrected], "from": addrs["street"][corrected]})
        .assign(**{"from": lambda f: f["from"].map(street_only)})
        .groupby("street")
        .agg(voters=("from", "size"), spellings=("from", lambda x: sorted(set(x))))
    )
    addrs["street"] = fixed
    addrs["corrected"] = corrected
    addrs["key"] = address_key(addrs["number"], addrs["suffix"], addrs["street"])
    no_suffix = pd.Series("", index=addrs.index, dtype="str")
    addrs["key_nosuffix"] = address_key(addrs["number"], no_suffix, addrs["street"])

    # Work on distinct addresses: (key, zip5) in each file precinct given for it (the
    # precinct tells apart two places with one address, and where to interpolate).
    uniq = (
        addrs.groupby(["key", "zip5", "file_precinct"], sort=True)
        .size()
        .rename("n")
        .reset_index()
    )
    first = addrs.drop_duplicates(["key", "zip5"]).set_index(["key", "zip5"])
    idx = pd.MultiIndex.from_frame(uniq[["key", "zip5"]])
    for col in ("number", "suffix", "street", "key_nosuffix"):
        uniq[col] = first.loc[idx, col].to_numpy()
    uniq["corrected"] = False
    uniq["loose"] = False
    uniq["places"] = 1
    uniq["resolved"] = False
    clashes: dict[str, Any] = {"addresses": 0, "clash_m": params.clash_m, "streets": {}}
    uniq["method"] = NOT_GEOCODED
    uniq["x"] = np.nan
    uniq["y"] = np.nan
    uniq["door_key"] = "A:" + uniq["key"] + "@" + uniq["zip5"]
    usable = uniq["street"] != ""

    if points is not None and len(points):
        found, clashes = match_points(uniq[usable], points, precincts, params.clash_m)
        for col in ("loose", "places", "resolved"):
            uniq.loc[found.index, col] = found[col].to_numpy()
        pt, loose = found["pt"], found["loose"]
        hit = pt[pt >= 0]
        xy = points.geometry.get_coordinates().to_numpy()
        uniq.loc[hit.index, ["x", "y"]] = xy[hit.to_numpy()]
        uniq.loc[hit.index, "method"] = ADDRESS_POINT
        # An exact match is the point's building door, shared by every spelling of
        # it; "12A" or "12 1/2" found only as "12" is its own door at that point.
        exact = hit[~loose.loc[hit.index]]
        uniq.loc[exact.index, "door_key"] = "P:" + exact.astype("str")
        pts_parts = points.iloc[exact.to_numpy()]
        for col, src in (
            ("number", "street_number"),
            ("suffix", "street_number_suffix"),
            ("street", "street_name"),
        ):
            uniq.loc[exact.index, col] = pts_parts[src].to_numpy()
        uniq.loc[exact.index, "zip_door"] = pts_parts["zip5"].to_numpy()

    # An address at several places, none of them in its precinct, is not guessed.
    todo = usable & (uniq["method"] == NOT_GEOCODED) & (uniq["number"] != "")
    todo &= uniq["places"] <= 1
    if todo.any() and params.interpolate and (not chains.empty or points is not None):
        known = gpd.GeoDataFrame(
            {
                "street_name": pd.Series(dtype="str"),
                "number": pd.Series(dtype="int64"),
                "zip5": pd.Series(dtype="str"),
            },
            geometry=gpd.GeoSeries([], crs=crs),
        )
        if points is not None:
            num = points["street_number"].str.fullmatch(r"\d+")
            known = points.loc[num, ["street_name", "zip5", "geometry"]].assign(
                number=points.loc[num, "street_number"].astype("int64")
            )
        wanted = pd.DataFrame(
            {
                "street_name": uniq.loc[todo, "street"],
                "number": uniq.loc[todo, "number"].astype("int64"),
                "zip5": uniq.loc[todo, "zip5"],
                "area": uniq.loc[todo, "file_precinct"],
            }
        )
        placed = interpolate_numbers(
            wanted,
            chains,
            known,
            setback_m=params.setback_m,
            areas=precincts.geometry.set_axis(precincts.index.astype("str")),
        )
        placed = placed.dropna()
        uniq.loc[placed.index, ["x", "y"]] = placed[["x", "y"]].to_numpy()
        uniq.loc[placed.index, "method"] = INTERPOLATED

    todo = usable & (uniq["method"] == NOT_GEOCODED)
    rep = precincts.geometry.representative_point().get_coordinates()
    centroid = todo & uniq["file_precinct"].isin(rep.index)
    uniq.loc[centroid, ["x", "y"]] = rep.loc[
        uniq.loc[centroid, "file_precinct"]
    ].to_numpy()
    uniq.loc[centroid, "method"] = CENTROID

    uniq["detail"] = explain(uniq, known_streets, points, precincts.index.astype("str"))
    voters_out, doors, report = build_doors(voters, addrs, uniq, precincts)
    if params.route_centroids:  # routed at the centre: say so wherever it is printed
        at_centre = doors[schema.GEOCODE_METHOD] == CENTROID
        doors.loc[at_centre, schema.ADDRESS] = (
            doors.loc[at_centre, schema.ADDRESS] + UNVERIFIED_MARK
        )
    # The spelling is the voter's own: "corrected" is told per voter.
    own = (voters_out[schema.GEOCODE_DETAIL] == "point") & addrs["corrected"]
    voters_out.loc[own, schema.GEOCODE_DETAIL] = "point_street_corrected"
    result = GeocodeResult(voters=voters_out, doors=doors, report=report)
    codes = voters_out[schema.GEOCODE_DETAIL].str.extract(r"^(\w+)", expand=False)
    counts = codes.value_counts()
    result.report["voters_by_detail"] = {
        c: int(counts.get(c, 0)) for c in DETAIL_CODES if counts.get(c, 0)
    }
    result.report["voters_street_corrected"] = n_fixed
    # Street names alone are public map data, not personal data: listed for review,
    # by street, with any house number typed into a misspelt name dropped.
    result.report["street_corrections"] = {street_only(k): v for k, v in fixes.items()}
    result.report["street_corrections_by_street"] = [
        {"street": str(k), "voters": int(r.voters), "spellings": list(r.spellings)}
        for k, r in by_street.sort_values("voters", ascending=False).iterrows()
    ]
    result.report["address_point_clashes"] = clashes
    _log(result)
    return result


def _log(result: GeocodeResult) -> None:
    """Log the stage's one summary line (counts and percentages only)."""
    report = result.report
    logger.info(
        "Geocoded %s voters to %s doors: %s%% at address points, %s%% interpolated, "
        "%s%% at precinct centroids, %s not placed; %s street spellings corrected; "
        "%s doors outside the precincts; %s doors disagree with the file precinct",
        f"{report['voters']:,}",
        f"{report['doors']:,}",
        report["voters_pct"][ADDRESS_POINT],
        report["voters_pct"][INTERPOLATED],
        report["voters_pct"][CENTROID],
        f"{report['voters_by_method'][NOT_GEOCODED]:,}",
        f"{len(report['street_corrections']):,}",
        f"{report['doors_outside_precincts']['count']:,}",
        f"{report['precinct_disagreements']['doors']:,}",
    )
