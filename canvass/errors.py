"""Exceptions and warnings that canvass raises on purpose.

Every error canvass raises deliberately inherits from :class:`CanvassError`, so the CLI
can turn all of them into a one-line ``Error: ...`` and exit status 1 in one place.
Input and configuration errors also inherit from :class:`ValueError` (as osmnx does),
so ``except ValueError`` keeps working for library users.

Messages name the file, row, column or setting at fault, say what was expected and
what was found, and end with how to fix it. They never carry voters' names or
addresses: use ids and counts.
"""

from __future__ import annotations

__all__ = [
    "CanvassError",
    "ConfigError",
    "DataQualityWarning",
    "InputError",
    "InterruptedRunError",
    "NetworkError",
    "RoutingError",
]


class CanvassError(Exception):
    """Base class for every error canvass raises on purpose."""


class InputError(CanvassError, ValueError):
    """An input file or table does not match what a stage expects."""


class ConfigError(CanvassError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class NetworkError(CanvassError):
    """The walking network is missing, unreadable or cannot reach the doors."""


class RoutingError(CanvassError):
    """The solver found no walk plan within the limits given."""


class InterruptedRunError(CanvassError):
    """A run was interrupted; the previous outputs were left in place."""


class DataQualityWarning(UserWarning):
    """Rows were dropped, repaired or flagged; the run goes on."""
