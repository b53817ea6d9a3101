"""Tests for canvass.cluster (executors) and canvass.statewide, local vs Dask."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from canvass import cluster, route, schema, statewide
from canvass.config import ClusterParams, PlanConfig
from canvass.errors import ConfigError
from canvass.geocode import _doors
from canvass.statewide import _state
from canvass.turf import _solver

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "ma_statewide"


def _square(x: int) -> int:
    return x * x


def _grid() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Four 100 m squares (ids out of order) and points inside, on edges, outside."""
    polys = gpd.GeoDataFrame(
        {schema.NAME: ["b", "a", "d", "c"]},
        geometry=[box(100, 0, 200, 100), box(0, 0, 100, 100), box(100, 100, 200, 200),
                  box(0, 100, 100, 200)],
        index=pd.Index(["2B", "1A", "2D", "1C"], name=schema.PRECINCT_ID),
        crs="EPSG:26986",
    )  # fmt: skip
    rng = np.random.default_rng(3)
    xy = rng.uniform(-20, 220, (300, 2))
    xy[:6] = [[100, 50], [100, 100], [50, 100], [0, 0], [250, 250], [150, 150]]
    doors = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        index=pd.Index([f"D{i:04d}" for i in range(len(xy))], name=schema.DOOR_ID),
        crs="EPSG:26986",
    )
    return doors, polys


def test_local_map_keeps_order_in_process_and_in_a_pool() -> None:
    items = list(range(23))
    seen: list[tuple[int, int]] = []
    with cluster.LocalExecutor(1) as one:
        assert one.map(_square, items, progress=lambda d, n: seen.append((d, n))) == [
            i * i for i in items
        ]
    assert seen[0] == (0, 23)
    assert seen[-1] == (23, 23)
    with cluster.LocalExecutor(2) as two:
        assert two.map(_square, items) == [i * i for i in items]
        assert two.map(_square, []) == []


def test_precinct_of_matches_the_geocoder_spatial_join() -> None:
    doors, polys = _grid()
    got = cluster.LocalExecutor(1).precinct_of(doors, polys)
    want = _doors._spatial_precinct(doors, polys)
    pd.testing.assert_series_equal(got, want, check_names=False)
    # boundary points go to the first precinct by id; outside points get ""
    assert got["D0000"] == "1A"  # on the 1A/2B edge
    assert got["D0001"] == "1A"  # corner of all four
    assert got["D0004"] == ""
    assert got["D0005"] == "2D"


def test_sjoin_lists_every_pair_in_point_order() -> None:
    doors, polys = _grid()
    pairs = cluster.LocalExecutor(1).sjoin(doors, polys)
    assert list(pairs.columns) == ["point", "polygon"]
    assert pairs[pairs["point"] == "D0001"]["polygon"].tolist() == [
        "2B", "1A", "2D", "1C"
    ]  # fmt: skip
    pos = doors.index.get_indexer(pairs["point"])
    assert (np.diff(pos) >= 0).all()
    assert "D0004" not in set(pairs["point"])


def test_crs_mismatch_and_bad_settings_raise_config_errors() -> None:
    doors, polys = _grid()
    with pytest.raises(ConfigError, match="reproject"):
        cluster.LocalExecutor(1).precinct_of(doors.to_crs(4326), polys)
    with pytest.raises(ConfigError, match=r"cluster\.scheduler"):
        ClusterParams(scheduler="my-laptop")
    with pytest.raises(ConfigError, match=r"cluster\.workers"):
        ClusterParams(workers=0)
    cfg = PlanConfig.from_dict({"cluster": {"scheduler": "tcp://10.0.0.5:8786"}})
    assert cfg.cluster.scheduler == "tcp://10.0.0.5:8786"
    ex = cluster.make_executor(ClusterParams(workers=1))
    assert isinstance(ex, cluster.LocalExecutor)


def _problems() -> list[_solver.TurfProblem]:
    rng = np.random.default_rng(11)
    out = []
    for t in range(4):
        n = 6 + 3 * t
        xy = rng.uniform(0, 400, (n + 1, 2))
        d = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2) / 1.2
        out.append(
            _solver.TurfProblem(
                turf_id=f"T{t}", walk_s=d, service_s=np.full(n, 90),
                penalty=np.full(n, 10**6), vehicles=2, shift_s=3600,
                open_routes=False, time_limit_s=0.0, solution_limit=0,
            )
        )  # fmt: skip
    return out


@pytest.mark.enable_socket
def test_dask_executor_gives_the_local_answers() -> None:
    pytest.importorskip("dask_geopandas")
    doors, polys = _grid()
    local = cluster.LocalExecutor(1)
    params = ClusterParams(scheduler="local", workers=1, processes=False)
    with cluster.make_executor(params) as ex:
        assert isinstance(ex, cluster.DaskExecutor)
        assert ex.map(_square, list(range(9))) == [i * i for i in range(9)]
        pd.testing.assert_series_equal(
            ex.precinct_of(doors, polys), local.precinct_of(doors, polys)
        )
        pd.testing.assert_frame_equal(ex.sjoin(doors, polys), local.sjoin(doors, polys))
        problems = _problems()
        assert route.solve_turfs(ex, problems) == _solver.solve_all(problems, 1)
        assert route.solve_turfs(local, problems) == _solver.solve_all(problems, 1)


def _make_state() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_state", REPO / "bench" / "make_state.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_state"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real towns (Abington, Acton, Acushnet) with 900 synthetic voters."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (real MA town and precinct data)")
    out = tmp_path_factory.mktemp("state")
    ms = _make_state()
    args = ["--voters", "900", "--towns", "3", "--jobs", "1", "--out", str(out)]
    assert ms.main([*args, "--force"]) == 0
    return out


def test_small_state_has_the_real_precincts_and_ballots(small_state: Path) -> None:
    import json

    summary = json.loads((small_state / "state.json").read_text(encoding="utf-8"))
    assert [t["town"] for t in summary["towns"]] == ["Abington", "Acton", "Acushnet"]
    assert summary["voters"] == 900
    layer = gpd.read_file(small_state / "precincts.gpkg")
    real = pd.read_csv(SHARED / "ma_precincts_districts_2022.csv", dtype=str)
    want = real[real["city_town"].isin(["Abington", "Acton", "Acushnet"])]
    assert len(layer) == len(want)
    assert layer.geometry.is_valid.all()
    # each town's precincts tile the town: areas add up to the real town's area
    towns = gpd.read_file(SHARED / "ma_city_town_2024.geojson").set_index("city_town")
    for town, area in layer.groupby("town").apply(lambda g: g.area.sum()).items():
        assert area == pytest.approx(towns.loc[town].geometry.area, rel=1e-6)
    for t in summary["towns"]:
        assert t["ballots_2022"] <= t["ballots_2022_target"]
        assert t["ballots_2022"] >= 0.8 * t["ballots_2022_target"]


def _run(state: Path, ex: cluster.Executor) -> statewide.StateResult:
    configs = sorted(state.glob("towns/*/canvass.toml"))
    layer = statewide.read_state_precincts(state / "precincts.gpkg")
    return statewide.run_state(configs, ex, precincts=layer, keep_voters=True)


@pytest.mark.enable_socket
def test_statewide_on_dask_is_identical_to_one_machine(small_state: Path) -> None:
    pytest.importorskip("dask_geopandas")
    one = _run(small_state, cluster.LocalExecutor(1))
    assert one.counts["voters"] == 900
    assert one.door_check["doors"] == one.counts["doors"]
    assert one.door_check["same_precinct"] == one.counts["doors"]
    assert one.door_check["other_town"] == 0
    assert len(one.precinct_table) == len(gpd.read_file(small_state / "precincts.gpkg"))
    params = ClusterParams(scheduler="local", workers=2, processes=False)
    with cluster.make_executor(params) as ex:
        dask = _run(small_state, ex)
    assert dask.counts == one.counts
    assert dask.door_check == one.door_check
    pd.testing.assert_frame_equal(dask.precinct_table, one.precinct_table)
    for a, b in zip(one.towns, dask.towns, strict=True):
        assert a.voters is not None
        assert b.voters is not None
        pd.testing.assert_frame_equal(a.voters, b.voters)
        assert a.voters[schema.IS_TARGET].any()


def test_training_towns_are_seeded_and_capped(small_state: Path) -> None:
    configs = sorted(small_state.glob("towns/*/canvass.toml"))
    picked = _state._sample_towns(configs, 10**9, seed=7)
    assert picked == _state._sample_towns(configs, 10**9, seed=7)
    assert 1 <= len(picked) < len(configs)  # at most a quarter of the state (+1 town)
    assert _state._sample_towns(configs, 1, seed=7)[0] in configs
    assert len(_state._sample_towns(configs, 1, seed=7)) == 1


def test_state_command_ranks_every_precinct(small_state: Path, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from canvass.cli import cli

    configs = [str(p) for p in sorted(small_state.glob("towns/*/canvass.toml"))]
    out = tmp_path / "state"
    args = ["-q", "state", *configs, "--precincts", str(small_state / "precincts.gpkg"),
            "--workers", "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "precincts.csv")
    assert len(table) == len(gpd.read_file(small_state / "precincts.gpkg"))
    assert list(table["state_rank"]) == list(range(1, len(table) + 1))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["voters"] == 900
    assert summary["door_check"]["other_town"] == 0
