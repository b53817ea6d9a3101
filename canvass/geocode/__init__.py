"""Stage 2, geocode: place every voter's address at a door, offline.

Address points where given, interpolation along the OSM streets otherwise; the
spelling rules (:func:`normalize_street_names`) are shared with the network stage,
which matches doors to the street they are on.
"""

from __future__ import annotations

from ._address import (
    display_address,
    normalize_street_names,
    normalize_units,
    parse_address_line,
)
from ._doors import CENTROID, unverified_doors
from ._geocode import (
    METHODS,
    UNVERIFIED_MARK,
    GeocodeResult,
    geocode_voters,
    read_address_points,
)
from ._match import DETAIL_CODES

__all__ = [
    "CENTROID",
    "DETAIL_CODES",
    "METHODS",
    "UNVERIFIED_MARK",
    "GeocodeResult",
    "display_address",
    "geocode_voters",
    "normalize_street_names",
    "normalize_units",
    "parse_address_line",
    "read_address_points",
    "unverified_doors",
]
