"""Turnout scores on a real voter file: Ohio, Warren and Clermont counties (2021).

Reads ``../shared/data/ohio_voter_history_2021_deid/`` (93,876 voters, 64 elections
2000-2020, de-identified; see its PROVENANCE.md) through canvass's own ``mapped``
loader with the mapping of PROVENANCE.md plus ``household_id``, types the calendar,
and runs the built-in backtest: the 2018 state primary and the 2018 gubernatorial
election are held out and scored blind, leak-free (no 2021 party or status).

Prints the typed calendar and the backtest table, the default score's AUC in the
inner check (fitted on the training elections before the latest one and scored blind
on it: what every modelling choice was made on), then one line::

    scores: primary_auc=... general_auc=... primary_gain=... general_gain=...
    primary_brier=... general_brier=...

AUC and Brier are the default score's (what ``p_<type>`` uses); gain = AUC minus the
best naive baseline's (share / count of the last four elections of the same type,
voted in the last one); the baselines' Brier (calibrated the same way) is printed
above for comparison. Exits 0 with a message when the data folder is absent.

Run: ``.venv/bin/python bench/real_scores.py [--sample N] [--score train_pool=4]``
(minutes on a 2-core machine; ``--sample`` scores a random subset of voters).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from canvass import schema
from canvass.config import PlanConfig
from canvass.load import load_voter_file
from canvass.score import (
    BASELINES,
    build_matrix,
    door_keys,
    election_calendar,
    format_backtest,
    run_backtest,
)

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "ohio_voter_history_2021_deid"
)
FILE = "warren_clermont_voter_history.csv"


def ohio_config(folder: Path = DATA, **score: Any) -> PlanConfig:
    """The PROVENANCE.md mapping of the Ohio file, with its household key."""
    return PlanConfig.from_dict(
        {
            "inputs": {"voter_format": "mapped", "voters": [str(folder / FILE)]},
            "mapping": {
                "state": "OH",
                "history": "wide",
                "wide_pattern": (
                    r"^(?P<type>[A-Za-z ]+)[-_ ](?P<date>\d{1,2}/\d{1,2}/\d{2,4})$"
                ),
                "status_values": {"CONFIRMATION": "I"},
                "columns": {
                    "voter_id": "VOTER_ID",
                    "birth_year": "BIRTH_YEAR",
                    "registration_date": "REGISTRATION_DATE",
                    "status": "VOTER_STATUS",
                    "party": "PARTY_AFFILIATION",
                    "zip5": "RESIDENTIAL_ZIP",
                    "precinct_code": "PRECINCT_NAME",
                    "household_id": "HOUSEHOLD_ID",
                },
            },
            "score": {
                "next_state_primary": "2022-05-03",
                "next_state_election": "2022-11-08",
                **score,
            },
        }
    )


def summary_line(bt: dict[str, Any]) -> str:
    """The ``scores: ...`` line from a backtest."""
    parts: dict[str, str] = {}
    for key, etype in (("primary", "state_primary"), ("general", "state_election")):
        auc = bt["auc"].get(etype)
        if not auc:
            for what in ("auc", "gain", "brier"):
                parts[f"{key}_{what}"] = "nan"
            continue
        used = bt["fallback"].get(etype, {}).get("use") or bt["chosen"][etype]
        best = max(BASELINES, key=lambda n: auc[n])
        parts[f"{key}_auc"] = f"{auc[used]:.4f}"
        parts[f"{key}_gain"] = f"{auc[used] - auc[best]:+.4f}"
        parts[f"{key}_brier"] = f"{bt['brier'][etype][used]:.4f}"
    order = [
        f"{k}_{w}" for w in ("auc", "gain", "brier") for k in ("primary", "general")
    ]
    return "scores: " + " ".join(f"{k}={parts[k]}" for k in order)


def inner_line(bt: dict[str, Any]) -> str:
    """The default score's AUC in the inner check (what model choices rest on)."""
    parts = []
    for key, etype in (("primary", "state_primary"), ("general", "state_election")):
        inner = bt["inner_auc"].get(etype) or {}
        chosen = bt["chosen"].get(etype, "")
        held = bt["n"].get(etype, {}).get("inner_holdout", "")
        auc = inner.get(chosen)
        parts.append(
            f"{key}_inner_auc={auc:.4f} ({chosen}, {held})"
            if auc is not None
            else f"{key}_inner_auc=nan"
        )
    return "inner: " + " ".join(parts)


def load_sample(
    config: PlanConfig, sample: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The file's voters and history, or a random `sample` of the voters (0 = all)."""
    loaded = load_voter_file(config)
    voters, history = loaded.voters, loaded.history
    if sample:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(voters), size=sample, replace=False))
        voters = voters.iloc[keep]
        history = history[history[schema.VOTER_ID].isin(voters.index)]
    return voters, history


def main() -> int:
    """Load, type, backtest and print; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0, help="voters (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--score",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [score] setting to try, e.g. train_pool=4 (repeatable)",
    )
    args = parser.parse_args()
    if not (DATA / FILE).is_file():
        print(f"real_scores: {DATA} not found; nothing to measure.")
        return 0
    settings: dict[str, Any] = {}
    for item in args.score:
        key, _, value = item.partition("=")
        settings[key] = int(value) if value.isdigit() else value
    config = ohio_config(**settings)
    t0 = time.perf_counter()
    voters, history = load_sample(config, args.sample, args.seed)
    t1 = time.perf_counter()
    elections = election_calendar(history, config, voters)
    mx = build_matrix(voters, history, elections)
    bt = run_backtest(mx, voters, door_keys(voters), elections, config)
    t2 = time.perf_counter()
    print(f"{len(voters):,} voters, {len(history):,} votes, {len(elections)} elections")
    print(f"load {t1 - t0:.0f} s, backtest {t2 - t1:.0f} s")
    print(format_backtest(bt))
    for etype, brier in bt["brier"].items():
        base = min(BASELINES, key=lambda n: brier[n])
        print(f"{etype}: best baseline Brier {base} {brier[base]:.4f}")
    print(inner_line(bt))
    print(summary_line(bt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
