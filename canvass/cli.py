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

import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from . import guards
from .config import PlanConfig
from .errors import CanvassError

__all__ = ["cli"]

logger = logging.getLogger("canvass")

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
    """Turn SIGTERM into a clean stop and report what an interruption left behind."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except KeyboardInterrupt:
        state = "are intact" if out.exists() else "were not created"
        click.echo(
            f"Interrupted: nothing was written; the previous outputs in {out} {state}.",
            err=True,
        )
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, old)


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/demo"),
    show_default=True,
    help="Folder for the demo town's input files.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--voters",
    "n_voters",
    type=click.IntRange(50),
    default=5000,
    show_default=True,
    help="Number of synthetic voters.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing demo folder.")
def demo(out: Path, seed: int, n_voters: int, force: bool) -> None:
    """Generate the synthetic demo town: streets, precincts, addresses, voter file."""
    from .demo import make_demo_town

    town = make_demo_town(out, seed=seed, n_voters=n_voters, force=force)
    click.echo(
        f"Demo town written to {town.root}: {town.n_voters:,} voters at "
        f"{town.n_addresses:,} addresses. Run it with:\n"
        f"  canvass run --config {town.config} --out maps/demo"
    )


@cli.command()
@click.option("--config", "config_path", type=_FILE, help="canvass.toml for this run.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder [default: maps/<run_name>].",
)
@click.option("--voters", multiple=True, type=_FILE, help="Voter file(s).")
@click.option("--history", multiple=True, type=_FILE, help="Vote-history file(s).")
@click.option("--precincts", type=_ANY_PATH, help="Precinct shapes.")
@click.option("--streets", type=_FILE, help="Walking network (.osm, .pbf, GraphML).")
@click.option("--seed", type=int, help="Override the config seed.")
@click.option("--time-limit", type=float, help="Solver seconds per turf.")
@click.option("--workers", type=click.IntRange(1), help="Parallel routing processes.")
@click.option(
    "--scheduler",
    help='Where parallel work runs: "local" (a Dask LocalCluster) or a Dask '
    "scheduler address such as tcp://10.0.0.5:8786 [default: a process pool].",
)
@click.option(
    "--redact",
    is_flag=True,
    default=None,
    help="Write maps safe to share publicly (no names).",
)
@click.option(
    "--offline",
    is_flag=True,
    default=None,
    help="Inline Leaflet into the turf map and route pages: they draw without a "
    "connection (only the background tiles need one).",
)
@click.pass_context
def run(
    ctx: click.Context,
    config_path: Path | None,
    out: Path | None,
    voters: tuple[Path, ...],
    history: tuple[Path, ...],
    precincts: Path | None,
    streets: Path | None,
    seed: int | None,
    time_limit: float | None,
    workers: int | None,
    scheduler: str | None,
    redact: bool | None,
    offline: bool | None,
) -> None:
    """Score voters, cut turfs, route volunteers, write walk lists and maps."""
    config = _load_config(
        config_path,
        inputs={
            "voters": voters,
            "history": history,
            "precincts": precincts,
            "streets": streets,
        },
        route={"time_limit_s": time_limit, "workers": workers},
        cluster={"scheduler": scheduler},
        output={"redact": redact, "offline_pages": offline},
    )
    if seed is not None:
        config = dataclasses.replace(config, seed=seed)
    out = out or Path("maps") / config.run_name
    with _interruptible(out):
        from . import outputs as output
        from . import pipeline  # heavy imports, inside the SIGTERM guard

        with _progress(ctx.obj["quiet"]) as progress:
            plan = pipeline.run(config, progress=progress)
            output.write_plan(plan, out)
        if config.campaign.db:
            _record(plan, out)
    _print_summary(plan.summary(), plan.backtest, out, quiet=ctx.obj["quiet"])


def _record(plan: Any, out: Path) -> None:
    """Record a written plan in the campaign database (its results come back to it)."""
    from . import results

    try:
        listed = results.record_run(plan)
    except CanvassError as err:
        msg = (
            f"the plan was written to {out} but not recorded in the campaign "
            f"database: {err}"
        )
        raise CanvassError(msg) from err
    logger.info("Run %s recorded in the campaign database", plan.run_id)
    click.echo(f"Run {plan.run_id}: {listed:,} listed voters recorded for results.")


def _print_summary(
    summary: dict[str, Any], backtest: dict[str, Any], out: Path, *, quiet: bool
) -> None:
    """Print the one-screen, PII-free run summary."""
    from rich.table import Table

    from .score import format_backtest

    if quiet:
        click.echo(str(out / "index.html"))
        return
    table = Table(title=f"canvass run '{summary['run_name']}'", show_header=False)
    reasons: dict[str, int] = {}
    for row in summary["doors_left_out"]:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    left = ", ".join(f"{n:,} {r}" for r, n in sorted(reasons.items())) or "none"
    rows = [
        ("target election", f"{summary['target_election']} ({summary['universe']})"),
        ("voters", f"{summary['voters']:,}"),
        ("targets", f"{summary['targets']:,}"),
        ("target doors", f"{summary['doors']:,}"),
        ("turfs", _turfs_line(summary)),
        ("volunteer routes", f"{summary['volunteers']:,}"),
        ("doors routed", f"{summary['doors_routed']:,}"),
        ("doors left out", left),
        ("expected extra votes", f"{summary['expected_extra_votes']:,.1f}"),
        ("walking", f"{summary['walk_km']:,.1f} km"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    from rich.console import Console

    console = Console()  # results on stdout; the log is on stderr
    console.print(table)
    for warning in summary.get("warnings", []):  # diagnostics: with the log
        _stderr_console().print(
            f"Warning: {warning}", markup=False, style="bold yellow"
        )
    if backtest:
        console.print(format_backtest(backtest), markup=False)
    click.echo(f"Outputs: {out}/ — open {out / 'index.html'} in a browser.")


def _turfs_line(summary: dict[str, Any]) -> str:
    """Turf count and how even they are, for the run summary."""
    report = summary.get("reports", {}).get("turf", {})
    n = int(summary["turfs"])
    if "share_balanced" not in report or n == 0:
        return f"{n:,}"
    outside = int(report.get("turfs_outside_balance", 0))
    even = "all" if outside == 0 else f"{n - outside:,} of {n:,}"
    legs = int(report.get("car_leg_turfs", 0))
    driving = f"; {legs:,} with car legs" if legs else ""
    pct = report.get("balance_pct", 15)
    return f"{n:,} ({even} within {pct} % of precinct mean{driving})"


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


@cli.command("load")
@_CONFIG_REQUIRED
@_TABLES_OUT
def load_cmd(config_path: Path, out: Path) -> None:
    """Load the voter file and history; write canonical tables and the load report."""
    from . import load

    config = _load_config(config_path)
    result = load.load_voter_file(config)
    written = load.write_load_outputs(result, out)
    for warning in result.report.get("warnings", []):
        _stderr_console().print(f"Warning: {warning}", markup=False, style="yellow")
    for path in written:
        click.echo(str(path))


@cli.command("geocode")
@_CONFIG_REQUIRED
@_TABLES_OUT
def geocode_cmd(config_path: Path, out: Path) -> None:
    """Load and geocode voters to doors; write voters, doors and the geocode report.

    The street network is optional when an address-point layer is given (addresses
    not in it then go to their precinct's centre, with the reason in
    ``geocode_detail``).
    """
    from . import load, pipeline

    config = _load_config(config_path)
    guards.preflight(config, geocode_only=True)
    located = pipeline.locate(config, streets=bool(config.inputs.streets))
    loaded, result = located.loaded, located.geo
    written = load.write_load_outputs(loaded, out)
    out.mkdir(parents=True, exist_ok=True)
    result.voters.to_parquet(out / "voters_geocoded.parquet")
    result.doors.to_file(out / "doors.gpkg", driver="GPKG")
    report = out / "geocode_report.json"
    report.write_text(json.dumps(result.report, indent=2, default=str) + "\n")
    for path in [*written, out / "voters_geocoded.parquet", out / "doors.gpkg", report]:
        click.echo(str(path))


@cli.command("match")
@_CONFIG_REQUIRED
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build") / "supporters",
    show_default=True,
    help="Folder for the match files.",
)
def match_cmd(config_path: Path, out: Path) -> None:
    """Match the [supporters] lists to the voter file.

    Writes matches.csv, review.csv (uncertain pairs for a person to decide),
    unmatched.csv, unregistered.csv (unmatched supporters in the area),
    volunteers.csv and match_report.json. They hold ids, probabilities and weights,
    never names (except the volunteer roster).
    """
    from . import load, match

    config = _load_config(config_path)
    if not config.supporters.files:
        msg = (
            f"{config_path}: no supporter list configured; add [supporters] "
            'files = ["supporters.csv"].'
        )
        raise click.ClickException(msg)
    supporters = match.read_supporters(config)
    voters = load.load_voter_file(config).voters
    result = match.match_supporters(supporters, voters, config)
    roster = match.volunteer_roster(result, voters)
    settings = config.to_dict().get("supporters", {})
    written = match.write_match_outputs(result, out, roster=roster, config=settings)
    report = result.report
    click.echo(
        "Supporters: "
        + ", ".join(f"{k} {v:,}" for k, v in report.get("by_status", {}).items())
        + f" (share of the list on the file {report.get('share_on_file', 0):.0%})"
    )
    for path in written:
        click.echo(str(path))


@cli.command("state")
@click.argument("configs", nargs=-1, required=True, type=_FILE)
@click.option(
    "--precincts",
    type=_FILE,
    help="Statewide precinct layer (with a `town` column) to check every door against.",
)
@click.option(
    "--scheduler",
    default="",
    help='"" (a process pool), "local" (a Dask LocalCluster) or a Dask scheduler '
    "address such as tcp://10.0.0.5:8786.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Worker processes for a process pool or a LocalCluster.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("maps/state"),
    show_default=True,
    help="Output folder.",
)
@click.pass_context
def state(
    ctx: click.Context,
    configs: tuple[Path, ...],
    precincts: Path | None,
    scheduler: str,
    workers: int,
    out: Path,
) -> None:
    """Target a whole state town by town, on one machine or a Dask cluster.

    CONFIGS are one canvass.toml per town (bench/make_state.py writes such a state).
    Writes the statewide precinct ranking and a summary.
    """
    from . import statewide
    from .cluster import make_executor
    from .config import ClusterParams

    params = ClusterParams(scheduler=scheduler, workers=workers)
    layer = statewide.read_state_precincts(precincts) if precincts else None
    with _interruptible(out), make_executor(params) as executor:
        with _progress(ctx.obj["quiet"]) as progress:
            result = statewide.run_state(
                sorted(configs),
                executor,
                precincts=layer,
                progress=lambda done, total: progress("towns", done, total),
            )
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        result.precinct_table.to_csv(
            out / "precincts.csv", index=False, float_format="%.4f", lineterminator="\n"
        )
        summary = {
            "towns": len(result.towns),
            "counts": result.counts,
            "worker_seconds": {k: round(v, 1) for k, v in result.seconds.items()},
            "door_check": result.door_check,
        }
        (out / "summary.json").write_text(
            json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    click.echo(
        f"{result.counts.get('voters', 0):,} voters in {len(result.towns):,} towns; "
        f"statewide precinct ranking in {out / 'precincts.csv'}"
    )


@cli.command("check-config")
@click.argument("config_path", type=_FILE)
def check_config(config_path: Path) -> None:
    """Validate a canvass.toml and print the resolved settings."""
    config = _load_config(config_path)
    click.echo(json.dumps(config.to_dict(), indent=2, sort_keys=True))


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
    from . import results

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

    from . import results
    from .errors import ConfigError

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
