"""Stage 2, geocode: place every voter's address at a door, offline.

Address points where given, interpolation along the OSM streets otherwise; the
spelling rules (:func:`normalize_street_names`) are shared with the network stage,
which matches doors to the street they are on.
"""

from __future__ import annotations

from ._address import display_address, normalize_street_names
from ._geocode import METHODS, GeocodeResult, geocode_voters, read_address_points

__all__ = [
    "METHODS",
    "GeocodeResult",
    "display_address",
    "geocode_voters",
    "normalize_street_names",
    "read_address_points",
]
