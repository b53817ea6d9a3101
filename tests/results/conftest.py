"""Fixtures for the results stage: a campaign database holding one recorded run.

The run is the shared test town (tests/conftest.py) planned with ``[campaign] db``,
written to a run folder (with its paper results templates) and recorded. Each test
that imports gets its own copy of the database, so tests never see each other's
results.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from canvass.config import CampaignParams, PlanConfig

SURVEY = ("support_1_5", "will_volunteer", "needs_ride")


@dataclass(frozen=True)
class Campaign:
    """A recorded run: its config (database in a temp folder), plan and run folder."""

    config: PlanConfig
    plan: Any
    out: Path
    db: Path

    def copy(self, folder: Path) -> PlanConfig:
        """A config whose database is a fresh copy of the recorded one."""
        target = folder / "campaign.db"
        shutil.copy2(self.db, target)
        campaign = dataclasses.replace(self.config.campaign, db=str(target))
        return dataclasses.replace(self.config, campaign=campaign)

    def template(self, route_id: str | None = None) -> pd.DataFrame:
        """A results template of the run folder as strings (the biggest route's)."""
        files = sorted((self.out / "results").glob("*.csv"))
        if route_id is None:
            sizes = {f: len(pd.read_csv(f, dtype=str)) for f in files}
            path = max(sizes, key=lambda f: sizes[f])
        else:
            path = self.out / "results" / f"{route_id}.csv"
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def campaign_config(base: PlanConfig, db: str, **extra: Any) -> PlanConfig:
    """`base` with a [campaign] section: the database, the survey, dates."""
    campaign = CampaignParams(db=db, survey=SURVEY, start="2020-01-01", **extra)
    return dataclasses.replace(base, campaign=campaign)


@pytest.fixture(scope="session")
def campaign(
    demo_config: PlanConfig, tmp_path_factory: pytest.TempPathFactory
) -> Campaign:
    from canvass.outputs import write_plan
    from canvass.pipeline import run
    from canvass.results import record_run

    folder = tmp_path_factory.mktemp("campaign")
    config = campaign_config(demo_config, str(folder / "campaign.db"))
    plan = run(config)
    out = folder / "maps"
    write_plan(plan, out)
    record_run(plan)
    return Campaign(config, plan, out, folder / "campaign.db")


def _pg_bin() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Any:
    """A throw-away PostgreSQL server on a unix socket; yields its base URL.

    Uses Debian's server binaries (``apt-get install postgresql``; ``make test``
    installs them as root). As root, the server runs as the ``postgres`` user
    (initdb refuses root). Skips with the reason when no server can be started.
    """
    import os
    import pwd
    import subprocess
    import tempfile

    pytest.importorskip("psycopg", reason="psycopg not installed (canvass[postgres])")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql; make test does it as root)"
        )
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run initdb")
        prefix = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="canvass-pg-"))
    data, sock = root / "data", root / "sock"
    data.mkdir()
    sock.mkdir()
    if prefix:
        for p in (root, data, sock):
            os.chown(p, pg.pw_uid, pg.pw_gid)
    root.chmod(0o755)

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )

    done = call(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
        "--auth=trust", "-E", "UTF8", "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"initdb failed: {(done.stderr or done.stdout).strip()[-300:]}")
    opts = f"-c listen_addresses='' -k {sock} -p 5432 -c fsync=off"
    done = call(
        str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-t", "60",
        "-l", str(root / "log.txt"), "start",
    )  # fmt: skip
    if done.returncode != 0:
        log = (root / "log.txt").read_text() if (root / "log.txt").exists() else ""
        pytest.skip(f"PostgreSQL did not start: {(done.stderr + log).strip()[-300:]}")
    try:
        yield f"postgresql://postgres@/{{db}}?host={sock}&port=5432"
    finally:
        call(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the test server."""
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        postgres_server.format(db="postgres").replace(
            "postgresql://", "postgresql+psycopg://"
        ),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres_server.format(db=name)
