"""The command group, its options and what every command shares (logging, progress)."""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from ..config import PlanConfig
from ..errors import CanvassError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_ANY_PATH = click.Path(exists=True, path_type=Path)


class _Group(click.Group):
    """Turn canvass's own errors into one-line messages and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CanvassError as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(str(err)) from err


def _configure_logging(*, verbose: bool, quiet: bool) -> None:
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    handler = RichHandler(
        show_path=False, show_time=False, markup=False, console=_stderr_console()
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("canvass")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(True)
    warn_logger = logging.getLogger("py.warnings")
    warn_logger.handlers[:] = [handler]
    warn_logger.propagate = False
    # Splink (supporter matching) logs its training step by step: debug detail here.
    splink = logging.getLogger("splink")
    splink.handlers[:] = [handler]
    splink.setLevel(logging.INFO if verbose else logging.ERROR)
    splink.propagate = False


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="canvass")
@click.option("-v", "--verbose", is_flag=True, help="Show debug detail.")
@click.option("-q", "--quiet", is_flag=True, help="Only show errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks for canvass errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool, debug: bool) -> None:
    """Plan door-to-door canvassing of the voters who usually skip low-turnout races."""
    if verbose and quiet:
        msg = "--verbose and --quiet cannot be used together."
        raise click.UsageError(msg)
    ctx.obj = {"debug": debug, "quiet": quiet}
    _configure_logging(verbose=verbose, quiet=quiet)


def _load_config(config_path: Path | None, **overrides: Any) -> PlanConfig:
    config = PlanConfig.from_toml(config_path) if config_path else PlanConfig()
    inputs = {k: v for k, v in overrides.pop("inputs", {}).items() if v}
    if inputs:
        for key in ("voters", "history"):
            if key in inputs:
                inputs[key] = tuple(str(Path(p).resolve()) for p in inputs[key])
        for key in ("precincts", "streets", "address_points", "do_not_knock"):
            if key in inputs:
                inputs[key] = str(Path(inputs[key]).resolve())
        config = dataclasses.replace(
            config, inputs=dataclasses.replace(config.inputs, **inputs)
        )
    for section, values in overrides.items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            config = dataclasses.replace(
                config,
                **{section: dataclasses.replace(getattr(config, section), **values)},
            )
    return config


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Draw the library's progress callbacks as a rich progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    if quiet:
        yield lambda stage, done, total: None
        return
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
    )
    with Progress(*columns, transient=True, console=_stderr_console()) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            key = "route" if stage == "route" else "stages"
            if key not in tasks:
                label = "routing" if key == "route" else "planning"
                tasks[key] = bar.add_task(label, total=total)
            bar.update(tasks[key], completed=done, total=total)
            if key == "stages":
                bar.update(tasks[key], description=stage)

        yield update


def _stderr_console() -> Any:
    """Return a rich console on stderr, for diagnostics: log lines, progress bar."""
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def _interruptible(out: Path) -> Iterator[None]:
    """
    Turn SIGTERM and Ctrl-C into a clean stop and report what it left behind.

    The stop is raised as ``KeyboardInterrupt`` where the signal lands; compiled code
    running then (scikit-learn's histogram building, for one) may turn it into an
    error of its own, so any error raised after a stop signal counts as the stop.
    """
    stopped: list[int] = []

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)
        raise KeyboardInterrupt

    old = {s: signal.signal(s, on_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except Exception:
        if not stopped:
            raise
        _interrupted(out)
    except KeyboardInterrupt:
        _interrupted(out)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _interrupted(out: Path) -> NoReturn:
    state = "are intact" if out.exists() else "were not created"
    click.echo(
        f"Interrupted: nothing was written; the previous outputs in {out} {state}.",
        err=True,
    )
    sys.exit(130)


_CONFIG_REQUIRED = click.option(
    "--config", "config_path", type=_FILE, required=True, help="canvass.toml."
)
_TABLES_OUT = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build"),
    show_default=True,
    help="Folder for the tables.",
)
