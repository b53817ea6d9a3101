"""Shared fixtures: a small synthetic demo town and one planning run over it.

The town is made by canvass's own generator (`canvass.demo`), so the tests exercise
the same loaders a user's files go through. Everything here is session-scoped and
read-only: stages never change their inputs, so sharing is safe.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from canvass.config import PlanConfig

#: Real public data next to the repository (CI has it); never copied into the repo.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: Voters in the test town: big enough for every stage to have work, small enough
#: that the whole session plans it in seconds.
TEST_VOTERS = 900


def pytest_configure(config: pytest.Config) -> None:
    """Keep parsed-graph caches of the test run out of the user's ~/.cache."""
    import os
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="canvass-test-cache-")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public data; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared data not found at {SHARED_DATA} (CI and dev machines have it)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_town(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small synthetic town (about 900 voters, 4 precincts) written to disk."""
    from canvass.demo import make_demo_town

    return make_demo_town(
        tmp_path_factory.mktemp("town") / "demo", seed=3, n_voters=TEST_VOTERS
    )


def fast_config(config: PlanConfig) -> PlanConfig:
    """Return `config` with deterministic, quick routing (first solution, 1 worker)."""
    return dataclasses.replace(
        config,
        route=dataclasses.replace(
            config.route, time_limit_s=0.0, solution_limit=0, workers=1
        ),
    )


@pytest.fixture(scope="session")
def demo_config(demo_town: Any) -> PlanConfig:
    """The demo town's own config, with deterministic first-solution routing."""
    return fast_config(PlanConfig.from_toml(demo_town.config))


@pytest.fixture(scope="session")
def demo_plan(demo_config: PlanConfig) -> Any:
    """One full planning run over the test town (no files written)."""
    from canvass.pipeline import run

    return run(demo_config)


@pytest.fixture(scope="session")
def demo_outputs(demo_plan: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder written from `demo_plan`."""
    from canvass.outputs import write_plan

    out = tmp_path_factory.mktemp("maps") / "demo"
    write_plan(demo_plan, out)
    return out
