"""Demoville: a synthetic town in real file formats (OSM XML, MA voter extracts)."""

from __future__ import annotations

from ._town import (
    DEMO_TOWN_ID,
    DEMO_TOWN_NAME,
    DEMO_ZIP,
    DemoTown,
    clerk_street_name,
    make_demo_town,
    write_ma_voter_files,
)

__all__ = [
    "DEMO_TOWN_ID",
    "DEMO_TOWN_NAME",
    "DEMO_ZIP",
    "DemoTown",
    "clerk_street_name",
    "make_demo_town",
    "write_ma_voter_files",
]
