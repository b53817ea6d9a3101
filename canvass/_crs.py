"""Coordinates that do not fit their CRS: one clear error instead of a traceback.

A GeoJSON file has no way to say "these are metres" except the obsolete ``crs``
member; without it GDAL reads the coordinates as WGS 84 longitude/latitude, so a
county's GeoJSON export in state-plane feet becomes points at longitude 700,000.
Reprojecting such a layer gives infinities, and picking a UTM zone for it fails
deep inside geopandas (``RuntimeError: Unable to determine UTM CRS``). The readers of
precincts, address points and statewide precinct layers call :func:`check_coordinates`
right after reading (the GraphML street reader calls :func:`check_graph_nodes`),
so the user learns which file is wrong and how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj

from .errors import InputError

__all__ = ["check_bounds", "check_coordinates", "check_graph_nodes"]

#: Latitudes the UTM zones cover; canvass works in the local UTM zone.
UTM_SOUTH, UTM_NORTH = -80.0, 84.0

#: How to declare a file's CRS with GDAL, for the error messages.
OGR_FIX = "ogr2ogr -a_srs EPSG:xxxx fixed.gpkg"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"


def _span(bounds: np.ndarray) -> str:
    minx, miny, maxx, maxy = (_num(float(b)) for b in bounds)
    return f"x {minx} to {maxx}, y {miny} to {maxy}"


def check_coordinates(gdf: gpd.GeoDataFrame, path: Path, *, setting: str = "") -> None:
    """
    Refuse a layer whose coordinates cannot be in the CRS it declares.

    Parameters
    ----------
    gdf
        A layer as read, with its declared (or overridden) CRS.
    path
        The file it came from, for the message.
    setting
        The config setting that overrides the file's CRS (``"precincts.crs"``), if
        there is one; the message suggests it.

    Raises
    ------
    InputError
        See :func:`check_bounds`.
    """
    geoms = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.crs is None or geoms.empty:
        return
    fix = f"give the file its CRS ({OGR_FIX} {Path(path).name})"
    if setting:
        fix += f' or set {setting} = "EPSG:xxxx"'
    check_bounds(np.asarray(geoms.total_bounds, dtype=float), gdf.crs, path, fix=fix)


def check_bounds(
    bounds: np.ndarray, crs: pyproj.CRS, path: Path | str, *, fix: str
) -> None:
    """
    Refuse coordinates (``minx, miny, maxx, maxy``) that cannot be in `crs`.

    Parameters
    ----------
    bounds
        The layer's bounds in its own CRS.
    crs
        The CRS the file declares.
    path
        The file, for the message.
    fix
        How to fix it, ending the message.

    Raises
    ------
    InputError
        If the coordinates are not finite, if a geographic CRS holds values beyond
        ±180/±90 (metres or feet read as degrees), or if the layer cannot be placed
        on the earth in longitude/latitude between 80° S and 84° N (where UTM
        zones, canvass's working CRS, exist).
    """
    bounds = np.asarray(bounds, dtype=float)
    if not np.isfinite(bounds).all():
        msg = f"{path}: some coordinates are not finite numbers; fix the geometries."
        raise InputError(msg)
    if crs.is_geographic:
        if np.abs(bounds[[0, 2]]).max() > 180 or np.abs(bounds[[1, 3]]).max() > 90:
            msg = (
                f"{path}: coordinates ({_span(bounds)}) look like metres or feet, "
                f"not the degrees of the file's CRS {crs.name} (a file that declares "
                f"no CRS, such as a GeoJSON without a `crs` member, is read as WGS "
                f"84); {fix}."
            )
            raise InputError(msg)
        return
    to_wgs = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    with np.errstate(invalid="ignore", over="ignore"):
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        box = to_wgs.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    wgs = np.array(box, dtype=float)
    if (
        not np.isfinite(wgs).all()
        or np.abs(wgs[[0, 2]]).max() > 180
        or wgs[1] < UTM_SOUTH
        or wgs[3] > UTM_NORTH
    ):
        where = (
            f"at longitude {_num(wgs[0])} to {_num(wgs[2])}, latitude "
            f"{_num(wgs[1])} to {_num(wgs[3])}"
            if np.isfinite(wgs).all()
            else "off the earth"
        )
        msg = (
            f"{path}: coordinates ({_span(bounds)}) do not fit the file's CRS "
            f"{crs.name}: they would lie {where}; {fix}."
        )
        raise InputError(msg)


def check_graph_nodes(G: Any, crs: pyproj.CRS, source: object) -> None:
    """
    Refuse a graph (osmnx: node attributes ``x``, ``y``) whose nodes misfit `crs`.

    Parameters
    ----------
    G
        A networkx graph as osmnx loads it.
    crs
        The CRS its ``crs`` graph attribute declares (WGS 84 when it has none).
    source
        The file, for the message.

    Raises
    ------
    InputError
        See :func:`check_bounds`.
    """
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
    if len(xy):
        fix = "save the graph with its CRS (the graph attribute `crs`, as osmnx does)"
        check_bounds(np.r_[xy.min(axis=0), xy.max(axis=0)], crs, str(source), fix=fix)
