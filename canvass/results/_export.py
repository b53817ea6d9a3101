"""Export the contact history: VAN bulk-upload columns, or a plain history CSV.

``van``: ``VANID``, ``Date Canvassed`` (M/D/YYYY), ``Contact Type``, ``Result``
(VAN's result name, ``Canvassed`` for a contact) and one column per survey question,
for VAN's bulk upload. ``csv``: every attempt with all its fields. Both are UTF-8
CSV files written readable by their owner only (they hold voter ids).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Final, Literal

import pandas as pd
import sqlalchemy as sa

from ..config import PlanConfig
from . import _db as db
from ._codes import VAN_NAMES

__all__ = ["HISTORY_COLUMNS", "VAN_COLUMNS", "export_results"]

logger = logging.getLogger(__name__)

#: VAN bulk-upload columns before the survey questions.
VAN_COLUMNS: Final = ("VANID", "Date Canvassed", "Contact Type", "Result")
#: History CSV columns; the survey questions come after ``result``.
HISTORY_COLUMNS: Final = (
    "event_id",
    "voter_id",
    "door_id",
    "run_id",
    "route_id",
    "volunteer",
    "contacted_at",
    "date",
    "result",
)
_TAIL: Final = ("source", "contact_type")


def _read(config: PlanConfig, since: str) -> pd.DataFrame:
    engine = db.open_db(config)
    q = sa.select(db.events).order_by(db.events.c.contacted_at, db.events.c.event_id)
    if since:
        q = q.where(db.events.c.contact_date >= dt.date.fromisoformat(since))
    try:
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
    finally:
        engine.dispose()
    columns = [c.name for c in db.events.columns]
    return pd.DataFrame(rows, columns=columns)


def export_results(
    config: PlanConfig,
    fmt: Literal["van", "csv"],
    out: Path,
    *,
    since: str = "",
) -> int:
    """
    Write the campaign's contact attempts as a VAN bulk-upload file or a history CSV.

    Parameters
    ----------
    config
        The configuration (``campaign.db``; ``campaign.survey`` orders the answer
        columns, questions answered but not in it follow alphabetically).
    fmt
        ``van`` or ``csv``.
    out
        The file to write (mode 0600).
    since
        Only attempts on or after this ISO date (empty = all).

    Returns
    -------
    rows
        Attempts written.
    """
    events = _read(config, since)
    answered = sorted(
        {q for a in events["answers"] for q in (a or {})} - set(config.campaign.survey)
    )
    questions = [*config.campaign.survey, *answered]
    answers = pd.DataFrame(
        [{q: (a or {}).get(q, "") for q in questions} for a in events["answers"]],
        columns=questions,
        index=events.index,
    )
    dates = pd.to_datetime(events["contact_date"])
    if fmt == "van":
        frame = pd.DataFrame(
            {
                "VANID": events["voter_id"],
                "Date Canvassed": [f"{d.month}/{d.day}/{d.year}" for d in dates],
                "Contact Type": events["contact_type"].str.title(),
                "Result": events["result"].map(VAN_NAMES),
            },
            columns=list(VAN_COLUMNS),
        )
    else:
        frame = events.assign(date=dates.dt.strftime("%Y-%m-%d"))[list(HISTORY_COLUMNS)]
    frame = pd.concat([frame, answers], axis=1)
    if fmt == "csv":
        frame = pd.concat([frame, events[list(_TAIL)]], axis=1)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False, lineterminator="\n")
    logger.info("Exported %s attempts (%s) to %s", len(frame), fmt, out)
    return len(frame)
