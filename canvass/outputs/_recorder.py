"""The results recorder of a volunteer route page (issue 18, points 1 and 2).

Every targeted voter on a route page gets one button per result code (the codes of
the walk lists, :data:`RESULT_CODES`) and, once contacted, the ``campaign.survey``
questions; after "Come back", when to come back (:data:`COME_BACK_CHOICES`).
``static/recorder.js`` keeps what is tapped in the browser's storage (IndexedDB,
localStorage where IndexedDB is missing) as an append-only log, shows how many
results are not yet sent, shares or downloads them as the phone CSV that
``canvass results import`` reads, and, on a page served by ``canvass serve``, sends
them to the organiser's laptop. It needs neither the map nor a connection.

This module builds the recorder's configuration (JSON embedded in the page) from the
route page's data; :mod:`._pages` renders it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .. import schema
from ._table import RESULT_CODES

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "COME_BACK_CHOICES",
    "PHONE_CSV_COLUMNS",
    "recorder_config",
    "recorder_script",
]

_STATIC: Final = Path(__file__).parent / "static"
#: The phone CSV's columns before the survey questions (what the import reads).
PHONE_CSV_COLUMNS: Final = schema.PHONE_COLUMNS
#: The times a "come back" can ask for on the phone (``come_back`` column values).
COME_BACK_CHOICES: Final = (
    ("weekday_evening", "Weekday evening"),
    ("weekend_day", "Weekend day"),
    ("weekend_evening", "Weekend evening"),
    ("weekday_day", "Weekday day"),
)
_QUESTION_LABELS: Final = {
    "support_1_5": "Support (1 = strong, 5 = opposed)",
    "will_volunteer": "Will volunteer",
    "needs_ride": "Needs a ride to vote",
}


@cache
def recorder_script() -> str:
    """Return ``static/recorder.js``, safe to inline in a ``<script>`` element."""
    js = (_STATIC / "recorder.js").read_text(encoding="utf-8")
    return js.replace("</script", "<\\/script")


def _label(question: str) -> str:
    if question in _QUESTION_LABELS:
        return _QUESTION_LABELS[question]
    return question.replace("_", " ").capitalize()


def recorder_config(plan: Plan, data: dict[str, Any]) -> dict[str, Any]:
    """
    Return the recorder's configuration for one route page.

    Parameters
    ----------
    plan
        The finished plan (its run id, run name and ``campaign.survey``).
    data
        The page's :func:`~canvass.outputs.route_page_data` (not redacted): the
        stops with their door and targeted voters.

    Returns
    -------
    config
        JSON-ready: ``page`` (the storage key: run and route), ``run_id``,
        ``route_id``, ``volunteer``, ``codes`` (code, mark, label), ``survey``
        (question, label, answers), ``come_back`` (the times a "come back" can
        ask for: value, label), ``columns`` (the CSV header) and ``stops``
        (stop number -> door id and people: voter id and the label shown).
    """
    campaign = plan.config.campaign
    questions = campaign.all_questions
    route = data["route"]
    stops: dict[str, Any] = {}
    for s in data["stops"]:
        people = s.get("voters", [])
        if people:
            stops[str(s["n"])] = {"door": s["door_id"], "people": people}
    return {
        "page": f"{plan.run_id or plan.config.run_name}|{route['id']}",
        "run_id": plan.run_id,
        "route_id": route["id"],
        "volunteer": route["volunteer"],
        "codes": [list(c) for c in RESULT_CODES],
        "survey": [[q, _label(q), list(questions[q])] for q in campaign.survey],
        "come_back": [list(c) for c in COME_BACK_CHOICES],
        "columns": [*PHONE_CSV_COLUMNS, *campaign.survey],
        "stops": stops,
    }
