"""Stage 4: the walking network — read, cache and project it.

The walking graph is a networkx ``MultiDiGraph`` in a metric CRS, with both directions
of every walkable way. Nodes carry ``x``/``y`` (metres) and ``lon``/``lat``; edges
carry ``length`` (m), ``highway`` (str), ``name`` (str, ``""`` when unnamed) and
``geometry`` (LineString from ``u`` to ``v``). Local OSM files (``.osm``, ``.osm.bz2``,
``.osm.gz``, ``.osm.pbf``) are read with pyosmium, which is 30 times faster than
``osmnx.graph_from_xml``; GraphML goes through ``osmnx.load_graphml``. Parsed graphs
are cached by file checksum.

Doors are snapped to it in :mod:`canvass.network._snap`; walking costs between doors
are in :mod:`canvass.turf._costs`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyproj
import shapely

from .._crs import check_graph_nodes
from ..config import WalkParams
from ..errors import InputError, NetworkError

__all__ = [
    "STREET_CLASSES",
    "download_walk_graph",
    "read_walk_graph",
    "utm_crs",
]

logger = logging.getLogger(__name__)

_CACHE_VERSION = "1"
#: Highway values that are not walkable (substrings, as osmnx's walk filter).
_NOT_WALKABLE = (
    "abandoned",
    "bus_guideway",
    "construction",
    "cycleway",
    "motor",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
    "elevator",
)
#: Streets with doors on them: doors snap to these first, footpaths only as fallback.
STREET_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
    }
)
_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml", ".xml.bz2")


# --- reading ------------------------------------------------------------------------
def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS 84 UTM zone CRS containing a point."""
    zone = int((lon + 180) // 6) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _walkable(tags: dict[str, str]) -> bool:
    hw = tags.get("highway", "")
    if not hw or hw == "no" or any(bad in hw for bad in _NOT_WALKABLE):
        return False
    if tags.get("area") == "yes" or tags.get("foot") == "no":
        return False
    if tags.get("service") == "private":
        return False
    return not (
        tags.get("access") in {"private", "no"}
        and tags.get("foot") not in {"yes", "designated", "permissive"}
    )


def _read_osm(path: Path) -> nx.MultiDiGraph[Any]:
    """Read walkable ways from an OSM XML/PBF file with pyosmium (WGS 84 graph)."""
    import osmium

    ways: list[tuple[int, list[int], dict[str, str]]] = []
    lonlat: dict[int, tuple[float, float]] = {}
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in fp:
            if not isinstance(way, osmium.osm.Way):
                continue
            tags = {t.k: t.v for t in way.tags}
            if not _walkable(tags):
                continue
            refs = []
            for nref in way.nodes:
                if not nref.location.valid():
                    continue
                refs.append(nref.ref)
                lonlat[nref.ref] = (nref.location.lon, nref.location.lat)
            if len(refs) >= 2:
                ways.append((way.id, refs, tags))
    except RuntimeError as err:
        msg = (
            f"{path}: not a readable OSM file ({err}); export it again as .osm or .pbf."
        )
        raise NetworkError(msg) from err
    if not ways:
        msg = f"{path}: no walkable highway ways found; is this an OSM street extract?"
        raise NetworkError(msg)
    # graph nodes: way ends and nodes shared by several ways (intersections)
    uses: dict[int, int] = {}
    for _, refs, _ in ways:
        for r in refs:
            uses[r] = uses.get(r, 0) + 1
        uses[refs[0]] += 1
        uses[refs[-1]] += 1
    G: nx.MultiDiGraph[Any] = nx.MultiDiGraph(crs="epsg:4326")
    for wid, refs, tags in ways:
        attrs = {
            "osmid": wid,
            "highway": tags["highway"],
            "name": tags.get("name", ""),
        }
        start = 0
        for i in range(1, len(refs)):
            if uses[refs[i]] > 1 or i == len(refs) - 1:
                piece = refs[start : i + 1]
                coords = [lonlat[r] for r in piece]
                u, v = piece[0], piece[-1]
                if u != v or len(piece) > 3:
                    G.add_edge(u, v, coords=coords, **attrs)
                    G.add_edge(v, u, coords=coords[::-1], **attrs)
                start = i
    for n in G.nodes:
        lon, lat = lonlat[n]
        G.nodes[n].update(lon=lon, lat=lat)
    return G


def _project(
    G: nx.MultiDiGraph[Any], crs: pyproj.CRS | str | None
) -> nx.MultiDiGraph[Any]:
    """Project a WGS 84 graph with lon/lat node attributes and edge ``coords``."""
    lons = np.array([d["lon"] for _, d in G.nodes(data=True)])
    lats = np.array([d["lat"] for _, d in G.nodes(data=True)])
    target = (
        pyproj.CRS.from_user_input(crs)
        if crs is not None
        else utm_crs(float(np.median(lons)), float(np.median(lats)))
    )
    if not target.is_projected:
        msg = f"The walking network must be projected to metres; got CRS {target.name}."
        raise NetworkError(msg)
    tr = pyproj.Transformer.from_crs("EPSG:4326", target, always_xy=True)
    xs, ys = tr.transform(lons, lats)
    for (_, d), x, y in zip(G.nodes(data=True), xs, ys, strict=True):
        d["x"], d["y"] = float(x), float(y)
    for _, _, d in G.edges(data=True):
        c = np.asarray(d.pop("coords"))
        ex, ey = tr.transform(c[:, 0], c[:, 1])
        d["geometry"] = shapely.linestrings(np.column_stack([ex, ey]))
        d["length"] = float(d["geometry"].length)
    G.graph["crs"] = target.to_string()
    for n, deg in G.out_degree():
        G.nodes[n]["street_count"] = int(deg)
    return G


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _from_osmnx(
    G: nx.MultiDiGraph[Any], crs: pyproj.CRS | str | None, source: object = "osmnx"
) -> nx.MultiDiGraph[Any]:
    """Normalise an osmnx graph (GraphML or download) to canvass's edge attributes."""
    import osmnx as ox

    src = pyproj.CRS.from_user_input(G.graph.get("crs", "epsg:4326"))
    check_graph_nodes(G, src, source)  # metres called WGS 84 would project to inf
    if not src.is_projected:
        for _, d in G.nodes(data=True):
            d["lon"], d["lat"] = float(d["x"]), float(d["y"])
        if crs is None:
            xs = [d["x"] for _, d in G.nodes(data=True)]
            ys = [d["y"] for _, d in G.nodes(data=True)]
            crs = utm_crs(float(np.median(xs)), float(np.median(ys)))
        G = ox.project_graph(G, to_crs=crs)
    elif crs is not None and not src.equals(pyproj.CRS.from_user_input(crs)):
        G = ox.project_graph(G, to_crs=crs)
    H: nx.MultiDiGraph[Any] = nx.MultiDiGraph(
        crs=pyproj.CRS.from_user_input(G.graph["crs"]).to_string()
    )
    for n, d in G.nodes(data=True):
        H.add_node(
            n,
            x=float(d["x"]),
            y=float(d["y"]),
            lon=float(d.get("lon", np.nan)),
            lat=float(d.get("lat", np.nan)),
        )
    for u, v, k, d in G.edges(keys=True, data=True):
        hw = _first(d.get("highway"))
        if not hw or not _walkable({"highway": hw}):
            continue
        geom = d.get("geometry")
        if geom is None:
            geom = shapely.LineString(
                [(H.nodes[u]["x"], H.nodes[u]["y"]), (H.nodes[v]["x"], H.nodes[v]["y"])]
            )
        H.add_edge(
            u,
            v,
            k,
            osmid=d.get("osmid", 0),
            highway=hw,
            name=_first(d.get("name")),
            geometry=geom,
            length=float(geom.length),
        )
    H.remove_nodes_from([n for n in list(H.nodes) if H.degree(n) == 0])
    for n, deg in H.out_degree():
        H.nodes[n]["street_count"] = int(deg)
    return H


def _cache_path(
    path: Path, params: WalkParams, crs: pyproj.CRS | str | None
) -> Path | None:
    if params.cache_dir.lower() == "none":
        return None
    if params.cache_dir:
        folder = Path(params.cache_dir).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "canvass"
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    crs_key = "" if crs is None else pyproj.CRS.from_user_input(crs).to_string()
    h.update(f"|{_CACHE_VERSION}|{crs_key}".encode())
    name = path.name.split(".")[0]
    return folder / f"walk-{name}-{h.hexdigest()[:20]}.pickle"


def read_walk_graph(
    path: Path, params: WalkParams, *, crs: pyproj.CRS | str | None = None
) -> nx.MultiDiGraph[Any]:
    """
    Read a local walking network, project it to metres and cache the result.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` OpenStreetMap extract, or
        an osmnx GraphML file.
    params
        Walking parameters; ``params.cache_dir`` says where parsed graphs are kept.
    crs
        Target metric CRS (the precincts' CRS); None = the local UTM zone.

    Returns
    -------
    G
        Walkable ways in both directions, with ``length``, ``highway``, ``name`` and
        ``geometry`` on every edge.

    Raises
    ------
    NetworkError
        If the file is missing, unreadable or holds no walkable ways.
    InputError
        If a GraphML's node coordinates cannot be in the CRS it declares.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: walking network file not found; set `inputs.streets`."
        raise NetworkError(msg)
    cache = _cache_path(path, params, crs)
    if cache is not None and cache.is_file():
        try:
            with cache.open("rb") as fh:
                G: nx.MultiDiGraph[Any] = pickle.load(fh)
            logger.info("Walking network from cache %s", cache.name)
            return G
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            logger.warning("Ignoring unreadable network cache %s", cache)
    lower = path.name.lower()
    if lower.endswith(".graphml"):
        import osmnx as ox

        try:
            G = _from_osmnx(ox.load_graphml(path), crs, path)
        except InputError:
            raise
        except (ValueError, KeyError, SyntaxError) as err:
            msg = f"{path}: not a readable osmnx GraphML file ({err})."
            raise NetworkError(msg) from err
    elif lower.endswith(_OSM_SUFFIXES):
        G = _project(_read_osm(path), crs)
    else:
        msg = (
            f"{path}: unknown network format; use .osm, .osm.bz2, .osm.gz, "
            ".osm.pbf or .graphml."
        )
        raise NetworkError(msg)
    if G.number_of_edges() == 0:
        msg = f"{path}: the walking network has no walkable edges."
        raise NetworkError(msg)
    logger.info(
        "Walking network: %s nodes, %s edges from %s",
        f"{G.number_of_nodes():,}",
        f"{G.number_of_edges():,}",
        path.name,
    )
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(G, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(cache)
        except OSError as err:
            logger.warning("Could not write network cache %s: %s", cache, err)
    return G


def download_walk_graph(  # pragma: no cover - needs internet
    place_or_polygon: str | shapely.Polygon | shapely.MultiPolygon,
    params: WalkParams,
    *,
    crs: pyproj.CRS | str | None = None,
) -> nx.MultiDiGraph[Any]:
    """
    Download a walking network from OpenStreetMap with osmnx (needs internet).

    Parameters
    ----------
    place_or_polygon
        A place name osmnx can geocode ("Northampton, Massachusetts, USA") or a
        polygon in WGS 84.
    params
        Walking parameters (unused for the download itself; kept for symmetry).
    crs
        Target metric CRS; None = the local UTM zone.

    Returns
    -------
    G
        The walking network, as :func:`read_walk_graph` returns it.
    """
    import osmnx as ox

    del params
    if isinstance(place_or_polygon, str):
        G = ox.graph_from_place(place_or_polygon, network_type="walk", retain_all=True)
    else:
        G = ox.graph_from_polygon(
            place_or_polygon, network_type="walk", retain_all=True
        )
    return _from_osmnx(G, crs)
