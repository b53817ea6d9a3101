"""Calibration against reality: 2018 state-election turnout per Northampton precinct.

Uses the synthetic Northampton voter file of ``bench/northampton.py`` (real voter
addresses and counts per address, synthetic people; its 2018 state-election history
is resampled so each precinct's turnout matches the real ballots) and compares, per
precinct, with the real 2018 ballots cast (MEDSL, ../shared/data/medsl_2018_ma_general):

1. *history*: ballots and turnout in the 2018 state election as canvass computes
   them from the vote history (``precinct_table``: voters on the file eligible on
   that day by canvass's eligibility rules, registration and age);
2. *predicted*: the ballots the scores expected, fitted on the 2014 state election
   only and applied as of just before 6 November 2018 (sum of P(vote) over the
   eligible voters), for each score and the naive "voted in 2014" baseline.

The real turnout is ballots / registered-voter proxy (the 2026 list on the
2012-2021 precinct lines), so the precinct figures are indicative.

Run: ``.venv/bin/python bench/calibrate_northampton.py [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from northampton import (
    make_northampton_voters,
    real_2018_turnout,
    shared_data_missing,
)

from canvass import schema
from canvass.config import PlanConfig
from canvass.score import _features as features
from canvass.score import _propensity as propensity
from canvass.score import election_calendar

SE_2018 = np.datetime64("2018-11-06")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if why := shared_data_missing():
        print(f"skipped: {why}")
        return 0
    t0 = time.perf_counter()
    voters, history = make_northampton_voters(args.seed)
    config = PlanConfig(seed=args.seed)
    cal = election_calendar(history, config)
    mx = features.build_matrix(voters, history, cal)
    doors = features.door_keys(voters)
    se = [i for i, t in enumerate(mx.types) if t == schema.STATE_ELECTION]
    col = next(i for i in se if mx.dates[i] == SE_2018)
    train = [i for i in se if mx.dates[i] < SE_2018]
    fitted = propensity.fit(
        mx, voters, doors, train, schema.STATE_ELECTION, config.score, 0
    )
    scores, _ = propensity.predict(fitted, mx, voters, doors, SE_2018)
    scores["voted_2014"] = mx.voted[:, train[-1]].astype(float)
    eligible = mx.eligible[:, col]
    pid = voters[schema.PRECINCT_ID].astype(str).to_numpy()
    frame = pd.DataFrame(
        {"precinct_id": pid, "eligible": eligible, "voted": mx.voted[:, col]}
    )
    for name, p in scores.items():
        frame[name] = np.where(eligible, p, 0.0)
    per = frame.groupby("precinct_id").sum()
    real = real_2018_turnout()
    table = real.join(per, how="left")
    table["history_turnout"] = table["voted"] / table["eligible"]
    out = pd.DataFrame(
        {
            "real_ballots": table["ballots_cast"],
            "history_ballots": table["voted"],
            "real_turnout": table["turnout"].round(3),
            "history_turnout": table["history_turnout"].round(3),
            "eligible_2018": table["eligible"],
            "registered_proxy": table["registered_proxy"],
        }
    )
    for name in ("rules", "segment", "logistic", "gbm", "voted_2014"):
        out[f"pred_{name}"] = table[name].round(0)
    pd.set_option("display.width", 200)
    print(f"Synthetic Northampton: {len(voters):,} voters, {len(history):,} votes")
    print(
        f"2018 state election per precinct (scores fitted on {len(train)} earlier SE)"
    )
    print(out.to_string())
    real_b = out["real_ballots"].to_numpy(dtype=float)
    real_t = out["real_turnout"].to_numpy(dtype=float)
    elig = out["eligible_2018"].to_numpy(dtype=float)
    print()
    print("Ballots: the file is today's roll, so 2018 voters who have since moved or")
    print("died are missing and ballot counts run low; turnout rates are comparable.")
    print(
        f"{'figure':<18} {'ballots':>8} {'MAPE':>6} {'corr':>6} "
        f"{'turnout':>8} {'MAE pts':>8} {'corr':>6}"
    )
    for name in ["history_ballots", *(c for c in out.columns if c.startswith("pred_"))]:
        got = out[name].to_numpy(dtype=float)
        rate = got / elig
        print(
            f"{name:<18} {got.sum():>8,.0f} {np.abs(got / real_b - 1).mean():>6.1%} "
            f"{np.corrcoef(got, real_b)[0, 1]:>6.3f} {got.sum() / elig.sum():>8.1%} "
            f"{100 * np.abs(rate - real_t).mean():>8.1f} "
            f"{np.corrcoef(rate, real_t)[0, 1]:>6.3f}"
        )
    overall = real_b.sum() / out["registered_proxy"].sum()
    print(f"{'real':<18} {real_b.sum():>8,.0f} {'':>6} {'':>6} {overall:>8.1%}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
