"""Tiny synthetic voter files with real turnout structure, for the scoring tests.

A voter's turnout is driven by a latent habit (shared partly within a household),
election-type effects (drop-off voters vote only in presidential elections, many
unenrolled voters skip primaries) and age, so that past participation predicts
future participation the way it does in real files. No real person is involved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from canvass import schema

ELECTIONS = (
    ("2014-09-09", schema.STATE_PRIMARY, -1.2),
    ("2014-11-04", schema.STATE_ELECTION, 0.3),
    ("2016-03-01", schema.PRESIDENTIAL_PRIMARY, -0.3),
    ("2016-09-08", schema.STATE_PRIMARY, -1.5),
    ("2016-11-08", schema.PRESIDENTIAL_ELECTION, 1.3),
    ("2018-09-04", schema.STATE_PRIMARY, -1.0),
    ("2018-11-06", schema.STATE_ELECTION, 0.5),
    ("2020-03-03", schema.PRESIDENTIAL_PRIMARY, -0.4),
    ("2020-09-01", schema.STATE_PRIMARY, -0.8),
    ("2020-11-03", schema.PRESIDENTIAL_ELECTION, 1.4),
    ("2021-11-02", schema.MUNICIPAL, -1.3),
    ("2022-09-06", schema.STATE_PRIMARY, -1.1),
    ("2022-11-08", schema.STATE_ELECTION, 0.3),
    ("2024-03-05", schema.PRESIDENTIAL_PRIMARY, -0.9),
    ("2024-09-03", schema.STATE_PRIMARY, -1.4),
    ("2024-11-05", schema.PRESIDENTIAL_ELECTION, 1.2),
)


def election_id(date: str, etype: str) -> str:
    return f"{date}_{etype}"


def make_people(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return canonical ``voters`` and long ``history`` tables of `n` voters."""
    rng = np.random.default_rng(seed)
    household = np.sort(rng.integers(0, max(n // 2, 1), n))
    hh_effect = rng.normal(0, 0.8, n // 2 + 1)[household]
    habit = rng.normal(0, 1.2, n) + hh_effect
    drop_off = rng.random(n) < 0.15
    party = rng.choice(["D", "R", "U", "J"], n, p=[0.35, 0.1, 0.5, 0.05])
    birth_year = rng.integers(1935, 2008, n)
    months, days = rng.integers(1, 13, n), rng.integers(1, 29, n)
    birth = pd.DatetimeIndex(
        pd.to_datetime(pd.DataFrame({"year": birth_year, "month": months, "day": days}))
    )
    reg_year = np.maximum(birth_year + 18, rng.integers(1990, 2026, n))
    reg_year = np.where(rng.random(n) < 0.6, np.minimum(reg_year, 2012), reg_year)
    reg_month = rng.integers(1, 13, n)
    registration = pd.DatetimeIndex(
        pd.to_datetime(pd.DataFrame({"year": reg_year, "month": reg_month, "day": 15}))
    )
    status = np.where(rng.random(n) < 0.06, "I", "A")
    voter_id = np.array([f"V{i:05d}" for i in range(n)])
    chunks = []
    primaries = (schema.STATE_PRIMARY, schema.PRESIDENTIAL_PRIMARY)
    for date, etype, level in ELECTIONS:
        when = pd.Timestamp(date)
        age = np.asarray((when - birth).days) / 365.25
        eligible = np.asarray(registration <= when) & (age >= 18)
        lp = level + habit + 0.02 * (np.clip(age, 18, 80) - 45)
        if etype == schema.PRESIDENTIAL_ELECTION:
            lp = lp + 2.5 * drop_off
        else:
            lp = lp - 3.0 * drop_off
        if etype in primaries:
            lp = lp - 1.0 * (party == "U") - 0.8 * (party == "J")
        lp = lp - 1.5 * (status == "I")
        p = 1 / (1 + np.exp(-lp))
        idx = np.flatnonzero(eligible & (rng.random(n) < p))
        ballot = np.full(len(idx), "", dtype=object)
        if etype in primaries:
            own = party[idx]
            pick = rng.choice(["D", "R"], len(idx))
            ballot = np.where(np.isin(own, ["D", "R"]), own, pick)
        chunks.append(
            pd.DataFrame(
                {
                    schema.VOTER_ID: voter_id[idx],
                    schema.ELECTION_ID: election_id(date, etype),
                    schema.ELECTION_DATE: when,
                    schema.ELECTION_TYPE: etype,
                    schema.PARTY_VOTED: ballot,
                }
            )
        )
    voters = pd.DataFrame(
        {
            schema.LAST_NAME: "DOE",
            schema.FIRST_NAME: "PAT",
            schema.MIDDLE_NAME: "",
            schema.NAME_SUFFIX: "",
            schema.STREET_NUMBER: (household + 1).astype(str),
            schema.STREET_NUMBER_SUFFIX: "",
            schema.STREET_NAME: np.where(household % 2 == 0, "MAIN ST", "ELM ST"),
            schema.UNIT: "",
            schema.CITY: "TOWN",
            schema.STATE: "MA",
            schema.ZIP5: "01060",
            schema.PARTY: party,
            schema.STATUS: status,
            schema.BIRTH_DATE: birth,
            schema.BIRTH_YEAR: birth_year,
            schema.REGISTRATION_DATE: registration,
            schema.WARD: "1",
            schema.PRECINCT: np.where(household % 3 == 0, "A", "B"),
            schema.PRECINCT_ID: np.where(household % 3 == 0, "1A", "1B"),
            schema.DOOR_ID: [f"D{h:05d}" for h in household],
        },
        index=pd.Index(voter_id, name=schema.VOTER_ID),
    )
    history = pd.concat(chunks, ignore_index=True)
    return voters, history
