"""Tests of universes, suppressions, expected extra votes, door values and precincts."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from canvass import schema
from canvass.config import PlanConfig
from canvass.errors import InputError
from canvass.score import election_calendar
from canvass.target import door_values, lift_curve, precinct_table, select_targets

SP, SE, PE = schema.STATE_PRIMARY, schema.STATE_ELECTION, schema.PRESIDENTIAL_ELECTION
ELECTIONS = [
    ("2018-09-04", SP),
    ("2018-11-06", SE),
    ("2020-09-01", SP),
    ("2020-11-03", PE),
    ("2022-09-06", SP),
    ("2022-11-08", SE),
    ("2024-09-03", SP),
    ("2024-11-05", PE),
]


def _scored(p_primary: list[float], **columns: list[object]) -> pd.DataFrame:
    """Scored voters V0..Vn-1, one door each, registered long ago."""
    n = len(p_primary)
    data: dict[str, object] = {c: [""] * n for c in schema.VOTER_COLUMNS}
    data.update(
        {
            schema.STATUS: ["A"] * n,
            schema.PARTY: ["D"] * n,
            schema.STREET_NUMBER: [str(i + 1) for i in range(n)],
            schema.STREET_NAME: ["MAIN ST"] * n,
            schema.REGISTRATION_DATE: [pd.Timestamp("2000-01-01")] * n,
            schema.BIRTH_DATE: [pd.Timestamp("1970-01-01")] * n,
            schema.PRECINCT_ID: ["1A"] * n,
            schema.DOOR_ID: [f"D{i}" for i in range(n)],
            "p_state_primary": p_primary,
            "p_state_election": p_primary,
            schema.IS_NEW_REGISTRANT: [False] * n,
        }
    )
    data.update(columns)
    return pd.DataFrame(
        data, index=pd.Index([f"V{i}" for i in range(n)], name=schema.VOTER_ID)
    )


def _history(votes: dict[str, list[int]]) -> pd.DataFrame:
    """Votes per voter id as indices into ELECTIONS; always includes every election."""
    rows = [("VX", d, t) for d, t in ELECTIONS]
    rows += [
        (v, ELECTIONS[i][0], ELECTIONS[i][1]) for v, idx in votes.items() for i in idx
    ]
    return pd.DataFrame(
        {
            schema.VOTER_ID: [r[0] for r in rows],
            schema.ELECTION_ID: [f"{r[1]}_{r[2]}" for r in rows],
            schema.ELECTION_DATE: pd.to_datetime([r[1] for r in rows]),
            schema.ELECTION_TYPE: [r[2] for r in rows],
        }
    )


def _config(universe: dict[str, object], **extra: object) -> PlanConfig:
    raw: dict[str, object] = {
        "universes": {"u": universe},
        "target": {"universe": "u", **extra.pop("target", {})},  # type: ignore[dict-item]
    }
    raw.update(extra)
    return PlanConfig.from_dict(raw)


def _run(
    voters: pd.DataFrame, config: PlanConfig, votes: dict[str, list[int]] | None = None
):
    hist = _history(votes or {})
    return select_targets(voters, hist, election_calendar(hist, config), config)


# --- universes ------------------------------------------------------------------


def test_ma_unenrolled_may_take_a_democratic_ballot() -> None:
    voters = _scored([0.3] * 4, party=["D", "U", "R", "J"])
    out = _run(
        voters,
        _config({"kind": "band", "min_p": 0.1, "max_p": 0.6, "parties": ["D", "U"]}),
    )
    assert out[schema.IS_TARGET].tolist() == [True, True, False, False]
    assert out["universe"].tolist() == ["u", "u", "", ""]


def test_band_universe_bounds() -> None:
    voters = _scored([0.05, 0.2, 0.4, 0.6, 0.61, 0.95])
    out = _run(voters, _config({"kind": "band", "min_p": 0.2, "max_p": 0.6}))
    assert out[schema.IS_TARGET].tolist() == [False, True, True, True, False, False]


def test_low_propensity_universe_by_score() -> None:
    voters = _scored([0.05, 0.3, 0.5, 0.9])
    out = _run(voters, _config({"kind": "low_propensity", "max_p": 0.4}))
    assert out[schema.IS_TARGET].tolist() == [True, True, False, False]


def test_low_propensity_rule_at_most_1_of_last_4_primaries() -> None:
    voters = _scored([0.5] * 4)
    # V0 voted in 0 primaries, V1 in 1, V2 in 2, V3 in 4 (indices of the primaries)
    votes = {"V1": [6], "V2": [4, 6], "V3": [0, 2, 4, 6]}
    config = _config({"kind": "low_propensity", "max_voted": 1, "of_last": 4})
    out = _run(voters, config, votes)
    assert out[schema.IS_TARGET].tolist() == [True, True, False, False]


def test_drop_off_universe_is_presidential_only_voters() -> None:
    voters = _scored([0.3] * 4)
    votes = {"V0": [3, 7], "V1": [3, 5, 7], "V2": [], "V3": [7]}
    config = _config({"kind": "drop_off"})
    out = _run(voters, config, votes)
    assert out[schema.IS_TARGET].tolist() == [True, False, False, True]


def test_new_registrants_universe_and_exclusion_from_bands() -> None:
    voters = _scored([0.3, 0.3, 0.3], is_new_registrant=[True, False, True])
    out = _run(voters, _config({"kind": "new_registrants"}))
    assert out[schema.IS_TARGET].tolist() == [True, False, True]
    band = _run(voters, _config({"kind": "band", "min_p": 0.2, "max_p": 0.6}))
    assert band[schema.IS_TARGET].tolist() == [False, True, False]
    both = {"kind": "band", "min_p": 0.2, "max_p": 0.6, "include_new_registrants": True}
    assert _run(voters, _config(both))[schema.IS_TARGET].all()


# --- suppressions ---------------------------------------------------------------


def test_status_suppressions_with_reasons() -> None:
    voters = _scored(
        [0.3] * 6,
        status=["A", "I", "M", "D", "A", "A"],
        status_reason=["", "", "", "", "REMOVED - DECEASED", "MOVED FROM COUNTY"],
    )
    out = _run(voters, _config({"kind": "band", "min_p": 0.1, "max_p": 0.6}))
    assert out[schema.SUPPRESSED].tolist() == [
        "", "inactive", "moved", "deceased", "deceased", "moved",
    ]  # fmt: skip
    assert out[schema.IS_TARGET].tolist() == [True] + [False] * 5
    assert (out.loc[~out[schema.IS_TARGET], schema.LIFT] == 0).all()


def test_suppressions_can_be_switched_off() -> None:
    voters = _scored([0.3, 0.3], status=["A", "I"])
    config = _config(
        {"kind": "band", "min_p": 0.1, "max_p": 0.6}, target={"suppress": []}
    )
    assert _run(voters, config)[schema.IS_TARGET].all()


def test_moved_and_deceased_columns() -> None:
    voters = _scored([0.3] * 3, moved=[False, True, False], deceased=["", "", "Y"])
    out = _run(voters, _config({"kind": "band", "min_p": 0.1, "max_p": 0.6}))
    assert out[schema.SUPPRESSED].tolist() == ["", "moved", "deceased"]


def test_do_not_knock_by_voter_door_and_address(tmp_path: Path) -> None:
    voters = _scored([0.3] * 5)
    (tmp_path / "dnk.csv").write_text(
        "voter_id,door_id,address\nV0,,\n,D1,\n,,3  main st\n"
    )
    config = _config(
        {"kind": "band", "min_p": 0.1, "max_p": 0.6},
        inputs={"do_not_knock": "dnk.csv"},
        base_dir=str(tmp_path),
    )
    out = _run(voters, config)
    assert out[schema.SUPPRESSED].tolist() == ["do_not_knock"] * 3 + ["", ""]


def test_do_not_knock_file_problems_are_explained(tmp_path: Path) -> None:
    voters = _scored([0.3])
    config = _config(
        {"kind": "band", "min_p": 0.1, "max_p": 0.6},
        inputs={"do_not_knock": "missing.csv"},
        base_dir=str(tmp_path),
    )
    with pytest.raises(InputError, match="do-not-knock file not found"):
        _run(voters, config)
    (tmp_path / "bad.csv").write_text("name\nX\n")
    config = _config(
        {"kind": "band", "min_p": 0.1, "max_p": 0.6},
        inputs={"do_not_knock": "bad.csv"},
        base_dir=str(tmp_path),
    )
    with pytest.raises(InputError, match="needs a column named one of"):
        _run(voters, config)


@pytest.mark.parametrize("kind", ["gzip", "zip", "bz2", "xz"])
def test_do_not_knock_list_compressed(tmp_path: Path, kind: str) -> None:
    import bz2
    import gzip
    import lzma
    import zipfile

    text = "voter_id;address\r\nV0;\r\n;3  MAIN ST\r\n".encode("cp1252")
    path = tmp_path / "dnk.bin"  # found by content, not by name
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "two files: the member is named")
            zf.writestr("dnk.csv", text)
        name = "dnk.bin:*.csv"
    else:
        pack = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
        path.write_bytes(pack[kind](text))
        name = "dnk.bin"
    config = _config(
        {"kind": "band", "min_p": 0.1, "max_p": 0.6},
        inputs={"do_not_knock": name},
        base_dir=str(tmp_path),
    )
    out = _run(_scored([0.3] * 5), config)
    assert (
        out[schema.SUPPRESSED].tolist()
        == ["do_not_knock", "", "do_not_knock"] + [""] * 2
    )
    path.write_bytes(path.read_bytes()[:-12])  # truncated download
    with pytest.raises(InputError, match="truncated or corrupt") as info:
        _run(_scored([0.3]), config)
    assert "dnk.bin" in str(info.value)
    assert "\n" not in str(info.value)


def test_do_not_knock_header_only_and_broken_lines(tmp_path: Path) -> None:
    (tmp_path / "dnk.csv").write_text("voter_id,address\n")
    config = _config(
        {"kind": "band", "min_p": 0.1, "max_p": 0.6},
        inputs={"do_not_knock": "dnk.csv"},
        base_dir=str(tmp_path),
    )
    assert _run(_scored([0.3] * 2), config)[schema.SUPPRESSED].tolist() == ["", ""]
    (tmp_path / "dnk.csv").write_text("voter_id,address\nV0,\nV1,1 A ST,extra\n")
    with pytest.raises(InputError, match="line 3 of the do-not-knock file has 3"):
        _run(_scored([0.3] * 2), config)


def test_unscored_voters_are_refused() -> None:
    voters = _scored([0.3]).drop(columns=["p_state_primary"])
    with pytest.raises(InputError, match="not scored"):
        _run(voters, PlanConfig())


# --- lift and doors -------------------------------------------------------------


def test_default_lift_curve_peaks_in_the_middle() -> None:
    config = PlanConfig()
    p = np.linspace(0, 1, 101)
    lift = lift_curve(p, config)
    peak = p[np.argmax(lift)]
    assert 0.35 <= peak <= 0.65
    assert lift[5] < 0.25 * lift.max()  # under 10 %: near zero
    assert lift[0] == 0
    assert lift[-1] == 0
    assert (np.diff(lift[: np.argmax(lift)]) >= 0).all()
    assert (np.diff(lift[np.argmax(lift) :]) <= 0).all()
    assert (
        lift.max() <= config.lift.contact_rate * max(config.lift.curve_effect) + 1e-12
    )
    assert lift_curve(np.array([np.nan]), config)[0] == 0


def test_custom_lift_curve() -> None:
    config = PlanConfig.from_dict(
        {"lift": {"contact_rate": 0.5, "curve_p": [0, 1], "curve_effect": [0.1, 0.1]}}
    )
    assert np.allclose(lift_curve(np.array([0.2, 0.9]), config), 0.05)


def test_door_values_sum_targets_lift() -> None:
    voters = _scored([0.3, 0.5, 0.9, 0.4], door_id=["D0", "D0", "D1", "D2"])
    out = _run(voters, _config({"kind": "band", "min_p": 0.1, "max_p": 0.6}))
    doors = gpd.GeoDataFrame(
        {
            schema.ADDRESS: ["1 MAIN ST", "2 MAIN ST", "3 MAIN ST", "4 MAIN ST"],
            schema.PRECINCT_ID: ["1A", "1A", "1B", "1B"],
        },
        geometry=[Point(0, 0), Point(10, 0), Point(600, 0), Point(610, 0)],
        index=pd.Index(["D0", "D1", "D2", "D3"], name=schema.DOOR_ID),
        crs=32618,
    )
    before = doors.copy()
    valued = door_values(doors, out)
    assert valued[schema.N_TARGETS].tolist() == [2, 0, 1, 0]
    assert valued[schema.VALUE].sum() == pytest.approx(out[schema.LIFT].sum())
    assert valued.loc["D0", schema.VALUE] == pytest.approx(
        out.loc[["V0", "V1"], schema.LIFT].sum()
    )
    pd.testing.assert_frame_equal(doors, before)

    precincts = gpd.GeoDataFrame(
        {
            schema.WARD: ["1", "1"],
            schema.PRECINCT: ["A", "B"],
            schema.NAME: ["1A", "1B"],
        },
        geometry=[box(-100, -100, 400, 400), box(400, -100, 1400, 400)],
        index=pd.Index(["1A", "1B"], name=schema.PRECINCT_ID),
        crs=32618,
    )
    hist = _history({"V0": [7], "V1": [7], "V2": [6, 7]})
    table = precinct_table(
        precincts, valued, out, hist, election_calendar(hist, PlanConfig())
    )
    assert table["voters"].tolist() == [3, 1]
    assert table["targets"].tolist() == [2, 1]
    assert table["expected_extra_votes"].sum() == pytest.approx(
        out[schema.LIFT].sum(), abs=1e-3
    )
    assert table["rank"].tolist() == [1, 2]
    assert table.loc["1A", "area_km2"] == pytest.approx(0.25)
    assert table.loc["1A", "targets_per_km2"] == pytest.approx(8.0)
    assert table.loc["1A", "turnout_presidential_election"] == pytest.approx(1.0)
    assert table.loc["1A", "turnout_state_primary"] == pytest.approx(1 / 3, abs=1e-3)
    assert table.loc["1B", "turnout_state_primary"] == pytest.approx(0.0)
    assert table.attrs["turnout_elections"][PE] == "2024 Presidential Election"
    # mean P(vote) of the precinct's voters (V0, V1, V2 in 1A; V3 in 1B)
    assert table.loc["1A", "expected_p_state_primary"] == pytest.approx(
        (0.3 + 0.5 + 0.9) / 3, abs=1e-3
    )
    assert table.loc["1B", "expected_p_state_election"] == pytest.approx(0.4)


def test_select_targets_does_not_mutate() -> None:
    voters = _scored([0.3, 0.7])
    before = voters.copy()
    out = _run(voters, _config({"kind": "band", "min_p": 0.1, "max_p": 0.6}))
    pd.testing.assert_frame_equal(voters, before)
    assert out.index.equals(voters.index)
    assert out[schema.LIFT].iloc[0] > 0


def test_rule_counts_only_elections_the_voter_could_vote_in() -> None:
    voters = _scored(
        [0.5] * 4,
        registration_date=[
            pd.Timestamp("2000-01-01"),
            pd.Timestamp("2021-01-01"),
            pd.Timestamp("2023-01-01"),
            pd.Timestamp("2000-01-01"),
        ],
    )
    votes = {"V0": [0, 2], "V2": [6], "V3": [4]}
    config = _config({"kind": "low_propensity", "max_voted": 0, "of_last": 2})
    out = _run(voters, config, votes)
    assert out[schema.IS_TARGET].tolist() == [True, True, False, False]
