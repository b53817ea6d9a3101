"""Stage 1, load: read a voter file with its vote history, and the precinct shapes.

Every tabular input is opened by one function (:mod:`canvass.load._archive`):
plain text, or gzip, bzip2, xz and zip archives read as they are downloaded.
Readers for Massachusetts, North Carolina, VAN exports and any state's CSV through a
``[mapping]`` turn a file into the canonical ``voters`` and ``history`` tables (see
:mod:`canvass.schema`); rows that cannot be used go to the rejects with the reason.
"""

from __future__ import annotations

from ._archive import (
    archive_members,
    compression,
    expand_input,
    input_exists,
    split_member,
    text_size,
)
from ._calendar import (
    PRIMARY_CALENDAR,
    PrimaryCalendar,
    calendar_rows,
    general_day,
    primary_dates,
    typed_calendar,
)
from ._table import read_table
from ._voters import (
    LoadResult,
    classify_election,
    load_voter_file,
    local_crs,
    match_precincts,
    normalise_precinct_code,
    precinct_code,
    read_precincts,
    write_load_outputs,
)

__all__ = [
    "PRIMARY_CALENDAR",
    "LoadResult",
    "PrimaryCalendar",
    "archive_members",
    "calendar_rows",
    "classify_election",
    "compression",
    "expand_input",
    "general_day",
    "input_exists",
    "load_voter_file",
    "local_crs",
    "match_precincts",
    "normalise_precinct_code",
    "precinct_code",
    "primary_dates",
    "read_precincts",
    "read_table",
    "split_member",
    "text_size",
    "typed_calendar",
    "write_load_outputs",
]
