"""Command-line interface: a thin Click layer over the library.

The CLI parses options, builds a :class:`~canvass.config.PlanConfig`, makes one library
call and prints a short summary. It owns logging and progress display; the library only
logs through ``logging`` and reports progress through callbacks. Results (the run
summary and backtest, the files written, ``check-config``'s settings) go to stdout;
diagnostics (log lines, warnings, the progress bar, errors) go to stderr, so
``canvass run ... > summary.txt`` keeps the summary and the terminal keeps the log.
canvass's own errors become a one-line ``Error: ...`` with exit status 1 (``--debug``
shows the traceback); usage errors exit 2; an interrupted run exits 130 and leaves
earlier outputs intact.
"""

from __future__ import annotations

from . import _assign, _plan, _results, _serve
from ._base import cli
from ._plan import _print_summary, _turfs_line

__all__ = ["cli"]

# The command modules register their commands on ``cli`` when imported.
_COMMANDS = (_assign, _plan, _results, _serve)
_ = (_print_summary, _turfs_line)  # kept importable for the tests of the summary
