"""The whole run: every stage in order, returning a :class:`Plan` (no files written).

``run`` is computation only. Writing the run folder (walk lists, maps, reports,
``summary.json``) is :func:`canvass.outputs.write_plan`'s job, so a notebook user can
inspect a plan without touching the disk, and the CLI can write it atomically.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import (
    geocode,
    guards,
    load,
    match,
    network,
    outputs,
    results,
    route,
    schema,
    score,
    target,
    turf,
)
from .config import PlanConfig

__all__ = ["Located", "Plan", "ProgressFn", "load_plan", "locate", "run"]

logger = logging.getLogger(__name__)

#: Progress callback: (stage name, done, total). The CLI draws it; the library never
#: prints.
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Plan:
    """
    Everything one planning run produced; written out by :mod:`canvass.outputs._folder`.

    Parameters
    ----------
    config
        The configuration the plan was made with.
    voters, history, elections, precincts, doors, turfs, stops, routes, left_out
        The tables described in :mod:`canvass.schema`. `doors` holds every door with
        at least one voter; `turfs`, `stops` and `routes` cover the target doors.
    precinct_table
        Per-precinct voters, targets, expected extra votes, density and past turnout.
    backtest
        The scoring backtest (metrics and tables), or empty when switched off.
    reports
        Per-stage counts and problem lists (load, geocode, network, ...), PII-free.
    rejects
        Input rows that could not be used: ``file``, ``line``, ``reason``.
    run_id
        The run's id in the campaign database (in its results templates); empty
        when no ``campaign.db`` is configured.
    supporters
        The supporter list matched to the voter file, when ``[supporters] files``
        is set (``voters`` then carries ``is_supporter`` and
        ``supporter_household``).
    """

    config: PlanConfig
    voters: pd.DataFrame
    history: pd.DataFrame
    elections: pd.DataFrame
    precincts: gpd.GeoDataFrame
    doors: gpd.GeoDataFrame
    turfs: gpd.GeoDataFrame
    stops: pd.DataFrame
    routes: gpd.GeoDataFrame
    left_out: pd.DataFrame
    precinct_table: pd.DataFrame
    backtest: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    run_id: str = ""
    supporters: match.MatchResult | None = None

    @property
    def target_doors(self) -> gpd.GeoDataFrame:
        """Doors with at least one targeted voter."""
        return self.doors[self.doors[schema.N_TARGETS] > 0]

    def summary(self) -> dict[str, Any]:
        """
        Return the run's PII-free summary (what ``summary.json`` holds).

        Returns
        -------
        summary
            Counts of voters, targets, doors, turfs, volunteers and routed doors, the
            left-out doors with their reasons, the backtest AUCs, the score each
            target election's P(vote) uses, the typed election calendar
            (``elections``), and ``warnings`` (plain sentences, e.g. "No vote history
            loaded: ..." or a naive baseline replacing a score) when there are any.
        """
        target_doors = self.target_doors
        left = [
            {
                "door_id": str(r[schema.DOOR_ID]),
                "reason": str(r[schema.REASON]),
                "value": round(float(r[schema.VALUE]), 4),
                "detail": str(r[schema.DETAIL]),
            }
            for r in self.left_out.to_dict("records")
        ]
        warnings = [
            str(w)
            for stage in ("load", "score")
            for w in self.reports.get(stage, {}).get("warnings", [])
        ]
        return {
            **({"warnings": warnings} if warnings else {}),
            "run_name": self.config.run_name,
            "seed": self.config.seed,
            "target_election": self.config.target.election_type,
            "universe": self.config.target.universe,
            "voters": len(self.voters),
            "targets": int(self.voters[schema.IS_TARGET].sum()),
            "doors": len(target_doors),
            "doors_all": len(self.doors),
            "turfs": len(self.turfs),
            "volunteers": len(self.routes),
            "doors_routed": int(self.stops[schema.DOOR_ID].nunique()),
            "doors_left_out": left,
            "expected_extra_votes": round(float(self.routes_value()), 3),
            "walk_km": round(float(self.routes[schema.WALK_M].sum()) / 1000, 2),
            "backtest": self.backtest.get("auc", {}),
            "score_used": self.reports.get("score", {}).get("score_used", {}),
            "elections": (
                load.calendar_rows(self.elections)
                if "typed_by" in self.elections.columns
                else []
            ),
            **(
                {"supporters": self.supporters.report.get("by_status", {})}
                if self.supporters is not None
                else {}
            ),
            "reports": self.reports,
        }

    def routes_value(self) -> float:
        """Return the expected extra votes over all routed doors."""
        routed = self.doors.loc[self.stops[schema.DOOR_ID].unique(), schema.VALUE]
        return float(routed.sum())


@dataclass(frozen=True)
class Located:
    """
    The first half of a run: precincts, loaded voters, the walking network, doors.

    Parameters
    ----------
    precincts
        Precinct polygons in the run's local metric CRS.
    loaded
        The loaded voter file (voters, history, rejects, load report).
    G
        The walking network, projected to the precincts' CRS.
    geo
        Voters with their doors, the door table and the geocoding report.
    """

    precincts: gpd.GeoDataFrame
    loaded: load.LoadResult
    G: Any
    geo: geocode.GeocodeResult


def locate(
    config: PlanConfig,
    *,
    streets: bool = True,
    progress: Callable[[str, int], None] | None = None,
) -> Located:
    """
    Load precincts, voters and the walking network, and geocode voters to doors.

    Parameters
    ----------
    config
        The run configuration; input paths come from ``config.inputs``.
    streets
        Read the walking network and let the geocoder interpolate along it; without
        it (statewide targeting), voters are placed at address points or precinct
        centroids only, and ``G`` is None.
    progress
        Optional callback ``(stage, step number)`` as each part starts.

    Returns
    -------
    located
        Everything the scoring and planning stages start from.

    Raises
    ------
    CanvassError
        Any loader's or the geocoder's error.
    """
    inputs = config.inputs

    def step(name: str, i: int) -> None:
        if progress is not None:
            progress(name, i)

    step("load", 0)
    precincts = load.read_precincts(
        config.resolve(inputs.precincts), config.precincts, layer=inputs.precinct_layer
    )
    loaded = load.load_voter_file(config)
    G = None
    if streets:
        step("network", 1)
        G = network.read_walk_graph(
            config.resolve(inputs.streets), config.walk, crs=precincts.crs
        )
    step("geocode", 2)
    address_points = (
        geocode.read_address_points(
            config.resolve(inputs.address_points), precincts.crs, config.geocode
        )
        if inputs.address_points and config.geocode.address_points
        else None
    )
    geo = geocode.geocode_voters(
        loaded.voters,
        precincts,
        streets=G,
        address_points=address_points,
        params=config.geocode,
    )
    return Located(precincts, loaded, G, geo)


def run(config: PlanConfig, *, progress: ProgressFn | None = None) -> Plan:
    """
    Run every stage in order and return the plan (no files are written).

    Parameters
    ----------
    config
        The run configuration; input paths come from ``config.inputs``.
    progress
        Optional callback ``(stage, done, total)`` for long stages.

    Returns
    -------
    plan
        Every table the run produced.

    Raises
    ------
    CanvassError
        Any stage's error (bad input, bad config, unroutable network).
    """
    guards.preflight(config)

    def step(name: str, i: int) -> None:
        if progress is not None:
            progress(name, i, 8)

    where = locate(config, progress=step)
    precincts, loaded, G, geo = where.precincts, where.loaded, where.G, where.geo
    located_voters, matched = geo.voters, None
    if config.supporters.files:
        step("match", 3)
        supporters = match.read_supporters(config)
        matched = match.match_supporters(supporters, loaded.voters, config)
        located_voters = match.flag_voters(
            geo.voters, matched, contact=config.supporters.contact_on_walk_lists
        )
    step("score", 3)
    elections = score.election_calendar(loaded.history, config, loaded.voters)
    scored = score.score_voters(located_voters, loaded.history, elections, config)
    step("target", 4)
    targeted = target.select_targets(scored.voters, loaded.history, elections, config)
    history_report: dict[str, Any] = {}
    replan_left = pd.DataFrame(columns=list(schema.LEFT_OUT_COLUMNS))
    unvalued = targeted
    if config.campaign.db:  # the campaign's contact history: leave out done doors
        unvalued, history_report = results.apply_history(targeted, config)
        # value what is left by the next knock (docs/replan.md)
        targeted, replan_left, replan = results.next_knock(unvalued, config)
        history_report["replan"] = replan

    chosen: dict[str, Any] = {}

    def cut_doors(
        targeted: pd.DataFrame,
    ) -> tuple[gpd.GeoDataFrame, Any, turf.TurfResult, pd.DataFrame]:
        doors = target.door_values(geo.doors, targeted)
        if config.campaign.db:
            doors = results.door_attempts(doors, targeted)
        snapped = network.snap_doors(doors, G, config.walk)
        work = snapped.doors
        if config.campaign.db and config.campaign.shift_volunteers:
            # the shift's doors by value per minute (docs/replan.md)
            work, targeted, no_time, report = results.choose_doors(
                work, targeted, config
            )
            chosen.update(report, left=no_time)
        return doors, snapped, turf.cut_turfs(work, G, config), targeted

    step("turf", 5)
    doors, snapped, cut, targeted = cut_doors(targeted)
    if config.campaign.db and config.campaign.shift_volunteers:
        # volunteers to spare: bring back doors left out (docs/replan.md)
        full = bool(chosen.get(results.NO_TIME))
        room = 0 if full else results.doors_to_fill(cut.turfs, config)
        reserve = sum(replan["reserve"].values())
        if room and reserve:
            targeted, replan_left, replan = results.next_knock(
                unvalued, config, bring_back=room
            )
            history_report["replan"] = replan
            doors, snapped, cut, targeted = cut_doors(targeted)
        replan["spare"] = results.spare_report(cut.turfs, config, room, replan)
        left = chosen.pop("left")
        replan["shift_doors"] = dict(chosen)
        replan["left_out"][results.NO_TIME] = len(left)
        if len(left):
            replan_left = pd.concat([replan_left, left], ignore_index=True)
    if config.campaign.db:  # the same turf names as the last run where doors allow
        before = results.previous_turfs(config)
        named, named_turfs, stable = results.keep_turf_ids(cut.doors, cut.turfs, before)
        named, named_turfs, settled = results.settle_turfs(
            named, named_turfs, before, config
        )
        cut = dataclasses.replace(cut, doors=named, turfs=named_turfs)
        history_report["replan"]["turfs"] = {**stable, **settled}
        history_report["replan"]["turfs_by_value_per_hour"] = [
            str(t)
            for t in (named_turfs[schema.VALUE] / named_turfs[schema.EST_S].clip(1))
            .sort_values(ascending=False, kind="stable")
            .index
        ]
    step("route", 6)

    def route_progress(done: int, total: int) -> None:
        if progress is not None:
            progress("route", done, total)

    routed = route.route_turfs(cut.doors, cut.turfs, G, config, progress=route_progress)
    step("report", 7)
    # A door left out for its address is not also left out for its snap.
    snap_left = snapped.left_out[
        ~snapped.left_out[schema.DOOR_ID].isin(
            cut.left_out.loc[
                cut.left_out[schema.REASON] == "address_not_found", schema.DOOR_ID
            ]
        )
    ]
    parts = [snap_left, cut.left_out, routed.left_out]
    left_out = pd.concat(
        [replan_left, *parts] if len(replan_left) else parts, ignore_index=True
    )
    precinct_table = target.precinct_table(
        precincts, doors, targeted, loaded.history, elections
    )
    plan = Plan(
        config=config,
        voters=targeted,
        history=loaded.history,
        elections=elections,
        precincts=precincts,
        doors=cut.doors,
        turfs=cut.turfs,
        stops=routed.stops,
        routes=routed.routes,
        left_out=left_out,
        precinct_table=precinct_table,
        backtest=scored.backtest,
        reports={
            "load": loaded.report,
            "score": scored.report,
            "geocode": geo.report,
            "network": snapped.report,
            "turf": cut.report,
            "route": routed.report,
            **({"history": history_report} if history_report else {}),
        },
        rejects=loaded.rejects,
        # a run is an entry of the campaign database; without one, outputs stay
        # byte-identical for the same inputs, config and seed
        run_id=results.new_run_id(config) if config.campaign.db else "",
        supporters=matched,
    )
    step("done", 8)
    logger.info(
        "Planned %s target doors in %s turfs for %s volunteers",
        f"{len(plan.target_doors):,}",
        f"{len(plan.turfs):,}",
        f"{len(plan.routes):,}",
    )
    return plan


def load_plan(run_folder: Path) -> Plan:
    """
    Read back the plan a run folder keeps (``plan/``, runs with ``[campaign] db``).

    Parameters
    ----------
    run_folder
        The run folder ``canvass run`` wrote.

    Returns
    -------
    plan
        The plan as it was written: its configuration (with the config file's
        folder as ``base_dir``), run id, tables and reports; no backtest and no
        supporter match.

    Raises
    ------
    InputError
        If the folder keeps no plan tables or they cannot be read.
    """
    data = outputs.read_plan_data(Path(run_folder))
    config = PlanConfig.from_dict(data.pop("config"), source=str(run_folder))
    return Plan(config=config, **data)
