"""Progress of a run for the field director: what the doors said, turf by turf.

:func:`run_progress` reads a run's contact attempts from the campaign database and
counts, per turf, per precinct and per volunteer: doors knocked, knocks, knocks
with a contact, people contacted, the contact rate, and the expected extra votes
banked (the lift of the targets contacted, from the plan's target tables) and left
(the lift of the targets not yet done). It also raises quality flags, which point at
attempts to look at and never delete or change one:

``contact_rate_low`` / ``contact_rate_high``
    A volunteer's or turf's contact rate outside 10-30 % once it has at least
    :data:`MIN_KNOCKS` knocks (with fewer, chance alone moves the rate that much).
``fast_doors``
    :data:`FAST_DOORS` or more doors logged within :data:`FAST_WINDOW_S` seconds by
    one volunteer (phone results, which carry the time).
``off_route``
    A result for a door that is not on the routes assigned to the volunteer who
    recorded it (``canvass assign``).
``door_twice``
    The same door recorded twice on one day: a voter with two results that day, or
    two volunteers logging the door.

A *knock* is one visit to one door: the attempts at that door by one volunteer on
one day. The contact rate is knocks with someone contacted over knocks. An attempt
belongs to the run when it names the run, or when it names none (VAN, paper without
run id) and is for a voter on the run's lists dated on or after the run was planned.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import schema
from ..config import PlanConfig
from ..errors import InputError
from . import _db as db
from ._codes import DONE

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "FAST_DOORS",
    "FAST_WINDOW_S",
    "FLAG_COLUMNS",
    "MIN_KNOCKS",
    "PROGRESS_COLUMNS",
    "RATE_HIGH",
    "RATE_LOW",
    "Progress",
    "run_folders",
    "run_progress",
]

logger = logging.getLogger(__name__)

#: Contact rates outside [RATE_LOW, RATE_HIGH] are flagged.
RATE_LOW: Final = 0.10
RATE_HIGH: Final = 0.30
#: Knocks before a contact rate is judged. At a true rate of 20 %, 50 knocks give
#: an observed rate outside 10-30 % about 5 % of the time (binomial); 20 knocks,
#: about 16 %: too often to call it a problem.
MIN_KNOCKS: Final = 50
#: "Several doors within a minute": this many doors inside this many seconds.
FAST_DOORS: Final = 3
FAST_WINDOW_S: Final = 60
#: Columns of ``progress.csv`` (one row per run, precinct, turf and volunteer).
PROGRESS_COLUMNS: Final = (
    "level", "key", "precinct_id", "routes", "doors", "doors_knocked", "knocks",
    "contact_knocks", "contact_rate", "people_attempted", "people_contacted",
    "targets", "targets_contacted", "votes_banked", "votes_left", "flags",
)  # fmt: skip
#: Columns of ``progress_flags.csv``.
FLAG_COLUMNS: Final = (
    "flag", "level", "key", "volunteer", "route_id", "turf_id", "door_id", "date",
    "detail",
)  # fmt: skip
_GENERIC = ("", "volunteer")


@dataclass
class Progress:
    """
    A run's progress: one table per level, the flags and the run's totals.

    ``turfs``, ``precincts`` and ``volunteers`` have the columns of
    :data:`PROGRESS_COLUMNS` (indexed by their key); ``flags`` those of
    :data:`FLAG_COLUMNS`.
    """

    run_id: str
    turfs: pd.DataFrame
    precincts: pd.DataFrame
    volunteers: pd.DataFrame
    flags: pd.DataFrame
    totals: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """All levels in one table: the rows of ``progress.csv``."""
        run = pd.DataFrame([{**self.totals, "level": "run", "key": self.run_id}])
        parts = [run]
        for level, frame in (
            ("precinct", self.precincts),
            ("turf", self.turfs),
            ("volunteer", self.volunteers),
        ):
            parts.append(frame.reset_index(drop=True).assign(level=level))
        out = pd.concat(parts, ignore_index=True)
        for col in PROGRESS_COLUMNS:
            if col not in out.columns:
                out[col] = ""
        counts = [c for c in PROGRESS_COLUMNS
                  if c not in {"level", "key", "precinct_id", "contact_rate",
                               "votes_banked", "votes_left"}]  # fmt: skip
        for col in counts:
            out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
        return out[list(PROGRESS_COLUMNS)]


def _attempts(conn: sa.engine.Connection, plan: Plan) -> pd.DataFrame:
    """Return the run's attempts: naming it, or no run and a voter listed since."""
    run = conn.execute(
        sa.select(db.runs.c.created_at).where(db.runs.c.run_id == plan.run_id)
    ).first()
    if run is None:
        msg = (
            f"run {plan.run_id} is not in the campaign database; progress is "
            "drawn for runs `canvass run` recorded with this [campaign] db."
        )
        raise InputError(msg)
    since = dt.date.fromisoformat(str(run.created_at)[:10])
    e = db.events.c
    cols = [e.event_id, e.voter_id, e.door_id, e.run_id, e.route_id, e.volunteer,
            e.contacted_at, e.contact_date, e.result, e.source]  # fmt: skip
    listed = sa.select(db.listed.c.voter_id).where(db.listed.c.run_id == plan.run_id)
    q = sa.select(*cols).where(
        sa.or_(
            e.run_id == plan.run_id,
            sa.and_(
                e.run_id.is_(None), e.contact_date >= since, e.voter_id.in_(listed)
            ),
        )
    )
    rows = [tuple(r) for r in conn.execute(q)]
    frame = pd.DataFrame(rows, columns=[c.name for c in cols])
    return frame.astype({"contact_date": "string"}).fillna({"route_id": ""})


def _assigned(conn: sa.engine.Connection, run_id: str) -> pd.DataFrame:
    a, v = db.assignments.c, db.volunteers.c
    q = (
        sa.select(a.route_id, v.name)
        .join(db.volunteers, a.volunteer_id == v.volunteer_id)
        .where(a.run_id == run_id)
    )
    return pd.DataFrame(conn.execute(q).all(), columns=["route_id", "name"])


def _first(name: str) -> str:
    return name.strip().split(" ")[0].casefold() if name.strip() else ""


def _who(events: pd.DataFrame, assigned: pd.DataFrame) -> pd.Series:
    """Return each attempt's volunteer: as recorded, else the route's assignee."""
    text = events["volunteer"].fillna("").astype(str).str.strip()
    generic = text.str.lower().str.replace(r"\s*\d+$", "", regex=True).isin(_GENERIC)
    by_route = assigned.groupby("route_id")["name"].first()
    fallback = events["route_id"].map(by_route).astype(object).fillna("")
    route = events["route_id"].astype(str)
    unnamed = np.where(route != "", "route " + route, "unnamed")
    # "Maria" on the route page is "Maria Garcia" of the assignment (first names
    # shared by two assigned volunteers stay as written)
    names = [str(n) for n in pd.unique(assigned["name"])]
    firsts = pd.Series([_first(n) for n in names]).value_counts()
    known = {n.casefold(): n for n in names}
    known.update({_first(n): n for n in names if firsts.get(_first(n), 0) == 1})
    text = text.map(lambda t: known.get(t.casefold(), t))
    who = np.where(generic, np.where(fallback != "", fallback, unnamed), text)
    return pd.Series(who, index=events.index, dtype=object)


def _counts(ev: pd.DataFrame, key: str) -> pd.DataFrame:
    """Doors knocked, knocks, contact knocks and people per value of `key`."""
    knocks = ev.groupby([key, "door_id", "contact_date", "who"], sort=False).agg(
        contacted=("contacted", "any")
    )
    k = knocks.groupby(level=0)
    people = ev.groupby(key)
    out = pd.DataFrame(
        {
            "doors_knocked": ev.groupby(key)["door_id"].nunique(),
            "knocks": k.size(),
            "contact_knocks": k["contacted"].sum(),
            "people_attempted": people["voter_id"].nunique(),
            "people_contacted": ev[ev["contacted"]].groupby(key)["voter_id"].nunique(),
        }
    )
    out = out.fillna(0).astype(int)
    out["contact_rate"] = (
        out["contact_knocks"] / out["knocks"].where(out["knocks"] > 0)
    ).round(4)
    return out


def _rate_flags(table: pd.DataFrame, level: str) -> list[dict[str, Any]]:
    flags = []
    for key, r in table.iterrows():
        if int(r["knocks"]) < MIN_KNOCKS or pd.isna(r["contact_rate"]):
            continue
        rate = float(r["contact_rate"])
        if RATE_LOW <= rate <= RATE_HIGH:
            continue
        kind = "contact_rate_low" if rate < RATE_LOW else "contact_rate_high"
        flags.append(
            {
                "flag": kind, "level": level, "key": str(key),
                "volunteer": str(key) if level == "volunteer" else "",
                "turf_id": str(key) if level == "turf" else "",
                "detail": f"{rate:.0%} of {int(r['knocks'])} knocks reached someone "
                f"(expected {RATE_LOW:.0%}-{RATE_HIGH:.0%})",
            }
        )  # fmt: skip
    return flags


def _fast_flags(ev: pd.DataFrame) -> list[dict[str, Any]]:
    """Bursts of FAST_DOORS or more doors inside FAST_WINDOW_S by one volunteer."""
    timed = ev[ev["contacted_at"].astype(str).str.contains("T")].copy()
    if not len(timed):
        return []
    timed["t"] = pd.to_datetime(timed["contacted_at"], utc=True, format="ISO8601")
    first = timed.groupby(["who", "door_id"], sort=False)["t"].min().reset_index()
    flags = []
    for who, rows in first.groupby("who", sort=True):
        rows = rows.sort_values("t", kind="stable")
        t = rows["t"].to_numpy()
        doors = rows["door_id"].to_numpy()
        i, n = 0, len(rows)
        while i < n:
            j = int(
                np.searchsorted(t, t[i] + np.timedelta64(FAST_WINDOW_S, "s"), "right")
            )
            if j - i >= FAST_DOORS:
                while j < n and t[j] - t[j - 1] <= np.timedelta64(FAST_WINDOW_S, "s"):
                    j += 1  # the burst goes on: one flag for all of it
                secs = (t[j - 1] - t[i]) / np.timedelta64(1, "s")
                flags.append(
                    {
                        "flag": "fast_doors", "level": "volunteer", "key": str(who),
                        "volunteer": str(who),
                        "door_id": " ".join(map(str, doors[i:j])),
                        "date": str(pd.Timestamp(t[i]).date()),
                        "detail": f"{j - i} doors logged within {secs:.0f} s from "
                        f"{pd.Timestamp(t[i]).isoformat()}",
                    }
                )  # fmt: skip
                i = j
            else:
                i += 1
    return flags


def _off_route(
    ev: pd.DataFrame, assigned: pd.DataFrame, plan: Plan
) -> list[dict[str, Any]]:
    """Flag attempts by an assigned volunteer at a door on none of their routes."""
    if not len(assigned) or not len(ev):
        return []
    stops = plan.stops
    door_routes = stops.groupby(schema.DOOR_ID)[schema.ROUTE_ID].agg(set)
    names: dict[str, set[str]] = {}
    for route, name in zip(assigned["route_id"], assigned["name"], strict=True):
        for key in {str(name).strip().casefold(), _first(str(name))} - {""}:
            names.setdefault(key, set()).add(str(route))
    flags = []
    text = ev["volunteer"].fillna("").astype(str).str.strip()
    folded = text.str.casefold()
    firsts = text.map(_first)
    named = folded.isin(list(names)) | firsts.isin(list(names))
    mine_ev = ev.assign(text=text)[named.to_numpy()]  # only assigned volunteers
    for (who, door, day, route), rows in mine_ev.groupby(
        ["text", "door_id", "contact_date", "route_id"], sort=True
    ):
        mine = names.get(str(who).casefold()) or names.get(_first(str(who)))
        if not mine:
            continue
        on = door_routes.get(door, set())
        if on & mine:
            continue
        where = f"on route {', '.join(sorted(on))}" if on else "on no route of the run"
        flags.append(
            {
                "flag": "off_route", "level": "door", "key": str(door),
                "volunteer": str(who), "route_id": str(route), "door_id": str(door),
                "date": str(day),
                "detail": f"{len(rows)} result(s) for a door {where}, not on "
                f"{', '.join(sorted(mine))} assigned to this volunteer",
            }
        )  # fmt: skip
    return flags


def _twice(ev: pd.DataFrame) -> list[dict[str, Any]]:
    """Flag doors recorded twice on one day: a voter twice, or two volunteers."""
    keys = ["door_id", "contact_date"]
    if not len(ev):
        return []
    per_voter = ev.groupby([*keys, "voter_id"]).size()
    twice = (per_voter > 1).groupby(level=[0, 1]).sum()
    n_who = ev.groupby(keys)["who"].nunique().reindex(twice.index)
    suspect = twice.index[(twice.to_numpy() > 0) | (n_who.to_numpy() > 1)]
    if not len(suspect):
        return []
    flagged = ev.set_index(keys).loc[suspect].reset_index()  # only those doors
    by = flagged.groupby(keys, sort=True)
    joined = by.agg(
        who=("who", lambda v: " / ".join(sorted(set(map(str, v))))),
        routes=("route_id", lambda v: " ".join(sorted(set(map(str, v)) - {""}))),
        results=("result", lambda v: ", ".join(sorted(map(str, v)))),
        n=("result", "size"),
    )
    flags = []
    for (door, day), r in zip(joined.index, joined.to_dict("records"), strict=True):
        k = int(twice.get((door, day), 0))
        n_vols = len(r["who"].split(" / "))
        what = (
            f"{k} voter(s) with more than one result that day"
            if k
            else f"logged by {n_vols} volunteers"
        )
        flags.append(
            {
                "flag": "door_twice", "level": "door", "key": str(door),
                "volunteer": r["who"], "route_id": r["routes"], "door_id": str(door),
                "date": str(day),
                "detail": f"{what} ({r['n']} results: {r['results']})",
            }
        )  # fmt: skip
    return flags


def run_progress(plan: Plan, config: PlanConfig) -> Progress:
    """
    Count a run's progress and raise its quality flags.

    Parameters
    ----------
    plan
        The run's plan (``canvass.pipeline.load_plan`` reads it from a run folder).
    config
        The configuration naming the campaign database.

    Returns
    -------
    Progress
        Per turf, precinct and volunteer; the flags; the run's totals.

    Raises
    ------
    InputError
        If the run is not in the campaign database.
    ConfigError
        If no campaign database is configured.
    """
    engine = db.open_db(config)
    try:
        with engine.connect() as conn:
            ev = _attempts(conn, plan)
            assigned = _assigned(conn, plan.run_id)
    finally:
        engine.dispose()
    stops = plan.stops
    routes = plan.routes
    door_route = stops.drop_duplicates(schema.DOOR_ID).set_index(schema.DOOR_ID)
    turf_of_route = routes[schema.TURF_ID].astype(str)
    ev["route_id"] = ev["route_id"].where(
        ev["route_id"] != "",
        ev["door_id"].map(door_route[schema.ROUTE_ID]).astype(object).fillna(""),
    )
    ev["turf_id"] = ev["route_id"].map(turf_of_route).astype(object).fillna("")
    precinct_of = plan.doors[schema.PRECINCT_ID].astype(str)
    ev["precinct_id"] = ev["door_id"].map(precinct_of).astype(object).fillna("")
    ev["who"] = _who(ev, assigned)
    ev["contacted"] = ev["result"].eq("CONTACTED")

    # the plan's side: doors, targets and their lift on the run's routes
    voters = plan.voters
    routed = voters[voters[schema.DOOR_ID].isin(set(stops[schema.DOOR_ID]))]
    targets = routed[routed[schema.IS_TARGET].astype(bool)]
    lift = pd.to_numeric(targets[schema.LIFT], errors="coerce").fillna(0.0)
    t_door = targets[schema.DOOR_ID].astype(str)
    t_turf = (
        t_door.map(door_route[schema.TURF_ID].astype(str)).astype(object).fillna("")
    )
    t_precinct = t_door.map(precinct_of).astype(object).fillna("")
    contacted = set(ev.loc[ev["contacted"], "voter_id"].astype(str))
    done = set(ev.loc[ev["result"].isin(DONE), "voter_id"].astype(str))
    ids = targets.index.astype(str)
    is_contacted = pd.Series(ids.isin(list(contacted)), index=targets.index)
    is_done = pd.Series(ids.isin(list(done)), index=targets.index)
    plan_side = pd.DataFrame(
        {
            "turf_id": t_turf,
            "precinct_id": t_precinct,
            "targets": 1,
            "targets_contacted": is_contacted.astype(int),
            "votes_banked": lift.where(is_contacted, 0.0),
            "votes_left": lift.where(~is_done, 0.0),
        }
    )

    def level(key: str, index: pd.Index) -> pd.DataFrame:
        counts = _counts(ev, key).reindex(index)
        sums = (
            plan_side.groupby(key)[
                ["targets", "targets_contacted", "votes_banked", "votes_left"]
            ]
            .sum()
            .reindex(index)
        )
        out = pd.concat([counts, sums], axis=1)
        ints = ["doors_knocked", "knocks", "contact_knocks", "people_attempted",
                "people_contacted", "targets", "targets_contacted"]  # fmt: skip
        out[ints] = out[ints].fillna(0).astype(int)
        out[["votes_banked", "votes_left"]] = (
            out[["votes_banked", "votes_left"]].fillna(0.0).round(3)
        )
        return out

    stop_turf = stops[schema.TURF_ID].astype(str)
    turf_ids = pd.Index(sorted(set(stop_turf)), name="turf_id")
    turfs = level("turf_id", turf_ids)
    turfs["doors"] = (
        stops.groupby(stop_turf)[schema.DOOR_ID].nunique().reindex(turf_ids)
    )
    turfs["routes"] = routes.groupby(turf_of_route).size().reindex(turf_ids).fillna(0)
    first_precinct = (
        plan.turfs[schema.PRECINCT_ID].astype(str)
        if schema.PRECINCT_ID in plan.turfs
        else pd.Series(dtype=str)
    )
    turfs["precinct_id"] = (
        first_precinct.reindex(turf_ids).astype(object).fillna("").to_numpy()
    )

    stop_precinct = stops[schema.DOOR_ID].map(precinct_of).astype(object).fillna("")
    precinct_ids = pd.Index(
        sorted(set(stop_precinct) | set(ev["precinct_id"]) - {""}), name="precinct_id"
    )
    precincts = level("precinct_id", precinct_ids)
    precincts["doors"] = (
        stops.groupby(stop_precinct)[schema.DOOR_ID]
        .nunique()
        .reindex(precinct_ids)
        .fillna(0)
    )
    precincts["precinct_id"] = precinct_ids.to_numpy()

    vol_ids = pd.Index(sorted(set(ev["who"]) | set(assigned["name"])), name="who")
    volunteers = _counts(ev, "who").reindex(vol_ids)
    ints = [
        "doors_knocked",
        "knocks",
        "contact_knocks",
        "people_attempted",
        "people_contacted",
    ]
    volunteers[ints] = volunteers[ints].fillna(0).astype(int)
    volunteers["routes"] = (
        assigned.groupby("name").size().reindex(vol_ids).fillna(0).astype(int)
    )

    flags = [
        *_rate_flags(volunteers, "volunteer"),
        *_rate_flags(turfs, "turf"),
        *_fast_flags(ev),
        *_off_route(ev, assigned, plan),
        *_twice(ev),
    ]
    flag_frame = (
        pd.DataFrame(flags, columns=list(FLAG_COLUMNS)).astype(object).fillna("")
    )
    for frame in (turfs, precincts, volunteers):
        frame["key"] = frame.index.astype(str)
        frame["flags"] = 0
    _count_flags(flag_frame, ev, turfs, volunteers)
    knocks = ev.groupby(["door_id", "contact_date", "who"]).agg(c=("contacted", "any"))
    totals = {
        "routes": len(routes),
        "doors": int(stops[schema.DOOR_ID].nunique()),
        "doors_knocked": int(ev["door_id"].nunique()),
        "knocks": len(knocks),
        "contact_knocks": int(knocks["c"].sum()),
        "contact_rate": round(float(knocks["c"].mean()), 4) if len(knocks) else None,
        "people_attempted": int(ev["voter_id"].nunique()),
        "people_contacted": int(ev.loc[ev["contacted"], "voter_id"].nunique()),
        "targets": len(targets),
        "targets_contacted": int(is_contacted.sum()),
        "votes_banked": round(float(plan_side["votes_banked"].sum()), 3),
        "votes_left": round(float(plan_side["votes_left"].sum()), 3),
        "flags": len(flag_frame),
        "attempts": len(ev),
    }
    logger.info(
        "Progress of run %s: %s of %s doors knocked, %s people contacted, %s flag(s)",
        plan.run_id, f"{totals['doors_knocked']:,}", f"{totals['doors']:,}",
        f"{totals['people_contacted']:,}", len(flag_frame),
    )  # fmt: skip
    return Progress(plan.run_id, turfs, precincts, volunteers, flag_frame, totals)


def _count_flags(
    flags: pd.DataFrame, ev: pd.DataFrame, turfs: pd.DataFrame, volunteers: pd.DataFrame
) -> None:
    """Count the flags touching each turf and volunteer into their ``flags``."""
    turf_of_door = ev.drop_duplicates("door_id").set_index("door_id")["turf_id"]
    per_turf: dict[str, int] = {}
    per_vol: dict[str, int] = {}
    for f in flags.to_dict("records"):
        door = str(f["door_id"]).split(" ")[0]
        turf = str(f["turf_id"] or turf_of_door.get(door, ""))
        per_turf[turf] = per_turf.get(turf, 0) + 1
        for who in str(f["volunteer"]).split(" / "):
            per_vol[who] = per_vol.get(who, 0) + 1
    turfs["flags"] = [per_turf.get(str(t), 0) for t in turfs.index]
    volunteers["flags"] = [per_vol.get(str(v), 0) for v in volunteers.index]


def run_folders(config: PlanConfig, run_ids: list[str]) -> dict[str, str]:
    """Return the run folder recorded for each of `run_ids` ("" when none was)."""
    engine = db.open_db(config)
    try:
        with engine.connect() as conn:
            q = sa.select(db.runs.c.run_id, db.runs.c.folder).where(
                db.runs.c.run_id.in_(run_ids)
            )
            found = {r.run_id: r.folder or "" for r in conn.execute(q)}
    finally:
        engine.dispose()
    return {r: found.get(r, "") for r in run_ids}
