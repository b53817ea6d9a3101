"""Stage 5, network: the walking graph, doors snapped to their street, walking times."""

from __future__ import annotations

from ._graph import STREET_CLASSES, download_walk_graph, read_walk_graph, utm_crs
from ._snap import SnapResult, main_component, snap_doors

__all__ = [
    "STREET_CLASSES",
    "SnapResult",
    "download_walk_graph",
    "main_component",
    "read_walk_graph",
    "snap_doors",
    "utm_crs",
]
