"""Tests for the demo town's names: US 1990 census frequencies from their own stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from canvass import schema
from canvass.demo import DemoTown, make_demo_town
from canvass.demo._names import _parse, census_names
from canvass.demo._people import HouseholdAddress, make_population
from canvass.errors import ConfigError

NAME_COLUMNS = [schema.LAST_NAME, schema.FIRST_NAME, schema.MIDDLE_NAME]


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> DemoTown:
    """The demo town as `make demo` makes it: 5,000 voters, seed 7."""
    return make_demo_town(tmp_path_factory.mktemp("names") / "town", seed=7)


def _file_voters(town: DemoTown) -> pd.DataFrame:
    v = pd.read_csv(town.voters[0], sep="|", dtype=str, keep_default_na=False)
    return v.iloc[:, :-1]


def _population(
    n: int, seed: int, names_seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    homes = [
        HouseholdAddress("MAIN ST", str(i + 1), "", "", "01099", "1", "A")
        for i in range(n)
    ]
    return make_population(
        homes,
        n,
        np.random.default_rng(seed),
        names_rng=np.random.default_rng(names_seed),
    )


def test_demo_town_full_names_are_as_varied_as_a_real_towns(town: DemoTown) -> None:
    v = _file_voters(town)
    assert len(v) == 5000
    shared = v.duplicated(["First Name", "Last Name"], keep=False).mean()
    # the old hand lists (72 surnames, 32-34 first names) gave 66 %
    assert shared < 0.10
    assert v["Last Name"].nunique() > 1500
    assert v["First Name"].nunique() > 700


def test_demo_town_names_come_from_the_census_lists(town: DemoTown) -> None:
    v = _file_voters(town)
    last = set(census_names("last").names)
    first = set(census_names("male").names) | set(census_names("female").names)
    assert v["Last Name"].isin(last).all()
    assert v["First Name"].isin(first).all()
    middle = v["Middle Name"]
    assert middle[middle != ""].isin(first).all()
    assert 0.5 < (middle != "").mean() < 0.8
    for col in ("Last Name", "First Name", "Middle Name"):
        assert (v[col] == v[col].str.upper()).all()
    # the most common census surnames are the most common ones in town too
    top = v["Last Name"].value_counts().index[:40]
    assert {"SMITH", "JOHNSON", "WILLIAMS"} & set(top)


def test_first_names_follow_the_voters_sex() -> None:
    voters, _ = _population(3000, seed=1, names_seed=2)
    female = voters["gender"] == "F"
    f_names = set(census_names("female").names)
    m_names = set(census_names("male").names)
    assert voters.loc[female, schema.FIRST_NAME].isin(f_names).all()
    assert voters.loc[~female, schema.FIRST_NAME].isin(m_names).all()
    mid = voters[schema.MIDDLE_NAME]
    assert mid[female & (mid != "")].isin(f_names).all()
    assert mid[~female & (mid != "")].isin(m_names).all()


def test_names_have_their_own_stream_and_move_nothing_else() -> None:
    v1, h1 = _population(3000, seed=5, names_seed=1)
    v2, h2 = _population(3000, seed=5, names_seed=2)
    pd.testing.assert_frame_equal(h1, h2)
    pd.testing.assert_frame_equal(
        v1.drop(columns=NAME_COLUMNS), v2.drop(columns=NAME_COLUMNS)
    )
    assert (v1[schema.LAST_NAME] != v2[schema.LAST_NAME]).mean() > 0.9
    assert (v1[schema.FIRST_NAME] != v2[schema.FIRST_NAME]).mean() > 0.9

    # who carries the household's surname is decided by the main stream alone
    def same_as_first(v: pd.DataFrame) -> np.ndarray:
        first = v.groupby("household")[schema.LAST_NAME].transform("first")
        return np.asarray(v[schema.LAST_NAME] == first)

    s1, s2 = same_as_first(v1), same_as_first(v2)
    assert (s1 == s2).mean() > 0.99  # two own surnames can still coincide by chance
    later = np.asarray(v1.groupby("household").cumcount() > 0)
    assert 0.5 < s1[later].mean() < 0.9  # partners 80 %, children, not roommates


def test_draws_follow_the_census_frequencies() -> None:
    last = census_names("last")
    draws = last.draw(np.random.default_rng(0), 200_000)
    # SMITH is 1.006 % of the 1990 population, 90.483 % of which the file lists
    assert (draws == "SMITH").mean() == pytest.approx(1.006 / 90.483, rel=0.08)
    assert len(np.unique(draws)) > 10_000


def test_a_broken_census_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"dist\.x line 2: expected") as err:
        _parse("SMITH 1.006 1.006 1\nJONES 0.6\n", "dist.x")
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="goes down"):
        _parse("SMITH 1.006 1.006 1\nJONES 0.6 0.5 2\n", "dist.x")
    with pytest.raises(ConfigError, match="no names"):
        _parse("\n", "dist.x")
