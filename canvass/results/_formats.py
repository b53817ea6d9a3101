"""Read a results file of any of the kinds canvass imports into one row layout.

Three kinds are recognised by their header (docs/results.md has every column):

``phone``
    The route page's CSV (UTF-8, comma): ``event_id``, ``voter_id``, ``run_id``,
    ``route_id``, ``door_id``, ``time`` (ISO 8601), ``result``, ``volunteer``,
    optionally ``come_back`` (when a "come back" asked to come back) and one column
    per survey question.
``paper``
    A filled ``results/<route>.csv`` template of a run folder: ``run_id``,
    ``route_id``, ``voter_id``, ``date``, ``result``, ``volunteer``, optionally
    ``come_back``, and the survey columns (the other template columns are for
    the person filling it in).
``van``
    VAN's canvass-results (contact-history) export, UTF-16 tab-delimited, or a
    VAN bulk-upload CSV: ``Voter File VANID`` or ``VANID``, ``Date Canvassed``,
    ``Result``, optionally ``Contact Type``, ``Canvassed By`` and one column per
    survey question. Other columns are ignored.

Files are read by :func:`canvass.load.read_table` (encodings, byte-order marks,
compressed files, line numbers); a file that is not one of these kinds, lacks a
required column or cannot be read is a one-line :class:`~canvass.errors.InputError`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from .. import schema
from ..config import PlanConfig
from ..errors import InputError
from ..load import read_table

__all__ = [
    "PAPER_REQUIRED",
    "PHONE_COLUMNS",
    "PHONE_REQUIRED",
    "ResultsFile",
    "read_results_file",
]

logger = logging.getLogger(__name__)

#: The phone CSV's columns in order (survey questions follow ``volunteer``).
PHONE_COLUMNS: Final = schema.PHONE_COLUMNS
PHONE_REQUIRED: Final = ("event_id", "voter_id", "time", "result")
PAPER_REQUIRED: Final = ("run_id", "route_id", "voter_id", "date", "result")
_VAN_ID: Final = ("voter file vanid", "vanid")
_VAN_DATE: Final = "date canvassed"
#: The row layout every kind is read into (all strings; answers: question -> text).
FIELDS: Final = (
    "event_id",
    "voter_id",
    "run_id",
    "route_id",
    "when",
    "result",
    "volunteer",
    "contact_type",
    "come_back",
)


@dataclass(frozen=True)
class ResultsFile:
    """
    One results file read into the common layout.

    Parameters
    ----------
    path
        The file.
    name
        Its name for reports (``export.zip:member`` for a zip member).
    kind
        ``phone``, ``paper`` or ``van``.
    rows
        One row per data line (index: the line number), columns :data:`FIELDS`
        plus one ``q:<question>`` column per survey question in the file.
    bad
        Lines that could not be split into the header's fields: ``line``,
        ``reason``.
    """

    path: Path
    name: str
    kind: str
    rows: pd.DataFrame
    bad: pd.DataFrame

    @property
    def n_rows(self) -> int:
        """Data lines in the file (good and malformed)."""
        return len(self.rows) + len(self.bad)


def _kind(header: list[str]) -> str | None:
    names = set(header)
    if "event_id" in names:
        return "phone"
    if names & set(_VAN_ID):
        return "van"
    if {"run_id", "route_id", "voter_id"} <= names:
        return "paper"
    return None


def read_results_file(path: Path, config: PlanConfig) -> ResultsFile:
    """
    Read one results file (phone CSV, paper template or VAN file).

    Parameters
    ----------
    path
        The file; plain or compressed, any encoding :func:`canvass.load.read_table`
        reads (VAN's UTF-16 included).
    config
        The configuration: ``[campaign]`` survey questions name the answer columns.

    Returns
    -------
    ResultsFile
        The rows in the common layout, and the malformed lines.

    Raises
    ------
    InputError
        If the file cannot be read, is not a results file, repeats a column or
        lacks a required one.
    """
    table = read_table(path, what="results file")
    original = table.header or []
    header = [h.strip().lower() for h in original]
    frame = table.frame.copy()
    frame.columns = header
    if len(set(header)) < len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        msg = f"{path}: the results file has the column(s) {twice} twice; keep one."
        raise InputError(msg)
    kind = _kind(header)
    if kind is None:
        msg = (
            f"{path}: not a results file canvass knows: it needs the columns of a "
            f"phone CSV ({', '.join(PHONE_REQUIRED)}), a paper template "
            f"({', '.join(PAPER_REQUIRED)}) or a VAN export (Voter File VANID, "
            f"Date Canvassed, Result); found {original[:8]} (see docs/results.md)."
        )
        raise InputError(msg)
    questions = config.campaign.all_questions
    if kind == "van":
        vid = next(c for c in _VAN_ID if c in header)
        required: tuple[str, ...] = (vid, _VAN_DATE)
        mapping = {
            "voter_id": vid,
            "when": _VAN_DATE,
            "result": "result",
            "volunteer": "canvassed by",
            "contact_type": "contact type",
        }
        asked = [q for q in questions if q in header]
        if "result" not in header and not asked:
            required = (*required, "result")
    elif kind == "phone":
        required = PHONE_REQUIRED
        mapping = {f: f for f in FIELDS if f != "when"} | {"when": "time"}
        asked = [q for q in questions if q in header]
    else:
        required = PAPER_REQUIRED
        mapping = {f: f for f in FIELDS if f != "when"} | {"when": "date"}
        asked = [q for q in questions if q in header]
    if missing := [c for c in required if c not in header]:
        msg = (
            f"{path}: the {kind} results file lacks the column(s) {missing}; "
            "see docs/results.md for its columns."
        )
        raise InputError(msg)
    rows = pd.DataFrame(index=frame.index)
    for name in FIELDS:
        source = mapping.get(name, "")
        rows[name] = (
            frame[source].astype(str).str.strip() if source in frame.columns else ""
        )
    for q in asked:
        rows[f"q:{q}"] = frame[q].astype(str).str.strip()
    used = {*mapping.values(), *asked}
    if ignored := [h for h in header if h not in used]:
        logger.debug("%s: %s column(s) not imported", table.name, len(ignored))
    return ResultsFile(table.path, table.name, kind, rows, table.bad)
