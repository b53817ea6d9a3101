"""Who walks what: volunteers of a roster put on a run's routes.

:func:`assign_volunteers` places each volunteer's home (their own door when the
roster gives their voter id, else their address through canvass's offline geocoder,
else the centre of their area) and measures how far it is from the start of each
route: the walking distance on the run's street network, or, without one, the
straight line times :data:`WALK_FACTOR` (streets are not straight). Then:

* volunteers without a car (or who did not say) only get a route whose start is
  within ``max_walk_m`` of home on foot; with none in reach they get no route and
  the assignment says why;
* the others get the routes nearest their home (the total distance is made as small
  as it can be, one volunteer per route);
* volunteers of one ``team`` walk the routes of one turf together (a turf cut for
  several volunteers has one route each);
* volunteers whose home is not known (no address found, no area, no voter id) get
  any route left, car or not, flagged: their reach cannot be checked;
* more volunteers than routes, or fewer: the extra volunteers or the routes nobody
  walks are rows of the assignment, flagged.

The assignment is a CSV the field director can edit and give back
(:func:`read_assignment`); :func:`store_assignment` keeps it in the campaign
database with the run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from scipy.optimize import linear_sum_assignment

from .. import schema
from ..config import PlanConfig
from ..errors import InputError
from ..load import read_table
from . import _db as db
from ._roster import Roster, first_name

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "MAX_WALK_M",
    "WALK_FACTOR",
    "Assignment",
    "assign_volunteers",
    "read_assignment",
    "store_assignment",
]

logger = logging.getLogger(__name__)

#: Default walking reach of a volunteer without a car: 2 km, about 25 minutes.
MAX_WALK_M: Final = 2000.0
#: Without a street network, walking distance = straight line times this factor.
WALK_FACTOR: Final = 1.3
#: Columns of the assignment CSV.
ASSIGNMENT_COLUMNS: Final = (
    "run_id", "route_id", "turf_id", "precinct_id", "volunteer", "first_name",
    "phone", "email", "has_car", "team", "reach_m", "reach", "flag",
)  # fmt: skip
_BIG: Final = 1e12
_CAR: Final = {
    "y": "yes",
    "true": "yes",
    "1": "yes",
    "n": "no",
    "false": "no",
    "0": "no",
}


@dataclass(frozen=True)
class Assignment:
    """
    An assignment of volunteers to a run's routes.

    Parameters
    ----------
    table
        Columns :data:`ASSIGNMENT_COLUMNS`: one row per route (``volunteer`` empty
        when nobody walks it) and one per volunteer left without a route
        (``route_id`` empty), with the reason in ``flag``.
    rejects
        Rows that could not be used (``file``, ``line``, ``reason``).
    """

    table: pd.DataFrame
    rejects: pd.DataFrame

    @property
    def assigned(self) -> pd.DataFrame:
        """Rows with both a route and a volunteer."""
        t = self.table
        return t[(t["route_id"] != "") & (t["volunteer"] != "")]


def _route_starts(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Return where each route starts (its path's first point), in route order."""
    routes = plan.routes.sort_index()
    xs, ys = [], []
    turfs = plan.turfs
    for rid, geom in zip(routes.index, routes.geometry, strict=True):
        if geom is None or geom.is_empty:
            tid = routes.at[rid, schema.TURF_ID]
            geom = turfs.geometry.loc[tid].representative_point()
        first = shapely.get_coordinates(geom)[0]
        xs.append(float(first[0]))
        ys.append(float(first[1]))
    return np.array(xs), np.array(ys)


def _homes(
    plan: Plan, vols: pd.DataFrame, streets: Any, address_points: Any, params: Any
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Home x, y (NaN when unknown) and how each home was placed."""
    n = len(vols)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    how = [""] * n
    voters, doors = plan.voters, plan.doors
    todo = []
    for i, (vid, addr) in enumerate(
        zip(vols["voter_id"], vols["home_address"], strict=True)
    ):
        if vid and vid in voters.index:
            door = str(voters.at[vid, schema.DOOR_ID])
            if door in doors.index:
                pt = doors.geometry.loc[door]
                x[i], y[i], how[i] = pt.x, pt.y, "voter_door"
                continue
        if addr:
            todo.append(i)
    if todo:
        from ..geocode import METHODS, geocode_voters

        line = vols["home_address"].iloc[todo].astype(str)
        street = line.str.split(",").str[0].str.strip()
        zips = (
            line.str.extract(r"\b(\d{5})(?:-\d{4})?\s*$", expand=False)
            .astype(object)
            .fillna("")
        )
        frame = pd.DataFrame(
            {
                schema.STREET_NUMBER: "",
                schema.STREET_NAME: street.to_numpy(),
                schema.UNIT: "",
                schema.ZIP5: zips.to_numpy(),
                schema.PRECINCT_ID: "",
            },
            index=pd.Index([f"roster-{i}" for i in todo], name=schema.VOTER_ID),
        )
        for col in ("city", schema.STATE):
            frame[col] = ""
        geo = geocode_voters(
            frame, plan.precincts, streets=streets, address_points=address_points,
            params=params,
        )  # fmt: skip
        for i, (_, r) in zip(todo, geo.voters.iterrows(), strict=True):
            door = str(r.get(schema.DOOR_ID) or "")
            placed = r.get(schema.GEOCODE_METHOD) in METHODS[:2]  # point, street
            if not placed or door not in geo.doors.index:
                continue
            pt = geo.doors.geometry.loc[door]
            if pt is None or pt.is_empty:
                continue
            x[i], y[i], how[i] = pt.x, pt.y, "address"
    precincts = plan.precincts
    zip_of = doors[schema.ZIP5].astype(str) if schema.ZIP5 in doors else None
    for i, area in enumerate(vols["area"]):
        if how[i] or not area:
            continue
        if area in precincts.index.astype(str):
            pt = precincts.geometry[precincts.index.astype(str) == area].iloc[0]
            pt = pt.representative_point()
            x[i], y[i], how[i] = pt.x, pt.y, "area_precinct"
        elif zip_of is not None and (zip_of == area).any():
            pts = doors.geometry[zip_of == area]
            x[i], y[i], how[i] = float(pts.x.mean()), float(pts.y.mean()), "area_zip"
    return x, y, how


def _distances(
    hx: np.ndarray, hy: np.ndarray, sx: np.ndarray, sy: np.ndarray, streets: Any
) -> tuple[np.ndarray, str]:
    """Metres from each home to each route start (NaN rows for unknown homes)."""
    d = np.full((len(hx), len(sx)), np.nan)
    known = np.flatnonzero(~np.isnan(hx))
    if not len(known) or not len(sx):
        return d, "walk_graph" if streets is not None else "straight_line"
    if streets is None or streets.number_of_nodes() == 0:
        dx = hx[known, None] - sx[None, :]
        dy = hy[known, None] - sy[None, :]
        d[known] = np.hypot(dx, dy) * WALK_FACTOR
        return d, "straight_line"
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    nodes = list(streets.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    nx_ = np.array([float(streets.nodes[n]["x"]) for n in nodes])
    ny_ = np.array([float(streets.nodes[n]["y"]) for n in nodes])
    u, v, w = [], [], []
    for a, b, data in streets.edges(data=True):
        u.append(index[a])
        v.append(index[b])
        w.append(float(data.get("length", 0.0)) or 1e-3)
    graph = csr_matrix((w, (u, v)), shape=(len(nodes), len(nodes)))
    tree = cKDTree(np.column_stack([nx_, ny_]))
    s_off, s_node = tree.query(np.column_stack([sx, sy]))
    h_off, h_node = tree.query(np.column_stack([hx[known], hy[known]]))
    for k, i in enumerate(known):
        dist = dijkstra(graph, directed=False, indices=int(h_node[k]))
        d[i] = dist[s_node] + s_off + h_off[k]
    return d, "walk_graph"


def assign_volunteers(
    plan: Plan,
    roster: Roster,
    *,
    streets: Any = None,
    address_points: Any = None,
    max_walk_m: float = MAX_WALK_M,
) -> Assignment:
    """
    Put the volunteers of a roster on the routes of a run.

    Parameters
    ----------
    plan
        The run's plan (``canvass.pipeline.load_plan``).
    roster
        From :func:`read_roster`.
    streets
        The run's walking network (projected like the plan); None = straight-line
        distances times :data:`WALK_FACTOR`.
    address_points
        The run's address points, to place home addresses (optional).
    max_walk_m
        How far a volunteer without a car walks to the start of a route.

    Returns
    -------
    Assignment
        One row per route and per volunteer left without one.
    """
    vols = roster.volunteers.reset_index(drop=True)
    routes = plan.routes.sort_index()
    route_ids = [str(r) for r in routes.index]
    sx, sy = _route_starts(plan)
    hx, hy, how = _homes(plan, vols, streets, address_points, plan.config.geocode)
    dist, measure = _distances(hx, hy, sx, sy, streets)
    walker = ~vols["has_car"].to_numpy(dtype=bool)
    cost = dist.copy()
    no_home = np.isnan(hx)
    finite = cost[~np.isnan(cost)]
    cost[no_home] = (float(finite.max()) if len(finite) else 0.0) + 1000.0
    beyond = np.nan_to_num(dist, nan=np.inf) > max_walk_m
    cost[walker[:, None] & ~no_home[:, None] & beyond] = _BIG  # no car: on foot only
    taken: dict[int, int] = {}  # route -> volunteer
    flags: dict[int, str] = {}
    _teams(vols, routes, cost, taken, flags)
    free_v = [i for i in range(len(vols)) if i not in taken.values()]
    free_r = [j for j in range(len(route_ids)) if j not in taken]
    if free_v and free_r and len(free_v) < len(free_r):
        # Fewer volunteers than routes: staff the most valuable routes they can
        # reach (expected extra votes), then send each to the nearest of those.
        free_r = _most_valuable(cost, free_v, free_r, _route_values(plan, route_ids))
    if free_v and free_r:
        sub = cost[np.ix_(free_v, free_r)]
        rows, cols = linear_sum_assignment(sub)
        for a, b in zip(rows, cols, strict=True):
            if sub[a, b] < _BIG:
                taken[free_r[b]] = free_v[a]
    turf_of = routes[schema.TURF_ID].astype(str)
    precinct_of = (
        plan.turfs[schema.PRECINCT_ID].astype(str)
        if schema.PRECINCT_ID in plan.turfs.columns
        else pd.Series(dtype=str)
    )
    out = []

    def row(j: int | None, i: int | None, flag: str) -> dict[str, Any]:
        rid = route_ids[j] if j is not None else ""
        tid = turf_of.iloc[j] if j is not None else ""
        rec: dict[str, Any] = {
            "run_id": plan.run_id, "route_id": rid, "turf_id": tid,
            "precinct_id": precinct_of.get(tid, "") if tid else "",
            "volunteer": "", "first_name": "", "phone": "", "email": "",
            "has_car": "", "team": "", "reach_m": "", "reach": "", "flag": flag,
        }  # fmt: skip
        if i is not None:
            v = vols.iloc[i]
            rec.update(
                volunteer=v["name"], first_name=first_name(v["name"]),
                phone=v["phone"], email=v["email"], team=v["team"],
                has_car="yes" if v["has_car"] else ("no" if v["car_given"] else ""),
            )  # fmt: skip
            notes = [flags.get(i, "")]
            if no_home[i]:
                rec["reach"] = "no_home"
                notes.append(
                    "home not known (no address, area or voter id found): any "
                    "route, reach not checked"
                )
            elif j is not None:
                rec["reach_m"] = round(float(dist[i, j]))
                rec["reach"] = measure
            if how[i].startswith("area"):
                notes.append("home placed at the centre of its area")
            if not v["car_given"]:
                notes.append("has_car not given: treated as no car")
            rec["flag"] = "; ".join(n for n in [flag, *notes] if n)
        return rec

    for j in range(len(route_ids)):
        i = taken.get(j)
        out.append(row(j, i, "" if i is not None else "no volunteer"))
    for i in range(len(vols)):
        if i in taken.values():
            continue
        in_reach = int((cost[i] < _BIG).sum())
        if walker[i] and not no_home[i] and not in_reach:
            why = f"no route starts within {max_walk_m:,.0f} m on foot"
        elif walker[i] and not no_home[i]:
            why = (
                f"the {in_reach} route(s) starting within {max_walk_m:,.0f} m on "
                "foot went to others"
            )
        else:
            why = "more volunteers than routes"
        out.append(row(None, i, why))
    table = pd.DataFrame(out, columns=list(ASSIGNMENT_COLUMNS))
    n_assigned = int(((table["route_id"] != "") & (table["volunteer"] != "")).sum())
    logger.info(
        "Assigned %s of %s volunteers to %s of %s routes (%s)",
        n_assigned, len(vols), n_assigned, len(route_ids), measure,
    )  # fmt: skip
    return Assignment(table, roster.rejects)


def _route_values(plan: Plan, route_ids: list[str]) -> np.ndarray:
    """Return each route's expected extra votes: the value of the doors it knocks."""
    stops = plan.stops
    if schema.VALUE in plan.doors.columns:
        door_value = plan.doors[schema.VALUE].astype(float)
        values = stops[schema.DOOR_ID].map(door_value).fillna(0.0)
    else:  # no values: every door counts the same
        values = pd.Series(1.0, index=stops.index)
    by_route = values.groupby(stops[schema.ROUTE_ID].astype(str)).sum()
    return by_route.reindex(route_ids).fillna(0.0).to_numpy(dtype=float)


def _most_valuable(
    cost: np.ndarray, free_v: list[int], free_r: list[int], value: np.ndarray
) -> list[int]:
    """Pick the routes of the most total value the free volunteers can staff.

    Values are compared relative to the best route's; distance (relative to the
    farthest) breaks ties, weighing a thousandth as much.
    """
    sub = cost[np.ix_(free_v, free_r)]
    reach = sub < _BIG
    top = float(value[free_r].max()) or 1.0
    far = float(sub[reach].max()) if reach.any() else 1.0
    score = -value[free_r][None, :] / top + 1e-3 * sub / (far or 1.0)
    gain = np.where(reach, score, _BIG)
    rows, cols = linear_sum_assignment(gain)
    chosen = sorted(free_r[c] for r, c in zip(rows, cols, strict=True) if reach[r, c])
    return chosen or free_r


def _teams(
    vols: pd.DataFrame,
    routes: pd.DataFrame,
    cost: np.ndarray,
    taken: dict[int, int],
    flags: dict[int, str],
) -> None:
    """Give each team (two or more volunteers) the routes of one turf, nearest first."""
    teams = vols[vols["team"] != ""].groupby("team").groups
    turf_routes: dict[str, list[int]] = {}
    for j, t in enumerate(routes[schema.TURF_ID].astype(str)):
        turf_routes.setdefault(t, []).append(j)
    for team, members in sorted(teams.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        idx = [int(i) for i in members]
        if len(idx) < 2:
            continue
        best: tuple[float, list[tuple[int, int]]] | None = None
        for rlist in turf_routes.values():
            free = [j for j in rlist if j not in taken]
            if len(free) < len(idx):
                continue
            sub = cost[np.ix_(idx, free)]
            rr, cc = linear_sum_assignment(sub)
            total = float(sub[rr, cc].sum())
            if sub[rr, cc].max() >= _BIG or len(rr) < len(idx):
                continue
            if best is None or total < best[0]:
                best = (total, [(idx[a], free[b]) for a, b in zip(rr, cc, strict=True)])
        if best is None:
            for i in idx:
                flags[i] = f"team {team}: no turf with {len(idx)} free routes in reach"
            continue
        for i, j in best[1]:
            taken[j] = i
            flags[i] = f"team {team}"


def read_assignment(path: Path, plan: Plan) -> Assignment:
    """
    Read an assignment CSV back (as written, or edited by the field director).

    Rows for another run, for a route not in the run, or for a route already given
    on an earlier line are rejected with the reason; a row without a volunteer
    leaves its route unstaffed; a row without a route is a volunteer without one.

    Raises
    ------
    InputError
        If the file cannot be read or lacks ``route_id`` or ``volunteer``.
    """
    table = read_table(path, what="assignment file", header_only_ok=True)
    frame = table.frame.copy()
    frame.columns = [str(h).strip().lower() for h in table.header or []]
    if missing := [c for c in ("route_id", "volunteer") if c not in frame.columns]:
        msg = (
            f"{path}: the assignment file lacks the column(s) {missing}; write one "
            "with `canvass assign --roster ...` and edit it (docs/results.md)."
        )
        raise InputError(msg)
    routes = plan.routes
    turf_of = routes[schema.TURF_ID].astype(str)
    rejects = [
        {"file": table.name, "line": int(line), "reason": f"malformed row: {why}"}
        for line, why in zip(table.bad["line"], table.bad["reason"], strict=True)
    ]
    seen: dict[str, int] = {}
    out = []
    for line, rec in zip(frame.index, frame.to_dict("records"), strict=True):
        get = {k: str(v or "").strip() for k, v in rec.items()}
        run, rid, name = get.get("run_id", ""), get["route_id"], get["volunteer"]

        def reject(reason: str, line: int = int(line)) -> None:
            rejects.append({"file": table.name, "line": line, "reason": reason})

        if run and run != plan.run_id:
            reject(f"run {run[:40]!r}, not this run {plan.run_id}")
            continue
        if rid and rid not in turf_of.index:
            reject(f"route {rid[:40]!r} is not a route of run {plan.run_id}")
            continue
        if rid and rid in seen:
            reject(f"route {rid} already given on line {seen[rid]}")
            continue
        if not rid and not name:
            reject("neither route nor volunteer")
            continue
        car = get.get("has_car", "").lower()
        if car and car not in {"yes", "no", "y", "n", "true", "false", "1", "0"}:
            reject(f"has_car {car[:20]!r} is not yes or no")
            continue
        if rid:
            seen[rid] = int(line)
        out.append(
            {
                **{c: get.get(c, "") for c in ASSIGNMENT_COLUMNS},
                "run_id": plan.run_id,
                "route_id": rid,
                "turf_id": turf_of.get(rid, "") if rid else "",
                "volunteer": name,
                "first_name": first_name(name),
                "has_car": _CAR.get(car, car),
            }
        )
    for rid in sorted(set(turf_of.index.astype(str)) - set(seen)):
        out.append({**dict.fromkeys(ASSIGNMENT_COLUMNS, ""), "run_id": plan.run_id,
                    "route_id": rid, "turf_id": turf_of[rid],
                    "flag": "no volunteer (not in the file)"})  # fmt: skip
    frame_out = pd.DataFrame(out, columns=list(ASSIGNMENT_COLUMNS))
    bad = pd.DataFrame(rejects, columns=["file", "line", "reason"])
    return Assignment(frame_out, bad.sort_values("line", kind="stable"))


def _number(value: object) -> float | None:
    try:
        out = float(str(value))
    except ValueError:
        return None
    return out if np.isfinite(out) else None


def store_assignment(config: PlanConfig, assignment: Assignment, run_id: str) -> int:
    """
    Keep an assignment in the campaign database, replacing the run's previous one.

    Volunteers are kept by name with whether they have a car (never phone, email or
    home). One transaction.

    Returns
    -------
    n
        Assignments stored.
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    rows = assignment.assigned
    engine = db.open_db(config)
    try:
        with engine.begin() as conn:
            known = (
                conn.execute(
                    sa.select(db.routes.c.route_id).where(db.routes.c.run_id == run_id)
                )
                .scalars()
                .all()
            )
            if not known:
                msg = (
                    f"run {run_id} is not in the campaign database; assign routes "
                    "of a run `canvass run` recorded with this [campaign] db."
                )
                raise InputError(msg)
            conn.execute(
                db.assignments.delete().where(db.assignments.c.run_id == run_id)
            )
            ids: dict[str, int] = {}
            for name, car in zip(rows["volunteer"], rows["has_car"], strict=True):
                if name in ids:
                    continue
                has_car = {"yes": True, "no": False}.get(str(car))
                found = conn.execute(
                    sa.select(db.volunteers.c.volunteer_id).where(
                        db.volunteers.c.name == name
                    )
                ).scalar()
                if found is None:
                    res = conn.execute(
                        db.volunteers.insert().values(
                            name=name, created_at=now, has_car=has_car
                        )
                    )
                    key = res.inserted_primary_key
                    found = key[0] if key is not None else None
                elif has_car is not None:
                    conn.execute(
                        db.volunteers.update()
                        .where(db.volunteers.c.volunteer_id == found)
                        .values(has_car=has_car)
                    )
                ids[name] = int(str(found))
            records = [
                {
                    "run_id": run_id, "route_id": r["route_id"],
                    "volunteer_id": ids[r["volunteer"]], "assigned_at": now,
                    "reach_m": _number(r["reach_m"]),
                    "reach": str(r["reach"])[:20] or None,
                    "flag": str(r["flag"])[:200] or None,
                }
                for r in rows.to_dict("records")
            ]  # fmt: skip
            if records:
                conn.execute(db.assignments.insert(), records)
    finally:
        engine.dispose()
    return len(records)
