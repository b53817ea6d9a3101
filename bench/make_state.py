"""Write a Massachusetts-sized synthetic statewide input in the Massachusetts layout.

Usage::

    python bench/make_state.py [--scale 1.0 | --voters N] [--seed 7] [--jobs 2]
                               [--towns N] [--only Boston,Worcester]
                               [--out bench/out/state] [--force]

Built on real ground from ``../shared/data/ma_statewide/`` (the 351 real town
polygons, the real 2022 ward/precinct list per town and the real ballots cast per
precinct in the 8 November 2022 gubernatorial election) and filled with the project's
own synthetic people (:func:`canvass.demo._people.make_population`, the generator
behind ``canvass demo``). No real person is in the output. Writes into ``--out``:

``precincts.gpkg``
    One layer ``precincts``: one synthetic polygon per real precinct (a Voronoi
    subdivision of the real town polygon, EPSG:26986) with ``town``, ``town_id``,
    ``WARD``, ``PRECINCT``, ``WARDPREC`` (the canonical code) and ``NAME``.
``towns/<id>_<Town>/voters/<id>VOT_state.txt`` (+ ``ANP``, ``ACP``)
    One Massachusetts VOT/ANP/ACP set per town with history 2014-2024.
``towns/<id>_<Town>/address_points.csv``
    One row per building door with ``lat``/``lon`` (about 1 % left out).
``towns/<id>_<Town>/canvass.toml``
    A targeting config for the town (precincts filtered by ``precincts.town``).
``state.json``
    Seed, scale and per-town counts (voters, votes, precincts, 2022 ballots).

Turnout: the whole-state voter count (4.9 million at ``--scale 1``) is spread over the
precincts in proportion to their real 2022 ballots over a drawn precinct turnout, and
the simulated 2022 state election is then adjusted voter by voter (most habitual
non-voters added, least habitual voters removed) so that each precinct's ballots
equal the real ``total_votes_cast`` times the scale. Other elections are moved the
same way towards the statewide level times the precinct's relative 2022 turnout, so
high- and low-turnout precincts stay so across elections. Deterministic from
``--seed``: each town draws from its own generator seeded by (seed, town id).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from canvass import schema
from canvass.demo import clerk_street_name, write_ma_voter_files
from canvass.demo._people import (
    ELECTIONS,
    HouseholdAddress,
    _plus_years,
    make_population,
)
from canvass.load import precinct_code

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ma_statewide"
STATE_VOTERS = 4_900_000
#: Statewide 2022 ballots / registered voters (2.51 M / 4.9 M): mean precinct turnout.
MEAN_TURNOUT_2022 = 0.512
GUB_2022 = "2022-11-08_state_election"
STREET_GAP_M = 160.0  # east-west streets this far apart
SETBACK_M = 12.0
LOT_M = 15.0  # frontage per house number pair
REQUEST = "state"

_WORDS = (
    "Main", "Elm", "Maple", "Oak", "Pine", "Cedar", "Chestnut", "Walnut", "Spring",
    "High", "Pleasant", "Church", "School", "Mill", "Water", "Union", "Washington",
    "Summer", "Winter", "Prospect", "Park", "Center", "Central", "Franklin", "Green",
    "Highland", "Hillside", "Lake", "Locust", "Forest", "Grove", "Meadow", "Orchard",
    "Cherry", "Birch", "Spruce", "Hemlock", "Willow", "Ridge", "Valley", "Bridge",
    "Brook", "River", "Pond", "Academy", "Adams", "Lincoln", "Jefferson", "Hancock",
    "Bartlett", "Pearl", "Beacon", "Crescent", "Liberty", "Mechanic", "Myrtle",
    "Laurel", "Sunset", "Woodland", "Fairview",
)  # fmt: skip
_SUFFIXES = ("Street", "Road", "Avenue", "Lane", "Drive", "Court", "Terrace", "Way")


@dataclass(frozen=True)
class TownJob:
    """Everything one worker needs to write one town."""

    town_id: int
    town: str
    geometry_wkb: bytes
    codes: tuple[str, ...]  # canonical precinct codes
    wards: tuple[str, ...]
    pcts: tuple[str, ...]
    voters: tuple[int, ...]  # voters per precinct
    ballots: tuple[int, ...]  # 2022 ballots per precinct (scaled)
    seed: int
    out: str


def _largest_remainder(weights: np.ndarray, total: int, floor: int) -> np.ndarray:
    share = weights / weights.sum() * max(total - floor * weights.size, 0)
    base = np.floor(share).astype(np.int64)
    rest = total - floor * weights.size - int(base.sum())
    base[np.argsort(-(share - base), kind="stable")[: max(rest, 0)]] += 1
    return base + floor


def plan_state(
    scale: float, n_voters: int, seed: int, n_towns: int, only: tuple[str, ...] = ()
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """
    Read the real towns and precincts; give each precinct its voters and ballots.

    `n_voters` (when > 0) overrides `scale`; with `n_towns` the scale applies to the
    selected towns' share of the state.
    """
    towns = gpd.read_file(SHARED / "ma_city_town_2024.geojson")[
        ["city_town", "city_town_id", "geometry"]
    ].sort_values("city_town_id")
    if only:
        towns = towns[towns["city_town"].isin(only)]
    if n_towns:
        towns = towns.head(n_towns)
    pl = pd.read_csv(
        SHARED / "ma_precincts_districts_2022.csv", dtype=str, keep_default_na=False
    )
    gov = pd.read_csv(
        SHARED / "ma_2022_governor_by_precinct.csv", dtype=str, keep_default_na=False
    )[["city_town", "Ward", "Pct", "total_votes_cast"]]
    p = pl.merge(gov, on=["city_town", "Ward", "Pct"], how="left", validate="1:1")
    share = p["total_votes_cast"].astype(int)
    chosen = p["city_town"].isin(towns["city_town"])
    share_sel = float(share[chosen].sum() / share.sum())
    p = p[chosen].reset_index(drop=True)
    real = p["total_votes_cast"].astype(int).to_numpy()
    if n_voters <= 0:
        n_voters = round(STATE_VOTERS * scale * share_sel)
    scale = n_voters / (STATE_VOTERS * share_sel)
    rng = np.random.default_rng([seed, 0])
    turnout = np.clip(rng.normal(MEAN_TURNOUT_2022, 0.08, len(p)), 0.25, 0.78)
    p["voters"] = _largest_remainder(real / turnout, n_voters, floor=20)
    ballots = np.round(real * scale).astype(np.int64)
    p["ballots"] = np.minimum(ballots, np.floor(p["voters"] * 0.85)).astype(np.int64)
    p["ward"] = p["Ward"].where(p["Ward"] != "-", "")
    p["code"] = [precinct_code(w, c) for w, c in zip(p["ward"], p["Pct"], strict=True)]
    dupes = p.duplicated(["city_town", "code"])
    if dupes.any():
        msg = f"{int(dupes.sum())} precinct codes repeat within a town"
        raise RuntimeError(msg)
    return towns, p


def _voronoi(town: shapely.Geometry, k: int, rng: np.random.Generator) -> list[Any]:
    """Split `town` into `k` pieces around random seed points inside it."""
    seeds = _points_in(town, k, rng)
    if k == 1:
        return [town]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=town)
    )
    # order the cells as the seeds: each cell holds exactly one seed
    tree = shapely.STRtree(cells)
    pts = shapely.points(seeds)
    idx = tree.query(pts, predicate="within")
    order = np.empty(k, dtype=np.int64)
    order[idx[0]] = idx[1]
    out = shapely.intersection(cells[order], town)
    return [shapely.make_valid(g) for g in out]


def _points_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` uniform random points inside `poly` (rejection sampling)."""
    x0, y0, x1, y1 = poly.bounds
    got: list[np.ndarray] = []
    have = 0
    area_share = max(poly.area / max((x1 - x0) * (y1 - y0), 1.0), 0.02)
    while have < n:
        m = int((n - have) / area_share * 1.3) + 16
        xy = np.column_stack([rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)])
        keep = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        got.append(keep)
        have += len(keep)
    return np.concatenate(got)[:n]


def _buildings(
    cell: shapely.Geometry, n_households: int, x_min: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Buildings on east-west street rows inside `cell`, with enough units."""
    sizes: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    nums: list[np.ndarray] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    seen: set[tuple[int, int]] = set()
    units = 0
    for _ in range(40):
        want = max(int((n_households - units) / 1.5 * 1.3), 8)
        xy = _points_in(cell, want, rng)
        row = np.floor(xy[:, 1] / STREET_GAP_M).astype(np.int64)
        north = (xy[:, 1] - row * STREET_GAP_M) < STREET_GAP_M / 2
        row = np.where(north, row, row + 1)
        side = np.where(north, 1, 0)  # odd numbers on the north side of the street
        lot = np.floor((xy[:, 0] - x_min) / LOT_M).astype(np.int64)
        number = 2 * lot + 1 + (1 - side) + 0
        y = row * STREET_GAP_M + np.where(north, SETBACK_M, -SETBACK_M)
        x = x_min + (lot + 0.5) * LOT_M
        inside = shapely.contains_xy(cell, x, y)
        keep = []
        for i in np.flatnonzero(inside):
            key = (int(row[i]), int(number[i]))
            if key not in seen:
                seen.add(key)
                keep.append(i)
        k = np.asarray(keep, dtype=np.int64)
        kinds = rng.random(k.size)
        size = np.select(
            [kinds < 0.74, kinds < 0.87, kinds < 0.95],
            [1, 2, 3],
            default=rng.integers(4, 13, k.size),
        )
        sizes.append(size)
        rows.append(row[k])
        nums.append(number[k])
        xs.append(x[k])
        ys.append(y[k])
        units += int(size.sum())
        if units >= n_households:
            break
    if units < n_households:  # a sliver of a cell: pile the rest into the last one
        sizes[-1] = sizes[-1].copy()
        if sizes[-1].size == 0:
            c = cell.representative_point()
            sizes[-1] = np.array([n_households - units])
            rows[-1] = np.array([int(c.y // STREET_GAP_M)])
            nums[-1] = np.array([9001 + 2 * len(seen)])
            xs[-1], ys[-1] = np.array([c.x]), np.array([c.y])
        else:
            sizes[-1][-1] += n_households - units
    return pd.DataFrame(
        {
            "row": np.concatenate(rows),
            "number": np.concatenate(nums),
            "size": np.concatenate(sizes),
            "x": np.concatenate(xs),
            "y": np.concatenate(ys),
        }
    )


def _unit_labels(size: int) -> list[str]:
    if size == 1:
        return [""]
    if size <= 3:
        return [str(i) for i in range(1, size + 1)]
    return [f"{1 + i // 2}{'AB'[i % 2]}" for i in range(size)]


def _street_names(n_rows: int, rng: np.random.Generator) -> list[str]:
    names = [f"{w} {s}" for s in _SUFFIXES for w in _WORDS]
    pick = rng.permutation(len(names))
    return [names[int(pick[i % len(names)])] for i in range(n_rows)]


def _adjust_turnout(
    voters: pd.DataFrame,
    history: pd.DataFrame,
    codes: np.ndarray,
    target_2022: dict[str, int],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Match each precinct's 2022 ballots; move other elections by its 2022 ratio."""
    n = len(voters)
    e_ids = [e.election_id for e in ELECTIONS]
    pos = pd.Index(voters.index).get_indexer(history[schema.VOTER_ID])
    col = pd.Index(e_ids).get_indexer(history[schema.ELECTION_ID])
    voted = np.zeros((n, len(e_ids)), dtype=bool)
    voted[pos, col] = True
    days = np.array([np.datetime64(e.date, "D") for e in ELECTIONS]).astype(np.int64)
    reg = (
        voters[schema.REGISTRATION_DATE]
        .to_numpy()
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    birth = (
        voters[schema.BIRTH_DATE].to_numpy().astype("datetime64[D]").astype(np.int64)
    )
    eighteen = _plus_years(birth, 18)
    eligible = (reg[:, None] <= days[None, :] - 20) & (
        eighteen[:, None] <= days[None, :]
    )
    habit = voted.sum(axis=1) + rng.random(n)
    g = e_ids.index(GUB_2022)
    precinct = pd.Series(codes)
    for code, idx in precinct.groupby(precinct).groups.items():
        rows = np.asarray(idx, dtype=np.int64)
        el22 = eligible[rows, g]
        base22 = max(int(el22.sum()), 1)
        ratio = min(target_2022[str(code)] / base22 / ELECTIONS[g].turnout, 1.6)
        for j, election in enumerate(ELECTIONS):
            el = rows[eligible[rows, j]]
            if j == g:
                want = min(target_2022[str(code)], el.size)
            else:
                want = round(min(election.turnout * ratio, 0.95) * el.size)
            now = el[voted[el, j]]
            if now.size > want:
                drop = now[np.argsort(habit[now], kind="stable")[: now.size - want]]
                voted[drop, j] = False
            elif now.size < want:
                free = el[~voted[el, j]]
                add = free[np.argsort(-habit[free], kind="stable")[: want - now.size]]
                voted[add, j] = True
    old = pd.Series(
        history[schema.PARTY_VOTED].to_numpy(), index=pos * len(e_ids) + col
    )
    ej, vi = np.nonzero(voted.T)  # election by election, voters in file order
    key = vi * len(e_ids) + ej
    party = voters[schema.PARTY].to_numpy()
    kind = np.array([e.type for e in ELECTIONS])[ej]
    primary = np.isin(kind, [schema.STATE_PRIMARY, schema.PRESIDENTIAL_PRIMARY])
    fresh = np.where(party[vi] == "R", "R", "D")
    party_voted = old.reindex(key).to_numpy(dtype=object)
    party_voted = np.where(
        pd.isna(party_voted), np.where(primary, fresh, ""), party_voted
    )
    return pd.DataFrame(
        {
            schema.VOTER_ID: voters.index.to_numpy()[vi],
            schema.ELECTION_ID: np.array(e_ids)[ej],
            schema.ELECTION_DATE: pd.to_datetime(
                np.array([e.date for e in ELECTIONS])[ej]
            ),
            schema.ELECTION_TYPE: kind,
            schema.PARTY_VOTED: party_voted.astype(str),
        }
    )


def write_town(job: TownJob) -> dict[str, Any]:
    """Write one town's VOT/ANP/ACP set, address points and config; return counts."""
    rng = np.random.default_rng([job.seed, job.town_id])
    town = shapely.from_wkb(job.geometry_wkb)
    cells = _voronoi(town, len(job.codes), rng)
    x_min, y_min = town.bounds[0], town.bounds[1]
    row0 = int(y_min // STREET_GAP_M)
    names = _street_names(int(town.bounds[3] // STREET_GAP_M) - row0 + 3, rng)
    zip5 = f"0{1000 + job.town_id:04d}"
    parts = []
    for i, cell in enumerate(cells):
        n_hh = math.ceil(job.voters[i] / 2.05 * 1.08) + 3
        b = _buildings(cell, n_hh, x_min, rng)
        b["code"] = i
        parts.append(b)
    bld = pd.concat(parts, ignore_index=True).drop_duplicates(["row", "number"])
    bld["street"] = [names[r - row0] for r in bld["row"]]
    # households fill the units of the buildings in random order
    b_of_unit = np.repeat(np.arange(len(bld)), bld["size"].to_numpy())
    labels = [u for s in bld["size"] for u in _unit_labels(int(s))]
    order = rng.permutation(b_of_unit.size)
    street = bld["street"].to_numpy()
    number = bld["number"].to_numpy()
    code = bld["code"].to_numpy()
    clerk = {n: clerk_street_name(n) for n in set(street)}
    addresses = [
        HouseholdAddress(
            street_name=clerk[street[b_of_unit[u]]],
            street_number=str(number[b_of_unit[u]]),
            street_number_suffix="",
            unit=labels[u],
            zip5=zip5,
            ward=job.wards[code[b_of_unit[u]]],
            precinct=job.pcts[code[b_of_unit[u]]],
        )
        for u in order
    ]
    n_voters = int(sum(job.voters))
    voters, history = make_population(addresses, n_voters, rng)
    codes = _codes(voters[schema.WARD], voters[schema.PRECINCT])
    targets = dict(zip(job.codes, job.ballots, strict=True))
    history = _adjust_turnout(voters, history, codes, targets, rng)
    voters, history = _unique_ids(voters, history, job.town_id)
    voters = _misfile(voters, job, rng)
    voters["mail_city"] = voters["mail_city"].where(
        voters["mail_city"] == "", job.town.upper()
    )
    folder = Path(job.out) / "towns" / f"{job.town_id:03d}_{job.town.replace(' ', '_')}"
    files = write_ma_voter_files(
        voters, history, folder / "voters", town_id=job.town_id,
        town_name=job.town, request=REQUEST,
    )  # fmt: skip
    _write_points(bld, zip5, folder / "address_points.csv", rng)
    (folder / "canvass.toml").write_text(_config(job, files), encoding="utf-8")
    g = history[schema.ELECTION_ID] == GUB_2022
    return {
        "town_id": job.town_id,
        "town": job.town,
        "folder": str(folder.relative_to(job.out)),
        "voters": len(voters),
        "votes": len(history),
        "buildings": len(bld),
        "precincts": len(job.codes),
        "ballots_2022_target": int(sum(job.ballots)),
        "ballots_2022": int(g.sum()),
        "cells": [shapely.to_wkb(c) for c in cells],
    }


def _codes(wards: pd.Series, pcts: pd.Series) -> np.ndarray:
    """Canonical precinct codes, computed once per distinct ward/precinct pair."""
    pairs = pd.MultiIndex.from_arrays([wards.astype(str), pcts.astype(str)])
    uniq, inverse = np.unique(
        pairs.codes[0].astype(np.int64) * 100_000 + pairs.codes[1], return_inverse=True
    )
    lv0, lv1 = pairs.levels
    code = [precinct_code(lv0[u // 100_000], lv1[u % 100_000]) for u in uniq]
    return np.asarray(code, dtype=object)[inverse]


def _unique_ids(
    voters: pd.DataFrame, history: pd.DataFrame, town_id: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make ids unique statewide: the last three characters become the town number."""
    old = voters.index.to_numpy().astype(str)
    new = np.array([o[:9] + f"{town_id:03d}" for o in old])
    clash = pd.Series(new).duplicated(keep=False).to_numpy()
    new = np.where(clash, old, new)
    mapping = pd.Series(new, index=old)
    v = voters.copy()
    v.index = pd.Index(new, name=schema.VOTER_ID)
    h = history.copy()
    h[schema.VOTER_ID] = mapping.reindex(h[schema.VOTER_ID].to_numpy()).to_numpy()
    return v, h


def _misfile(
    voters: pd.DataFrame, job: TownJob, rng: np.random.Generator
) -> pd.DataFrame:
    """Give ~0.3 % of voters another precinct of the town, as clerks sometimes do."""
    if len(job.codes) < 2:
        return voters
    out = voters.copy()
    pick = np.flatnonzero(rng.random(len(out)) < 0.003)
    other = rng.integers(0, len(job.codes), pick.size)
    wards = np.array(job.wards, dtype=object)[other]
    pcts = np.array(job.pcts, dtype=object)[other]
    w = out[schema.WARD].to_numpy(dtype=object)
    p = out[schema.PRECINCT].to_numpy(dtype=object)
    w[pick], p[pick] = wards, pcts
    out[schema.WARD], out[schema.PRECINCT] = w, p
    out[schema.PRECINCT_ID] = _codes(pd.Series(w), pd.Series(p))
    return out


_TO_LONLAT = pyproj.Transformer.from_crs("EPSG:26986", "EPSG:4326", always_xy=True)


def _write_points(
    bld: pd.DataFrame, zip5: str, path: Path, rng: np.random.Generator
) -> None:
    keep = rng.random(len(bld)) >= 0.01
    b = bld[keep]
    lon, lat = _TO_LONLAT.transform(b["x"].to_numpy(), b["y"].to_numpy())
    pd.DataFrame(
        {
            "street_number": b["number"].astype(str).to_numpy(),
            "street_name": b["street"].to_numpy(),
            "unit": "",
            "zip": zip5,
            "lat": np.round(lat, 7),
            "lon": np.round(lon, 7),
        }
    ).to_csv(path, index=False)


def _config(job: TownJob, files: tuple[Path, ...]) -> str:
    vot, anp, acp = (f"voters/{p.name}" for p in files)
    return (
        f"# Synthetic statewide benchmark: {job.town} (made by bench/make_state.py)\n"
        f'run_name = "{job.town_id:03d}_{job.town.replace(" ", "_")}"\n'
        f"seed = {job.seed}\n\n"
        "[inputs]\n"
        'voter_format = "ma"\n'
        f'voters = ["{vot}"]\n'
        f'history = ["{anp}", "{acp}"]\n'
        'precincts = "../../precincts.gpkg"\n'
        'address_points = "address_points.csv"\n\n'
        "[precincts]\n"
        f'town = "{job.town}"\n'
        'town_column = "town"\n'
        'code_column = "WARDPREC"\n\n'
        "[score]\n"
        "backtest = false\n\n"
        "[target]\n"
        'election_type = "state_primary"\n'
        'universe = "primary_low_propensity"\n'
    )


def main(argv: list[str] | None = None) -> int:
    """Build the statewide input; print progress; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="share of 4.9 M voters")
    ap.add_argument("--voters", type=int, default=0, help="exact voter count")
    ap.add_argument("--towns", type=int, default=0, help="first N towns only (by id)")
    ap.add_argument("--only", default="", help="comma-separated town names only")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2, help="towns written in parallel")
    ap.add_argument("--out", type=Path, default=Path("bench/out/state"))
    ap.add_argument("--force", action="store_true", help="replace an existing --out")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"make_state: {SHARED} is missing (real town and precinct data).")
        return 2
    out: Path = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        if not args.force:
            print(f"make_state: {out} is not empty; pass --force to replace it.")
            return 2
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    only = tuple(t.strip() for t in args.only.split(",") if t.strip())
    towns, p = plan_state(args.scale, args.voters, args.seed, args.towns, only)
    n_voters = int(p["voters"].sum())
    jobs = []
    for _, t in towns.iterrows():
        q = p[p["city_town"] == t["city_town"]]
        jobs.append(
            TownJob(
                town_id=int(t["city_town_id"]), town=str(t["city_town"]),
                geometry_wkb=shapely.to_wkb(t.geometry), codes=tuple(q["code"]),
                wards=tuple(q["ward"]), pcts=tuple(q["Pct"]),
                voters=tuple(int(v) for v in q["voters"]),
                ballots=tuple(int(b) for b in q["ballots"]),
                seed=args.seed, out=str(out),
            )
        )  # fmt: skip
    jobs.sort(key=lambda j: -sum(j.voters))  # biggest first: better load balance
    print(
        f"make_state: {len(jobs)} towns, {len(p)} precincts, {n_voters:,} voters"
        f" -> {out}"
    )
    done: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        if args.jobs > 1:
            pool = stack.enter_context(mp.get_context("spawn").Pool(args.jobs))
            results = pool.imap_unordered(write_town, jobs)
        else:
            results = map(write_town, jobs)
        for i, r in enumerate(results, start=1):
            done.append(r)
            if i % 10 == 0 or i == len(jobs):
                n = sum(d["voters"] for d in done)
                print(
                    f"  {i}/{len(jobs)} towns, {n:,} voters, "
                    f"{time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
    done.sort(key=lambda d: d["town_id"])
    rows = []
    for d, (_, t) in zip(
        done, towns.sort_values("city_town_id").iterrows(), strict=True
    ):
        q = p[p["city_town"] == t["city_town"]]
        for cell, (_, r) in zip(d.pop("cells"), q.iterrows(), strict=True):
            rows.append(
                {
                    "town": d["town"], "town_id": d["town_id"], "WARD": r["ward"],
                    "PRECINCT": r["Pct"], "WARDPREC": r["code"],
                    "NAME": f"{d['town']} {r['code']}",
                    "geometry": shapely.from_wkb(cell),
                }
            )  # fmt: skip
    gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:26986").to_file(
        out / "precincts.gpkg", layer="precincts", driver="GPKG"
    )
    summary = {
        "generator": "bench/make_state.py (synthetic voters, real MA towns/precincts)",
        "seed": args.seed,
        "voters": sum(d["voters"] for d in done),
        "votes": sum(d["votes"] for d in done),
        "precincts": len(rows),
        "ballots_2022": sum(d["ballots_2022"] for d in done),
        "ballots_2022_target": sum(d["ballots_2022_target"] for d in done),
        "towns": done,
    }
    (out / "state.json").write_text(
        json.dumps(summary, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"make_state: voters={summary['voters']:,} votes={summary['votes']:,} "
        f"precincts={len(rows)} ballots_2022={summary['ballots_2022']:,}/"
        f"{summary['ballots_2022_target']:,} wall_s={time.perf_counter() - t0:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
