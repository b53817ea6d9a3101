"""Reading address-point layers for the geocoding stage (:mod:`canvass.geocode`).

Three kinds of file give door locations with their addresses:

- GIS layers pyogrio reads (GeoPackage, Shapefile, zipped Shapefile, GeoJSON), such
  as MassGIS Master Address Data points;
- OpenStreetMap extracts (``.osm``, ``.osm.bz2``, ``.osm.pbf``): nodes and buildings
  tagged ``addr:housenumber`` + ``addr:street``;
- tables (CSV, TSV, Parquet) with latitude/longitude columns; CSV/TSV are read as
  voter files are (:func:`canvass.load.read_table`): plain or gzip, bzip2, xz, zip
  (``points.zip:addresses.csv`` picks a member), any encoding, delimiter sniffed.

Column names are guessed case-insensitively (``ADDR_NUM``, ``STREETNAME``,
``FULL_STREET``, MassGIS's ``FULL_NUMBER_STANDARDIZED`` / ``STREET_NAME`` and their
Shapefile-truncated ``FULL_NUMBE`` / ``STREET_NAM``...) or named by the ``[geocode]``
settings ``number_column``, ``street_column``, ``unit_column``, ``zip_column`` and
``address_column``; a single one-line address column works too.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from .._crs import check_coordinates
from ..config import GeocodeParams
from ..errors import InputError
from ..load import archive_members, compression, input_exists, read_table, split_member
from ._address import (
    address_key,
    normalize_street_names,
    normalize_units,
    parse_address_line,
    parse_house_numbers,
)

__all__ = ["ADDRESS_POINT_COLUMNS", "MATCH_KEY", "read_address_points"]

logger = logging.getLogger(__name__)

MATCH_KEY: Final = "match_key"
#: Columns of the table :func:`read_address_points` returns (plus ``geometry``).
ADDRESS_POINT_COLUMNS: Final = (
    "street_number",
    "street_number_suffix",
    "street_name",
    "unit",
    "zip5",
    MATCH_KEY,
)

# Candidate column names, most specific first (compared without case, "_", " ", ":").
# MassGIS Master Address Data: FULL_NUMBER_STANDARDIZED (with "12A" and "12-14"),
# ADDRESS_NUMBER, STREET_NAME, UNIT, POSTCODE; a Shapefile truncates names to 10
# letters (FULL_NUMBE, ADDRESS_NU, STREET_NAM).
_NUMBER: Final = (
    "street_number", "streetnumber", "house_number", "housenumber", "addrhousenumber",
    "full_number_standardized", "full_numbe", "address_number", "addressnumber",
    "address_nu", "addr_num", "addrnum", "add_number", "st_num", "stnum", "number",
    "num", "hse_num",
)  # fmt: skip
_STREET: Final = (
    "street_name", "streetname", "street_nam", "full_street", "fullstreet",
    "full_street_name", "full_stree", "addrstreet", "street", "st_name", "stname",
    "str_name", "road_name", "streetname_full",
)  # fmt: skip
_UNIT: Final = (
    "unit",
    "addrunit",
    "apt",
    "apartment",
    "unit_number",
    "unitnumber",
    "unit_num",
    "apt_num",
    "suite",
)
_ZIP: Final = (
    "zip5",
    "zip",
    "zip_code",
    "zipcode",
    "postcode",
    "addrpostcode",
    "postal_code",
    "postalcode",
    "zcta",
)
_LINE: Final = (
    "address",
    "full_address",
    "fulladdress",
    "addr",
    "address1",
    "street_address",
    "site_address",
    "location",
)
_LAT: Final = ("latitude", "lat", "y", "point_y")
_LON: Final = ("longitude", "lon", "lng", "long", "x", "point_x")
_OSM_SUFFIXES: Final = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
_TABLE_SUFFIXES: Final = (".csv", ".tsv", ".txt", ".parquet")
_GIS_SUFFIXES: Final = (".shp", ".gpkg", ".geojson", ".json", ".gml", ".kml", ".fgb")


def _squash(name: str) -> str:
    return re.sub(r"[\s_:\-]", "", name.lower())


def _find(columns: pd.Index, candidates: tuple[str, ...]) -> str | None:
    by_squash: dict[str, str] = {}
    for c in columns:
        by_squash.setdefault(_squash(str(c)), str(c))
    for cand in candidates:
        if (hit := by_squash.get(_squash(cand))) is not None:
            return hit
    return None


def _read_osm(path: Path) -> gpd.GeoDataFrame:
    """Read OSM nodes and closed ways (buildings) that carry an address."""
    import osmium  # lazy: only OSM inputs need it

    rows: list[dict[str, Any]] = []
    fp = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("addr:housenumber"))
    )
    for obj in fp:
        tags = obj.tags
        if "addr:street" not in tags:
            continue
        lon = lat = None
        if isinstance(obj, osmium.osm.Node):
            lon, lat = obj.location.lon, obj.location.lat
        elif isinstance(obj, osmium.osm.Way):
            coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if coords:
                lon = sum(c[0] for c in coords) / len(coords)
                lat = sum(c[1] for c in coords) / len(coords)
        if lon is None or lat is None:
            continue
        rows.append(
            {
                "addr:housenumber": tags.get("addr:housenumber"),
                "addr:street": tags.get("addr:street"),
                "addr:unit": tags.get("addr:unit", ""),
                "addr:postcode": tags.get("addr:postcode", ""),
                "lon": lon,
                "lat": lat,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "addr:housenumber",
            "addr:street",
            "addr:unit",
            "addr:postcode",
            "lon",
            "lat",
        ],
    )
    return gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )


def _read_table(path: Path) -> gpd.GeoDataFrame:
    """Read a CSV/TSV/Parquet table with latitude/longitude columns."""
    if path.name.lower().endswith(".parquet"):
        frame = pd.read_parquet(path)
        frame = frame.astype(
            {c: "str" for c in frame.columns if frame[c].dtype == object}
        )
    else:  # any compression, encoding and delimiter, as voter files
        table = read_table(path, what="address-point table")
        if len(table.bad):
            logger.warning(
                "%s: %s address rows with a wrong number of fields were skipped "
                "(first at line %s)",
                path,
                len(table.bad),
                int(table.bad["line"].iloc[0]),
            )
        frame = table.frame.reset_index(drop=True)
    lat, lon = _find(frame.columns, _LAT), _find(frame.columns, _LON)
    if lat is None or lon is None:
        msg = (
            f"{path}: no latitude/longitude columns found (columns: "
            f"{list(frame.columns)[:12]}); name them `latitude` and `longitude`."
        )
        raise InputError(msg)
    y = pd.to_numeric(frame[lat], errors="coerce")
    x = pd.to_numeric(frame[lon], errors="coerce")
    bad = int((x.isna() | y.isna()).sum())
    if bad:
        logger.warning(
            "%s: %s address rows without coordinates were skipped", path, bad
        )
    keep = x.notna() & y.notna()
    frame, x, y = frame[keep], x[keep], y[keep]
    if len(x) and (y.abs().max() > 90 or x.abs().max() > 180):
        msg = (
            f"{path}: columns `{lat}`/`{lon}` are not latitude/longitude in degrees "
            "(values beyond 90/180); give WGS84 degrees, or save the layer as a "
            "GeoPackage/Shapefile with its CRS."
        )
        raise InputError(msg)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def _is_table(path: Path) -> bool:
    """Whether to read `path` as a delimited table (else as a GIS layer)."""
    kind = compression(path)
    if kind in ("gzip", "bz2", "xz") or split_member(path)[1]:
        return True
    if kind == "zip":  # a zipped Shapefile or GeoPackage, or a zipped CSV
        names = [m.lower() for m in archive_members(path, "address-point file")]
        return not any(m.endswith(_GIS_SUFFIXES) for m in names)
    return path.name.lower().endswith(_TABLE_SUFFIXES)


def read_address_points(
    path: Path, crs: pyproj.CRS | str, params: GeocodeParams | None = None
) -> gpd.GeoDataFrame:
    """
    Read an address-point layer and normalise its addresses for matching.

    Parameters
    ----------
    path
        A GIS point layer, an OSM extract, or a table with latitude/longitude.
    crs
        Projected CRS of the result (the precincts' CRS).
    params
        ``[geocode]`` settings naming the layer's columns (``number_column``...);
        unset names are guessed, MassGIS's (also Shapefile-truncated) included.

    Returns
    -------
    points
        Columns ``street_number``, ``street_number_suffix``, ``street_name``,
        ``unit``, ``zip5`` (normalised) and ``match_key`` (``"12A|MAPLE ST"``), Point
        geometry in `crs`. Points without a street name are dropped (counted in the
        log).

    Raises
    ------
    InputError
        When the file is missing, unreadable, has no point geometry or no usable
        address columns, or a column named in `params` is not in it.
    """
    path = Path(path)
    if not input_exists(path):
        msg = f"Address-point file {path} does not exist; fix `inputs.address_points`."
        raise InputError(msg)
    name = path.name.lower()
    try:
        if name.endswith(_OSM_SUFFIXES):
            raw = _read_osm(path)
        elif _is_table(path):
            raw = _read_table(path)
        else:
            raw = gpd.read_file(path)
    except InputError:
        raise
    except Exception as exc:
        msg = f"Cannot read address points {path}: {exc.__class__.__name__}: {exc}."
        raise InputError(msg) from exc
    if raw.crs is None:
        msg = (
            f"{path}: the address layer has no CRS; save it with one (e.g. EPSG:4326)."
        )
        raise InputError(msg)
    check_coordinates(raw, path)
    raw = raw[raw.geometry.notna() & ~raw.geometry.is_empty]
    if len(raw) and not raw.geom_type.isin(["Point", "MultiPoint"]).all():
        # Buildings or parcels with addresses: use a point inside each shape.
        raw = raw.set_geometry(raw.geometry.representative_point())
    return _normalise(raw, path, params or GeocodeParams()).to_crs(crs)


def _add_range_ends(out: gpd.GeoDataFrame, numbers: pd.Series) -> gpd.GeoDataFrame:
    """Let a ranged point (``12-14``, a double house) answer to its last number too."""
    ends = numbers.astype("str").str.extract(r"^\s*(\d+)\s*-\s*(\d+)\s*$", expand=True)
    first = pd.to_numeric(ends[0], errors="coerce")
    last = pd.to_numeric(ends[1], errors="coerce")
    ranged = (last > first) & (last - first <= 20) & ((last - first) % 2 == 0)
    if not ranged.any():
        return out
    extra = out[ranged.to_numpy()].copy()
    extra["street_number"] = last[ranged].astype("int64").astype("str").to_numpy()
    return pd.concat([out, extra], ignore_index=True)


def _column(
    cols: pd.Index, given: str, setting: str, guesses: tuple[str, ...], path: Path
) -> str | None:
    """Return the column named by a ``[geocode]`` setting, or the first guess."""
    if not given:
        return _find(cols, guesses)
    if (hit := _find(cols, (given,))) is None:
        msg = (
            f"{path}: `geocode.{setting}` = {given!r} is not a column of the layer "
            f"(columns: {list(cols)[:20]}); fix the setting or leave it empty."
        )
        raise InputError(msg)
    return hit


def _normalise(
    raw: gpd.GeoDataFrame, path: Path, params: GeocodeParams
) -> gpd.GeoDataFrame:
    cols = raw.columns.drop(raw.geometry.name)
    p = params
    number = _column(cols, p.number_column, "number_column", _NUMBER, path)
    street = _column(cols, p.street_column, "street_column", _STREET, path)
    unit = _column(cols, p.unit_column, "unit_column", _UNIT, path)
    zipc = _column(cols, p.zip_column, "zip_column", _ZIP, path)
    line = _column(cols, p.address_column, "address_column", _LINE, path)
    if p.address_column and not p.street_column:
        street = None  # the one-line column is asked for: use it
    suffix = _find(
        cols,
        (
            "street_number_suffix",
            "number_suffix",
            "addr_num_suffix",
            "address_number_suffix",
            "numsuffix",
        ),
    )
    n = len(raw)
    empty = pd.Series([""] * n, index=raw.index, dtype="str")
    if street is not None:
        streets = normalize_street_names(raw[street])
        if number is not None:
            parsed = parse_house_numbers(raw[number], raw[suffix] if suffix else None)
        else:  # the street column may hold the whole line: "12 MAIN ST"
            parts = raw[street].map(parse_address_line)
            parsed = pd.DataFrame(
                {
                    "number": parts.map(lambda p: p["number"]),
                    "suffix": parts.map(lambda p: p["suffix"]),
                },
                index=raw.index,
            )
            streets = parts.map(lambda p: p["street"]).astype("str")
        units = normalize_units(raw[unit]) if unit else empty
    elif line is not None:
        uniq = pd.unique(raw[line].astype("object"))
        lookup = {u: parse_address_line(u) for u in uniq}
        parts = raw[line].astype("object").map(lookup)
        parsed = pd.DataFrame(
            {
                "number": parts.map(lambda p: p["number"]),
                "suffix": parts.map(lambda p: p["suffix"]),
            },
            index=raw.index,
        ).astype("str")
        streets = parts.map(lambda p: p["street"]).astype("str")
        units = parts.map(lambda p: p["unit"]).astype("str")
    else:
        msg = (
            f"{path}: no usable address columns (found {list(cols)[:12]}); the layer "
            "needs a street name column (e.g. `street_name`, `STREETNAME`, "
            "`addr:street`) and a house number column, or a one-line `address` column."
        )
        raise InputError(msg)
    zips = (
        raw[zipc]
        .astype("str")
        .str.extract(r"(\d{3,5})", expand=False)
        .fillna("")
        .str.zfill(5)
        if zipc
        else empty
    )
    zips = zips.where(zips != "00000", "")
    out = gpd.GeoDataFrame(
        {
            "street_number": parsed["number"].astype("str"),
            "street_number_suffix": parsed["suffix"].astype("str"),
            "street_name": streets.astype("str"),
            "unit": units.astype("str"),
            "zip5": zips.astype("str"),
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )
    if number is not None:
        out = _add_range_ends(out, raw[number])
    out[MATCH_KEY] = address_key(
        out["street_number"], out["street_number_suffix"], out["street_name"]
    )
    dropped = int((out["street_name"] == "").sum())
    out = out[out["street_name"] != ""]
    # Building-level points (no unit) first, so a building's door is its main point.
    order = np.argsort((out["unit"] != "").to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    logger.info(
        "Read %s address points from %s (%s without a street name skipped)",
        f"{len(out):,}",
        path.name,
        f"{dropped:,}",
    )
    return out
