"""The housemate hypothesis: this voter, or someone living with them (private).

A supporter and a voter at one door with one surname agree on the two fields that
carry most of a pair's weight, and so do the voter's spouse, children and parents.
The Fellegi-Sunter weights compare "this voter" with "a random person", for whom
agreeing on door and surname is rare; they do not ask whether the supporter is
rather a *housemate* of the voter (unregistered, or another voter at the door), for
whom it is the rule. A housemate whose first name is the voter's middle name, a
son of the same name, a daughter with a nickname-like name: each looks like the
voter to the plain model.

This module estimates, from the voter file itself, how the fields that tell
housemates apart (first name, birth date, suffix) compare between two voters at
one door with one surname: ``h(level)``, the housemate's counterpart of the m
probability. A pair at one door with one surname then has a housemate factor

``R = prod over those fields of h(level) / m(level)``

(1 for a missing field), with the first name's partial levels corrected for how
common the name is (a housemate's first name is someone's middle name as often as
the name is common; the person going by their middle name does not depend on it).
:func:`canvass.match._assign.assign` weighs "housemate of the voter" against "the
voter" with ``R`` and the share of the list that is housemates, estimated by EM.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = ["DOOR_LEVELS", "HOUSEMATE_FIELDS", "housemate_levels", "housemate_log2"]

logger = logging.getLogger(__name__)

#: The comparisons on which a housemate differs from the person.
HOUSEMATE_FIELDS: Final = ("first_name", "birth", "suffix")
#: Address levels that put the supporter at the voter's door.
DOOR_LEVELS: Final = ("exact", "unit_missing")
#: Most voter pairs read to estimate the housemates' levels.
_MAX_PAIRS: Final = 1_000_000


def housemate_levels(
    con: Any, table: str, level_sql: str, n_records: int
) -> dict[str, dict[str, float]]:
    """
    Return how often two voters at one door with one surname reach each level.

    Parameters
    ----------
    con
        DuckDB connection holding the prepared voters as `table`.
    table
        The voters' table (columns of :mod:`._records` plus ``fn_keys`` and
        ``ln_parts``).
    level_sql
        SQL labelling the :data:`HOUSEMATE_FIELDS` levels from ``x_l``/``x_r``.
    n_records
        Rows of `table` (to sample at most about a million pairs).

    Returns
    -------
    h
        Per comparison, per non-null level: the number of housemate pairs at that
        level among those where the field is known on both sides (the suffix:
        also neither side having one, ``missing``); per suffix level
        (``first_name|exact`` ... ``first_name|missing``) the first name's; and
        ``suffix_on_file``: the share of voters with a suffix.
    """
    cols = con.execute(f"SELECT * FROM {table} LIMIT 0").df().columns
    side = ", ".join(
        f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in cols if c != "unique_id"
    )
    # about 1.5 housemates per voter: keep one left voter in `every`
    every = max(1, math.ceil(n_records * 1.5 / _MAX_PAIRS))
    rows = con.execute(
        f"""
        SELECT {level_sql}
        FROM (
            SELECT {side}
            FROM {table} l JOIN {table} r
              ON l.zip5 = r.zip5 AND l.hn = r.hn AND l.st = r.st AND l.ln = r.ln
             AND coalesce(l.unit, '') = coalesce(r.unit, '')
             AND l.unique_id <> r.unique_id
            WHERE hash(l.unique_id) % {every} = 0
        ) p
        """
    ).df()
    out: dict[str, dict[str, float]] = {}
    for field in HOUSEMATE_FIELDS:
        if field not in rows:
            continue
        counts = rows[field].value_counts()
        if field != "suffix":  # most pairs have no suffix: that too tells (below)
            counts = counts.drop("missing", errors="ignore")
        out[field] = {str(k): float(v) for k, v in counts.items()}
    if "suffix" in out:
        share = con.execute(f"SELECT avg((sfx IS NOT NULL)::INT) FROM {table}")
        out["suffix_on_file"] = {"share": float(share.fetchall()[0][0] or 0.0)}
    if "first_name" in rows and "suffix" in rows:
        # a father and son share a first name: the first name's levels given the
        # suffix's (a JR and a man without suffix at one door: often namesakes)
        for sfx, group in rows.groupby("suffix"):
            counts = group["first_name"].value_counts().drop("missing", errors="ignore")
            out[f"first_name|{sfx}"] = {str(k): float(v) for k, v in counts.items()}
    logger.debug("Housemate pairs read on the voter file: %s", f"{len(rows):,}")
    return out


def _m_of(parameters: list[dict[str, Any]], field: str) -> dict[str, float]:
    return {
        str(p["level"]): float(p["m_probability"])
        for p in parameters
        if p["comparison"] == field and p["m_probability"]
    }


def _log2_ratios(counts: dict[str, float], m: dict[str, float]) -> dict[str, float]:
    """log2 ``h(level) / m(level)`` per level of `m`, `counts` the housemates'."""
    levels = sorted(set(m) | set(counts))
    # half a pair for a level no housemate pair reached: never impossible
    smoothed = {lv: counts.get(lv, 0.0) + 0.5 for lv in levels}
    n = sum(smoothed.values())
    return {lv: math.log2(smoothed[lv] / n / m[lv]) for lv in levels if lv in m}


def housemate_log2(
    pairs: pd.DataFrame,
    parameters: list[dict[str, Any]],
    h_counts: dict[str, dict[str, float]],
    first_name_adjustment: pd.Series,
) -> np.ndarray:
    """
    Return each pair's log2 housemate factor ``R``; NaN off the voter's door.

    Parameters
    ----------
    pairs
        Scored pairs with a level column per comparison.
    parameters
        The model's levels with their m probabilities (see ``Model.parameters``).
    h_counts
        :func:`housemate_levels`. The first name's levels are taken given the
        suffix's when the suffix is compared (a son named after his father).
    first_name_adjustment
        Per pair, the log2 term-frequency adjustment added to the first name's
        partial levels (0 elsewhere), taken back out for the housemate.
    """
    out = np.full(len(pairs), np.nan)
    if not len(pairs) or "address" not in pairs or "last_name" not in pairs:
        return out
    door = (
        pairs["address"].isin(DOOR_LEVELS).to_numpy()
        & pairs["last_name"].eq("exact").to_numpy()
    )
    total = np.zeros(len(pairs))
    by_suffix = "suffix" in pairs and "first_name|missing" in h_counts
    for field in HOUSEMATE_FIELDS:
        if field not in pairs or field not in h_counts:
            continue
        m = _m_of(parameters, field)
        if field == "suffix" and "suffix_on_file" in h_counts:
            # m is among pairs where either side has a suffix; one person has
            # one on either side about as often as voters have one on the file
            q = min(max(h_counts["suffix_on_file"]["share"], 1e-6), 1 - 1e-6)
            m = {lv: v * q for lv, v in m.items()} | {"missing": 1 - q}
        if field == "first_name" and by_suffix:
            ratio_of = pd.Series(0.0, index=pairs.index)
            for key, counts in h_counts.items():
                if key.startswith("first_name|"):
                    at = pairs["suffix"].eq(key.split("|", 1)[1])
                    ratio = _log2_ratios(counts, m)
                    ratio_of[at] = pairs.loc[at, field].map(ratio).fillna(0.0)
            total += ratio_of.to_numpy(dtype=float)
        else:
            ratio = _log2_ratios(h_counts[field], m)
            total += pairs[field].map(ratio).fillna(0.0).to_numpy(dtype=float)
    total -= first_name_adjustment.to_numpy(dtype=float)
    out[door] = total[door]
    return out
