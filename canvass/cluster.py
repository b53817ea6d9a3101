"""Executors: where a run's heavy, independent pieces are computed (here or on Dask).

A run has three kinds of work that split into independent pieces:

- **spatial joins** of many points (doors) to polygons (precincts);
- **scoring and targeting by partition** (a statewide file is scored town by town:
  precinct codes and street addresses are local to a town, so a town is the natural
  partition; see :mod:`canvass.statewide`);
- **solving turfs**, one OR-Tools problem per turf.

An :class:`Executor` does these on one machine (:class:`LocalExecutor`: a process
pool, or in-process for one worker) or on a Dask cluster (:class:`DaskExecutor`:
``dask.distributed`` for ``map`` and ``dask-geopandas`` for ``sjoin``). Both give
identical results: ``map`` keeps the order of its items, and
:meth:`Executor.precinct_of` breaks boundary ties the same way (first precinct by
id), so a plan does not depend on where it was computed.

:func:`make_executor` builds the executor from the ``[cluster]`` config section::

    [cluster]
    scheduler = ""          # "" = this machine, "local" = a Dask LocalCluster,
                            # or a scheduler address such as "tcp://10.0.0.5:8786"
    workers = 2             # processes for "" and "local"

Intended call sites (the stage owners adopt them; nothing else changes):

- ``canvass.geocode._doors._spatial_precinct`` (used by geocoding) ->
  ``executor.precinct_of(doors, precincts)`` (same contract: precinct id per door,
  ``""`` outside all precincts);
- :func:`canvass.route.route_turfs`, where it calls ``solve_all(problems, workers,
  progress)`` -> :func:`canvass.route.solve_turfs` ``(executor, problems, progress)``;
- :func:`canvass.statewide.run_state` -> ``executor.map(target_town, towns)``.

Dask is imported only when a Dask executor is made (``pip install canvass[dask]``).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from . import schema
from .config import ClusterParams
from .errors import ConfigError

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "make_executor",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
#: Progress callback: (pieces done, pieces total).
Progress = Callable[[int, int], None]


def _first_by_id(joined: pd.DataFrame, n: int, right_ids: np.ndarray) -> np.ndarray:
    """Polygon id per point from (point, polygon) position pairs; "" if none."""
    out = np.full(n, "", dtype=object)
    if len(joined) == 0:
        return out
    ids = right_ids[joined["_right"].to_numpy()]
    order = np.lexsort([ids.astype(str), joined["_left"].to_numpy()])
    left = joined["_left"].to_numpy()[order]
    first = np.r_[True, left[1:] != left[:-1]]
    out[left[first]] = ids[order][first]
    return out


def _join_frames(
    points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Minimal frames for a join: positions only, same CRS."""
    if points.crs != polygons.crs:
        msg = (
            f"points are in {points.crs} but polygons in {polygons.crs}; reproject "
            "one of them before the spatial join."
        )
        raise ConfigError(msg)
    left = gpd.GeoDataFrame(
        {"_left": np.arange(len(points))},
        geometry=points.geometry.to_numpy(),
        crs=points.crs,
    )
    right = gpd.GeoDataFrame(
        {"_right": np.arange(len(polygons))},
        geometry=polygons.geometry.to_numpy(),
        crs=polygons.crs,
    )
    return left, right


class Executor:
    """
    Runs independent pieces of work and spatial joins; see the module docstring.

    Subclasses implement :meth:`map` and :meth:`_pairs`; everything else is shared so
    that every executor returns the same answer.
    """

    #: Worker processes (or Dask workers) the executor uses.
    workers: int = 1
    #: Short description for logs and reports ("local x2", "dask tcp://...").
    name: str = "local"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: Progress | None = None,
    ) -> list[R]:
        """
        Apply `fn` to every item, possibly in parallel; results keep the item order.

        Parameters
        ----------
        fn
            A picklable top-level function.
        items
            Its arguments, one call each.
        progress
            Called with (items done, items total) as pieces finish.

        Returns
        -------
        results
            ``[fn(item) for item in items]``.
        """
        raise NotImplementedError

    def _pairs(self, left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> pd.DataFrame:
        """Return the ``_left``/``_right`` position pairs of intersecting rows."""
        raise NotImplementedError

    def sjoin(
        self, points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame
    ) -> pd.DataFrame:
        """
        Return every (point, polygon) pair that intersects, in a canonical order.

        Parameters
        ----------
        points
            Point layer (any index).
        polygons
            Polygon layer in the same CRS (any index).

        Returns
        -------
        pairs
            Columns ``point`` and ``polygon`` (index labels of the two inputs),
            sorted by point position then polygon position.

        Raises
        ------
        ConfigError
            If the two layers are in different CRSs.
        """
        left, right = _join_frames(points, polygons)
        pairs = self._pairs(left, right).sort_values(["_left", "_right"])
        return pd.DataFrame(
            {
                "point": points.index.to_numpy()[pairs["_left"].to_numpy()],
                "polygon": polygons.index.to_numpy()[pairs["_right"].to_numpy()],
            }
        )

    def precinct_of(
        self, doors: gpd.GeoDataFrame, precincts: gpd.GeoDataFrame
    ) -> pd.Series:
        """
        Precinct id of each door by point in polygon (first by id on a boundary).

        Parameters
        ----------
        doors
            Door points (index ``door_id``).
        precincts
            Precinct polygons (index ``precinct_id``), same CRS.

        Returns
        -------
        Series
            Indexed like `doors`: the precinct id, ``""`` outside every precinct.
        """
        left, right = _join_frames(doors, precincts)
        pairs = self._pairs(left, right)
        ids = np.asarray(precincts.index.astype(str), dtype=object)
        values = _first_by_id(pairs, len(doors), ids)
        return pd.Series(values, index=doors.index, name=schema.PRECINCT_ID).astype(
            "str"
        )

    def close(self) -> None:
        """Release workers (a no-op for executors that hold none between calls)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pool_context() -> Any:
    # fork is cheap and safe on Linux before 3.12; elsewhere spawn (as _solver does)
    method = (
        "fork" if sys.platform == "linux" and sys.version_info < (3, 12) else "spawn"
    )
    return mp.get_context(method)


class LocalExecutor(Executor):
    """
    Run on this machine: a process pool of `workers` processes (in-process when 1).

    Parameters
    ----------
    workers
        Worker processes; 1 runs everything in this process.
    """

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            msg = (
                f"cluster.workers must be at least 1, got {workers}; set it to 1 or 2."
            )
            raise ConfigError(msg)
        self.workers = workers
        self.name = f"local x{workers}"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: Progress | None = None,
    ) -> list[R]:
        """Apply `fn` to every item in a process pool; see :meth:`Executor.map`."""
        total = len(items)
        out: list[Any] = [None] * total
        if progress is not None:
            progress(0, total)
        if self.workers <= 1 or total <= 1:
            for i, item in enumerate(items):
                out[i] = fn(item)
                if progress is not None:
                    progress(i + 1, total)
            return out
        with ProcessPoolExecutor(self.workers, mp_context=_pool_context()) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            for done, fut in enumerate(as_completed(futures), start=1):
                out[futures[fut]] = fut.result()
                if progress is not None:
                    progress(done, total)
        return out

    def _pairs(self, left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> pd.DataFrame:
        joined = gpd.sjoin(left, right, how="inner", predicate="intersects")
        return pd.DataFrame(
            {"_left": joined["_left"].to_numpy(), "_right": joined["_right"].to_numpy()}
        )


class DaskExecutor(Executor):
    """
    A Dask cluster: ``client.map`` for pieces, dask-geopandas for spatial joins.

    Parameters
    ----------
    client
        A ``distributed.Client``.
    partitions
        Partitions of the point layer in a spatial join (0 = two per worker).
    cluster
        A cluster this executor started and must close (``LocalCluster``), or None.
    """

    def __init__(
        self, client: Any, *, partitions: int = 0, cluster: Any = None
    ) -> None:
        self.client = client
        self.cluster = cluster
        n = len(client.scheduler_info(n_workers=-1).get("workers", {})) or 1
        self.workers = n
        self.partitions = partitions or 2 * n
        self.name = f"dask {client.scheduler.address} x{n}"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        progress: Progress | None = None,
    ) -> list[R]:
        """Apply `fn` to every item on the cluster; see :meth:`Executor.map`."""
        from distributed import as_completed as dask_completed

        total = len(items)
        if progress is not None:
            progress(0, total)
        if total == 0:
            return []
        futures = self.client.map(fn, list(items), pure=False)
        if progress is not None:
            finished = dask_completed(futures)  # type: ignore[no-untyped-call,unused-ignore]
            for done, _ in enumerate(finished, start=1):
                progress(done, total)
        results: list[R] = self.client.gather(futures)
        return results

    def _pairs(self, left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> pd.DataFrame:
        import dask_geopandas

        parts = max(1, min(self.partitions, len(left)))
        dleft = dask_geopandas.from_geopandas(left, npartitions=parts)
        joined = dask_geopandas.sjoin(dleft, right, how="inner", predicate="intersects")
        frame = self.client.compute(joined[["_left", "_right"]]).result()
        return pd.DataFrame(
            {"_left": frame["_left"].to_numpy(), "_right": frame["_right"].to_numpy()}
        )

    def close(self) -> None:
        """Close the client, and the cluster when this executor started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(params: ClusterParams) -> Executor:
    """
    Build the executor the ``[cluster]`` section asks for.

    Parameters
    ----------
    params
        ``scheduler`` ("" = this machine, "local" = a Dask LocalCluster bound to
        127.0.0.1, else a scheduler address), ``workers``, ``processes`` and
        ``partitions``.

    Returns
    -------
    executor
        Use it as a context manager so Dask workers are released.

    Raises
    ------
    ConfigError
        If Dask is needed but not installed, or the scheduler cannot be reached.
    """
    if not params.scheduler:
        return LocalExecutor(params.workers)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        msg = (
            f"cluster.scheduler = {params.scheduler!r} needs Dask; install it with "
            "`pip install 'canvass[dask]'` or set cluster.scheduler = \"\"."
        )
        raise ConfigError(msg) from exc
    if params.scheduler == "local":
        # thread workers talk in-process (no socket); process workers over TCP on
        # the loopback interface only
        where = {"host": "127.0.0.1"} if params.processes else {}
        cluster = LocalCluster(  # type: ignore[no-untyped-call,unused-ignore]
            n_workers=params.workers,
            threads_per_worker=1,
            processes=params.processes,
            dashboard_address=None,
            **where,
        )
        client = Client(cluster)  # type: ignore[no-untyped-call,unused-ignore]
        ex = DaskExecutor(client, partitions=params.partitions, cluster=cluster)
    else:
        try:
            client = Client(  # type: ignore[no-untyped-call,unused-ignore]
                params.scheduler, timeout=params.timeout_s
            )
        except OSError as exc:
            msg = (
                f"cannot reach the Dask scheduler at {params.scheduler} "
                f"(cluster.scheduler): {exc}; check the address and that "
                "`dask scheduler` runs there."
            )
            raise ConfigError(msg) from exc
        ex = DaskExecutor(client, partitions=params.partitions)
    logger.info("Executor: %s", ex.name)
    return ex
