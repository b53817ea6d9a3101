"""Load stage: precinct shapes, the local metric CRS and precinct-code matching.

Precinct codes
--------------
A voter file gives a ward and a precinct ("1" and "A"); precinct files spell the same
precinct "1A", "01-A", "Ward 1 Precinct A", "W1 P A" or "Northampton City Ward 1
Precinct A". Both sides are reduced to one canonical code by the same rule:

* ward and precinct are upper-cased, stripped of spaces and of leading zeros on
  numbers ("01" -> "1", "007" -> "7");
* the code is ward followed by precinct ("1" + "A" -> "1A"); when both are numbers a
  hyphen keeps them apart ("1" + "2" -> "1-2", so it cannot meet ward 12);
* a town without wards has the precinct alone ("" + "3" -> "3").

Free-text codes are split into ward and precinct by the words WARD/W and
PRECINCT/PCT/P, or else at a separator ("01-A", "1 A", "1/A"), or else at the switch
from digits to letters ("1A"). A regular expression with named groups ``ward`` and
``precinct`` in ``[precincts] code_pattern`` replaces this rule for unusual files.
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
from shapely import force_2d, make_valid

from .. import schema
from .._crs import check_coordinates
from ..config import PrecinctParams
from ..errors import DataQualityWarning, InputError

__all__ = [
    "local_crs",
    "match_precincts",
    "normalise_precinct_code",
    "precinct_code",
    "read_precincts",
]

logger = logging.getLogger(__name__)

_SUFFIXES = (
    ".gpkg",
    ".geojson",
    ".json",
    ".shp",
    ".zip",
    ".fgb",
    ".gml",
    ".kml",
    ".sqlite",
)
_CODE_COLUMNS = (
    "precinct_id",
    "wardprec",
    "ward_prec",
    "wp",
    "ward_precinct",
    "code",
    "pct_code",
)
_WARD_COLUMNS = ("ward", "ward_num", "ward_no", "ward_id", "wardno")
_PRECINCT_COLUMNS = (
    "precinct",
    "pct",
    "precinct_num",
    "prec",
    "precinct_no",
    "precinctno",
)
_NAME_COLUMNS = ("name", "precinct_name", "namelsad", "label", "desc")


def local_crs(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    """
    Return the local metric CRS for `gdf`: the UTM zone of its centre.

    Parameters
    ----------
    gdf
        Any GeoDataFrame with a CRS.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres (UTM, WGS 84 datum).

    Raises
    ------
    InputError
        If `gdf` has no CRS, no geometries, or coordinates that cannot be in its
        CRS (no UTM zone fits them).
    """
    if gdf.crs is None:
        msg = "The layer has no CRS; set one (for example with GeoDataFrame.set_crs)."
        raise InputError(msg)
    if gdf.empty or gdf.geometry.is_empty.all():
        msg = "Cannot pick a local CRS for a layer with no geometries."
        raise InputError(msg)
    try:
        crs: pyproj.CRS = gdf.estimate_utm_crs()
    except RuntimeError:  # coordinates off the earth in their CRS
        bounds = ", ".join(f"{b:.6g}" for b in gdf.total_bounds)
        msg = (
            f"Cannot pick a local UTM zone: the layer's bounds ({bounds}) are not "
            f"valid coordinates in its CRS {gdf.crs.name}; set the right CRS."
        )
        raise InputError(msg) from None
    return crs


def _part(value: str) -> str:
    """Upper-case, separators to one hyphen, no leading zeros ("01/07" -> "1-7")."""
    text = re.sub(r"[^0-9A-Z]+", "-", str(value).upper()).strip("-")
    return "-".join(re.sub(r"^0+(?=\d)", "", seg) for seg in text.split("-"))


def precinct_code(ward: str, precinct: str) -> str:
    """
    Return the canonical precinct code for a ward and a precinct.

    ``("1", "A") -> "1A"``, ``("01", "a") -> "1A"``, ``("", "3") -> "3"``,
    ``("1", "2") -> "1-2"`` (hyphen between two numbers), and ``("1", "1A") ->
    "1A"`` for files whose precinct column already holds the full code.

    Parameters
    ----------
    ward
        Ward number or name ("" where the town has no wards).
    precinct
        Precinct number or letter.

    Returns
    -------
    str
        The code; ``""`` when both are blank.
    """
    w = _part(ward) if str(ward).strip() not in ("", "0", "00", "nan", "NaN") else ""
    p = _part(precinct) if str(precinct).strip() not in ("", "nan", "NaN") else ""
    if w.isdigit() and re.fullmatch(rf"{w}-?[A-Z]+", p):
        return p.replace("-", "")  # the precinct column already holds "1A"
    if w and p and w[-1].isdigit() and p[0].isdigit():
        return f"{w}-{p}"
    return w + p


_WARD_WORD = re.compile(
    r"\bW(?:ARD|D)?\s*\.?\s*(?:NO\.?|#)?\s*(?P<ward>[0-9]+[A-Z]?|[A-Z])\b"
)
_PRECINCT_WORD = re.compile(
    r"\bP(?:RECINCT|CT|REC)?\s*\.?\s*(?:NO\.?|#)?\s*(?P<precinct>[0-9]+[A-Z]?|[A-Z])\b"
)
_GLUED_WP = re.compile(
    r"^W(?:ARD|D)?(?P<ward>\d+[A-Z]?)-?P(?:RECINCT|CT|REC)?(?P<precinct>\d+|[A-Z])$"
)
_SPLIT = re.compile(r"^(?P<ward>[0-9A-Z]+)[\s\-_/.,:]+(?P<precinct>[0-9A-Z]+)$")
_GLUED = re.compile(r"^(?P<ward>[0-9]+)(?P<precinct>[A-Z]+[0-9]*)$")


def normalise_precinct_code(code: str, params: PrecinctParams | None = None) -> str:
    """
    Return the canonical code for a precinct code written in any common way.

    ``"1A"``, ``"Ward 1 Precinct A"``, ``"01-A"``, ``"1-A"``, ``"W1 P A"`` and
    ``"Northampton City Ward 1 Precinct A"`` all give ``"1A"``; ``"Precinct 3"``
    and ``"03"`` give ``"3"``. See the module docstring for the rule.

    Parameters
    ----------
    code
        The code as a file writes it.
    params
        Precinct settings; ``code_pattern`` (a regex with named groups ``ward`` and
        ``precinct``) overrides the built-in rule when set.

    Returns
    -------
    str
        The canonical code (``""`` for a blank input).
    """
    text = " ".join(str(code).upper().replace("_", " ").split())
    if not text or text in ("NAN", "NONE"):
        return ""
    if params is not None and params.code_pattern:
        m = re.search(params.code_pattern, str(code), flags=re.IGNORECASE)
        if m is None:
            return _part(text)
        groups = m.groupdict()
        return precinct_code(groups.get("ward") or "", groups.get("precinct") or "")
    if m := _GLUED_WP.match(text.replace(" ", "")):
        return precinct_code(m.group("ward"), m.group("precinct"))
    ward = _WARD_WORD.search(text)
    if prec := _PRECINCT_WORD.search(text):
        return precinct_code(ward.group("ward") if ward else "", prec.group("precinct"))
    if ward:
        return precinct_code(ward.group("ward"), "")
    for pattern in (_SPLIT, _GLUED):
        if m := pattern.match(text):
            return precinct_code(m.group("ward"), m.group("precinct"))
    return _part(text)


def _find(columns: list[str], wanted: str, candidates: tuple[str, ...]) -> str:
    if wanted:
        return wanted
    lower = {c.lower(): c for c in columns}
    return next((lower[c] for c in candidates if c in lower), "")


def _resolve_source(path: Path) -> str:
    if not path.exists():
        msg = f"{path}: precinct file not found; check inputs.precincts in the config."
        raise InputError(msg)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
        shp = [p for p in found if p.suffix.lower() == ".shp"]
        found = shp or found
        if len(found) != 1:
            names = [p.name for p in found][:5]
            msg = (
                f"{path}: expected one precinct file in the folder, found {len(found)} "
                f"{names}; name the file in inputs.precincts."
            )
            raise InputError(msg)
        path = found[0]
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        except zipfile.BadZipFile:
            msg = f"{path}: not a readable zip file; download it again."
            raise InputError(msg) from None
        inner = f"/{members[0]}" if len(members) == 1 else ""
        return f"/vsizip/{path.resolve()}{inner}"
    return str(path)


def _read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    source = _resolve_source(path)
    try:
        layers = pyogrio.list_layers(source)
        if not layer and len(layers) > 1:
            polys = [str(n) for n, g in layers if g and "polygon" in str(g).lower()]
            layer = polys[0] if polys else str(layers[0][0])
            logger.info(
                "%s: %s layers; reading %r (set inputs.precinct_layer)",
                path.name,
                len(layers),
                layer,
            )
        return gpd.read_file(source, layer=layer or None, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        reason = str(err).splitlines()[0][:160]
        msg = (
            f"{path}: cannot read precinct shapes ({reason}); "
            "give a Shapefile, GeoPackage or GeoJSON."
        )
        raise InputError(msg) from None


def read_precincts(
    path: Path, params: PrecinctParams, *, layer: str = ""
) -> gpd.GeoDataFrame:
    """
    Read precinct polygons from any file pyogrio reads, in a local metric CRS.

    Parameters
    ----------
    path
        Shapefile (or the folder holding one), zipped Shapefile, GeoPackage,
        GeoJSON, FlatGeobuf...
    params
        Which columns hold the codes (empty = guessed: ``WARDPREC``, ``WARD`` +
        ``PRECINCT``, ``NAME``...) and which town to keep from a county-wide file.
    layer
        Layer of a multi-layer file; empty = the first polygon layer.

    Returns
    -------
    GeoDataFrame
        Index ``precinct_id`` (canonical code), columns ``ward``, ``precinct``,
        ``name``, ``area_km2`` and the file's own columns, reprojected once to
        :func:`local_crs`.

    Raises
    ------
    InputError
        No CRS, no polygons, no code column, or codes that repeat across towns.
    """
    path = Path(path)
    key = _cache_key(path, params, layer)
    if key is not None and key in _CACHE:
        return _CACHE[key].copy()
    result = _read_precincts(path, params, layer)
    if key is not None:
        _CACHE[key] = result.copy()
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return result


#: Recently read precinct layers (the run and the load report read the same file).
_CACHE: dict[tuple[object, ...], gpd.GeoDataFrame] = {}
_CACHE_SIZE = 4


def _cache_key(
    path: Path, params: PrecinctParams, layer: str
) -> tuple[object, ...] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    if path.is_dir():  # a folder's time stamp misses edits to the files inside
        return None
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size, params, layer)


def _read_precincts(path: Path, params: PrecinctParams, layer: str) -> gpd.GeoDataFrame:
    raw = _read_layer(path, layer)
    if params.crs:
        raw = raw.set_crs(params.crs, allow_override=True)
    if raw.crs is None:
        msg = (
            f"{path}: the precinct file has no CRS (a Shapefile without its .prj?); "
            "add the .prj file, re-export the layer with its coordinate system, or "
            'set precincts.crs (e.g. "EPSG:2249").'
        )
        raise InputError(msg)
    check_coordinates(raw, path, setting="precincts.crs")
    raw = raw[raw.geometry.notna() & ~raw.geometry.is_empty]
    polys = raw[raw.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        kinds = sorted(set(raw.geom_type.dropna())) or ["none"]
        msg = (
            f"{path}: no polygons in the precinct layer (found {kinds}); "
            "give the precinct boundaries, not points or lines."
        )
        raise InputError(msg)
    gdf = polys.copy()
    if bool(gdf.has_z.any()):  # 3-D outlines (CAD/GPS exports): keep x and y
        gdf["geometry"] = force_2d(gdf.geometry.to_numpy())
    if params.town:
        town_col = _find(
            list(gdf.columns),
            params.town_column,
            ("town", "municipality", "city", "town_name"),
        )
        if not town_col:
            msg = (
                f"{path}: `precincts.town` is set but no town column was found; "
                "set precincts.town_column."
            )
            raise InputError(msg)
        gdf = gdf[
            gdf[town_col].astype(str).str.strip().str.upper()
            == params.town.strip().upper()
        ]
        if gdf.empty:
            msg = (
                f"{path}: no precincts for town {params.town!r} in column "
                f"{town_col!r}; check precincts.town."
            )
            raise InputError(msg)
    invalid = ~gdf.geometry.is_valid
    if n_bad := int(invalid.sum()):
        warnings.warn(
            f"{path.name}: repaired {n_bad} invalid precinct geometries (make_valid).",
            DataQualityWarning,
            stacklevel=2,
        )
        fixed = gpd.GeoSeries(make_valid(gdf.geometry[invalid].to_numpy()), crs=gdf.crs)
        gdf.loc[invalid, "geometry"] = fixed.to_numpy()
        gdf["geometry"] = gdf.geometry.apply(_polygonal)
    columns = [str(c) for c in gdf.columns]
    ward_col = _find(columns, params.ward_column, _WARD_COLUMNS)
    prec_col = _find(columns, params.precinct_column, _PRECINCT_COLUMNS)
    code_col = _find(columns, params.code_column, _CODE_COLUMNS)
    name_col = _find(columns, "", _NAME_COLUMNS)
    for wanted, setting in (
        (params.code_column, "code_column"),
        (params.ward_column, "ward_column"),
        (params.precinct_column, "precinct_column"),
    ):
        if wanted and wanted not in gdf.columns:
            msg = (
                f"{path}: column {wanted!r} (precincts.{setting}) not found; "
                f"columns are {columns[:12]}."
            )
            raise InputError(msg)
    text = gdf.drop(columns="geometry").astype(str).replace({"nan": "", "None": ""})
    if code_col and not params.ward_column and not params.precinct_column:
        codes = text[code_col].map(lambda c: normalise_precinct_code(c, params))
    elif prec_col:
        wards = text[ward_col] if ward_col else pd.Series("", index=text.index)
        codes = pd.Series(
            [precinct_code(w, p) for w, p in zip(wards, text[prec_col], strict=True)],
            index=text.index,
        )
    elif name_col:
        codes = text[name_col].map(lambda c: normalise_precinct_code(c, params))
    else:
        msg = (
            f"{path}: cannot tell which column holds the precinct code (columns "
            f"{columns[:12]}); set precincts.code_column, or ward_column and "
            "precinct_column."
        )
        raise InputError(msg)
    if (codes == "").any():
        n_blank = int((codes == "").sum())
        msg = f"{path}: {n_blank} precinct(s) have a blank code; fix the code column."
        raise InputError(msg)
    gdf[schema.PRECINCT_ID] = codes.to_numpy()
    split = codes.str.extract(r"^(?P<w>\d+)-?(?P<p>.*)$").fillna("")
    gdf[schema.WARD] = (
        text[ward_col].map(_part)
        if ward_col
        else split["w"].where(split["p"] != "", "")
    ).to_numpy()
    gdf[schema.PRECINCT] = (
        text[prec_col].map(_part)
        if prec_col
        else split["p"].where(split["p"] != "", codes)
    ).to_numpy()
    gdf[schema.NAME] = (text[name_col] if name_col else codes).to_numpy()
    try:
        gdf = gdf.to_crs(local_crs(gdf))
    except InputError as err:
        msg = f"{path}: {err}"
        raise InputError(msg) from None
    if gdf[schema.PRECINCT_ID].duplicated().any():
        dupes = (
            gdf.loc[gdf[schema.PRECINCT_ID].duplicated(), schema.PRECINCT_ID]
            .unique()[:5]
            .tolist()
        )
        msg = (
            f"{path}: precinct codes repeat ({dupes}); the file covers several "
            "towns or splits precincts: set precincts.town to keep one town."
        )
        raise InputError(msg)
    gdf = gdf.set_index(schema.PRECINCT_ID).sort_index()
    gdf[schema.AREA_KM2] = gdf.geometry.area / 1e6
    logger.info(
        "Read %s precincts from %s (%s)", f"{len(gdf):,}", path.name, gdf.crs.name
    )
    schema.validate_precincts(gdf)
    return gdf


def _polygonal(geom: object) -> object:
    """Keep the polygonal part of a repaired geometry (make_valid can add lines)."""
    from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    if isinstance(geom, GeometryCollection):
        parts: list[Polygon] = []
        for g in geom.geoms:
            if isinstance(g, Polygon):
                parts.append(g)
            elif isinstance(g, MultiPolygon):
                parts.extend(g.geoms)
        return MultiPolygon(parts) if parts else geom
    return geom


def match_precincts(voters: pd.DataFrame, precincts: pd.DataFrame) -> dict[str, object]:
    """
    Compare the voter file's precinct codes with the precinct shapes' codes.

    Parameters
    ----------
    voters
        Canonical voters (column ``precinct_id``).
    precincts
        Canonical precincts (index ``precinct_id``).

    Returns
    -------
    dict
        PII-free counts: ``shapes``, ``voter_codes``, ``voters_matched``,
        ``voters_unmatched``, ``voter_codes_without_shape`` (code -> voters) and
        ``shapes_without_voters`` (codes). A blank code counts as unmatched.
    """
    counts = voters[schema.PRECINCT_ID].astype(str).value_counts()
    shapes = {str(c) for c in precincts.index}
    missing = counts[~counts.index.isin(shapes)]
    result: dict[str, object] = {
        "shapes": len(shapes),
        "voter_codes": len(counts),
        "voters_matched": int(counts[counts.index.isin(shapes)].sum()),
        "voters_unmatched": int(missing.sum()),
        "voter_codes_without_shape": {str(k): int(n) for k, n in missing.items()},
        "shapes_without_voters": sorted(shapes - set(counts.index.astype(str))),
    }
    if len(missing):
        logger.warning(
            "%s voters have precinct codes with no precinct shape: %s",
            f"{int(missing.sum()):,}",
            ", ".join(f"{k!r} ({n:,})" for k, n in list(missing.items())[:8]),
        )
    return result
