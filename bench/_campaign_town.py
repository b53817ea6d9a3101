"""The campaign bench's town and field: real doors, synthetic people, who is home.

Used by bench/campaign.py (its docstring gives every assumption). The planners never
import this module's draws: :class:`Field` decides who is home at each knock and
keeps that to itself; the planners see only the results it records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from canvass import schema, target  # noqa: E402
from canvass.config import PlanConfig  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
GRAPH = DATA / "osm_northampton_walk_2020" / "northampton_walk_2020.graphml"
ADDRESSES = DATA / "northampton_city_gis" / "northampton_voter_address_counts_2026.gpkg"
CRS = "EPSG:26986"
SHIFT_S, SPEED = 7200, 1.2
NOT_HOME_S, TALK_S = 60, 150
TRANSFER_S = 300  # from the end of one list to the start of the next: a short drive
#: Effect of speaking again with a voter already contacted, as a share of a first
#: contact: about 1.2 points for a reminder against 7 for a first contact (DOMAIN 5b).
REMINDER = 1.2 / 7
ETYPE = "state_primary"
P_COL = f"p_{ETYPE}"
UNIVERSE_MAX_P = 0.45
HOME_BETA = (0.75, 2.25)  # mean 0.25
SLOT_SHARE = 0.5  # share of a household's home chance particular to the slot
SHIFTS = (("weekday_evening", 2, 18), ("weekend_day", 5, 10))  # slot, weekday, hour
START = dt.date(2026, 9, 7)  # a Monday
MAX_DRAWS = 16  # knocks per household and slot with their own random draws


# --- the town: real doors, synthetic people ----------------------------------------


def load_doors(precincts: list[str]) -> gpd.GeoDataFrame:
    """Real voter addresses of `precincts`, in the local metric CRS."""
    ref = gpd.read_file(ADDRESSES)
    ref = ref[(ref["people_count"] > 0) & ref["precinct_2012_2021"].isin(precincts)]
    ref = ref.sort_values("id").reset_index(drop=True).to_crs(CRS)
    n = ref["people_count"].clip(upper=8).astype(int).to_numpy()
    number = ref["street_number"].fillna("").astype(str)
    return gpd.GeoDataFrame(
        {
            schema.DOOR_ID: ref["id"].astype(str).to_numpy(),
            schema.ADDRESS: (number + " " + ref["street_name"]).to_numpy(),
            schema.STREET_NAME: ref["street_name"].to_numpy(),
            schema.STREET_NUMBER: number.to_numpy(),
            schema.PRECINCT_ID: ref["precinct_2012_2021"].to_numpy(),
            schema.N_VOTERS: n,
            schema.N_TARGETS: 0,
            schema.VALUE: 0.0,
        },
        geometry=ref.geometry.to_numpy(),
        crs=CRS,
    ).set_index(schema.DOOR_ID)


def make_people(
    doors: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Voters and households at the doors.

    Returns
    -------
    voters
        Index ``voter_id``; ``door_id``, ``household``, P(vote), ``is_target``.
    households
        Index ``household``; ``door_id``, ``home_base`` (hidden from planners:
        only the simulator reads it).
    """
    rows_v: list[tuple[str, str, int, float]] = []
    rows_h: list[tuple[int, str, float]] = []
    h = 0
    for door, n in zip(doors.index, doors[schema.N_VOTERS], strict=True):
        left = int(n)
        while left > 0:
            size = int(min(left, rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2])))
            base = rng.beta(1.5, 3.0)
            rows_h.append((h, str(door), float(rng.beta(*HOME_BETA))))
            for _ in range(size):
                p = float(np.clip(base + rng.normal(0, 0.08), 0.01, 0.99))
                rows_v.append((f"V{len(rows_v):06d}", str(door), h, p))
            left -= size
            h += 1
    voters = pd.DataFrame(
        rows_v, columns=["voter_id", schema.DOOR_ID, "household", P_COL]
    )
    voters = voters.set_index("voter_id")
    voters[schema.IS_TARGET] = voters[P_COL] < UNIVERSE_MAX_P
    households = pd.DataFrame(
        rows_h, columns=["household", schema.DOOR_ID, "home_base"]
    )
    return voters, households.set_index("household")


def walk_matrix(G: Any, doors: gpd.GeoDataFrame) -> np.ndarray:
    """Walking seconds between doors: shortest paths on the walk graph + the way in."""
    nodes = list(G.nodes)
    ix = {n: i for i, n in enumerate(nodes)}
    xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes])
    u, v, w = [], [], []
    for a, b, d in G.edges(data=True):
        u.append(ix[a])
        v.append(ix[b])
        w.append(float(d.get("length", 0.0)))
    graph = csr_matrix((w, (u, v)), shape=(len(nodes), len(nodes)))
    pts = np.column_stack([doors.geometry.x, doors.geometry.y])
    dist, near = cKDTree(xy).query(pts)
    src, inv = np.unique(near, return_inverse=True)
    sp = dijkstra(graph, directed=True, indices=src)[:, src]
    sp = np.where(np.isfinite(sp), sp, 1.3 * 5000.0)
    metres = sp[inv][:, inv] + dist[:, None] + dist[None, :]
    np.fill_diagonal(metres, 0.0)
    return np.asarray(metres / SPEED, dtype=np.float32)


# --- the field: who is home (hidden from every planner) ---------------------------


class Field:
    """The doors as they answer: draws who is home at each knock, records results."""

    #: share of answered knocks that end "come back" (and as many "refused")
    NO_CONTACT_SHARE = 0.1

    def __init__(
        self, voters: pd.DataFrame, households: pd.DataFrame, seed: int
    ) -> None:
        self._rng = np.random.default_rng(seed + 1000)
        base = households["home_base"].to_numpy()
        slot = self._rng.beta(*HOME_BETA, size=(len(base), len(SHIFTS)))
        self._home = (1 - SLOT_SHARE) * base[:, None] + SLOT_SHARE * slot
        # Common random numbers: the j-th knock at a household in a slot draws the
        # same uniforms whichever plan sent the volunteer, so the three plans face
        # the same doors answering (the same probabilities, far less noise between
        # plans than one stream of draws consumed in each plan's own order).
        self._u_home = self._rng.random((len(base), len(SHIFTS), MAX_DRAWS))
        self._u_said = self._rng.random((len(base), len(SHIFTS), MAX_DRAWS))
        self._tries = np.zeros((len(base), len(SHIFTS)), dtype=np.int64)
        self._slot_ix = {s: i for i, (s, _, _) in enumerate(SHIFTS)}
        self.voters = voters
        self._by_door = {
            str(d): g.index.to_numpy()
            for d, g in voters[voters[schema.IS_TARGET]].groupby(schema.DOOR_ID)
        }
        self._hh = voters["household"].to_dict()
        self.effect = target.lift_curve(
            voters[P_COL].to_numpy(dtype=float),
            dataclasses.replace(
                PlanConfig(),
                lift=dataclasses.replace(PlanConfig().lift, contact_rate=1.0),
            ),
        )
        self._effect = dict(zip(voters.index, self.effect, strict=True))
        self.done: set[str] = set()
        self.refused: set[str] = set()
        self.reminders = 0
        self.votes = 0.0
        self.contacts = 0
        self.knocks = 0

    def worth(self, door: str) -> float:
        """Expected votes of a knock at `door` now, mean over the slots (diagnostic)."""
        out = 0.0
        for v in self._by_door.get(door, ()):
            if v not in self.done:
                p_home = float(self._home[self._hh[v]].mean())
                out += p_home * (1 - 2 * self.NO_CONTACT_SHARE) * self._effect[v]
        return out

    def true_contact(self, slot: str) -> pd.Series:
        """
        Each target's true chance of a contact at a knock in `slot`.

        For the upper bound only (``--oracle``, a planner that knows every door's
        value exactly): no planner of the comparison calls this.
        """
        s = self._slot_ix[slot]
        hh = self.voters["household"].to_numpy()
        p = self._home[hh, s] * (1 - 2 * self.NO_CONTACT_SHARE)
        done = self.voters.index.isin(list(self.done))
        return pd.Series(np.where(done, 0.0, p), index=self.voters.index)

    def door_done(self, door: str) -> bool:
        """Whether every target at the door is done (what a walk list shows)."""
        return all(v in self.done for v in self._by_door.get(door, ()))

    def knock(
        self, door: str, slot: str, stamp: str
    ) -> tuple[list[dict[str, str]], int]:
        """
        Knock once: the result rows recorded and the seconds spent.

        Everyone on the list at the door is asked for: a voter already contacted and
        spoken to again banks only a reminder's effect (REMINDER of a first
        contact); one who refused stays refused.
        """
        todo = list(self._by_door.get(door, ()))
        self.knocks += 1
        rows: list[dict[str, str]] = []
        outcome: dict[int, str] = {}
        talked = False
        for v in todo:
            hh = self._hh[v]
            if hh not in outcome:
                s = self._slot_ix[slot]
                j = min(int(self._tries[hh, s]), MAX_DRAWS - 1)
                self._tries[hh, s] += 1
                home = self._u_home[hh, s, j] < self._home[hh, s]
                if not home:
                    outcome[hh] = "NOT_HOME"
                else:
                    talked = True
                    r = self._u_said[hh, s, j]
                    cut = self.NO_CONTACT_SHARE
                    outcome[hh] = (
                        "COME_BACK"
                        if r < cut
                        else "REFUSED"
                        if r < 2 * cut
                        else "CONTACTED"
                    )
            res = outcome[hh]
            if v in self.refused and res != "NOT_HOME":
                res = "REFUSED"
            elif v in self.done and res != "NOT_HOME":
                self.votes += REMINDER * self._effect[v]  # spoken to again
                self.reminders += 1
                res = "CONTACTED"
            elif res == "CONTACTED":
                self.votes += self._effect[v]
                self.contacts += 1
            if res in ("CONTACTED", "REFUSED"):
                self.done.add(v)
            if res == "REFUSED":
                self.refused.add(v)
            rows.append(
                {"voter_id": v, "door_id": door, "result": res, "contacted_at": stamp}
            )
        return rows, (TALK_S if talked else NOT_HOME_S)


# --- a bound without walking (diagnostic) -----------------------------------------


def knock_bound(
    voters: pd.DataFrame,
    households: pd.DataFrame,
    seed: int,
    knocks_per_shift: int,
    slots: list[str],
    policy: str,
) -> float:
    """
    Votes of a campaign of `knocks_per_shift` knocks a shift, with no walking.

    ``static``: the target doors lowest mean propensity first, over and over;
    ``effect``: each shift the doors whose people still to reach have the most
    effect (a planner that knows the effects, as canvass does, but not who is home);
    ``known``: each shift the doors whose next knock is worth most, every
    household's chance of being home known (the simulator's). Walking is free, so
    the choice of doors is all that differs: a bound for any plan that knocks as
    often as static does.
    """
    field = Field(voters, households, seed)
    tv = voters[voters[schema.IS_TARGET]]
    doors = sorted(tv[schema.DOOR_ID].astype(str).unique())
    mean_p = tv.groupby(schema.DOOR_ID)[P_COL].mean()
    order = sorted(doors, key=lambda d: float(mean_p[d]))
    at = 0
    for n, slot in enumerate(slots):
        s = field._slot_ix[slot]
        if policy == "static":
            chosen = [order[(at + i) % len(order)] for i in range(knocks_per_shift)]
            at += knocks_per_shift
        else:
            worth: dict[str, float] = {}
            for d in doors:
                left = [v for v in field._by_door.get(d, ()) if v not in field.done]
                if left:
                    worth[d] = sum(
                        field._effect[v]
                        * (field._home[field._hh[v], s] if policy == "known" else 1.0)
                        for v in left
                    )
            chosen = sorted(worth, key=lambda d: -worth[d])[:knocks_per_shift]
        for d in chosen:
            field.knock(d, slot, f"2026-09-{7 + n:02d}T12:00:00")
    return field.votes
