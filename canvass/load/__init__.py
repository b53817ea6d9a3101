"""Stage 1, load: read a voter file with its vote history, and the precinct shapes.

Readers for Massachusetts, North Carolina, VAN exports and any state's CSV through a
``[mapping]`` turn a file into the canonical ``voters`` and ``history`` tables (see
:mod:`canvass.schema`); rows that cannot be used go to the rejects with the reason.
"""

from __future__ import annotations

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
    "LoadResult",
    "classify_election",
    "load_voter_file",
    "local_crs",
    "match_precincts",
    "normalise_precinct_code",
    "precinct_code",
    "read_precincts",
    "write_load_outputs",
]
