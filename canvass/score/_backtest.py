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
from sklearn.metrics import roc_curve

from .. import schema
from ..config import PlanConfig
from ..load import calendar_rows
from . import _calibrate as calibration
from . import _propensity as propensity
from ._calibrate import BASELINES
from ._features import VoteMatrix

__all__ = [
    "BASELINES",
    "format_backtest",
    "format_calendar",
    "run_backtest",
    "write_backtest_report",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

_FPR_GRID: Final = np.linspace(0.0, 1.0, 51)
_CALENDAR_COLUMNS: Final = (
    "date", "election_id", "file_type", "type", "typed_by",
    "votes", "turnout", "coverage", "rel_coverage", "why",
)  # fmt: skip


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


def _reliability(rows: list[dict[str, Any]]) -> float:
    """Reliability term of the Brier score: sum of n (mean_p - turnout)^2 / N."""
    total = sum(r["n"] for r in rows)
    if not total:
        return float("nan")
    err = sum(r["n"] * (r["mean_p"] - r["turnout"]) ** 2 for r in rows)
    return round(float(err) / float(total), 5)


def run_backtest(
    mx: VoteMatrix,
    voters: pd.DataFrame,
    doors: npt.NDArray[np.int64],
    elections: pd.DataFrame,
    config: PlanConfig,
) -> dict[str, Any]:
    """
    Hold out the latest past election of each target type and score it blind.

    The scores are fitted exactly as for the real target (inner check, choice of
    score, recalibration, level = mean turnout of the training elections), but
    without the file's current party and status: they describe the voter after the
    held-out election. Baselines are calibrated the same way before their Brier
    score is compared.

    Parameters
    ----------
    mx
        Dense history (:func:`canvass.score.build_matrix`).
    voters
        Voter table aligned with `mx`.
    doors
        Household keys.
    elections
        The election calendar (labels; its typed table is reported).
    config
        Run configuration (``[score]`` and ``seed``).

    Returns
    -------
    backtest
        JSON-serialisable dict: ``auc``, ``brier`` and ``reliability`` (election
        type -> score or baseline -> value; AUC of the raw ranking, the others of
        the calibrated probabilities), ``calibration`` and ``deciles`` (type ->
        score -> rows), ``roc`` (type -> score -> true-positive rates on a fixed
        false-positive grid), ``n`` (type -> held-out election, training elections,
        voters, turnout), ``chosen`` (type -> the score used), ``inner_auc``,
        ``fallback`` (type -> what replaced a score that lost to a baseline),
        ``warnings`` (plain sentences), ``calendar`` (typed calendar rows),
        ``rules_table`` and ``skipped`` (type -> reason).
    """
    keys = (
        "auc", "brier", "reliability", "calibration", "deciles", "roc", "n",
        "rules_table", "chosen", "inner_auc", "fallback",
    )  # fmt: skip
    bt: dict[str, Any] = {key: {} for key in keys}
    bt["skipped"] = {}
    bt["warnings"] = []
    bt["fpr"] = [round(float(x), 4) for x in _FPR_GRID]
    cal = elections.sort_values(schema.ELECTION_DATE, kind="stable")
    if "typed_by" in cal.columns:
        bt["calendar"] = calendar_rows(cal)
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
        take = mx.eligible[:, hold]
        y = mx.voted[take, hold]
        if len(np.unique(y)) < 2:
            bt["skipped"][etype] = "everyone (or no one) voted in the held-out election"
            continue
        train = prev[-params.train_elections :]
        fitted = propensity.fit(
            mx, voters, doors, train, etype, params, config.seed, current=False
        )
        when = mx.dates[hold]
        raw, is_new = propensity.predict(fitted, mx, voters, doors, when)
        base = calibration.baselines(mx, when, etype)
        candidates = {**raw, **base}
        probs = calibration.calibrated(fitted.calibration, candidates, take)
        for key in ("auc", "brier", "reliability", "calibration", "deciles", "roc"):
            bt[key][etype] = {}
        for name, full in candidates.items():
            p = probs[name][take]
            bt["auc"][etype][name] = round(calibration.auc(y, full[take]), 4)
            bt["brier"][etype][name] = round(float(np.mean((p - y) ** 2)), 4)
            rows = _calibration(p, y)
            bt["calibration"][etype][name] = rows
            bt["reliability"][etype][name] = _reliability(rows)
            bt["deciles"][etype][name] = _deciles(p, y)
            fpr, tpr, _ = roc_curve(y, np.nan_to_num(full[take], nan=-1.0))
            bt["roc"][etype][name] = [
                round(float(x), 4) for x in np.interp(_FPR_GRID, fpr, tpr)
            ]
        check = fitted.calibration
        chosen = check.choice if check is not None else params.method
        chosen = "gbm" if chosen == "auto" else chosen
        bt["chosen"][etype] = chosen
        bt["inner_auc"][etype] = dict(check.inner_auc) if check is not None else {}
        auc = bt["auc"][etype]
        best = max(BASELINES, key=lambda n: auc[n])
        if chosen not in BASELINES and auc[chosen] < auc[best]:
            warning = (
                f"FALLBACK {etype}: the {chosen} score ranked the held-out "
                f"{labels[hold]} worse (AUC {auc[chosen]:.3f}) than the naive "
                f"baseline {best} ({auc[best]:.3f}); P(vote) uses {best} instead."
            )
            bt["fallback"][etype] = {
                "chosen": chosen,
                "use": best,
                "auc": auc[chosen],
                "baseline_auc": auc[best],
            }
            bt["warnings"].append(warning)
            logger.warning("%s", warning)
        bt["n"][etype] = {
            "holdout": labels[hold],
            "train": [labels[c] for c in train],
            "inner_holdout": labels[train[-1]] if check and check.inner_auc else "",
            "voters": int(take.sum()),
            "turnout": round(float(y.mean()), 4),
            "level": round(float(check.level), 4) if check is not None else None,
            "new_registrants": int(is_new[take].sum()),
        }
        bt["rules_table"][etype] = propensity.rules_table(fitted)
    logger.info(
        "Backtest: %s",
        "; ".join(
            f"{t} AUC {bt['chosen'].get(t, '?')} "
            f"{a.get(bt['chosen'].get(t, 'gbm'), float('nan')):.3f} vs best baseline "
            f"{max(a.get(b, float('nan')) for b in BASELINES):.3f}"
            for t, a in bt["auc"].items()
        )
        or "skipped",
    )
    return bt


def _score_names(per_type: dict[str, Any]) -> list[str]:
    order = [*propensity.SCORE_NAMES, *BASELINES]
    return [n for n in order if n in per_type]


def format_calendar(rows: list[dict[str, Any]]) -> str:
    """
    Render the typed election calendar as a plain-text table.

    Parameters
    ----------
    rows
        ``calendar`` rows of the backtest or the load report.

    Returns
    -------
    text
        One line per election: date, the file's type, the type given, by which
        rule, votes, turnout and precinct coverage (relative to the best-covered
        election).
    """
    head = (
        f"  {'date':<10} {'file type':<21} {'typed as':<21} {'by':<8} "
        f"{'votes':>8} {'turnout':>7} {'cover':>5}  why"
    )
    lines = [head]
    for r in rows:
        turnout = "" if r.get("turnout") is None else f"{r['turnout']:.1%}"
        cover = "" if r.get("rel_coverage") is None else f"{r['rel_coverage']:.2f}"
        lines.append(
            f"  {r['date']:<10} {r['file_type']:<21} {r['type']:<21} "
            f"{r['typed_by']:<8} {r['votes']:>8,} {turnout:>7} {cover:>5}  {r['why']}"
        )
    return "\n".join(lines)


def format_backtest(backtest: dict[str, Any], *, calendar: bool = True) -> str:
    """
    Render the backtest as a plain-text table for the terminal.

    Parameters
    ----------
    backtest
        Output of :func:`run_backtest` (an empty dict when switched off), or just
        ``{"auc": ...}`` as stored in ``summary.json``.
    calendar
        Start with the typed election calendar (when the backtest has it).

    Returns
    -------
    text
        Any fallback warning first, the typed calendar, then one block per
        election type: held-out election, voters and turnout (when known), then
        one row per score with AUC and, when known, the inner AUC (on the latest
        training election), Brier score, reliability and turnout in the lowest and
        highest score deciles; ``*`` marks the score ``p_<type>`` uses.
    """
    if not backtest:
        return "Backtest switched off (score.backtest = false)."
    lines: list[str] = []
    for warning in backtest.get("warnings", []):
        lines.append("!" * 78)
        lines.append(f"!! {warning}")
        lines.append("!" * 78)
    if calendar and backtest.get("calendar"):
        lines.append("Election calendar as typed (override a type under [elections]):")
        lines.append(format_calendar(backtest["calendar"]))
        lines.append("")
    lines.append("Backtest: latest past election of each type held out, scored blind.")
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
        inner = backtest.get("inner_auc", {}).get(etype, {})
        rel = backtest.get("reliability", {}).get(etype, {})
        fell = backtest.get("fallback", {}).get(etype, {})
        used = fell.get("use") or backtest.get("chosen", {}).get(etype, "")
        head = f"  {'score':<13} {'AUC':>6}"
        if inner:
            head += f" {'inner':>6}"
        if brier:
            head += f" {'Brier':>7} {'reliab.':>7} {'low 10%':>8} {'top 10%':>8}"
        lines.append(head)
        for name in _score_names(auc):
            shown = f"{name} *" if name == used else name
            row = f"  {shown:<13} {auc[name]:>6.3f}"
            if inner:
                row += f" {inner.get(name, float('nan')):>6.3f}"
            if name in brier and name in deciles:
                dec = deciles[name]
                row += (
                    f" {brier[name]:>7.4f} {rel.get(name, float('nan')):>7.4f}"
                    f" {dec[0]['turnout']:>8.1%} {dec[-1]['turnout']:>8.1%}"
                )
            lines.append(row)
    for etype, why in backtest.get("skipped", {}).items():
        lines.append(f"{etype}: not backtested ({why}).")
    lines.append("")
    lines.append(
        "AUC ranks the raw scores; Brier and reliability are of the recalibrated "
        "probabilities at the training elections' level. The scores do not use the "
        "file's current party or status here (they describe the voter after the "
        "held-out election). This checks the scores on this file's own history, "
        "not real-world accuracy."
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
    if value is None:
        return ""
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
        f"<pre>{html.escape(format_backtest(backtest, calendar=False))}</pre>",
    ]
    if backtest.get("calendar"):
        parts.append("<h2>Election calendar as typed</h2>")
        parts.append(
            "<p>Each election's type, by which rule (override, date, label, "
            "coverage), its votes, turnout among today's voters and precinct "
            "coverage relative to the best-covered election. Override a type "
            "under <code>[elections]</code>.</p>"
        )
        parts.append(
            _table_html(
                backtest["calendar"],
                list(_CALENDAR_COLUMNS),
            )
        )
    for etype, info in backtest.get("n", {}).items():
        parts.append(f"<h2>{html.escape(etype)}: {html.escape(info['holdout'])}</h2>")
        parts.append(_plots(backtest, etype))
        inner = backtest.get("inner_auc", {}).get(etype, {})
        rel = backtest.get("reliability", {}).get(etype, {})
        rows = [
            {
                "score": n,
                "AUC": backtest["auc"][etype][n],
                "inner AUC": inner.get(n, ""),
                "Brier": backtest["brier"][etype][n],
                "reliability": rel.get(n, ""),
            }
            for n in _score_names(backtest["auc"][etype])
        ]
        parts.append(
            _table_html(rows, ["score", "AUC", "inner AUC", "Brier", "reliability"])
        )
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
