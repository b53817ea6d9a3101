"""Write a run's route outputs again with the volunteers' first names.

Once volunteers are assigned (``canvass assign``), each route's walk list PDF, route
page, GPX track, walk-list CSVs, paper results template, the turf map and the index
carry the first name of the volunteer walking it (only the first name) instead of
"Volunteer 1". They are written from the plan the run folder keeps (``plan/``), into
a staging folder first and then moved over the old files, so an interruption leaves
the old ones. A paper results template that someone has started filling in (a
result or an answer written) is kept as it is. With ``campaign.serve_url`` the QR
codes keep the run's ``canvass serve`` keys (``serve_secrets.json``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import schema
from ._folder import _private_umask
from ._links import SECRETS_FILE

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["rewrite_route_outputs", "with_volunteer_names"]

logger = logging.getLogger(__name__)

_FIXED_TEMPLATE_COLUMNS = {
    "run_id", "route_id", "volunteer", "stop", "door_id", "address", "unit",
    "voter_id", "name", "date",
}  # fmt: skip


def with_volunteer_names(plan: Plan, names: dict[str, str]) -> Plan:
    """
    Return a copy of `plan` whose routes name their volunteer.

    Parameters
    ----------
    plan
        A plan.
    names
        Route id -> the volunteer's first name; routes not in it keep their slot.

    Returns
    -------
    Plan
        Same tables, with ``volunteer`` of routes and stops set to the names.
    """
    routes = plan.routes.copy()
    stops = plan.stops.copy()
    rid = routes.index.astype(str)
    slot = routes[schema.VOLUNTEER].astype(object)
    routes[schema.VOLUNTEER] = [
        names.get(r) or s for r, s in zip(rid, slot, strict=True)
    ]
    by_route = dict(zip(rid, routes[schema.VOLUNTEER], strict=True))
    stop_slot = stops[schema.VOLUNTEER].astype(object)
    stops[schema.VOLUNTEER] = [
        by_route.get(str(r)) if str(r) in names else s
        for r, s in zip(stops[schema.ROUTE_ID], stop_slot, strict=True)
    ]
    return dataclasses.replace(plan, routes=routes, stops=stops)


def _filled(path: Path) -> bool:
    """Return True when a results template has a result or an answer written in."""
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except (OSError, ValueError):
        return True  # unreadable: do not overwrite what someone may have typed
    cols = [c for c in frame.columns if c not in _FIXED_TEMPLATE_COLUMNS]
    return bool(len(frame)) and bool(
        (frame[cols].astype(str).apply(lambda s: s.str.strip()) != "").any().any()
    )


def rewrite_route_outputs(plan: Plan, run_folder: Path) -> dict[str, list[Path]]:
    """
    Write the route outputs of `plan` into its run folder again.

    Parameters
    ----------
    plan
        The run's plan with volunteers' names (:func:`with_volunteer_names`).
    run_folder
        The run folder it was written to.

    Returns
    -------
    files
        Written files by kind (``csv``, ``pdf``, ``gpx``, ``results``, ``pages``,
        ``maps``, ``index``), and ``kept``: filled-in results templates left as
        they were.
    """
    from . import _maps as maps
    from ._walklists import write_walk_lists

    run_folder = Path(run_folder)
    staging = run_folder / ".assign.partial"
    if staging.exists():
        shutil.rmtree(staging)
    with _private_umask():
        staging.mkdir(mode=0o700)
        keys = run_folder / SECRETS_FILE  # the QR codes keep the routes' serve keys
        if keys.is_file():
            shutil.copy2(keys, staging / SECRETS_FILE)
        try:
            files: dict[str, list[Path]] = dict(write_walk_lists(plan, staging))
            if (staging / SECRETS_FILE).is_file():  # keys made now for new routes
                files["keys"] = [staging / SECRETS_FILE]
            files["pages"] = maps.write_route_pages(plan, staging)
            files["maps"] = [maps.write_director_map(plan, staging)]
            files["index"] = _index(plan, run_folder, staging)
            kept: list[Path] = []
            for kind, paths in files.items():
                for path in paths:
                    target = run_folder / path.relative_to(staging)
                    if kind == "results" and target.exists() and _filled(target):
                        kept.append(target)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    path.replace(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    out = {
        kind: [run_folder / p.relative_to(staging) for p in paths]
        for kind, paths in files.items()
    }
    out["kept"] = kept
    for path in kept:
        logger.warning(
            "%s: someone has started filling in this results template; kept as it "
            "was (its volunteer column is not renamed)",
            path.name,
        )
    return out


def _index(plan: Plan, run_folder: Path, staging: Path) -> list[Path]:
    """Write the run's index.html again from its summary.json (when it has one)."""
    from ._pages import write_index

    path = run_folder / "summary.json"
    if not path.is_file():
        return []
    summary: dict[str, Any] = json.loads(path.read_text("utf-8"))
    files = {
        kind: [staging / p for p in paths]
        for kind, paths in summary.get("files", {}).items()
    }
    return [write_index(plan, staging, files, summary)]
