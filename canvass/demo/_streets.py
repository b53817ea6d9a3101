"""Demo town geometry: street layout, precinct shapes and the OSM XML writer (private).

Used by :mod:`canvass.demo`. Everything here works in local metres (``x`` east, ``y``
north, origin at the town's south-west corner) and is converted to WGS84 only when
written, with a fixed equirectangular mapping around :data:`ORIGIN_LATLON` (a made-up
place in western Massachusetts; over 1.5 km its scale error is below 0.1 %).

The town is a jittered grid of named residential streets crossed by one tertiary
north-south street (South/North Main Street, split where it meets the primary road), one
tertiary east-west street, a straight primary road running diagonally through the
whole town, a few T-junctions, dead-end stubs past the edge and cul-de-sacs into
blocks. Precinct lines follow street centrelines: the primary road divides the wards,
one grid street divides each ward into two precincts.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

import numpy as np
from shapely.geometry import LineString, Polygon, box
from shapely.ops import split

__all__ = [
    "ORIGIN_LATLON",
    "Street",
    "Town",
    "build_town",
    "osm_xml",
    "to_lonlat",
    "to_lonlat_array",
]

#: South-west corner of the synthetic town (near, not at, real Hampshire County towns).
ORIGIN_LATLON = (42.3245, -72.6495)
_M_PER_DEG_LAT = 111_320.0
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(ORIGIN_LATLON[0]))

_N_COLS = 10  # north-south streets, ~167 m apart
_N_ROWS = 9  # east-west streets, 150 m apart
_WIDTH_M = 1500.0
_HEIGHT_M = 1200.0
_MARGIN_M = 45.0  # town outline beyond the outermost street
_JITTER_M = 12.0

# Street names in full, mixed case, as an address-point layer spells them.
_COL_NAMES = (
    "Prospect Street", "Maple Street", "Elm Street", "Pleasant Street",
    "Chestnut Street", "Walnut Street", "Fruit Street", "West Farms Road",
    "Orchard Avenue", "Laurel Street", "Cherry Lane", "Round Hill Road",
)  # fmt: skip
_ROW_NAMES = (
    "Spring Street", "High Street", "Church Street", "Park Avenue", "Summer Street",
    "Mill Lane", "Hawley Street", "Union Street", "Crescent Street",
    "Fort Hill Terrace", "Edwards Square", "Green Street",
)  # fmt: skip
_CUL_DE_SAC_NAMES = (
    "Birch Court", "Juniper Place", "Hemlock Circle", "Aspen Way", "Linden Terrace",
    "Sumac Drive",
)  # fmt: skip
_MAIN_COL = 4  # the tertiary north-south street
_MAIN_ROW = 4  # the tertiary east-west street, "Bridge Street"
_WARD1_SPLIT_COL = 3  # splits ward 1 (north-west of the primary) into 1A / 1B
_WARD2_SPLIT_ROW = 2  # splits ward 2 (south-east of the primary) into 2A / 2B


@dataclass(frozen=True)
class Street:
    """One OSM way: a named street as a chain of node ids."""

    name: str
    highway: str
    nodes: tuple[int, ...]
    ref: str = ""


@dataclass(frozen=True)
class Town:
    """The town's street network and precinct shapes, in local metres."""

    xy: dict[int, tuple[float, float]]
    streets: tuple[Street, ...]
    precincts: dict[str, Polygon]
    outline: Polygon
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)

    def line(self, street: Street) -> LineString:
        """Return the street's centreline in metres."""
        return LineString([self.xy[n] for n in street.nodes])


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    """Convert local metres to (lon, lat) degrees."""
    return (
        ORIGIN_LATLON[1] + x / _M_PER_DEG_LON,
        ORIGIN_LATLON[0] + y / _M_PER_DEG_LAT,
    )


def to_lonlat_array(xy: np.ndarray) -> np.ndarray:
    """Convert an (n, 2) array of local metres to (lon, lat) degrees."""
    return np.column_stack(
        (
            ORIGIN_LATLON[1] + xy[:, 0] / _M_PER_DEG_LON,
            ORIGIN_LATLON[0] + xy[:, 1] / _M_PER_DEG_LAT,
        )
    )


class _Builder:
    """Accumulates nodes and streets with deterministic, increasing ids."""

    def __init__(self) -> None:
        self.xy: dict[int, tuple[float, float]] = {}
        self.tags: dict[int, dict[str, str]] = {}

    def node(self, x: float, y: float) -> int:
        nid = len(self.xy) + 1
        self.xy[nid] = (float(x), float(y))
        return nid


def _crossing(
    a: tuple[float, float],
    b: tuple[float, float],
    p: tuple[float, float],
    q: tuple[float, float],
) -> tuple[float, float] | None:
    """Return (t along a-b, u along p-q) where the two segments cross, if they do."""
    d1 = (b[0] - a[0], b[1] - a[1])
    d2 = (q[0] - p[0], q[1] - p[1])
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-12:
        return None
    t = ((p[0] - a[0]) * d2[1] - (p[1] - a[1]) * d2[0]) / den
    u = ((p[0] - a[0]) * d1[1] - (p[1] - a[1]) * d1[0]) / den
    if 0.0 < t < 1.0 and 0.0 < u < 1.0:
        return t, u
    return None


def build_town(seed: int) -> Town:
    """
    Lay out the demo town's streets and precincts from `seed`.

    Parameters
    ----------
    seed
        Random seed; the same seed always gives the same town.

    Returns
    -------
    town
        Nodes, named streets (OSM ways) and the four precinct polygons, in metres.
    """
    rng = np.random.default_rng([seed, 101])
    b = _Builder()
    col_x = np.linspace(0.0, _WIDTH_M, _N_COLS)
    row_y = np.linspace(0.0, _HEIGHT_M, _N_ROWS)
    grid = np.empty((_N_COLS, _N_ROWS), dtype=np.int64)
    for i in range(_N_COLS):
        for j in range(_N_ROWS):
            jx, jy = rng.uniform(-_JITTER_M, _JITTER_M, 2)
            grid[i, j] = b.node(col_x[i] + jx, row_y[j] + jy)

    col_names = list(rng.permutation(np.array(_COL_NAMES)))
    row_names = list(rng.permutation(np.array(_ROW_NAMES)))
    # chains: (name, highway, node list); the main column gets split at the primary
    chains: list[tuple[str, str, list[int]]] = []
    for i in range(_N_COLS):
        nodes = [int(n) for n in grid[i]]
        if i == _MAIN_COL:
            chains.append(("Main Street", "tertiary", nodes))
            continue
        name = str(col_names[i if i < _MAIN_COL else i - 1])
        chains.append((name, "residential", nodes))
    # T-junctions: a few rows stop one block short of the town edge
    short_rows = {1: "west", 5: "east", 7: "west"}
    for j in range(_N_ROWS):
        nodes = [int(n) for n in grid[:, j]]
        if j == _MAIN_ROW:
            chains.append(("Bridge Street", "tertiary", nodes))
            continue
        if short_rows.get(j) == "west":
            nodes = nodes[1:]
        elif short_rows.get(j) == "east":
            nodes = nodes[:-1]
        chains.append(
            (str(row_names[j if j < _MAIN_ROW else j - 1]), "residential", nodes)
        )

    # gentle bends: a bowed midpoint between grid nodes on a few streets
    for ci in (2, 8, _N_COLS + 1, _N_COLS + 6, _N_COLS + 7):
        name, highway, nodes = chains[ci]
        vertical = ci < _N_COLS
        bent = [nodes[0]]
        for n0, n1 in itertools.pairwise(nodes):
            (ax, ay), (cx, cy) = b.xy[n0], b.xy[n1]
            bow = rng.uniform(8.0, 18.0) * (1 if rng.random() < 0.5 else -1)
            mx, my = (ax + cx) / 2, (ay + cy) / 2
            bent.append(b.node(mx + bow, my) if vertical else b.node(mx, my + bow))
            bent.append(n1)
        chains[ci] = (name, highway, bent)

    # dead-end stubs past the north edge on three streets
    for i in (1, 6, 8):
        last = chains[i][2][-1]
        x, y = b.xy[last]
        chains[i][2].append(b.node(x + rng.uniform(-10, 10), y + rng.uniform(70, 110)))

    # the primary road: a straight diagonal across the whole town, south-west to
    # north-east; splice a node into every street it crosses
    p0 = (-_MARGIN_M + 5.0, 150.0 + rng.uniform(-15, 15))
    p1 = (_WIDTH_M + _MARGIN_M - 5.0, 1050.0 + rng.uniform(-15, 15))
    crossings: list[tuple[float, int]] = []
    main_cross = -1
    for ci, (_name, _hw, nodes) in enumerate(chains):
        for k in range(len(nodes) - 1):
            a, c = b.xy[nodes[k]], b.xy[nodes[k + 1]]
            hit = _crossing(p0, p1, a, c)
            if hit is None:
                continue
            t = hit[0]
            nid = b.node(p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1]))
            nodes.insert(k + 1, nid)
            crossings.append((t, nid))
            if ci == _MAIN_COL:
                main_cross = nid
            break
    start, end = b.node(*p0), b.node(*p1)
    primary_nodes = [start, *(n for _t, n in sorted(crossings)), end]

    streets: list[Street] = []
    for name, highway, nodes in chains:
        if name == "Main Street":
            cut = nodes.index(main_cross)
            streets.append(
                Street("South Main Street", highway, tuple(nodes[: cut + 1]))
            )
            streets.append(Street("North Main Street", highway, tuple(nodes[cut:])))
        else:
            streets.append(Street(name, highway, tuple(nodes)))
    streets.append(Street("Amherst Road", "primary", tuple(primary_nodes), ref="MA 9"))

    # cul-de-sacs: short named stubs from the middle of a residential block edge
    primary_line = LineString([p0, p1])
    candidates = [
        (s_idx, k)
        for s_idx, s in enumerate(streets)
        if s.highway == "residential" and s.name in row_names
        for k in range(len(s.nodes) - 1)
    ]
    order = rng.permutation(len(candidates))
    used_streets: set[int] = set()
    n_culs = 0
    for pick in order:
        s_idx, k = candidates[int(pick)]
        street = streets[s_idx]
        a, c = b.xy[street.nodes[k]], b.xy[street.nodes[k + 1]]
        seg_len = math.dist(a, c)
        mid = ((a[0] + c[0]) / 2, (a[1] + c[1]) / 2)
        direction = 1.0 if rng.random() < 0.5 else -1.0
        length = rng.uniform(70, 90)
        tip = (mid[0] + rng.uniform(-6, 6), mid[1] + direction * length)
        far = LineString([mid, tip])
        if (
            s_idx in used_streets
            or seg_len < 120
            or far.distance(primary_line) < 60
            or not 0 < tip[1] < _HEIGHT_M
        ):
            continue
        used_streets.add(s_idx)
        junction = b.node(*mid)
        nodes = list(street.nodes)
        nodes.insert(k + 1, junction)
        streets[s_idx] = Street(street.name, street.highway, tuple(nodes), street.ref)
        end_node = b.node(*tip)
        b.tags[end_node] = {"highway": "turning_circle"}
        streets.append(
            Street(_CUL_DE_SAC_NAMES[n_culs], "residential", (junction, end_node))
        )
        n_culs += 1
        if n_culs == 4:
            break

    xs = [p[0] for p in b.xy.values()]
    ys = [p[1] for p in b.xy.values()]
    outline = box(
        min(xs) - _MARGIN_M,
        min(ys) - _MARGIN_M,
        max(xs) + _MARGIN_M,
        max(ys) + _MARGIN_M,
    )
    town = Town(xy=b.xy, streets=tuple(streets), precincts={}, outline=outline)
    precincts = _precincts(
        town,
        [int(n) for n in grid[_WARD1_SPLIT_COL]],
        [int(n) for n in grid[:, _WARD2_SPLIT_ROW]],
    )
    return Town(
        xy=b.xy,
        streets=tuple(streets),
        precincts=precincts,
        outline=outline,
        node_tags=b.tags,
    )


def _extended(coords: list[tuple[float, float]], by: float) -> LineString:
    """Return the polyline extended straight past both ends by `by` metres."""

    def past(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
        d = math.dist(p, q)
        return (p[0] + (p[0] - q[0]) / d * by, p[1] + (p[1] - q[1]) / d * by)

    return LineString(
        [past(coords[0], coords[1]), *coords, past(coords[-1], coords[-2])]
    )


def _halves(poly: Polygon, line: LineString) -> list[Polygon]:
    parts = [g for g in split(poly, line).geoms if isinstance(g, Polygon)]
    if len(parts) != 2:
        msg = f"demo town precinct split produced {len(parts)} parts instead of 2"
        raise RuntimeError(msg)
    return parts


def _precincts(
    town: Town, ward1_col: list[int], ward2_row: list[int]
) -> dict[str, Polygon]:
    """Cut the town into wards 1/2 and precincts A/B along street centrelines."""
    primary = next(s for s in town.streets if s.highway == "primary")
    by = 4 * _MARGIN_M
    wards = _halves(town.outline, _extended([town.xy[n] for n in primary.nodes], by))
    p_a, p_b = town.xy[primary.nodes[0]], town.xy[primary.nodes[-1]]

    def north_west(poly: Polygon) -> bool:
        pt = poly.representative_point()
        return (p_b[0] - p_a[0]) * (pt.y - p_a[1]) - (p_b[1] - p_a[1]) * (
            pt.x - p_a[0]
        ) > 0

    ward1 = next(w for w in wards if north_west(w))
    ward2 = next(w for w in wards if not north_west(w))
    # the split streets carry extra nodes where the primary crosses them; only the
    # grid nodes matter for the line, which is the same centreline
    col_line = _extended([town.xy[n] for n in ward1_col], by)
    row_line = _extended([town.xy[n] for n in ward2_row], by)
    west, east = sorted(_halves(ward1, col_line), key=lambda p: p.centroid.x)
    south, north = sorted(_halves(ward2, row_line), key=lambda p: p.centroid.y)
    return {"1A": west, "1B": east, "2A": north, "2B": south}


def osm_xml(town: Town, *, generator: str) -> str:
    """
    Return the street network as OSM XML 0.6 text (deterministic, no timestamps).

    Parameters
    ----------
    town
        The town from :func:`build_town`.
    generator
        Value of the root ``generator`` attribute.

    Returns
    -------
    xml
        The whole ``.osm`` document.
    """
    lonlat = {n: to_lonlat(*p) for n, p in town.xy.items()}
    lons = [p[0] for p in lonlat.values()]
    lats = [p[1] for p in lonlat.values()]
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<osm version="0.6" generator={quoteattr(generator)}>',
        f'  <bounds minlat="{min(lats):.7f}" minlon="{min(lons):.7f}" '
        f'maxlat="{max(lats):.7f}" maxlon="{max(lons):.7f}"/>',
    ]
    for n in sorted(lonlat):
        lon, lat = lonlat[n]
        head = (
            f'  <node id="{n}" version="1" visible="true" '
            f'lat="{lat:.7f}" lon="{lon:.7f}"'
        )
        tags = town.node_tags.get(n)
        if not tags:
            out.append(head + "/>")
            continue
        out.append(head + ">")
        out.extend(
            f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()
        )
        out.append("  </node>")
    for wid, street in enumerate(town.streets, start=1):
        out.append(f'  <way id="{wid}" version="1" visible="true">')
        out.extend(f'    <nd ref="{n}"/>' for n in street.nodes)
        tags = {"highway": street.highway, "name": street.name}
        if street.ref:
            tags["ref"] = street.ref
        tags["maxspeed"] = {"primary": "35 mph", "tertiary": "30 mph"}.get(
            street.highway, "25 mph"
        )
        tags["sidewalk"] = "both"
        out.extend(
            f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()
        )
        out.append("  </way>")
    out.append("</osm>")
    return "\n".join(out) + "\n"
