"""How common a name's near agreements are, and what that does to a pair's weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from canvass.match._frequency import ADJUSTED_LEVELS, neighbourhood_shares, one_edit
from canvass.match._model import Model, _adjust_near_agreement
from canvass.match._records import frequencies


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("SMITH", "SMTIH", True),  # swapped neighbours
        ("SMITH", "SMYTH", True),  # replaced
        ("SMITH", "SMITHE", True),  # inserted
        ("SMITHE", "SMITH", True),  # dropped
        ("SMITH", "SMITH", False),  # the same name is no typo
        ("SMITH", "SMYTHE", False),  # two edits
        ("SMITH", "MSITH", True),
        ("SMITH", "HTIMS", False),
    ],
)
def test_one_edit(a, b, expected):
    assert one_edit(a, b) is expected


def _records(names: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": [f"k{i}" for i in range(len(names))],
            "fn": [n[0] or None for n in names],
            "mn": [n[1] or None for n in names],
            "ln": [n[2] or None for n in names],
            "yob": pd.array([1950 + i for i in range(len(names))], dtype="Int64"),
            "zip5": ["01060"] * len(names),
        }
    )


@pytest.fixture
def voters() -> pd.DataFrame:
    """100 voters: 60 SMITH, 1 SMYTHE, 30 GARCIA, 9 rare; WILLIAMs and a BILL."""
    last = ["SMITH"] * 60 + ["SMYTHE"] + ["GARCIA"] * 30 + ["LOPEZ"] * 4
    last += ["QUARTERMAINE", "ZAWADZKI", "XUEREB", "GARCIA LOPEZ", "OYELARAN"]
    first = ["WILLIAM"] * 40 + ["BILL"] * 2 + ["MARY"] * 58
    middle = ["JOHN"] * 10 + [""] * 90
    return _records(list(zip(first, middle, last, strict=True)))


def test_frequencies_come_from_the_voter_file(voters):
    tf = frequencies(voters)
    assert tf["ln"]["SMITH"] == pytest.approx(0.6)
    assert tf["ln"]["ZAWADZKI"] == pytest.approx(0.01)
    assert tf["mn"]["JOHN"] == pytest.approx(1.0)  # among voters with a middle name
    assert set(tf) >= {"fn", "ln", "mn", "yob", "zip5"}


def test_neighbourhood_shares(voters):
    tf = frequencies(voters)
    supporters = _records(
        [
            ("BILL", "", "SMITHE"),  # one edit from SMITH (60) and SMYTHE (1)
            ("WILLIAM", "", "ZAWADSKI"),  # one edit from ZAWADZKI (1) only
            ("JOHN", "", "GARCIA-LOPEZ".replace("-", " ")),
            ("MARY", "", "NOBODYLIKEME"),
        ]
    )
    shares = neighbourhood_shares(supporters, tf).set_index(supporters["unique_id"])
    assert shares.loc["k0", "ln_typo"] == pytest.approx(0.61)
    assert shares.loc["k1", "ln_typo"] == pytest.approx(0.01)
    assert shares.loc["k3", "ln_typo"] == 0.0
    # GARCIA LOPEZ meets every GARCIA and every LOPEZ, not itself
    assert shares.loc["k2", "ln_part"] == pytest.approx(0.34)
    # BILL meets the WILLIAMs (not the other BILLs: that is exact agreement)
    assert shares.loc["k0", "fn_nick"] == pytest.approx(0.40)
    assert shares.loc["k2", "fn_mid"] == pytest.approx(1.0)
    assert shares.loc["k3", "fn_nick"] == 0.0
    # one voter born in each year from 1950; every voter in 01060
    assert shares.loc["k1", "yob"] == pytest.approx(0.01)
    assert shares.loc["k1", "zip5"] == pytest.approx(1.0)


def test_a_typo_of_a_rare_name_weighs_more_than_a_typo_of_a_common_one(voters):
    tf = frequencies(voters)
    supporters = _records([("MARY", "", "SMITHE"), ("MARY", "", "ZAWADSKI")])
    pairs = pd.DataFrame(
        {
            "supporter_key": ["k0", "k1"],
            "voter_id": ["k60", "k96"],  # SMYTHE and ZAWADZKI
            "log2_bf": [20.0, 20.0],
            "first_name": ["exact", "exact"],
            "last_name": ["typo", "typo"],
        }
    )
    model = Model([], 0.0, ("first_name", "last_name"))
    out = _adjust_near_agreement(pairs, model, supporters, voters, tf)
    bf = out.set_index("supporter_key")["log2_bf"]
    # the two shares are 0.61 and 0.01; their mean 0.31 is the level's norm
    assert bf["k0"] == pytest.approx(20.0 + np.log2(0.31 / 0.61))
    assert bf["k1"] == pytest.approx(20.0 + np.log2(0.31 / 0.01))
    # other levels are left alone
    pairs["last_name"] = "exact"
    same = _adjust_near_agreement(pairs, model, supporters, voters, tf)
    assert same["log2_bf"].tolist() == [20.0, 20.0]


def test_every_adjusted_level_exists():
    from canvass.match._model import COMPARISONS

    for comparison, level in ADJUSTED_LEVELS:
        labels = {lv["label_for_charts"] for lv in COMPARISONS[comparison]}
        assert level in labels, (comparison, level)


def _pairs(n_in: int) -> tuple[pd.DataFrame, pd.Index]:
    """n_in supporters in the area, each with one good candidate; as many out of it."""
    keys = [f"in{i}" for i in range(n_in)] + [f"out{i}" for i in range(n_in)]
    pairs = pd.DataFrame(
        {
            "supporter_key": [*keys[:n_in], "out0"],
            "voter_id": [f"V{i}" for i in range(n_in)] + ["V_OUT"],
            "log2_bf": [24.0] * n_in + [24.0],
            "first_name": ["exact"] * (n_in + 1),
        }
    )
    return pairs, pd.Index(keys)


def test_share_on_file_is_estimated_apart_in_and_out_of_the_area():
    from canvass.match._assign import assign

    pairs, keys = _pairs(300)
    area = pd.Series(keys.str.startswith("in"), index=keys)
    kwargs = {"match_probability": 0.9, "review_probability": 0.2}
    pooled, shares_pooled, _ = assign(pairs, keys, 1_000_000, **kwargs)
    apart, shares, scored = assign(pairs, keys, 1_000_000, in_area=area, **kwargs)
    assert set(shares_pooled) == {"all", "housemates"}
    assert shares["in_area"] > shares["all"] > shares["out_of_area"]
    # the same evidence is worth more for someone who lives where the voters do
    p_in = apart.loc["in0", "match_probability"]
    assert p_in > pooled.loc["in0", "match_probability"]
    assert (
        apart.loc["out0", "match_probability"] < pooled.loc["out0", "match_probability"]
    )
    assert {"p", "identity"} <= set(scored.columns)
    # too few supporters in a group: the pooled share is used
    small, small_shares, _ = assign(
        pairs, keys, 1_000_000, in_area=area.iloc[:10], **kwargs
    )
    assert set(small_shares) == {"all", "housemates"}
    assert (
        small.loc["in0", "match_probability"] == pooled.loc["in0", "match_probability"]
    )


def _prepared(rows: list[dict[str, object]]) -> pd.DataFrame:
    from canvass.match._records import COLUMNS

    frame = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows])
    for col in ("yob", "mob", "dob"):
        frame[col] = pd.array(frame[col], dtype="Int64")
    return frame.set_index(frame["unique_id"].to_numpy())


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ((1970, 3, 4), "exact"),
        ((1970, 3, None), "month_year"),  # "3/1970": month and year agree
        ((1970, None, None), "year_only"),
        ((1970, 4, 3), "swapped"),
        ((1970, 3, 5), "one_part_off"),
        ((1971, 3, 4), "year_off_by_one"),
        ((1970, 9, 9), "same_year"),
        ((None, None, None), "missing"),
    ],
)
def test_partial_birth_dates_have_their_own_level(given, level):
    from canvass.match._model import explain

    person = {"fn": "WILLIAM", "ln": "HARTWELL", "zip5": "01060"}
    voter = {"unique_id": "V1", **person, "yob": 1970, "mob": 3, "dob": 4}
    year, month, day = given
    supporter = {"unique_id": "s1", **person, "yob": year, "mob": month, "dob": day}
    out = explain(
        _prepared([supporter]),
        _prepared([voter]),
        pd.DataFrame({"supporter_key": ["s1"], "voter_id": ["V1"]}),
    )
    assert out.loc[0, "birth"] == level


def test_term_frequencies_count_the_voter_file_not_the_list(voters):
    import duckdb

    from canvass.match._records import to_duckdb

    tf = frequencies(voters)
    # the list names ZAWADZKI fifty times: it stays a name one voter in 100 has
    supporters = _prepared(
        [{"unique_id": f"s{i}", "fn": "MARY", "ln": "ZAWADZKI"} for i in range(50)]
        + [{"unique_id": "s50", "fn": "NOBODY", "ln": "NOTONFILE"}]
    )
    con = duckdb.connect()
    to_duckdb(con, "supporters_in", supporters, tf)
    got = dict(
        con.execute(
            "SELECT unique_id, tf_ln FROM supporters_in "
            "WHERE unique_id IN ('s0', 's50')"
        ).fetchall()
    )
    assert got["s0"] == pytest.approx(0.01)
    assert got["s50"] is None  # not on the file: no adjustment
    con.close()
