"""Turnout targeting and door-to-door canvass planning for grassroots campaigns.

canvass joins a state voter file and its vote history with precinct shapes, scores each
voter's turnout propensity for primaries and gubernatorial elections, picks the doors
worth a knock, cuts turfs, routes volunteers on the real walking network and writes
walk lists, maps and route pages.

The stage subpackages are imported lazily (``canvass.load``, ``canvass.route``, ...),
so ``import canvass`` and the CLI start fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from typing import Any

from .config import PlanConfig
from .errors import (
    CanvassError,
    ConfigError,
    DataQualityWarning,
    InputError,
    NetworkError,
    RoutingError,
)

try:
    __version__ = _version("canvass")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

_STAGES = (
    "cluster",
    "demo",
    "geocode",
    "load",
    "match",
    "network",
    "outputs",
    "pipeline",
    "results",
    "route",
    "schema",
    "score",
    "statewide",
    "target",
    "turf",
)

__all__ = [
    "CanvassError",
    "ConfigError",
    "DataQualityWarning",
    "InputError",
    "NetworkError",
    "Plan",
    "PlanConfig",
    "RoutingError",
    "__version__",
    "run",
]


def __getattr__(name: str) -> Any:
    """Import stage modules and ``Plan``/``run`` on first use."""
    if name in _STAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in ("Plan", "run"):
        pipeline = importlib.import_module(".pipeline", __name__)
        return getattr(pipeline, name)
    msg = f"module 'canvass' has no attribute {name!r}"
    raise AttributeError(msg)
