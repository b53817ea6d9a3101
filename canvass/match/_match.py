"""Match a supporter list to the voter file: the stage's entry point (private)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..config import PlanConfig
from ._assign import CAPPED_REASONS, assign, precision_cut
from ._model import explain, score_pairs
from ._read import SupporterList
from ._records import prepare_supporters, prepare_voters

__all__ = [
    "CAPPED_REASONS",
    "MatchResult",
    "explain_pairs",
    "match_supporters",
    "precision_cut",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchResult:
    """
    Supporters matched to voters.

    Parameters
    ----------
    decisions
        One row per supporter read (index ``supporter_key``): ``source``, ``line``,
        ``supporter_id``, ``status`` (matched, review, unmatched), ``reason``,
        ``voter_id``, ``match_probability``, ``match_weight`` (log2 Bayes factor),
        the agreement level of each compared field, the number of candidates, the
        runner-up, ``in_area`` (the supporter's zip or city is on the voter file)
        and the tags ``is_volunteer``, ``is_donor``, ``is_event``.
    supporters
        The supporter list as read (for the volunteer roster).
    parameters
        The model's estimated m/u probabilities and Bayes factors per level.
    report
        PII-free counts: by status, by reason, by confidence band, tags, timing.
    pairs
        Every scored candidate pair (``supporter_key``, ``voter_id``, ``log2_bf``,
        the level per comparison, ``p`` and ``identity``): why a supporter got
        its voter, or did not.
    """

    decisions: pd.DataFrame
    supporters: SupporterList
    parameters: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def matched(self) -> pd.DataFrame:
        """Decisions of the supporters matched to a voter."""
        return self.decisions[self.decisions["status"] == "matched"]


_BANDS = (0.0, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 1.01)


def _in_area(supporters: pd.DataFrame, voters: pd.DataFrame) -> np.ndarray:
    def values(column: str) -> set[str]:
        if column not in voters:
            return set()
        return set(voters[column].astype(str).str.upper().str.strip()) - {"", "NAN"}

    zips = {z[:5] for z in values(schema.ZIP5)}
    cities = values(schema.CITY)
    by_zip = supporters["zip5"].isin(zips)
    by_city = supporters["zip5"].eq("") & supporters["city"].isin(cities)
    return (by_zip | by_city).to_numpy(dtype=bool)


def match_supporters(
    supporters: SupporterList,
    voters: pd.DataFrame,
    config: PlanConfig,
    *,
    threads: int | None = None,
) -> MatchResult:
    """
    Link each supporter to at most one voter of the file.

    Parameters
    ----------
    supporters
        The list read by :func:`read_supporters`.
    voters
        The canonical voters table (index ``voter_id``).
    config
        Run configuration: ``[supporters]`` thresholds and ``seed``.
    threads
        DuckDB threads; default all cores.

    Returns
    -------
    result
        Decisions per supporter (rejected rows included, status ``unmatched`` with
        their reason), the estimated model and the match report.
    """
    params = config.supporters
    started = time.perf_counter()
    rows = supporters.supporters
    records_s = prepare_supporters(rows)
    records_v = prepare_voters(voters)
    prepared = time.perf_counter()
    pairs, model = score_pairs(
        records_s,
        records_v,
        seed=config.seed,
        em_max_pairs=params.em_max_pairs,
        threads=threads,
    )
    scored = time.perf_counter()
    area = pd.Series(_in_area(rows, voters), index=rows.index.astype(str))
    known = rows["zip5"].ne("") | rows["city"].ne("")
    decisions, shares, scored_pairs = assign(
        pairs,
        rows.index,
        max(len(voters), 1),
        match_probability=params.match_probability,
        review_probability=params.review_probability,
        in_area=area[known.to_numpy()],
    )
    threshold = params.match_probability
    if params.target_precision > 0:
        # the same pairs decided again at the threshold the list's own
        # probabilities give for the precision asked for
        threshold, _ = precision_cut(
            decisions, params.target_precision, floor=params.review_probability
        )
        decisions, shares, scored_pairs = assign(
            pairs,
            rows.index,
            max(len(voters), 1),
            match_probability=threshold,
            review_probability=min(params.review_probability, threshold),
            in_area=area[known.to_numpy()],
        )
    pi = shares["all"]
    tags = ["is_volunteer", "is_donor", "is_event"]
    decisions = rows[["source", "line", "supporter_id"]].join(decisions)
    decisions["in_area"] = area.to_numpy()
    decisions[tags] = rows[tags].to_numpy()
    rejects = supporters.rejects
    if len(rejects):
        extra = pd.DataFrame(
            {
                "source": rejects["source"].to_numpy(),
                "line": rejects["line"].to_numpy(),
                "supporter_id": rejects["supporter_id"].to_numpy(),
                "status": "unmatched",
                "reason": rejects["reason"].to_numpy(),
                "voter_id": "",
                "match_probability": 0.0,
                "in_area": False,
            },
            index=pd.Index(
                [
                    f"r:{s}:{line}"
                    for s, line in zip(rejects["source"], rejects["line"], strict=True)
                ],
                name="supporter_key",
            ),
        )
        decisions = pd.concat([decisions, extra])
    for tag in tags:
        decisions[tag] = decisions[tag].fillna(False).astype(bool)
    report = _report(decisions, model.comparisons, pi, len(pairs))
    report["share_on_file_by_area"] = {
        k: round(v, 4) for k, v in shares.items() if k not in ("all", "housemates")
    }
    report["share_housemates"] = round(shares["housemates"], 4)
    matched_p = decisions.loc[decisions["status"].eq("matched"), "match_probability"]
    report["threshold"] = {
        "match_probability": round(float(threshold), 4),
        "target_precision": params.target_precision or None,
        # the model's own estimate: the mean probability of the matches
        "expected_precision": round(float(matched_p.mean()), 4)
        if len(matched_p)
        else None,
    }
    report["seconds"] = {
        "prepare": round(prepared - started, 2),
        "score": round(scored - prepared, 2),
        "assign": round(time.perf_counter() - scored, 2),
    }
    report["files"] = supporters.report.get("files", [])
    return MatchResult(decisions, supporters, model.parameters, report, scored_pairs)


def explain_pairs(
    supporters: SupporterList, voters: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    """
    Say why given (supporter, voter) pairs were or were not candidates.

    For a data director asking "why is this supporter not matched to that voter?":
    the blocking rule that makes the pair a candidate (``""``: none, the matcher
    never scores it) and the agreement level of each compared field.

    Parameters
    ----------
    supporters
        The list as read (the pairs' ``supporter_key`` are its index).
    voters
        The canonical voters table (the pairs' ``voter_id`` are its index).
    pairs
        ``supporter_key`` and ``voter_id`` columns.

    Returns
    -------
    explained
        `pairs` with ``blocking_rule`` and one level column per comparison.
    """
    rows = supporters.supporters
    keys = pairs["supporter_key"].astype(str)
    ids = pairs["voter_id"].astype(str)
    records_s = prepare_supporters(rows[rows.index.astype(str).isin(set(keys))])
    # the pairs' voters and everyone at their doors (a housemate's surname)
    door = [schema.ZIP5, schema.STREET_NUMBER, schema.STREET_NAME]
    if all(c in voters for c in door):
        doors = pd.MultiIndex.from_frame(voters[door].astype(str))
        theirs = voters.index.astype(str).isin(set(ids))
        wanted_v = doors.isin(doors[theirs]) | theirs
    else:
        wanted_v = voters.index.astype(str).isin(set(ids))
    records_v = prepare_voters(voters[wanted_v])
    return explain(
        records_s, records_v, pd.DataFrame({"supporter_key": keys, "voter_id": ids})
    )


def _report(
    decisions: pd.DataFrame, comparisons: tuple[str, ...], pi: float, n_pairs: int
) -> dict[str, Any]:
    status = decisions["status"]
    bands = pd.cut(decisions["match_probability"], _BANDS, right=False)
    counts = bands.value_counts(sort=False)
    by_band = {
        f"{iv.left:.2f}-{min(iv.right, 1.0):.2f}": int(n)
        for iv, n in zip(counts.index, counts.to_numpy(), strict=True)
    }
    matched = decisions[status == "matched"]
    levels = {
        c: {str(k): int(v) for k, v in matched[c].value_counts().items()}
        for c in comparisons
        if c in matched
    }
    dup = matched["voter_id"].duplicated(keep=False)
    return {
        "supporters": len(decisions),
        "by_status": {str(k): int(v) for k, v in status.value_counts().items()},
        "by_reason": {
            str(k): int(v)
            for k, v in decisions.loc[status != "matched", "reason"]
            .value_counts()
            .items()
        },
        "by_probability": by_band,
        "matched_levels": levels,
        "voters_matched_by_several_rows": int(matched.loc[dup, "voter_id"].nunique()),
        "unmatched_in_area": int(
            ((status == "unmatched") & decisions["in_area"].astype(bool)).sum()
        ),
        "share_on_file": round(pi, 4),
        "pairs_scored": n_pairs,
        "tags": {
            t: int(decisions[t].astype(bool).sum())
            for t in ("is_volunteer", "is_donor", "is_event")
        },
    }
