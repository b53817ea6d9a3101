"""``canvass results``: import results from the doors, export the contact history."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from ._base import _CONFIG_REQUIRED, _FILE, _Group, _load_config, cli

logger = logging.getLogger("canvass")


def _draw_progress(config: Any, folder: Path, plan: Any = None) -> Path:
    """Draw a run's progress map and CSVs in its folder; return the map's path."""
    from .. import outputs, pipeline, results

    plan = plan if plan is not None else pipeline.load_plan(folder)
    progress = results.run_progress(plan, config)
    return outputs.write_progress(plan, progress, folder)[0]


def _redraw_progress(config: Any, run_ids: list[str]) -> None:
    """Draw the progress maps of the runs an import touched, where their folder is."""
    from .. import pipeline, results
    from ..errors import CanvassError

    for run_id, folder in results.run_folders(config, run_ids).items():
        if not folder or not Path(folder).is_dir():
            click.echo(
                f"Run {run_id}: no run folder recorded or found ({folder or 'none'}); "
                "progress map not drawn.",
                err=True,
            )
            continue
        try:
            plan = pipeline.load_plan(Path(folder))
            if plan.run_id != run_id:  # a later run was written over the folder
                click.echo(
                    f"Run {run_id}: its folder {folder} now holds run {plan.run_id}; "
                    "progress map not drawn for it.",
                    err=True,
                )
                continue
            path = _draw_progress(config, Path(folder), plan)
        except CanvassError as err:
            click.echo(f"Run {run_id}: progress map not drawn: {err}", err=True)
            continue
        click.echo(f"Progress of run {run_id}: {path}")


@cli.group("results", cls=_Group)
def results_group() -> None:
    """Results from the doors: import them, export the contact history."""


@results_group.command("import")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@_CONFIG_REQUIRED
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("import_rejects.csv"),
    show_default=True,
    help="Where to write the rejected rows with their reasons.",
)
def results_import(
    files: tuple[Path, ...], config_path: Path, rejects_path: Path
) -> None:
    """Import phone CSVs, filled paper templates and VAN exports (docs/results.md).

    Every row is imported or rejected with its reason; importing a file again adds
    nothing; the import is one transaction (interrupted, it changes nothing).
    """
    from .. import results

    config = _load_config(config_path)
    report = results.import_results(list(files), config, rejects_path=rejects_path)
    for c in report.files:
        click.echo(
            f"{c.file} ({c.kind}): {c.rows:,} rows: {c.imported:,} imported, "
            f"{c.already:,} already imported, {c.blank:,} blank, "
            f"{c.rejected:,} rejected"
        )
    t = report.totals
    if t["rejected"]:
        click.echo(f"Rejected rows and why: {report.rejects_path}")
    _redraw_progress(config, report.runs)


@results_group.command("export")
@_CONFIG_REQUIRED
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["van", "csv"]),
    default="csv",
    show_default=True,
    help="van: VAN bulk-upload columns; csv: the whole contact history.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write.",
)
@click.option("--since", default="", help="Only attempts on or after this date.")
def results_export(config_path: Path, fmt: str, out: Path, since: str) -> None:
    """Export the contact history for VAN's bulk upload or as a plain CSV."""
    import datetime as dt

    from .. import results
    from ..errors import ConfigError

    if since:
        try:
            dt.date.fromisoformat(since)
        except ValueError:
            msg = f"--since must be a date like 2026-09-01, got {since!r}."
            raise ConfigError(msg) from None
    config = _load_config(config_path)
    n = results.export_results(
        config, "van" if fmt == "van" else "csv", out, since=since
    )
    click.echo(f"{n:,} attempts written to {out}")


@results_group.command("progress")
@_CONFIG_REQUIRED
@click.option(
    "--run",
    "run_folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The run folder [default: maps/<run_name>].",
)
def results_progress(config_path: Path, run_folder: Path | None) -> None:
    """Draw a run's progress map and CSVs again (e.g. after `canvass serve`).

    Writes progress.html, progress.csv and progress_flags.csv in the run folder
    (docs/results.md); `canvass run` and `canvass results import` draw them too.
    """
    config = _load_config(config_path)
    folder = run_folder or Path("maps") / config.run_name
    if not folder.is_dir():
        msg = f"no run folder {folder}; give the run's folder with --run."
        raise click.ClickException(msg)
    click.echo(f"Progress: {_draw_progress(config, folder)}")
