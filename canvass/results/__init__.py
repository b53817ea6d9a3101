"""Stage 9, results: what comes back from the doors, and the campaign database.

Results come back as phone CSVs, filled paper templates (``results/<route>.csv`` of
a run folder) and VAN exports; :func:`import_results` loads them into the campaign
database (SQLite or PostgreSQL, ``[campaign] db``), every row imported or rejected
with the reason, in one transaction. Runs record themselves there
(:func:`record_run`), the next plan leaves out the doors whose people are done
(:func:`apply_history`) and values the rest by the next knock (:func:`next_knock`,
docs/replan.md; doors left out come back when the shift has volunteers to spare,
:func:`doors_to_fill`), and :func:`export_results` writes the history back out for VAN.
docs/results.md describes every file.
"""

from __future__ import annotations

from ._codes import DONE, DOOR_DONE, VAN_NAMES, parse_result
from ._db import SCHEMA_VERSION, open_db
from ._export import export_results
from ._formats import PHONE_COLUMNS
from ._history import (
    ATTEMPTS,
    LAST_RESULT,
    apply_history,
    door_attempts,
    new_run_id,
    record_run,
)
from ._import import FileCounts, ImportReport, import_results
from ._replan import (
    P_CONTACT,
    ContactModel,
    door_visits,
    fit_contact_model,
    keep_turf_ids,
    next_knock,
    previous_turfs,
    read_attempts,
)
from ._serve import check_host, local_address, make_server
from ._spare import CAP_CEILING_EXTRA, doors_to_fill, reserve_order, spare_report

__all__ = [
    "ATTEMPTS",
    "CAP_CEILING_EXTRA",
    "DONE",
    "DOOR_DONE",
    "LAST_RESULT",
    "PHONE_COLUMNS",
    "P_CONTACT",
    "SCHEMA_VERSION",
    "VAN_NAMES",
    "ContactModel",
    "FileCounts",
    "ImportReport",
    "apply_history",
    "check_host",
    "door_attempts",
    "door_visits",
    "doors_to_fill",
    "export_results",
    "fit_contact_model",
    "import_results",
    "keep_turf_ids",
    "local_address",
    "make_server",
    "new_run_id",
    "next_knock",
    "open_db",
    "parse_result",
    "previous_turfs",
    "read_attempts",
    "record_run",
    "reserve_order",
    "spare_report",
]
