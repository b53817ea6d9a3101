"""The plan and the contact history: runs record themselves, plans read the history.

:func:`record_run` stores a finished plan's run, routes, stops and the voters on each
walk list (ids only) so results can be checked against them. :func:`apply_history`
gives the next plan what the doors said: each voter's number of attempts and last
result, and voters done for the campaign (contacted, refused, moved, deceased; a
whole door for do-not-knock and inaccessible) are no longer targets, so doors whose
targets are all done drop out while a household with someone still to reach stays.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import schema
from ..config import PlanConfig
from ..outputs import walk_list_table
from . import _db as db
from ._codes import DONE, DOOR_DONE

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "ATTEMPTS",
    "LAST_RESULT",
    "apply_history",
    "door_attempts",
    "new_run_id",
    "record_run",
]

logger = logging.getLogger(__name__)

#: Voter and door column: contact attempts recorded so far.
ATTEMPTS: Final = "attempts"
#: Voter column: the latest recorded result ("" when never attempted).
LAST_RESULT: Final = "last_result"
_CHUNK = 1000


def new_run_id(config: PlanConfig) -> str:
    """Return a new run id: the run name, the UTC time and a random suffix."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in config.run_name)
    return f"{name[:40]}-{stamp}-{secrets.token_hex(3)}"


def record_run(plan: Plan, folder: Path | None = None) -> int:
    """
    Record a plan's run, routes, stops and listed voters in the campaign database.

    Parameters
    ----------
    plan
        A finished plan with a ``run_id``; ``plan.config.campaign.db`` names the
        database.
    folder
        The run folder the plan was written to (kept, so that importing results
        draws the run's progress map there again); None = not recorded.

    Returns
    -------
    listed
        Voters recorded on the run's walk lists.

    Raises
    ------
    ConfigError
        If no campaign database is configured.
    InputError
        If the plan has no run id, or the run is already recorded.
    """
    from ..errors import InputError

    if not plan.run_id:
        msg = "the plan has no run_id; plan it with canvass.pipeline.run."
        raise InputError(msg)
    engine = db.open_db(plan.config)
    routes = plan.routes
    stops = plan.stops
    table = walk_list_table(plan)
    people = table[table[schema.VOTER_ID].notna()].drop_duplicates(
        [schema.ROUTE_ID, schema.VOTER_ID]
    )
    run_row = {
        "run_id": plan.run_id,
        "run_name": plan.config.run_name[:200],
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "target_election": plan.config.target.election_type,
        "universe": plan.config.target.universe,
        "n_routes": len(routes),
        "n_doors": int(stops[schema.DOOR_ID].nunique()) if len(stops) else 0,
        "n_voters": len(people),
        "folder": str(Path(folder).resolve()) if folder is not None else None,
    }
    route_rows = [
        {
            "run_id": plan.run_id,
            "route_id": str(rid),
            "turf_id": str(r.get(schema.TURF_ID, "")),
            "volunteer": str(r.get(schema.VOLUNTEER, "")),
            "n_doors": int(r.get(schema.N_DOORS, 0)),
            "n_targets": int(r.get(schema.N_TARGETS, 0) or 0),
            "walk_s": float(r.get(schema.WALK_S, 0.0)),
            "total_s": float(r.get(schema.TOTAL_S, 0.0)),
        }
        for rid, r in routes.drop(columns="geometry", errors="ignore").iterrows()
    ]
    stop_rows = [
        {"run_id": plan.run_id, "route_id": str(a), "stop": int(b), "door_id": str(c)}
        for a, b, c in zip(
            stops[schema.ROUTE_ID], stops[schema.STOP], stops[schema.DOOR_ID],
            strict=True,
        )
    ]  # fmt: skip
    listed_rows = [
        {
            "run_id": plan.run_id,
            "route_id": str(a),
            "voter_id": str(b),
            "door_id": str(c),
            "is_target": bool(d),
        }
        for a, b, c, d in zip(
            people[schema.ROUTE_ID], people[schema.VOTER_ID],
            people[schema.DOOR_ID], people[schema.IS_TARGET], strict=True,
        )
    ]  # fmt: skip
    try:
        with engine.begin() as conn:
            if conn.execute(
                sa.select(db.runs.c.run_id).where(db.runs.c.run_id == plan.run_id)
            ).first():
                msg = f"run {plan.run_id} is already in the campaign database."
                raise InputError(msg)
            conn.execute(db.runs.insert(), [run_row])
            for table_, rows in (
                (db.routes, route_rows),
                (db.stops, stop_rows),
                (db.listed, listed_rows),
            ):
                for i in range(0, len(rows), _CHUNK):
                    conn.execute(table_.insert(), rows[i : i + _CHUNK])
    finally:
        engine.dispose()
    logger.info(
        "Recorded run %s: %s routes, %s doors, %s listed voters",
        plan.run_id,
        len(route_rows),
        run_row["n_doors"],
        len(listed_rows),
    )
    return len(listed_rows)


def _events(config: PlanConfig) -> pd.DataFrame:
    engine = db.open_db(config)
    cols = [
        db.events.c.voter_id,
        db.events.c.result,
        db.events.c.contacted_at,
        db.events.c.event_id,
    ]
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(*cols)).all()
    finally:
        engine.dispose()
    return pd.DataFrame(rows, columns=["voter_id", "result", "contacted_at", "eid"])


def apply_history(
    voters: pd.DataFrame, config: PlanConfig
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """
    Take the campaign's contact history into a targeted voter table.

    Parameters
    ----------
    voters
        Targeted voters (:func:`canvass.target.select_targets`), with ``door_id``.
    config
        The configuration; ``campaign.db`` holds the history.

    Returns
    -------
    voters
        Copy with ``attempts`` and ``last_result``; voters done for the campaign
        get ``suppressed`` = the result in lower case (``contacted``, ``refused``,
        ``moved``, ``deceased``, ``do_not_knock``, ``inaccessible``) and are no
        longer targets (``lift`` 0). ``do_not_knock`` and ``inaccessible`` finish
        every voter at the door. Moved, deceased and do-not-knock voters leave the
        walk lists; contacted and refused ones stay listed with their household.
    report
        PII-free counts: ``events``, ``voters_attempted``, ``targets_done`` (by
        result), ``doors_done`` (target doors with no target left) and
        ``doors_kept`` (target doors with a done target and someone left to reach).
    """
    events = _events(config)
    out = voters.copy()
    ids = out.index.astype(str)
    events = events[events["voter_id"].isin(set(ids))]
    events = events.sort_values(["contacted_at", "eid"], kind="stable")
    by_voter = events.groupby("voter_id", sort=False)
    out[ATTEMPTS] = by_voter.size().reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    out[LAST_RESULT] = by_voter["result"].last().reindex(ids).fillna("").to_numpy()
    done = events[events["result"].isin(DONE)]
    reason = done.groupby("voter_id", sort=False)["result"].last().reindex(ids)
    doors = out[schema.DOOR_ID].astype("string").to_numpy()
    voter_door = pd.Series(doors, index=ids)
    door_done = done[done["result"].isin(DOOR_DONE)]
    door_done = door_done.assign(door=door_done["voter_id"].map(voter_door))
    door_reason = door_done.dropna(subset=["door"]).groupby("door")["result"].last()
    by_door = voter_door.map(door_reason)
    personal = reason.to_numpy(dtype=object)
    final_arr = np.where(pd.isna(personal), by_door.to_numpy(dtype=object), personal)
    final_arr = np.where(pd.isna(final_arr), "", final_arr).astype(object)
    is_done = final_arr != ""
    was_target = out[schema.IS_TARGET].astype(bool).to_numpy()
    free = out[schema.SUPPRESSED].astype("string").fillna("").eq("").to_numpy()
    label = np.array([str(r).lower() for r in final_arr], dtype=object)
    out[schema.SUPPRESSED] = np.where(is_done & free, label, out[schema.SUPPRESSED])
    out[schema.IS_TARGET] = was_target & ~is_done
    out[schema.LIFT] = np.where(out[schema.IS_TARGET], out[schema.LIFT], 0.0)
    dropped = was_target & is_done
    door_s = pd.Series(doors)
    before = set(door_s[was_target].dropna())
    after = set(door_s[out[schema.IS_TARGET].to_numpy()].dropna())
    touched = set(door_s[dropped].dropna())
    counts = pd.Series(label[dropped]).value_counts()
    report = {
        "events": len(events),
        "voters_attempted": int((out[ATTEMPTS] > 0).sum()),
        "targets_done": {str(k): int(v) for k, v in counts.items()},
        "doors_done": len(before - after),
        "doors_kept": len(touched & after),
    }
    logger.info(
        "Contact history: %s attempts; %s targets done, %s doors left out as done, "
        "%s kept with someone still to reach",
        f"{report['events']:,}",
        f"{int(dropped.sum()):,}",
        f"{report['doors_done']:,}",
        f"{report['doors_kept']:,}",
    )
    return out, report


def door_attempts(doors: pd.DataFrame, voters: pd.DataFrame) -> pd.DataFrame:
    """
    Return `doors` with ``attempts``: the most attempts recorded for one of its voters.

    A visit records an attempt for every voter at the door, so this is the number of
    times the door was knocked (a later planner values a door by its attempts).
    """
    out = doors.copy()
    per_door = voters.groupby(voters[schema.DOOR_ID].astype(str))[ATTEMPTS].max()
    out[ATTEMPTS] = (
        per_door.reindex(out.index.astype(str)).fillna(0).to_numpy(dtype=np.int64)
    )
    return out
