"""Demo town generator: a synthetic town's streets, precincts, addresses and voter file.

``canvass demo`` calls :func:`make_demo_town`, which writes, deterministically from a
seed, every input a real run takes, in the real file formats, so that the demo goes
through the same loaders as a campaign's own files:

``streets.osm``
    OSM XML 0.6 of a made-up town of about 1.5 x 1.2 km in western Massachusetts
    (synthetic; the root ``generator`` attribute says so): a jittered grid of named
    residential streets, two tertiary streets, one primary road cutting diagonally
    through the town, T-junctions, dead ends and cul-de-sacs.
``precincts.geojson``
    Wards 1-2 x precincts A-B (EPSG:4326) with ``WARD``, ``PRECINCT``, ``WARDPREC`` and
    ``NAME``; the lines follow street centrelines (the primary road splits the wards).
``address_points.csv``
    The address-point layer, like MassGIS address points: one row per building door
    (a multi-unit building is one row with an empty ``unit``), street names in full
    mixed case; about 5 % of the occupied buildings are left out so that geocoding
    has to interpolate along the street.
``voters/999VOT_demo.txt``, ``voters/999ANP_demo.txt``, ``voters/999ACP_demo.txt``
    A Massachusetts voter file (town id 999, "DEMOVILLE") as of 30 June 2025, written by
    :func:`write_ma_voter_files`: made-up people in households of 1-5 voters at the
    addresses above (first names and surnames drawn with the US 1990 census frequencies,
    from a random stream of their own), clerk-style street names (:data:`CLERK_WORDS`),
    units in the apartment field, a party mix like the state's (about 58 % U, 30 % D, 9
    % R), about 8 % inactive, about 0.5 % filed under the wrong ward/precinct, and vote
    history for the 2014-2024 state primaries, state elections, presidential primaries
    and 2015-2023 city elections (see :mod:`canvass.demo._people` for the turnout
    model).
``do_not_knock.csv``
    About ten voter ids never to knock.
``canvass.toml``
    The demo run's configuration, with paths relative to the folder.

Nothing in the files depends on the clock: the same seed and voter count give
byte-identical files.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, Polygon, mapping

from .. import schema
from ..errors import ConfigError
from ._lots import Lot, build_lots
from ._ma_writer import write_ma_voter_files
from ._people import HouseholdAddress, make_population
from ._streets import build_town, osm_xml, to_lonlat, to_lonlat_array

__all__ = [
    "CLERK_WORDS",
    "DEMO_TOWN_ID",
    "DEMO_TOWN_NAME",
    "DEMO_ZIP",
    "DemoTown",
    "clerk_street_name",
    "make_demo_town",
    "write_ma_voter_files",
]

logger = logging.getLogger(__name__)

DEMO_TOWN_ID: Final = 999
DEMO_TOWN_NAME: Final = "DEMOVILLE"
DEMO_ZIP: Final = "01099"
GENERATOR: Final = "canvass demo town generator (synthetic town, not a real place)"

#: How a Massachusetts town clerk writes street names in the voter file: upper case,
#: USPS suffix abbreviations, a leading directional abbreviated. ``clerk_street_name``
#: applies it word by word; other words are only upper-cased.
CLERK_WORDS: Final[dict[str, str]] = {
    "Avenue": "AVE", "Circle": "CIR", "Court": "CT", "Drive": "DR", "Lane": "LN",
    "Place": "PL", "Road": "RD", "Square": "SQ", "Street": "ST", "Terrace": "TER",
    "Way": "WAY",
}  # fmt: skip
#: Every file the generator writes, relative to the output folder.
_WRITTEN: Final = (
    "streets.osm",
    "precincts.geojson",
    "address_points.csv",
    "do_not_knock.csv",
    "canvass.toml",
    f"voters/{DEMO_TOWN_ID}VOT_demo.txt",
    f"voters/{DEMO_TOWN_ID}ANP_demo.txt",
    f"voters/{DEMO_TOWN_ID}ACP_demo.txt",
)
_DIRECTIONALS: Final[dict[str, str]] = {
    "North": "N",
    "South": "S",
    "East": "E",
    "West": "W",
}


@dataclass(frozen=True)
class DemoTown:
    """
    The files of one generated demo town.

    Parameters
    ----------
    root
        The folder holding everything.
    config, streets, precincts, address_points, do_not_knock
        ``canvass.toml``, ``streets.osm``, ``precincts.geojson``,
        ``address_points.csv`` and ``do_not_knock.csv``.
    voters, history
        The VOT file, and the ANP and ACP history files.
    n_voters
        Voters in the voter file.
    n_addresses
        Residential buildings (doors) with at least one voter.
    """

    root: Path
    config: Path
    streets: Path
    precincts: Path
    address_points: Path
    voters: tuple[Path, ...]
    history: tuple[Path, ...]
    do_not_knock: Path
    n_voters: int
    n_addresses: int


def clerk_street_name(name: str) -> str:
    """
    Spell a full street name the way a Massachusetts clerk writes it.

    Parameters
    ----------
    name
        Full mixed-case name such as ``"North Main Street"``.

    Returns
    -------
    clerk_name
        For example ``"N MAIN ST"``; ``"West Farms Road"`` becomes ``"W FARMS RD"``.
    """
    words = name.split()
    out = [w.upper() for w in words]
    if len(words) > 2 and words[0] in _DIRECTIONALS:
        out[0] = _DIRECTIONALS[words[0]]
    if words[-1] in CLERK_WORDS:
        out[-1] = CLERK_WORDS[words[-1]]
    return " ".join(out)


def make_demo_town(
    out_dir: Path, *, seed: int = 7, n_voters: int = 5000, force: bool = False
) -> DemoTown:
    """
    Write the demo town's input files into `out_dir`.

    Parameters
    ----------
    out_dir
        Folder to write; created when missing.
    seed
        Random seed; the same seed and `n_voters` give byte-identical files.
    n_voters
        Number of synthetic voters (at least 50).
    force
        Write into a non-empty `out_dir`, replacing the demo files already there
        (other files in it are left alone).

    Returns
    -------
    town
        Paths of the files written and their counts.

    Raises
    ------
    ConfigError
        If `out_dir` is not empty and `force` is false, or `n_voters` is out of range.
    """
    root = Path(out_dir)
    if n_voters < 50:
        msg = f"--voters must be at least 50 for a demo town, got {n_voters}."
        raise ConfigError(msg)
    if root.exists() and not root.is_dir():
        msg = f"{root} is a file, not a folder; pick another --out folder."
        raise ConfigError(msg)
    if root.is_dir() and any(root.iterdir()) and not force:
        msg = (
            f"{root} is not empty; pick an empty --out folder or pass --force to "
            "replace its contents."
        )
        raise ConfigError(msg)

    town = build_town(seed)
    lots = build_lots(town, seed)
    rng = np.random.default_rng([seed, 303])
    n_households = _expected_households(n_voters)
    buildings = _occupy(lots, n_households, rng)
    precinct_of = _precinct_of(buildings, town.precincts)
    homes = [(bi, unit) for bi, b in enumerate(buildings) for unit in b.occupied]
    homes = [homes[int(i)] for i in rng.permutation(len(homes))]
    addresses = [
        HouseholdAddress(
            street_name=clerk_street_name(buildings[bi].lot.street),
            street_number=str(buildings[bi].lot.number),
            street_number_suffix=buildings[bi].lot.suffix,
            unit=unit,
            zip5=DEMO_ZIP,
            ward=precinct_of[bi][0],
            precinct=precinct_of[bi][1],
        )
        for bi, unit in homes
    ]
    voters, history = make_population(
        addresses, n_voters, rng, names_rng=np.random.default_rng([seed, 1990])
    )
    voters = _misfile_precincts(voters, rng)
    # clerks list voters street by street, house by house
    order_key = pd.DataFrame(
        {
            "street": voters[schema.STREET_NAME],
            "number": voters[schema.STREET_NUMBER].astype(int),
            "suffix": voters[schema.STREET_NUMBER_SUFFIX],
            "unit": voters[schema.UNIT],
            "last": voters[schema.LAST_NAME],
            "first": voters[schema.FIRST_NAME],
        }
    )
    voters = voters.iloc[
        np.lexsort([order_key[c].to_numpy() for c in reversed(order_key.columns)])
    ]
    used = {homes[int(h)][0] for h in voters["household"].unique()}
    occupied = [b for bi, b in enumerate(buildings) if bi in used]

    # everything is computed; only now touch the folder. --force replaces only what
    # the generator writes, a user's other files stay
    root.mkdir(parents=True, exist_ok=True)
    for name in _WRITTEN:
        (root / name).unlink(missing_ok=True)
    streets = root / "streets.osm"
    streets.write_text(osm_xml(town, generator=GENERATOR), encoding="utf-8")
    precincts = root / "precincts.geojson"
    precincts.write_text(_precincts_geojson(town.precincts), encoding="utf-8")
    address_points = root / "address_points.csv"
    _write_address_points(occupied, address_points, rng)
    files = write_ma_voter_files(
        voters, history, root / "voters", town_id=DEMO_TOWN_ID, town_name=DEMO_TOWN_NAME
    )
    dnk = root / "do_not_knock.csv"
    active = voters.index[voters[schema.STATUS] == schema.ACTIVE]
    picks = sorted(
        rng.choice(active.to_numpy(), size=min(10, len(active) // 20), replace=False)
    )
    dnk.write_text("voter_id\n" + "".join(f"{v}\n" for v in picks), encoding="utf-8")
    config = root / "canvass.toml"
    config.write_text(_config_toml(seed, files), encoding="utf-8")

    logger.info(
        "Demo town: %s voters in %s households at %s addresses, %s votes, %s streets",
        f"{len(voters):,}",
        f"{voters['household'].nunique():,}",
        f"{len(occupied):,}",
        f"{len(history):,}",
        f"{len(town.streets):,}",
    )
    return DemoTown(
        root=root,
        config=config,
        streets=streets,
        precincts=precincts,
        address_points=address_points,
        voters=files[:1],
        history=files[1:],
        do_not_knock=dnk,
        n_voters=len(voters),
        n_addresses=len(occupied),
    )


@dataclass(frozen=True)
class _Building:
    lot: Lot
    units: tuple[str, ...]  # ("",) for a one-family house
    occupied: tuple[str, ...]


def _expected_households(n_voters: int) -> int:
    # household sizes 1-5 average about 2.05 voters; leave room for the random draw
    return math.ceil(n_voters / 2.05 * 1.08) + 10


def _unit_labels(n: int, rng: np.random.Generator) -> tuple[str, ...]:
    """Realistic unit labels: floors for 2-3 units, numbers or floor+letter above."""
    if n == 1:
        return ("",)
    if n <= 3 or rng.random() < 0.5:
        return tuple(str(i) for i in range(1, n + 1))
    per_floor = 2 if n <= 8 else 3 if n <= 12 else 4
    return tuple(f"{1 + i // per_floor}{'ABCD'[i % per_floor]}" for i in range(n))


def _occupy(
    lots: list[Lot], n_households: int, rng: np.random.Generator
) -> list[_Building]:
    """Build houses, two-families, triple-deckers and apartments; fill enough units."""
    # shares as in an older New England town: mostly one-family houses, some
    # two-families and triple-deckers, a few small apartment buildings, larger ones
    # only on the main roads
    kinds = rng.random(len(lots))
    sizes = np.select(
        [kinds < 0.78, kinds < 0.90, kinds < 0.96],
        [1, 2, 3],
        default=rng.integers(4, 9, len(lots)),
    )
    main_road = np.array([lot.highway != "residential" for lot in lots])
    block = main_road & (rng.random(len(lots)) < 0.12)
    sizes = np.where(block, rng.integers(8, 25, len(lots)), sizes)
    # a bigger population densifies the town: the smallest buildings grow first
    steps = {1: 2, 2: 3, 3: 6, 6: 12}
    while sizes.sum() < n_households:
        growable = np.flatnonzero(np.isin(sizes, list(steps)))
        if growable.size == 0:
            most = int(sizes.sum() * 2.05 / 1.08) // 1000 * 1000
            msg = (
                f"the demo town has homes for about {most:,} voters at most; "
                "ask for fewer --voters."
            )
            raise ConfigError(msg)
        smallest = growable[sizes[growable] == sizes[growable].min()]
        pick = rng.choice(smallest, size=min(smallest.size, 50), replace=False)
        sizes[pick] = [steps[int(v)] for v in sizes[pick]]
    slots = [(li, u) for li, s in enumerate(sizes) for u in range(int(s))]
    take = rng.choice(len(slots), size=n_households, replace=False)
    filled: dict[int, set[int]] = {}
    for t in take:
        li, u = slots[int(t)]
        filled.setdefault(li, set()).add(u)
    out = []
    for li, lot in enumerate(lots):
        labels = _unit_labels(int(sizes[li]), rng)
        if li in filled:
            out.append(
                _Building(lot, labels, tuple(labels[u] for u in sorted(filled[li])))
            )
    return out


def _precinct_of(
    buildings: Sequence[_Building], precincts: dict[str, Polygon]
) -> list[tuple[str, str]]:
    codes = list(precincts)
    polys = [precincts[c] for c in codes]
    out = []
    for b in buildings:
        pt = Point(b.lot.x, b.lot.y)
        hits = [c for c, p in zip(codes, polys, strict=True) if p.contains(pt)]
        if len(hits) != 1:
            msg = (
                f"demo door at ({b.lot.x:.1f}, {b.lot.y:.1f}) in {len(hits)} precincts"
            )
            raise RuntimeError(msg)
        out.append((hits[0][0], hits[0][1]))
    return out


def _misfile_precincts(voters: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Give ~0.5 % of voters the ward/precinct of another precinct, as clerks do."""
    out = voters.copy()
    n = max(1, round(0.005 * len(out)))
    picks = np.sort(rng.choice(len(out), size=n, replace=False))
    codes = ["1A", "1B", "2A", "2B"]
    for i in picks:
        now = str(out.iloc[i][schema.PRECINCT_ID])
        new = str(rng.choice([c for c in codes if c != now]))
        row = out.index[i]
        out.loc[row, schema.WARD] = new[0]
        out.loc[row, schema.PRECINCT] = new[1]
        out.loc[row, schema.PRECINCT_ID] = new
    return out


def _round_coords(geom: dict[str, object]) -> dict[str, object]:
    def r(c: object) -> object:
        if isinstance(c, tuple | list) and c and isinstance(c[0], float):
            return [round(float(v), 7) for v in c]
        if isinstance(c, tuple | list):
            return [r(v) for v in c]
        return c

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def _precincts_geojson(precincts: dict[str, Polygon]) -> str:
    features = []
    for code, poly in precincts.items():
        lonlat = shapely.transform(poly, to_lonlat_array)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "WARD": code[0],
                    "PRECINCT": code[1],
                    "WARDPREC": code,
                    "NAME": f"Ward {code[0]} Precinct {code[1]}",
                },
                "geometry": _round_coords(mapping(lonlat)),
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "demoville_precincts",
        "crs": {
            "type": "name",
            "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"},
        },
        "features": features,
    }
    return json.dumps(doc, indent=1) + "\n"


def _write_address_points(
    buildings: list[_Building], path: Path, rng: np.random.Generator
) -> None:
    keep = rng.random(len(buildings)) >= 0.05
    rows = []
    for b, k in zip(buildings, keep, strict=True):
        if not k:
            continue
        lon, lat = to_lonlat(b.lot.x, b.lot.y)
        rows.append(f"{b.lot.label},{b.lot.street},,{DEMO_ZIP},{lat:.7f},{lon:.7f}\n")
    path.write_text(
        "street_number,street_name,unit,zip,lat,lon\n" + "".join(rows), encoding="utf-8"
    )


def _config_toml(seed: int, files: tuple[Path, ...]) -> str:
    vot, anp, acp = (f"voters/{p.name}" for p in files)
    return (
        "# Demo run over the synthetic town written by `canvass demo`.\n"
        'run_name = "demo"\n'
        f"seed = {seed}\n\n"
        "[inputs]\n"
        'voter_format = "ma"\n'
        f'voters = ["{vot}"]\n'
        f'history = ["{anp}", "{acp}"]\n'
        'precincts = "precincts.geojson"\n'
        'streets = "streets.osm"\n'
        'address_points = "address_points.csv"\n'
        'do_not_knock = "do_not_knock.csv"\n\n'
        "[target]\n"
        'election_type = "state_primary"\n'
        'universe = "primary_low_propensity"\n'
    )
