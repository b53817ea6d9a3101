"""Scoring stage, part 2: the three propensity scores, fitted and applied.

For one election type, :func:`fit` learns from past elections of that type
("features as of just before election *t*" -> "voted in *t*") and :func:`predict`
applies what it learned to the voters as of a later date. Four score columns come
out, all probabilities in [0, 1]:

``rules``
    Transparent table: the observed turnout of voters who voted in *v* of the last
    *e* elections of the type they were eligible for ("voted 1 of 4: 18 %").
``segment``
    Observed turnout of the voter's segment: the pattern of the last *k* elections
    of the type (voted / did not vote / not eligible), a bucket of participation in
    the other types, status and age group (DOMAIN.md 2.1, the Pennsylvania
    segment-rate score). Small segments are pulled toward their parent segment.
``logistic``, ``gbm``
    scikit-learn logistic regression and histogram gradient boosting on the
    features of :func:`canvass.score._features.features_as_of`.

Voters never eligible for any earlier election are *new registrants*: they get a
prior instead (the turnout of earlier new registrants, by age group) in every
score column, never a score from a history they do not have.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .. import schema
from ..config import ScoreParams
from ..errors import DataQualityWarning
from ._calibrate import Calibration, baselines, inner_check
from ._features import (
    AGE_GROUPS,
    REGULAR,
    TYPE_CODES,
    VoteMatrix,
    age_group,
    area_keys,
    features_as_of,
    window,
)

__all__ = [
    "SCORE_NAMES",
    "FittedScores",
    "feature_windows",
    "fit",
    "pool_columns",
    "predict",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Score names, in the order reports list them.
SCORE_NAMES: Final = ("rules", "segment", "logistic", "gbm")
_CHUNK: Final = 500_000
_RULE_BASE: Final = 1000  # rules key = voted * 1000 + eligible
#: Elections whose pattern the rules and segment scores read, per target type: the
#: state primaries for a primary; for a state election, every November general
#: (state and presidential), so drop-off voters show as "voted P, skipped SE".
FAMILY: Final = {
    schema.STATE_PRIMARY: (schema.STATE_PRIMARY,),
    schema.STATE_ELECTION: (schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION),
}
#: The presidential counterpart of each target type (pooled training).
PRESIDENTIAL: Final = {
    schema.STATE_PRIMARY: (schema.PRESIDENTIAL_PRIMARY,),
    schema.STATE_ELECTION: (schema.PRESIDENTIAL_ELECTION,),
}
#: Boosting iterations of the gbm score.
GBM_ITERATIONS: Final = 300
#: Settings of the gbm score's HistGradientBoostingClassifier. Small trees (four
#: leaves, each holding at least :data:`MIN_LEAF_SHARE` of the training rows) carry
#: a ranking learned on past elections to the next one better than large trees,
#: which also learn what was peculiar to the training years: on the Ohio file's
#: inner check (fitted on 2006 and 2010, scored blind on 2014) 4 leaves gave AUC
#: 0.880 primary / 0.857 general against 0.874 / 0.853 with 31 leaves of 100 rows
#: (README "On a real file").
GBM_PARAMS: Final[dict[str, Any]] = {
    "max_iter": GBM_ITERATIONS,
    "learning_rate": 0.05,
    "max_leaf_nodes": 4,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
#: Least share of the training rows in a leaf of the gbm score (at least 20 rows).
MIN_LEAF_SHARE: Final = 0.012


@dataclass(frozen=True)
class FittedScores:
    """
    Everything learned for one election type.

    Parameters
    ----------
    etype
        The election type predicted.
    trained_on
        Column indices of the training elections in the vote matrix.
    base_rate
        Turnout over all training rows.
    rates
        Observed-turnout tables: ``rules``, ``segment_1..3``, ``new`` (DataFrames
        indexed by key with ``votes`` and ``n``).
    models
        Fitted scikit-learn estimators (``logistic``, ``gbm``); missing when the
        training labels had a single class.
    columns
        Feature columns the models were fitted on.
    shrink
        Pseudo-count of the rate shrinkage.
    k
        History window of the model features.
    k_table
        History window of the rules and segment tables: at most `k`, and no more
        elections of the family than the latest training election had before it,
        so that patterns seen at training and at scoring time have the same length.
    windows, n_all
        The same idea for the model features: per-type windows and the number of
        past elections counted in the overall participation.
    current
        Whether the features use the file's current party and status.
    pooled
        Elections the models were fitted on (the training elections, and with
        ``score.train_pool`` their presidential counterparts).
    calibration
        What the inner check on the latest training election learned
        (:class:`canvass.score._calibrate.Calibration`): recalibration, level,
        the score chosen; None when not run.
    """

    etype: str
    trained_on: tuple[int, ...]
    base_rate: float
    rates: dict[str, pd.DataFrame]
    models: dict[str, Any]
    columns: tuple[str, ...]
    shrink: float
    k: int
    k_table: int
    windows: dict[str, int]
    n_all: int
    current: bool = True
    pooled: tuple[int, ...] = ()
    calibration: Calibration | None = None


@dataclass(frozen=True)
class _Rows:
    features: pd.DataFrame
    keys: dict[str, IntArray]
    new: BoolArray


def _pattern_code(
    mx: VoteMatrix, when: np.datetime64, family: tuple[str, ...], k: int
) -> IntArray:
    """Encode the history pattern (see ``pattern_as_of``) as a base-3 integer."""
    cols = mx.columns_before(when, family)[-k:] if k > 0 else []
    code = np.zeros(mx.voted.shape[0], dtype=np.int64)
    for j in cols:  # 0 not eligible, 1 did not vote, 2 voted
        code = code * 3 + mx.eligible[:, j] + mx.voted[:, j]
    return code


def _rows(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: npt.NDArray[np.int64],
    when: np.datetime64,
    etype: str,
    k: int,
    k_table: int,
    windows: dict[str, int],
    n_all: int,
    *,
    current: bool = True,
    areas: npt.NDArray[np.int64] | None = None,
) -> _Rows:
    """Features and segment keys of every voter as of just before `when`."""
    feats = features_as_of(
        mx, voters, doors, when, etype, k, windows, n_all, current=current, areas=areas
    )
    family = FAMILY.get(etype, (etype,))
    f_voted, f_elig, _ = window(mx, when, family, k_table)
    voted, elig = f_voted.astype(int), f_elig.astype(int)
    other_v = np.maximum(feats["all_voted"].to_numpy() - voted, 0)
    other_e = np.maximum(feats["all_eligible"].to_numpy() - elig, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(other_e > 0, other_v / np.maximum(other_e, 1), -1.0)
    # integer segment keys (compact and fast on millions of voters):
    # other-type participation bucket: none eligible, 0, < 1/2, < all, all
    bucket = np.select([share < 0, share == 0, share < 0.5, share < 1], [0, 1, 2, 3], 4)
    status = (
        (feats["active"].to_numpy() > 0).astype(np.int64)
        if "active" in feats
        else np.ones(len(feats), dtype=np.int64)
    )
    ages = np.asarray(
        pd.Categorical(
            age_group(feats["age"].to_numpy(dtype=float)), categories=[*AGE_GROUPS, "?"]
        ).codes,
        dtype=np.int64,
    )
    level1 = _pattern_code(mx, when, family, k_table)
    level2 = level1 * 5 + bucket
    level3 = (level2 * 2 + status) * 5 + ages
    rules = voted.astype(np.int64) * _RULE_BASE + elig
    return _Rows(
        features=feats,
        keys={
            "rules": rules,
            "segment_1": level1,
            "segment_2": level2,
            "segment_3": level3,
            "new": ages,
        },
        new=np.asarray(~mx.eligible[:, mx.columns_before(when)].any(axis=1)),
    )


def _model_rows(
    mx: VoteMatrix, train_cols: list[int], cap: int, seed: int
) -> dict[int, BoolArray]:
    """
    Pick the rows the models are fitted on, per training election.

    Eligible voters with an earlier election to learn from; a seeded sample of
    `cap` rows in all when there are more.
    """
    masks = {}
    for col in train_cols:
        before = mx.columns_before(mx.dates[col])
        masks[col] = mx.eligible[:, col] & mx.eligible[:, before].any(axis=1)
    total = sum(int(m.sum()) for m in masks.values())
    if total > cap:
        rng = np.random.default_rng(seed)
        for col, mask in masks.items():
            idx = np.flatnonzero(mask)
            keep = rng.choice(idx, size=round(len(idx) * cap / total), replace=False)
            masks[col] = np.zeros_like(mask)
            masks[col][keep] = True
    return masks


def _threads(n_rows: int) -> Any:
    """
    Limit BLAS/OpenMP to one thread below 500,000 rows.

    Threads cost more than they save there, and far more on a busy machine.
    """
    return threadpool_limits(limits=1 if n_rows < 500_000 else None)


def _table(keys: IntArray, y: BoolArray) -> pd.DataFrame:
    """Votes and voters per key, indexed by the sorted keys."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    votes = np.bincount(inverse, weights=y.astype(float), minlength=len(uniq))
    n = np.bincount(inverse, minlength=len(uniq)).astype(float)
    return pd.DataFrame({"votes": votes, "n": n}, index=pd.Index(uniq, name="key"))


def _shrunk(
    table: pd.DataFrame, keys: IntArray, prior: FloatArray, m: float
) -> FloatArray:
    """Turnout of each key's cell, pulled toward `prior` by `m` pseudo-voters."""
    uniq = table.index.to_numpy(dtype=np.int64)
    if not len(uniq):
        return np.asarray(prior, dtype=np.float64)
    pos = np.minimum(np.searchsorted(uniq, keys), len(uniq) - 1)
    found = uniq[pos] == keys
    votes = np.where(found, table["votes"].to_numpy(dtype=float)[pos], 0.0)
    n = np.where(found, table["n"].to_numpy(dtype=float)[pos], 0.0)
    return np.asarray((votes + m * prior) / np.maximum(n + m, 1e-12), dtype=np.float64)


def fit(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: npt.NDArray[np.int64],
    train_cols: list[int],
    etype: str,
    params: ScoreParams,
    seed: int,
    *,
    current: bool = True,
    inner: bool = True,
) -> FittedScores:
    """
    Learn the scores of one election type from past elections.

    Parameters
    ----------
    mx
        The dense history.
    voters
        The voter table aligned with `mx`.
    doors
        Household keys (:func:`canvass.score.door_keys`).
    train_cols
        Vote-matrix columns of the training elections (all of type `etype`).
    etype
        The election type.
    params
        Score settings (window, shrinkage, training-row cap).
    seed
        Seed for the training sample and the gradient boosting.
    current
        Use the file's current party and status as features (not in backtests).
    inner
        Also run the inner check: fit again without the latest training election
        (on the ones before it), score it blind, and learn from that the
        recalibration and which score to use
        (:func:`canvass.score._calibrate.inner_check`); the level is the mean
        turnout of the training elections.

    Returns
    -------
    fitted
        Rate tables and models for :func:`predict`.
    """
    fitted = _fit(mx, voters, doors, train_cols, etype, params, seed, current)
    if not inner or not train_cols:
        return fitted
    level = float(np.mean([mx.voted[mx.eligible[:, c], c].mean() for c in train_cols]))
    last = train_cols[-1]
    earlier = mx.elections_of(mx.dates[last], etype)[-params.train_elections :]
    take = mx.eligible[:, last]
    y = mx.voted[take, last]
    if not earlier or len(np.unique(y)) < 2:
        choice = "gbm" if params.method == "auto" else params.method
        check = Calibration(kind="none", level=level, choice=choice)
    else:
        blind = _fit(mx, voters, doors, earlier, etype, params, seed, current)
        raw, _ = predict(blind, mx, voters, doors, mx.dates[last])
        base = baselines(mx, mx.dates[last], etype)
        check = inner_check(
            etype,
            y,
            {n: raw[n][take] for n in SCORE_NAMES},
            {n: v[take] for n, v in base.items()},
            params,
            level,
        )
    return dataclasses.replace(fitted, calibration=check)


def pool_columns(
    mx: VoteMatrix, train_cols: list[int], etype: str, pool: int
) -> list[int]:
    """
    Return the elections the models are fitted on.

    The training elections; with ``pool > 0`` the latest `pool` elections of the
    type and its presidential counterpart up to the latest training election.
    """
    if pool <= 0 or not train_cols:
        return list(train_cols)
    last = mx.dates[train_cols[-1]]
    end = last + np.timedelta64(1, "D")
    same = mx.elections_of(end, etype)
    other = mx.columns_before(end, PRESIDENTIAL.get(etype, ()))
    return sorted({*same, *other})[-pool:]


def feature_windows(mx: VoteMatrix, last: np.datetime64) -> tuple[dict[str, int], int]:
    """
    Return the feature windows of a fit whose latest training election is on `last`.

    A model never sees at scoring time more history of a kind than it was fitted
    with: :func:`canvass.score.features_as_of` caps each window by these.

    Parameters
    ----------
    mx
        The dense history.
    last
        Date of the latest training election.

    Returns
    -------
    windows
        Election type (and ``regular``) -> number of elections of it before `last`.
    n_all
        Number of all elections before `last`.
    """
    windows = {t: len(mx.columns_before(last, t)) for t in TYPE_CODES}
    windows["regular"] = len(mx.columns_before(last, REGULAR))
    return windows, len(mx.columns_before(last))


def _fit(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: npt.NDArray[np.int64],
    train_cols: list[int],
    etype: str,
    params: ScoreParams,
    seed: int,
    current: bool,
) -> FittedScores:
    k = params.window
    names = ("rules", "segment_1", "segment_2", "segment_3", "new")
    feats: list[pd.DataFrame] = []
    keys: dict[str, list[IntArray]] = {n: [np.zeros(0, dtype=np.int64)] for n in names}
    labels: list[BoolArray] = [np.zeros(0, dtype=bool)]
    new: list[BoolArray] = [np.zeros(0, dtype=bool)]
    family = FAMILY.get(etype, (etype,))
    depth = {c: len(mx.columns_before(mx.dates[c], family)) for c in train_cols}
    k_table = min([k, *(depth[c] for c in train_cols[-1:])])
    last = mx.dates[train_cols[-1]] if train_cols else np.datetime64("9999-12-31")
    windows, n_all = feature_windows(mx, last)
    in_table: list[BoolArray] = [np.zeros(0, dtype=bool)]
    pooled = pool_columns(mx, train_cols, etype, params.train_pool)
    model_rows = _model_rows(mx, pooled, params.max_train_rows, seed)
    model_labels: list[BoolArray] = [np.zeros(0, dtype=bool)]
    areas = area_keys(voters)
    for col in sorted({*train_cols, *pooled}):
        rows = _rows(
            mx,
            voters,
            doors,
            mx.dates[col],
            etype,
            k,
            k_table,
            windows,
            n_all,
            current=current,
            areas=areas,
        )
        if col in model_rows:
            part = rows.features[model_rows[col]]
            if params.train_pool > 0:
                is_pres = str(mx.types[col]).startswith("presidential")
                part = part.assign(is_presidential=np.float32(is_pres))
            feats.append(part)
            model_labels.append(mx.voted[model_rows[col], col])
        if col not in train_cols:
            continue
        take = mx.eligible[:, col]
        for name, arr in rows.keys.items():
            keys[name].append(arr[take])
        labels.append(mx.voted[take, col])
        new.append(rows.new[take])
        in_table.append(np.full(int(take.sum()), depth[col] >= k_table))
    y = np.concatenate(labels)
    is_new = np.concatenate(new)
    tabled = np.concatenate(in_table)
    base = float(y.mean()) if len(y) else 0.5
    rates: dict[str, pd.DataFrame] = {}
    old = ~is_new
    for name in ("rules", "segment_1", "segment_2", "segment_3"):
        sel = old & tabled
        rates[name] = _table(np.concatenate(keys[name])[sel], y[sel])
    rates["new"] = _table(np.concatenate(keys["new"])[is_new], y[is_new])
    models: dict[str, Any] = {}
    columns: tuple[str, ...] = ()
    y_old = np.concatenate(model_labels)
    if feats and len(np.unique(y_old)) == 2:
        X = pd.concat(feats, ignore_index=True)
        X = X.loc[:, X.notna().any().to_numpy()]  # a feature unknown for everyone
        columns = tuple(X.columns)
        x_np = X.to_numpy(dtype=np.float64)
        del X
        logit = make_pipeline(
            SimpleImputer(
                strategy="median", add_indicator=True, keep_empty_features=True
            ),
            StandardScaler(),
            LogisticRegression(max_iter=2000, C=1.0),
        )
        with _threads(len(x_np)):
            logit.fit(x_np, y_old)
        min_leaf = max(20, round(MIN_LEAF_SHARE * len(x_np)))
        gbm = HistGradientBoostingClassifier(
            **GBM_PARAMS, min_samples_leaf=min_leaf, random_state=seed
        )
        with _threads(len(x_np)):
            gbm.fit(x_np, y_old)
        models = {"logistic": logit, "gbm": gbm}
    elif len(y_old):
        warnings.warn(
            f"Every training voter for {etype} had the same outcome; the fitted "
            "models fall back to the segment score.",
            DataQualityWarning,
            stacklevel=2,
        )
    return FittedScores(
        etype=etype,
        trained_on=tuple(train_cols),
        base_rate=base,
        rates=rates,
        models=models,
        columns=columns,
        shrink=params.shrink,
        k=k,
        k_table=k_table,
        windows=windows,
        n_all=n_all,
        current=current,
        pooled=tuple(pooled),
    )


def predict(
    fitted: FittedScores,
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: npt.NDArray[np.int64],
    when: np.datetime64,
    *,
    new_since: np.datetime64 | None = None,
) -> tuple[dict[str, FloatArray], BoolArray]:
    """
    Score every voter for an election of the fitted type held on `when`.

    Parameters
    ----------
    fitted
        Output of :func:`fit`.
    mx, voters, doors
        As for :func:`fit`.
    when
        Date of the election predicted; only earlier elections are looked at.
    new_since
        Voters registered on or after this date are new registrants too.

    Returns
    -------
    scores
        One array per name in :data:`SCORE_NAMES`, in [0, 1].
    is_new
        Which voters are new registrants (scored by the prior).
    """
    rows = _rows(
        mx,
        voters,
        doors,
        when,
        fitted.etype,
        fitted.k,
        fitted.k_table,
        fitted.windows,
        fitted.n_all,
        current=fitted.current,
        areas=area_keys(voters),
    )
    n = len(voters)
    m = fitted.shrink
    base = np.full(n, fitted.base_rate)
    new_votes, new_n = (float(x) for x in fitted.rates["new"][["votes", "n"]].sum())
    new_all = np.full(n, (new_votes + m * fitted.base_rate) / max(new_n + m, 1e-12))
    prior = _shrunk(fitted.rates["new"], rows.keys["new"], new_all, m)
    scores: dict[str, FloatArray] = {
        "rules": _shrunk(fitted.rates["rules"], rows.keys["rules"], base, m)
    }
    seg = base
    for level in ("segment_1", "segment_2", "segment_3"):
        seg = _shrunk(fitted.rates[level], rows.keys[level], seg, m)
    scores["segment"] = seg
    for name in ("logistic", "gbm"):
        model = fitted.models.get(name)
        if model is None:
            scores[name] = seg
            continue
        X = rows.features.reindex(columns=list(fitted.columns))
        if "is_presidential" in X.columns:  # pooled training: scoring the type
            X["is_presidential"] = np.float32(0.0)
        proba = np.empty(n, dtype=np.float64)
        with _threads(n):
            for start in range(0, n, _CHUNK):  # bounded memory on big files
                part = X.iloc[start : start + _CHUNK].to_numpy(dtype=np.float64)
                proba[start : start + _CHUNK] = model.predict_proba(part)[:, 1]
        scores[name] = proba
    is_new = rows.new.copy()
    if new_since is not None:
        is_new |= ~np.isnat(mx.registered) & (mx.registered >= new_since)
    out = {
        name: np.round(np.clip(np.where(is_new, prior, arr), 0.0, 1.0), 6)
        for name, arr in scores.items()
    }
    return out, np.asarray(is_new)


def rules_table(fitted: FittedScores) -> list[dict[str, Any]]:
    """Return the transparent rules table: turnout by "voted v of e eligible"."""
    table = fitted.rates["rules"]
    rows = []
    keys = table.index.to_numpy(dtype=np.int64)
    for key, votes, n in zip(keys, table["votes"], table["n"], strict=True):
        voted, elig = divmod(int(key), _RULE_BASE)
        rows.append(
            {
                "voted": voted,
                "eligible": elig,
                "n": int(n),
                "turnout": round(float(votes / n), 4),
            }
        )
    return sorted(rows, key=lambda r: (r["eligible"], r["voted"]))
