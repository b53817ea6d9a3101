"""Stage 9, results: what comes back from the doors, and the campaign database.

Results come back as phone CSVs, filled paper templates (``results/<route>.csv`` of
a run folder) and VAN exports; :func:`import_results` loads them into the campaign
database (SQLite or PostgreSQL, ``[campaign] db``), every row imported or rejected
with the reason, in one transaction. Runs record themselves there
(:func:`record_run`), the next plan leaves out the doors whose people are done
(:func:`apply_history`), and :func:`export_results` writes the history back out for
VAN. docs/results.md describes every file.
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
from ._serve import check_host, local_address, make_server

__all__ = [
    "ATTEMPTS",
    "DONE",
    "DOOR_DONE",
    "LAST_RESULT",
    "PHONE_COLUMNS",
    "SCHEMA_VERSION",
    "VAN_NAMES",
    "FileCounts",
    "ImportReport",
    "apply_history",
    "check_host",
    "door_attempts",
    "export_results",
    "import_results",
    "local_address",
    "make_server",
    "new_run_id",
    "open_db",
    "parse_result",
    "record_run",
]
