"""Paper results templates: ``results/<route>.csv``, one per printed walk list.

Each template lists the walk list's people in walking order, with empty ``date``,
``result``, ``come_back`` (when a "come back" asked to come back) and survey
columns for a volunteer or data-entry person to fill in a spreadsheet;
``canvass results import`` reads it back (docs/results.md). The columns that
identify the row (``run_id``, ``route_id``, ``voter_id``) must be left as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import pandas as pd

from .. import schema
from ._table import CSV_ENCODING, blank, safe_name, volunteer_label

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["TEMPLATE_COLUMNS", "write_results_templates"]

#: Columns of a results template, before one column per ``campaign.survey`` question.
TEMPLATE_COLUMNS: Final = (
    "run_id",
    "route_id",
    "volunteer",
    "stop",
    "door_id",
    "address",
    "unit",
    "voter_id",
    "name",
    "date",
    "result",
    "come_back",
)


def _name(first: object, last: object) -> str:
    f = "" if blank(first) else str(first).strip().title()
    la = "" if blank(last) else str(last).strip().title()
    return f"{f} {la}".strip()


def write_results_templates(
    plan: Plan, table: pd.DataFrame, out_dir: Path
) -> list[Path]:
    """
    Write ``results/<route>.csv`` for every route: the people to record results for.

    Parameters
    ----------
    plan
        The finished plan (its ``run_id`` and ``campaign.survey`` go in the file).
    table
        The walk-list table (:func:`canvass.outputs.walk_list_table`).
    out_dir
        The run folder; ``results/`` is created inside it.

    Returns
    -------
    paths
        One file per route, in route order.
    """
    folder = Path(out_dir) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    survey = list(plan.config.campaign.survey)
    people = table[table[schema.VOTER_ID].notna()]
    for col in (schema.ADDRESS, schema.UNIT, schema.FIRST_NAME, schema.LAST_NAME):
        if col not in people.columns:
            people = people.assign(**{col: ""})
    by_route = dict(iter(people.groupby(schema.ROUTE_ID, sort=False)))
    written = []
    for route_id in sorted(str(r) for r in plan.routes.index):
        rows = by_route.get(route_id, people.iloc[0:0])
        out = pd.DataFrame(
            {
                "run_id": plan.run_id,
                "route_id": route_id,
                "volunteer": [volunteer_label(v) for v in rows[schema.VOLUNTEER]],
                "stop": rows[schema.STOP].astype(int),
                "door_id": rows[schema.DOOR_ID].astype(str),
                "address": rows[schema.ADDRESS].fillna("").astype(str),
                "unit": rows[schema.UNIT].fillna("").astype(str),
                "voter_id": rows[schema.VOTER_ID].astype(str),
                "name": [
                    _name(f, la)
                    for f, la in zip(
                        rows[schema.FIRST_NAME], rows[schema.LAST_NAME], strict=True
                    )
                ],
                "date": plan.config.output.date,
                "result": "",
                "come_back": "",
            },
            columns=list(TEMPLATE_COLUMNS),
        )
        for q in survey:
            out[q] = ""
        path = folder / f"{safe_name(route_id)}.csv"
        out.to_csv(path, index=False, encoding=CSV_ENCODING, lineterminator="\n")
        written.append(path)
    return written
