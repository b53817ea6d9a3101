"""Stage 6a (part): GPX files per route for phone map apps (OsmAnd, Organic Maps, ...).

A route's GPX holds the walked path along the streets as one track, a ``Start``
waypoint and one numbered waypoint per door in walking order. Waypoints carry the stop
number only, never names or addresses, so a lost phone or a shared file gives nobody a
voter's identity. With ``output.redact`` the waypoints are street-block centres. No
timestamps are written, so the same plan gives the same bytes.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import Transformer

from .. import schema
from ..errors import InputError

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "gpx_text",
    "route_lonlat",
    "route_waypoints",
    "to_wgs84",
    "write_route_gpx",
]

logger = logging.getLogger(__name__)

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="canvass" xmlns="http://www.topografix.com/GPX/1/1">\n'
)


@cache
def to_wgs84(crs: Any) -> Transformer:
    """Return a (cached) transformer from `crs` to WGS 84 longitude/latitude."""
    return Transformer.from_crs(crs, 4326, always_xy=True)


def route_lonlat(plan: Plan, route_id: str) -> list[tuple[float, float]]:
    """
    Return a route's walked path as (lon, lat) pairs in WGS 84, rounded to 1e-6°.

    Raises
    ------
    InputError
        If `route_id` is not in ``plan.routes``.
    """
    if route_id not in plan.routes.index:
        msg = f"route {route_id!r} is not in the plan's routes table; check the id."
        raise InputError(msg)
    geom = plan.routes.geometry.loc[route_id]
    if geom is None or geom.is_empty:
        return []
    coords = shapely.get_coordinates(geom)  # parts in walking order, not merged
    lon, lat = to_wgs84(plan.routes.crs).transform(coords[:, 0], coords[:, 1])
    out: list[tuple[float, float]] = []
    for x, y in zip(lon, lat, strict=True):
        pt = (round(float(x), 6), round(float(y), 6))
        if not out or out[-1] != pt:  # parts meet end to start: drop the repeat
            out.append(pt)
    return out


def _points_lonlat(
    plan: Plan, xs: list[float], ys: list[float]
) -> list[tuple[float, float]]:
    lon, lat = to_wgs84(plan.doors.crs).transform(xs, ys)
    return [
        (round(float(x), 6), round(float(y), 6)) for x, y in zip(lon, lat, strict=True)
    ]


def route_waypoints(
    plan: Plan, route_id: str, blocks: pd.DataFrame | None = None
) -> list[tuple[str, float, float]]:
    """
    Return a route's numbered waypoints (stop label, lon, lat) in walking order.

    Doors are numbered by stop; with ``output.redact`` the waypoints are the route's
    street blocks, numbered in walking order (from `blocks`, the plan's
    :func:`~canvass.outputs.block_table`, computed when None).
    """
    if plan.config.output.redact:
        from ._table import block_table

        blocks = block_table(plan) if blocks is None else blocks
        blocks = blocks[blocks[schema.ROUTE_ID] == route_id]
        pts = _points_lonlat(plan, blocks["x"].tolist(), blocks["y"].tolist())
        return [
            (f"Block {n}", x, y)
            for n, (x, y) in zip(blocks[schema.STOP], pts, strict=True)
        ]
    stops = plan.stops[plan.stops[schema.ROUTE_ID] == route_id].sort_values(
        schema.STOP, kind="stable"
    )
    geoms = gpd.GeoSeries(plan.doors.geometry.loc[stops[schema.DOOR_ID]])
    pts = _points_lonlat(plan, geoms.x.tolist(), geoms.y.tolist())
    return [
        (str(int(n)), x, y) for n, (x, y) in zip(stops[schema.STOP], pts, strict=True)
    ]


def gpx_text(
    name: str,
    track: list[tuple[float, float]],
    waypoints: list[tuple[str, float, float]],
    *,
    description: str = "",
) -> str:
    """
    Format a GPX 1.1 document with one track and numbered waypoints.

    Parameters
    ----------
    name
        Track name (the route id).
    track
        The path as (lon, lat) pairs.
    waypoints
        (label, lon, lat) per waypoint; a ``Start`` waypoint is added at the path's
        first point.
    description
        Free text for the track's ``<desc>`` (counts only).

    Returns
    -------
    text
        The GPX document.
    """
    parts = [_HEAD, f"  <metadata><name>{escape(name)}</name></metadata>\n"]
    if track:
        lon, lat = track[0]
        parts.append(
            f'  <wpt lat="{lat:.6f}" lon="{lon:.6f}"><name>Start</name>'
            "<sym>Flag, Green</sym><type>start</type></wpt>\n"
        )
    for label, lon, lat in waypoints:
        parts.append(
            f'  <wpt lat="{lat:.6f}" lon="{lon:.6f}"><name>{escape(label)}</name>'
            "<type>door</type></wpt>\n"
        )
    parts.append(f"  <trk><name>{escape(name)}</name>")
    if description:
        parts.append(f"<desc>{escape(description)}</desc>")
    parts.append("<type>walking</type>\n    <trkseg>\n")
    parts.extend(
        f'      <trkpt lat="{lat:.6f}" lon="{lon:.6f}"/>\n' for lon, lat in track
    )
    parts.append("    </trkseg>\n  </trk>\n</gpx>\n")
    return "".join(parts)


def write_route_gpx(
    plan: Plan, route_id: str, path: Path, *, blocks: pd.DataFrame | None = None
) -> Path:
    """
    Write one route's GPX file (track along the streets, numbered door waypoints).

    Parameters
    ----------
    plan
        A finished plan.
    route_id
        The route to write.
    path
        Destination file.
    blocks
        With ``output.redact``: the plan's block table (computed when None).

    Returns
    -------
    path
        The file written.
    """
    row = plan.routes.loc[route_id]
    # a volunteer's first name once assigned (canvass assign); not the slot number
    who = str(row.get(schema.VOLUNTEER, "") or "").strip()
    named = f" ({who})" if who and not who.replace(".", "").isdigit() else ""
    desc = (
        f"Turf {row[schema.TURF_ID]}{named}: {int(row[schema.N_DOORS])} doors, "
        f"{float(row[schema.WALK_M]) / 1000:.1f} km, "
        f"about {round(float(row[schema.TOTAL_S]) / 60)} min"
    )
    text = gpx_text(
        str(route_id),
        route_lonlat(plan, route_id),
        route_waypoints(plan, route_id, blocks),
        description=desc,
    )
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)
