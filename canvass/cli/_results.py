"""``canvass results``: import results from the doors, export the contact history."""

from __future__ import annotations

from pathlib import Path

import click

from ._base import _CONFIG_REQUIRED, _FILE, _Group, _load_config, cli


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
