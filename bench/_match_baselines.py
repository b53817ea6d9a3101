"""The match bench's baselines and scoring: exact and plain fuzzy matching."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["exact_match", "fuzzy_match", "score"]


def exact_match(rows: pd.DataFrame, voters: pd.DataFrame) -> pd.Series:
    """First + last + zip exactly (upper-cased, trimmed); the first hit wins."""
    key_v = (
        voters["first_name"].str.upper().str.strip()
        + "|"
        + voters["last_name"].str.upper().str.strip()
        + "|"
        + voters["zip5"].astype(str)
    )
    lookup = pd.Series(voters.index, index=key_v.to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    key_s = (
        rows["first_name"].str.upper().str.strip()
        + "|"
        + rows["last_name"].str.upper().str.strip()
        + "|"
        + rows["zip_code"].astype(str)
    )
    return key_s.map(lookup).fillna("").astype(str)


def fuzzy_match(
    rows: pd.DataFrame, voters: pd.DataFrame, cutoff: float = 90
) -> pd.Series:
    """Best rapidfuzz WRatio of "first last" among the voters of the same zip."""
    from rapidfuzz import fuzz, process

    names_v = (voters["first_name"] + " " + voters["last_name"]).str.upper()
    groups = dict(voters.groupby("zip5").indices.items())
    out = pd.Series("", index=rows.index)
    names_s = (rows["first_name"] + " " + rows["last_name"]).str.upper()
    ids = voters.index.to_numpy()
    for z, sub in rows.groupby("zip_code").groups.items():
        if z not in groups:
            continue
        choices = names_v.to_numpy()[groups[z]]
        scores = process.cdist(
            names_s[sub].to_numpy(), choices, scorer=fuzz.WRatio, workers=2
        )
        best = scores.argmax(axis=1)
        ok = scores[np.arange(len(best)), best] >= cutoff
        out[sub[ok]] = ids[groups[z][best[ok]]]
    return out


def score(predicted: pd.Series, truth: pd.Series) -> tuple[float, float, int]:
    made = predicted.ne("")
    right = made & predicted.eq(truth)
    on_file = truth.ne("")
    precision = right.sum() / max(made.sum(), 1)
    recall = right.sum() / max(on_file.sum(), 1)
    return float(precision), float(recall), int(made.sum())
