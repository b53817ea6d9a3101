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
