"""The housemate hypothesis: a voter's housemate is not the voter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from canvass.match._assign import assign
from canvass.match._household import housemate_log2

#: m probabilities of the levels used below (as a trained model gives them)
_PARAMETERS = [
    {"comparison": c, "level": lv, "m_probability": m}
    for c, levels in {
        "first_name": {"exact": 0.8, "middle_name": 0.02, "different": 0.05},
        "birth": {"exact": 0.9, "different": 0.02},
        "suffix": {"exact": 0.5, "one_missing": 0.45, "different": 0.05},
    }.items()
    for lv, m in levels.items()
]
#: level counts among pairs of voters at one door (first name given the suffix)
_HOUSEMATES = {
    "first_name": {"exact": 40.0, "middle_name": 20.0, "different": 940.0},
    "first_name|missing": {"exact": 9.5, "middle_name": 19.5, "different": 940.0},
    "first_name|one_missing": {"exact": 30.0, "different": 29.5},
    "first_name|different": {"exact": 9.5},
    "birth": {"exact": 0.5, "different": 999.5},
    "suffix": {"missing": 930.5, "one_missing": 59.5, "different": 9.5},
    "suffix_on_file": {"share": 0.03},
}


def _pair(first: str, birth: str, suffix: str, address: str = "exact") -> dict:
    return {
        "first_name": first,
        "birth": birth,
        "suffix": suffix,
        "address": address,
        "last_name": "exact",
    }


def test_housemate_factor_per_pattern():
    pairs = pd.DataFrame(
        [
            _pair("middle_name", "missing", "missing"),  # goes by the middle name?
            _pair("exact", "exact", "missing"),  # the voter
            _pair("exact", "missing", "one_missing"),  # JR on the list, none on file
            _pair("exact", "missing", "different"),  # SR on the list, JR on file
            _pair("middle_name", "missing", "missing", address="same_zip"),
        ]
    )
    r = housemate_log2(pairs, _PARAMETERS, _HOUSEMATES, pd.Series(np.zeros(5)))
    total_missing = 9.5 + 19.5 + 940.0 + 1.5  # the three levels, each +0.5
    no_suffix = np.log2(931.0 / 1001.5 / 0.97)  # 4 levels, each +0.5
    # middle name: as likely for a housemate as for the person
    assert r[0] == pytest.approx(np.log2(20.0 / total_missing / 0.02) + no_suffix)
    assert -1.5 < r[0] < 1.5
    # exact first name and birth date: a housemate hardly ever
    assert r[1] < -12
    # a JR and a man without suffix of one name at one door: likely namesakes
    assert r[2] > r[1] + 10
    # a suffix that differs: the housemate is far likelier than the person
    assert r[3] > 1
    assert np.isnan(r[4])  # not at the voter's door: no housemate hypothesis
    # the first name's term-frequency adjustment is taken back out
    adjusted = housemate_log2(
        pairs.iloc[:1], _PARAMETERS, _HOUSEMATES, pd.Series([3.0])
    )
    assert adjusted[0] == pytest.approx(r[0] - 3.0)


def _list(middle_housemate: float) -> tuple[pd.DataFrame, pd.Index]:
    """200 clean matches, 80 housemates whose first name differs, 2 test rows."""
    rows = [
        ("m", i, 40.0, "exact", -12.0) for i in range(200)
    ] + [  # the person: a housemate almost never looks like this
        ("h", i, 22.0, "different", 8.0) for i in range(80)
    ]  # housemates: door and surname agree, the first name does not
    frame = pd.DataFrame(
        [(f"{k}{i}", f"V{k}{i}", bf, fn, r) for k, i, bf, fn, r in rows],
        columns=["supporter_key", "voter_id", "log2_bf", "first_name", "housemate"],
    )
    test = pd.DataFrame(
        {
            "supporter_key": ["mid_at_door", "mid_elsewhere"],
            "voter_id": ["VA", "VB"],
            "log2_bf": [32.0, 32.0],
            "first_name": ["middle_name", "middle_name"],
            "housemate": [middle_housemate, np.nan],
        }
    )
    pairs = pd.concat([frame, test], ignore_index=True)
    pairs = pairs.rename(columns={"housemate": "housemate_log2"})
    keys = pd.Index([*pairs["supporter_key"], *(f"off{i}" for i in range(20))])
    return pairs, keys


def test_a_middle_name_at_the_door_weighs_against_a_housemate():
    pairs, keys = _list(middle_housemate=0.0)
    kwargs = {"match_probability": 0.9, "review_probability": 0.2}
    out, shares, _ = assign(pairs, keys, 100_000, **kwargs)
    # EM finds the housemates' share of the list (80 of 302)
    assert shares["housemates"] == pytest.approx(80 / len(keys), abs=0.02)
    assert shares["all"] == pytest.approx(202 / len(keys), abs=0.02)
    door, far = out.loc["mid_at_door"], out.loc["mid_elsewhere"]
    # the same Bayes factor: only the pair at the door has a housemate rival
    assert far["status"] == "matched"
    assert door["status"] == "review"
    assert door["reason"] == "housemate"
    assert door["match_probability"] == pytest.approx(
        shares["all"] / (shares["all"] + shares["housemates"]), abs=0.01
    )
    assert (out.loc[[f"m{i}" for i in range(200)], "status"] == "matched").all()
    # the housemates themselves are not even sent to review
    assert (out.loc[[f"h{i}" for i in range(80)], "status"] == "unmatched").all()
    # without the hypothesis (no housemate factor) the pair at the door is matched
    plain = pairs.drop(columns="housemate_log2")
    out_plain, shares_plain, _ = assign(plain, keys, 100_000, **kwargs)
    assert out_plain.loc["mid_at_door", "status"] == "matched"
    assert shares_plain["housemates"] == 0.0


def test_two_rows_claiming_one_voter():
    pairs = pd.DataFrame(
        {
            "supporter_key": ["a", "b"],
            "voter_id": ["V1", "V1"],
            "log2_bf": [40.0, 40.0],
            "first_name": ["exact", "middle_name"],
        }
    )
    out, _, _ = assign(
        pairs, pd.Index(["a", "b"]), 1000, match_probability=0.9, review_probability=0.2
    )
    assert out.loc["a", "status"] == "matched"
    assert out.loc["b", "status"] == "review"
    assert out.loc["b", "reason"] == "another_row_claims_voter"


def test_precision_cut_from_the_models_probabilities():
    from canvass.match import precision_cut

    p = [0.999] * 90 + [0.85] * 10 + [0.5] * 10 + [0.3] * 5
    decisions = pd.DataFrame(
        {
            "status": ["matched"] * 90 + ["review"] * 20 + ["unmatched"] * 5,
            "reason": [""] * 115,
            "match_probability": p,
        }
    )
    cut, expected = precision_cut(decisions, 0.98)
    # all 100 rows from 0.85: mean 0.984; adding the 0.5 rows falls below 0.98
    assert cut == pytest.approx(0.85)
    assert expected == pytest.approx((90 * 0.999 + 10 * 0.85) / 100)
    # the 0.5 rows all together (a threshold cannot take some of a tie): 0.94
    assert precision_cut(decisions, 0.95)[0] == pytest.approx(0.85)
    assert precision_cut(decisions, 0.94)[0] == pytest.approx(0.5)
    # unmatched rows are never matched, whatever their probability
    assert precision_cut(decisions, 0.0, floor=0.2)[0] == pytest.approx(0.5)
    # a row capped at review by a rule (a namesake) is never counted
    capped = decisions.assign(reason=[""] * 90 + ["namesake"] * 10 + [""] * 15)
    assert precision_cut(capped, 0.94)[0] == pytest.approx(0.5)
    assert precision_cut(capped, 0.96)[0] == pytest.approx(0.999)
    assert precision_cut(decisions, 0.9999) == (1.0, 1.0)


def test_a_junior_born_on_another_date_is_the_son_not_the_voter():
    # a JR on the list at the door of a voter of his name without one; the names
    # and the door outweigh a birth date that differs, as EM weighs it
    levels = {
        "first_name": "exact",
        "last_name": "exact",
        "address": "exact",
        "suffix": "one_missing",
        "list_junior": True,
    }
    pairs = pd.DataFrame(
        [
            {"supporter_key": "son", "voter_id": "V1", "birth": "different"},
            {"supporter_key": "typo", "voter_id": "V2", "birth": "one_part_off"},
            {"supporter_key": "same", "voter_id": "V3", "birth": "exact"},
        ]
    ).assign(log2_bf=40.0, **levels)
    out, _, _ = assign(
        pairs,
        pd.Index(["son", "typo", "same"]),
        1000,
        match_probability=0.9,
        review_probability=0.2,
    )
    assert out.loc["son", "status"] == "review"
    assert out.loc["son", "reason"] == "namesake"
    # the voter's own date, or a typo of it: him (his record dropped the JR)
    assert (out.loc[["typo", "same"], "status"] == "matched").all()
