"""Matching a supporter list to a voter file: the model, the decisions, the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from canvass.config import PlanConfig
from canvass.match import (
    MATCH_COLUMNS,
    flag_voters,
    match_supporters,
    read_supporters,
    volunteer_roster,
    write_match_outputs,
)

from .lists import CASES, make_list, make_voters


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory):
    voters = make_voters()
    rows, labels = make_list(voters)
    folder = tmp_path_factory.mktemp("list")
    rows.to_csv(folder / "supporters.csv", index=False)
    config = PlanConfig.from_dict(
        {
            "seed": 1,
            "supporters": {"files": ["supporters.csv"]},
            "base_dir": str(folder),
        }
    )
    result = match_supporters(read_supporters(config), voters, config, threads=1)
    by_line = result.decisions.set_index("line")
    by_label = {label: by_line.loc[i + 2] for i, label in enumerate(labels)}
    return voters, result, by_label, config


def test_every_row_gets_one_decision(matched):
    _, result, by_label, _ = matched
    dec = result.decisions
    assert len(dec) == len(by_label)  # rows in = decisions out (blank row skipped)
    assert set(dec["status"]) <= {"matched", "review", "unmatched"}
    # at most one voter per supporter: one row per supporter, one voter id each
    assert dec.index.is_unique
    assert by_label["no_name"]["reason"] == "no_name"


@pytest.mark.parametrize("case", sorted(CASES))
def test_known_cases(matched, case):
    _, _, by_label, _ = matched
    row = by_label[case]
    status, voter = CASES[case]
    if status == "not_matched":
        assert row["status"] != "matched"
    else:
        assert row["status"] == status, (case, row.to_dict())
    if voter:
        assert row["voter_id"] == voter
    if case == "father_or_son":
        assert row["reason"] == "ambiguous"
        assert {row["voter_id"], row["second_voter_id"]} == {"V_DAD", "V_SON"}
    if case == "namesake_son":  # JR on the list, none on file, no birth date
        assert row["reason"] == "namesake"
    if case == "mover_common_name":  # a name the file has by chance, elsewhere
        assert row["match_probability"] < 0.5
    if case == "mover_nickname_two_namesakes":
        # found by nickname anywhere, but the file has two of the name
        assert row["reason"] == "ambiguous"
        assert {row["voter_id"], row["second_voter_id"]} == {"V_WILLD1", "V_WILLD2"}
    if case in ("mover_nickname", "mover_by_middle_name"):
        assert row["address"] == "nearby_zip"
    if case == "married_name_of_housemate":
        # her husband's surname (he lives at her door), not a stranger's: the
        # list taught the model no married name, so a person decides
        assert row["last_name"] == "housemate_surname"
        other = by_label["surname_of_nobody_at_door"]
        assert other["voter_id"] in ("", "V_WIFE")
        assert row["match_weight"] > other["match_weight"] + 5
    if case == "spouse_not_registered":
        assert row["voter_id"] in ("", "V_JOHN")
        assert row["status"] == "unmatched" or row["reason"] == "first_name_differs"


def test_plain_rows_match_their_voter(matched):
    _, _, by_label, _ = matched
    plain = {k: v for k, v in by_label.items() if k.startswith("V0")}
    right = sum(
        v["status"] == "matched" and v["voter_id"] == k for k, v in plain.items()
    )
    wrong = sum(
        v["status"] == "matched" and v["voter_id"] != k for k, v in plain.items()
    )
    assert right >= 0.9 * len(plain)
    assert wrong == 0


def test_levels_and_parameters_come_from_the_data(matched):
    _, result, by_label, _ = matched
    assert by_label["nickname"]["first_name"] == "nickname"
    assert by_label["peggy_unit_missing"]["address"] == "unit_missing"
    assert by_label["hyphen"]["last_name"] == "part"
    # 01060 and 01063: another zip of the same sectional centre (010)
    assert by_label["moved_with_dob"]["address"] == "nearby_zip"
    params = {(p["comparison"], p["level"]): p for p in result.parameters}
    exact = params[("first_name", "exact")]
    assert 0.5 < exact["m_probability"] < 1.0  # estimated by EM, not the default
    assert exact["u_probability"] < 0.2
    assert params[("address", "exact")]["log2_bayes_factor"] > 5
    assert result.report["share_on_file"] < 1.0


def test_outputs_hold_ids_not_names(matched, tmp_path: Path):
    _, result, _, _ = matched
    written = write_match_outputs(result, tmp_path)
    names = {p.name for p in written}
    assert {"matches.csv", "review.csv", "unmatched.csv", "unregistered.csv"} <= names
    assert "match_report.json" in names
    assert "volunteers.csv" in names
    matches = pd.read_csv(tmp_path / "matches.csv", dtype=str)
    assert list(matches.columns) == [c for c in MATCH_COLUMNS if c in matches.columns]
    for file in ("matches.csv", "review.csv", "unmatched.csv", "unregistered.csv"):
        text = (tmp_path / file).read_text().upper()
        assert "HARTWELL" not in text
        assert "PENNYWORTH" not in text
    unregistered = pd.read_csv(tmp_path / "unregistered.csv", dtype=str)
    assert "77 CEDAR" not in unregistered.to_string().upper()
    report = json.loads((tmp_path / "match_report.json").read_text())
    assert report["by_status"]["matched"] >= 200
    assert report["tags"]["is_volunteer"] >= 1


def test_unregistered_list_keeps_only_the_area(matched, tmp_path: Path):
    _, result, by_label, _ = matched
    write_match_outputs(result, tmp_path)
    drive = pd.read_csv(tmp_path / "unregistered.csv", dtype=str)
    lines = set(drive["line"].astype(int))
    assert int(by_label["unregistered_in_area"].name) in lines
    assert int(by_label["out_of_area"].name) not in lines


def test_flag_voters_marks_supporters_and_households(matched):
    voters, result, _, _ = matched
    flagged = flag_voters(voters, result)
    assert flagged.loc["V_WILL", "is_supporter"]
    assert not flagged.loc["V_JOHN", "is_supporter"]
    assert (flagged["supporter_household"] >= flagged["is_supporter"]).all()
    assert "supporter_email" not in flagged  # contact data stays off by default
    with_contact = flag_voters(voters, result, contact=True)
    assert with_contact.loc["V_WILL", "supporter_email"] == "nickname@example.org"
    assert with_contact.loc["V_JOHN", "supporter_email"] == ""


def test_volunteer_roster(matched):
    voters, result, by_label, _ = matched
    roster = volunteer_roster(result, voters)
    assert list(roster.columns)[:6] == [
        "name", "phone", "email", "has_car", "home_address", "area",
    ]  # fmt: skip
    bill = roster[roster["line"] == int(by_label["nickname"].name)].iloc[0]
    assert bill["name"] == "Bill Hartwell"
    assert bill["home_address"] == "12 MAPLE ST"  # the voter file's address
    assert bill["area"] == "1A"


def test_explain_pairs_says_which_rule_finds_a_pair(matched):
    voters, result, by_label, _ = matched
    from canvass.match import explain_pairs

    nickname = by_label["nickname"].name  # the line; the key is the index
    dec = result.decisions
    key = dec.index[dec["line"].eq(nickname)][0]
    pairs = pd.DataFrame(
        {"supporter_key": [key, key], "voter_id": ["V_WILL", "V_MOVED"]}
    )
    out = explain_pairs(result.supporters, voters, pairs).set_index("voter_id")
    assert out.loc["V_WILL", "blocking_rule"] != ""  # the same door
    assert out.loc["V_WILL", "first_name"] == "nickname"
    assert out.loc["V_MOVED", "blocking_rule"] == ""  # nothing in common
    assert out.loc["V_MOVED", "first_name"] == "different"
    # every scored pair is kept with its probability
    assert {"p", "identity", "log2_bf"} <= set(result.pairs.columns)
    assert result.pairs["supporter_key"].isin(dec.index).all()


def test_explain_pairs_names_the_nickname_and_middle_name_rules(matched):
    voters, result, by_label, _ = matched
    from canvass.match import explain_pairs

    dec = result.decisions
    keys = {
        label: dec.index[dec["line"].eq(by_label[label].name)][0]
        for label in ("mover_nickname", "mover_by_middle_name", "out_of_area")
    }
    pairs = pd.DataFrame(
        {
            "supporter_key": [
                keys["mover_nickname"],
                keys["mover_by_middle_name"],
                keys["out_of_area"],
            ],
            "voter_id": ["V_DICK", "V_HORATIO", "V_WILL"],
        }
    )
    out = explain_pairs(result.supporters, voters, pairs).set_index("voter_id")
    assert "fn_alts" in out.loc["V_DICK", "blocking_rule"]  # DICK meets RICHARD
    assert out.loc["V_HORATIO", "blocking_rule"].startswith("l.fn = r.mn AND")
    # a move to 01060 from 01063 is near; 90210 is not
    assert out.loc["V_DICK", "address"] == "nearby_zip"
    assert out.loc["V_WILL", "address"] == "elsewhere"


def test_explain_pairs_sees_the_surnames_at_the_voters_door(matched):
    voters, result, by_label, _ = matched
    from canvass.match import explain_pairs

    dec = result.decisions
    line = by_label["married_name_of_housemate"].name
    key = dec.index[dec["line"].eq(line)][0]
    pairs = pd.DataFrame({"supporter_key": [key], "voter_id": ["V_WIFE"]})
    out = explain_pairs(result.supporters, voters, pairs)
    # her husband is not in the pair, but his surname at her door is seen
    assert out.loc[0, "last_name"] == "housemate_surname"


def test_target_precision_sets_the_threshold_from_the_lists_probabilities(matched):
    voters, result, _, config = matched
    base = result.report["threshold"]
    assert base["match_probability"] == pytest.approx(0.9)
    assert base["target_precision"] is None
    folder = Path(config.base_dir)
    for target in (0.9, 0.999999):
        strict = PlanConfig.from_dict(
            {
                "seed": 1,
                "supporters": {
                    "files": ["supporters.csv"],
                    "target_precision": target,
                },
                "base_dir": str(folder),
            }
        )
        got = match_supporters(read_supporters(strict), voters, strict, threads=1)
        cut = got.report["threshold"]
        dec = got.decisions
        matched_p = dec.loc[dec["status"].eq("matched"), "match_probability"]
        # the matches' mean probability (the model's expected precision) reaches
        # the target, and every match is at or above the chosen threshold
        assert cut["target_precision"] == target
        if len(matched_p):
            assert matched_p.mean() >= target
            assert matched_p.min() >= cut["match_probability"] - 1e-4  # rounded
        # the same pairs: review + matched rows keep their probabilities
        both = dec.index.intersection(result.decisions.index)
        pd.testing.assert_series_equal(
            dec.loc[both, "match_probability"],
            result.decisions.loc[both, "match_probability"],
        )
        if target == 0.9:
            # a looser target than the default threshold's matches reach: more
            # supporters matched, from a lower probability
            assert cut["match_probability"] < 0.9
            assert len(matched_p) > result.report["by_status"]["matched"]
        else:
            assert len(matched_p) < result.report["by_status"]["matched"]


def test_target_precision_must_be_a_fraction():
    from canvass.errors import ConfigError

    with pytest.raises(ConfigError, match=r"supporters\.target_precision"):
        PlanConfig.from_dict({"supporters": {"target_precision": 1.5}})
