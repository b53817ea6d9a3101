"""Stage 5, network: the walking graph, doors snapped to their street, walking times."""

from __future__ import annotations

from ._graph import (
    STREET_CLASSES,
    SnapResult,
    download_walk_graph,
    main_component,
    read_walk_graph,
    snap_doors,
    utm_crs,
)

__all__ = [
    "STREET_CLASSES",
    "SnapResult",
    "download_walk_graph",
    "main_component",
    "read_walk_graph",
    "snap_doors",
    "utm_crs",
]
