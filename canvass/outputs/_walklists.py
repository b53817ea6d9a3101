"""Stage 8a: walk lists — CSV per turf and for the run, a PDF and a GPX per route.

The rows come from :mod:`._table` (one per listed voter at every routed door, in
walking order, VAN list-export columns); with ``output.redact`` the CSVs list street
blocks with door and target counts instead of names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import schema
from ._links import route_secrets, served_link
from ._table import CSV_COLUMNS, CSV_ENCODING, block_table, safe_name, walk_list_table
from ._templates import write_results_templates

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["write_walk_lists"]

logger = logging.getLogger(__name__)


def _write_csv(frame: pd.DataFrame, path: Path, rename: dict[str, str]) -> Path:
    out = frame.rename(columns=rename)
    if "Target" in out.columns:
        out["Target"] = np.where(frame[schema.IS_TARGET], "Y", "")
    out.to_csv(path, index=False, encoding=CSV_ENCODING, lineterminator="\n")
    return path


def write_walk_lists(
    plan: Plan,
    out_dir: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[Path]]:
    """
    Write the walk lists, a PDF and a GPX per route, and results templates.

    The lists are a CSV per turf and ``all.csv``; unless redacted, every route also
    gets a paper results template ``results/<route>.csv``.

    Parameters
    ----------
    plan
        A finished plan.
    out_dir
        The run folder; ``walklists/`` and ``gpx/`` are created inside it.
    progress
        Optional callback ``(routes done, routes total)``.

    Returns
    -------
    files
        ``{"csv": [...], "pdf": [...], "gpx": [...], "results": [...]}``,
        ``all.csv`` last among the CSVs (no ``results`` when redacted).
    """
    from . import _gpx as gpx
    from . import _pdf as pdf  # heavy: fpdf2, matplotlib, segno

    out_dir = Path(out_dir)
    lists = out_dir / "walklists"
    tracks = out_dir / "gpx"
    lists.mkdir(parents=True, exist_ok=True)
    tracks.mkdir(parents=True, exist_ok=True)
    redact = plan.config.output.redact
    if redact:
        table = block_table(plan)
        rename = {schema.STOP: "block_no", "block": "street_block"}
    else:
        table = walk_list_table(plan)
        rename = dict(CSV_COLUMNS)
    files: dict[str, list[Path]] = {"csv": [], "pdf": [], "gpx": []}
    listed = table.drop(columns=["x", "y"]) if redact else table
    for turf_id, rows in listed.groupby(schema.TURF_ID, sort=True):
        path = lists / f"{safe_name(str(turf_id))}.csv"
        files["csv"].append(_write_csv(rows, path, rename))
    files["csv"].append(_write_csv(listed, lists / "all.csv", rename))

    route_ids = sorted(str(r) for r in plan.routes.index)
    by_route = dict(iter(table.groupby(schema.ROUTE_ID, sort=False)))
    serve_url = plan.config.campaign.serve_url
    keys = route_secrets(out_dir, route_ids) if serve_url and not redact else {}
    for i, route_id in enumerate(route_ids):
        rows = by_route.get(route_id, table.iloc[0:0])
        name = safe_name(route_id)
        files["pdf"].append(
            pdf.write_route_pdf(
                plan,
                route_id,
                rows,
                lists / f"{name}.pdf",
                link=served_link(serve_url, route_id, keys[route_id]) if keys else "",
            )
        )
        files["gpx"].append(
            gpx.write_route_gpx(
                plan, route_id, tracks / f"{name}.gpx", blocks=table if redact else None
            )
        )
        if progress is not None:
            progress(i + 1, len(route_ids))
    if not redact:  # templates carry names: not with a redacted run
        files["results"] = write_results_templates(plan, table, out_dir)
    if keys:
        logger.info(
            "QR codes on the walk lists open the route pages on `canvass serve` at %s",
            serve_url,
        )
    elif route_ids and not plan.config.output.page_base_url:
        logger.info(
            "QR codes on the walk lists hold the relative path routes/<route>.html; "
            "set output.page_base_url to where the pages are published, or "
            "campaign.serve_url for `canvass serve`, so phones can open them"
        )
    people = 0 if redact else int(table[schema.VOTER_ID].notna().sum())
    logger.info(
        "Wrote walk lists for %s routes in %s turfs (%s doors, %s people%s)",
        f"{len(route_ids):,}",
        f"{len(files['csv']) - 1:,}",
        f"{plan.stops[schema.DOOR_ID].nunique():,}",
        f"{people:,}",
        ", redacted to blocks" if redact else "",
    )
    return files
