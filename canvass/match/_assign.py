"""From scored pairs to decisions: one voter per supporter, review, or none (private).

Pair weights say how much more likely the pair's agreement pattern is for one person
than for two. Which voter a supporter *is* also depends on the other candidates and
on how many of the list are on the file at all, so each candidate's probability is

``P(voter v | supporter) = BF_v / (N (1 - pi - theta) / pi + sum of BF_w
+ theta / pi * sum of BF_w R_w)``

with ``N`` the voters on the file, ``pi`` the share of the list that is on it,
``theta`` the share that is a housemate of a voter at that voter's door (not
itself the voter) and ``R_w`` the housemate factor of a candidate at the
supporter's door (:mod:`._household`: how much likelier the pair's first name,
birth date and suffix levels are for two housemates than for one person). ``pi``
and ``theta`` are estimated from the data by expectation maximisation (the mean of
every supporter's probability of being on the file, or a housemate, iterated to a
fixed point). A middle-name agreement at a door then weighs what it is worth: as
often a housemate named after the voter's middle name as the voter by it.

Two equally good candidates (a father and son of the same name at one address, the
supporter's birth date unknown) split the probability and go to review instead of
being guessed.

A pair can only be a match with evidence of the person, not just of the household:
first names that agree (exactly, as nicknames, with a typo, or the supporter goes
by the voter's middle name), or the same full birth date, e-mail or phone. A
same-surname pair at the supporter's door without it (a spouse, a parent) goes to
review at most. So does a supporter whose name carries a JR (II, III) that the
voter's record lacks, at the voter's door, with no birth date compared
(``namesake``): the voter's son named after him is as likely as the voter; with a
birth date that is another than the voter's, he is the son.
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
import pandas as pd

from ._household import DOOR_LEVELS

__all__ = ["CAPPED_REASONS", "IDENTITY_LEVELS", "assign", "precision_cut"]

logger = logging.getLogger(__name__)

#: Levels that show the pair is the person, not only someone in the household.
IDENTITY_LEVELS: Final = {
    "first_name": ("exact", "nickname", "typo", "middle_name"),
    "birth": ("exact",),
    "email": ("exact",),
    "phone": ("exact",),
}


def _identity(pairs: pd.DataFrame) -> np.ndarray:
    ok = np.zeros(len(pairs), dtype=bool)
    for column, levels in IDENTITY_LEVELS.items():
        if column in pairs:
            ok |= pairs[column].isin(levels).to_numpy()
    return ok


#: Review reasons set by a rule, not by the probability: matched at no threshold.
CAPPED_REASONS: Final = ("first_name_differs", "namesake", "another_row_claims_voter")


def precision_cut(
    decisions: pd.DataFrame, target: float, floor: float = 0.0
) -> tuple[float, float]:
    """
    Return the lowest threshold whose matches are expected to be `target` precise.

    The model's probabilities are calibrated on the list's own mixture (the share
    on the file and of housemates are estimated on it), so the expected share of
    right matches among the supporters matched from a threshold is the mean of
    their probabilities. The threshold is the lowest at which that mean is at
    least `target`: from the truth nothing is used.

    Parameters
    ----------
    decisions
        :attr:`MatchResult.decisions` (``status``, ``reason``,
        ``match_probability``).
    target
        Expected precision wanted (e.g. 0.99).
    floor
        Lowest threshold allowed (``review_probability``).

    Returns
    -------
    cut, expected
        The threshold (1.0 when no threshold reaches `target`) and the expected
        precision of the matches from it.
    """
    eligible = decisions["status"].isin(["matched", "review"]) & ~decisions[
        "reason"
    ].isin(CAPPED_REASONS)
    p = np.sort(decisions.loc[eligible, "match_probability"].to_numpy(float))[::-1]
    p = p[p >= floor]
    if not len(p):
        return 1.0, 1.0
    mean = np.cumsum(p) / np.arange(1, len(p) + 1)
    # a threshold takes every row of a probability or none: ends of ties only
    last_of_tie = np.r_[p[1:] < p[:-1], True]
    ok = np.flatnonzero((mean >= target) & last_of_tie)
    if not len(ok):
        return 1.0, 1.0
    k = int(ok[-1])
    return float(p[k]), float(mean[k])


def _namesake(best: pd.DataFrame) -> np.ndarray:
    """
    Pairs that may be the voter's namesake son: list JR, voter none, same door.

    The supporter's name carries a junior suffix the voter's record lacks, the
    surnames agree, the first names agree (or are nicknames or typos of one
    another), the supporter gives the voter's door and no birth date is compared:
    the list's person and the voter are father and son as easily as one man whose
    record dropped the suffix. Or a birth date is compared and is another
    (``different``: not a typo, swap or one part off of the voter's): then the
    list's JR is the son, whatever the names weigh (EM learns how often one
    person's dates differ from pairs that include families, and a file's few
    namesake pairs at a door say little of a list's sons).
    """
    needed = ("list_junior", "suffix", "birth", "address", "first_name", "last_name")
    if not len(best) or any(c not in best for c in needed):
        return np.zeros(len(best), dtype=bool)
    return (
        best["list_junior"].fillna(False).astype(bool).to_numpy()
        & best["suffix"].eq("one_missing").to_numpy()
        & best["birth"].isin(("missing", "different")).to_numpy()
        & best["address"].isin(DOOR_LEVELS).to_numpy()
        & best["first_name"].isin(("exact", "nickname", "typo")).to_numpy()
        & best["last_name"].eq("exact").to_numpy()
    )


def _log2_sum(log2_values: pd.Series, keys: pd.Series) -> pd.Series:
    """log2 of the sum of 2**x per key, computed stably."""
    top = log2_values.groupby(keys).transform("max")
    rel = pd.Series(np.exp2(log2_values - top), index=log2_values.index)
    total = rel.groupby(keys).sum()
    best = log2_values.groupby(keys).max()
    return pd.Series(np.log2(total.to_numpy()) + best.to_numpy(), index=best.index)


def _estimate_shares(
    sums_log2: pd.Series,
    house_log2: pd.Series,
    n_supporters: int,
    n_voters: int,
    iterations: int = 200,
) -> tuple[float, float]:
    """
    Share of the list on the voter file and share that is a voter's housemate.

    EM fixed point: each supporter is one of the candidates (weight ``BF``), a
    housemate of a candidate at its door (weight ``theta / pi * BF * R``), or
    someone off the file (weight ``N (1 - pi - theta) / pi``); ``pi`` and ``theta``
    are the mean posterior of the first two.
    """
    keys = sums_log2.index.union(house_log2.index)
    a = sums_log2.reindex(keys).fillna(-np.inf).to_numpy(dtype=float)
    b = house_log2.reindex(keys).fillna(-np.inf).to_numpy(dtype=float)
    n = max(n_supporters, 1)
    pi, theta = 0.5, (0.1 if len(house_log2) else 0.0)
    for _ in range(iterations):
        k_log2, t_log2 = _k_log2(pi, theta, n_voters)
        denom = np.logaddexp2(k_log2, np.logaddexp2(a, t_log2 + b))
        new_pi = float(np.clip(np.exp2(a - denom).sum() / n, 1e-6, 1 - 1e-6))
        new_theta = (
            float(np.clip(np.exp2(t_log2 + b - denom).sum() / n, 0.0, 1 - new_pi))
            if len(house_log2)
            else 0.0
        )
        done = abs(new_pi - pi) < 1e-7 and abs(new_theta - theta) < 1e-7
        pi, theta = new_pi, min(new_theta, 1 - new_pi - 1e-6)
        if done:
            break
    return pi, max(theta, 0.0)


#: Fewest supporters in or out of the area for their own share on the file.
_MIN_GROUP: Final = 200


def _k_log2(pi: float, theta: float, n_voters: int) -> tuple[float, float]:
    """log2 of ``N (1 - pi - theta) / pi`` (not on the file) and of ``theta / pi``."""
    rest = max(1.0 - pi - theta, 1e-9)
    t_log2 = float(np.log2(theta / pi)) if theta > 0 else -np.inf
    return float(np.log2(n_voters) + np.log2(rest / pi)), t_log2


def assign(
    pairs: pd.DataFrame,
    supporter_keys: pd.Index,
    n_voters: int,
    *,
    match_probability: float,
    review_probability: float,
    in_area: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame]:
    """
    Decide each supporter's voter: matched, review or unmatched.

    Parameters
    ----------
    pairs
        Scored pairs: ``supporter_key``, ``voter_id``, ``log2_bf`` and one level
        column per comparison.
    supporter_keys
        Every supporter that was matched against the file (also those without pairs).
    n_voters
        Voters on the file.
    match_probability, review_probability
        The thresholds of ``[supporters]``.
    in_area
        Per supporter key: True when the supporter's zip (or city) is on the voter
        file, False when it is not, missing when the list gives neither. The share
        on the file is estimated apart for those in and out of the area: someone
        who lives where the file's voters live is far more likely on it.

    Returns
    -------
    decisions, shares, scored
        One row per supporter (index ``supporter_key``): ``status`` (matched,
        review, unmatched), ``reason``, ``voter_id`` (best candidate or ""),
        ``match_probability``, ``match_weight`` (log2 Bayes factor), the level
        columns of the best pair, ``candidates``, ``second_voter_id`` and
        ``second_probability``; the estimated share of the list on the file
        (``all``, and ``in_area``/``out_of_area`` when estimated apart) and of
        the list that is a housemate of a voter at their door (``housemates``); and
        every scored pair with its probability ``p`` and ``identity`` (whether it
        has evidence of the person, not only of the household).
    """
    pairs = pairs.copy()
    if "housemate_log2" not in pairs:
        pairs["housemate_log2"] = np.nan
    identity = _identity(pairs)
    strong = pairs[identity].copy()
    weak = pairs[~identity].copy()
    n_sup = len(supporter_keys)
    sums = (
        _log2_sum(strong["log2_bf"], strong["supporter_key"])
        if len(strong)
        else pd.Series(dtype=float)
    )
    at_door = pairs[pairs["housemate_log2"].notna()]
    house = (
        _log2_sum(
            at_door["log2_bf"] + at_door["housemate_log2"], at_door["supporter_key"]
        )
        if len(at_door)
        else pd.Series(dtype=float)
    )
    pi, theta = _estimate_shares(sums, house, n_sup, n_voters)
    shares = {"all": pi, "housemates": theta}
    k_all, t_all = _k_log2(pi, theta, n_voters)
    index = pd.Index(supporter_keys)
    k_of = pd.Series(k_all, index=index)
    t_of = pd.Series(t_all, index=index)
    if in_area is not None:
        area = in_area.reindex(index)
        for name, flag in (("in_area", True), ("out_of_area", False)):
            members = area.index[area.eq(flag).to_numpy()]
            if len(members) < _MIN_GROUP:
                continue
            group_pi, group_theta = _estimate_shares(
                sums[sums.index.isin(members)],
                house[house.index.isin(members)],
                len(members),
                n_voters,
            )
            # never certain either way from a finite group
            group_pi = float(np.clip(group_pi, 1 / len(members), 1 - 1 / len(members)))
            shares[name] = group_pi
            k_of[members], t_of[members] = _k_log2(group_pi, group_theta, n_voters)
    # log2 of each supporter's "someone else" weight: off the file, or a housemate
    # of one of its candidates at the door
    other = pd.Series(
        np.logaddexp2(
            k_of.to_numpy(),
            t_of.to_numpy() + house.reindex(index).fillna(-np.inf).to_numpy(),
        ),
        index=index,
    )
    if len(strong):
        denom = np.logaddexp2(
            strong["supporter_key"].map(other).to_numpy(dtype=float),
            strong["supporter_key"].map(sums).to_numpy(dtype=float),
        )
        strong["p"] = np.exp2(strong["log2_bf"].to_numpy() - denom)
    else:
        strong["p"] = pd.Series(dtype=float)
    # Pairs without identity evidence are judged alone (as if the only candidate),
    # against "off the file" and "a housemate of this voter".
    bf_weak = weak["log2_bf"].to_numpy(dtype=float)
    t_weak = weak["supporter_key"].map(t_of).to_numpy(dtype=float)
    r_weak = weak["housemate_log2"].fillna(-np.inf).to_numpy(dtype=float)
    rest = np.logaddexp2(
        weak["supporter_key"].map(k_of).to_numpy(dtype=float), t_weak + bf_weak + r_weak
    )
    weak["p"] = 1.0 / (1.0 + np.exp2(rest - bf_weak))
    strong = strong.sort_values(
        ["supporter_key", "p", "voter_id"], ascending=[True, False, True]
    )
    weak = weak.sort_values(
        ["supporter_key", "p", "voter_id"], ascending=[True, False, True]
    )
    best = (
        strong.groupby("supporter_key", sort=False).head(1).set_index("supporter_key")
    )
    second = (
        strong.groupby("supporter_key", sort=False)
        .nth(1)
        .set_index("supporter_key")[["voter_id", "p"]]
    )
    n_cand = strong.groupby("supporter_key").size()
    weak_best = (
        weak.groupby("supporter_key", sort=False).head(1).set_index("supporter_key")
    )
    levels = [
        c
        for c in pairs.columns
        if c
        not in ("supporter_key", "voter_id", "log2_bf", "housemate_log2", "list_junior")
    ]
    out = pd.DataFrame(index=pd.Index(supporter_keys, name="supporter_key"))
    out["voter_id"] = best["voter_id"].reindex(out.index).fillna("").astype(str)
    out["match_probability"] = best["p"].reindex(out.index).fillna(0.0).to_numpy()
    out["match_weight"] = best["log2_bf"].reindex(out.index).to_numpy()
    for col in levels:
        out[col] = best[col].reindex(out.index).fillna("").astype(str)
    out["candidates"] = n_cand.reindex(out.index).fillna(0).astype(int)
    out["second_voter_id"] = second["voter_id"].reindex(out.index).fillna("")
    out["second_probability"] = second["p"].reindex(out.index).fillna(0.0)
    p = out["match_probability"].to_numpy()
    status = np.where(
        p >= match_probability,
        "matched",
        np.where(p >= review_probability, "review", "unmatched"),
    )
    reason = np.where(
        status == "matched",
        "",
        np.where(
            out["candidates"].to_numpy() == 0,
            "no_candidate",
            np.where(
                out["second_probability"].to_numpy() >= review_probability / 2,
                "ambiguous",
                "weak_evidence",
            ),
        ),
    )
    # Below the threshold mostly because the supporter may be a housemate of the
    # voter (the housemate weight exceeds the weight of "off the file").
    house_w = t_of.to_numpy() + house.reindex(index).fillna(-np.inf).to_numpy()
    below = (status != "matched") & (reason == "weak_evidence")
    reason = np.where(
        below & (house_w > k_of.to_numpy()),
        "housemate",
        reason,
    )
    # Two rows of the list claim one voter, one by the exact first name, the other
    # only by a nickname, typo or middle name: the other is likely a housemate (or
    # the same person listed twice); a person decides.
    claimed = pd.DataFrame(
        {"voter_id": out["voter_id"], "exact": out["first_name"].eq("exact")}
        if "first_name" in out
        else {"voter_id": out["voter_id"], "exact": False}
    )[status == "matched"]
    exact_claims = set(claimed.loc[claimed["exact"], "voter_id"])
    second_row = (
        (status == "matched")
        & out["voter_id"].isin(exact_claims).to_numpy()
        & ~(out["first_name"].eq("exact").to_numpy() if "first_name" in out else False)
    )
    status = np.where(second_row, "review", status)
    reason = np.where(second_row, "another_row_claims_voter", reason)
    # A JR (II, III) on the list, none on the voter's record, at the voter's door
    # and no birth date to tell: the voter's son named after him as much as the
    # voter (the file's registered namesakes understate unregistered sons); or a
    # birth date that is not the voter's: the son.
    namesake = (status != "unmatched") & _namesake(best.reindex(out.index))
    status = np.where(namesake, "review", status)
    reason = np.where(namesake, "namesake", reason)
    # A household member (same surname and door, first name differs) with no other
    # candidate: a person decides.
    wb = weak_best.reindex(out.index)
    household = (status == "unmatched") & wb["p"].fillna(0.0).ge(
        review_probability
    ).to_numpy()
    if household.any():
        status = np.where(household, "review", status)
        reason = np.where(household, "first_name_differs", reason)
        for col in ("voter_id", *levels):
            out.loc[household, col] = wb.loc[household, col].astype(str).to_numpy()
        out.loc[household, "match_probability"] = wb.loc[household, "p"].to_numpy()
        out.loc[household, "match_weight"] = wb.loc[household, "log2_bf"].to_numpy()
    out["status"] = status
    out["reason"] = reason
    out.loc[out["status"].eq("unmatched"), "voter_id"] = ""
    logger.info(
        "Supporters: %s matched, %s to review, %s unmatched (share on file %.2f)",
        f"{int((status == 'matched').sum()):,}",
        f"{int((status == 'review').sum()):,}",
        f"{int((status == 'unmatched').sum()):,}",
        pi,
    )
    strong["identity"] = True
    weak["identity"] = False
    scored = pd.concat([strong, weak], ignore_index=True)
    return out, shares, scored
