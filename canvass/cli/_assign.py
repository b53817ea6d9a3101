"""``canvass assign``: put the volunteers of a roster on a run's routes."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ._base import _CONFIG_REQUIRED, _FILE, _load_config, cli


def _write_private(frame: object, path: Path) -> Path:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False, lineterminator="\n")
    return path


@cli.command("assign")
@_CONFIG_REQUIRED
@click.option("--roster", type=_FILE, help="Volunteer roster CSV (docs/results.md).")
@click.option(
    "--run",
    "run_folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The run folder [default: maps/<run_name>].",
)
@click.option(
    "--assignment",
    "edited",
    type=_FILE,
    help="Read this (edited) assignment CSV instead of assigning from the roster.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the assignment [default: <run folder>/assignment.csv].",
)
@click.option(
    "--max-walk-m",
    type=click.FloatRange(100, 20000),
    default=2000.0,
    show_default=True,
    help="How far a volunteer without a car walks to a route's start (metres).",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("assign_rejects.csv"),
    show_default=True,
    help="Where to write roster or assignment rows that could not be used.",
)
def assign(
    config_path: Path,
    roster: Path | None,
    run_folder: Path | None,
    edited: Path | None,
    out: Path | None,
    max_walk_m: float,
    rejects_path: Path,
) -> None:
    """Assign volunteers to a run's routes; name them on its route outputs.

    Without --assignment: reads the roster (name, phone, email, has_car,
    home_address, area, team; or the volunteers.csv `canvass match` writes), puts
    volunteers without a car on routes they can walk to and the others on the
    routes nearest their home, and writes the assignment CSV. With --assignment:
    reads that file back after the field director edited it. Either way the
    assignment is stored in the campaign database with the run, and the run's
    walk lists, PDFs, GPX, route pages and maps are written again with each
    volunteer's first name (no new plan: from the plan the run folder keeps).
    """
    import pandas as pd

    from .. import geocode, network, outputs, pipeline, results

    config = _load_config(config_path)
    folder = run_folder or Path("maps") / config.run_name
    if not folder.is_dir():
        msg = f"no run folder {folder}; give the run's folder with --run."
        raise click.ClickException(msg)
    if roster is None and edited is None:
        msg = "give --roster (to assign) or --assignment (an edited assignment)."
        raise click.UsageError(msg)
    plan = pipeline.load_plan(folder)
    if edited is not None:
        assignment = results.read_assignment(edited, plan)
        rejects = assignment.rejects
    else:
        assert roster is not None
        read = results.read_roster(roster)
        pc = plan.config
        streets = (
            network.read_walk_graph(
                pc.resolve(pc.inputs.streets), pc.walk, crs=plan.precincts.crs
            )
            if pc.inputs.streets
            else None
        )
        points = (
            geocode.read_address_points(
                pc.resolve(pc.inputs.address_points), plan.precincts.crs, pc.geocode
            )
            if pc.inputs.address_points and pc.geocode.address_points
            else None
        )
        assignment = results.assign_volunteers(
            plan, read, streets=streets, address_points=points, max_walk_m=max_walk_m
        )
        rejects = read.rejects
        click.echo(
            f"{roster}: {read.rows:,} rows: {len(read.volunteers):,} volunteers, "
            f"{len(read.rejects):,} rejected"
        )
    n = results.store_assignment(config, assignment, plan.run_id)
    target = out or folder / "assignment.csv"
    if edited is None or target.resolve() != edited.resolve():
        _write_private(assignment.table, target)
    table = assignment.table
    staffed = assignment.assigned
    no_vol = table[(table["route_id"] != "") & (table["volunteer"] == "")]
    no_route = table[(table["route_id"] == "") & (table["volunteer"] != "")]
    reach = pd.to_numeric(staffed["reach_m"], errors="coerce")
    click.echo(
        f"Run {plan.run_id}: {n:,} of {len(plan.routes):,} routes assigned"
        + (
            f" (home to route start: median {reach.median():,.0f} m, "
            f"max {reach.max():,.0f} m)"
            if reach.notna().any()
            else ""
        )
    )
    if len(no_vol):
        click.echo(f"{len(no_vol):,} route(s) without a volunteer: fewer volunteers "
                   "than routes, or none in reach.")  # fmt: skip
    if len(no_route):
        click.echo(f"{len(no_route):,} volunteer(s) without a route (see flag).")
    click.echo(f"Assignment: {target}")
    if len(rejects):
        why = _write_private(rejects, rejects_path)
        click.echo(f"{len(rejects):,} row(s) rejected; why: {why}")
    names = dict(zip(staffed["route_id"], staffed["first_name"], strict=True))
    named = outputs.with_volunteer_names(plan, names)
    files = outputs.rewrite_route_outputs(named, folder)
    kept = files.pop("kept")
    click.echo(
        f"Route outputs written again with first names: "
        f"{sum(len(v) for v in files.values()):,} files in {folder}"
        + (f" ({len(kept)} filled-in results template(s) kept)" if kept else "")
    )
