from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from canvass.geocode import display_address, normalize_street_names
from canvass.geocode._address import (
    address_key,
    correct_street_names,
    normalize_street,
    normalize_unit,
    normalize_units,
    parse_address_line,
    parse_house_number,
    parse_house_numbers,
    split_street_unit,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # suffixes
        ("Maple Street", "MAPLE ST"),
        ("MAPLE ST", "MAPLE ST"),
        ("Maple St.", "MAPLE ST"),
        ("maple str", "MAPLE ST"),
        ("Elm Avenue", "ELM AVE"),
        ("Elm Av", "ELM AVE"),
        ("Sunset Boulevard", "SUNSET BLVD"),
        ("Laurel Terrace", "LAUREL TER"),
        ("Prospect Heights", "PROSPECT HTS"),
        ("Chestnut Avenue Extension", "CHESTNUT AVE EXT"),
        # suffix words inside a name stay
        ("Park Avenue", "PARK AVE"),
        ("Court Street", "COURT ST"),
        ("West Farms Road", "W FARMS RD"),
        # directionals
        ("North Main Street", "N MAIN ST"),
        ("N. Main St.", "N MAIN ST"),
        ("Main Street North", "MAIN ST N"),
        ("North Street", "NORTH ST"),  # the directional is the name
        ("South St", "SOUTH ST"),
        # mount, saint, ordinals
        ("Mount Holyoke Drive", "MT HOLYOKE DR"),
        ("Mt. Tom Road", "MT TOM RD"),
        ("Saint Mary's Lane", "ST MARYS LN"),
        ("St. Mary's Ln", "ST MARYS LN"),
        ("First Avenue", "1ST AVE"),
        ("Twelfth St", "12TH ST"),
        # case, whitespace, punctuation
        ("  maple    street ", "MAPLE ST"),
        ("MAPLE\tST", "MAPLE ST"),
        ("O'Donnell Way", "ODONNELL WAY"),
        # village letters after the suffix (Northampton's MAIN ST F / MAIN ST L)
        ("MAIN ST F", "MAIN ST F"),
        ("Main Street L", "MAIN ST L"),
        (None, ""),
        (float("nan"), ""),
        ("", ""),
    ],
)
def test_normalize_street(raw: object, expected: str) -> None:
    assert normalize_street(raw) == expected


def test_spellings_meet() -> None:
    spellings = [
        "12 North Main Street",
        "12 N MAIN ST",
        "12 N. Main St.",
        "12 north main st",
    ]
    assert len({parse_address_line(s)["street"] for s in spellings}) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", ("12", "")),
        ("12A", ("12", "A")),
        ("12 A", ("12", "A")),
        ("12-A", ("12", "A")),
        ("12a", ("12", "A")),
        ("12 1/2", ("12", "1/2")),
        ("12½", ("12", "1/2")),
        ("0012", ("12", "")),
        ("12-14", ("12", "")),
        (" 7 ", ("7", "")),
        ("1 (HAYNES)", ("1", "")),
        ("nil", ("", "")),
        ("", ("", "")),
        (None, ("", "")),
        (12, ("12", "")),
    ],
)
def test_parse_house_number(raw: object, expected: tuple[str, str]) -> None:
    assert parse_house_number(raw) == expected


def test_parse_house_numbers_separate_suffix_column_wins() -> None:
    out = parse_house_numbers(
        pd.Series(["12A", "7", "3", None], dtype="object"),
        pd.Series(["", "1/2", None, "B"], dtype="object"),
    )
    assert out["number"].tolist() == ["12", "7", "3", ""]
    assert out["suffix"].tolist() == ["A", "1/2", "", "B"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("APT 2", "2"),
        ("Apt. #2", "2"),
        ("#2", "2"),
        ("# 2", "2"),
        ("UNIT 02", "2"),
        ("2", "2"),
        ("Suite 300", "300"),
        ("FL 3", "3"),
        ("3-B", "3B"),
        ("3B", "3B"),
        ("apt b", "B"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_unit(raw: object, expected: str) -> None:
    assert normalize_unit(raw) == expected


def test_vectorised_helpers_keep_index_and_handle_missing() -> None:
    idx = pd.Index(["a", "b", "c", "d"])
    names = pd.Series(
        ["Main St", None, np.nan, "main street"], index=idx, dtype="object"
    )
    out = normalize_street_names(names)
    assert out.index.equals(idx)
    assert out.tolist() == ["MAIN ST", "", "", "MAIN ST"]
    units = normalize_units(
        pd.Series(["APT 2", None, pd.NA, "#2"], index=idx, dtype="object")
    )
    assert units.tolist() == ["2", "", "", "2"]


@pytest.mark.parametrize(
    ("line", "number", "suffix", "street", "unit"),
    [
        ("12 1/2 N Main St Apt 3", "12", "1/2", "N MAIN ST", "3"),
        ("12A Maple Street #2", "12", "A", "MAPLE ST", "2"),
        ("12 Maple St, Northampton MA 01060", "12", "", "MAPLE ST", ""),
        ("99 Bridge Rd Unit 5", "99", "", "BRIDGE RD", "5"),
        ("7 Front St", "7", "", "FRONT ST", ""),
    ],
)
def test_parse_address_line(
    line: str, number: str, suffix: str, street: str, unit: str
) -> None:
    assert parse_address_line(line) == {
        "number": number,
        "suffix": suffix,
        "street": street,
        "unit": unit,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MAIN ST APT 2", ("MAIN ST", "2")),
        ("Main Street #3B", ("MAIN STREET", "3B")),
        ("MAIN ST", ("MAIN ST", "")),
        ("UNIT ST", ("UNIT ST", "")),  # a street named after the word is left alone
        ("FRONT ST", ("FRONT ST", "")),
    ],
)
def test_split_street_unit(raw: str, expected: tuple[str, str]) -> None:
    assert split_street_unit(raw) == expected


def test_address_key_and_display() -> None:
    number = pd.Series(["12", "12", "12", ""])
    suffix = pd.Series(["", "A", "1/2", ""])
    street = pd.Series(["MAPLE ST", "MAPLE ST", "MAPLE ST", "SMITH COLLEGE TALBOT"])
    assert address_key(number, suffix, street).tolist() == [
        "12|MAPLE ST",
        "12A|MAPLE ST",
        "12 1/2|MAPLE ST",
        "|SMITH COLLEGE TALBOT",
    ]
    assert display_address(number, suffix, street).tolist() == [
        "12 MAPLE ST",
        "12A MAPLE ST",
        "12 1/2 MAPLE ST",
        "SMITH COLLEGE TALBOT",
    ]


def test_correct_street_names() -> None:
    known = [
        "MAPLE ST",
        "ELM ST",
        "MAIN ST",
        "ROUND HILL RD",
        "MAIN ST L",
        "N FARMS RD",
    ]
    fixes = correct_street_names(
        [
            "MAPEL ST",
            "MAPLE",
            "ELM ST",
            "ROUND HL",
            "MAIN STERET L",
            "N FRMS",
            "ZEBRA WAY",
        ],
        known,
    )
    assert fixes == {
        "MAPEL ST": "MAPLE ST",  # transposed letters
        "MAPLE": "MAPLE ST",  # suffix left out
        "ROUND HL": "ROUND HILL RD",  # "HILL" is part of the name here
        "MAIN STERET L": "MAIN ST L",  # typo in the suffix
        "N FRMS": "N FARMS RD",
    }  # ELM ST is known; ZEBRA WAY is like nothing known


def test_correct_street_names_refuses_ambiguous_bases() -> None:
    # "MAPLE" could be Maple St or Maple Ave: no guess
    assert correct_street_names(["MAPLE"], ["MAPLE ST", "MAPLE AVE"]) == {}
    # HILL is part of the name, not a street type: Park Hill is not Park St
    assert correct_street_names(["PARK HL"], ["PARK ST"]) == {}
    # one letter from Verona St and from Vernon St: a tie is not guessed
    assert correct_street_names(["VERON ST"], ["VERONA ST", "VERNON ST"]) == {}


def test_correct_street_names_fewest_keying_errors_win() -> None:
    # a swapped pair of letters is one error from Eastern, two from Western
    fixes = correct_street_names(["ESATERN AVE"], ["EASTERN AVE", "WESTERN AVE"])
    assert fixes == {"ESATERN AVE": "EASTERN AVE"}
