"""Stage 9, results: what comes back from the doors, and the campaign database.

Results come back as phone CSVs, filled paper templates (``results/<route>.csv`` of
a run folder) and VAN exports; :func:`import_results` loads them into the campaign
database (SQLite or PostgreSQL, ``[campaign] db``), every row imported or rejected
with the reason, in one transaction. Runs record themselves there
(:func:`record_run`), the next plan leaves out the doors whose people are done
(:func:`apply_history`) and values the rest by the next knock (:func:`next_knock`,
docs/replan.md; with the shift's volunteers known, :func:`choose_doors` keeps the
doors worth most per minute of work, and doors left out come back when the shift
has volunteers to spare, :func:`doors_to_fill`), and :func:`export_results` writes
the history back out for VAN.
:func:`run_progress` counts a run's progress with quality flags for the field
director; :func:`read_roster`, :func:`assign_volunteers` and
:func:`store_assignment` put named volunteers on its routes. docs/results.md
describes every file.
"""

from __future__ import annotations

from ._assign import (
    ASSIGNMENT_COLUMNS,
    MAX_WALK_M,
    WALK_FACTOR,
    Assignment,
    assign_volunteers,
    read_assignment,
    store_assignment,
)
from ._choose import NO_TIME, choose_doors, door_work_s
from ._codes import DONE, DOOR_DONE, VAN_NAMES, parse_result
from ._contact import ContactModel, fit_contact_model
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
from ._progress import (
    FLAG_COLUMNS,
    MIN_KNOCKS,
    PROGRESS_COLUMNS,
    Progress,
    run_folders,
    run_progress,
)
from ._replan import P_CONTACT, door_visits, next_knock, read_attempts
from ._roster import ROSTER_COLUMNS, Roster, first_name, read_roster
from ._serve import check_host, local_address, make_server
from ._spare import CAP_CEILING_EXTRA, doors_to_fill, reserve_order, spare_report
from ._stable import keep_turf_ids, previous_turfs, settle_turfs

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "ATTEMPTS",
    "CAP_CEILING_EXTRA",
    "DONE",
    "DOOR_DONE",
    "FLAG_COLUMNS",
    "LAST_RESULT",
    "MAX_WALK_M",
    "MIN_KNOCKS",
    "NO_TIME",
    "PHONE_COLUMNS",
    "PROGRESS_COLUMNS",
    "P_CONTACT",
    "ROSTER_COLUMNS",
    "SCHEMA_VERSION",
    "VAN_NAMES",
    "WALK_FACTOR",
    "Assignment",
    "ContactModel",
    "FileCounts",
    "ImportReport",
    "Progress",
    "Roster",
    "apply_history",
    "assign_volunteers",
    "check_host",
    "choose_doors",
    "door_attempts",
    "door_visits",
    "door_work_s",
    "doors_to_fill",
    "export_results",
    "first_name",
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
    "read_assignment",
    "read_attempts",
    "read_roster",
    "record_run",
    "reserve_order",
    "run_folders",
    "run_progress",
    "settle_turfs",
    "spare_report",
    "store_assignment",
]
