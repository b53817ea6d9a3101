"""Turfs that stay put: the previous run's turf names given to the new cut.

:func:`previous_turfs` reads door -> turf of the latest run recorded in the
campaign database; :func:`keep_turf_ids` names each new turf after the previous
turf most of its doors were in (docs/replan.md, "Turfs that stay put").
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import sqlalchemy as sa

from .. import schema
from ..config import PlanConfig
from . import _db as db

__all__ = ["keep_turf_ids", "previous_turfs"]

_TURF_NO = re.compile(r"^(.*?)(\d+)$")


def previous_turfs(config: PlanConfig) -> pd.Series:
    """Return door -> turf id of the latest run recorded in the campaign database."""
    engine = db.open_db(config)
    r, s, t = db.runs.c, db.stops.c, db.routes.c
    try:
        with engine.connect() as conn:
            last = conn.execute(
                sa.select(r.run_id).order_by(r.created_at.desc(), r.run_id.desc())
            ).first()
            if last is None:
                return pd.Series(dtype=object)
            rows = conn.execute(
                sa.select(s.door_id, t.turf_id)
                .join(
                    db.routes,
                    sa.and_(t.run_id == s.run_id, t.route_id == s.route_id),
                )
                .where(s.run_id == last[0])
            ).all()
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows, columns=["door_id", "turf_id"])
    return frame.drop_duplicates("door_id").set_index("door_id")["turf_id"]


def keep_turf_ids(
    doors: pd.DataFrame, turfs: pd.DataFrame, previous: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """
    Name each turf after the previous run's turf most of its doors were in.

    The cut itself is not changed: only the names, so that "turf 3A-T04" is the
    same neighbourhood from one shift to the next where the doors allow (greedy
    by the number of shared doors; each old name is given once; a turf sharing
    no doors keeps its name, or takes the next free number).

    Parameters
    ----------
    doors
        Doors with ``turf_id`` (:func:`canvass.turf.cut_turfs`).
    turfs
        The turf table, indexed by ``turf_id``.
    previous
        Door id -> turf id of the previous run (:func:`previous_turfs`).

    Returns
    -------
    doors, turfs
        Copies with the new names.
    report
        ``turfs_renamed``, ``doors_again`` (doors in both runs) and
        ``doors_same_turf`` (of those, in a turf of the same name).
    """
    tid = doors[schema.TURF_ID].astype(str)
    in_turf = tid[tid != ""]
    old = previous.reindex(in_turf.index.astype(str)).to_numpy()
    pairs = pd.DataFrame({"new": in_turf.to_numpy(), "old": old}).dropna()
    overlap = pairs.value_counts().sort_values(ascending=False, kind="stable")
    names: dict[str, str] = {}
    used: set[str] = set()
    for key in overlap.index:
        new_id, old_id = str(key[0]), str(key[1])
        if new_id not in names and old_id not in used:
            names[new_id] = old_id
            used.add(old_id)
    taken = set(used) | set(previous.astype(str))
    for new in turfs.index.astype(str):
        if new in names:
            continue
        name = new
        while name in taken:
            hit = _TURF_NO.match(name)
            name = (
                f"{hit.group(1)}{int(hit.group(2)) + 1:0{len(hit.group(2))}d}"
                if hit
                else f"{name}-1"
            )
        names[new] = name
        taken.add(name)
    out_doors = doors.copy()
    out_doors[schema.TURF_ID] = tid.map(lambda x: names.get(x, x)).to_numpy()
    out_turfs = turfs.rename(index=names)
    again = pairs.assign(new=pairs["new"].map(names))
    report = {
        "turfs_renamed": sum(1 for k, n in names.items() if k != n),
        "doors_again": len(again),
        "doors_same_turf": int((again["new"] == again["old"]).sum()),
    }
    return out_doors, out_turfs, report
