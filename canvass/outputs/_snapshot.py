"""The plan's own tables, kept in the run folder (``plan/``) to write outputs again.

A run that records itself in a campaign database (``[campaign] db``) also keeps its
tables in ``<run folder>/plan/``: voters, vote history, elections, precincts, doors,
turfs, stops, routes, left-out doors and the precinct table as Parquet (GeoParquet for
the layers), and ``plan.json`` with the configuration, the run id and the reports.
``canvass assign`` writes the walk lists, PDFs, GPX tracks and route pages again from
them with the volunteers' first names, and ``canvass results import`` draws the
progress map, without planning again. The folder holds what the walk lists hold
(names and addresses): it stays inside the run folder (mode 0700, files 0600).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["PLAN_FOLDER", "read_plan_data", "write_plan_data"]

logger = logging.getLogger(__name__)

#: The folder inside a run folder that holds the plan's tables.
PLAN_FOLDER: Final = "plan"
_FRAMES: Final = (
    "voters",
    "history",
    "elections",
    "stops",
    "left_out",
    "precinct_table",
)
_LAYERS: Final = ("precincts", "doors", "turfs", "routes")
_FORMAT: Final = 1


def _storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns mixing types (ints and strings) become strings for Parquet."""
    out = frame
    for col in frame.columns:
        if col == "geometry" or frame[col].dtype != object:
            continue
        kinds = {type(v) for v in frame[col].dropna().to_numpy()[:10000]}
        if len(kinds) > 1 or (kinds and not kinds <= {str, bool, bytes}):
            if out is frame:
                out = frame.copy()
            out[col] = frame[col].map(lambda v: v if v is None else str(v))
    return out


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return obj.as_posix()
    return str(obj)


def write_plan_data(plan: Plan, out_dir: Path) -> list[Path]:
    """
    Keep a plan's tables in ``out_dir/plan/`` so its outputs can be written again.

    Parameters
    ----------
    plan
        A finished plan.
    out_dir
        The run folder (or its staging folder).

    Returns
    -------
    paths
        The files written.
    """
    folder = Path(out_dir) / PLAN_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in _FRAMES:
        frame = getattr(plan, name)
        path = folder / f"{name}.parquet"
        _storable(pd.DataFrame(frame)).to_parquet(path)
        written.append(path)
    for name in _LAYERS:
        layer = getattr(plan, name)
        path = folder / f"{name}.parquet"
        _storable(layer).to_parquet(path)
        written.append(path)
    meta = {
        "format": _FORMAT,
        "run_id": plan.run_id,
        "config": plan.config.to_dict(),
        "reports": plan.reports,
    }
    path = folder / "plan.json"
    path.write_text(json.dumps(meta, default=_default, sort_keys=True), "utf-8")
    written.append(path)
    return written


def read_plan_data(run_folder: Path) -> dict[str, Any]:
    """
    Read the tables :func:`write_plan_data` kept in a run folder.

    Parameters
    ----------
    run_folder
        The run folder (``maps/<run>``).

    Returns
    -------
    data
        ``run_id``, ``config`` (the configuration as a dict, ``base_dir``
        included), ``reports`` and one table per name of the plan.

    Raises
    ------
    InputError
        If the folder holds no plan tables (a run without ``[campaign] db``, or
        from an older canvass) or they cannot be read.
    """
    folder = Path(run_folder) / PLAN_FOLDER
    meta_path = folder / "plan.json"
    if not meta_path.is_file():
        msg = (
            f"{run_folder}: the run folder keeps no plan tables ({PLAN_FOLDER}/"
            "plan.json); only runs with a [campaign] db keep them. Plan again with "
            "`canvass run` and a campaign database."
        )
        raise InputError(msg)
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        data: dict[str, Any] = {
            "run_id": str(meta["run_id"]),
            "config": meta["config"],
            "reports": meta.get("reports", {}),
        }
        for name in _FRAMES:
            data[name] = pd.read_parquet(folder / f"{name}.parquet")
        for name in _LAYERS:
            data[name] = gpd.read_parquet(folder / f"{name}.parquet")
    except (OSError, ValueError, KeyError) as err:
        first = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        msg = f"{folder}: cannot read the plan tables ({first}); plan the run again."
        raise InputError(msg) from None
    return data
