"""Turfs and routes on the real Northampton walking network and addresses.

Three real precincts of Northampton, MA (2012-2021 lines): one dense downtown
(2A) and two rural ones (6B, 7B), every residential address a target door. The
doors are real public addresses, not voters; no names are involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from canvass import network, route, schema, turf
from canvass.config import PlanConfig, WalkParams

CRS = "EPSG:26986"
PRECINCTS = ("2A", "6B", "7B")


@pytest.fixture(scope="module")
def town(shared_data: Path) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame]:
    G = network.read_walk_graph(
        shared_data / "osm_northampton_walk_2020" / "northampton_walk_2020.graphml",
        WalkParams(cache_dir="none"),
        crs=CRS,
    )
    gis = shared_data / "northampton_city_gis"
    df = pd.read_csv(
        gis / "northampton_voter_address_counts_2026.csv",
        dtype={"street_number": str, "zip_code": str},
    )
    shapes = gpd.read_file(gis / "northampton_precincts_2012_2021_wgs84.geojson")
    pts = gpd.GeoDataFrame(
        {
            schema.DOOR_ID: df["id"].astype(str),
            schema.ADDRESS: df["street_number"] + " " + df["street_name"],
            schema.STREET_NAME: df["street_name"],
            schema.STREET_NUMBER: df["street_number"],
            schema.N_VOTERS: df["people_count"].fillna(1).clip(lower=1).astype(int),
            schema.N_TARGETS: 1,
        },
        geometry=gpd.points_from_xy(df["longitude"], df["latitude"]),
        crs="EPSG:4326",
    )
    joined = pts.sjoin(shapes[["WARDPREC", "geometry"]], predicate="within")
    doors = joined[joined["WARDPREC"].isin(PRECINCTS)].rename(
        columns={"WARDPREC": schema.PRECINCT_ID}
    )
    doors = doors.drop(columns="index_right").set_index(schema.DOOR_ID).to_crs(CRS)
    return G, doors


@pytest.fixture(scope="module")
def plan(town: tuple[nx.MultiDiGraph, gpd.GeoDataFrame]) -> dict[str, Any]:
    G, doors = town
    cfg = PlanConfig.from_dict({"route": {"time_limit_s": 0.0, "workers": 2}})
    snapped = network.snap_doors(doors, G, cfg.walk)
    cut = turf.cut_turfs(snapped.doors, G, cfg)
    routed = route.route_turfs(cut.doors, cut.turfs, G, cfg)
    return {"cfg": cfg, "snapped": snapped, "cut": cut, "routed": routed, "G": G}


def test_every_precincts_turfs_are_balanced(plan: dict[str, Any]) -> None:
    cfg, cut = plan["cfg"], plan["cut"]
    t = cut.turfs
    assert set(t[schema.PRECINCT_ID]) == set(PRECINCTS)
    for pid, grp in t.groupby(schema.PRECINCT_ID):
        est = grp[schema.EST_S].to_numpy(dtype=float)
        assert len(est) >= 4, pid
        dev = np.abs(est / est.mean() - 1)
        assert dev.max() <= cfg.turf.balance, (pid, sorted(est.astype(int)))
    assert cut.report["turfs_outside_balance"] == 0
    # sized to the fill (a target, priced when over), never over the shift
    capacity = cfg.turf.shift_s * cfg.turf.fill
    assert (t[schema.EST_S] <= cfg.turf.shift_s).all()
    assert (t[schema.EST_S] <= capacity * 1.01).all()
    assert t[schema.EST_S].mean() <= capacity


def test_turfs_stay_in_their_precinct_and_cover_every_door(
    plan: dict[str, Any],
) -> None:
    snapped, cut = plan["snapped"], plan["cut"]
    d = cut.doors
    placed = d[schema.TURF_ID] != ""
    assert placed.sum() + len(snapped.left_out) == len(d)
    assert placed.sum() == cut.turfs[schema.N_DOORS].sum()
    own = d.loc[placed, schema.TURF_ID].str.split("-T").str[0]
    assert (own == d.loc[placed, schema.PRECINCT_ID]).all()


def test_routes_fit_the_shift_and_keep_the_turfs_even(plan: dict[str, Any]) -> None:
    cfg, cut, routed = plan["cfg"], plan["cut"], plan["routed"]
    r = routed.routes
    assert (r[schema.TOTAL_S] <= cfg.turf.shift_s).all()
    in_turfs = int(cut.turfs[schema.N_DOORS].sum())
    assert routed.report["doors_routed"] + len(routed.left_out) == in_turfs
    assert routed.report["doors_routed"] >= 0.99 * in_turfs
    per_turf = r.groupby(schema.TURF_ID)[schema.TOTAL_S].sum()
    precinct = cut.turfs.loc[per_turf.index, schema.PRECINCT_ID]
    dev = (per_turf / per_turf.groupby(precinct).transform("mean") - 1).abs()
    assert dev.max() <= cfg.turf.balance, sorted(dev.round(3).tolist())[-5:]


def test_a_turf_over_the_shift_loses_no_door_with_no_band(
    plan: dict[str, Any],
) -> None:
    # the routing bench cuts with no balance band (turf.balance = 1.0) and full
    # shifts: a turf timed over the shift was inside the band, never repaired, and
    # lost its doors over the shift when routed on its own
    from canvass.turf import _repair, _windows

    cut, G = plan["cut"], plan["G"]
    d = cut.doors[cut.doors[schema.TURF_ID].str.startswith("6B-")]
    node = cut.turfs.loc[d[schema.TURF_ID], schema.STAGING_NODE].to_numpy()
    own = d[schema.CAR_STOP].to_numpy() == node  # walked from its staging point
    stop = np.where(own, None, d[schema.CAR_STOP].to_numpy())
    d = d.assign(**{schema.VALUE: 1.0, schema.CAR_STOP: stop})
    turfs = [
        (
            grp.sort_values(turf.TURF_ORDER),
            float(cut.turfs.at[tid, schema.EST_S]),
            cut.turfs.at[tid, schema.STAGING_NODE],
        )
        for tid, grp in d.groupby(schema.TURF_ID, sort=True)
    ]
    # the two turfs nearest each other (on foot alone) become one, over the shift
    xy = np.array([m.geometry.union_all().centroid.coords[0] for m, _, _ in turfs])
    dist = np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))
    legs = np.array([m[schema.CAR_STOP].notna().any() for m, _, _ in turfs])
    dist[legs, :] = dist[:, legs] = np.inf
    np.fill_diagonal(dist, np.inf)
    a, b = np.unravel_index(int(np.argmin(dist)), dist.shape)
    merged = (pd.concat([turfs[a][0], turfs[b][0]]), 0.0, turfs[a][2])
    rest = [t for i, t in enumerate(turfs) if i not in (a, b)]
    cfg = PlanConfig.from_dict({"turf": {"fill": 1.0, "balance": 1.0}})
    index = turf.StreetIndex(G)
    plans, _ = _windows.polish(
        index,
        [("6B", [merged, *rest])],
        PlanConfig.from_dict({"turf": {"shift_s": 10**6}}),
    )
    assert max(t for _, t, _ in plans[0][1]) > cfg.turf.shift_s
    out = _repair.rebalance(index, plans, cfg)
    timed, gone = _windows.polish(index, out, cfg)
    assert len(gone) == 0
    placed = sorted(i for m, _, _ in timed[0][1] for i in m.index)
    assert placed == sorted(d.index)
    assert max(t for _, t, _ in timed[0][1]) <= cfg.turf.shift_s
