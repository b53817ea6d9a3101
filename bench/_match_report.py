"""Where the supporter matcher loses true matches and makes false ones (bench helper).

Every row of the bench's list made from a voter ends in one *stage*:

``matched``
    matched to its own voter (a true match);
``matched_other``
    matched to another voter (a miss and a false positive);
``review``
    sent to ``review.csv`` with its own voter as the candidate (a person decides);
``not_blocked``
    its own voter was never a candidate: the pair meets no blocking rule;
``weight_below_1``
    a candidate, but its Bayes factor is below 1 (the pair is dropped when scored);
``household_only``
    scored, but without evidence of the person (first name, full birth date, e-mail
    or phone): judged as a housemate;
``outranked``
    scored, but another voter is the better candidate (lost in the one voter per
    supporter assignment);
``below_threshold``
    its own voter is the best candidate, below ``review_probability``.

Each row also carries the kinds of error the bench put in it (nickname, typo, moved,
birth date missing...), so the table says which errors lose matches where.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

STAGES = (
    "matched",
    "review",
    "below_threshold",
    "outranked",
    "household_only",
    "weight_below_1",
    "not_blocked",
    "matched_other",
)


def stages(
    truth: pd.Series,
    keys: pd.Series,
    status: pd.Series,
    voter: pd.Series,
    pairs: pd.DataFrame,
    explained: pd.DataFrame | None,
) -> pd.Series:
    """
    Return the stage of each row of the list (see the module docstring).

    Parameters
    ----------
    truth, keys, status, voter
        Per list row: the true voter id ("" = not on the file), the supporter key,
        the decision's status and voter id.
    pairs
        The scored pairs (:attr:`MatchResult.pairs`).
    explained
        :func:`canvass.match.explain_pairs` of the true pairs that were not scored
        (``blocking_rule``), or None (then ``not_blocked`` covers both).
    """
    out = pd.Series("", index=truth.index, dtype=object)
    on = truth.ne("")
    out[~on] = np.where(status[~on].eq("matched"), "matched_other", "not_on_file")
    right = voter.eq(truth)
    out[on & status.eq("matched") & right] = "matched"
    out[on & status.eq("matched") & ~right] = "matched_other"
    out[on & status.eq("review") & right] = "review"
    todo = on & out.eq("")
    wanted = pd.DataFrame({"supporter_key": keys[todo], "voter_id": truth[todo]})
    found = wanted.merge(
        pairs[["supporter_key", "voter_id", "p", "identity"]],
        on=["supporter_key", "voter_id"],
        how="left",
    ).set_index(wanted.index)
    strong = pairs[pairs["identity"]]
    best_p = strong.groupby("supporter_key")["p"].max()
    scored = found["p"].notna()
    identity = found["identity"].fillna(False).astype(bool)
    top = found["p"].ge(found["supporter_key"].map(best_p).fillna(0.0) - 1e-12)
    label = np.where(
        ~scored,
        "not_blocked",
        np.where(
            ~identity, "household_only", np.where(top, "below_threshold", "outranked")
        ),
    )
    label = pd.Series(label, index=found.index, dtype=object)
    if explained is not None and len(explained):
        blocked = explained.set_index(["supporter_key", "voter_id"])["blocking_rule"]
        pair_index = pd.MultiIndex.from_arrays(
            [found["supporter_key"], found["voter_id"]]
        )
        rule = pd.Series(blocked.reindex(pair_index).fillna("").to_numpy(), found.index)
        label[~scored & rule.ne("")] = "weight_below_1"
    out[todo] = label
    return out


def recall_counted(
    kinds: pd.Series, truth: pd.Series, voters: pd.DataFrame, got: pd.Series
) -> dict[str, Any]:
    """How recall is counted, and the e-mail-only rows (name + zip + e-mail) apart."""
    on_file = truth.ne("")
    email_only = kinds.str.contains("email_only")
    name_key = (
        voters["first_name"].astype(str)
        + "|"
        + voters["last_name"].astype(str)
        + "|"
        + voters["zip5"].astype(str)
    )
    unique_name = name_key.map(name_key.value_counts()).eq(1)
    email_truth = truth[email_only & on_file]
    return {
        "definition": (
            "recall = rows matched to their own voter / every row made from a "
            "voter, e-mail-only rows included (the voter file has no e-mail or "
            "phone, so they can match on name + zip alone)"
        ),
        "email_only_rows": int((email_only & on_file).sum()),
        "email_only_name_unique_in_zip": int(
            unique_name.reindex(email_truth.to_numpy()).fillna(False).sum()
        ),
        "email_only_recall": round(float(got[email_only & on_file].mean()), 4),
        "recall_without_email_only_rows": round(
            float(got[~email_only & on_file].mean()), 4
        ),
    }


def ceiling(ident: pd.Series, truth: pd.Series, got: pd.Series) -> dict[str, Any]:
    """
    How many rows made from a voter say who the voter is, whatever the matcher.

    A row *identifies* its voter when it gives a full birth date, or when the
    voter's first + last name (+ birth year when the row gives only the year) is
    unique where the row points: at the door it gives (a father and son of one
    name at one door are two people), in its zip (an e-mail-only row, or one with
    an old address in the same zip), on the whole file (an old address in another
    zip). A row with a changed surname names the voter only by the first name: it
    identifies at the voter's own door, by a first name unique there. The others
    cannot be told from their namesakes by any matcher: their share bounds the
    recall reachable at high precision (an upper bound: nicknames, typos and
    people off the file who share the name make it lower).

    Parameters
    ----------
    ident, truth, got
        Per list row: whether it identifies its voter (:func:`identifying`), the
        true voter id ("" = not on the file), whether it was matched to its own
        voter.
    """
    on = truth.ne("")
    n_on = max(int(on.sum()), 1)
    return {
        "rows_on_file": int(on.sum()),
        "identifying_rows": int(ident.sum()),
        "recall_ceiling": round(float(ident.sum()) / n_on, 4),
        "shared_name_without_birth": int((on & ~ident).sum()),
        "recall_on_identifying_rows": round(float(got[ident].mean()), 4),
    }


def identifying(
    kinds: pd.Series, truth: pd.Series, birth_given: pd.Series, voters: pd.DataFrame
) -> pd.Series:
    """
    Per list row: whether it identifies its voter (see :func:`ceiling`).

    `voters` needs ``first_name``, ``last_name``, ``street_number``,
    ``street_name``, ``unit``, ``zip5`` and ``birth_year``; `birth_given` says
    whether the row has a birth date (full or year).

    A full birth date identifies; a birth year only with the name where the row
    points (first + last + year unique there). A changed surname is not the
    voter's: such a row identifies only at the voter's own door, by the first
    name (and year) unique at that door.
    """

    def unique_within(*columns: str, last: bool = True) -> pd.Series:
        key = voters["first_name"].astype(str).str.upper()
        if last:
            key = key + "|" + voters["last_name"].astype(str).str.upper()
        for c in columns:
            key = key + "|" + voters[c].fillna("").astype(str)
        count = key.map(key.value_counts()).eq(1)
        return truth.map(pd.Series(count.to_numpy(), index=voters.index)).eq(True)

    on = truth.ne("")
    full_date = kinds.str.contains("birth_full|birth_swapped|birth_typo")
    year = birth_given & ~full_date
    door_cols = ("street_number", "street_name", "unit", "zip5")
    moved_out = kinds.str.contains("moved_out_of_zip")
    zip_only = kinds.str.contains("email_only|moved_within_zip") & ~moved_out
    changed = kinds.str.contains("changed_surname")

    def where(extra: tuple[str, ...]) -> pd.Series:
        door = unique_within(*door_cols, *extra)
        in_zip = unique_within("zip5", *extra)
        on_file = unique_within(*extra)
        # a changed surname points to the voter only by the first name at the door
        first_at_door = unique_within(*door_cols, *extra, last=False)
        out = np.where(moved_out, on_file, np.where(zip_only, in_zip, door))
        out = np.where(changed, first_at_door & ~moved_out & ~zip_only, out)
        return pd.Series(out, index=truth.index).astype(bool)

    unique = where(()).where(~year, where(("birth_year",)))
    return on & (full_date | unique)


def calibration(
    truth: pd.Series,
    keys: pd.Series,
    pairs: pd.DataFrame,
    capped: pd.Series,
    bands: tuple[float, ...] = (0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0),
) -> list[dict[str, Any]]:
    """
    Whether the model's probabilities hold: per band, rows and share right.

    For every row of the list (on the file or not) with a candidate of at least
    the first band's probability and not held in review by a rule (`capped`:
    namesake, another row claims the voter...), its best candidate with person
    evidence: how
    many rows fall in each band of probability, their mean probability and the
    share whose candidate is their own voter. Where the two agree, a row of a
    band is as uncertain as its probability says, and no threshold buys more
    recall at a given precision than the curve of :func:`sweep`.
    """
    strong = pairs[pairs["identity"]].sort_values("p", ascending=False)
    best = strong.drop_duplicates("supporter_key").set_index("supporter_key")
    p = keys.map(best["p"]).fillna(0.0).astype(float)
    right = keys.map(best["voter_id"]).fillna("").eq(truth) & truth.ne("")
    out = []
    for lo, hi in itertools.pairwise(bands):
        at = p.ge(lo) & (p.lt(hi) if hi < 1.0 else p.le(hi)) & ~capped
        if at.any():
            out.append(
                {
                    "band": f"{lo:.2f}-{hi:.2f}",
                    "rows": int(at.sum()),
                    "mean_p": round(float(p[at].mean()), 3),
                    "right": round(float(right[at].mean()), 3),
                }
            )
    return out


def sweep(
    truth: pd.Series,
    voter: pd.Series,
    eligible: pd.Series,
    best_p: pd.Series,
    picked: tuple[float, float],
    cuts: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99),
) -> dict[str, Any]:
    """
    Precision and recall if the threshold were elsewhere (best candidate only).

    `eligible` rows (matched or in review, not capped by a rule) are matched from
    each cut on; ``expected_precision_0.99`` is the threshold `picked` (threshold,
    expected precision) by :func:`canvass.match.precision_cut`.
    """

    truth = truth.reset_index(drop=True)

    def at_cut(cut: float) -> dict[str, float]:
        at = voter.where(eligible & best_p.ge(cut), "").reset_index(drop=True)
        right = at.ne("") & at.eq(truth)
        precision = right.sum() / max(int(at.ne("").sum()), 1)
        recall = right.sum() / max(int(truth.ne("").sum()), 1)
        return {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
        }

    out: dict[str, Any] = {str(cut): at_cut(cut) for cut in cuts}
    out["expected_precision_0.99"] = {
        "threshold": round(picked[0], 4),
        "expected_precision": round(picked[1], 4),
        **at_cut(picked[0]),
    }
    return out


def breakdown(kinds: pd.Series, stage: pd.Series) -> dict[str, Any]:
    """
    Count rows per kind of error and stage; the miss and false-positive tables.

    Returns
    -------
    table
        ``by_kind``: kind -> {rows, recall, and the count per stage};
        ``misses_by_stage`` and ``false_positives_by_kind`` over the whole list.
    """
    split = kinds.str.split(";")
    names = sorted({k for ks in split for k in ks})
    by_kind: dict[str, Any] = {}
    for name in names:
        has = split.apply(lambda ks, n=name: n in ks)
        counts = stage[has].value_counts()
        row: dict[str, Any] = {"rows": int(has.sum())}
        if not name.startswith("not_on_file"):
            row["recall"] = round(float(stage[has].eq("matched").mean()), 3)
        row.update({s: int(counts.get(s, 0)) for s in STAGES if counts.get(s, 0)})
        by_kind[name] = row
    on = ~kinds.str.startswith("not_on_file")
    misses = stage[on & stage.ne("matched")].value_counts()
    false_pos = kinds[stage.eq("matched_other")].value_counts()
    return {
        "by_kind": by_kind,
        "misses_by_stage": {str(k): int(v) for k, v in misses.items()},
        "false_positives_by_kind": {str(k): int(v) for k, v in false_pos.items()},
    }


def table(doc: dict[str, Any]) -> str:
    """The breakdown as a fixed-width text table (rows: kinds; columns: stages)."""
    cols = [s for s in STAGES if any(s in r for r in doc["by_kind"].values())]
    short = {
        "matched": "match",
        "review": "review",
        "below_threshold": "below",
        "outranked": "outrank",
        "household_only": "houshld",
        "weight_below_1": "bf<1",
        "not_blocked": "noblock",
        "matched_other": "wrong",
    }
    head = f"{'kind of error':<26}{'rows':>6}{'recall':>7}" + "".join(
        f"{short[c]:>8}" for c in cols
    )
    lines = [head]
    for name, row in doc["by_kind"].items():
        rec = f"{row['recall']:.3f}" if "recall" in row else "-"
        lines.append(
            f"{name:<26}{row['rows']:>6}{rec:>7}"
            + "".join(f"{row.get(c, 0):>8}" for c in cols)
        )
    lines.append(
        "misses by stage: "
        + ", ".join(f"{k} {v}" for k, v in doc["misses_by_stage"].items())
    )
    lines.append(
        "false positives by kind of row: "
        + (
            ", ".join(f"{k} {v}" for k, v in doc["false_positives_by_kind"].items())
            or "none"
        )
    )
    return "\n".join(lines)


def notes(
    recall_note: dict[str, Any],
    bound: dict[str, Any],
    calib: list[dict[str, Any]],
    chosen: dict[str, Any],
) -> str:
    """The bench's lines on how recall is counted, its ceiling and calibration."""
    return "\n".join(
        [
            "recall counts every row made from a voter, "
            f"{recall_note['email_only_rows']:,} e-mail-only rows (name + zip + "
            "e-mail; the voter file has no e-mail) included: "
            f"{recall_note['email_only_name_unique_in_zip']:,} of them name a voter "
            "whose first + last name is unique in the zip; recall without them "
            f"{recall_note['recall_without_email_only_rows']:.4f}",
            "rows that identify their voter (a full birth date, or a full name, "
            "with the birth year if given, unique at the door, in the zip or on the "
            "file, where the row points; a changed surname: the first name at the "
            f"door): {bound['identifying_rows']:,} of {bound['rows_on_file']:,} "
            f"(recall ceiling {bound['recall_ceiling']:.4f}); recall on them "
            f"{bound['recall_on_identifying_rows']:.4f}",
            "calibration (every row's best candidate by probability band: rows, "
            "mean probability, share right): "
            + "; ".join(
                f"{c['band']} {c['rows']} {c['mean_p']} {c['right']}" for c in calib
            ),
            "threshold the model picks for an expected precision of 0.99: "
            f"{chosen['threshold']:.3f} (expected {chosen['expected_precision']:.4f}"
            f"): precision={chosen['precision']:.4f} recall={chosen['recall']:.4f}",
        ]
    )
