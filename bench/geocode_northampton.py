"""Bench: geocode a synthetic Northampton, MA voter file against real addresses.

Run from the repository root with the shared data next to it::

    .venv/bin/python bench/geocode_northampton.py [--seed 0] [--keep DIR]

1. builds a synthetic voter file in the Massachusetts layout (VOT + ANP/ACP) whose
   households sit at the 8,213 real voter addresses of Northampton
   (:mod:`northampton`), spelt the way a clerk's file does;
2. writes a MassGIS-like address-point CSV from the reference addresses, leaving out
   2.5 % of the houses so that interpolation along the OSM streets is exercised;
3. loads everything with canvass's own loaders (``canvass.load.load_voter_file``,
   ``canvass.load.read_precincts`` on the real 2012-2021 precinct polygons,
   ``canvass.network.read_walk_graph`` on the 2020 OSM walk network) and geocodes
   with ``canvass.geocode``;
4. checks the doors against the true locations and prints, last,
   ``geocode: matched=<pct> placed=<pct> precinct_agree=<pct> exact_point=<pct>``
   (matched = voters at an address point; placed = at any door; precinct_agree =
   geocoded precinct equals the file's; exact_point = voters whose address is in
   the layer placed at its own point), after the reasons (``geocode_detail``) for
   every voter in the layer who missed its point. Goals: 98 / 100 / 99 / 99.

Exit status 0 when the goals are met, 1 when not, 2 when the shared data is absent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

# Run as a script from a checkout: find canvass (repo root) and the bench helpers.
sys.path[:0] = [
    str(Path(__file__).resolve().parent),
    str(Path(__file__).resolve().parents[1]),
]

import northampton as noho  # noqa: E402

from canvass import geocode, load, network, schema  # noqa: E402
from canvass.config import PlanConfig  # noqa: E402
from canvass.demo import write_ma_voter_files  # noqa: E402
from canvass.geocode._interpolate import street_chains  # noqa: E402

GOALS = {"matched": 98.0, "placed": 100.0, "precinct_agree": 99.0, "exact_point": 99.0}


def run(seed: int, work: Path, drop_share: float) -> dict[str, float]:
    t0 = time.perf_counter()
    voters, history = noho.make_northampton_voters(seed)
    truth = voters["address_id"]
    canonical = voters.drop(columns=["address_id", "household", "voter_type"])
    files = write_ma_voter_files(
        canonical,
        history,
        work / "voters",
        town_id=noho.TOWN_ID,
        town_name=noho.TOWN_NAME,
    )
    layer, dropped = noho.write_address_layer(
        work / "address_points.csv", drop_share=drop_share, seed=seed
    )
    t_make = time.perf_counter() - t0
    print(
        f"synthetic file: {len(voters):,} voters, {len(history):,} history rows, "
        f"{truth.nunique():,} addresses; {len(dropped)} addresses left out of the "
        f"address layer ({t_make:.1f} s)"
    )

    config = PlanConfig.from_dict(
        {
            "inputs": {
                "voter_format": "ma",
                "voters": [str(files[0])],
                "history": [str(p) for p in files[1:]],
                "precincts": str(noho.PRECINCTS_GPKG),
                "precinct_layer": noho.PRECINCT_LAYER,
                "streets": str(noho.WALK_GRAPHML),
                "address_points": str(layer),
            }
        }
    )
    t1 = time.perf_counter()
    loaded = load.load_voter_file(config)
    precincts = load.read_precincts(
        config.resolve(config.inputs.precincts),
        config.precincts,
        layer=config.inputs.precinct_layer,
    )
    t_load = time.perf_counter() - t1
    print(
        f"loaded: {len(loaded.voters):,} voters, {len(loaded.rejects):,} rejects, "
        f"{len(precincts)} precincts ({t_load:.1f} s)"
    )
    t2 = time.perf_counter()
    G = network.read_walk_graph(
        config.resolve(config.inputs.streets), config.walk, crs=precincts.crs
    )
    points = geocode.read_address_points(
        config.resolve(config.inputs.address_points), precincts.crs
    )
    t_net = time.perf_counter() - t2
    t3 = time.perf_counter()
    result = geocode.geocode_voters(
        loaded.voters,
        precincts,
        streets=G,
        address_points=points,
        params=config.geocode,
    )
    t_geo = time.perf_counter() - t3
    rep = result.report
    print(f"network + address layer read in {t_net:.1f} s; geocoded in {t_geo:.1f} s")
    print(f"voters by method: {rep['voters_by_method']}")
    print(
        f"doors: {rep['doors']:,} by method {rep['doors_by_method']}; street names "
        f"corrected for {rep['voters_street_corrected']:,} voters "
        f"({len(rep['street_corrections'])} spellings); doors outside precincts: "
        f"{rep['doors_outside_precincts']['count']}"
    )
    dis = rep["precinct_disagreements"]
    print(
        f"precinct disagreements: {dis['voters']:,} voters at {dis['doors']:,} doors "
        f"{dis['by_precincts']}"
    )

    # Accuracy against the truth (the reference location of each voter's address).
    ref = noho.reference_addresses().set_index("id")
    ref.index = ref.index.astype("str")
    ref = ref.to_crs(precincts.crs)
    v = result.voters.join(truth.rename("address_id"))
    placed = v[v[schema.DOOR_ID] != ""]
    door_xy = result.doors.geometry.loc[placed[schema.DOOR_ID]].to_numpy()
    true_xy = ref.geometry.loc[placed["address_id"]].to_numpy()
    err = np.asarray(gpd.GeoSeries(door_xy).distance(gpd.GeoSeries(true_xy)))
    for method in ("address_point", "interpolated", "centroid"):
        sel = (placed[schema.GEOCODE_METHOD] == method).to_numpy()
        if sel.any():
            q = np.percentile(err[sel], [50, 90])
            print(
                f"  {method}: {sel.sum():,} voters, error median {q[0]:.0f} m, "
                f"90th pct {q[1]:.0f} m"
            )
    wrong_point = int(
        (
            (placed[schema.GEOCODE_METHOD] == "address_point").to_numpy() & (err > 1.0)
        ).sum()
    )
    print(f"  voters matched to a wrong address point: {wrong_point:,}")
    interp = (placed[schema.GEOCODE_METHOD] == "interpolated").to_numpy()
    if interp.any():
        same = _same_side(door_xy[interp], true_xy[interp], G, precincts.crs)
        print(f"  interpolated doors on the true side of their street: {same:.1f}%")
    # Exact-point share: voters whose address IS in the layer and were matched to
    # its own point; every other voter with the reason geocode_detail gives.
    in_layer = ~v["address_id"].astype("str").isin({str(d) for d in dropped})
    right = pd.Series(False, index=v.index)
    right.loc[placed.index] = (
        placed[schema.GEOCODE_METHOD] == "address_point"
    ).to_numpy() & (err <= 1.0)
    exact = 100.0 * float((right & in_layer).sum()) / max(int(in_layer.sum()), 1)
    print(
        f"  exact-point share (voters whose address is in the layer): {exact:.2f}% "
        f"of {int(in_layer.sum()):,}"
    )
    codes = v[schema.GEOCODE_DETAIL].str.extract(r"^(\w+)", expand=False)
    print(f"  voters by geocode_detail: {codes.value_counts().to_dict()}")
    miss = in_layer & ~right
    if miss.any():
        print("  reasons for misses (voters in the layer not at their point):")
        for code, n in codes[miss].value_counts().items():
            print(f"    {code}: {n:,}")
    clashes = rep.get("address_point_clashes", {})
    print(f"  address-point clashes: {clashes.get('addresses', 0)} addresses")
    n_v = len(v)
    by = rep["voters_by_method"]
    file_pid = v[schema.PRECINCT_ID]
    agree = (v[schema.GEOCODE_PRECINCT_ID] == file_pid).sum()
    return {
        "exact_point": exact,
        "matched": 100.0 * by["address_point"] / n_v,
        "placed": 100.0 * (n_v - by["none"]) / n_v,
        "precinct_agree": 100.0 * agree / n_v,
    }


def _same_side(doors: np.ndarray, truth: np.ndarray, G: object, crs: object) -> float:
    """Percent of doors on the same side of the nearest street line as the truth."""
    chains = street_chains(G, crs)  # type: ignore[arg-type]
    tree = shapely.STRtree(chains.geometry.to_numpy())
    nearest = tree.nearest(truth)
    lines = chains.geometry.to_numpy()[nearest]
    sides = []
    for pts in (doors, truth):
        m = shapely.line_locate_point(lines, pts)
        a = shapely.get_coordinates(shapely.line_interpolate_point(lines, m - 1.0))
        b = shapely.get_coordinates(shapely.line_interpolate_point(lines, m + 1.0))
        d = shapely.get_coordinates(pts) - a
        t = b - a
        sides.append(np.sign(t[:, 0] * d[:, 1] - t[:, 1] * d[:, 0]))
    return 100.0 * float(np.mean(sides[0] == sides[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument(
        "--drop-share",
        type=float,
        default=0.025,
        help="share of addresses left out of the address layer (default 0.025)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if why := noho.shared_data_missing():
        print(f"skipped: {why}")
        return 2
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        scores = run(args.seed, args.keep, args.drop_share)
    else:
        with tempfile.TemporaryDirectory(prefix="canvass-noho-") as tmp:
            scores = run(args.seed, Path(tmp), args.drop_share)
    ok = all(scores[k] >= goal for k, goal in GOALS.items())
    print(
        f"geocode: matched={scores['matched']:.2f} placed={scores['placed']:.2f} "
        f"precinct_agree={scores['precinct_agree']:.2f} "
        f"exact_point={scores['exact_point']:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
