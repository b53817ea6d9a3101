"""Planning commands: demo, run, load, geocode, match, state, check-config."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import click

from .. import guards
from ..errors import CanvassError
from ._base import (
    _ANY_PATH,
    _CONFIG_REQUIRED,
    _FILE,
    _TABLES_OUT,
    _interruptible,
    _load_config,
    _progress,
    _stderr_console,
    cli,
)

logger = logging.getLogger("canvass")


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
    from ..demo import make_demo_town

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
        from .. import outputs as output
        from .. import pipeline  # heavy imports, inside the SIGTERM guard

        with _progress(ctx.obj["quiet"]) as progress:
            plan = pipeline.run(config, progress=progress)
            output.write_plan(plan, out)
        if config.campaign.db:
            _record(plan, out)
    _print_summary(plan.summary(), plan.backtest, out, quiet=ctx.obj["quiet"])


def _record(plan: Any, out: Path) -> None:
    """Record a written plan in the campaign database (its results come back to it)."""
    from .. import results

    try:
        listed = results.record_run(plan, out)
    except CanvassError as err:
        msg = (
            f"the plan was written to {out} but not recorded in the campaign "
            f"database: {err}"
        )
        raise CanvassError(msg) from err
    logger.info("Run %s recorded in the campaign database", plan.run_id)
    click.echo(f"Run {plan.run_id}: {listed:,} listed voters recorded for results.")
    from ._results import _draw_progress

    click.echo(f"Progress map: {_draw_progress(plan.config, out, plan)}")


def _print_summary(
    summary: dict[str, Any], backtest: dict[str, Any], out: Path, *, quiet: bool
) -> None:
    """Print the one-screen, PII-free run summary."""
    from rich.table import Table

    from ..score import format_backtest

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
    replan = summary.get("reports", {}).get("history", {}).get("replan")
    if replan:  # docs/replan.md
        model = replan["contact_model"]
        rates = "/".join(f"{100 * r:.0f}" for r in model["rates_by_knock"][:3])
        rows.append(
            (
                "next knock",
                f"{replan['doors_new']:,} new doors, {replan['doors_reknock']:,} "
                f"re-knocks"
                + (
                    f" ({replan['come_back_due']:,} asked to come back now)"
                    if replan.get("come_back_due")
                    else ""
                )
                + f", {summary['reports']['history']['doors_done']:,} done "
                f"(slot {replan['next_slot']}); P(answer) by knock "
                f"{rates} % ({'learnt' if model['learnt'] else 'prior'})",
            )
        )
        if spare := replan.get("spare"):
            back = spare["brought_back"]
            rows.append(
                (
                    "volunteers to spare",
                    f"{spare['shift_volunteers']} volunteers, {spare['work_h']:,} h "
                    f"of work: brought back {back.get('low_value', 0):,} low-value "
                    f"doors and {back.get('attempt_cap', 0):,} at the cap"
                    + (
                        f"; {spare['idle_shifts']} volunteer shifts still idle "
                        "(nothing left worth a knock)"
                        if spare["idle_shifts"] >= 0.5
                        else ""
                    ),
                )
            )
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


@cli.command("load")
@_CONFIG_REQUIRED
@_TABLES_OUT
def load_cmd(config_path: Path, out: Path) -> None:
    """Load the voter file and history; write canonical tables and the load report."""
    from .. import load

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
    from .. import load, pipeline

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
    from .. import load, match

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
    cut = report.get("threshold", {})
    if cut.get("expected_precision") is not None:
        click.echo(
            f"Matched from probability {cut['match_probability']:.3f}: "
            f"expected precision {cut['expected_precision']:.1%} (the model's own "
            "estimate)"
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
    from .. import statewide
    from ..cluster import make_executor
    from ..config import ClusterParams

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
