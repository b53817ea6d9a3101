"""Synthetic Northampton, MA voter file at the city's 8,213 real voter addresses.

Reused by the benches (``geocode_northampton.py``, the scoring calibration): every
function is deterministic for a given seed. Nothing here is real personal data: the
people are made by canvass's demo population model (:mod:`canvass.demo._people`);
only the addresses and the number of registered voters at each
(``northampton_voter_address_counts_2026``) and precinct-level 2018 ballots are real.

- :func:`reference_addresses` reads the real addresses with their 2012-2021 precinct.
- :func:`make_northampton_voters` puts ``people_count`` synthetic voters at each
  address, spelling the address the way a clerk's file does (upper case, abbreviated
  suffixes, apartment numbers in several styles, a few typos and ``12A``-style
  number suffixes), with ward/precinct from the reference. The 2018 state election
  history is resampled so that the turnout in each precinct (among voters eligible
  then) equals the real 2018 ballots cast divided by the registered-voter proxy
  (``voters_per_precinct_2012_2021_lines.csv``).
- :func:`write_address_layer` writes a MassGIS-like address-point CSV from the
  reference (full mixed-case street names), leaving out a few % of the addresses so
  that geocoding has to interpolate.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from canvass import schema
from canvass.demo._people import HouseholdAddress, make_population

__all__ = [
    "clerk_spelling",
    "full_street_name",
    "make_northampton_voters",
    "real_2018_turnout",
    "reference_addresses",
    "shared_data_missing",
    "write_address_layer",
]

SHARED: Final = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NOHO: Final = SHARED / "northampton_city_gis"
ADDRESSES_GPKG: Final = NOHO / "northampton_voter_address_counts_2026.gpkg"
PRECINCTS_GPKG: Final = NOHO / "northampton_precincts.gpkg"
PRECINCT_LAYER: Final = "precincts_2012_2021"
REGISTERED_CSV: Final = NOHO / "voters_per_precinct_2012_2021_lines.csv"
WALK_GRAPHML: Final = (
    SHARED / "osm_northampton_walk_2020" / "northampton_walk_2020.graphml"
)
BALLOTS_2018: Final = (
    SHARED / "medsl_2018_ma_general" / "hampshire_2018_governor_ballots_by_precinct.csv"
)
TOWN_ID: Final = 214
TOWN_NAME: Final = "NORTHAMPTON"
SE_2018: Final = "2018-11-06_state_election"

#: Clerk abbreviation -> full word as the address layer writes it (MassGIS-like).
_FULL_WORDS: Final = {
    "ST": "Street", "RD": "Road", "AVE": "Avenue", "DR": "Drive", "LN": "Lane",
    "TER": "Terrace", "CIR": "Circle", "PL": "Place", "CT": "Court", "HTS": "Heights",
    "KNLS": "Knolls", "GRN": "Green", "EXT": "Extension", "SQ": "Square",
    "RDG": "Ridge", "TRL": "Trail", "PKWY": "Parkway", "HWY": "Highway",
    "BLVD": "Boulevard", "HL": "Hill",
}  # fmt: skip
#: Full word -> how the clerk abbreviates it (some are left in full, as clerks do).
_CLERK_WORDS: Final = {
    "Street": "ST", "Road": "RD", "Avenue": "AVE", "Drive": "DR", "Lane": "LN",
    "Terrace": "TER", "Circle": "CIR", "Place": "PL", "Court": "CT",
    "Heights": "HGTS", "Extension": "EXT", "Square": "SQ", "Parkway": "PKWY",
    "Highway": "HWY", "Boulevard": "BLVD",
}  # fmt: skip
_DIRS: Final = {"North": "N", "South": "S", "East": "E", "West": "W"}


def reference_addresses() -> gpd.GeoDataFrame:
    """
    Read the real voter addresses of Northampton with their 2012-2021 precinct.

    Returns
    -------
    addresses
        ``id``, ``street_number``, ``street_name``, ``zip_code``, ``people_count``,
        ``precinct_2012_2021`` and Point geometry (EPSG:4326), addresses with at
        least one voter only, sorted by ``id``.
    """
    ref = gpd.read_file(ADDRESSES_GPKG)
    ref = ref[ref["people_count"] > 0].sort_values("id").reset_index(drop=True)
    ref["street_number"] = (
        ref["street_number"]
        .astype("str")
        .where(ref["street_number"].str.match(r"^\d"), "")
    )
    ref["street_number"] = (
        ref["street_number"].str.extract(r"^(\d+)", expand=False).fillna("")
    )
    return ref


def full_street_name(clerk: str) -> str:
    """Spell a reference (clerk-style) street name in full: ``Main Street``."""
    words = clerk.split()
    out = []
    for i, w in enumerate(words):
        if i == 0 and w == "MT" and len(words) > 1:
            out.append("Mount")
        elif i > 0 and w in _FULL_WORDS:
            out.append(_FULL_WORDS[w])
        else:
            out.append(w.title() if len(w) > 1 else w)
    return " ".join(out)


def _typo(name: str, rng: np.random.Generator) -> str:
    """A cheap keying error in the name part: swapped or dropped letter."""
    words = name.split()
    i = int(np.argmax([len(w) for w in words]))
    w = words[i]
    if len(w) < 6:
        return name
    j = int(rng.integers(1, len(w) - 2))
    swap = rng.random() < 0.5
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if swap else w[:j] + w[j + 1 :]
    return " ".join(words)


def clerk_spelling(full: str, rng: np.random.Generator, *, variant_rate: float) -> str:
    """
    Spell a full street name as a clerk types it, with occasional variants.

    Parameters
    ----------
    full
        ``"North Farms Road"``.
    rng
        Random generator.
    variant_rate
        Probability of a variant: suffix in full, directional in full, a period, a
        missing suffix or a typo.

    Returns
    -------
    clerk
        ``"N FARMS RD"``, sometimes ``"NORTH FARMS ROAD"``, ``"N. FARMS RD"``,
        ``"N FARMS"`` or ``"N FRAMS RD"``.
    """
    words = full.split()
    out = [w.upper() for w in words]
    if len(words) > 2 and words[0] in _DIRS:
        out[0] = _DIRS[words[0]]
    last = len(words) - 1
    if words[-1] in ("Extension",) and last >= 1 and words[last - 1] in _CLERK_WORDS:
        out[last - 1] = _CLERK_WORDS[words[last - 1]]
    if words[-1] in _CLERK_WORDS:
        out[-1] = _CLERK_WORDS[words[-1]]
    clerk = " ".join(out)
    if rng.random() >= variant_rate:
        return clerk
    kind = int(rng.integers(5))
    if kind == 0:
        return full.upper()
    if kind == 1 and len(out) > 2 and len(out[0]) == 1:
        return out[0] + ". " + " ".join(out[1:])
    if kind == 2 and len(out) > 2 and words[-1] in _CLERK_WORDS:
        return " ".join(out[:-1])
    return _typo(clerk, rng)


def _unit_label(k: int, n_units: int, style: int) -> str:
    label = str(k + 1) if n_units < 10 else f"{(k // 8) + 1}{(k % 8) + 1:02d}"
    return (label, f"APT {label}", f"#{label}", f"UNIT {label}")[style]


def make_northampton_voters(
    seed: int = 0, *, variant_rate: float = 0.03
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Make a synthetic Northampton voter file at the real voter addresses.

    Parameters
    ----------
    seed
        Seed of every random draw; same seed, same tables.
    variant_rate
        Share of voters whose street is spelt with a variant or typo (see
        :func:`clerk_spelling`).

    Returns
    -------
    voters, history
        Canonical tables (:mod:`canvass.schema`); `voters` also has ``gender``,
        ``household``, ``voter_type`` and ``address_id`` (the reference ``id``,
        for checking the geocoder; not a voter-file column).
    """
    rng = np.random.default_rng(seed)
    ref = reference_addresses()
    n = int(ref["people_count"].sum())
    # The model's own addresses are replaced below; any placeholder will do.
    blank = {f.name: "" for f in dataclasses.fields(HouseholdAddress)}
    dummy = [HouseholdAddress(**blank)] * n
    voters, history = make_population(dummy, n, rng)

    # Voter slots: people_count per address, addresses in a shuffled order so that a
    # household (consecutive voters) mostly lands at one address.
    order = rng.permutation(len(ref))
    counts = ref["people_count"].to_numpy()[order]
    slot_addr = np.repeat(order, counts)
    slot_rank = np.concatenate([np.arange(c) for c in counts])
    a = ref.iloc[slot_addr].reset_index(drop=True)
    pc = a["people_count"].to_numpy()
    n_units = np.where(pc >= 4, np.maximum(2, np.ceil(pc / 2)), 1).astype(int)
    unit_style = rng.integers(4, size=len(ref))[slot_addr]
    units = [
        _unit_label(int(r // 2), int(u), int(s)) if u > 1 else ""
        for r, u, s in zip(slot_rank, n_units, unit_style, strict=True)
    ]
    full = {s: full_street_name(s) for s in ref["street_name"].unique()}
    streets = [
        clerk_spelling(full[s], rng, variant_rate=variant_rate)
        for s in a["street_name"]
    ]
    number = a["street_number"].to_numpy().astype(object)
    suffix = np.where(
        (pc[:] <= 2) & (rng.random(len(a)) < 0.003) & (number != ""), "A", ""
    )
    ward = a["precinct_2012_2021"].str[:-1].to_numpy()
    precinct = a["precinct_2012_2021"].str[-1:].to_numpy()
    v = voters.copy()
    v[schema.STREET_NUMBER] = number
    v[schema.STREET_NUMBER_SUFFIX] = suffix
    v[schema.STREET_NAME] = streets
    v[schema.UNIT] = units
    v[schema.ZIP5] = a["zip_code"].to_numpy()
    v[schema.CITY] = TOWN_NAME
    v[schema.WARD] = ward
    v[schema.PRECINCT] = precinct
    v[schema.PRECINCT_ID] = a["precinct_2012_2021"].to_numpy()
    v["address_id"] = a["id"].astype("str").to_numpy()
    return v, _calibrate_2018(v, history, rng)


def real_2018_turnout() -> pd.DataFrame:
    """
    Real 2018 state-election ballots per Northampton precinct and the turnout proxy.

    Returns
    -------
    table
        Index ``precinct_id`` (``"1A"``); ``ballots_cast`` (MEDSL),
        ``registered_proxy`` (2026 list on the 2012-2021 lines) and ``turnout``.
    """
    ballots = pd.read_csv(BALLOTS_2018, dtype={"precinct": "str"})
    ballots = ballots[ballots["town"] == TOWN_NAME]
    ballots["precinct_id"] = ballots["precinct"].str.replace("-", "", regex=False)
    reg = pd.read_csv(REGISTERED_CSV, dtype={"precinct_2012_2021": "str"})
    out = ballots.set_index("precinct_id")[["ballots_cast"]].join(
        reg.set_index("precinct_2012_2021")["registered_voters_2026"].rename(
            "registered_proxy"
        )
    )
    out["turnout"] = out["ballots_cast"] / out["registered_proxy"]
    out.index.name = schema.PRECINCT_ID
    return out


def _calibrate_2018(
    voters: pd.DataFrame, history: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Resample the 2018 state election so each precinct's turnout is the real one."""
    real = real_2018_turnout()
    day = pd.Timestamp("2018-11-06")
    eligible = (voters[schema.REGISTRATION_DATE] <= day - pd.Timedelta(days=20)) & (
        voters[schema.BIRTH_DATE] + pd.DateOffset(years=18) <= day
    )
    se = history[schema.ELECTION_ID] == SE_2018
    voted = voters.index.isin(history.loc[se, schema.VOTER_ID])
    others = history.loc[~se].groupby(schema.VOTER_ID).size()
    habit = others.reindex(voters.index).fillna(0).to_numpy() + rng.random(len(voters))
    keep = np.zeros(len(voters), dtype=bool)
    pids = voters[schema.PRECINCT_ID].to_numpy()
    for pid, row in real.iterrows():
        idx = np.flatnonzero((pids == pid) & eligible.to_numpy())
        target = min(len(idx), round(float(row["turnout"]) * len(idx)))
        # most habitual voters first; voters who did vote keep a head start
        score = habit[idx] + 3.0 * voted[idx]
        keep[idx[np.argsort(-score, kind="stable")[:target]]] = True
    template = history.loc[se].iloc[:1]
    rows = pd.DataFrame(
        {
            schema.VOTER_ID: voters.index[keep],
            schema.ELECTION_ID: SE_2018,
            schema.ELECTION_DATE: day,
            schema.ELECTION_TYPE: schema.STATE_ELECTION,
            schema.PARTY_VOTED: "",
        }
    ).astype(template.dtypes.to_dict())
    out = pd.concat([history.loc[~se], rows], ignore_index=True)
    return out.sort_values(
        [schema.ELECTION_DATE, schema.VOTER_ID], kind="stable"
    ).reset_index(drop=True)


def write_address_layer(
    out: Path, *, drop_share: float = 0.025, seed: int = 0
) -> tuple[Path, set[str]]:
    """
    Write a MassGIS-like address-point CSV from the reference addresses.

    Parameters
    ----------
    out
        CSV file to write (columns ``ADDRESS_NUMBER``, ``FULL_STREET_NAME``,
        ``POSTCODE``, ``LATITUDE``, ``LONGITUDE``).
    drop_share
        Share of the addresses (single-voter houses only) left out, so that
        geocoding must interpolate them.
    seed
        Seed of the choice of addresses left out.

    Returns
    -------
    path, dropped
        The file and the reference ids left out.
    """
    rng = np.random.default_rng(seed + 1)
    ref = reference_addresses()
    single = np.flatnonzero((ref["people_count"] == 1) & (ref["street_number"] != ""))
    n_drop = min(len(single), math.ceil(drop_share * len(ref)))
    dropped = ref.iloc[rng.choice(single, size=n_drop, replace=False)]
    layer = ref.drop(index=dropped.index)
    frame = pd.DataFrame(
        {
            "ADDRESS_NUMBER": layer["street_number"],
            "FULL_STREET_NAME": layer["street_name"].map(full_street_name),
            "POSTCODE": layer["zip_code"],
            "LATITUDE": layer.geometry.y.round(7),
            "LONGITUDE": layer.geometry.x.round(7),
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return out, set(dropped["id"].astype("str"))


def shared_data_missing() -> str:
    """Return why the Northampton data cannot be used, or ``""`` when it can."""
    for path in (
        ADDRESSES_GPKG,
        PRECINCTS_GPKG,
        WALK_GRAPHML,
        BALLOTS_2018,
        REGISTERED_CSV,
    ):
        if not path.is_file():
            return f"{path} not found (the shared data folder ../shared/data is needed)"
    return ""
