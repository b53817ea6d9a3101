"""The probabilistic record-linkage model: Splink on DuckDB (private).

A Fellegi-Sunter model compares each blocked pair (supporter, voter) field by field
and adds the log2 Bayes factors of the agreement level each field reached:

``first_name``
    exact, nickname (``BILL``/``WILLIAM``, ``PEGGY``/``MARGARET``: the first-name
    keys intersect), typo (one edit: Damerau-Levenshtein <= 1, or Jaro-Winkler
    >= 0.9), goes by the middle name, initial only, different.
``last_name``
    exact, one part of a hyphenated or double surname, typo (one edit or
    Jaro-Winkler >= 0.92), close
    (>= 0.8), maiden name kept as the middle name, the surname of someone at the
    voter's door (married, the file still has her maiden name), different
    (changed surname).
``birth``
    full date, month and year (no day on one side), only the year on one side,
    day and month swapped, one part typed wrong, year off by one, same year,
    different.
``address``
    same door and unit, unit missing on one side, another unit of the building,
    street typo, same street, same zip with no street on one side, same zip, same
    city, a zip of the same 3-digit prefix (moved nearby), elsewhere (moved far,
    or another person).
``suffix``
    the generational suffix (``JR``, ``SR``, ``III``): the same, one side has
    none, different (a father and his son of one name at one door); no evidence
    when neither has one.
``email``, ``phone``
    only when the voter file carries them.

Exact first and last names are adjusted for how common the name is (term
frequencies). The u probabilities (agreement among non-matches) come from random
pairs; the m probabilities (agreement among matches) are estimated by expectation
maximisation on two blocked samples, each leaving out the fields it blocks on.
Nothing is hand-set: the parameters are the data's.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from ._frequency import ADJUSTED_LEVELS, neighbourhood_shares
from ._household import HOUSEMATE_FIELDS, housemate_levels, housemate_log2
from ._names import JUNIOR_SUFFIXES
from ._records import COLUMNS, frequencies, to_duckdb

__all__ = [
    "BLOCKING",
    "COMPARISONS",
    "NICKNAME_BLOCKING",
    "Model",
    "explain",
    "score_pairs",
]

logger = logging.getLogger(__name__)

_ALL_COLUMNS: Final = (*COLUMNS, "fn_keys", "ln_parts", "door_lns")
_ZIP_OK: Final = "(zip5_l = zip5_r OR zip5_l IS NULL OR zip5_r IS NULL)"
_DOOR: Final = f"hn_l = hn_r AND st_l = st_r AND {_ZIP_OK}"


def _level(label: str, sql: str, *, null: bool = False, tf: str = "") -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


#: comparison -> its levels as (label, SQL condition); the first is the null level,
#: the last the "else" level.
COMPARISONS: Final[dict[str, list[dict[str, Any]]]] = {
    "first_name": [
        _level("missing", "fn_l IS NULL OR fn_r IS NULL", null=True),
        _level("exact", "fn_l = fn_r", tf="fn"),
        _level("nickname", "list_has_any(fn_keys_l, fn_keys_r)"),
        _level(
            "typo",
            "len(fn_l) > 1 AND len(fn_r) > 1 AND (jaro_winkler_similarity(fn_l, fn_r) "
            ">= 0.9 OR (len(fn_l) >= 4 AND damerau_levenshtein(fn_l, fn_r) <= 1))",
        ),
        _level("middle_name", "fn_l = mn_r OR mn_l = fn_r"),
        _level(
            "initial",
            "(len(fn_l) = 1 OR len(fn_r) = 1) "
            "AND substr(fn_l, 1, 1) = substr(fn_r, 1, 1)",
        ),
        _level("different", "ELSE"),
    ],
    "last_name": [
        _level("missing", "ln_l IS NULL OR ln_r IS NULL", null=True),
        _level("exact", "ln_l = ln_r", tf="ln"),
        _level("part", "list_has_any(ln_parts_l, ln_parts_r)"),
        _level(
            "typo",
            "jaro_winkler_similarity(ln_l, ln_r) >= 0.92 "
            "OR (len(ln_l) >= 4 AND damerau_levenshtein(ln_l, ln_r) <= 1)",
        ),
        _level("close", "jaro_winkler_similarity(ln_l, ln_r) >= 0.8"),
        _level("maiden_as_middle", "ln_l = mn_r OR mn_l = ln_r"),
        # married: the supporter goes by the surname of someone at the voter's door
        _level(
            "housemate_surname",
            "list_contains(door_lns_r, ln_l) OR list_contains(door_lns_l, ln_r)",
        ),
        _level("different", "ELSE"),
    ],
    "birth": [
        _level("missing", "yob_l IS NULL OR yob_r IS NULL", null=True),
        _level("exact", "yob_l = yob_r AND mob_l = mob_r AND dob_l = dob_r"),
        _level(
            "month_year",
            "yob_l = yob_r AND mob_l = mob_r AND (dob_l IS NULL OR dob_r IS NULL)",
        ),
        _level("year_only", "yob_l = yob_r AND (mob_l IS NULL OR mob_r IS NULL)"),
        _level("swapped", "yob_l = yob_r AND mob_l = dob_r AND dob_l = mob_r"),
        _level("one_part_off", "yob_l = yob_r AND (mob_l = mob_r OR dob_l = dob_r)"),
        _level(
            "year_off_by_one",
            "abs(yob_l - yob_r) = 1 AND mob_l = mob_r AND dob_l = dob_r",
        ),
        _level("same_year", "yob_l = yob_r"),
        _level("different", "ELSE"),
    ],
    "address": [
        _level(
            "missing",
            "(st_l IS NULL OR st_r IS NULL) AND (zip5_l IS NULL OR zip5_r IS NULL) "
            "AND (city_l IS NULL OR city_r IS NULL)",
            null=True,
        ),
        _level("exact", f"{_DOOR} AND coalesce(unit_l, '') = coalesce(unit_r, '')"),
        _level("unit_missing", f"{_DOOR} AND (unit_l IS NULL OR unit_r IS NULL)"),
        _level("other_unit", _DOOR),
        _level(
            "street_typo",
            "hn_l = hn_r AND jaro_winkler_similarity(st_l, st_r) >= 0.88 "
            f"AND {_ZIP_OK}",
        ),
        _level("same_street", "st_l = st_r AND zip5_l = zip5_r"),
        _level("zip_no_street", "zip5_l = zip5_r AND (st_l IS NULL OR st_r IS NULL)"),
        _level("same_zip", "zip5_l = zip5_r"),
        _level("same_city", "city_l = city_r"),
        # the same 3-digit zip prefix: the USPS sectional centre, a county-sized
        # area (most people who move stay near; a zip says where without a map)
        _level("nearby_zip", "left(zip5_l, 3) = left(zip5_r, 3)"),
        _level("elsewhere", "ELSE"),
    ],
    "suffix": [
        _level("missing", "sfx_l IS NULL AND sfx_r IS NULL", null=True),
        _level("exact", "sfx_l = sfx_r"),
        _level("one_missing", "sfx_l IS NULL OR sfx_r IS NULL"),
        _level("different", "ELSE"),
    ],
    "email": [
        _level("missing", "email_l IS NULL OR email_r IS NULL", null=True),
        _level("exact", "email_l = email_r"),
        _level("different", "ELSE"),
    ],
    "phone": [
        _level("missing", "phone_l IS NULL OR phone_r IS NULL", null=True),
        _level("exact", "phone_l = phone_r"),
        _level("last_seven", "right(phone_l, 7) = right(phone_r, 7)"),
        _level("different", "ELSE"),
    ],
}

#: Blocking rules: a pair is scored when it meets any of them. Zip-based rules find
#: people at their address; the statewide ones find movers by name and birth date,
#: also when one side has a double or hyphenated surname and the other one of its
#: words (GARCIA LOPEZ and GARCIA, married and moved).
BLOCKING: Final = (
    "l.zip5 = r.zip5 AND l.ln_sx1 = r.ln_sx1",
    "l.zip5 = r.zip5 AND l.ln_sx2 = r.ln_sx2",
    "l.zip5 = r.zip5 AND l.hn = r.hn AND l.st = r.st",
    "l.zip5 = r.zip5 AND l.fn_sx = r.fn_sx AND l.ln_i = r.ln_i",
    "l.city = r.city AND l.ln_sx1 = r.ln_sx1 AND l.fn_sx = r.fn_sx",
    "l.ln = r.ln AND l.fn_sx = r.fn_sx",
    "l.ln_w1 = r.ln AND l.fn_sx = r.fn_sx",
    "l.ln_w2 = r.ln AND l.fn_sx = r.fn_sx",
    "l.ln = r.ln_w1 AND l.fn_sx = r.fn_sx",
    "l.ln = r.ln_w2 AND l.fn_sx = r.fn_sx",
    "l.fn_sx = r.fn_sx AND l.ln_sx1 = r.ln_sx1 AND l.yob = r.yob",
    "l.fn_sx = r.fn_sx AND l.yob = r.yob AND l.mob = r.mob AND l.dob = r.dob",
    "l.ln_sx1 = r.ln_sx1 AND l.yob = r.yob AND l.mob = r.mob AND l.dob = r.dob",
    # goes by the middle name on the list, anywhere, born the same year (without
    # the year such a mover is matched only with a name rare on the file, and the
    # rule would score every namesake by middle name in the state)
    "l.fn = r.mn AND l.ln = r.ln AND l.yob = r.yob",
)
#: Movers who go by a nickname or a formal name that sounds different (BILL on the
#: list, WILLIAM on the file), anywhere: the supporter's ``fn_alts`` (the file's
#: first names it meets as a nickname) exploded, one row per name, and joined on the
#: voter's first name (``fn_alts`` holds only that on the voter's side) and the
#: surname: an equality join on precomputed names, never a scan of name pairs.
NICKNAME_BLOCKING: Final = "l.fn_alts = r.fn_alts AND l.ln = r.ln"
#: The same rule on unexploded records (for :func:`explain`).
_NICKNAME_EXPLAIN: Final = "list_contains(l.fn_alts, r.fn) AND l.ln = r.ln"
#: EM training passes: each estimates the fields it does not block on. Pairs at one
#: door with one surname (the person and their family) teach the first name and
#: birth date; pairs with one full name across the state (the person and their
#: namesakes) teach the birth date and the address; pairs with one first name and
#: birth date teach the surname (married, hyphenated) and the address. The fields
#: a pass blocks on are never estimated from it: housemates share a surname far
#: more often than random pairs, so a door-only pass would learn "family" instead
#: of "person".
_TRAINING: Final = (
    "l.zip5 = r.zip5 AND l.hn = r.hn AND l.st = r.st AND l.ln = r.ln",
    "l.fn = r.fn AND l.ln = r.ln",
    "l.fn = r.fn AND l.yob = r.yob AND l.mob = r.mob AND l.dob = r.dob",
)


@dataclass(frozen=True)
class Model:
    """
    A trained model and what it estimated.

    Parameters
    ----------
    parameters
        Per comparison and level: label, m and u probability, log2 Bayes factor.
    prior_log2
        log2 odds of the prior Splink's weights include (removed again by
        :func:`score_pairs`, which returns Bayes factors only).
    comparisons
        Names of the comparisons used (``email``/``phone`` only when both sides
        have them).
    """

    parameters: list[dict[str, Any]]
    prior_log2: float
    comparisons: tuple[str, ...]


def _has(con: Any, table: str, column: str) -> bool:
    rows = con.execute(f"SELECT count({column}) FROM {table}").fetchall()
    return bool(rows and rows[0][0])


def _settings(comparisons: tuple[str, ...], blocking: list[Any], prior: float) -> Any:
    from splink import SettingsCreator
    from splink.blocking_rule_library import CustomRule

    rules = [*blocking, CustomRule(NICKNAME_BLOCKING, arrays_to_explode=["fn_alts"])]

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[
            {"output_column_name": name, "comparison_levels": COMPARISONS[name]}
            for name in comparisons
        ],
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
        em_convergence=0.0001,
    )


#: Smallest m probability kept: a level never seen among the training matches
#: (a year typo in a list that had none) costs at most log2(1/M_FLOOR) ~ 10 bits
#: instead of ruling the pair out for good.
M_FLOOR: Final = 1e-3


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _floored(linker: Any, u_unseen: float) -> dict[str, Any]:
    """
    Return the trained model as settings, with every level's m and u usable.

    A level never seen among the training matches gets m = :data:`M_FLOOR` (then the
    m of the comparison are renormalised); one never seen among the random pairs
    gets u = `u_unseen` (one in the number of random pairs drawn), an upper bound
    rather than Splink's 1e-6, which would make a rare level decisive; a level seen
    in neither sample weighs nothing (u = m). The last ("else") level, a
    disagreement, is never evidence for a match: its m is at most its u (a floored
    m above a tiny u would otherwise reward a JR against an SR).
    """
    model: dict[str, Any] = linker.misc.save_model_to_json()
    for comparison in model["comparisons"]:
        levels = [
            lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")
        ]
        seen_m = [_number(lv.get("m_probability")) for lv in levels]
        raised = [max(m or 0.0, M_FLOOR) for m in seen_m]
        total = sum(raised)
        for level, m, seen in zip(levels, raised, seen_m, strict=True):
            level["m_probability"] = m / total
            if _number(level.get("u_probability")) is None:
                # seen in neither sample: no evidence either way (Bayes factor 1)
                level["u_probability"] = u_unseen if seen else m / total
        last = levels[-1]
        if last["sql_condition"] == "ELSE":
            last["m_probability"] = min(last["m_probability"], last["u_probability"])
    return model


def _parameters(linker: Any) -> list[dict[str, Any]]:
    model = linker.misc.save_model_to_json()
    out = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m = _number(level.get("m_probability"))
            u = _number(level.get("u_probability"))
            bf = math.log2(m / u) if m and u else None
            out.append(
                {
                    "comparison": comparison["output_column_name"],
                    "level": level["label_for_charts"],
                    "m_probability": m,
                    "u_probability": u,
                    "log2_bayes_factor": None if bf is None else round(bf, 3),
                }
            )
    return out


def _level_sql(comparisons: tuple[str, ...]) -> str:
    """Return SQL labelling each comparison's level from columns ``x_l``/``x_r``."""
    cases = []
    for name in comparisons:
        whens = []
        for level in COMPARISONS[name]:
            label = level["label_for_charts"]
            if level["sql_condition"] == "ELSE":
                whens.append(f"ELSE '{label}'")
            else:
                whens.append(f"WHEN {level['sql_condition']} THEN '{label}'")
        cases.append(f"CASE {' '.join(whens)} END AS {name}")
    return ",\n".join(cases)


def _levels(
    con: Any, pairs: pd.DataFrame, comparisons: tuple[str, ...]
) -> pd.DataFrame:
    """Label every pair's agreement level per comparison (same SQL as the model)."""
    con.register("pairs_raw", pairs[["supporter_key", "voter_id"]])
    cols = list(_ALL_COLUMNS)
    side = ", ".join(
        f"s.{c} AS {c}_l, v.{c} AS {c}_r" for c in cols if c != "unique_id"
    )
    rows = con.execute(
        f"""
        SELECT p.supporter_key, p.voter_id, {_level_sql(comparisons)}
        FROM (
            SELECT p.supporter_key, p.voter_id, {side}
            FROM pairs_raw p
            JOIN supporters_in s ON s.unique_id = p.supporter_key
            JOIN voters_in v ON v.unique_id = p.voter_id
        ) p
        """
    ).df()
    con.unregister("pairs_raw")
    return pd.DataFrame(rows)


def _connect(
    supporters: pd.DataFrame, voters: pd.DataFrame, threads: int | None
) -> tuple[Any, tuple[str, ...], list[str], dict[str, pd.Series]]:
    """Load both sides into a new DuckDB; return it, the comparisons and blocking."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}").fetchall()
    tf = frequencies(voters)
    to_duckdb(con, "supporters_in", supporters, tf, nicknames_on_file=True)
    to_duckdb(con, "voters_in", voters, tf, door_surnames=True)
    comparisons = tuple(
        name
        for name in COMPARISONS
        if name not in ("email", "phone")
        or (_has(con, "supporters_in", name) and _has(con, "voters_in", name))
    )
    blocking = list(BLOCKING)
    blocking += [f"l.{c} = r.{c}" for c in ("email", "phone") if c in comparisons]
    return con, comparisons, blocking, tf


def explain(
    supporters: pd.DataFrame, voters: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    """
    Say for any (supporter, voter) pairs which blocking rule finds them and the levels.

    Parameters
    ----------
    supporters, voters
        Prepared records (see :mod:`._records`); only the voters of `pairs` are
        needed.
    pairs
        ``supporter_key`` and ``voter_id`` columns.

    Returns
    -------
    explained
        `pairs` with ``blocking_rule`` (the first rule the pair meets, ``""`` when
        none: the matcher never scores it) and one level column per comparison.
    """
    con, comparisons, blocking, _ = _connect(supporters, voters, 1)
    wanted = pairs[["supporter_key", "voter_id"]].astype(str)
    levels = _levels(con, wanted, comparisons)
    con.register("pairs_raw", wanted)
    # the rules name the supporter's record l and the voter's r, as here
    blocking = [*blocking, _NICKNAME_EXPLAIN]
    whens = " ".join(f"WHEN {rule} THEN {i}" for i, rule in enumerate(blocking))
    rule = con.execute(
        f"""
        SELECT p.supporter_key, p.voter_id, CASE {whens} ELSE -1 END AS rule
        FROM pairs_raw p
        JOIN supporters_in l ON l.unique_id = p.supporter_key
        JOIN voters_in r ON r.unique_id = p.voter_id
        """
    ).df()
    con.close()
    out = wanted.merge(levels, on=["supporter_key", "voter_id"], how="left")
    out = out.merge(rule, on=["supporter_key", "voter_id"], how="left")
    names = [*blocking, ""]
    out["blocking_rule"] = [names[int(i)] for i in out.pop("rule").fillna(-1)]
    return out


def _adjust_near_agreement(
    pairs: pd.DataFrame,
    model: Model,
    supporters: pd.DataFrame,
    voters: pd.DataFrame,
    tf: dict[str, pd.Series],
) -> pd.DataFrame:
    """
    Weigh partial agreement by how common the supporter's value is on the file.

    A pair at one of :data:`ADJUSTED_LEVELS` gets ``log2(mean share / share)``
    added to its Bayes factor: ``share`` is the supporter value's neighbourhood on
    the voter file (see :mod:`._frequency`), at least the voter's own name's
    frequency and one voter; ``mean share`` its mean over the supporters whose
    value has such a neighbourhood at all. The level's estimated weight stays the weight
    of a typical name that can reach it: only hyphenated surnames can agree on a
    part, and a list's BILL meets a WILLIAM far more often than its JOHN a JACK,
    so the level's average u (over every supporter) would understate both.
    """
    if not len(pairs):
        return pairs.assign(fn_tf_log2=0.0)
    shares = neighbourhood_shares(supporters, tf)
    shares.index = supporters["unique_id"].astype(str).to_numpy()
    ids = voters["unique_id"].astype(str)
    in_pairs = ids.isin(set(pairs["voter_id"])).to_numpy()
    own_names = voters.loc[in_pairs, ["fn", "mn", "ln"]].set_index(ids[in_pairs])
    floor = 1.0 / max(len(voters), 1)
    out = pairs.copy()
    out["fn_tf_log2"] = 0.0
    for (comparison, level), (column, name) in ADJUSTED_LEVELS.items():
        eligible = shares[column][shares[column] > 0]
        if comparison not in out or not len(eligible):
            continue
        at = out[comparison].eq(level).to_numpy()
        if not at.any():
            continue
        share = out.loc[at, "supporter_key"].map(shares[column]).to_numpy(dtype=float)
        if name:
            own = own_names[name].map(tf[name]).astype(float)
            voter_share = out.loc[at, "voter_id"].map(own).to_numpy(dtype=float)
            share = np.fmax(share, voter_share)
        share = np.fmax(share, floor)
        delta = math.log2(float(eligible.mean())) - np.log2(share)
        out.loc[at, "log2_bf"] += delta
        if comparison == "first_name":
            out.loc[at, "fn_tf_log2"] = delta
    return out[out["log2_bf"].ge(0.0)].reset_index(drop=True)


def score_pairs(
    supporters: pd.DataFrame,
    voters: pd.DataFrame,
    *,
    seed: int,
    em_max_pairs: int,
    threads: int | None = None,
) -> tuple[pd.DataFrame, Model]:
    """
    Train the model on the data and score every blocked (supporter, voter) pair.

    Parameters
    ----------
    supporters, voters
        Prepared records (see :mod:`._records`).
    seed
        Seed of the random pairs behind the u probabilities.
    em_max_pairs
        Pairs sampled for each EM pass.
    threads
        DuckDB threads (default: DuckDB's choice, all cores).

    Returns
    -------
    pairs, model
        One row per scored pair with a log2 Bayes factor of at least 0:
        ``supporter_key``, ``voter_id``, ``log2_bf``, one column per comparison
        holding the level label, ``list_junior`` (the supporter's name has a
        JR, II, III...) and ``housemate_log2`` (the log2 factor of
        "a housemate of the voter" against "the voter", NaN off the voter's door;
        see :mod:`._household`); and the trained model.
    """
    from splink import DuckDBAPI, Linker

    con, comparisons, blocking, tf = _connect(supporters, voters, threads)
    n_voters = max(len(voters), 1)
    prior = 1.0 / n_voters
    db = DuckDBAPI(connection=con)
    left = db.register("supporters_in", dataset_display_name="supporters")
    right = db.register("voters_in", dataset_display_name="voters")
    linker = Linker(
        [left, right], _settings(comparisons, blocking, prior), log_level=None
    )
    max_u = float(min(5e6, max(1e5, len(supporters) * 200)))
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u, seed=seed)
    for rule in _TRAINING:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=float(em_max_pairs), estimate_without_term_frequencies=True
        )
    linker = Linker([left, right], _floored(linker, 1.0 / max_u), log_level=None)
    prior_log2 = math.log2(prior / (1 - prior))
    predicted = linker.inference.predict(
        threshold_match_weight=prior_log2, warning_mode="never"
    )
    frame = pd.DataFrame(predicted.as_pandas_dataframe())  # type: ignore[no-untyped-call]
    sup_left = (frame["source_dataset_l"] == "supporters").to_numpy()
    out = pd.DataFrame(
        {
            "supporter_key": frame["unique_id_l"].where(sup_left, frame["unique_id_r"]),
            "voter_id": frame["unique_id_r"].where(sup_left, frame["unique_id_l"]),
            "log2_bf": frame["match_weight"].to_numpy(dtype=float) - prior_log2,
        }
    )
    levels = _levels(con, out, comparisons)
    out = out.merge(levels, on=["supporter_key", "voter_id"], how="left")
    junior = supporters["sfx"].isin(JUNIOR_SUFFIXES).to_numpy()
    juniors = set(supporters["unique_id"].astype(str).to_numpy()[junior])
    out["list_junior"] = out["supporter_key"].isin(juniors)
    model = Model(_parameters(linker), prior_log2, comparisons)
    out = _adjust_near_agreement(out, model, supporters, voters, tf)
    fields = tuple(c for c in HOUSEMATE_FIELDS if c in comparisons)
    h = housemate_levels(con, "voters_in", _level_sql(fields), len(voters))
    out["housemate_log2"] = housemate_log2(
        out, model.parameters, h, out.pop("fn_tf_log2")
    )
    con.close()
    logger.info(
        "Scored %s supporter-voter pairs (%s comparisons)",
        f"{len(out):,}",
        len(comparisons),
    )
    return out, model
