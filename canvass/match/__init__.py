"""Supporter matching: link the chapter's supporter list to the voter file.

:func:`read_supporters` reads CSV/XLSX exports of Action Network, EveryAction,
NationBuilder, ActBlue, Mobilize or any spreadsheet (``[supporters]``);
:func:`match_supporters` links each supporter to at most one voter with a
Fellegi-Sunter model trained on the data (Splink on DuckDB);
:func:`write_match_outputs` writes the matches, the review file, the unmatched and the
match report; :func:`volunteer_roster` turns volunteers on the list into the roster;
:func:`precision_cut` finds the threshold whose matches are expected to reach a
precision, from the model's own probabilities.
"""

from __future__ import annotations

from ._match import (
    CAPPED_REASONS,
    MatchResult,
    explain_pairs,
    match_supporters,
    precision_cut,
)
from ._outputs import (
    MATCH_COLUMNS,
    ROSTER_COLUMNS,
    flag_voters,
    volunteer_roster,
    write_match_outputs,
)
from ._read import ALIASES, FIELDS, TOOL_SIGNATURES, SupporterList, read_supporters

__all__ = [
    "ALIASES",
    "CAPPED_REASONS",
    "FIELDS",
    "MATCH_COLUMNS",
    "ROSTER_COLUMNS",
    "TOOL_SIGNATURES",
    "MatchResult",
    "SupporterList",
    "explain_pairs",
    "flag_voters",
    "match_supporters",
    "precision_cut",
    "read_supporters",
    "volunteer_roster",
    "write_match_outputs",
]
