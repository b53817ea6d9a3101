"""The match bench's breakdown puts each list row in the stage where it was lost."""

from __future__ import annotations

import pandas as pd
from _bench import load_bench

report = load_bench("_match_report")


def test_stages_and_breakdown():
    # rows: matched, matched wrong, review, never scored (blocked out / weight < 1),
    # scored without person evidence, outranked, below threshold, off the file x2
    truth = pd.Series(["V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "", ""])
    keys = pd.Series([f"s{i}" for i in range(10)])
    status = pd.Series(
        ["matched", "matched", "review"] + ["unmatched"] * 5 + ["matched", "unmatched"]
    )
    voter = pd.Series(["V1", "X", "V3", "", "", "", "", "", "V9", ""])
    pairs = pd.DataFrame(
        {
            "supporter_key": ["s5", "s6", "s6", "s7", "s0", "s1", "s2", "s8"],
            "voter_id": ["V6", "V7", "X7", "V8", "V1", "X", "V3", "V9"],
            "p": [0.9, 0.1, 0.6, 0.1, 1.0, 0.95, 0.5, 0.95],
            "identity": [False, True, True, True, True, True, True, True],
        }
    )
    explained = pd.DataFrame(
        {
            "supporter_key": ["s3", "s4"],
            "voter_id": ["V4", "V5"],
            "blocking_rule": ["", "l.zip5 = r.zip5 AND l.hn = r.hn AND l.st = r.st"],
        }
    )
    stage = report.stages(truth, keys, status, voter, pairs, explained)
    assert stage.tolist() == [
        "matched",
        "matched_other",
        "review",
        "not_blocked",
        "weight_below_1",
        "household_only",
        "outranked",
        "below_threshold",
        "matched_other",
        "not_on_file",
    ]
    # without the explanation, "never scored" is all "not_blocked"
    rough = report.stages(truth, keys, status, voter, pairs, None)
    assert rough[4] == "not_blocked"
    kinds = pd.Series(
        ["clean", "nickname", "nickname;moved_out_of_zip", "moved_out_of_zip"]
        + ["email_only"] * 4
        + ["not_on_file_area", "not_on_file_elsewhere"]
    )
    doc = report.breakdown(kinds, stage)
    assert doc["by_kind"]["nickname"] == {
        "rows": 2,
        "recall": 0.0,
        "review": 1,
        "matched_other": 1,
    }
    assert doc["by_kind"]["clean"]["recall"] == 1.0
    assert "recall" not in doc["by_kind"]["not_on_file_area"]
    assert doc["misses_by_stage"]["matched_other"] == 1  # the on-file one only
    assert doc["false_positives_by_kind"] == {"nickname": 1, "not_on_file_area": 1}
    text = report.table(doc)
    assert text.splitlines()[0].startswith("kind of error")
    assert "false positives by kind of row: nickname 1, not_on_file_area 1" in text


def test_sweep_matches_eligible_rows_from_each_cut():
    truth = pd.Series(["V1", "V2", "V3", "", ""])
    voter = pd.Series(["V1", "V2", "X", "V4", "V5"])
    eligible = pd.Series([True, True, True, True, False])
    best_p = pd.Series([0.99, 0.85, 0.6, 0.95, 0.99])
    out = report.sweep(truth, voter, eligible, best_p, (0.8, 0.97), cuts=(0.5, 0.9))
    # from 0.5: V1, V2 right, X and V4 wrong (V5 is capped: never matched)
    assert out["0.5"] == {"precision": 0.5, "recall": round(2 / 3, 4)}
    assert out["0.9"] == {"precision": 0.5, "recall": round(1 / 3, 4)}
    assert out["expected_precision_0.99"] == {
        "threshold": 0.8,
        "expected_precision": 0.97,
        "precision": round(2 / 3, 4),
        "recall": round(2 / 3, 4),
    }


def test_identifying_rows():
    # two JOHN SMITHs in zip 1 (other doors) and one born the same year in zip 2,
    # a rare ANA ZED, a JOHN DOE and a MARY DOE at one door, and a JOHN DOE born
    # 1950 elsewhere on the file
    voters = pd.DataFrame(
        {
            "first_name": ["JOHN", "JOHN", "ANA", "JOHN", "MARY", "JOHN", "JOHN"],
            "last_name": ["SMITH", "SMITH", "ZED", "DOE", "DOE", "DOE", "SMITH"],
            "street_number": ["1", "2", "3", "4", "4", "9", "7"],
            "street_name": ["A ST"] * 7,
            "unit": [""] * 7,
            "zip5": ["00001"] * 5 + ["00002"] * 2,
            "birth_year": [1970, 1980, 1990, 1960, 1962, 1950, 1970],
        },
        index=["S1", "S2", "Z", "D1", "D2", "D3", "S3"],
    )
    rows = [  # (kinds, truth, birth given)
        ("no_birth_date", "S1", False),  # at his door: unique there
        ("email_only", "S1", False),  # zip only: two JOHN SMITHs there
        ("moved_out_of_zip;birth_full", "S1", True),  # a full date says who
        ("moved_out_of_zip;no_birth_date", "Z", False),  # unique on the file
        ("moved_out_of_zip;birth_year_only", "D1", True),  # JOHN DOE 1960: unique
        ("moved_out_of_zip;birth_year_only", "S1", True),  # two JOHN SMITHs of 1970
        ("moved_out_of_zip;no_birth_date", "D1", False),  # two JOHN DOEs
        # married: the list has another surname; at her door MARY is unique
        ("changed_surname;no_birth_date", "D2", False),
        ("changed_surname;moved_within_zip;no_birth_date", "D2", False),
        ("not_on_file_area", "", False),
    ]
    kinds = pd.Series([r[0] for r in rows])
    truth = pd.Series([r[1] for r in rows])
    birth = pd.Series([r[2] for r in rows])
    got = report.identifying(kinds, truth, birth, voters)
    assert got.tolist() == [
        *(True, False, True, True, True, False, False, True, False, False)
    ]
