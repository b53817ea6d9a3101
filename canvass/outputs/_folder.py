"""Write a plan's run folder: atomically, reproducibly and readable by the owner only.

Everything is written into a staging folder next to the destination and moved into
place only when complete, so an interrupted run (Ctrl-C, a kill, a crash in a writer)
leaves the previous outputs intact. The folder is created with mode 0700 and files
0600, because walk lists carry voters' names. ``manifest.json`` records the config,
input checksums, package versions and seed; its ``created_at`` is the one field that
differs between two runs with the same inputs, config and seed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import hashlib
import json
import logging
import os
import platform
import shutil
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError
from ..load import split_member

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["input_files", "manifest", "recover_interrupted", "write_plan"]

logger = logging.getLogger(__name__)

PACKAGES = (
    "canvass",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
    "pandas",
    "numpy",
    "networkx",
    "osmnx",
    "scipy",
    "ortools",
    "folium",
    "scikit-learn",
    "fpdf2",
)


def _staging(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.partial"


def _previous(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.previous"


def recover_interrupted(out_dir: Path) -> str | None:
    """
    Clean up after a run that was interrupted while writing `out_dir`.

    Returns
    -------
    note
        What was done, or None if there was nothing to recover.
    """
    out_dir = Path(out_dir)
    note = None
    staging, previous = _staging(out_dir), _previous(out_dir)
    if staging.exists():
        shutil.rmtree(staging)
        note = f"removed the incomplete outputs of an interrupted run ({staging.name})"
    if previous.exists():
        if out_dir.exists():
            shutil.rmtree(previous)
        else:  # interrupted between the two renames of the swap
            previous.rename(out_dir)
            note = f"restored the previous outputs in {out_dir}"
    return note


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return obj.as_posix()
    msg = f"cannot write {type(obj).__name__} to JSON"
    raise TypeError(msg)


def _write_json(path: Path, data: Any) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True, default=_json_default)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_files(plan_config: Any) -> list[Path]:
    """
    List the input files a configuration names (globs expanded, folders walked).

    Parameters
    ----------
    plan_config
        A :class:`~canvass.config.PlanConfig`.

    Returns
    -------
    paths
        Existing input files, sorted.
    """
    inputs = plan_config.inputs
    patterns = [
        *inputs.voters,
        *inputs.history,
        inputs.precincts,
        inputs.streets,
        inputs.address_points,
        inputs.do_not_knock,
    ]
    found: set[Path] = set()
    for pattern in filter(None, patterns):
        path = split_member(plan_config.resolve(pattern), globs=True)[0]  # the zip
        for hit in sorted(glob.glob(str(path))) or [str(path)]:  # noqa: PTH207
            p = Path(hit)
            if p.is_dir():
                found.update(q for q in p.rglob("*") if q.is_file())
            elif p.is_file():
                found.add(p)
    return sorted(found)


def manifest(plan: Plan) -> dict[str, Any]:
    """
    Describe how a plan was made: config, input checksums, versions and seed.

    Returns
    -------
    manifest
        JSON-ready data. ``created_at`` is the only field that changes between two
        runs with the same inputs, config and seed.
    """
    base = Path(plan.config.base_dir)
    files = {}
    for path in input_files(plan.config):
        try:
            key = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            key = path.resolve().as_posix()
        files[key] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - optional package absent
            versions[name] = None
    config = plan.config.to_dict()
    config.pop("base_dir", None)  # machine-specific; inputs are listed relative to it
    return {
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "seed": plan.config.seed,
        "config": config,
        "inputs": files,
        "python": platform.python_version(),
        "packages": versions,
    }


#: Columns of ``verify_addresses.csv``, the data director's list of addresses that
#: matched nothing (their doors stand at a precinct's centre).
VERIFY_COLUMNS = (
    schema.DOOR_ID,
    schema.ADDRESS,
    schema.ZIP5,
    "file_precinct_id",
    schema.N_VOTERS,
    schema.N_TARGETS,
    "routed",
    schema.GEOCODE_DETAIL,
)


def _verify_addresses(plan: Plan) -> pd.DataFrame:
    """Target doors placed only at a precinct centre: addresses to check."""
    doors = plan.doors
    if schema.GEOCODE_METHOD not in doors.columns:
        return pd.DataFrame(columns=list(VERIFY_COLUMNS))
    sel = (doors[schema.GEOCODE_METHOD] == "centroid") & (
        doors[schema.N_TARGETS].fillna(0) > 0
    )
    out = pd.DataFrame(doors[sel].drop(columns="geometry")).rename_axis(schema.DOOR_ID)
    out = out.reset_index()
    out["routed"] = out[schema.DOOR_ID].isin(plan.stops[schema.DOOR_ID])
    for col in VERIFY_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    return out[list(VERIFY_COLUMNS)].sort_values(["file_precinct_id", schema.ADDRESS])


def _write_tables(plan: Plan, root: Path) -> list[Path]:
    written = []
    table = plan.precinct_table.copy()
    written.append(root / "precincts.csv")
    table.to_csv(written[-1], float_format="%.4f", lineterminator="\n")
    written.append(root / "left_out.csv")
    plan.left_out.to_csv(
        written[-1], index=False, float_format="%.4f", lineterminator="\n"
    )
    written.append(root / "verify_addresses.csv")
    _verify_addresses(plan).to_csv(written[-1], index=False, lineterminator="\n")
    written.append(root / "rejects.csv")
    rejects = plan.rejects if len(plan.rejects.columns) else None
    if rejects is None:
        written[-1].write_text("file,line,reason\n", encoding="utf-8")
    else:
        rejects.to_csv(written[-1], index=False, lineterminator="\n")
    return written


def write_plan(plan: Plan, out_dir: Path) -> dict[str, list[Path]]:
    """
    Write every output of `plan` into `out_dir`, replacing it only when complete.

    Parameters
    ----------
    plan
        A finished plan from :func:`canvass.pipeline.run`.
    out_dir
        The run folder, e.g. ``maps/demo``. Its parent is created if needed.

    Returns
    -------
    files
        Written files by kind (``csv``, ``pdf``, ``gpx``, ``pages``, ``maps``,
        ``reports``, ``index``), as paths inside `out_dir`.

    Raises
    ------
    InputError
        If `out_dir` exists and is a file.
    """
    from ..score import write_backtest_report
    from . import _maps as maps
    from . import _walklists as walklists  # heavy: folium, fpdf2, matplotlib

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"{out_dir} is a file; give --out a folder name."
        raise InputError(msg)
    note = recover_interrupted(out_dir)
    if note:
        logger.warning("Output folder: %s", note)
    staging = _staging(out_dir)
    with _private_umask():
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir(mode=0o700)
        try:
            files: dict[str, list[Path]] = {}
            files.update(walklists.write_walk_lists(plan, staging))
            files["maps"] = [maps.write_director_map(plan, staging)]
            files["pages"] = maps.write_route_pages(plan, staging)
            reports = _write_tables(plan, staging)
            if plan.backtest:
                reports.insert(0, write_backtest_report(plan.backtest, staging))
            files["reports"] = reports
            if plan.supporters is not None:
                files["supporters"] = _write_supporters(plan, staging / "supporters")
            if plan.config.campaign.db:  # kept to write outputs again (assign)
                from ._snapshot import write_plan_data

                files["plan"] = write_plan_data(plan, staging)
            summary = plan.summary()
            summary["files"] = {
                kind: sorted(p.relative_to(staging).as_posix() for p in paths)
                for kind, paths in sorted(files.items())
            }
            files["reports"].append(_write_json(staging / "summary.json", summary))
            files["reports"].append(
                _write_json(staging / "manifest.json", manifest(plan))
            )
            files["index"] = [maps.write_index(plan, staging, files, summary)]
            _swap(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    logger.info(
        "Wrote %s files to %s", f"{sum(len(v) for v in files.values()):,}", out_dir
    )
    return {
        kind: [out_dir / p.relative_to(staging) for p in paths]
        for kind, paths in files.items()
    }


def _write_supporters(plan: Plan, folder: Path) -> list[Path]:
    """Write the run's supporter match files, with the volunteers' nearest turfs."""
    from ..match import volunteer_roster, write_match_outputs

    result = plan.supporters
    if result is None:  # pragma: no cover - checked by the caller
        return []
    roster = volunteer_roster(result, plan.voters, doors=plan.doors, turfs=plan.turfs)
    settings = plan.config.to_dict().get("supporters", {})
    return write_match_outputs(result, folder, roster=roster, config=settings)


def _swap(staging: Path, out_dir: Path) -> None:
    """Move the finished staging folder into place, keeping the old one until then."""
    previous = _previous(out_dir)
    if out_dir.exists():
        out_dir.rename(previous)
    staging.rename(out_dir)
    if previous.exists():
        shutil.rmtree(previous)
    out_dir.chmod(0o700)
