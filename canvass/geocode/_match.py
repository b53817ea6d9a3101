"""Matching addresses to address points, and saying why an address was missed.

Private helper of :mod:`canvass.geocode`:

- :func:`match_points` finds each distinct address's point on number + street (+ zip),
  keeping points with the same address but far apart (``10 REINHARD AVE`` spelt
  ``AVENUE`` in one place and ``AVE`` 2 km away) as separate places: an address goes
  to the place inside its file precinct, and is not matched when that is not one;
- :func:`explain` writes each address's ``geocode_detail``: the step that placed it or
  failed, and the nearest candidates for a miss.
"""

from __future__ import annotations

from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ._address import street_candidates
from ._doors import ADDRESS_POINT, CENTROID, INTERPOLATED, NOT_GEOCODED
from ._points import MATCH_KEY

__all__ = ["DETAIL_CODES", "explain", "match_points", "street_only"]

#: The first word of every ``geocode_detail``: which step placed the address or failed.
DETAIL_CODES: Final = (
    "point",  # number + street found in the address points
    "point_street_corrected",  # ... after correcting the street's spelling
    "point_suffix_dropped",  # "12A" found only as "12": the building's point
    "point_clash_resolved",  # same address at several places: the one in the precinct
    "interpolated",  # number not among the address points: placed along the street
    "point_clash",  # same address at several places, none (or many) in the precinct
    "street_not_found",  # the street matches no known street, even loosely
    "number_not_placed",  # the street is known but this number could not be placed
    "no_number",  # the address has no house number
    "no_street",  # the address has no street name
    "no_precinct",  # not placed, and the file precinct is not in the precinct layer
)


def _places(points: gpd.GeoDataFrame, clash_m: float) -> np.ndarray:
    """Give each far-apart place of an address key its number (0 for most)."""
    place = np.zeros(len(points), dtype=np.int64)
    xy = points.geometry.get_coordinates().to_numpy()
    frame = pd.DataFrame({"key": points[MATCH_KEY].to_numpy(), "x": xy[:, 0]})
    frame["y"] = xy[:, 1]
    spread = frame.groupby("key").agg(
        x0=("x", "min"), x1=("x", "max"), y0=("y", "min"), y1=("y", "max")
    )
    wide = spread.index[
        np.hypot(spread["x1"] - spread["x0"], spread["y1"] - spread["y0"]) > clash_m
    ]
    for _, rows in frame[frame["key"].isin(wide)].groupby("key").groups.items():
        anchors: list[np.ndarray] = []
        for i in rows:  # building points first: the first point of a place anchors it
            p = xy[i]
            near = [j for j, a in enumerate(anchors) if np.hypot(*(p - a)) <= clash_m]
            if near:
                place[i] = near[0]
            else:
                place[i] = len(anchors)
                anchors.append(p)
    return place


def match_points(
    addrs: pd.DataFrame,
    points: gpd.GeoDataFrame,
    precincts: gpd.GeoDataFrame,
    clash_m: float,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """
    Find each address's point: on key + zip, then on key alone when unambiguous.

    Parameters
    ----------
    addrs
        Distinct addresses: ``key``, ``key_nosuffix``, ``zip5``, ``file_precinct``.
    points
        Address points (RangeIndex) from :func:`read_address_points`, in the
        precincts' CRS.
    precincts
        Precinct polygons (index ``precinct_id``), to tell clashing places apart.
    clash_m
        Points of one address farther apart than this are different places.

    Returns
    -------
    found, clashes
        Per address: ``pt`` (point row, -1 if none), ``loose`` (found only without
        the number's suffix), ``places`` (places of its address, 1 normally) and
        ``resolved`` (chosen among places by the file precinct); and the PII-free
        clash report (streets and counts).
    """
    place = _places(points, clash_m)
    pts = pd.DataFrame(
        {
            "key": points[MATCH_KEY].to_numpy(),
            "zip5": points["zip5"].to_numpy(),
            "pt": np.arange(len(points)),
            "place": place,
        }
    )
    clash_keys = set(pts.loc[pts["place"] > 0, "key"])
    by_zip = pts[pts["zip5"] != ""].drop_duplicates(["key", "zip5", "place"])
    key_zips = pts.groupby("key")["zip5"].nunique()
    by_key = pts[pts["key"].isin(key_zips.index[key_zips <= 1])].drop_duplicates(
        ["key", "place"]
    )
    # Which precinct each clashing place's anchor point is in.
    anchor = pts[pts["key"].isin(clash_keys)].drop_duplicates(["key", "place"])
    pt_precinct = pd.Series("", index=anchor["pt"].to_numpy(), dtype="str")
    if len(anchor):
        polys = gpd.GeoDataFrame(
            {"_pid": precincts.index.astype("str")},
            geometry=precincts.geometry.to_numpy(),
            crs=precincts.crs,
        )
        where = gpd.sjoin(
            points.iloc[anchor["pt"].to_numpy()][["geometry"]],
            polys,
            how="inner",
            predicate="intersects",
        )
        where = where[~where.index.duplicated()]
        pt_precinct.loc[where.index.to_numpy()] = where["_pid"].astype("str").to_numpy()

    found = pd.DataFrame(
        {"pt": -1, "loose": False, "places": 1, "resolved": False}, index=addrs.index
    )
    done = pd.Series(False, index=addrs.index)
    for key_col in ("key", "key_nosuffix"):
        for table, on in ((by_zip, ["key", "zip5"]), (by_key, ["key"])):
            left = pd.DataFrame({"key": addrs[key_col], "zip5": addrs["zip5"]})[~done]
            hit = left.rename_axis("_row").reset_index().merge(table, on=on)
            if hit.empty:
                continue
            n = hit.groupby("_row")["pt"].transform("size")
            hit["_n"] = n.to_numpy()
            fp = addrs["file_precinct"].reindex(hit["_row"]).to_numpy()
            inside = pt_precinct.reindex(hit["pt"]).fillna("").to_numpy() == fp
            hit = hit[(hit["_n"] == 1) | inside]
            ok = hit.groupby("_row")["pt"].transform("size") == 1
            one = hit[ok.to_numpy()]
            rows = one["_row"].to_numpy()
            found.loc[rows, "pt"] = one["pt"].to_numpy()
            found.loc[rows, "loose"] = key_col != "key"
            found.loc[rows, "places"] = one["_n"].to_numpy()
            found.loc[rows, "resolved"] = (one["_n"] > 1).to_numpy()
            # Several places and not one of them in the file precinct: not guessed.
            counted = left.rename_axis("_row").reset_index().merge(table, on=on)
            many = counted.groupby("_row").size()
            stuck = many.index[(many > 1) & ~many.index.isin(rows)]
            found.loc[stuck, "places"] = many.loc[stuck].to_numpy()
            done.loc[rows] = True
            done.loc[stuck] = True
    clash_pts = pts[pts["key"].isin(clash_keys)]
    streets = (
        clash_pts.assign(street=clash_pts["key"].str.split("|").str[1])
        .drop_duplicates("key")
        .groupby("street")
        .size()
        .sort_index()
    )
    report = {
        "addresses": len(clash_keys),
        "clash_m": clash_m,
        "streets": {str(k): int(v) for k, v in streets.items()},
    }
    return found, report


def street_only(name: str) -> str:
    """Drop a house number typed into a street name (``12 MAIN ST`` -> ``MAIN ST``)."""
    tokens = name.split()
    if len(tokens) > 1 and tokens[0][:1].isdigit() and not tokens[0][-2:].isalpha():
        return " ".join(tokens[1:])
    return name


def _near_numbers(number: str, numbers: np.ndarray) -> str:
    if not number.isdigit() or not len(numbers):
        return ""
    i = int(np.searchsorted(numbers, int(number)))
    near = numbers[max(0, i - 1) : i + 1]
    return ", ".join(str(int(n)) for n in near)


def explain(
    uniq: pd.DataFrame,
    known: set[str],
    points: gpd.GeoDataFrame | None,
    precinct_ids: pd.Index,
) -> pd.Series:
    """
    Write each distinct address's ``geocode_detail``.

    Parameters
    ----------
    uniq
        Distinct addresses after every step: ``method``, ``number``, ``street``,
        ``file_precinct``, ``corrected`` (street spelling fixed), ``loose``,
        ``places`` and ``resolved``.
    known
        Street names of the address points and the street network.
    points
        The address points, or ``None``.
    precinct_ids
        Ids of the precinct layer.

    Returns
    -------
    detail
        ``"<code>"`` or ``"<code>: <what was tried, nearest candidates>"``, the code
        one of :data:`DETAIL_CODES`.
    """
    numbers: dict[str, np.ndarray] = {}
    if points is not None:
        num = points["street_number"].str.fullmatch(r"\d+")
        for street, g in points.loc[num, "street_number"].groupby(
            points.loc[num, "street_name"]
        ):
            numbers[str(street)] = np.unique(g.astype("int64").to_numpy())
    out = []
    cols = ["method", "street", "number", "file_precinct", "corrected", "loose"]
    rows = zip(
        *(uniq[c].astype("str").tolist() for c in cols[:4]),
        *(uniq[c].astype(bool).tolist() for c in (*cols[4:], "resolved")),
        uniq["places"].astype("int64").tolist(),
        strict=True,
    )
    pids = set(precinct_ids)
    for method, street, number, file_pid, corrected, loose, resolved, places in rows:
        if method == ADDRESS_POINT:
            if resolved:
                text = f"point_clash_resolved: {places} places, one in the precinct"
            elif loose:
                text = "point_suffix_dropped"
            elif corrected:
                text = "point_street_corrected"
            else:
                text = "point"
        elif method == INTERPOLATED:
            near = _near_numbers(number, numbers.get(street, np.array([])))
            text = "interpolated" + (
                f": not among the points; nearest numbers {near}" if near else ""
            )
        elif not street:
            text = "no_street"
        elif places > 1:
            text = f"point_clash: {places} places, not one in the file precinct"
        elif not number:
            text = "no_number"
        elif street not in known:
            near_streets = street_candidates(street, known)
            text = "street_not_found" + (
                f": nearest {', '.join(near_streets)}" if near_streets else ""
            )
        else:
            near = _near_numbers(number, numbers.get(street, np.array([])))
            text = "number_not_placed" + (f": nearest numbers {near}" if near else "")
        if method == NOT_GEOCODED and street and file_pid not in pids:
            text = f"no_precinct: {text}"
        elif method == CENTROID:
            text = f"{text} (placed at the precinct's centre)"
        out.append(text)
    return pd.Series(out, index=uniq.index, dtype="str")
