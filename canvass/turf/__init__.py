"""Stage 6, turf: cut the target doors into turfs of one shift each.

The cut (:func:`cut_turfs`) routes as it cuts: its helpers are the split of one street
tour (``_split``), the repair windows (``_windows``), car legs (``_legs``), teams
(``_teams``), walking costs (``_costs``) and the OR-Tools router (``_solver``). The
route stage poses each turf to the same router, so the router's problem and solver,
and the costs it needs, are public here too.
"""

from __future__ import annotations

from ._costs import StreetIndex
from ._cut import TURF_ORDER, TurfResult, cut_turfs, hilbert_key, turf_outline
from ._legs import TurfCosts
from ._solver import TurfProblem, solve_all, solve_turf, turf_problem

__all__ = [
    "TURF_ORDER",
    "StreetIndex",
    "TurfCosts",
    "TurfProblem",
    "TurfResult",
    "cut_turfs",
    "hilbert_key",
    "solve_all",
    "solve_turf",
    "turf_outline",
    "turf_problem",
]
