"""A synthetic :class:`~canvass.pipeline.Plan` for the output-stage tests and benches.

The town is a grid of square turfs (300 m) in UTM zone 18N near Northampton, MA. Each
turf has three east-west streets with doors on both sides (odd numbers north, even
south), one volunteer route that walks the streets in a serpentine, and a few voters
per door (some doors are multi-unit buildings). Made-up names only.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, box

from canvass import schema
from canvass.config import PlanConfig
from canvass.pipeline import Plan

CRS = "EPSG:32618"
X0, Y0 = 693_000.0, 4_690_000.0  # Northampton, MA
TURF_M = 300.0
FIRST = [
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "José",
    "Olga",
    "Liam",
    "Priya",
    "Tom",
    "Ana",
]
LAST = ["Garcia", "Smith", "O'Neil", "Nguyen", "Kowalski", "Brown", "Łukasz", "Patel"]
STREETS = ["MAIN ST", "ELM ST", "OAK AVE", "PINE ST", "MAPLE ST", "KING ST"]
ELECTIONS = [
    ("SP2014", "2014-09-09", schema.STATE_PRIMARY),
    ("SE2014", "2014-11-04", schema.STATE_ELECTION),
    ("PP2016", "2016-03-01", schema.PRESIDENTIAL_PRIMARY),
    ("PE2016", "2016-11-08", schema.PRESIDENTIAL_ELECTION),
    ("SP2018", "2018-09-04", schema.STATE_PRIMARY),
    ("SE2018", "2018-11-06", schema.STATE_ELECTION),
    ("PE2020", "2020-11-03", schema.PRESIDENTIAL_ELECTION),
    ("SP2022", "2022-09-06", schema.STATE_PRIMARY),
    ("SE2022", "2022-11-08", schema.STATE_ELECTION),
]


def make_plan(
    n_turfs: int = 4,
    doors_per_turf: int = 12,
    *,
    seed: int = 0,
    output: dict[str, Any] | None = None,
) -> Plan:
    """Build a plan with `n_turfs` turfs, one route each, `doors_per_turf` doors."""
    rng = np.random.default_rng(seed)
    config = PlanConfig.from_dict({"run_name": "synthetic", "output": output or {}})
    ncol = math.ceil(math.sqrt(n_turfs))
    per_street = math.ceil(doors_per_turf / 3)
    turfs, routes, doors, stops, voters = [], [], [], [], []
    for t in range(n_turfs):
        tx, ty = X0 + (t % ncol) * TURF_M, Y0 + (t // ncol) * TURF_M
        turf_id, route_id = f"T{t + 1:03d}", f"R{t + 1:03d}"
        path: list[tuple[float, float]] = []
        door_no = 0
        for s in range(3):
            y = ty + 50 + 100 * s
            west_to_east = s % 2 == 0
            xs = np.linspace(tx + 30, tx + 270, per_street)
            if not west_to_east:
                xs = xs[::-1]
            path += [(float(xs[0]), y), (float(xs[-1]), y)]
            street = STREETS[(t + s) % len(STREETS)]
            for k, x in enumerate(xs):
                if door_no >= doors_per_turf:
                    break
                door_no += 1
                north = k % 2 == 0
                number = 2 * (int(x - tx) // 10) + (1 if north else 2) + 100 * s
                door_id = f"D{t + 1:03d}{door_no:03d}"
                n_units = 3 if rng.random() < 0.12 else 1
                doors.append(
                    {
                        schema.DOOR_ID: door_id,
                        schema.ADDRESS: f"{number} {street}",
                        schema.STREET_NAME: street,
                        schema.STREET_NUMBER: str(number),
                        schema.ZIP5: "01060",
                        schema.N_UNITS: n_units,
                        schema.SIDE: "L" if north == west_to_east else "R",
                        schema.TURF_ID: turf_id,
                        "geometry": Point(x, y + (12 if north else -12)),
                    }
                )
                stops.append((route_id, turf_id, door_id))
                units = ["10", "2", "2A"] if n_units > 1 else [""]
                for u in units:
                    for _ in range(int(rng.integers(1, 3))):
                        voters.append((door_id, u))
        routes.append((route_id, turf_id, LineString(path)))
        turfs.append((turf_id, box(tx, ty, tx + TURF_M, ty + TURF_M)))

    width = ncol * TURF_M
    height = math.ceil(n_turfs / ncol) * TURF_M
    pgeoms = [
        box(
            X0 + i * width / 2,
            Y0 + j * height / 2,
            X0 + (i + 1) * width / 2,
            Y0 + (j + 1) * height / 2,
        )
        for j in range(2)
        for i in range(2)
    ]
    precincts = gpd.GeoDataFrame(
        {
            schema.PRECINCT_ID: [
                f"W{j + 1}P{i + 1}" for j in range(2) for i in range(2)
            ],
            schema.WARD: ["1", "1", "2", "2"],
            schema.PRECINCT: ["1", "2", "1", "2"],
            schema.NAME: [
                f"Ward {j + 1} Precinct {i + 1}" for j in range(2) for i in range(2)
            ],
        },
        geometry=pgeoms,
        crs=CRS,
    ).set_index(schema.PRECINCT_ID)

    def precinct_of(geom: Any) -> str:
        hits = precincts.index[precincts.contains(geom.centroid)]
        return str(hits[0]) if len(hits) else str(precincts.index[0])

    vrows = []
    for i, (door_id, unit) in enumerate(voters):
        vrows.append(
            {
                schema.VOTER_ID: f"V{i + 1:06d}",
                schema.LAST_NAME: LAST[int(rng.integers(len(LAST)))].upper(),
                schema.FIRST_NAME: FIRST[int(rng.integers(len(FIRST)))].upper(),
                schema.MIDDLE_NAME: "Q",
                schema.NAME_SUFFIX: "",
                schema.UNIT: unit,
                schema.CITY: "NORTHAMPTON",
                schema.STATE: "MA",
                schema.ZIP5: "01060",
                schema.PARTY: ["D", "U", "R", "U"][int(rng.integers(4))],
                schema.STATUS: "A",
                schema.BIRTH_YEAR: int(rng.integers(1940, 2005)),
                schema.DOOR_ID: door_id,
                schema.IS_TARGET: bool(rng.random() < 0.6),
                schema.LIFT: 0.05,
                "sex": ["F", "M", "X"][int(rng.integers(3))],
                schema.SUPPRESSED: "",
            }
        )
    vdf = pd.DataFrame(vrows).set_index(schema.VOTER_ID)
    # every routed door has at least one target
    first_at_door = ~vdf[schema.DOOR_ID].duplicated()
    vdf.loc[first_at_door, schema.IS_TARGET] = True
    # one deceased voter, never listed
    vdf.iloc[-1, vdf.columns.get_loc(schema.SUPPRESSED)] = "deceased"
    vdf.iloc[-1, vdf.columns.get_loc(schema.IS_TARGET)] = False

    ddf = gpd.GeoDataFrame(pd.DataFrame(doors).set_index(schema.DOOR_ID), crs=CRS)
    ddf[schema.PRECINCT_ID] = [precinct_of(g) for g in ddf.geometry]
    counts = vdf.groupby(schema.DOOR_ID).agg(
        n_voters=(schema.IS_TARGET, "size"), n_targets=(schema.IS_TARGET, "sum")
    )
    ddf[schema.N_VOTERS] = counts["n_voters"].reindex(ddf.index).astype(int)
    ddf[schema.N_TARGETS] = counts["n_targets"].reindex(ddf.index).astype(int)
    ddf[schema.VALUE] = ddf[schema.N_TARGETS] * 0.05
    vdf[schema.PRECINCT_ID] = vdf[schema.DOOR_ID].map(ddf[schema.PRECINCT_ID])
    for col in schema.VOTER_COLUMNS:
        if col not in vdf.columns:
            vdf[col] = ""

    sdf = pd.DataFrame(stops, columns=[schema.ROUTE_ID, schema.TURF_ID, schema.DOOR_ID])
    sdf[schema.STOP] = sdf.groupby(schema.ROUTE_ID).cumcount() + 1
    sdf[schema.VOLUNTEER] = "Volunteer " + sdf[schema.ROUTE_ID].str[1:].str.lstrip("0")
    sdf[schema.LEG_M] = 24.0
    sdf[schema.LEG_S] = 20.0
    sdf[schema.ARRIVE_S] = sdf.groupby(schema.ROUTE_ID).cumcount() * 140.0 + 20.0
    sdf[schema.SIDE] = sdf[schema.DOOR_ID].map(ddf[schema.SIDE])

    tdf = gpd.GeoDataFrame(
        {schema.TURF_ID: [t for t, _ in turfs]}, geometry=[g for _, g in turfs], crs=CRS
    ).set_index(schema.TURF_ID)
    tdf[schema.PRECINCT_ID] = [precinct_of(g) for g in tdf.geometry]
    per_turf = ddf.groupby(schema.TURF_ID)
    tdf[schema.N_DOORS] = per_turf.size()
    tdf[schema.N_TARGETS] = per_turf[schema.N_TARGETS].sum()
    tdf[schema.VALUE] = per_turf[schema.VALUE].sum()
    tdf[schema.EST_S] = tdf[schema.N_DOORS] * 140.0
    tdf[schema.STAGING_NODE] = 0

    rdf = gpd.GeoDataFrame(
        {
            schema.ROUTE_ID: [r for r, _, _ in routes],
            schema.TURF_ID: [t for _, t, _ in routes],
        },
        geometry=[g for _, _, g in routes],
        crs=CRS,
    ).set_index(schema.ROUTE_ID)
    rdf[schema.VOLUNTEER] = "Volunteer " + rdf.index.str[1:].str.lstrip("0")
    rdf[schema.N_DOORS] = rdf[schema.TURF_ID].map(tdf[schema.N_DOORS])
    rdf[schema.N_TARGETS] = rdf[schema.TURF_ID].map(tdf[schema.N_TARGETS])
    rdf[schema.VALUE] = rdf[schema.TURF_ID].map(tdf[schema.VALUE])
    rdf[schema.WALK_M] = rdf.geometry.length
    rdf[schema.WALK_S] = rdf[schema.WALK_M] / 1.2
    rdf[schema.DOOR_S] = rdf[schema.N_DOORS] * 120.0
    rdf[schema.TOTAL_S] = rdf[schema.WALK_S] + rdf[schema.DOOR_S]

    edf = pd.DataFrame(
        ELECTIONS,
        columns=[schema.ELECTION_ID, schema.ELECTION_DATE, schema.ELECTION_TYPE],
    ).set_index(schema.ELECTION_ID)
    edf[schema.IS_GUBERNATORIAL] = edf.index.isin(["SE2014", "SE2018", "SE2022"])
    edf[schema.LABEL] = edf.index
    hist = [
        (v, e, d, ty)
        for v in vdf.index
        for e, d, ty in ELECTIONS
        if rng.random() < (0.75 if "PE" in e else 0.35)
    ]
    hdf = pd.DataFrame(hist, columns=list(schema.HISTORY_COLUMNS))

    ptab = pd.DataFrame(index=precincts.index)
    ptab["voters"] = (
        vdf.groupby(schema.PRECINCT_ID).size().reindex(ptab.index).fillna(0)
    )
    ptab["targets"] = (
        vdf.groupby(schema.PRECINCT_ID)[schema.IS_TARGET]
        .sum()
        .reindex(ptab.index)
        .fillna(0)
    )
    ptab["expected_extra_votes"] = ptab["targets"] * 0.05
    ptab["targets_per_km2"] = ptab["targets"] / (precincts.area / 1e6)

    left_out = pd.DataFrame(
        [
            {
                schema.DOOR_ID: "DX000001",
                schema.REASON: "dropped_for_time",
                schema.VALUE: 0.05,
                schema.DETAIL: "shift full",
            }
        ]
    )
    return Plan(
        config=config,
        voters=vdf,
        history=hdf,
        elections=edf,
        precincts=precincts,
        doors=ddf,
        turfs=tdf,
        stops=sdf[[*schema.STOP_COLUMNS, schema.LEG_S, schema.SIDE]],
        routes=rdf,
        left_out=left_out,
        precinct_table=ptab,
    )


def with_output(plan: Plan, **output: Any) -> Plan:
    """Return `plan` with some ``[output]`` settings changed."""
    out = dataclasses.replace(plan.config.output, **output)
    return dataclasses.replace(
        plan, config=dataclasses.replace(plan.config, output=out)
    )
