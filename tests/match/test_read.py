"""Reading supporter lists: tools' headers, a column mapping, XLSX, rejects."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from canvass.config import PlanConfig
from canvass.errors import ConfigError, InputError
from canvass.match import read_supporters
from canvass.match._names import (
    clean_first,
    email_key,
    first_keys,
    phone_key,
    soundex,
    split_suffix,
)


def _config(folder: Path, files: list[str], **extra) -> PlanConfig:
    return PlanConfig.from_dict(
        {"supporters": {"files": files, **extra}, "base_dir": str(folder)}
    )


def test_actblue_export_is_read_and_tagged_donor(tmp_path: Path):
    pd.DataFrame(
        {
            "Receipt ID": ["A1", "A2"],
            "Donor First Name": ["Ann", "José"],
            "Donor Last Name": ["Smith Jr.", "Núñez-García"],
            "Donor Addr1": ["12 N. Main Street Apt 4", "5 Elm St"],
            "Donor City": ["Northampton", "Amherst"],
            "Donor ZIP": ["01060-1234", "1002"],
            "Donor Email": ["ANN@Example.org", "not an email"],
            "Donor Phone": ["(413) 555-0100", "555"],
        }
    ).to_csv(tmp_path / "actblue.csv", index=False)
    read = read_supporters(_config(tmp_path, ["actblue.csv"]))
    rows = read.supporters
    assert read.report["files"][0]["tool"] == "actblue"
    assert list(rows["line"]) == [2, 3]
    first = rows.iloc[0]
    assert (first["first_name"], first["last_name"], first["name_suffix"]) == (
        "ANN",
        "SMITH",
        "JR",
    )
    assert (first["street_number"], first["street_name"], first["unit"]) == (
        "12",
        "N MAIN ST",
        "4",
    )
    assert first["zip5"] == "01060"
    assert first["email"] == "ann@example.org"
    assert first["phone"] == "4135550100"
    assert first["is_donor"]
    second = rows.iloc[1]
    assert second["first_name"] == "JOSE"
    assert second["last_name"] == "NUNEZ GARCIA"
    assert second["zip5"] == "01002"  # Excel dropped the leading zero
    assert second["email"] == ""
    assert second["phone"] == ""


def test_nationbuilder_xlsx_with_tags_and_birth_dates(tmp_path: Path):
    pytest.importorskip("openpyxl")
    pd.DataFrame(
        {
            "nationbuilder_id": ["1", "2", "3"],
            "first_name": ["Peggy", "Bill", ""],
            "last_name": ["Ortiz", "Chen", ""],
            "primary_address1": ["1 Oak Ave", "", ""],
            "primary_zip": ["01060", "01060", ""],
            "born_at": ["1961-03-05", "1975", ""],
            "tag_list": ["Volunteer, Canvasser", "donor", ""],
            "email": ["", "", "x@example.org"],
        }
    ).to_excel(tmp_path / "nb.xlsx", index=False)
    read = read_supporters(_config(tmp_path, ["nb.xlsx"]))
    rows = read.supporters
    assert read.report["files"][0]["tool"] == "nationbuilder"
    assert rows["supporter_id"].tolist() == ["1", "2"]
    assert rows[["birth_year", "birth_month", "birth_day"]].values.tolist() == [
        [1961, 3, 5],
        [1975, 0, 0],
    ]
    assert rows["is_volunteer"].tolist() == [True, False]
    assert rows["is_donor"].tolist() == [False, True]
    # rows in = kept + rejected
    assert read.report["files"][0]["rows"] == len(rows) + len(read.rejects)
    assert read.rejects["reason"].tolist() == ["no_name"]


def test_column_mapping_and_full_name(tmp_path: Path):
    (tmp_path / "list.csv").write_text(
        "Who,Where,Postcode,Born\n"
        '"Ortiz, Peggy",1 Oak Ave,01060,3/5/1961\n'
        "Bill Chen,,,\n",
        encoding="utf-8",
    )
    config = _config(
        tmp_path,
        ["list.csv"],
        columns={"full_name": "Who", "address": "Where", "zip5": "Postcode",
                 "birth_date": "Born"},
    )  # fmt: skip
    read = read_supporters(config)
    rows = read.supporters
    assert rows.iloc[0][["first_name", "last_name"]].tolist() == ["PEGGY", "ORTIZ"]
    assert rows.iloc[0]["birth_month"] == 3
    assert read.rejects["reason"].tolist() == ["name_only"]


def test_bad_inputs_are_one_line_errors(tmp_path: Path):
    with pytest.raises(InputError, match=r"missing\.csv"):
        read_supporters(_config(tmp_path, ["missing.csv"]))
    with pytest.raises(InputError, match="no file matches"):
        read_supporters(_config(tmp_path, ["lists/*.csv"]))
    (tmp_path / "x.csv").write_text("email,zip\na@b.org,01060\n")
    with pytest.raises(InputError, match="no name columns"):
        read_supporters(_config(tmp_path, ["x.csv"]))
    with pytest.raises(InputError, match="names column 'Nope'"):
        read_supporters(_config(tmp_path, ["x.csv"], columns={"first_name": "Nope"}))
    with pytest.raises(ConfigError, match="unknown key"):
        _config(tmp_path, ["x.csv"], columns={"shoe_size": "x"})
    with pytest.raises(ConfigError, match="review_probability"):
        _config(tmp_path, ["x.csv"], match_probability=0.5, review_probability=0.8)
    with pytest.raises(ConfigError, match="no supporter list"):
        PlanConfig.from_dict({"target": {"universe": "supporters_primary"}})


def test_compressed_list_and_unreadable_lines(tmp_path: Path):
    import gzip

    text = (
        "first_name,last_name,zip_code\n"
        "Ann,Ortiz,01060\n"
        'Bob,"Chen",01060,extra\n'
        ",,\n"
        "Cy,Diaz,01062\n"
    )
    with gzip.open(tmp_path / "list.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(text)
    read = read_supporters(_config(tmp_path, ["list.csv.gz"]))
    assert read.supporters["first_name"].tolist() == ["ANN", "CY"]
    assert read.supporters["line"].tolist() == [2, 5]
    assert read.rejects["line"].tolist() == [3]
    assert read.rejects["reason"].str.startswith("unreadable").all()
    file = read.report["files"][0]
    assert file["rows"] == len(read.supporters) + len(read.rejects) + file["blank_rows"]


def test_name_helpers():
    assert soundex("ROBERT") == soundex("RUPERT") == "R163"
    assert soundex("ASHCRAFT") == "A261"
    assert set(first_keys("BILL")) & set(first_keys("WILLIAM"))
    assert set(first_keys("PEGGY")) & set(first_keys("MARGARET"))
    assert not set(first_keys("JOHN")) & set(first_keys("MARY"))
    assert clean_first("Dr. Ann-Marie") == "ANN"
    assert split_suffix("de la Cruz III") == ("DE LA CRUZ", "III")
    assert phone_key("+1 413.555.0100") == "4135550100"
    assert email_key(" Bob@Example.ORG ") == "bob@example.org"


#: The header of ActBlue's contributions CSV as it is exported (from the public test
#: fixture of move-coop/parsons, test/test_actblue/test_csv_data.csv): 90 columns,
#: `Reserved` several times, and columns that look like ours but are not the donor's
#: (`Mobile` is t/f for a donation made on a phone, `Employer ZIP`, `Shipping Zip`).
ACTBLUE_LINE = (
    "Receipt ID,Date,Amount,Recurring Total Months,Recurrence Number,Recipient,"
    "Fundraising Page,Fundraising Partner,Reference Code 2,Reference Code,"
    "Donor First Name,Donor Last Name,Donor Addr1,Donor Addr2,Donor City,Donor State,"
    "Donor ZIP,Donor Country,Donor Occupation,Donor Employer,Donor Email,Donor Phone,"
    "New Express Signup,Comments,Check Number,Check Date,Employer Addr1,"
    "Employer Addr2,Employer City,Employer State,Employer ZIP,Employer Country,"
    "Donor ID,Fundraiser ID,Fundraiser Recipient ID,Fundraiser Contact Email,"
    "Fundraiser Contact First Name,Fundraiser Contact Last Name,Partner ID,"
    "Partner Contact Email,Partner Contact First Name,Partner Contact Last Name,"
    "Reserved,Lineitem ID,AB Test Name,AB Variation,Recipient Committee,Recipient ID,"
    "Recipient Gov ID,Recipient Election,Reserved,Payment ID,Payment Date,"
    "Disbursement ID,Disbursement Date,Recovery ID,Recovery Date,Refund ID,"
    "Refund Date,Fee,Recur Weekly,ActBlue Express Lane,Reserved,Card Type,Reserved,"
    "Reserved,Reserved,Reserved,Mobile,Recurring Upsell Shown,"
    "Recurring Upsell Succeeded,Double Down,Smart Recurring,Monthly Recurring Amount,"
    "Apple Pay,Card Replaced by Account Updater,ActBlue Express Donor,"
    "Custom Field 1 Label,Custom Field 1 Value,Donor US Passport Number,"
    "Text Message Opt In,Gift Identifier,Gift Declined,Shipping Addr1,Shipping City,"
    "Shipping State,Shipping Zip,Shipping Country,Weekly Recurring Amount,"
    "Smart Boost Amount,Smart Boost Shown"
)
ACTBLUE_HEADER = ACTBLUE_LINE.split(",")


def test_actblue_real_export_header(tmp_path: Path):
    row = dict.fromkeys(ACTBLUE_HEADER, "")
    row.update(
        {
            "Receipt ID": "AB1",
            "Donor First Name": "Ann",
            "Donor Last Name": "Smith",
            "Donor Addr1": "12 Main St",
            "Donor Addr2": "Apt 4",
            "Donor City": "Northampton",
            "Donor State": "MA",
            "Donor ZIP": "01060",
            "Donor Email": "ann@example.org",
            "Donor Phone": "4135550100",
            "Employer ZIP": "02906",
            "Shipping Zip": "99999",
            "Mobile": "t",
            "Fundraiser Contact First Name": "Zed",
        }
    )
    line = ",".join(row[h] if h != "Reserved" else "" for h in ACTBLUE_HEADER)
    (tmp_path / "actblue.csv").write_text(
        ",".join(ACTBLUE_HEADER) + "\n" + line + "\n", encoding="utf-8"
    )
    read = read_supporters(_config(tmp_path, ["actblue.csv"]))
    assert read.report["files"][0]["tool"] == "actblue"
    first = read.supporters.iloc[0]
    assert (first["first_name"], first["last_name"]) == ("ANN", "SMITH")
    assert (first["street_number"], first["unit"], first["zip5"]) == (
        "12",
        "4",
        "01060",
    )
    assert first["phone"] == "4135550100"  # the donor's phone, not `Mobile` (t/f)
    assert first["email"] == "ann@example.org"
    assert first["is_donor"]
