"""A whole state, town by town: load, geocode, score and target; rank statewide."""

from __future__ import annotations

from ._state import (
    GENERAL_UNIVERSE,
    StateResult,
    TownJob,
    TownResult,
    fit_state_models,
    read_state_precincts,
    run_state,
    target_town,
)

__all__ = [
    "GENERAL_UNIVERSE",
    "StateResult",
    "TownJob",
    "TownResult",
    "fit_state_models",
    "read_state_precincts",
    "run_state",
    "target_town",
]
