"""Load stage: voter-file adapters for Massachusetts, North Carolina and VAN exports.

Each adapter reads one state's layout into the same *raw canonical* tables of strings,
which :mod:`canvass.load` then types, validates and checks:

voters
    ``voter_id`` and the :data:`canvass.schema.VOTER_COLUMNS` that the layout has (as
    text), plus ``age`` where the layout gives an age instead of a birth date, and
    ``source``/``line`` (file name and 1-based line number).
history
    ``voter_id``, ``election_date`` (text), ``election_type_raw`` (the file's text),
    ``party_voted``, ``source``, ``line``.

Layouts
-------
``ma``
    VOT (27 pipe-delimited fields with Gender and the trailing empty field; 26 or
    25 without one or both) and ANP/ACP history (24/25 fields, ACP adds Party Voted
    after the election date). Header rows are detected (the voter-id field of a
    header has no digit). ANP vs ACP is told by the file name, the header, or else
    by field 13 holding short party codes (ACP) rather than town names (ANP).
``nc``
    ``ncvoter`` and ``ncvhis`` (tab-delimited, header, any column order, 2012 or
    2022 layout, values bare or in double quotes as newer files have them), joined
    on ``ncid``. NC precincts are county precincts, not ward
    subdivisions, so ``precinct_id`` is the precinct abbreviation alone; the ward
    abbreviation is kept in ``ward``.
``van``
    VAN list export (tab-delimited UTF-16 with BOM; ``Voter File VANID``,
    ``FirstName``, ``LastName``, ``vAddress``, ``City``, ``State``, ``Zip5``,
    ``Age``, ``Sex``, ``Party`` ...). It has no vote history and no status: every
    voter is taken as active.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import schema
from ..errors import InputError
from ._encoding import RawTable, Sample, read_delimited
from ._fields import split_street_line

__all__ = [
    "AGE",
    "ELECTION_TYPE_RAW",
    "ORIGIN",
    "HeaderPick",
    "Parsed",
    "from_street_line",
    "match_header",
    "read_ma",
    "read_nc",
    "read_van",
    "sniff_delimiter",
]

AGE = "age"
ELECTION_TYPE_RAW = "election_type_raw"
#: History rows read from a voter row (wide or cell history): that voter file's name,
#: so that the votes of a rejected voter row are rejected with it.
ORIGIN = "origin"


@dataclass
class Parsed:
    """Raw canonical tables from one adapter, plus per-file bookkeeping."""

    voters: list[pd.DataFrame] = field(default_factory=list)
    history: list[pd.DataFrame] = field(default_factory=list)
    rejects: list[pd.DataFrame] = field(default_factory=list)
    files: list[dict[str, object]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: (date text, election type text) of wide history columns nobody voted in
    empty_elections: list[tuple[str, str]] = field(default_factory=list)

    @contextmanager
    def problem(self) -> Iterator[None]:
        """Collect a file's :class:`InputError` so that every file gets checked."""
        try:
            yield
        except InputError as err:
            self.errors.append(str(err))

    def raise_errors(self) -> None:
        """Raise one error listing every unusable file, if there is any."""
        if len(self.errors) == 1:
            raise InputError(self.errors[0])
        if self.errors:
            msg = f"{len(self.errors)} input files are unusable: " + " | ".join(
                self.errors
            )
            raise InputError(msg)

    def add_file(self, raw: RawTable, kind: str, layout: str) -> str:
        """Record a file read; return the name its rows carry in ``source``."""
        names = {str(f["file"]) for f in self.files}
        name = raw.name if raw.name not in names else str(raw.path)
        self.files.append(
            {
                "file": name,
                "kind": kind,
                "layout": layout,
                "encoding": raw.encoding,
                "header": raw.header is not None,
                "rows_in": len(raw.frame) + len(raw.bad),
            }
        )
        if len(raw.bad):
            self.rejects.append(raw.bad.assign(file=name)[["file", "line", "reason"]])
        return name


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _frame(
    raw: RawTable, source: str, columns: Mapping[str, pd.Series]
) -> pd.DataFrame:
    out = pd.DataFrame({k: v.astype(str).str.strip() for k, v in columns.items()})
    out[schema.SOURCE] = source
    out[schema.LINE] = raw.frame.index.to_numpy()
    return out.reset_index(drop=True)


# --- Massachusetts ----------------------------------------------------------------

_MA_VOT = {  # 0-based positions in the 27-field layout (with Gender)
    schema.VOTER_ID: 1,
    schema.LAST_NAME: 2,
    schema.FIRST_NAME: 3,
    schema.MIDDLE_NAME: 4,
    schema.NAME_SUFFIX: 5,
    schema.STREET_NUMBER: 6,
    schema.STREET_NUMBER_SUFFIX: 7,
    schema.STREET_NAME: 8,
    schema.UNIT: 9,
    schema.ZIP5: 10,
    schema.PARTY: 16,
    schema.BIRTH_DATE: 18,
    schema.REGISTRATION_DATE: 19,
    schema.WARD: 20,
    schema.PRECINCT: 21,
    schema.STATUS: 25,
}
_MA_HIST = {  # 0-based positions in the ACP layout (with Party Voted)
    schema.VOTER_ID: 1,
    schema.ELECTION_DATE: 11,
    ELECTION_TYPE_RAW: 10,
    schema.PARTY_VOTED: 12,
    schema.CITY: 13,
    schema.WARD: 18,
    schema.PRECINCT: 19,
}
_DATE_LIKE = r"^\s*\d{1,2}/\d{1,2}/\d{2,4}\s*$|^\s*\d{4}-?\d{2}-?\d{2}\s*$"


def _ma_header(fields: list[str]) -> bool:
    return (
        len(fields) > 1
        and not any(ch.isdigit() for ch in fields[1])
        and bool(re.search(r"[A-Za-z]", fields[1]))
    )


def _looks(series: pd.Series, pattern: str) -> float:
    s = series[series.str.strip() != ""]
    return float(s.str.match(pattern).mean()) if len(s) else 0.0


def _vot_layout(sample: Sample) -> tuple[bool, dict[str, int]]:
    """Gender column or not, and the positions of the fields canvass uses."""
    rows = sample.rows
    trailing = sample.width > 25 and all(r[-1].strip() == "" for r in rows)
    width = sample.width - trailing
    if width not in (25, 26):
        msg = (
            f"{sample.path}: {sample.width} pipe-delimited fields, expected 25-27 for "
            "a Massachusetts VOT file; check inputs.voter_format and the file."
        )
        raise InputError(msg)
    if sample.header is not None:
        has_gender = any(h.upper().strip() in ("GENDER", "SEX") for h in sample.header)
    else:  # field 18 is Gender (M/F/X) with it, Date of Birth without it
        has_gender = width == 26 and _looks(sample.column(17), _DATE_LIKE) < 0.5
    pos = {k: (v if v < 17 or has_gender else v - 1) for k, v in _MA_VOT.items()}
    return has_gender, pos


def _history_layout(sample: Sample) -> tuple[bool, dict[str, int]]:
    """ACP (with Party Voted) or ANP, and the positions of the fields used."""
    name = sample.path.name.upper()
    if sample.width not in (24, 25, 26):
        msg = (
            f"{sample.path}: {sample.width} pipe-delimited fields, expected 24-26 for "
            "a Massachusetts ANP/ACP history file; check inputs.history and the file."
        )
        raise InputError(msg)
    if sample.header is not None:
        acp = any("PARTY VOTED" in h.upper() for h in sample.header)
    elif ("ACP" in name) != ("ANP" in name):
        acp = "ACP" in name
    else:  # field 13 is Party Voted (short or blank) in ACP, the town name in ANP
        acp = float(sample.column(12).str.strip().str.len().le(3).mean()) > 0.8
    pos = {k: (v if v < 12 or acp else v - 1) for k, v in _MA_HIST.items()}
    if not acp:
        del pos[schema.PARTY_VOTED]
    return acp, pos


class _Layout:
    """Remembers what a layout function decided while the file was sampled."""

    def __init__(self, decide: Callable[[Sample], tuple[bool, dict[str, int]]]) -> None:
        self.decide = decide
        self.flag = False
        self.pos: dict[str, int] = {}

    def __call__(self, sample: Sample) -> list[int]:
        self.flag, self.pos = self.decide(sample)
        return list(self.pos.values())


def _read_ma_file(
    path: Path, layout: _Layout, widths: tuple[int, ...], what: str, encoding: str
) -> RawTable:
    """Read one pipe-delimited MA file, keeping only the fields `layout` picks."""
    return read_delimited(
        path,
        sep="|",
        widths=widths,
        header=_ma_header,
        encoding=encoding,
        what=what,
        quoting=False,
        pick=layout,
    )


def read_ma(
    voters: list[Path],
    history: list[Path],
    *,
    encoding: str = "auto",
    state: str = "MA",
) -> Parsed:
    """
    Read Massachusetts VOT files and ANP/ACP history files.

    Only the fields canvass uses are parsed (16 of 27 VOT fields, 6 of 25 history
    fields), which keeps a statewide load within memory.

    Parameters
    ----------
    voters, history
        The VOT files and the ANP/ACP files.
    encoding
        ``auto`` or a codec name.
    state
        State code written to the ``state`` column.

    Returns
    -------
    Parsed
        Raw canonical tables.
    """
    parsed = Parsed()
    for path in voters:
        with parsed.problem():
            layout = _Layout(_vot_layout)
            raw = _read_ma_file(
                path, layout, (25, 26, 27), "Massachusetts VOT voter file", encoding
            )
            kind = "ma_vot" if layout.flag else "ma_vot_no_gender"
            source = parsed.add_file(raw, "voters", kind)
            f = raw.frame
            frame = _frame(raw, source, {k: f[i] for k, i in layout.pos.items()})
            frame[schema.STATE] = state or "MA"
            frame[schema.CITY] = ""
            parsed.voters.append(frame)
    for path in history:
        with parsed.problem():
            layout = _Layout(_history_layout)
            raw = _read_ma_file(
                path,
                layout,
                (24, 25, 26),
                "Massachusetts ANP/ACP history file",
                encoding,
            )
            source = parsed.add_file(
                raw, "history", "ma_acp" if layout.flag else "ma_anp"
            )
            f = raw.frame
            hist = _frame(raw, source, {k: f[i] for k, i in layout.pos.items()})
            if not layout.flag:
                hist[schema.PARTY_VOTED] = ""
            parsed.history.append(hist)
    return parsed


# --- header-based layouts (NC, VAN, mapped) ---------------------------------------


def sniff_delimiter(path: Path, encoding: str = "auto") -> str:
    """Return the most likely delimiter (tab, pipe, comma, semicolon) of a text file."""
    from ._archive import read_head
    from ._encoding import decode

    head = read_head(path)  # b"" when unreadable: read_delimited then says why
    text, _ = decode(head, Path(path), encoding=encoding)
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in ("\t", "|", ",", ";")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


def match_header(
    sample: Sample, wanted: Mapping[str, tuple[str, ...]], *, what: str
) -> dict[str, int]:
    """
    Find columns by header name.

    Parameters
    ----------
    sample
        The file's sample (its header row).
    wanted
        canvass column -> accepted header names (compared lower-case, without
        spaces or punctuation); the first present wins. Names starting with ``!``
        are required.
    what
        File kind, for the error message.

    Returns
    -------
    dict
        canvass column -> position of the file's column (only those found).

    Raises
    ------
    InputError
        Naming every required column that is missing.
    """
    header = sample.header or [str(c + 1) for c in range(sample.width)]
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(_norm(h), i)
    out: dict[str, int] = {}
    missing: list[str] = []
    for key, names in wanted.items():
        plain = [_norm(n.lstrip("!")) for n in names]
        hit = next((index[n] for n in plain if n in index), None)
        if hit is not None:
            out[key] = hit
        elif any(n.startswith("!") for n in names):
            missing.append(names[0].lstrip("!"))
    if missing:
        near = _closest(missing, header)
        shown = ", ".join(repr(h) for h in header[:8])
        more = ", ..." if len(header) > 8 else ""
        msg = (
            f"{sample.path}: missing required column(s) {missing} for a {what}"
            f"{near}; the header has {len(header)} columns: {shown}{more}."
        )
        raise InputError(msg)
    return out


def _closest(missing: list[str], header: list[str]) -> str:
    """``" (closest in the header: 'A' for 'B', ...)"`` or ``""`` (difflib)."""
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(_norm(h), h.strip())
    hints = []
    for name in missing:
        near = difflib.get_close_matches(_norm(name), list(by_norm), n=3, cutoff=0.6)
        if near:
            names = " or ".join(repr(by_norm[n]) for n in near)
            hints.append(f"{names} for {name!r}")
    return f" (closest in the header: {'; '.join(hints)})" if hints else ""


class HeaderPick:
    """A ``pick`` for :func:`read_delimited` that keeps the named columns only."""

    def __init__(self, wanted: Mapping[str, tuple[str, ...]], what: str) -> None:
        self.wanted = wanted
        self.what = what
        self.pos: dict[str, int] = {}

    def __call__(self, sample: Sample) -> list[int]:
        """Find the wanted columns in the sample's header; return their positions."""
        self.pos = match_header(sample, self.wanted, what=self.what)
        return list(self.pos.values())

    def columns(self, raw: RawTable) -> dict[str, pd.Series]:
        """Return the picked columns of the table read, by canvass name."""
        return {k: raw.frame[i] for k, i in self.pos.items()}


def from_street_line(
    cols: dict[str, pd.Series], line: pd.Series, unit2: pd.Series | None
) -> None:
    """Fill number, suffix, street and unit in `cols` from a one-line street address."""
    parts = split_street_line(line)
    for key in (schema.STREET_NUMBER, schema.STREET_NUMBER_SUFFIX, schema.STREET_NAME):
        cols.setdefault(key, parts[key])
    unit = parts[schema.UNIT]
    if unit2 is not None:
        extra = (
            unit2.astype(str)
            .str.strip()
            .str.replace(
                r"^(?:APT|APARTMENT|UNIT|STE|SUITE|#)\.?\s*#?\s*",
                "",
                regex=True,
                flags=re.I,
            )
        )
        unit = unit.where(unit != "", extra)
    cols.setdefault(schema.UNIT, unit)


_NC_VOTER = {
    schema.VOTER_ID: ("!ncid",),
    schema.LAST_NAME: ("last_name",),
    schema.FIRST_NAME: ("first_name",),
    schema.MIDDLE_NAME: ("middle_name", "midl_name"),
    schema.NAME_SUFFIX: ("name_suffix_lbl", "name_sufx_cd"),
    "street_line": ("!res_street_address",),
    schema.CITY: ("res_city_desc",),
    schema.STATE: ("state_cd",),
    schema.ZIP5: ("zip_code",),
    schema.PARTY: ("party_cd",),
    schema.STATUS: ("status_cd", "voter_status_desc"),
    schema.BIRTH_YEAR: ("birth_year",),
    AGE: ("age_at_year_end", "birth_age", "age"),
    schema.REGISTRATION_DATE: ("registr_dt",),
    schema.WARD: ("ward_abbrv",),
    schema.PRECINCT: ("precinct_abbrv",),
}
_NC_HISTORY = {
    schema.VOTER_ID: ("!ncid",),
    schema.ELECTION_DATE: ("!election_lbl",),
    ELECTION_TYPE_RAW: ("!election_desc",),
    schema.PARTY_VOTED: ("voted_party_cd",),
}


def read_nc(
    voters: list[Path], history: list[Path], *, encoding: str = "auto"
) -> Parsed:
    """
    Read North Carolina ``ncvoter`` and ``ncvhis`` files (tab-delimited, header).

    Returns
    -------
    Parsed
        Raw canonical tables; ``precinct_id`` is built from the precinct alone.
    """
    parsed = Parsed()
    for path in voters:
        with parsed.problem():
            pick = HeaderPick(_NC_VOTER, "North Carolina ncvoter file")
            raw = read_delimited(
                path,
                sep="\t",
                header=True,
                encoding=encoding,
                what="North Carolina ncvoter file",
                pick=pick,
            )
            cols = pick.columns(raw)
            from_street_line(cols, cols.pop("street_line"), None)
            source = parsed.add_file(raw, "voters", "nc_ncvoter")
            frame = _frame(raw, source, cols)
            frame[schema.PRECINCT_ID] = frame[schema.PRECINCT].map(
                lambda p: _nc_code(p)
            )
            parsed.voters.append(frame)
    for path in history:
        with parsed.problem():
            pick = HeaderPick(_NC_HISTORY, "North Carolina ncvhis history file")
            raw = read_delimited(
                path,
                sep="\t",
                header=True,
                encoding=encoding,
                what="North Carolina ncvhis history file",
                pick=pick,
            )
            cols = pick.columns(raw)
            source = parsed.add_file(raw, "history", "nc_ncvhis")
            parsed.history.append(_frame(raw, source, cols))
    return parsed


def _nc_code(precinct: str) -> str:
    from ._precincts import precinct_code

    return precinct_code("", precinct)


_VAN = {
    schema.VOTER_ID: ("!Voter File VANID", "VANID", "VAN ID"),
    schema.LAST_NAME: ("LastName", "Last Name"),
    schema.FIRST_NAME: ("FirstName", "First Name"),
    schema.MIDDLE_NAME: ("MiddleName", "Middle Name"),
    schema.NAME_SUFFIX: ("Suffix",),
    "street_line": ("!vAddress", "Address", "StreetAddress"),
    "unit2": ("Adress2", "Address2", "vAddress2", "Apt"),
    schema.CITY: ("City", "vCity"),
    schema.STATE: ("State", "vState"),
    schema.ZIP5: ("Zip5", "Zip", "vZip5"),
    schema.PARTY: ("Party",),
    schema.STATUS: ("VoterStatus", "Status"),
    schema.BIRTH_DATE: ("DOB", "DateOfBirth", "BirthDate"),
    AGE: ("Age",),
    schema.REGISTRATION_DATE: ("DateReg", "RegistrationDate"),
    schema.WARD: ("Ward", "WardName"),
    schema.PRECINCT: ("Precinct", "PrecinctName"),
    schema.HOUSEHOLD_ID: ("HouseholdID", "Household ID", "HHID"),
}


def read_van(voters: list[Path], *, encoding: str = "auto") -> Parsed:
    """
    Read VAN list exports (tab-delimited, UTF-16 with BOM as VAN writes them).

    Returns
    -------
    Parsed
        Raw canonical voters (VAN list exports carry no vote history).
    """
    parsed = Parsed()
    for path in voters:
        with parsed.problem():
            sep = sniff_delimiter(path, encoding)
            pick = HeaderPick(_VAN, "VAN list export")
            raw = read_delimited(
                path,
                sep=sep,
                header=True,
                encoding=encoding,
                what="VAN list export",
                pick=pick,
            )
            cols = pick.columns(raw)
            from_street_line(cols, cols.pop("street_line"), cols.pop("unit2", None))
            source = parsed.add_file(raw, "voters", "van_export")
            parsed.voters.append(_frame(raw, source, cols))
    return parsed
