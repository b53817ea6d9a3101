"""Write canonical voter and history tables as MA VOT/ANP/ACP files (private).

Re-exported as :func:`canvass.demo.write_ma_voter_files`. The layout follows
``shared/data/voter_file_layouts/MA_voter_files_layout.md``: pipe-delimited, a header
row, a trailing empty field on every line (header included), dates ``MM/DD/YYYY``,
everything written as text so ids and zip codes keep their leading zeros.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import pandas as pd

from .. import schema
from ..errors import InputError

__all__ = [
    "ACP_COLUMNS",
    "ANP_COLUMNS",
    "MA_ELECTION_TYPES",
    "VOT_COLUMNS",
    "write_ma_voter_files",
]

VOT_COLUMNS: Final = (
    "Record Sequence Number",
    "Voter Id Number",
    "Last Name",
    "First Name",
    "Middle Name",
    "Title",
    "Residential Address - Street Number",
    "Residential Address - Street Suffix",
    "Residential Address - Street Name",
    "Residential Address - Apartment Number",
    "Residential Address - Zip Code",
    "Mailing Address - Street Number and Name",
    "Mailing Address - Apartment Number",
    "Mailing Address - City or Town",
    "Mailing Address - State",
    "Mailing Address - Zip Code",
    "Party Affiliation",
    "Gender",
    "Date of Birth",
    "Date of Registration",
    "Ward Number",
    "Precinct Number",
    "Congressional District Number",
    "Senatorial District Number",
    "State Representative District",
    "Voter Status",
)
_HISTORY_HEAD: Final = (
    "Party Affiliation",
    "Voter Id Number",
    "Last Name",
    "First Name",
    "Middle Name",
    "Residential Address - Street Number",
    "Residential Address - Street Suffix",
    "Residential Address - Street Name",
    "Residential Address - Apartment Number",
    "Residential Address - Zip Code",
    "Type of Election",
    "Election Date",
)
_HISTORY_TAIL: Final = (
    "City/ Town Name",
    "City/ Town Indicator",
    "City/ Town Code Assigned Number",
    "Voter Title",
    "Ward Number",
    "Precinct Number",
    "Voter Status",
    "Mailing Address - Street Number/Name",
    "Mailing Address - Apartment Number",
    "Mailing Address - City/Town",
    "Mailing Address - State",
    "Mailing Address - Zip Code",
)
ANP_COLUMNS: Final = (*_HISTORY_HEAD, *_HISTORY_TAIL)
ACP_COLUMNS: Final = (*_HISTORY_HEAD, "Party Voted", *_HISTORY_TAIL)

#: Canonical election type -> (file, "Type of Election" as the state writes it).
MA_ELECTION_TYPES: Final[dict[str, tuple[str, str]]] = {
    schema.STATE_ELECTION: ("ANP", "STATE ELECTION"),
    schema.PRESIDENTIAL_ELECTION: ("ANP", "STATE ELECTION"),
    schema.MUNICIPAL: ("ANP", "CITY ELECTION"),
    schema.SPECIAL: ("ANP", "SPECIAL STATE ELECTION"),
    schema.STATE_PRIMARY: ("ACP", "STATE PRIMARY"),
    schema.PRESIDENTIAL_PRIMARY: ("ACP", "PRESIDENTIAL PRIMARY"),
}
# optional extra voter columns (beyond schema.VOTER_COLUMNS) the writer uses if present
_MAIL = ("mail_street", "mail_unit", "mail_city", "mail_state", "mail_zip")
_DISTRICTS = ("congressional_district", "senate_district", "house_district")


def _text(values: pd.Series, column: str) -> pd.Series:
    out = values.astype("string").fillna("").astype(object).astype(str)
    if out.str.contains(r"[|\r\n]", regex=True).any():
        msg = (
            f"column `{column}` has a value containing '|' or a line break, which "
            "the MA layout cannot hold; clean that column first."
        )
        raise InputError(msg)
    return out


def _dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce")
    return parsed.dt.strftime("%m/%d/%Y").astype(object).where(parsed.notna(), "")


def _lines(frame: pd.DataFrame, header: Iterable[str] | None) -> str:
    columns = [frame[c].astype(object).tolist() for c in frame.columns]
    rows = ["|".join(row) + "|\n" for row in zip(*columns, strict=True)]
    head = ["|".join(header) + "|\n"] if header is not None else []
    return "".join(head + rows)


def write_ma_voter_files(
    voters: pd.DataFrame,
    history: pd.DataFrame,
    out_dir: Path,
    *,
    town_id: int,
    town_name: str,
    with_gender: bool = True,
    header: bool = True,
    request: str = "demo",
) -> tuple[Path, ...]:
    """
    Write a voter table and its vote history in the Massachusetts layout.

    Parameters
    ----------
    voters
        Canonical voter table (index ``voter_id``, columns ``schema.VOTER_COLUMNS``).
        Optional extra columns used when present: ``gender``; mailing address
        ``mail_street``, ``mail_unit``, ``mail_city``, ``mail_state``, ``mail_zip``;
        ``congressional_district``, ``senate_district``, ``house_district``.
    history
        Long history (``voter_id``, ``election_id``, ``election_date``,
        ``election_type``, optional ``party_voted``); every voter must be in `voters`.
    out_dir
        Folder for the files; created when missing.
    town_id
        Massachusetts town number (1-351; 999 for synthetic towns).
    town_name
        City or town name written in the history files.
    with_gender
        Write the Gender column (files before about 2020 have it; 27 fields).
    header
        Write the header row.
    request
        Request tag in the file names, ``{town_id}VOT_{request}.txt``.

    Returns
    -------
    paths
        The VOT, ANP and ACP files, in that order.

    Raises
    ------
    InputError
        If a table misses columns, a history row names an unknown voter or election
        type, or a value contains ``|`` or a line break.
    """
    schema.validate_voters(voters)
    schema.validate_history(history)
    unknown = ~history[schema.VOTER_ID].astype(str).isin(voters.index.astype(str))
    if unknown.any():
        first = history.loc[unknown, schema.VOTER_ID].astype(str).iloc[0]
        msg = (
            f"{int(unknown.sum())} history row(s) name voters not in the voter table "
            f"(first: {first}); drop them or add the voters."
        )
        raise InputError(msg)
    v = voters.reset_index()
    n = len(v)

    def col(name: str) -> pd.Series:
        if name in v.columns:
            return _text(v[name], name)
        return pd.Series([""] * n, index=v.index, dtype=object)

    vot = pd.DataFrame(
        {
            "seq": [str(i) for i in range(1, n + 1)],
            "id": col(schema.VOTER_ID),
            "last": col(schema.LAST_NAME).str.upper(),
            "first": col(schema.FIRST_NAME).str.upper(),
            "middle": col(schema.MIDDLE_NAME).str.upper(),
            "title": col(schema.NAME_SUFFIX).str.upper(),
            "num": col(schema.STREET_NUMBER),
            "sfx": col(schema.STREET_NUMBER_SUFFIX),
            "street": col(schema.STREET_NAME).str.upper(),
            "apt": col(schema.UNIT),
            "zip": col(schema.ZIP5),
            **{m: col(m).str.upper() for m in _MAIL},
            "party": col(schema.PARTY),
            "gender": col("gender"),
            "dob": _dates(v[schema.BIRTH_DATE]),
            "reg": _dates(v[schema.REGISTRATION_DATE]),
            "ward": col(schema.WARD),
            "precinct": col(schema.PRECINCT),
            **{d: col(d) for d in _DISTRICTS},
            "status": col(schema.STATUS),
        }
    )
    vot_header: tuple[str, ...] = VOT_COLUMNS
    if not with_gender:
        vot = vot.drop(columns="gender")
        vot_header = tuple(c for c in VOT_COLUMNS if c != "Gender")

    h = history.reset_index(drop=True)
    types = h[schema.ELECTION_TYPE].astype(str)
    if bad := sorted(set(types) - set(MA_ELECTION_TYPES)):
        msg = (
            f"history has election type(s) {bad} with no MA file; "
            f"use {sorted(MA_ELECTION_TYPES)}."
        )
        raise InputError(msg)
    pos = pd.Series(range(n), index=vot["id"].to_numpy())
    h = h.assign(
        _pos=pos.loc[h[schema.VOTER_ID].astype(str)].to_numpy(),
        _date=pd.to_datetime(h[schema.ELECTION_DATE]),
        _file=types.map(lambda t: MA_ELECTION_TYPES[t][0]),
        _type=types.map(lambda t: MA_ELECTION_TYPES[t][1]),
    ).sort_values(["_pos", "_date"], kind="stable")
    party_voted = (
        _text(h[schema.PARTY_VOTED], schema.PARTY_VOTED)
        if schema.PARTY_VOTED in h.columns
        else pd.Series([""] * len(h), index=h.index, dtype=object)
    )
    rows = vot.iloc[h["_pos"].to_numpy()].reset_index(drop=True)
    hist = pd.DataFrame(
        {
            "party": rows["party"],
            "id": rows["id"],
            "last": rows["last"],
            "first": rows["first"],
            "middle": rows["middle"],
            "num": rows["num"],
            "sfx": rows["sfx"],
            "street": rows["street"],
            "apt": rows["apt"],
            "zip": rows["zip"],
            "type": h["_type"].to_numpy(),
            "date": _dates(h["_date"]).to_numpy(),
            "voted": party_voted.to_numpy(),
            "town": town_name.upper(),
            "ind": "C",
            "code": str(town_id),
            "title": rows["title"],
            "ward": rows["ward"],
            "precinct": rows["precinct"],
            "status": rows["status"],
            **{m: rows[m] for m in _MAIL},
        }
    )
    is_acp = (h["_file"] == "ACP").to_numpy()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = (
        out / f"{town_id}VOT_{request}.txt",
        out / f"{town_id}ANP_{request}.txt",
        out / f"{town_id}ACP_{request}.txt",
    )
    paths[0].write_text(_lines(vot, vot_header if header else None), encoding="utf-8")
    anp = hist.loc[~is_acp].drop(columns="voted")
    paths[1].write_text(_lines(anp, ANP_COLUMNS if header else None), encoding="utf-8")
    paths[2].write_text(
        _lines(hist.loc[is_acp], ACP_COLUMNS if header else None), encoding="utf-8"
    )
    return paths
