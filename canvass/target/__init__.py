"""Stage 4, target: universes, suppressions and each door's expected extra votes."""

from __future__ import annotations

from ._target import (
    door_values,
    last_eligible,
    lift_curve,
    lookalikes,
    precinct_table,
    select_targets,
)

__all__ = [
    "door_values",
    "last_eligible",
    "lift_curve",
    "lookalikes",
    "precinct_table",
    "select_targets",
]
