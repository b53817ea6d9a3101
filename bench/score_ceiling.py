"""How high can a vote-history score rank on the Ohio file? An oracle ceiling.

The backtest (``bench/real_scores.py``) fits on past elections and scores the next
one blind. This bench asks a different question: with the *same features* canvass
builds for a voter as of just before an election, how well can the same kind of
model rank that election's voters when it is fitted on that election's own
outcomes? It fits the default gbm, a larger gbm and the logistic score by 5-fold
cross-validation on the election's eligible voters (the folds never share a voter)
and reports the out-of-fold AUC. That model has seen the test election's own
turnout pattern, which no forecast can: its AUC is an upper bound for a score built
from these features, not something to expect.

Elections: the 2018 state primary and gubernatorial election (the backtest's
held-out ones) and the 2014 ones (the inner check's). Features are built exactly
as the backtest builds them for that election: history before it only, windows of
the fit on the two earlier elections of the type, no current party or status (they
describe the voter in 2021). A second set adds every earlier election of the file
one by one (voted, did not vote, not eligible), so the ceiling is not limited by
canvass's summaries of the history; a last set adds the 2021 party and status back
(a leak for past elections, shown only to size it).

Reads ``../shared/data/ohio_voter_history_2021_deid/`` (see its PROVENANCE.md) and
exits 0 with a message when it is absent. Run (a few minutes on 2 cores):
``nice -n 10 .venv/bin/python bench/score_ceiling.py [--sample N]``. Ends with::

    ceiling: primary_2018=... general_2018=... primary_2014=... general_2014=...

(the best out-of-fold AUC per election, over the models and the leak-free feature
sets tried).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from canvass import schema
from canvass.config import ScoreParams
from canvass.score import (
    VoteMatrix,
    area_keys,
    build_matrix,
    door_keys,
    election_calendar,
    feature_windows,
    features_as_of,
)
from canvass.score._propensity import GBM_PARAMS, MIN_LEAF_SHARE

_SPEC = importlib.util.spec_from_file_location(
    "real_scores", Path(__file__).resolve().parent / "real_scores.py"
)
assert _SPEC is not None
assert _SPEC.loader is not None
real_scores = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(real_scores)

FOLDS = 5
#: A larger gbm than the default (which has 4 leaves): 31 leaves of at least 100
#: rows, up to 1,000 iterations with early stopping inside each training fold.
LARGE: dict[str, Any] = {
    "max_iter": 1000,
    "learning_rate": 0.05,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "n_iter_no_change": 30,
}


#: Feature sets: canvass's own; plus every earlier election one by one; plus the
#: file's 2021 party and status (a leak for past elections: only to size it).
SETS = {
    "canvass": "canvass, as of the election",
    "all": "+ every earlier election",
    "current": "+ 2021 party, status (leak)",
}


def _models(n_rows: int, seed: int) -> dict[str, Any]:
    """The default gbm (as canvass fits it), a larger gbm, the logistic score."""
    min_leaf = max(20, round(MIN_LEAF_SHARE * n_rows))
    return {
        "gbm (default)": HistGradientBoostingClassifier(
            **GBM_PARAMS, min_samples_leaf=min_leaf, random_state=seed
        ),
        "gbm (large)": HistGradientBoostingClassifier(**LARGE, random_state=seed),
        "logistic": make_pipeline(
            SimpleImputer(
                strategy="median", add_indicator=True, keep_empty_features=True
            ),
            StandardScaler(),
            LogisticRegression(max_iter=2000, C=1.0),
        ),
    }


def _out_of_fold(
    X: np.ndarray, y: np.ndarray, name: str, seed: int
) -> tuple[float, float]:
    """Out-of-fold AUC of one model by stratified 5-fold CV, and seconds taken."""
    t0 = time.perf_counter()
    oof = np.empty(len(y))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train, test in folds.split(X, y):
        model = _models(len(train), seed)[name]
        model.fit(X[train], y[train])
        oof[test] = model.predict_proba(X[test])[:, 1]
    return float(roc_auc_score(y, oof)), time.perf_counter() - t0


def election_features(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: np.ndarray,
    hold: int,
    etype: str,
    params: ScoreParams,
    what: str = "canvass",
) -> pd.DataFrame:
    """The backtest's features for election `hold` (as ``fit``/``predict`` build them).

    The windows are those of a fit on the ``params.train_elections`` earlier
    elections of the type (:func:`canvass.score.feature_windows`).
    `what`: ``canvass`` (those features), ``all`` (plus one column per earlier
    election of the file: voted 1, did not vote 0, not eligible NaN) or
    ``current`` (plus the file's 2021 party and status: a leak).
    """
    train = mx.elections_of(mx.dates[hold], etype)[-params.train_elections :]
    windows, n_all = feature_windows(mx, mx.dates[train[-1]])
    feats = features_as_of(
        mx,
        voters,
        doors,
        mx.dates[hold],
        etype,
        params.window,
        windows,
        n_all,
        current=what == "current",
        areas=area_keys(voters),
    )
    if what == "all":
        for j in mx.columns_before(mx.dates[hold]):
            feats[f"e{j}"] = np.where(
                mx.eligible[:, j], mx.voted[:, j].astype(np.float32), np.nan
            )
    return feats


def main() -> int:
    """Load, build the features, cross-validate; print the table and the line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0, help="voters (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--features",
        default=",".join(SETS),
        help=f"feature sets, comma-separated, of {', '.join(SETS)}",
    )
    args = parser.parse_args()
    path = real_scores.DATA / real_scores.FILE
    if not path.is_file():
        print(f"score_ceiling: {path} not found; nothing to measure.")
        return 0
    config = real_scores.ohio_config()
    voters, history = real_scores.load_sample(config, args.sample, args.seed)
    elections = election_calendar(history, config, voters)
    mx = build_matrix(voters, history, elections)
    doors = door_keys(voters)
    labels = elections.sort_values(schema.ELECTION_DATE, kind="stable")[schema.LABEL]
    best: dict[str, float] = {}
    print(f"{len(voters):,} voters; out-of-fold AUC, {FOLDS}-fold CV on the election")
    print(f"  {'election':<22} {'features':<28} {'model':<14} {'AUC':>6} {'s':>5}")
    for key, etype in (("primary", "state_primary"), ("general", "state_election")):
        cols = mx.elections_of(np.datetime64("9999-12-31"), etype)
        for hold, tag in ((cols[-1], "2018"), (cols[-2], "2014")):
            take = mx.eligible[:, hold]
            y = mx.voted[take, hold]
            for what in args.features.split(","):
                feats = election_features(
                    mx, voters, doors, hold, etype, config.score, what
                )
                X = feats.to_numpy(dtype=np.float64)[take]
                X = X[:, ~np.isnan(X).all(axis=0)]
                names = ["gbm (default)", "gbm (large)", "logistic"]
                for name in names if what == "canvass" else names[:2]:
                    with threadpool_limits(limits=1):
                        auc, secs = _out_of_fold(X, y, name, args.seed)
                    label = str(labels.iloc[hold])
                    print(
                        f"  {label:<22} {SETS[what]:<28} {name:<14} {auc:>6.4f}"
                        f" {secs:>5.0f}",
                        flush=True,
                    )
                    if what != "current":
                        slot = f"{key}_{tag}"
                        best[slot] = max(best.get(slot, 0.0), auc)
    order = ("primary_2018", "general_2018", "primary_2014", "general_2014")
    print("ceiling: " + " ".join(f"{k}={best[k]:.4f}" for k in order if k in best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
