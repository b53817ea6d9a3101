"""Stage 7, route: each turf's volunteers routed door to door (OR-Tools)."""

from __future__ import annotations

from ._route import RouteResult, route_turfs, solve_turfs

__all__ = ["RouteResult", "route_turfs", "solve_turfs"]
