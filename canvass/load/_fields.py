"""Load stage helpers: parse the fields every voter-file layout shares.

Dates, zip codes, voter status, street lines and election types come in a handful of
spellings across states. Each parser here is vectorised over *unique* values (a
statewide file has millions of rows but only tens of thousands of distinct dates or
street lines), never raises on a bad value, and returns a mask of the values it could
not read so that the caller can flag or reject those rows.

Election typing rule (:func:`classify_election`)
------------------------------------------------
The file's election-type text is upper-cased and matched in this order:

1. anything with ``SPECIAL``, ``RECALL`` or ``REFERENDUM`` -> ``special``;
2. ``PRESIDENTIAL PRIMARY`` / ``PRESIDENTIAL PREFERENCE`` / Florida ``PPP`` ->
   ``presidential_primary``;
3. ``TOWN``, ``CITY``, ``LOCAL``, ``MUNICIPAL``, ``PRELIMINARY``, ``TOWN MEETING``,
   ``SCHOOL``, ``COUNTY``, Proposition 2½ ``OVERRIDE``/``DEBT EXCLUSION`` ... ->
   ``municipal``;
4. ``PRIMARY`` (``STATE PRIMARY``, ``PRI``, ``RUN``/``RUNOFF``) -> ``state_primary``;
   outside Massachusetts a bare primary held before July of a presidential year is the
   combined presidential primary (North Carolina, Ohio) -> ``presidential_primary``,
   and a primary without ``STATE`` in an odd year is local -> ``municipal`` (except
   the odd-year governor states VA, NJ, KY, MS, LA);
5. ``STATE ELECTION`` / ``GENERAL`` / ``GEN`` -> ``presidential_election`` in years
   divisible by 4, ``state_election`` in other even years (gubernatorial in
   Massachusetts: 2014, 2018, 2022), ``municipal`` in odd years (``state_election``
   for VA, NJ, KY, MS and LA, which elect governors in odd years);
6. anything else is unknown: the load stage rejects those history rows with
   ``unknown election code 'X'`` and counts them.

This is the *file's* type of each election; the election calendar then retypes
every election by its date and by which precincts voted in it
(:mod:`canvass.load._calendar`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError

__all__ = [
    "as_int_year",
    "birth_year_from_age",
    "classify_election",
    "classify_many",
    "label_kind",
    "normalise_status",
    "normalise_zip",
    "parse_dates",
    "split_street_line",
]

DATE_FORMATS = (
    "%m/%d/%Y",
    "%Y-%m-%d",
    "%Y%m%d",
    "%m%d%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%m-%d-%y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
_MIN_YEAR = 1850
_EMPTY_DATES = frozenset(
    {"", "0", "00/00/0000", "00000000", "0000-00-00", "NULL", "NA"}
)
_TIME = re.compile(
    r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AP]M)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


def parse_dates(values: pd.Series, *, fmt: str = "") -> tuple[pd.Series, pd.Series]:
    """
    Parse dates written in any of the formats the states use.

    Parameters
    ----------
    values
        Strings such as ``03/05/2024``, ``2024-03-05``, ``20240305``, ``3/5/24``.
    fmt
        A single ``strftime`` format to use instead of trying :data:`DATE_FORMATS`.

    Returns
    -------
    dates, bad
        ``datetime64`` values (NaT when blank or unreadable) and a boolean mask of
        the non-blank values that could not be read. Two-digit years that would land
        in the future are taken as 19xx.
    """
    codes, uniques = pd.factorize(values.astype(str).str.strip())
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    clean = uniq.str.replace(_TIME, "", regex=True).str.upper()
    parsed = pd.Series(pd.NaT, index=uniq.index, dtype="datetime64[us]")
    todo = ~clean.isin(_EMPTY_DATES)
    blank = ~todo
    next_year = pd.Timestamp(dt.date.today().year + 1, 1, 1)
    for f in (fmt,) if fmt else DATE_FORMATS:
        if not todo.any():
            break
        got = pd.to_datetime(clean[todo], format=f, errors="coerce").astype(
            "datetime64[us]"
        )
        if "%y" in f:
            future = got >= next_year
            got[future] = got[future] - pd.DateOffset(years=100)
        ok = got.notna() & (got.dt.year >= _MIN_YEAR)  # "10102010" is not year 1010
        parsed[ok[ok].index] = got[ok]
        todo[ok[ok].index] = False
    dates = pd.Series(_take(parsed.to_numpy(), codes), index=values.index)
    bad = pd.Series(
        _take((todo & ~blank).to_numpy(dtype=bool), codes), index=values.index
    )
    return dates, bad


def _take(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values[codes]`` with factorize's -1 (missing) mapped to NaT/False."""
    if len(values) == 0:
        return np.zeros(len(codes), dtype=values.dtype)
    out: np.ndarray = values[np.maximum(codes, 0)]
    return out


def normalise_zip(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """
    Return 5-digit zip codes as strings, keeping leading zeros.

    ``01060-1234`` and ``010601234`` become ``01060``; ``1060`` (a zip that went
    through a spreadsheet) is padded back to ``01060`` and marked in the mask.

    Returns
    -------
    zip5, padded
        The zip codes ("" when missing) and the mask of padded ones.
    """
    digits = values.astype(str).str.strip().str.replace(r"[^0-9]", "", regex=True)
    nine = digits.str.len() == 9
    zip5 = digits.where(~nine, digits.str[:5])
    short = zip5.str.len().between(3, 4)
    zip5 = zip5.where(~short, zip5.str.zfill(5))
    zip5 = zip5.where(zip5.str.len() == 5, "")
    return zip5, short


_STATUS = {
    "ACTIVE": schema.ACTIVE,
    "A": schema.ACTIVE,
    "ACT": schema.ACTIVE,
    "INACTIVE": schema.INACTIVE,
    "I": schema.INACTIVE,
    "INA": schema.INACTIVE,
    "CONFIRMATION": schema.INACTIVE,
}


def normalise_status(
    values: pd.Series, extra: Mapping[str, str] | None = None
) -> pd.Series:
    """
    Map voter status to ``A``/``I``; other codes are kept upper-cased.

    ``ACTIVE``/``A`` -> ``A``; ``INACTIVE``/``I`` and Ohio's ``CONFIRMATION`` ->
    ``I``. Codes such as North Carolina's ``R`` (removed), ``D`` (denied) and ``S``
    (temporary) are kept as the file has them; targeting treats anything but ``A`` as
    not active. A blank status is taken as ``A`` (files that list only active voters).
    """
    table = {**_STATUS, **{k.upper(): v for k, v in (extra or {}).items()}}
    s = values.astype(str).str.strip().str.upper()
    out = s.map(table)
    return out.fillna(s).replace("", schema.ACTIVE).astype(str)


_UNIT_WORDS = (
    r"APT|APARTMENT|UNIT|STE|SUITE|RM|ROOM|FL|FLR|FLOOR|LOT|BLDG|SPC|TRLR|PH|#"
)
_STREET_LINE = re.compile(
    r"^\s*(?:(?P<num>\d+)(?:-?(?P<suf>[A-Z])\b)?(?:\s+(?P<half>1/2|½))?\s+)?"
    r"(?P<street>.+?)"
    rf"(?:\s*,?\s+(?:{_UNIT_WORDS})\.?\s*#?\s*(?P<unit>[\w-]+)|\s*#\s*(?P<unit2>[\w-]+))?"
    r"\s*$",
    re.IGNORECASE,
)


def split_street_line(values: pd.Series) -> pd.DataFrame:
    """
    Split one-line street addresses into number, number suffix, street and unit.

    ``"795 JOHNSON CLUB APT. 394"`` -> ``795``, ``""``, ``JOHNSON CLUB``, ``394``;
    ``"12A ELM ST #3"`` -> ``12``, ``A``, ``ELM ST``, ``3``; ``"12 1/2 MAIN ST"`` ->
    ``12``, ``1/2``, ``MAIN ST``.

    Returns
    -------
    DataFrame
        Columns ``street_number``, ``street_number_suffix``, ``street_name``,
        ``unit``, all strings, aligned with `values`.
    """
    s = values.astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    codes, uniques = pd.factorize(s)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    parts = uniq.str.extract(_STREET_LINE)
    parts = parts.fillna("")
    out = pd.DataFrame(
        {
            schema.STREET_NUMBER: parts["num"],
            schema.STREET_NUMBER_SUFFIX: (
                parts["suf"] + " " + parts["half"]
            ).str.strip(),
            schema.STREET_NAME: parts["street"].str.strip(" ,"),
            schema.UNIT: parts["unit"] + parts["unit2"],
        }
    )
    result = out.iloc[np.maximum(codes, 0)].astype(str)
    result.index = s.index
    return result


_MUNICIPAL = re.compile(
    r"\b(TOWN|CITY|LOCAL|MUNICIPAL|MUNI|PRELIMINARY|SCHOOL|VILLAGE|BOROUGH|COUNTY"
    r"|OVERRIDE|EXCLUSION)\b"
)
_PRIMARY = re.compile(r"\b(PRIMARY|PRI|RUN|RUNOFF|PRIMARIES)\b")
_GENERAL = re.compile(r"\b(STATE ELECTION|GENERAL|GEN|STATE|ELECTION)\b")
_ODD_YEAR_GOVERNOR = frozenset({"VA", "NJ", "KY", "MS", "LA"})


def _classify(raw: str, date: dt.date, state: str) -> str | None:
    text = re.sub(r"[^A-Z0-9 ]+", " ", raw.upper())
    text = re.sub(r"\b\d[\d ]*\b", " ", text)  # NC: "11/08/2016 GENERAL"
    text = " ".join(text.split())
    year_is_presidential = date.year % 4 == 0
    if not text:
        result: str | None = None
    elif "SPECIAL" in text or re.search(r"\b(RECALL|REFERENDUM)\b", text):
        result = schema.SPECIAL
    elif text == "PPP" or re.search(r"PRESIDENTIAL (PRIMARY|PREFERENCE)", text):
        result = schema.PRESIDENTIAL_PRIMARY
    elif _MUNICIPAL.search(text) or "TOWN MEETING" in text:
        result = schema.MUNICIPAL
    elif _PRIMARY.search(text):
        result = schema.STATE_PRIMARY
        if state.upper() != "MA" and year_is_presidential and date.month < 7:
            result = schema.PRESIDENTIAL_PRIMARY
        elif (
            date.year % 2
            and "STATE" not in text
            and state.upper() not in _ODD_YEAR_GOVERNOR
        ):
            result = schema.MUNICIPAL  # odd-year primaries are local (Ohio, NC)
    elif _GENERAL.search(text) or "PRESIDENTIAL" in text:
        if year_is_presidential:
            result = schema.PRESIDENTIAL_ELECTION
        elif date.year % 2 == 0 or state.upper() in _ODD_YEAR_GOVERNOR:
            result = schema.STATE_ELECTION
        else:
            result = schema.MUNICIPAL
    elif text in ("OTH", "OTHER"):
        result = schema.SPECIAL
    else:
        result = None
    return result


def label_kind(raw: str) -> str:
    """
    Return the kind of word an election label uses.

    One of ``special``, ``presidential_primary``, ``municipal``, ``primary``,
    ``general`` or ``other``.

    Two elections on one date whose labels are of different kinds (Ohio's
    ``GENERAL-11/06/2007`` and ``PRIMARY-11/06/2007``) are different elections.
    """
    text = re.sub(r"[^A-Z0-9 ]+", " ", raw.upper())
    text = " ".join(re.sub(r"\b\d[\d ]*\b", " ", text).split())
    if "SPECIAL" in text or re.search(r"\b(RECALL|REFERENDUM)\b", text):
        return "special"
    if text == "PPP" or re.search(r"PRESIDENTIAL (PRIMARY|PREFERENCE)", text):
        return "presidential_primary"
    if _MUNICIPAL.search(text) or "TOWN MEETING" in text:
        return "municipal"
    if _PRIMARY.search(text):
        return "primary"
    if _GENERAL.search(text) or "PRESIDENTIAL" in text:
        return "general"
    return "other"


def classify_election(raw_type: str, date: dt.date, *, state: str = "MA") -> str:
    """
    Map a file's election-type text and date to a canonical election type.

    Parameters
    ----------
    raw_type
        The file's text: ``STATE ELECTION``, ``STATE PRIMARY``, ``PRESIDENTIAL
        PRIMARY``, ``TOWN ELECTION``, ``GENERAL``, ``PRI``, ``11/08/2016 GENERAL``...
    date
        Election date (decides presidential vs gubernatorial years).
    state
        Two-letter state code; Massachusetts primaries are always state primaries
        unless the file says ``PRESIDENTIAL PRIMARY``.

    Returns
    -------
    str
        One of :data:`canvass.schema.ELECTION_TYPES`.

    Raises
    ------
    InputError
        If the text is not a known election type.
    """
    if (result := _classify(raw_type, date, state)) is None:
        msg = (
            f"unknown election code {raw_type!r}; map it in [mapping.election_types] "
            f"to one of {schema.ELECTION_TYPES}."
        )
        raise InputError(msg)
    return result


def classify_many(
    raw: pd.Series,
    dates: pd.Series,
    *,
    state: str = "MA",
    overrides: Mapping[str, str] | None = None,
) -> pd.Series:
    """
    Classify many history rows at once (one call per distinct type and date).

    `overrides` maps the file's exact (upper-cased) codes to a canonical type, or to
    ``general`` (presidential/state/municipal by year) or ``primary``.

    Returns
    -------
    Series
        Canonical types, ``""`` where the code is unknown.
    """
    over = {k.strip().upper(): v for k, v in (overrides or {}).items()}
    raw_codes, raw_uniq = pd.factorize(raw.astype(str).str.strip().str.upper())
    date_codes, date_uniq = pd.factorize(dates)  # NaT -> -1
    pair = raw_codes.astype(np.int64) * (len(date_uniq) + 1) + date_codes + 1
    pair_codes, pair_uniq = pd.factorize(pair)
    types: list[str] = []
    for key in np.asarray(pair_uniq).tolist():
        code = str(raw_uniq[key // (len(date_uniq) + 1)])
        d = key % (len(date_uniq) + 1) - 1
        if d < 0:
            types.append("")
            continue
        text = over.get(code, code)
        if text in schema.ELECTION_TYPES:
            types.append(text)
            continue
        day = pd.Timestamp(date_uniq[d]).date()
        alias = {"general": "GENERAL", "primary": "PRIMARY"}.get(text, text)
        types.append(_classify(alias, day, state) or "")
    kinds = (
        np.asarray(types, dtype=object)[pair_codes] if types else np.array([], object)
    )
    return pd.Series(kinds, index=raw.index, dtype=object)


def birth_year_from_age(age: pd.Series, year: int) -> pd.Series:
    """Return ``year - age`` as ``Int64`` (missing where age is not a number 0-130)."""
    n = pd.to_numeric(age.astype(str).str.strip(), errors="coerce")
    n = n.where((n >= 0) & (n <= 130))
    return (year - n).round().astype("Int64")


def as_int_year(values: pd.Series) -> pd.Series:
    """Return 4-digit years as ``Int64`` (missing when blank or out of 1880-2100)."""
    n = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    return n.where((n >= 1880) & (n <= 2100)).round().astype("Int64")
