"""Doors from geocoded addresses (private helper of :mod:`canvass.geocode`).

One door per building: every address placed at the same address point shares its
door, other addresses get a door each. Doors are numbered ``D00001``... in street,
number order, joined to the precinct polygons spatially, and summarised in the
geocoding report (counts and ids only, never names or addresses).
"""

from __future__ import annotations

from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ._address import display_address

__all__ = [
    "ADDRESS_POINT",
    "CENTROID",
    "FILE_PRECINCT_ID",
    "INTERPOLATED",
    "METHODS",
    "NOT_GEOCODED",
    "build_doors",
    "unverified_doors",
]

ADDRESS_POINT: Final = "address_point"
INTERPOLATED: Final = "interpolated"
CENTROID: Final = "centroid"
NOT_GEOCODED: Final = "none"
#: Geocoding methods from best to worst; ``"none"`` marks voters with no door.
METHODS: Final = (ADDRESS_POINT, INTERPOLATED, CENTROID, NOT_GEOCODED)
#: Door column: the most common file precinct of the door's voters.
FILE_PRECINCT_ID: Final = "file_precinct_id"
#: At most this many voters are listed one by one in the report.
MAX_LISTED_VOTERS: Final = 10_000


def _door_ids(n: int) -> list[str]:
    width = max(5, len(str(n)))
    return [f"D{i:0{width}d}" for i in range(1, n + 1)]


def build_doors(
    voters: pd.DataFrame,
    addrs: pd.DataFrame,
    uniq: pd.DataFrame,
    precincts: gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """
    Build the doors from the placed addresses and report on them.

    Parameters
    ----------
    voters
        The input voter table (index ``voter_id``).
    addrs
        Per voter: normalised ``unit`` and the address ``key``, ``zip5`` and
        ``file_precinct`` that identify its row in `uniq`.
    uniq
        One row per distinct address and file precinct: ``key``, ``zip5``,
        ``file_precinct``, ``number``, ``suffix``,
        ``street``, ``method``, ``x``, ``y``, ``door_key`` (addresses with the same
        door key share a door) and optionally ``zip_door``.
    precincts
        Precinct polygons (index ``precinct_id``) for the spatial join.

    Returns
    -------
    voters, doors, report
        Copy of `voters` with ``door_id``, ``geocode_method``, ``geocode_detail``
        and ``geocode_precinct_id``; the door table; the PII-free report.
    """
    placed = uniq[uniq["method"] != NOT_GEOCODED].copy()
    if "zip_door" not in placed:
        placed["zip_door"] = ""
    placed["zip_door"] = placed["zip_door"].fillna("").astype("str")
    placed["zip_door"] = placed["zip_door"].where(
        placed["zip_door"] != "", placed["zip5"]
    )
    # Per voter: the distinct address row it belongs to.
    ukey = ["key", "zip5", "file_precinct"]
    row_of = pd.Series(uniq.index, index=pd.MultiIndex.from_frame(uniq[ukey]))
    v_row = row_of.loc[pd.MultiIndex.from_frame(addrs[ukey])].to_numpy()
    v_door_key = uniq["door_key"].to_numpy()[v_row]
    v_method = uniq["method"].to_numpy()[v_row]
    v_detail = (
        uniq["detail"].to_numpy()[v_row]
        if "detail" in uniq
        else np.full(len(v_row), "", dtype=object)
    )

    # One door per door key (an address point, or one address when placed otherwise).
    rank = placed["method"].map({m: i for i, m in enumerate(METHODS)})
    placed = placed.assign(
        _rank=rank, _num=pd.to_numeric(placed["number"], errors="coerce")
    )
    doors = (
        placed.sort_values(["_rank", "street", "_num", "suffix", "zip_door", "key"])
        .drop_duplicates("door_key")
        .sort_values(
            ["street", "_num", "suffix", "zip_door", "door_key"], na_position="first"
        )
        .reset_index(drop=True)
    )
    doors[schema.DOOR_ID] = _door_ids(len(doors))
    door_of = pd.Series(
        doors[schema.DOOR_ID].to_numpy(),
        index=doors["door_key"].to_numpy(),
        dtype="str",
    )
    v_door = np.where(
        v_method != NOT_GEOCODED, door_of.reindex(v_door_key).fillna("").to_numpy(), ""
    )
    per_voter = pd.DataFrame(
        {
            "door": v_door,
            "unit": addrs["unit"].to_numpy(),
            "file": addrs["file_precinct"].to_numpy(),
        },
        index=voters.index,
    )
    on = per_voter[per_voter["door"] != ""]
    counts = on.groupby("door").agg(
        n_voters=("unit", "size"), n_units=("unit", "nunique")
    )
    file_mode = (
        on.groupby(["door", "file"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["door", "n", "file"], ascending=[True, False, True])
        .drop_duplicates("door")
        .set_index("door")["file"]
    )
    geometry = gpd.points_from_xy(doors["x"], doors["y"], crs=precincts.crs)
    out = gpd.GeoDataFrame(
        {
            schema.DOOR_ID: doors[schema.DOOR_ID].to_numpy(),
            schema.ADDRESS: display_address(
                doors["number"], doors["suffix"], doors["street"]
            ).to_numpy(),
            schema.STREET_NAME: doors["street"].to_numpy(),
            schema.STREET_NUMBER: (
                doors["number"]
                + doors["suffix"].map(lambda s: f" {s}" if "/" in s else s)
            ).to_numpy(),
            schema.ZIP5: doors["zip_door"].to_numpy(),
        },
        geometry=geometry,
    ).set_index(schema.DOOR_ID)
    out[schema.N_VOTERS] = (
        counts["n_voters"].reindex(out.index).fillna(0).astype("int64")
    )
    out[schema.N_UNITS] = counts["n_units"].reindex(out.index).fillna(0).astype("int64")
    out[schema.GEOCODE_METHOD] = doors["method"].astype("str").to_numpy()
    out[schema.GEOCODE_DETAIL] = (
        doors["detail"].astype("str").to_numpy() if "detail" in doors else ""
    )
    out[FILE_PRECINCT_ID] = file_mode.reindex(out.index).fillna("").astype("str")
    out[schema.PRECINCT_ID] = _spatial_precinct(out, precincts)
    out = out[
        [
            schema.ADDRESS,
            schema.STREET_NAME,
            schema.STREET_NUMBER,
            schema.ZIP5,
            schema.PRECINCT_ID,
            FILE_PRECINCT_ID,
            schema.N_VOTERS,
            schema.N_UNITS,
            schema.GEOCODE_METHOD,
            schema.GEOCODE_DETAIL,
            "geometry",
        ]
    ]

    v = voters.copy()
    v[schema.DOOR_ID] = pd.Series(v_door, index=v.index, dtype="str")
    v[schema.GEOCODE_METHOD] = pd.Series(v_method, index=v.index, dtype="str")
    v[schema.GEOCODE_DETAIL] = pd.Series(v_detail, index=v.index, dtype="str")
    v[schema.GEOCODE_PRECINCT_ID] = (
        out[schema.PRECINCT_ID].reindex(v_door).fillna("").astype("str").to_numpy()
    )
    return v, out, _report(v, out, per_voter)


def _spatial_precinct(
    doors: gpd.GeoDataFrame, precincts: gpd.GeoDataFrame
) -> pd.Series:
    """Precinct id of each door by point-in-polygon (first by id on a boundary)."""
    polys = gpd.GeoDataFrame(
        {"_pid": precincts.index.astype("str")},
        geometry=precincts.geometry.to_numpy(),
        crs=precincts.crs,
    )
    joined = gpd.sjoin(doors[["geometry"]], polys, how="left", predicate="intersects")
    joined = joined.reset_index().sort_values([schema.DOOR_ID, "_pid"])
    first = joined.drop_duplicates(schema.DOOR_ID).set_index(schema.DOOR_ID)["_pid"]
    out: pd.Series = first.reindex(doors.index).fillna("").astype("str")
    return out


def _pct(n: int, total: int) -> float:
    return round(100.0 * n / total, 2) if total else 0.0


def _report(
    voters: pd.DataFrame, doors: gpd.GeoDataFrame, per_voter: pd.DataFrame
) -> dict[str, Any]:
    n = len(voters)
    method = voters[schema.GEOCODE_METHOD]
    by_method = method.value_counts()
    doors_by = doors[schema.GEOCODE_METHOD].value_counts()
    outside = doors.index[doors[schema.PRECINCT_ID] == ""].astype("str").tolist()
    geo = voters[schema.GEOCODE_PRECINCT_ID]
    file = per_voter["file"]
    compared = (geo != "") & (file != "")
    differs = compared & (geo != file)
    bad = pd.DataFrame(
        {
            "voter_id": voters.index[differs].astype("str"),
            "door_id": per_voter.loc[differs, "door"].astype("str").to_numpy(),
            "file_precinct_id": file[differs].astype("str").to_numpy(),
            "geocoded_precinct_id": geo[differs].astype("str").to_numpy(),
        }
    )
    door_files = (
        bad[["door_id", "file_precinct_id"]]
        .drop_duplicates()
        .sort_values(["door_id", "file_precinct_id"])
        .groupby("door_id", sort=True)["file_precinct_id"]
        .agg(list)
    )
    door_list = pd.DataFrame(
        {
            "door_id": door_files.index.astype("str"),
            "file_precinct_ids": door_files.to_numpy(),
            "geocoded_precinct_id": doors[schema.PRECINCT_ID]
            .reindex(door_files.index)
            .astype("str")
            .to_numpy(),
        }
    )
    pairs = (
        bad.groupby(["file_precinct_id", "geocoded_precinct_id"])
        .size()
        .rename("voters")
    )
    centroid = file[method == CENTROID].value_counts().sort_index()
    return {
        "voters": n,
        "voters_by_method": {m: int(by_method.get(m, 0)) for m in METHODS},
        "voters_pct": {m: _pct(int(by_method.get(m, 0)), n) for m in METHODS},
        "match_rate_pct": _pct(int(by_method.get(ADDRESS_POINT, 0)), n),
        "placed_pct": _pct(n - int(by_method.get(NOT_GEOCODED, 0)), n),
        "doors": len(doors),
        "doors_by_method": {m: int(doors_by.get(m, 0)) for m in METHODS[:3]},
        "centroid_voters_by_precinct": {str(k): int(v) for k, v in centroid.items()},
        "doors_outside_precincts": {"count": len(outside), "door_ids": outside},
        "precinct_agree_pct": _pct(
            int(compared.sum() - differs.sum()), int(compared.sum())
        ),
        "precinct_disagreements": {
            "doors": len(door_list),
            "voters": len(bad),
            "by_precincts": [
                {
                    "file_precinct_id": str(f),
                    "geocoded_precinct_id": str(g),
                    "voters": int(c),
                }
                for f, g, c in pairs.reset_index().itertuples(index=False)
            ],
            "door_list": door_list.to_dict("records"),
            "voter_list": bad.head(MAX_LISTED_VOTERS).to_dict("records"),
            "voter_list_truncated": len(bad) > MAX_LISTED_VOTERS,
        },
        "not_geocoded_voter_ids": voters.index[method == NOT_GEOCODED]
        .astype("str")
        .tolist()[:MAX_LISTED_VOTERS],
    }


def unverified_doors(doors: pd.DataFrame, *, route_centroids: bool) -> pd.DataFrame:
    """
    List the target doors placed only at a precinct centre, to leave out of routes.

    A voter whose address matched no address point and no street is put at the
    centre of its precinct; that is no door a volunteer can walk to. Unless
    ``geocode.route_centroids`` asks to route them (marked on every output), such
    doors go to ``left_out`` with the reason ``address_not_found``.

    Parameters
    ----------
    doors
        Door table with ``geocode_method`` and, after targeting, ``n_targets`` and
        ``value``.
    route_centroids
        The ``[geocode]`` setting: when true nothing is left out.

    Returns
    -------
    left_out
        Rows in the ``left_out`` layout (``door_id``, ``reason``, ``value``,
        ``detail``), PII-free.
    """
    at_centre = (
        doors[schema.GEOCODE_METHOD] == CENTROID
        if schema.GEOCODE_METHOD in doors.columns
        else pd.Series(False, index=doors.index)
    )
    if schema.N_TARGETS in doors.columns:
        at_centre &= doors[schema.N_TARGETS].fillna(0) > 0
    if route_centroids:
        at_centre &= False
    held = doors[at_centre]
    value = (
        held[schema.VALUE].fillna(0.0).to_numpy(dtype=float)
        if schema.VALUE in held.columns
        else np.zeros(len(held))
    )
    precinct = (
        held[FILE_PRECINCT_ID].astype("str")
        if FILE_PRECINCT_ID in held.columns
        else pd.Series("", index=held.index)
    )
    return pd.DataFrame(
        {
            schema.DOOR_ID: held.index.astype("str"),
            schema.REASON: "address_not_found",
            schema.VALUE: value,
            schema.DETAIL: [
                f"matched no address point or street; placed only at the centre of "
                f"precinct {p}: verify the address (verify_addresses.csv)"
                for p in precinct
            ],
        },
        columns=list(schema.LEFT_OUT_COLUMNS),
    )
