"""Scoring stage, part 3: the hold-out backtest, its printed table and HTML report.

For each target election type (state primary, state election) the latest past
election is held out: the scores are fitted on the earlier elections of that type
exactly as they are for the real target, applied to everyone eligible on the
held-out date with features as of just before it, and compared with what happened.
Two naive baselines sit next to them: *voted last time* (in the previous election
of the type) and *count of the last 4* (elections of the type voted in, as a share).

The metrics are AUC (ranking), Brier score (calibration and sharpness together), a
calibration table (10 equal-width bins of predicted probability) and turnout by
score decile. They measure how well the scores rank voters on this file's own
history; they are not a claim about real-world accuracy.
"""

from __future__ import annotations

import html
import io
import logging
import re
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from .. import schema
from ..config import PlanConfig
from . import _propensity as propensity
from ._features import VoteMatrix

__all__ = ["BASELINES", "format_backtest", "run_backtest", "write_backtest_report"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: The naive baselines every score is compared with.
BASELINES: Final = ("voted_last", "count_last4")
_FPR_GRID: Final = np.linspace(0.0, 1.0, 51)


def _deciles(p: FloatArray, y: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    """Turnout by score decile (1 = lowest scores); ties broken by position."""
    order = np.argsort(p, kind="stable")
    rank = np.empty(len(p), dtype=np.int64)
    rank[order] = np.arange(len(p))
    dec = (rank * 10 // max(len(p), 1)) + 1
    rows = []
    for d in range(1, 11):
        sel = dec == d
        if sel.any():
            rows.append(
                {
                    "decile": d,
                    "n": int(sel.sum()),
                    "mean_p": round(float(p[sel].mean()), 4),
                    "turnout": round(float(y[sel].mean()), 4),
                }
            )
    return rows


def _calibration(p: FloatArray, y: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    """Observed turnout in 10 equal-width bins of predicted probability."""
    bins = np.minimum((p * 10).astype(int), 9)
    rows = []
    for b in range(10):
        sel = bins == b
        if sel.any():
            rows.append(
                {
                    "bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}",
                    "n": int(sel.sum()),
                    "mean_p": round(float(p[sel].mean()), 4),
                    "turnout": round(float(y[sel].mean()), 4),
                }
            )
    return rows


def run_backtest(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: npt.NDArray[np.int64],
    elections: pd.DataFrame,
    config: PlanConfig,
) -> dict[str, Any]:
    """
    Hold out the latest past election of each target type and score it blind.

    Parameters
    ----------
    mx
        Dense history (:func:`canvass.score.build_matrix`).
    voters
        Voter table aligned with `mx`.
    doors
        Household keys.
    elections
        The election calendar (for labels).
    config
        Run configuration (``[score]`` and ``seed``).

    Returns
    -------
    backtest
        JSON-serialisable dict: ``auc`` and ``brier`` (election type -> score name
        -> value), ``calibration`` and ``deciles`` (type -> score -> rows), ``roc``
        (type -> score -> true-positive rates on a fixed false-positive grid),
        ``n`` (type -> held-out election, training elections, voters, turnout),
        ``rules_table`` (type -> rows) and ``skipped`` (type -> reason).
    """
    bt: dict[str, Any] = {
        key: {}
        for key in ("auc", "brier", "calibration", "deciles", "roc", "n", "rules_table")
    }
    bt["skipped"] = {}
    bt["fpr"] = [round(float(x), 4) for x in _FPR_GRID]
    cal = elections.sort_values(schema.ELECTION_DATE, kind="stable")
    labels = cal[schema.LABEL].astype(str).tolist()
    params = config.score
    for etype in schema.TARGET_TYPES:
        cols = mx.elections_of(np.datetime64("9999-12-31"), etype)
        if len(cols) < 2:
            bt["skipped"][etype] = (
                f"needs two or more past {etype} elections, the history has {len(cols)}"
            )
            continue
        hold, prev = cols[-1], cols[:-1]
        train = prev[-params.train_elections :]
        fitted = propensity.fit(mx, voters, doors, train, etype, params, config.seed)
        scores, is_new = propensity.predict(fitted, mx, voters, doors, mx.dates[hold])
        take = mx.eligible[:, hold]
        y = mx.voted[take, hold]
        if len(np.unique(y)) < 2:
            bt["skipped"][etype] = "everyone (or no one) voted in the held-out election"
            continue
        last4 = prev[-4:]
        candidates: dict[str, FloatArray] = {
            **scores,
            "voted_last": mx.voted[:, prev[-1]].astype(float),
            "count_last4": mx.voted[:, last4].sum(axis=1) / len(last4),
        }
        for key in ("auc", "brier", "calibration", "deciles", "roc"):
            bt[key][etype] = {}
        for name, full in candidates.items():
            p = full[take]
            bt["auc"][etype][name] = round(float(roc_auc_score(y, p)), 4)
            bt["brier"][etype][name] = round(float(np.mean((p - y) ** 2)), 4)
            bt["calibration"][etype][name] = _calibration(p, y)
            bt["deciles"][etype][name] = _deciles(p, y)
            fpr, tpr, _ = roc_curve(y, p)
            bt["roc"][etype][name] = [
                round(float(x), 4) for x in np.interp(_FPR_GRID, fpr, tpr)
            ]
        bt["n"][etype] = {
            "holdout": labels[hold],
            "train": [labels[c] for c in train],
            "voters": int(take.sum()),
            "turnout": round(float(y.mean()), 4),
            "new_registrants": int(is_new[take].sum()),
        }
        bt["rules_table"][etype] = propensity.rules_table(fitted)
    logger.info(
        "Backtest: %s",
        "; ".join(
            f"{t} AUC gbm {a.get('gbm', float('nan')):.3f} vs voted_last "
            f"{a.get('voted_last', float('nan')):.3f}"
            for t, a in bt["auc"].items()
        )
        or "skipped",
    )
    return bt


def _score_names(per_type: dict[str, Any]) -> list[str]:
    order = [*propensity.SCORE_NAMES, *BASELINES]
    return [n for n in order if n in per_type]


def format_backtest(backtest: dict[str, Any]) -> str:
    """
    Render the backtest as a plain-text table for the terminal.

    Parameters
    ----------
    backtest
        Output of :func:`run_backtest` (an empty dict when switched off), or just
        ``{"auc": ...}`` as stored in ``summary.json``.

    Returns
    -------
    text
        One block per election type: held-out election, voters and turnout (when
        known), then one row per score with AUC and, when known, Brier score and
        turnout in the lowest and highest score deciles.
    """
    if not backtest:
        return "Backtest switched off (score.backtest = false)."
    lines = ["Backtest: latest past election of each type held out, scored blind."]
    for etype, auc in backtest.get("auc", {}).items():
        info = backtest.get("n", {}).get(etype)
        lines.append("")
        if info:
            lines.append(
                f"{etype}: {info['holdout']} | {info['voters']:,} eligible voters, "
                f"turnout {info['turnout']:.1%} | trained on {', '.join(info['train'])}"
            )
        else:
            lines.append(f"{etype}:")
        brier = backtest.get("brier", {}).get(etype, {})
        deciles = backtest.get("deciles", {}).get(etype, {})
        head = f"  {'score':<12} {'AUC':>6}"
        if brier:
            head += f" {'Brier':>7} {'low 10%':>8} {'top 10%':>8}"
        lines.append(head)
        for name in _score_names(auc):
            row = f"  {name:<12} {auc[name]:>6.3f}"
            if name in brier and name in deciles:
                dec = deciles[name]
                row += (
                    f" {brier[name]:>7.3f} {dec[0]['turnout']:>8.1%}"
                    f" {dec[-1]['turnout']:>8.1%}"
                )
            lines.append(row)
    for etype, why in backtest.get("skipped", {}).items():
        lines.append(f"{etype}: not backtested ({why}).")
    lines.append("")
    lines.append(
        "This checks the scores on this file's own history, not real-world accuracy."
    )
    return "\n".join(lines)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    return text[text.index("<svg") :]


def _plots(backtest: dict[str, Any], etype: str) -> str:
    """Three inline SVG plots for one type: ROC, calibration, turnout by decile."""
    import matplotlib as mpl

    mpl.use("Agg")
    from matplotlib.figure import Figure

    names = _score_names(backtest["auc"][etype])
    with mpl.rc_context({"svg.hashsalt": "canvass", "svg.fonttype": "path"}):
        fig = Figure(figsize=(13.5, 4.0))
        roc, calib, dec = fig.subplots(1, 3)
        for name in names:
            style = "--" if name in BASELINES else "-"
            auc = backtest["auc"][etype][name]
            roc.plot(
                backtest["fpr"],
                backtest["roc"][etype][name],
                style,
                label=f"{name} ({auc:.3f})",
            )
            rows = backtest["calibration"][etype][name]
            if name not in BASELINES:
                calib.plot(
                    [r["mean_p"] for r in rows],
                    [r["turnout"] for r in rows],
                    "o-",
                    label=name,
                )
        roc.plot([0, 1], [0, 1], ":", color="grey")
        roc.set(
            title="ROC (AUC)", xlabel="false positive rate", ylabel="true positive rate"
        )
        roc.legend(fontsize=8, loc="lower right")
        calib.plot([0, 1], [0, 1], ":", color="grey")
        calib.set(
            title="Calibration",
            xlabel="predicted P(vote)",
            ylabel="observed turnout",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        calib.legend(fontsize=8, loc="upper left")
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            rows = backtest["deciles"][etype][name]
            x = np.array([r["decile"] for r in rows]) - 0.4 + (i + 0.5) * width
            dec.bar(x, [r["turnout"] for r in rows], width=width, label=name)
        dec.set(
            title="Turnout by score decile",
            xlabel="decile (1 = lowest score)",
            ylabel="turnout",
            xticks=range(1, 11),
        )
        dec.legend(fontsize=7, loc="upper left")
        return _svg(fig)


def _table_html(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_fmt(r[c]))}</td>" for c in columns)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_backtest_report(backtest: dict[str, Any], out_dir: Path) -> Path:
    """
    Write ``backtest.html``: the tables and inline SVG plots, self-contained.

    Parameters
    ----------
    backtest
        Output of :func:`run_backtest`.
    out_dir
        Run folder; created when missing.

    Returns
    -------
    path
        The written file. The same input always gives the same bytes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>canvass backtest</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}",
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}",
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}",
        "pre{background:#f6f6f6;padding:1em}</style></head><body>",
        "<h1>Turnout score backtest</h1>",
        f"<pre>{html.escape(format_backtest(backtest))}</pre>",
    ]
    for etype, info in backtest.get("n", {}).items():
        parts.append(f"<h2>{html.escape(etype)}: {html.escape(info['holdout'])}</h2>")
        parts.append(_plots(backtest, etype))
        rows = [
            {
                "score": n,
                "AUC": backtest["auc"][etype][n],
                "Brier": backtest["brier"][etype][n],
            }
            for n in _score_names(backtest["auc"][etype])
        ]
        parts.append(_table_html(rows, ["score", "AUC", "Brier"]))
        parts.append("<h3>Rules table (voted v of e eligible, training turnout)</h3>")
        parts.append(
            _table_html(
                backtest["rules_table"][etype], ["voted", "eligible", "n", "turnout"]
            )
        )
        for name in _score_names(backtest["auc"][etype]):
            parts.append(f"<h3>{html.escape(name)}: calibration and deciles</h3>")
            parts.append(
                _table_html(
                    backtest["calibration"][etype][name],
                    ["bin", "n", "mean_p", "turnout"],
                )
            )
            parts.append(
                _table_html(
                    backtest["deciles"][etype][name],
                    ["decile", "n", "mean_p", "turnout"],
                )
            )
    parts.append("</body></html>\n")
    path = out_dir / "backtest.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
