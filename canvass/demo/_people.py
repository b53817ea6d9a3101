"""Demo town population: households, voters and their vote history (private).

Used by :mod:`canvass.demo`. Builds the canonical ``voters`` and ``history`` tables of
:mod:`canvass.schema` for synthetic people (no real person: first names and surnames
drawn independently with the US 1990 census frequencies, see :mod:`._names`), living
in households at the addresses the caller gives.

Turnout is simulated election by election from latent structure, so that past
participation predicts future participation the way it does in real files:

- a latent voter *type* (habitual, midterm regular, drop-off, occasional, never),
  more habitual with age and partly shared within a household;
- a household component shared by housemates and an individual component;
- non-linear age effects (stronger in primaries), party effects by election type
  (unenrolled voters skip primaries), a habit term (having voted in the last
  election of the same kind) and a penalty for recent movers and inactive voters;
- an intercept per election calibrated so that the expected turnout among voters
  eligible then (registered 20 days before and 18 on election day) matches the
  Massachusetts-like level of :data:`ELECTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema
from ._names import census_names

__all__ = [
    "ELECTIONS",
    "EXTRACT_DATE",
    "Election",
    "HouseholdAddress",
    "make_population",
]

#: The day the synthetic voter file was "extracted": ages and statuses are as of it.
EXTRACT_DATE = pd.Timestamp("2025-06-30")
_REG_DEADLINE_DAYS = 20


@dataclass(frozen=True)
class Election:
    """One past election of the demo town and its target turnout."""

    date: str
    type: str
    turnout: float
    is_gubernatorial: bool = False

    @property
    def election_id(self) -> str:
        """Return the id used in the canonical history table."""
        return f"{self.date}_{self.type}"


_SP, _SE = schema.STATE_PRIMARY, schema.STATE_ELECTION
_PP, _PE, _MU = (
    schema.PRESIDENTIAL_PRIMARY,
    schema.PRESIDENTIAL_ELECTION,
    schema.MUNICIPAL,
)
#: Elections of the demo history with their turnout among eligible registered voters
#: (MA-like: state primaries 15-35 %, gubernatorial 50-65 %, presidential 70-80 %).
ELECTIONS: tuple[Election, ...] = (
    Election("2014-09-09", _SP, 0.20),
    Election("2014-11-04", _SE, 0.56, is_gubernatorial=True),
    Election("2015-11-03", _MU, 0.24),
    Election("2016-03-01", _PP, 0.44),
    Election("2016-09-08", _SP, 0.17),
    Election("2016-11-08", _PE, 0.76),
    Election("2017-11-07", _MU, 0.19),
    Election("2018-09-04", _SP, 0.26),
    Election("2018-11-06", _SE, 0.60, is_gubernatorial=True),
    Election("2019-11-05", _MU, 0.22),
    Election("2020-03-03", _PP, 0.38),
    Election("2020-09-01", _SP, 0.31),
    Election("2020-11-03", _PE, 0.77),
    Election("2021-11-02", _MU, 0.21),
    Election("2022-09-06", _SP, 0.23),
    Election("2022-11-08", _SE, 0.56, is_gubernatorial=True),
    Election("2023-11-07", _MU, 0.17),
    Election("2024-03-05", _PP, 0.25),
    Election("2024-09-03", _SP, 0.18),
    Election("2024-11-05", _PE, 0.74),
)

_TYPES = ("habitual", "midterm", "drop_off", "occasional", "never")
# relative log-odds by latent type (rows) and election type (columns)
_CLASSES = (_SP, _SE, _PP, _PE, _MU)
_TYPE_BASE = np.array(
    [
        [2.2, 3.2, 2.0, 3.6, 2.0],  # habitual
        [-0.3, 2.0, 0.0, 2.6, -0.4],  # midterm regular
        [-3.2, -2.2, -1.2, 2.2, -3.2],  # drop-off: presidential elections only
        [-1.6, -0.2, -0.9, 0.8, -1.7],  # occasional
        [-5.5, -4.5, -5.5, -3.6, -5.5],  # never
    ]
)
# latent type shares by age band (<30, 30-44, 45-64, 65+), columns as _TYPES
_TYPE_BY_AGE = np.array(
    [
        [0.06, 0.14, 0.34, 0.30, 0.16],
        [0.12, 0.22, 0.28, 0.26, 0.12],
        [0.22, 0.30, 0.20, 0.19, 0.09],
        [0.34, 0.32, 0.12, 0.14, 0.08],
    ]
)
# weight of the household component by latent type: it moves the in-between voters
_HH_WEIGHT = np.array([0.4, 0.8, 1.1, 1.3, 0.5])
_PARTIES = ("U", "D", "R", "L", "J", "G")
_PARTY_SHARE = np.array([0.58, 0.30, 0.09, 0.012, 0.01, 0.008])
# party effect by election type (columns as _CLASSES)
_PARTY_EFFECT = {
    "U": np.array([-0.7, -0.15, -0.4, -0.1, -0.2]),
    "D": np.array([0.6, 0.2, 0.5, 0.15, 0.25]),
    "R": np.array([0.1, 0.25, 0.3, 0.2, -0.1]),
}
_OTHER_PARTY_EFFECT = np.array([-0.9, 0.0, -0.6, 0.0, -0.3])


@dataclass(frozen=True)
class HouseholdAddress:
    """Where one household lives: the clerk-style street name, number and unit."""

    street_name: str
    street_number: str
    street_number_suffix: str
    unit: str
    zip5: str
    ward: str
    precinct: str


# Sizes of the built-in name lists the demo drew from before its names came from the
# census files (issue 21). The main stream still makes those draws (and drops them) so
# that every other draw of the demo (ages, parties, turnout, addresses) stays as it was.
_OLD_SURNAMES, _OLD_FIRST_F, _OLD_FIRST_M = 72, 34, 32


def _age_effect(age: np.ndarray, klass: int) -> np.ndarray:
    """Non-linear age effect in log-odds; primaries and city elections lean older."""
    young = np.clip((35.0 - age) / 17.0, 0.0, 1.0)  # 1 at 18, 0 from 35
    prime = np.exp(-(((age - 68.0) / 14.0) ** 2))  # peak in the late sixties
    frail = np.clip((age - 82.0) / 10.0, 0.0, 1.0)
    scale = 1.5 if _CLASSES[klass] in (_SP, _PP, _MU) else 1.0
    return scale * (-1.1 * young + 0.7 * prime - 1.2 * frail)


def _day(ts: pd.Timestamp) -> int:
    """Whole days since 1970-01-01."""
    return int((ts - pd.Timestamp("1970-01-01")).days)


def _plus_years(days: np.ndarray, years: int) -> np.ndarray:
    """Add calendar years to day numbers (29 February moves to 1 March)."""
    d = pd.DatetimeIndex(pd.to_datetime(days, unit="D"))
    leap = (d.month == 2) & (d.day == 29)
    later = pd.to_datetime(
        pd.DataFrame(
            {
                "year": d.year + years,
                "month": np.where(leap, 3, d.month),
                "day": np.where(leap, 1, d.day),
            }
        )
    )
    return np.asarray(_days_of(later), dtype=np.int64)


def _days_of(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    stamps = pd.DatetimeIndex(values)
    return np.asarray((stamps - pd.Timestamp("1970-01-01")).days, dtype=np.int64)


def _stamps(days: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(days, unit="D"))


def make_population(
    addresses: list[HouseholdAddress],
    n_voters: int,
    rng: np.random.Generator,
    *,
    names_rng: np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Make `n_voters` synthetic voters in households and their vote history.

    Parameters
    ----------
    addresses
        One address per household; at least as many as there will be households
        (households average about 2 voters).
    n_voters
        Exact number of voters.
    rng
        Random generator (seeded by the caller).
    names_rng
        Random generator of the first names and surnames alone (seeded by the caller),
        so that the names can change without moving any other draw; by default a
        child stream spawned from `rng` (which does not advance `rng`).

    Returns
    -------
    voters, history
        Canonical tables (see :mod:`canvass.schema`). `voters` also carries
        ``gender`` and ``household`` (the index into `addresses`); `history` also
        carries ``party_voted`` for primaries.
    """
    sizes: list[int] = []
    while sum(sizes) < n_voters:
        sizes.append(int(rng.choice(5, p=[0.33, 0.41, 0.15, 0.08, 0.03])) + 1)
    sizes[-1] -= sum(sizes) - n_voters
    n_hh = len(sizes)
    if n_hh > len(addresses):
        msg = f"{n_hh} households need homes but only {len(addresses)} were given"
        raise RuntimeError(msg)
    hh = np.repeat(np.arange(n_hh), sizes)
    member = np.concatenate([np.arange(s) for s in sizes])

    # household-level draws
    anchor_age = np.clip(rng.gamma(6.0, 8.5, n_hh) + 16.0, 19.0, 94.0)
    rng.integers(_OLD_SURNAMES, size=n_hh)  # kept for the stream; see _OLD_SURNAMES
    hh_party = rng.choice(len(_PARTIES), size=n_hh, p=_PARTY_SHARE)
    hh_z = rng.normal(0.0, 1.1, n_hh)
    years_here = rng.exponential(15.0, n_hh)
    anchor_female = rng.random(n_hh) < 0.54

    # members: partner / roommate / adult child
    a0 = anchor_age[hh]
    partner = rng.random(n_voters) < 0.72
    age = np.where(member == 0, a0, a0 + rng.normal(0.0, 4.0, n_voters))
    child = (member >= 2) & (a0 >= 42.0)
    child_age = rng.uniform(18.0, np.maximum(a0 - 20.0, 19.0).clip(max=36.0))
    age = np.where(child, child_age, age)
    age = np.clip(age, 18.05, 95.5)
    same_name = (
        (member == 0) | child | ((member == 1) & partner & (rng.random(n_voters) < 0.8))
    )
    rng.integers(_OLD_SURNAMES, size=n_voters)  # kept for the stream
    female = np.where(
        member == 0,
        anchor_female[hh],
        np.where(
            (member == 1) & partner,
            ~anchor_female[hh] ^ (rng.random(n_voters) < 0.08),
            rng.random(n_voters) < 0.52,
        ),
    )

    # dates as whole days since 1970-01-01 (int64), turned into Timestamps at the end
    extract = _day(EXTRACT_DATE)
    birth = extract - np.floor(age * 365.25).astype(np.int64)
    eighteen = _plus_years(birth, 18)
    moved_in = extract - np.floor(years_here[hh] * 365.25).astype(np.int64)
    reg = np.maximum(moved_in, eighteen) + rng.integers(0, 200, n_voters)
    # new registrants: registered after the last election in the history
    new_reg = rng.random(n_voters) < 0.03
    first_new = _day(pd.Timestamp(ELECTIONS[-1].date)) + 1
    late = rng.integers(first_new, extract, n_voters)
    reg = np.where(new_reg, np.maximum(late, eighteen), reg)
    reg = np.clip(reg, _day(pd.Timestamp("1968-01-02")), extract - 1)
    new_reg = reg >= first_new

    party_idx = np.where(
        rng.random(n_voters) < 0.55,
        hh_party[hh],
        rng.choice(len(_PARTIES), size=n_voters, p=_PARTY_SHARE),
    )
    party = np.array(_PARTIES)[party_idx]

    # latent type: more habitual with age, shared with the household's first member
    # half the time
    age_band = np.digitize(age, [30.0, 45.0, 65.0])
    u = rng.random(n_voters)
    own_type = (u[:, None] > np.cumsum(_TYPE_BY_AGE[age_band], axis=1)).sum(axis=1)
    own_type = np.minimum(own_type, len(_TYPES) - 1)
    anchor_type = own_type[np.searchsorted(hh, np.arange(n_hh))][hh]
    shared = (member > 0) & (rng.random(n_voters) < 0.6)
    vtype = np.where(shared, anchor_type, own_type)
    inactive = rng.random(n_voters) < np.where(age < 30, 0.12, 0.07)
    people = _People(
        hh=hh,
        hh_z=hh_z,
        vtype=vtype,
        party_idx=party_idx,
        birth=birth,
        eighteen=eighteen,
        reg=reg,
        inactive=inactive,
    )
    history = _simulate_history(people, party, rng)

    voter_ids = _voter_ids(reg, rng)
    history[schema.VOTER_ID] = voter_ids[history[schema.VOTER_ID].to_numpy()]
    rng.integers(_OLD_FIRST_F, size=(2, n_voters))  # kept for the stream
    rng.integers(_OLD_FIRST_M, size=(2, n_voters))
    surname, given, middle = _draw_names(
        hh, same_name, female, rng.spawn(1)[0] if names_rng is None else names_rng
    )
    middle = np.where(rng.random(n_voters) < 0.35, "", middle)
    junior = ~female & child & (rng.random(n_voters) < 0.25)
    addr = [addresses[int(h)] for h in hh]
    birth_ts = _stamps(birth)
    voters = pd.DataFrame(
        {
            schema.VOTER_ID: voter_ids,
            schema.LAST_NAME: surname,
            schema.FIRST_NAME: given,
            schema.MIDDLE_NAME: middle,
            schema.NAME_SUFFIX: np.where(junior, "JR", ""),
            schema.STREET_NUMBER: [a.street_number for a in addr],
            schema.STREET_NUMBER_SUFFIX: [a.street_number_suffix for a in addr],
            schema.STREET_NAME: [a.street_name for a in addr],
            schema.UNIT: [a.unit for a in addr],
            schema.CITY: "",
            schema.STATE: "MA",
            schema.ZIP5: [a.zip5 for a in addr],
            schema.PARTY: party,
            schema.STATUS: np.where(inactive, schema.INACTIVE, schema.ACTIVE),
            schema.BIRTH_DATE: birth_ts,
            schema.BIRTH_YEAR: np.asarray(birth_ts.year, dtype=np.int64),
            schema.REGISTRATION_DATE: _stamps(reg),
            schema.WARD: [a.ward for a in addr],
            schema.PRECINCT: [a.precinct for a in addr],
            "gender": np.where(female, "F", "M"),
            "household": hh,
            "voter_type": np.where(new_reg, "new_registrant", np.array(_TYPES)[vtype]),
        }
    )
    voters[schema.PRECINCT_ID] = voters[schema.WARD] + voters[schema.PRECINCT]
    _add_mailing(voters, rng)
    return voters.set_index(schema.VOTER_ID), history


def _draw_names(
    hh: np.ndarray, same_name: np.ndarray, female: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Draw surnames, first and middle names with the 1990 census frequencies.

    Parameters
    ----------
    hh
        Household index of each voter.
    same_name
        Voters who carry their household's surname (the first member, children,
        most partners); the others get a surname of their own.
    female
        Voters given female first and middle names (the others male ones).
    rng
        The names' own random generator.

    Returns
    -------
    surname, given, middle
        Upper-case names, one per voter (middle names before any blanking).
    """
    last = census_names("last")
    n = hh.size
    n_hh = int(hh.max()) + 1 if n else 0
    hh_surname = last.draw(rng, n_hh)
    surname = np.where(same_name, hh_surname[hh], last.draw(rng, n))
    first_f = census_names("female").draw(rng, (2, n))
    first_m = census_names("male").draw(rng, (2, n))
    given = np.where(female, first_f[0], first_m[0])
    middle = np.where(female, first_f[1], first_m[1])
    return surname, given, middle


@dataclass(frozen=True)
class _People:
    """Per-voter arrays the turnout simulation needs (dates as day numbers)."""

    hh: np.ndarray
    hh_z: np.ndarray
    vtype: np.ndarray
    party_idx: np.ndarray
    birth: np.ndarray
    eighteen: np.ndarray
    reg: np.ndarray
    inactive: np.ndarray


def _simulate_history(
    people: _People, party: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Simulate who voted in each election of :data:`ELECTIONS`, in date order."""
    n = people.hh.size
    ind_z = rng.normal(0.0, 0.6, n)
    ind_class = rng.normal(0.0, 0.45, (n, len(_CLASSES)))
    inactive_since = _day(pd.Timestamp("2020-01-01")) + rng.integers(0, 1800, n)
    party_eff = np.stack([_PARTY_EFFECT.get(p, _OTHER_PARTY_EFFECT) for p in _PARTIES])[
        people.party_idx
    ]
    hh_part = _HH_WEIGHT[people.vtype] * people.hh_z[people.hh]
    last_voted = np.zeros((n, len(_CLASSES)), dtype=bool)
    parts: list[pd.DataFrame] = []
    for election in ELECTIONS:
        stamp = pd.Timestamp(election.date)
        day = _day(stamp)
        k = _CLASSES.index(election.type)
        eligible = (people.reg <= day - _REG_DEADLINE_DAYS) & (people.eighteen <= day)
        lp = (
            _TYPE_BASE[people.vtype, k]
            + hh_part
            + ind_z
            + ind_class[:, k]
            + _age_effect((day - people.birth) / 365.25, k)
            + party_eff[:, k]
            + 0.7 * last_voted[:, k]
            - 0.8 * (day - people.reg < 400)  # recent movers
            - 2.0 * (people.inactive & (inactive_since <= day))
        )
        shift = _calibrate(lp[eligible], election.turnout)
        p = 1.0 / (1.0 + np.exp(-(lp + shift)))
        voted = eligible & (rng.random(n) < p)
        last_voted[eligible, k] = voted[eligible]
        idx = np.flatnonzero(voted)
        ballots = (
            _ballots(party[idx], election.type, rng)
            if election.type in (_SP, _PP)
            else np.full(idx.size, "", dtype=object)
        )
        parts.append(
            pd.DataFrame(
                {
                    schema.VOTER_ID: idx,
                    schema.ELECTION_ID: election.election_id,
                    schema.ELECTION_DATE: stamp,
                    schema.ELECTION_TYPE: election.type,
                    schema.PARTY_VOTED: ballots,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _add_mailing(voters: pd.DataFrame, rng: np.random.Generator) -> None:
    """Fill the mailing-address and district columns in place (a fresh frame)."""
    n = len(voters)
    po_box = rng.random(n) < 0.03
    boxes = rng.integers(1, 2000, n)
    voters["mail_street"] = np.where(po_box, [f"PO BOX {b}" for b in boxes], "")
    voters["mail_unit"] = ""
    voters["mail_city"] = np.where(po_box, "DEMOVILLE", "")
    voters["mail_state"] = np.where(po_box, "MA", "")
    voters["mail_zip"] = np.where(po_box, voters[schema.ZIP5], "")
    voters["congressional_district"] = "2"
    voters["senate_district"] = "HAMPSHIRE, FRANKLIN & WORCESTER"
    voters["house_district"] = "1ST HAMPSHIRE"


def _calibrate(lp: np.ndarray, target: float) -> float:
    """Return the shift `c` with mean(sigmoid(lp + c)) == target (bisection)."""
    if lp.size == 0:
        return 0.0
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(np.mean(1.0 / (1.0 + np.exp(-(lp + mid))))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _ballots(
    party: np.ndarray, election_type: str, rng: np.random.Generator
) -> np.ndarray:
    """Party ballot taken in a primary: own party, unenrolled mostly Democratic."""
    u = rng.random(party.size)
    u_rep = 0.33 if election_type == _PP else 0.18
    out = np.where(party == "R", "R", "D")
    out = np.where((party == "U") & (u < u_rep), "R", out)
    other = ~np.isin(party, ["D", "R", "U"])
    out = np.where(other & (u < 0.3), party, out)
    return np.where(other & (u >= 0.3) & (u < 0.5), "R", out)


def _voter_ids(reg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MA-style 12-character ids: registration year, 3 letters, 4 digits, "000"."""
    n = reg.size
    years = np.asarray(_stamps(reg).year) % 100
    letters = rng.integers(0, 26, size=(n, 3)) + ord("A")
    digits = rng.integers(0, 10_000, size=n)
    out = np.empty(n, dtype=object)
    seen: set[str] = set()
    for i in range(n):
        a, b, c = (chr(int(x)) for x in letters[i])
        vid = f"{years[i]:02d}{a}{b}{c}{digits[i]:04d}000"
        while vid in seen:  # 175 million combinations a year; clashes are rare
            vid = vid[:-3] + f"{int(rng.integers(1, 1000)):03d}"
        seen.add(vid)
        out[i] = vid
    return out
