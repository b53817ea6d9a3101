"""A tiny street grid written as OSM XML, and doors on it (network/turf/route tests).

Local coordinates are metres east (x) and north (y) of an origin in Northampton, MA;
they become lon/lat in the OSM file and are projected back with the graph's CRS.

Layout (x in metres, y in metres)::

    y=300  C St  ------+------+======+------+------
    y=150  B St  ------+------+======+------+------
    y=0    A St  ------+------+======+------+------
                 x=0   x=150  x=300  x=450  x=600
                 (Ash) (Birch) Main   (Cedar) (Dale)

Main St (x=300) is a primary road; the others are residential. A motorway, a
cycleway and a private drive are not walkable. "Island Rd" at y=2000 is not
connected to the grid.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from canvass import schema

LAT0, LON0 = 42.3200, -72.6300
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
CRS = "EPSG:26986"  # Massachusetts State Plane, metres


def lonlat(x: float, y: float) -> tuple[float, float]:
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


def _ways() -> list[tuple[str, str, list[tuple[float, float]], dict[str, str]]]:
    xs = [0, 150, 300, 450, 600]
    ways = []
    for name, y in (("A Street", 0), ("B Street", 150), ("C Street", 300)):
        ways.append((name, "residential", [(x, y) for x in xs], {}))
    for name, x in (
        ("Ash Street", 0),
        ("Birch Street", 150),
        ("Cedar Street", 450),
        ("Dale Street", 600),
    ):
        ways.append((name, "residential", [(x, 0), (x, 150), (x, 300)], {}))
    ways.append(
        ("Main Street", "primary", [(300, -150), (300, 0), (300, 150), (300, 300)], {})
    )
    ways.append(("Island Road", "residential", [(0, 2000), (200, 2000)], {}))
    ways.append(("I-91", "motorway", [(-100, -300), (700, -300)], {}))
    ways.append(("", "cycleway", [(-100, 400), (700, 400)], {}))
    ways.append(("", "service", [(600, 0), (700, 0)], {"access": "private"}))
    return ways


#: A hamlet 2.5 km east of the grid, reached by a country road (car-leg tests).
HAMLET_WAYS = [
    ("Hamlet Road", "tertiary", [(600, 150), (1800, 150), (3100, 150)], {}),
    ("Farm Lane", "residential", [(3100, 150), (3100, 450)], {}),
]


def hamlet_doors() -> list[tuple[float, float]]:
    """Six doors along Farm Lane, both sides."""
    return [(3100 + dx, y) for y in (230.0, 300.0, 370.0) for dx in (-12.0, 12.0)]


def write_osm(path: Path, extra_ways: list[Any] | None = None) -> Path:
    """Write the grid (and `extra_ways`) as OSM XML (nodes shared at intersections)."""
    ids: dict[tuple[float, float], int] = {}
    node_lines: list[str] = []
    way_lines: list[str] = []
    for w, (name, hw, pts, extra) in enumerate(_ways() + (extra_ways or []), start=1):
        refs = []
        for p in pts:
            if p not in ids:
                ids[p] = len(ids) + 1
                lon, lat = lonlat(*p)
                node_lines.append(
                    f'  <node id="{ids[p]}" lat="{lat:.8f}" lon="{lon:.8f}"/>'
                )
            refs.append(ids[p])
        tags = {"highway": hw, **({"name": name} if name else {}), **extra}
        way_lines.append(f'  <way id="{100 + w}">')
        way_lines += [f'    <nd ref="{r}"/>' for r in refs]
        way_lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        way_lines.append("  </way>")
    text = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<osm version="0.6" generator="test">',
            *node_lines,
            *way_lines,
            "</osm>",
        ]
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def to_crs_points(xy: list[tuple[float, float]], crs: Any = CRS) -> list[shapely.Point]:
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    out = []
    for x, y in xy:
        lon, lat = lonlat(x, y)
        px, py = tr.transform(lon, lat)
        out.append(shapely.Point(px, py))
    return out


def make_doors(
    xy: list[tuple[float, float]],
    *,
    precinct: list[str] | None = None,
    n_targets: list[int] | None = None,
    value: list[float] | None = None,
    crs: Any = CRS,
    prefix: str = "D",
) -> gpd.GeoDataFrame:
    """Doors at local (x, y) metres, in the canonical door schema."""
    n = len(xy)
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    targets = n_targets if n_targets is not None else [1] * n
    return gpd.GeoDataFrame(
        {
            schema.DOOR_ID: ids,
            schema.ADDRESS: [f"{i} TEST ST" for i in range(n)],
            schema.STREET_NAME: ["TEST ST"] * n,
            schema.STREET_NUMBER: [str(i) for i in range(n)],
            schema.PRECINCT_ID: precinct if precinct is not None else ["1A"] * n,
            schema.N_VOTERS: [2] * n,
            schema.N_UNITS: [1] * n,
            schema.N_TARGETS: targets,
            schema.VALUE: value if value is not None else [0.05 * t for t in targets],
        },
        geometry=to_crs_points(xy, crs),
        crs=crs,
    ).set_index(schema.DOOR_ID)


def grid_doors(
    spacing: float = 30.0, setback: float = 12.0
) -> list[tuple[float, float]]:
    """Doors on both sides of every residential block of the grid."""
    pts: list[tuple[float, float]] = []
    for y in (0.0, 150.0, 300.0):
        for x0 in (0.0, 150.0, 450.0):
            for x in np.arange(x0 + spacing / 2, x0 + 150.0, spacing):
                pts += [(float(x), y + setback), (float(x), y - setback)]
    return pts


def grid_turfs(G: Any, sizes: list[int], cfg: Any) -> list[Any]:
    """
    The grid's doors in street order, cut into turfs of `sizes`, polished.

    One precinct ``1A``: ``[("1A", turfs)]`` as the cut's windows take them, each
    turf staged at the main-component node nearest its doors' centre and timed by
    ``_windows.polish`` under `cfg` (no door may be lost).
    """
    import itertools

    import numpy as np

    from canvass import network, schema
    from canvass.config import WalkParams
    from canvass.turf import _cut, _windows

    xy = grid_doors()
    doors = make_doors(xy, precinct=["1A"] * len(xy), n_targets=[1] * len(xy))
    d = network.snap_doors(doors, G, WalkParams()).doors
    d[schema.VALUE] = 1.0
    index = _windows.StreetIndex(G)
    d = d.iloc[_cut._street_order(d, index)]
    cuts = np.cumsum([0, *sizes])
    main = sorted(network.main_component(G), key=str)
    turfs = []
    for a, b in itertools.pairwise(cuts):
        m = d.iloc[a:b]
        c = np.asarray(m.geometry.union_all().centroid.coords[0])
        node = min(main, key=lambda n: np.hypot(*(index.node_xy(n) - c)))
        turfs.append((m, 0.0, node))
    timed, gone = _windows.polish(index, [("1A", turfs)], cfg)
    assert len(gone) == 0
    return list(timed)
