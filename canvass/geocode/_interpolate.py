"""Address interpolation along named streets (the geocoding stage's second method).

When a voter's address is not in the address-point layer, its door is placed along the
street of that name in the OSM walking network, the way TIGER-style geocoders do:

1. the street's edges are merged into *chains* (continuous lines between the points
   where the street forks or stops);
2. the known address points on the street (if any) are projected onto the chains, so
   the house numbers are ranged by where real houses are; with none, numbers are
   spread along the longest chain by length, increasing from its start;
3. odd and even numbers go on their own sides (learnt from the known points, else odd
   on the left of the direction of increasing numbers), set back from the centreline.

A street missing from the network but with known address points (a new development,
a private way) is ranged between those points directly, by house number.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString

from ._address import normalize_street_names

__all__ = ["STREET_CLASSES", "interpolate_numbers", "street_chains"]

logger = logging.getLogger(__name__)

#: OSM ``highway`` classes that carry house numbers; footways and paths are used for a
#: name only when the name has no edge of these classes.
STREET_CLASSES: Final = frozenset(
    {
        "residential", "living_street", "unclassified", "tertiary", "secondary",
        "primary", "trunk", "tertiary_link", "secondary_link", "primary_link",
        "trunk_link", "road", "service",
    }
)  # fmt: skip
#: Known points farther than this from their street are not used for ranging.
MAX_KNOWN_OFFSET_M: Final = 150.0
#: Chains of a street farther than this from the address's area (its file precinct)
#: belong to another place of the same street name.
AREA_REACH_M: Final = 1000.0
#: Metres per house number when only one known point is on the street.
METRES_PER_NUMBER: Final = 4.0


def _first(value: object) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return (
        ""
        if value is None or (isinstance(value, float) and value != value)
        else str(value)
    )


def street_chains(G: nx.MultiDiGraph[Any], crs: object) -> gpd.GeoDataFrame:
    """
    Merge the named edges of a walking network into one line per street stretch.

    Parameters
    ----------
    G
        osmnx graph with edge ``name`` (a string or a list), ``highway`` and
        optionally ``geometry``.
    crs
        Projected CRS of the result (the precincts' CRS).

    Returns
    -------
    chains
        Columns ``street_name`` (normalised), ``length_m`` and LineString
        ``geometry``, in `crs`, sorted by street and decreasing length.
    """
    empty = gpd.GeoDataFrame(
        {"street_name": pd.Series(dtype="str"), "length_m": pd.Series(dtype="float")},
        geometry=gpd.GeoSeries([], crs=crs),
    )
    if G.number_of_edges() == 0:
        return empty
    edges = ox.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True)
    if "name" not in edges.columns:
        return empty
    edges = edges.reset_index()
    # One row per undirected edge: walk graphs hold both directions of each street.
    pair = np.sort(edges[["u", "v"]].to_numpy(), axis=1)
    edges = edges.assign(_a=pair[:, 0], _b=pair[:, 1])
    edges = edges.drop_duplicates(["_a", "_b", "key"]).explode(
        "name", ignore_index=True
    )
    edges = edges[edges["name"].notna() & (edges["name"].astype("str") != "")]
    if edges.empty:
        return empty
    edges = edges.to_crs(crs)
    highway = edges["highway"].map(_first) if "highway" in edges else pd.Series("road")
    edges = edges.assign(
        street_name=normalize_street_names(edges["name"].astype("str")),
        _street=highway.isin(STREET_CLASSES).to_numpy(),
    )
    has_street = edges.groupby("street_name")["_street"].transform("any")
    edges = edges[edges["_street"] | ~has_street]
    rows: list[tuple[str, LineString]] = []
    for name, group in edges.groupby("street_name", sort=True):
        merged = shapely.line_merge(MultiLineString(list(group.geometry)))
        parts = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
        rows.extend(
            (str(name), part)
            for part in parts
            if isinstance(part, LineString) and part.length > 0
        )
    chains = gpd.GeoDataFrame(
        {"street_name": [r[0] for r in rows]},
        geometry=gpd.GeoSeries([r[1] for r in rows], crs=crs),
    )
    chains["length_m"] = chains.length
    chains = chains.sort_values(["street_name", "length_m"], ascending=[True, False])
    return chains.reset_index(drop=True)


def _side(line: LineString, measure: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Return +1 for points left of `line` (in its direction) and -1 for right."""
    a = shapely.get_coordinates(line.interpolate(np.maximum(measure - 1.0, 0.0)))
    b = shapely.get_coordinates(
        line.interpolate(np.minimum(measure + 1.0, line.length))
    )
    on = shapely.get_coordinates(line.interpolate(measure))
    t = b - a
    d = points - on
    cross = t[:, 0] * d[:, 1] - t[:, 1] * d[:, 0]
    side: np.ndarray = np.where(cross >= 0, 1.0, -1.0)
    return side


def _offset_points(
    line: LineString, measure: np.ndarray, side: np.ndarray, setback_m: float
) -> np.ndarray:
    """Points at `measure` along `line`, moved `setback_m` to the given side."""
    measure = np.clip(measure, 0.0, line.length)
    a = shapely.get_coordinates(line.interpolate(np.maximum(measure - 1.0, 0.0)))
    b = shapely.get_coordinates(
        line.interpolate(np.minimum(measure + 1.0, line.length))
    )
    on = shapely.get_coordinates(line.interpolate(measure))
    t = b - a
    norm = np.hypot(t[:, 0], t[:, 1])
    norm[norm == 0] = 1.0
    left = np.column_stack([-t[:, 1], t[:, 0]]) / norm[:, None]
    moved: np.ndarray = on + left * (side * setback_m)[:, None]
    return moved


def _measures(
    numbers: np.ndarray, known_n: np.ndarray, known_m: np.ndarray
) -> np.ndarray:
    """Interpolate measures for `numbers` from known (number, measure) pairs."""
    order = np.argsort(known_n, kind="stable")
    kn, km = known_n[order], known_m[order]
    uniq, inv = np.unique(kn, return_inverse=True)
    mean_m = np.bincount(inv, weights=km) / np.bincount(inv)
    if len(uniq) == 1:
        single: np.ndarray = mean_m[0] + (numbers - uniq[0]) * METRES_PER_NUMBER
        return single
    out: np.ndarray = np.interp(numbers, uniq, mean_m)
    slope = np.polyfit(uniq.astype(float), mean_m, 1)[0]
    lo, hi = numbers < uniq[0], numbers > uniq[-1]
    out[lo] = mean_m[0] + slope * (numbers[lo] - uniq[0])
    out[hi] = mean_m[-1] + slope * (numbers[hi] - uniq[-1])
    return out


def interpolate_numbers(
    wanted: pd.DataFrame,
    chains: gpd.GeoDataFrame,
    known: gpd.GeoDataFrame,
    *,
    setback_m: float,
    areas: gpd.GeoSeries | None = None,
) -> pd.DataFrame:
    """
    Place house numbers along their named street.

    Parameters
    ----------
    wanted
        Addresses to place: ``street_name`` (normalised), integer ``number`` and,
        optionally, ``zip5`` and ``area`` (a key of `areas`, e.g. the file precinct).
    chains
        Street chains from :func:`street_chains`.
    known
        Known address points (same CRS as `chains`): ``street_name``, integer
        ``number``, optional ``zip5`` and Point geometry; may be empty.
    setback_m
        Distance of the door from the street centreline.
    areas
        Optional polygons by key. Streets of one name in several towns are told apart
        by the known points of the address's zip code; when there are none, by the
        chain nearest the address's area (its file precinct).

    Returns
    -------
    placed
        Columns ``x`` and ``y`` with the index of `wanted`; NaN where the street is
        neither in the network nor in the known points.
    """
    xy_all = np.full((len(wanted), 2), np.nan)
    if wanted.empty or (chains.empty and known.empty):
        return pd.DataFrame(xy_all, index=wanted.index, columns=["x", "y"])
    w = pd.DataFrame(
        {
            "street_name": wanted["street_name"].to_numpy(),
            "number": wanted["number"].to_numpy(dtype=float),
            "zip5": wanted["zip5"].to_numpy() if "zip5" in wanted else "",
            "area": wanted["area"].to_numpy() if "area" in wanted else "",
            "row": np.arange(len(wanted)),
        }
    )
    chain_groups = {str(k): g for k, g in chains.groupby("street_name", sort=False)}
    known_groups = (
        {str(k): g for k, g in known.groupby("street_name", sort=False)}
        if not known.empty
        else {}
    )
    for street, group in w.groupby("street_name", sort=True):
        ch = chain_groups.get(str(street))
        kn = known_groups.get(str(street))
        proj = _project_known(list(ch.geometry), kn) if ch is not None else None
        for (zip_key, area), sub in group.groupby(["zip5", "area"], sort=True):
            zip5 = str(zip_key)
            numbers = sub["number"].to_numpy()
            rows = sub["row"].to_numpy()
            if ch is None or proj is None:
                if kn is not None:  # not in the network: range between the known houses
                    xy_all[rows] = _between_points(numbers, kn[_zip_mask(kn, zip5)])
                continue
            lines = list(ch.geometry)
            k_chain, k_m, k_n, k_side, k_zip = proj
            same_zip = k_zip == zip5
            if zip5 and same_zip.any():
                use = same_zip
            else:  # no known house in this zip: the chains near the area's
                use = np.isin(k_chain, _chains_near(ch, areas, area))
            k_chain, k_m, k_n, k_side = k_chain[use], k_m[use], k_n[use], k_side[use]
            if len(k_n):
                # Each number goes to the chain of the known number closest to it.
                nearest = np.abs(numbers[:, None] - k_n[None, :]).argmin(axis=1)
                target = k_chain[nearest]
            else:
                target = np.full(len(numbers), _chains_near(ch, areas, area)[0])
            xy_out = np.full((len(numbers), 2), np.nan)
            for c in np.unique(target):
                sel = target == c
                on_c = k_chain == c
                xy_out[sel] = _place_on_chain(
                    lines[int(c)], numbers[sel], k_n[on_c], k_m[on_c], k_side[on_c],
                    setback_m,
                )  # fmt: skip
            xy_all[rows] = xy_out
    out = pd.DataFrame(xy_all, index=wanted.index, columns=["x", "y"])
    logger.debug("Interpolated %s of %s addresses", out["x"].notna().sum(), len(out))
    return out


def _zip_mask(known: gpd.GeoDataFrame, zip5: str) -> np.ndarray:
    """Known points of this zip code, or all of them when the zip has none."""
    same: np.ndarray = np.ones(len(known), dtype=bool)
    if zip5 and "zip5" in known:
        in_zip = (known["zip5"] == zip5).to_numpy()
        if in_zip.any():
            same = in_zip
    return same


def _project_known(
    lines: list[LineString], kn: gpd.GeoDataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Chain, measure, number, side and zip of the known points near the chains."""
    if kn is None or kn.empty:
        e = np.empty(0)
        return np.empty(0, dtype=int), e, e, e, np.empty(0, dtype=object)
    pts = np.asarray(kn.geometry.to_numpy())
    dist = shapely.distance(np.asarray(lines)[:, None], pts[None, :])
    k_chain = dist.argmin(axis=0)
    ok = dist.min(axis=0) <= MAX_KNOWN_OFFSET_M
    k_chain, pts = k_chain[ok], pts[ok]
    k_n = kn["number"].to_numpy(dtype=float)[ok]
    zips = kn["zip5"].to_numpy(dtype=object) if "zip5" in kn else np.full(len(kn), "")
    chain_geoms = np.asarray(lines)[k_chain]
    k_m = shapely.line_locate_point(chain_geoms, pts)
    xy = shapely.get_coordinates(pts)
    k_side = np.array(
        [
            _side(lines[c], np.array([m]), xy[i : i + 1])[0]
            for i, (c, m) in enumerate(zip(k_chain, k_m, strict=True))
        ]
    )
    return k_chain, k_m, k_n, k_side, zips[ok]


def _chains_near(
    ch: gpd.GeoDataFrame, areas: gpd.GeoSeries | None, area: object
) -> np.ndarray:
    """
    Positions in `ch` of the chains within reach of the area, nearest first.

    All chains (longest first) when the area is unknown; the nearest one when none
    is within :data:`AREA_REACH_M`.
    """
    if areas is None or area not in areas.index or len(ch) == 1:
        return np.arange(len(ch))
    dist = np.round(ch.geometry.distance(areas.loc[area]).to_numpy(), 0)
    order = np.argsort(dist, kind="stable")  # chains are longest first: ties go long
    near: np.ndarray = order[dist[order] <= AREA_REACH_M]
    return near if len(near) else order[:1]


def _place_on_chain(
    line: LineString,
    nums: np.ndarray,
    k_n: np.ndarray,
    k_m: np.ndarray,
    k_side: np.ndarray,
    setback_m: float,
) -> np.ndarray:
    """Points for house numbers `nums` along `line`, given the known houses on it."""
    if len(k_n):
        m = np.empty(len(nums))
        for parity in (0, 1):
            psel = nums % 2 == parity
            same = k_n % 2 == parity
            src = same if same.sum() >= 2 else np.ones(len(k_n), dtype=bool)
            m[psel] = _measures(nums[psel], k_n[src], k_m[src])
        odd_side = _odd_side(k_n, k_side)
    else:
        lo, hi = nums.min(), nums.max()
        frac = (nums - lo) / (hi - lo) if hi > lo else np.full(len(nums), 0.5)
        m = line.length * (0.05 + 0.9 * frac)
        odd_side = 1.0
    side = np.where(nums % 2 == 1, odd_side, -odd_side)
    return _offset_points(line, m, side, setback_m)


def _between_points(numbers: np.ndarray, known: gpd.GeoDataFrame) -> np.ndarray:
    """Place numbers between the known houses of their street (same parity first)."""
    k_n = known["number"].to_numpy(dtype=float)
    k_xy = shapely.get_coordinates(np.asarray(known.geometry.to_numpy()))
    out = np.empty((len(numbers), 2))
    for parity in (0, 1):
        sel = numbers % 2 == parity
        same = k_n % 2 == parity
        src = same if same.sum() >= 2 or not (~same).any() else np.ones_like(same)
        kn, kxy = k_n[src], k_xy[src]
        uniq, inv = np.unique(kn, return_inverse=True)
        mean_x = np.bincount(inv, weights=kxy[:, 0]) / np.bincount(inv)
        mean_y = np.bincount(inv, weights=kxy[:, 1]) / np.bincount(inv)
        out[sel, 0] = np.interp(numbers[sel], uniq, mean_x)
        out[sel, 1] = np.interp(numbers[sel], uniq, mean_y)
    return out


def _odd_side(numbers: np.ndarray, sides: np.ndarray) -> float:
    """Return the side (+1 left, -1 right) the odd numbers are on, by majority."""
    vote = np.where(numbers % 2 == 1, sides, -sides).sum()
    return 1.0 if vote >= 0 else -1.0
