"""Pre-flight checks: refuse impossible settings before any heavy work starts.

Loading a state's voter file and computing walking times can take minutes; a setting
that was never going to work (a shift shorter than one door, turfs too large for the
solver, walking-time matrices that would not fit in memory, input files that are not
there) should fail in the first second, with the number that is wrong and what to set
instead.
"""

from __future__ import annotations

import glob
import logging
import os

from . import load
from .config import PlanConfig
from .errors import ConfigError, InputError

__all__ = ["MAX_TURF_DOORS", "available_memory_bytes", "preflight"]

logger = logging.getLogger(__name__)

#: Doors one OR-Tools model handles within seconds; bigger turfs stall the search.
MAX_TURF_DOORS = 1_000

#: Bytes per walking-time matrix cell during a solve: canvass's float64 copy, the
#: int64 copy handed to OR-Tools, and OR-Tools' own transit table.
_MATRIX_CELL_BYTES = 3 * 8

#: Share of the machine's memory the routing workers may take together.
_MEMORY_SHARE = 0.5


def available_memory_bytes() -> int:
    """Return the machine's physical memory in bytes (0 when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0


def _check_inputs(config: PlanConfig, *, geocode_only: bool = False) -> list[str]:
    problems = []
    inputs = config.inputs
    for name in ("voters", "precincts", "streets"):
        if name == "streets" and geocode_only and inputs.address_points:
            continue  # geocoding with address points alone: streets are optional
        if not getattr(inputs, name):
            how = " (or `inputs.address_points`)" if geocode_only else ""
            problems.append(
                f"`inputs.{name}`{how} is not set; give it in the config or CLI"
            )
    singles = {
        "precincts": inputs.precincts,
        "streets": inputs.streets,
        "address_points": inputs.address_points,
        "do_not_knock": inputs.do_not_knock,
    }
    for key, value in singles.items():
        if value and not load.input_exists(config.resolve(value)):
            problems.append(
                f"`inputs.{key}` file {config.resolve(value)} does not exist"
            )
    for key in ("voters", "history"):
        for pattern in getattr(inputs, key):
            path = config.resolve(pattern)
            archive, member = load.split_member(path, globs=True)
            if not glob.glob(str(archive)):  # noqa: PTH207 - absolute patterns
                problems.append(f"`inputs.{key}` pattern {path} matches no file")
            elif member:  # members that match nothing: listed by the error
                try:
                    load.expand_input(path, f"inputs.{key}")
                except InputError as err:
                    problems.append(str(err))
    return problems


def preflight(
    config: PlanConfig, *, memory_bytes: int | None = None, geocode_only: bool = False
) -> None:
    """
    Check a run's settings and inputs before any heavy work; report all problems.

    Parameters
    ----------
    config
        The run configuration.
    memory_bytes
        Memory to plan for; defaults to the machine's physical memory.
    geocode_only
        Check only what ``canvass geocode`` needs: the street network is optional
        when an address-point layer is given.

    Raises
    ------
    InputError
        If input files named by the config do not exist.
    ConfigError
        If the shift cannot hold one door, turfs would be too large for the solver,
        or the routing workers' walking-time matrices would not fit in memory.
    """
    missing = _check_inputs(config, geocode_only=geocode_only)
    if missing:
        msg = "; ".join(missing) + ". Fix the paths in the config (relative to it)."
        raise InputError(msg)
    walk, turf, route = config.walk, config.turf, config.route
    problems = []
    if turf.shift_s <= walk.door_s:
        problems.append(
            f"`turf.shift_s` = {turf.shift_s} s is not longer than one door "
            f"(`walk.door_s` = {walk.door_s} s); a 2-hour shift is 7200"
        )
    door_s = max(walk.door_s, 1)
    max_doors = turf.shift_s * turf.volunteers_per_turf // door_s
    if max_doors > MAX_TURF_DOORS:
        problems.append(
            f"a turf of `turf.volunteers_per_turf` = {turf.volunteers_per_turf} "
            f"shift(s) of {turf.shift_s} s at {walk.door_s} s a door can hold "
            f"{max_doors:,} doors, more than the solver handles "
            f"({MAX_TURF_DOORS:,}); lower `turf.volunteers_per_turf` or "
            "`turf.shift_s`, or raise `walk.door_s`"
        )
    memory = available_memory_bytes() if memory_bytes is None else memory_bytes
    need = route.workers * _MATRIX_CELL_BYTES * (min(max_doors, 10**6) + 1) ** 2
    if memory and need > _MEMORY_SHARE * memory:
        fit = max(1, int(_MEMORY_SHARE * memory // max(need // route.workers, 1)))
        problems.append(
            f"{route.workers} routing worker(s) would need {need / 2**30:,.1f} GiB for "
            f"walking-time matrices of up to {max_doors:,} doors, more than half of "
            f"this machine's {memory / 2**30:,.1f} GiB; set `route.workers` to "
            f"{fit} or cut smaller turfs"
        )
    if problems:
        msg = "Settings out of range: " + "; ".join(problems) + "."
        raise ConfigError(msg)
    logger.debug(
        "Pre-flight checks passed: up to %s doors a turf, %s worker(s)",
        f"{max_doors:,}",
        route.workers,
    )
