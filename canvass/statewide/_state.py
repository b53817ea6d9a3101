"""Statewide targeting: every town's load, geocode, scoring and universes, in parallel.

A statewide voter file in the Massachusetts layout is one VOT/ANP/ACP set per town,
and ward/precinct codes and street addresses only mean something inside a town. So a
statewide run is the targeting half of :func:`canvass.pipeline.run` (load, geocode by
address-point match, join to precincts, score for the next state primary and state
election, universes for both, door values, precinct table) done town by town, each
town an independent piece handed to an :class:`canvass.cluster.Executor` (a local
process pool or a Dask cluster), then put together. Turnout models are fitted once,
not per town: :func:`fit_state_models` loads a seeded random set of "training
towns" holding at least ``score.max_train_rows`` voters, fits both election types on
them with one statewide election calendar, and every town is then only predicted
with those models (``score.score_voters(..., fitted=models)``). Fitting per town
would cost two model fits per town (most of the run) and learn from small samples.
The results are:

- one statewide precinct table (``town`` + ``precinct_id``), ranked statewide;
- target counts per universe;
- a statewide check of the door-to-precinct join: every door is joined again to the
  statewide precinct layer with ``executor.precinct_of`` (dask-geopandas on Dask),
  and doors that land in another town's precinct are counted.

Each town is described by its own ``canvass.toml`` (see ``bench/make_state.py``);
routing is not part of the statewide run (turfs are cut and routed per field office).
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import geocode, load, schema, score, target
from .._crs import check_coordinates
from ..cluster import Executor, Progress
from ..config import PlanConfig
from ..errors import InputError

__all__ = [
    "GENERAL_UNIVERSE",
    "StateResult",
    "TownJob",
    "TownResult",
    "fit_state_models",
    "read_state_precincts",
    "run_state",
    "target_town",
]

logger = logging.getLogger(__name__)

#: The state-election universe built beside the config's own (state primary) one.
GENERAL_UNIVERSE = "gubernatorial_low_propensity"
#: CRS of the statewide door check (Massachusetts State Plane, metres).
STATE_CRS = "EPSG:26986"
#: Largest share of the state (by voter-file size) loaded to fit the models.
TRAIN_SHARE_MAX = 0.25


@dataclass(frozen=True)
class TownJob:
    """
    One town of a statewide run.

    Parameters
    ----------
    config
        Path of the town's ``canvass.toml``.
    keep_voters
        Return the scored voters (for tests and exports; costs memory).
    models, elections
        Statewide models and calendar from :func:`fit_state_models`; None fits the
        town's own models on its own calendar.
    """

    config: str
    keep_voters: bool = False
    models: dict[str, score.FittedScores] | None = None
    elections: pd.DataFrame | None = None


@dataclass(frozen=True)
class TownResult:
    """
    What one town's targeting returns (PII-free unless `voters` is kept).

    Parameters
    ----------
    town
        The town's run name.
    counts
        ``voters``, ``votes``, ``doors``, ``rejects``, targets per universe and
        voters per geocoding method (``geocoded_<method>``).
    seconds
        Wall seconds per stage (``load``, ``geocode``, ``score``, ``target``,
        ``precincts``).
    precinct_table
        The town's precinct table with a ``town`` column.
    doors
        Door points (``door_id``, ``precinct_id``) in :data:`STATE_CRS`.
    peak_rss_mb
        Peak resident memory of the process that ran the town.
    voters
        Scored and targeted voters when `keep_voters`, else None.
    """

    town: str
    counts: dict[str, int]
    seconds: dict[str, float]
    precinct_table: pd.DataFrame
    doors: gpd.GeoDataFrame
    peak_rss_mb: float
    voters: pd.DataFrame | None = None


@dataclass(frozen=True)
class StateResult:
    """
    A statewide targeting run.

    Parameters
    ----------
    towns
        Per-town results, in the order of the jobs.
    precinct_table
        Every precinct of the state, ranked statewide by expected extra votes.
    counts
        Statewide sums of the towns' counts.
    seconds
        Statewide sums of the stage seconds (worker time, not wall time).
    door_check
        ``doors``, ``same_precinct``, ``other_town`` and ``outside`` from the
        statewide door-to-precinct join.
    """

    towns: list[TownResult]
    precinct_table: pd.DataFrame
    counts: dict[str, int]
    seconds: dict[str, float]
    door_check: dict[str, int] = field(default_factory=dict)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def target_town(job: TownJob) -> TownResult:
    """
    Load, geocode, score and target one town; build its precinct table.

    Parameters
    ----------
    job
        The town's config path and whether to keep the voters.

    Returns
    -------
    TownResult
        Counts, stage times, precinct table and doors.

    Raises
    ------
    CanvassError
        Any stage's error for this town's files.
    """
    config = PlanConfig.from_toml(Path(job.config))
    clock: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        clock[name] = now - t
        t = now

    precincts, loaded, geo = _load_and_geocode(config, lap)
    if job.models is not None and job.elections is not None:
        elections = job.elections
    else:
        elections = score.election_calendar(loaded.history, config, loaded.voters)
    scored = score.score_voters(
        geo.voters, loaded.history, elections, config, fitted=job.models
    )
    lap("score")
    targeted = target.select_targets(scored.voters, loaded.history, elections, config)
    general = dataclasses.replace(
        config,
        target=dataclasses.replace(
            config.target, election_type="state_election", universe=GENERAL_UNIVERSE
        ),
    )
    targeted_general = target.select_targets(
        scored.voters, loaded.history, elections, general
    )
    doors = target.door_values(geo.doors, targeted)
    lap("target")
    table = target.precinct_table(precincts, doors, targeted, loaded.history, elections)
    table.insert(0, "town", config.precincts.town or config.run_name)
    lap("precincts")
    counts = {
        "voters": len(loaded.voters),
        "votes": len(loaded.history),
        "rejects": len(loaded.rejects),
        "doors": len(doors),
        f"targets_{config.target.universe}": int(targeted[schema.IS_TARGET].sum()),
        f"targets_{GENERAL_UNIVERSE}": int(targeted_general[schema.IS_TARGET].sum()),
        "target_doors": int((doors[schema.N_TARGETS] > 0).sum()),
    }
    if schema.GEOCODE_METHOD in geo.voters.columns:
        methods = geo.voters[schema.GEOCODE_METHOD].astype(str).value_counts()
        counts.update({f"geocoded_{k}": int(v) for k, v in methods.items()})
    door_points = gpd.GeoDataFrame(
        {schema.PRECINCT_ID: doors[schema.PRECINCT_ID].astype(str).to_numpy()},
        geometry=doors.geometry.to_crs(STATE_CRS).to_numpy(),
        index=doors.index,
        crs=STATE_CRS,
    )
    keep = None
    if job.keep_voters:
        p_cols = [c for c in targeted.columns if str(c).startswith("p_")]
        keep = targeted[[*p_cols, schema.IS_TARGET, schema.LIFT]].join(
            targeted_general[[schema.IS_TARGET]].rename(
                columns={schema.IS_TARGET: f"{schema.IS_TARGET}_general"}
            )
        )
        keep[schema.DOOR_ID] = geo.voters[schema.DOOR_ID].reindex(keep.index)
    return TownResult(
        town=config.precincts.town or config.run_name,
        counts=counts,
        seconds=clock,
        precinct_table=table,
        doors=door_points,
        peak_rss_mb=_peak_rss_mb(),
        voters=keep,
    )


def _load_and_geocode(
    config: PlanConfig, lap: Callable[[str], None]
) -> tuple[gpd.GeoDataFrame, load.LoadResult, geocode.GeocodeResult]:
    """Read the town's precincts and voter file; place voters at address points."""
    from ..pipeline import locate

    located = locate(
        config,
        streets=False,
        progress=lambda stage, _: lap("load") if stage == "geocode" else None,
    )
    lap("geocode")
    return located.precincts, located.loaded, located.geo


def _training_town(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load and geocode one training town; door ids made unique by the town."""
    config = PlanConfig.from_toml(Path(path))
    _, loaded, geo = _load_and_geocode(config, lambda _: None)
    voters = geo.voters.copy()
    town = config.precincts.town or config.run_name
    voters[schema.DOOR_ID] = town + "|" + voters[schema.DOOR_ID].astype(str)
    return voters, loaded.history


def _vot_bytes(path: Path) -> int:
    config = PlanConfig.from_toml(path)
    size = 0
    for pattern in config.inputs.voters:  # the text's size, also when compressed
        try:
            paths = load.expand_input(config.resolve(pattern), "inputs.voters")
        except InputError:
            continue  # the town's own run reports it
        size += sum(load.text_size(p) for p in paths)
    return size


def _sample_towns(configs: list[Path], n_voters: int, seed: int) -> list[Path]:
    """
    Pick a seeded random set of towns with about `n_voters` voters.

    Sizes come from the voter files (a VOT line is about 180 bytes); at most a
    quarter of the state is picked (at least one town), so a small state is not
    loaded twice.
    """
    sizes = np.array([_vot_bytes(c) for c in configs], dtype=np.int64)
    want = min(n_voters * 180, int(TRAIN_SHARE_MAX * sizes.sum()))
    order = np.random.default_rng([seed, 1776]).permutation(len(configs))
    upto = np.cumsum(sizes[order])
    n = int(np.searchsorted(upto, want)) + 1
    return sorted(configs[int(i)] for i in order[: min(n, len(configs))])


def fit_state_models(
    configs: list[Path], executor: Executor
) -> tuple[dict[str, score.FittedScores], pd.DataFrame]:
    """
    Fit the turnout models of both election types once, on training towns.

    Parameters
    ----------
    configs
        Every town's ``canvass.toml`` (the first one's ``[score]`` and ``seed`` are
        used).
    executor
        Loads the training towns in parallel.

    Returns
    -------
    models, elections
        The fitted scores per election type and the statewide election calendar
        (pass both to every town).
    """
    config = PlanConfig.from_toml(configs[0])
    params = config.score
    towns = _sample_towns(configs, params.max_train_rows, config.seed)
    loaded = executor.map(_training_town, [str(c) for c in towns])
    voters = pd.concat([v for v, _ in loaded])
    history = pd.concat([h for _, h in loaded], ignore_index=True)
    elections = score.election_calendar(history, config)
    mx = score.build_matrix(voters, history, elections)
    doors = score.door_keys(voters)
    models: dict[str, score.FittedScores] = {}
    targets = {
        schema.STATE_PRIMARY: np.datetime64(params.next_state_primary, "D"),
        schema.STATE_ELECTION: np.datetime64(params.next_state_election, "D"),
    }
    for etype, when in targets.items():
        train = mx.elections_of(when, etype)[-params.train_elections :]
        if train:
            models[etype] = score.fit(
                mx, voters, doors, train, etype, params, config.seed
            )
    logger.info(
        "Fitted statewide models (%s) on %s towns, %s voters",
        ", ".join(models),
        f"{len(towns):,}",
        f"{len(voters):,}",
    )
    return models, elections


def _door_check(
    executor: Executor, towns: list[TownResult], precincts: gpd.GeoDataFrame
) -> dict[str, int]:
    """Join every door to the statewide precinct layer; compare with the town's."""
    frames = [
        r.doors.assign(_town=r.town).set_index(r.town + "|" + r.doors.index.astype(str))
        for r in towns
        if len(r.doors)
    ]
    if not frames:
        return {"doors": 0, "same_precinct": 0, "other_town": 0, "outside": 0}
    doors = gpd.GeoDataFrame(pd.concat(frames), crs=STATE_CRS)
    layer = precincts.to_crs(STATE_CRS)
    found = executor.precinct_of(doors, layer)
    own = (doors["_town"] + "|" + doors[schema.PRECINCT_ID]).to_numpy()
    town_of = found.str.split("|", n=1).str[0].to_numpy()
    return {
        "doors": len(doors),
        "same_precinct": int((found.to_numpy() == own).sum()),
        "other_town": int(
            ((found != "").to_numpy() & (town_of != doors["_town"].to_numpy())).sum()
        ),
        "outside": int((found == "").sum()),
    }


def run_state(
    configs: list[Path],
    executor: Executor,
    *,
    precincts: gpd.GeoDataFrame | None = None,
    keep_voters: bool = False,
    progress: Progress | None = None,
) -> StateResult:
    """
    Target every town of a state on `executor` and put the results together.

    Parameters
    ----------
    configs
        One ``canvass.toml`` per town.
    executor
        Where towns are computed (:func:`canvass.cluster.make_executor`).
    precincts
        The statewide precinct layer with a ``town`` column (index any); when
        given, every door is joined to it again statewide (``door_check``).
    keep_voters
        Keep every town's scored voters in the result.
    progress
        Called with (towns done, towns total).

    Returns
    -------
    StateResult
        Per-town results, the statewide precinct table, counts and the door check.
    """
    models, elections = fit_state_models(configs, executor)
    jobs = [
        TownJob(str(c), keep_voters=keep_voters, models=models, elections=elections)
        for c in configs
    ]
    towns = executor.map(target_town, jobs, progress=progress)
    table = pd.concat([r.precinct_table for r in towns])
    table = table.rename_axis(schema.PRECINCT_ID).reset_index()
    key = "expected_extra_votes"
    if key in table.columns:
        table = table.sort_values(
            [key, "town", schema.PRECINCT_ID], ascending=[False, True, True]
        )
        table["state_rank"] = np.arange(1, len(table) + 1)
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for r in towns:
        for k, v in r.counts.items():
            counts[k] = counts.get(k, 0) + v
        for k, s in r.seconds.items():
            seconds[k] = seconds.get(k, 0.0) + s
    check: dict[str, int] = {}
    if precincts is not None:
        layer = precincts.copy()
        codes = layer["WARDPREC"] if "WARDPREC" in layer else layer.index.astype(str)
        layer.index = pd.Index(layer["town"].astype(str) + "|" + codes.astype(str))
        check = _door_check(executor, towns, layer)
    logger.info(
        "Statewide: %s towns, %s voters, %s doors, %s precincts on %s",
        f"{len(towns):,}",
        f"{counts.get('voters', 0):,}",
        f"{counts.get('doors', 0):,}",
        f"{len(table):,}",
        executor.name,
    )
    return StateResult(
        towns=towns,
        precinct_table=table.reset_index(drop=True),
        counts=counts,
        seconds=seconds,
        door_check=check,
    )


def read_state_precincts(path: Path) -> gpd.GeoDataFrame:
    """
    Read the statewide precinct layer written by ``bench/make_state.py``.

    Parameters
    ----------
    path
        The GeoPackage with ``town`` and ``WARDPREC`` columns.

    Returns
    -------
    GeoDataFrame
        The layer as written (any CRS).

    Raises
    ------
    InputError
        If the layer has no CRS or coordinates that cannot be in it.
    """
    out: gpd.GeoDataFrame = gpd.read_file(path)
    if out.crs is None:
        msg = f"{path}: the statewide precinct layer has no CRS; save it with its CRS."
        raise InputError(msg)
    check_coordinates(out, path)
    return out
