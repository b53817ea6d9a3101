"""Range checks shared by the parameter classes (private)."""

from __future__ import annotations

from datetime import date

from .errors import ConfigError

__all__ = ["fraction", "iso_date", "positive"]


def positive(
    section: str, name: str, value: float, *, allow_zero: bool = False
) -> None:
    """Refuse a negative value (or zero, unless `allow_zero`)."""
    if value < 0 or (value == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "greater than 0"
        msg = f"`{section}.{name}` must be {bound}, got {value}."
        raise ConfigError(msg)


def iso_date(section: str, name: str, value: str, *, allow_empty: bool = False) -> None:
    """Refuse a value that is not an ISO date (``2026-09-01``)."""
    if allow_empty and not value:
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        msg = f"`{section}.{name}` must be a date like 2026-09-01, got {value!r}."
        raise ConfigError(msg) from None


def fraction(section: str, name: str, value: float) -> None:
    """Refuse a value outside [0, 1]."""
    if not 0.0 <= value <= 1.0:
        msg = f"`{section}.{name}` must be between 0 and 1, got {value}."
        raise ConfigError(msg)
