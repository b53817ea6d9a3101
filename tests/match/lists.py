"""A small synthetic voter file and supporter list with known answers (made-up people).

Voters live in households across three zips, with birth dates. The list holds
supporters drawn from the voters with light errors (so that EM has matches to learn
from) plus hand-made cases, each with its expected outcome in ``CASES``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST = [
    "ALICE", "BEATRIZ", "CONOR", "DMITRI", "EUGENIA", "FARAH", "GUNNAR", "HALIMA",
    "IGNATIUS", "JOLENE", "KWAME", "LORETTA", "MALCOLM", "NADIA", "ORLANDO",
    "PRISCILLA", "QUENTIN", "ROSALIND", "SEBASTIAN", "TAMSIN", "ULYSSES", "VERONICA",
    "WINSTON", "XIMENA", "YEVGENY", "ZINNIA", "AUGUSTINE", "BRIDGET", "CORNELIUS",
    "DELPHINE",
]  # fmt: skip
LAST = [
    "ABERCROMBIE", "BALDASSARE", "CHIKWANHA", "DRUMMOND", "ESPINOZA", "FONTAINE",
    "GRZYBOWSKI", "HOLLINGSWORTH", "IRIZARRY", "JABLONSKI", "KILPATRICK", "LINDQVIST",
    "MCALISTER", "NAKAGAWA", "OYELARAN", "PAPADOPOULOS", "QUARTERMAINE", "RASMUSSEN",
    "SZCZEPANSKI", "TREMBLAY", "UMBERTO", "VANTERPOOL", "WHITTINGHAM", "XUEREB",
    "YOUNGBLOOD", "ZAWADZKI", "ARCENEAUX", "BOUCHARD", "CAVANAUGH", "DESJARDINS",
    "ELLINGSON", "FARQUHAR", "GOLDSWORTHY", "HAVERFORD", "INGLEBY", "JESPERSEN",
]  # fmt: skip
STREETS = ["MAPLE ST", "ELM ST", "OAK AVE", "PINE ST", "KING ST", "BIRCH RD"]
ZIPS = ["01060", "01062", "01063"]

#: supporter row label -> (expected status, expected voter id or "").
CASES = {
    "nickname": ("matched", "V_WILL"),
    "peggy_unit_missing": ("matched", "V_PEGGY"),
    "typo": ("matched", "V_TYPO"),
    "hyphen": ("matched", "V_HYPHEN"),
    "moved_with_dob": ("matched", "V_MOVED"),
    "father_or_son": ("review", ""),
    "spouse_not_registered": ("not_matched", ""),
    "unregistered_in_area": ("unmatched", ""),
    "out_of_area": ("unmatched", ""),
    "senior": ("matched", "V_SR"),
    "junior": ("matched", "V_JR"),
    "goes_by_first_name": ("matched", "V_MID"),
    "middle_name_housemate": ("not_matched", ""),
    "namesake_son": ("review", "V_NAMESAKE"),
    "namesake_son_born_later": ("not_matched", ""),
    "junior_record_without_suffix": ("matched", "V_JRDROP"),
    "mover_rare_name_birth_year": ("matched", "V_RARE"),
    "mover_common_name": ("not_matched", ""),
    "married_name_of_housemate": ("review", "V_WIFE"),
    "surname_of_nobody_at_door": ("not_matched", ""),
    "mover_nickname": ("matched", "V_DICK"),
    "mover_by_middle_name": ("matched", "V_HORATIO"),
    "mover_nickname_two_namesakes": ("not_matched", ""),
}

_SPECIAL = [
    ("V_WILL", "WILLIAM", "", "HARTWELL", "", "12", "MAPLE ST", "", "01060", "1970-03-04"),  # noqa: E501
    ("V_PEGGY", "MARGARET", "ANN", "OBRIEN", "", "40", "ELM ST", "3", "01060", "1955-07-21"),  # noqa: E501
    ("V_TYPO", "JONATHAN", "", "KOWALCZYK", "", "7", "OAK AVE", "", "01062", "1988-11-30"),  # noqa: E501
    ("V_HYPHEN", "ANA", "", "GARCIA-LOPEZ", "", "5", "PINE ST", "", "01062", "1992-05-09"),  # noqa: E501
    ("V_MOVED", "DEIRDRE", "", "FITZWILLIAM", "", "99", "KING ST", "", "01063", "1980-01-15"),  # noqa: E501
    ("V_DAD", "ROBERT", "", "PENNYWORTH", "", "8", "BIRCH RD", "", "01060", "1950-02-02"),  # noqa: E501
    ("V_SON", "ROBERT", "", "PENNYWORTH", "JR", "8", "BIRCH RD", "", "01060", "1981-06-06"),  # noqa: E501
    ("V_JOHN", "JOHN", "", "QUIMBY", "", "20", "ELM ST", "", "01060", "1966-09-09"),
    ("V_SR", "EDMUND", "", "HALVORSEN", "SR", "31", "OAK AVE", "", "01062", "1948-04-12"),  # noqa: E501
    ("V_JR", "EDMUND", "", "HALVORSEN", "JR", "31", "OAK AVE", "", "01062", "1979-10-03"),  # noqa: E501
    ("V_MID", "GEORGINA", "PRUDENCE", "ASHBY", "", "64", "PINE ST", "", "01063", "1971-08-19"),  # noqa: E501
    ("V_NAMESAKE", "CORNELIUS", "", "RAVENSWORTH", "", "15", "KING ST", "", "01063", "1952-03-03"),  # noqa: E501
    ("V_JRDROP", "AUGUSTINE", "", "WAVERLEY", "", "9", "ELM ST", "", "01062", "1983-05-05"),  # noqa: E501
    ("V_RARE", "THADDEUS", "", "VANDERSLOOT", "", "44", "PINE ST", "", "01063", "1962-08-08"),  # noqa: E501
    ("V_COMMON", "MALCOLM", "", "DRUMMOND", "", "210", "KING ST", "", "01063", "1977-02-02"),  # noqa: E501
    ("V_WIFE", "ALICE", "", "BLACKTHORNE", "", "52", "ELM ST", "", "01063", "1985-04-04"),  # noqa: E501
    ("V_HUSBAND", "BARNABY", "", "THORNQUIST", "", "52", "ELM ST", "", "01063", "1983-09-09"),  # noqa: E501
    ("V_DICK", "RICHARD", "", "THISTLEWAITE", "", "18", "OAK AVE", "", "01063", "1958-06-14"),  # noqa: E501
    ("V_HORATIO", "HORATIO", "LYSANDER", "QUILLFEATHER", "", "71", "KING ST", "", "01062", "1969-12-01"),  # noqa: E501
    ("V_WILLD1", "WILLIAM", "", "DRUMMOND", "", "140", "ELM ST", "", "01062", "1961-03-03"),  # noqa: E501
    ("V_WILLD2", "WILLIAM", "", "DRUMMOND", "", "266", "OAK AVE", "", "01063", "1990-10-10"),  # noqa: E501
]  # fmt: skip


def make_voters(n: int = 900, seed: int = 5) -> pd.DataFrame:
    """Return a canonical voters table (index ``voter_id``)."""
    rng = np.random.default_rng(seed)
    rows = []
    i = 0
    while len(rows) < n:
        size = int(rng.choice([1, 2, 3], p=[0.4, 0.45, 0.15]))
        last = LAST[int(rng.integers(len(LAST)))]
        street = STREETS[int(rng.integers(len(STREETS)))]
        number = str(int(rng.integers(100, 400)))
        zip5 = ZIPS[int(rng.integers(len(ZIPS)))]
        unit = str(int(rng.integers(1, 6))) if rng.random() < 0.2 else ""
        for _ in range(size):
            born = pd.Timestamp("1940-01-01") + pd.Timedelta(
                days=int(rng.integers(0, 365 * 60))
            )
            rows.append(
                (f"V{i:05d}", FIRST[int(rng.integers(len(FIRST)))], "", last, "",
                 number, street, unit, zip5, born.strftime("%Y-%m-%d"))
            )  # fmt: skip
            i += 1
    rows += _SPECIAL
    cols = ["voter_id", "first_name", "middle_name", "last_name", "name_suffix",
            "street_number", "street_name", "unit", "zip5", "birth_date"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=cols).drop_duplicates("voter_id")
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    frame["birth_year"] = frame["birth_date"].dt.year
    frame["street_number_suffix"] = ""
    frame["city"] = "NORTHAMPTON"
    frame["state"] = "MA"
    frame["party"] = np.where(np.arange(len(frame)) % 3 == 0, "U", "D")
    frame["status"] = "A"
    frame["precinct_id"] = np.where(frame["zip5"] == "01060", "1A", "2B")
    return frame.set_index("voter_id")


def make_list(voters: pd.DataFrame, seed: int = 9) -> tuple[pd.DataFrame, list[str]]:
    """Return an Action Network-style list and each row's label (case or voter id)."""
    rng = np.random.default_rng(seed)
    plain = voters[~voters.index.str.startswith("V_")]
    picks = plain.iloc[rng.choice(len(plain), size=220, replace=False)]
    rows, labels = [], []
    for vid, v in picks.iterrows():
        dob = v["birth_date"].strftime("%m/%d/%Y") if rng.random() < 0.4 else ""
        unit = f" Apt {v['unit']}" if v["unit"] and rng.random() < 0.5 else ""
        rows.append(
            {
                "first_name": str(v["first_name"]).title(),
                "last_name": str(v["last_name"]).title(),
                "email": f"{vid.lower()}@example.org",
                "zip_code": v["zip5"],
                "can2_user_address": f"{v['street_number']} {v['street_name'].title()}"
                + unit,
                "dob": dob,
                "can2_user_tags": "volunteer" if rng.random() < 0.1 else "",
            }
        )
        labels.append(str(vid))
    special = [
        ("nickname", "Bill", "Hartwell", "12 Maple Street", "01060", ""),
        ("peggy_unit_missing", "Peggy", "O'Brien", "40 Elm St", "01060", "07/21/1955"),
        ("typo", "Jonathan", "Kowalcyzk", "7 Oak Ave", "01062", "11/30/1988"),
        ("hyphen", "Ana", "Garcia", "5 Pine St", "01062", "1992"),
        ("moved_with_dob", "Deirdre", "Fitzwilliam", "3 Maple St", "01060", "01/15/1980"),  # noqa: E501
        ("father_or_son", "Robert", "Pennyworth", "8 Birch Rd", "01060", ""),
        ("spouse_not_registered", "Martha", "Quimby", "20 Elm St", "01060", ""),
        ("unregistered_in_area", "Zebulon", "Marchetti", "77 Cedar St", "01060", ""),
        ("out_of_area", "Xavier", "Outland", "1 Sunset Blvd", "90210", ""),
        ("senior", "Edmund", "Halvorsen Sr", "31 Oak Ave", "01062", ""),
        ("junior", "Edmund", "Halvorsen Jr.", "31 Oak Ave", "01062", ""),
        ("goes_by_first_name", "Georgina", "Ashby", "64 Pine St", "01063", ""),
        ("middle_name_housemate", "Prudence", "Ashby", "64 Pine St", "01063", ""),
        ("namesake_son", "Cornelius", "Ravensworth Jr", "15 King St", "01063", ""),
        ("namesake_son_born_later", "Cornelius", "Ravensworth Jr", "15 King St", "01063", "06/01/1986"),  # noqa: E501
        ("junior_record_without_suffix", "Augustine", "Waverley Jr", "9 Elm St", "01062", "05/05/1983"),  # noqa: E501
        ("mover_rare_name_birth_year", "Thaddeus", "Vandersloot", "17 Sunset Rd", "01062", "1962"),  # noqa: E501
        ("mover_common_name", "Malcolm", "Drummond", "388 Birch Rd", "01060", ""),
        ("married_name_of_housemate", "Alice", "Thornquist", "52 Elm St", "01063", ""),
        ("surname_of_nobody_at_door", "Alice", "Ravenscroft", "52 Elm St", "01063", ""),
        # moved to another zip and known by a nickname or the middle name: no rule
        # keyed on the first name's sound finds them (DICK / RICHARD)
        ("mover_nickname", "Dick", "Thistlewaite", "305 Birch Rd", "01060", "1958"),
        ("mover_by_middle_name", "Lysander", "Quillfeather", "12 Pine St", "01060", "1969"),  # noqa: E501
        # BILL DRUMMOND moved: the file has two WILLIAM DRUMMONDs, neither here
        ("mover_nickname_two_namesakes", "Bill", "Drummond", "377 Pine St", "01060", ""),  # noqa: E501
    ]  # fmt: skip
    for label, first, last, address, zip5, dob in special:
        rows.append(
            {
                "first_name": first,
                "last_name": last,
                "email": f"{label}@example.org",
                "zip_code": zip5,
                "can2_user_address": address,
                "dob": dob,
                "can2_user_tags": "Volunteer, donor" if label == "nickname" else "",
            }
        )
        labels.append(label)
    rows.append(dict.fromkeys(rows[0], ""))  # blank row: not a record
    rows[-1]["email"] = "nobody@example.org"  # e-mail only: rejected, no name
    labels.append("no_name")
    return pd.DataFrame(rows), labels
