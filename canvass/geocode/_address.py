"""US address normalisation for the geocoding stage (used by :mod:`canvass.geocode`).

Voter files and address layers spell the same door in many ways: ``12 Maple
Street``, ``12 MAPLE ST``, ``12-A N. Main St. Apt #2``, ``12 1/2 MT HOLYOKE DR``. This
module turns each spelling into one canonical form so that a plain join matches them:

- street names are upper case, punctuation-free, with USPS suffix abbreviations
  (``STREET`` -> ``ST``), directionals (``NORTH`` -> ``N``) when they are not the
  name itself (``NORTH ST`` stays), ``MOUNT`` -> ``MT``, ``SAINT`` -> ``ST`` and
  ordinals written as numbers (``FIRST`` -> ``1ST``);
- house numbers split into the number and its suffix (``12A``, ``12 1/2``);
- units lose their designator (``APT 2``, ``#2``, ``UNIT 02`` -> ``2``).

Every function works on unique values and maps the result back, so normalising a
million-row voter file costs as much as normalising its few thousand distinct streets.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from typing import Final

import pandas as pd
import usaddress

from ._usps import DIRECTIONALS, SUFFIX_ABBREVIATIONS, UNIT_DESIGNATORS

__all__ = [
    "address_key",
    "correct_street_names",
    "display_address",
    "loose_forms",
    "normalize_street",
    "normalize_street_names",
    "normalize_unit",
    "normalize_units",
    "parse_address_line",
    "parse_house_number",
    "parse_house_numbers",
    "split_street_unit",
    "street_candidates",
]

#: Every street suffix spelling -> its USPS standard abbreviation (Publication 28 C1).
SUFFIXES: Final[dict[str, str]] = SUFFIX_ABBREVIATIONS
ORDINALS: Final[dict[str, str]] = {
    "FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD", "FOURTH": "4TH", "FIFTH": "5TH",
    "SIXTH": "6TH", "SEVENTH": "7TH", "EIGHTH": "8TH", "NINTH": "9TH", "TENTH": "10TH",
    "ELEVENTH": "11TH", "TWELFTH": "12TH",
}  # fmt: skip
#: Words that name a unit inside a building (Publication 28 C2 designators with
#: their abbreviations, plus common variants); they are dropped from the unit value.
UNIT_WORDS: Final = "|".join(
    sorted(
        {w for k, (a, _) in UNIT_DESIGNATORS.items() for w in (k, a)}
        | {"STE", "FLR", "BSMNT", "SPCE", "RM", "NO", "FRT", "LWR", "UPR"},
        key=lambda w: (-len(w), w),
    )
)

_PUNCT = re.compile(r"[^\w\s/#&-]|_")
_SPACES = re.compile(r"\s+")
#: Designators that mark a unit at the end of a street line ("MAIN ST APT 2"); words
#: that also start street names (FRONT, UPPER...) are left out.
_TAIL_WORDS: Final = (
    "APARTMENT|APT|UNIT|SUITE|STE|FLOOR|FL|ROOM|RM|BLDG|BUILDING|LOT|SPC"
)
_UNIT_TAIL = re.compile(
    rf"\s*(?:,\s*)?(?:\b(?:{_TAIL_WORDS})\b\.?\s*#?|#)\s*([\w/-]+)\s*$"
)
_NUMBER = re.compile(r"^\s*(\d+)\s*(?:-?\s*([A-Z]|1/2|1/4|3/4|½)\b)?")
_DIRECTIONAL_AFTER_NUMBER = re.compile(r"^\s*\d+\s+[NSEW]\s+\S")
#: C2 designators that need no number, by every spelling -> their abbreviation.
_NO_RANGE: Final = {
    w: abbr
    for word, (abbr, ranged) in UNIT_DESIGNATORS.items()
    if not ranged
    for w in (word, abbr)
}
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s+(\S.*)$")
_UNIT_DESIGNATOR = re.compile(rf"^(?:\b(?:{UNIT_WORDS})\b\.?\s*#?|#)\s*")


def _clean(text: object) -> str:
    """Upper-case `text`, drop punctuation (keep ``/ # & -``) and squeeze spaces."""
    if text is None or (isinstance(text, float) and text != text):  # NaN
        return ""
    s = str(text).upper().replace("'", "").replace(".", " ")
    s = _PUNCT.sub(" ", s)
    return _SPACES.sub(" ", s).strip()


def normalize_street(name: object) -> str:
    """
    Return the canonical spelling of one street name.

    Parameters
    ----------
    name
        A street name as any file spells it (``"N. Main Street"``); ``None`` or NaN
        give ``""``.

    Returns
    -------
    street
        Upper case, USPS abbreviations (``"N MAIN ST"``).

    Examples
    --------
    >>> normalize_street("Mount Holyoke Drive")
    'MT HOLYOKE DR'
    >>> normalize_street("North Street")
    'NORTH ST'
    """
    tokens = _clean(name).replace("#", " ").replace("-", " ").split()
    if not tokens:
        return ""
    tokens = [ORDINALS.get(t, t) for t in tokens]
    tokens = ["MT" if t == "MOUNT" else t for t in tokens]
    if tokens[0] == "SAINT" and len(tokens) > 1:
        tokens[0] = "ST"
    # A suffix word is a suffix only at the end, after the name (never the first
    # token); a directional is abbreviated only when other words are left as the name.
    out = list(tokens)
    last = len(out) - 1
    where = {last}
    if (
        out[last] in DIRECTIONALS
        or out[last] in ("EXT", "EXTENSION")
        or len(out[last]) == 1
    ):
        where.add(last - 1)  # "MAIN ST N", "CHESTNUT AVE EXT", "MAIN ST F" (village)
    for i in where:
        if i > 0 and out[i] in SUFFIXES:
            out[i] = SUFFIXES[out[i]]
    if len(out) >= 3 and out[0] in DIRECTIONALS:
        out[0] = DIRECTIONALS[out[0]]
    if len(out) >= 3 and out[-1] in DIRECTIONALS and out[-2] in SUFFIXES.values():
        out[-1] = DIRECTIONALS[out[-1]]
    return " ".join(out)


def _map_unique(values: pd.Series, fn: Callable[[object], str]) -> pd.Series:
    """Apply `fn` to each distinct value of `values` once and map the results back."""
    obj = values.astype("object").where(values.notna(), "")
    lookup = {u: fn(u) for u in pd.unique(obj)}
    return obj.map(lookup).astype("str")


def normalize_street_names(names: pd.Series) -> pd.Series:
    """
    Normalise a column of street names (each distinct name is processed once).

    Parameters
    ----------
    names
        Street names in any spelling; missing values become ``""``.

    Returns
    -------
    streets
        Canonical street names, same index as `names`.
    """
    return _map_unique(names, normalize_street)


def parse_house_number(text: object) -> tuple[str, str]:
    """
    Split a house number into its number and suffix.

    Parameters
    ----------
    text
        ``"12"``, ``"12A"``, ``"12-A"``, ``"12 1/2"``, ``"0012"``, ``"12-14"`` (a
        range: the first number is kept) or anything else.

    Returns
    -------
    number, suffix
        The number without leading zeros and the suffix (``"A"``, ``"1/2"``), or
        ``("", "")`` when `text` has no leading number.
    """
    s = _clean(text).replace("½", " 1/2")
    m = _NUMBER.match(s)
    if not m:
        return "", ""
    number = m.group(1).lstrip("0") or "0"
    suffix = (m.group(2) or "").replace("½", "1/2")
    return number, suffix


def parse_house_numbers(
    numbers: pd.Series, suffixes: pd.Series | None = None
) -> pd.DataFrame:
    """
    Parse a column of house numbers, with an optional separate suffix column.

    Parameters
    ----------
    numbers
        House numbers, possibly with the suffix attached (``"12A"``).
    suffixes
        The file's separate suffix column (``"A"``, ``"1/2"``), if it has one; it
        wins over a suffix found in `numbers`.

    Returns
    -------
    parsed
        Columns ``number`` and ``suffix`` (strings, ``""`` when absent).
    """
    num = _map_unique(numbers, lambda v: parse_house_number(v)[0])
    suf = _map_unique(numbers, lambda v: parse_house_number(v)[1])
    if suffixes is not None:
        given = _map_unique(
            suffixes, lambda v: _clean(v).replace("-", "").replace(" ", "")
        )
        given = given.str.replace("½", "1/2", regex=False)
        suf = given.where(given != "", suf)
    return pd.DataFrame({"number": num, "suffix": suf}, index=numbers.index)


def normalize_unit(unit: object) -> str:
    """
    Return the canonical unit: designator dropped, leading zeros stripped.

    Parameters
    ----------
    unit
        ``"APT 2"``, ``"#2"``, ``"Unit 02"``, ``"2"``, ``"3-B"``...

    Returns
    -------
    unit
        ``"2"``, ``"3B"``; a designator that needs no number is the unit itself
        (``"Rear"`` -> ``"REAR"``, ``"Upper"`` -> ``"UPPR"``); ``""`` when there is
        no unit.
    """
    s = _clean(unit)
    bare = ""
    while True:
        stripped = _UNIT_DESIGNATOR.sub("", s)
        if stripped == s:
            break
        word = s[: len(s) - len(stripped)].strip(" .#")
        bare = bare or _NO_RANGE.get(word, "")
        s = stripped
    s = s.replace(" ", "").replace("-", "").replace("#", "")
    if not s:
        return bare  # "REAR", "UPPER", "BASEMENT": the designator is the unit
    if s.isdigit():
        s = s.lstrip("0") or "0"
    return s


def normalize_units(units: pd.Series) -> pd.Series:
    """
    Normalise a column of units (see :func:`normalize_unit`).

    Parameters
    ----------
    units
        Unit values in any spelling; missing values become ``""``.

    Returns
    -------
    units
        Canonical units, same index as `units`.
    """
    return _map_unique(units, normalize_unit)


def split_street_unit(street: object) -> tuple[str, str]:
    """
    Split a unit written at the end of a street name off it.

    Parameters
    ----------
    street
        ``"MAIN ST APT 2"``, ``"Main Street #3"`` or a plain name.

    Returns
    -------
    street, unit
        ``("MAIN ST", "2")``; the unit is ``""`` when there is none.
    """
    text = _clean(street)
    m = _UNIT_TAIL.search(text)
    if m and m.start() > 0:
        return text[: m.start()].strip(), normalize_unit(m.group(0))
    return text, ""


def parse_address_line(line: object) -> dict[str, str]:
    """
    Split a one-line street address into number, suffix, street and unit.

    Uses a fast pattern for the common ``<number> <street> [<unit>]`` shape and
    falls back to ``usaddress`` for anything else.

    Parameters
    ----------
    line
        ``"12 1/2 N Main St Apt 3"``; city, state and zip after a comma are ignored.
        A range (``"12-14 Main St"``, a double house) gives its first number.

    Returns
    -------
    parts
        Keys ``number``, ``suffix``, ``street`` (normalised) and ``unit``.
    """
    raw = "" if line is None else str(line)
    text = _clean(raw.split(",")[0]) if "," in raw else _clean(raw)
    unit = ""
    m = _UNIT_TAIL.search(text)
    if m and m.start() > 0:
        unit = normalize_unit(m.group(0))
        text = text[: m.start()].strip()
    if m := _RANGE.match(text):  # "12-14 MAIN ST": a double house, first number
        number = m.group(1).lstrip("0") or "0"
        street = normalize_street(m.group(3))
        return {"number": number, "suffix": "", "street": street, "unit": unit}
    number, suffix = parse_house_number(text)
    if number and _DIRECTIONAL_AFTER_NUMBER.match(text):  # "12 N MAIN ST", not 12N
        street = normalize_street(re.sub(r"^\s*\d+", "", text))
        return {"number": number, "suffix": "", "street": street, "unit": unit}
    if number:
        rest = _NUMBER.sub("", text.replace("½", " 1/2"), count=1).strip()
        if rest:
            street = normalize_street(rest)
            return {"number": number, "suffix": suffix, "street": street, "unit": unit}
    try:
        tagged, _ = usaddress.tag(raw)
    except usaddress.RepeatedLabelError:
        street = normalize_street(text)
        return {"number": number, "suffix": suffix, "street": street, "unit": unit}
    street = " ".join(
        tagged.get(k, "")
        for k in (
            "StreetNamePreDirectional",
            "StreetNamePreType",
            "StreetName",
            "StreetNamePostType",
            "StreetNamePostDirectional",
        )
    )
    number, suffix = parse_house_number(
        f"{tagged.get('AddressNumber', '')} {tagged.get('AddressNumberSuffix', '')}"
    )
    return {
        "number": number,
        "suffix": suffix,
        "street": normalize_street(street),
        "unit": unit or normalize_unit(tagged.get("OccupancyIdentifier", "")),
    }


def address_key(number: pd.Series, suffix: pd.Series, street: pd.Series) -> pd.Series:
    """
    Build the match key ``"<number><suffix>|<street>"`` from normalised parts.

    Parameters
    ----------
    number, suffix, street
        Normalised columns (see :func:`parse_house_numbers`, :func:`normalize_street`).

    Returns
    -------
    key
        For example ``"12A|MAPLE ST"`` or ``"12 1/2|MAPLE ST"``.
    """
    sep = suffix.str.contains("/", regex=False).map({True: " ", False: ""})
    return number + sep + suffix + "|" + street


def display_address(
    number: pd.Series, suffix: pd.Series, street: pd.Series
) -> pd.Series:
    """
    Build the printed street address (``"12A MAPLE ST"``, no unit).

    Parameters
    ----------
    number, suffix, street
        Normalised columns.

    Returns
    -------
    address
        The address as a walk list prints it.
    """
    return (
        address_key(number, suffix, street)
        .str.replace("|", " ", regex=False)
        .str.strip()
    )


#: Street *types* a clerk may confuse with one another (ST for AVE) or leave out.
TYPE_SUFFIXES: Final = frozenset(
    {
        "ST", "AVE", "RD", "DR", "LN", "CT", "PL", "TER", "CIR", "WAY", "BLVD",
        "PKWY", "HWY", "TRL", "LOOP", "PATH", "ROW", "SQ", "XING", "CURV", "PIKE",
        "TPKE", "ALY", "EXPY", "FWY",
    }
)  # fmt: skip
#: Standard abbreviation -> the longest full word for it (``HL`` -> ``HILL``).
_FULL_SUFFIX: Final[dict[str, str]] = {
    abbr: max((k for k, v in SUFFIXES.items() if v == abbr), key=len)
    for abbr in set(SUFFIXES.values())
}
_DIRECTION_ABBRS: Final = frozenset(DIRECTIONALS.values())


def _spelt_out(street: str) -> str:
    """Spell the last suffix word in full (``"ROUND HL"`` -> ``"ROUND HILL"``)."""
    tokens = street.split()
    for i in range(len(tokens) - 1, 0, -1):
        if tokens[i] in _FULL_SUFFIX:
            tokens[i] = _FULL_SUFFIX[tokens[i]]
            break
    return " ".join(tokens)


def loose_forms(street: str, *, reference: bool) -> dict[str, tuple[int, str]]:
    """
    Spell a street every way a file may leave parts out, for a loose comparison.

    Every suffix word and directional is abbreviated wherever it stands (``"LAKE
    VIEW"`` and ``"LAKE VIEW BLVD"`` both have ``LK VW``), then the leading and the
    trailing directional and the street type are each dropped or kept.

    Parameters
    ----------
    street
        A normalised street name.
    reference
        The name comes from the reference (address layer or street network): any
        last suffix word may be dropped (``ROUND HL RD`` -> ``ROUND HL``). For a
        voter's spelling only a street *type* may be (``MAPLE AVE`` -> ``MAPLE``,
        but ``PARK HL`` keeps its HL: the word is part of the name).

    Returns
    -------
    forms
        ``{form: (parts dropped, kind of suffix dropped: "" | "type" | "other")}``.
    """
    tokens = tuple(DIRECTIONALS.get(t, SUFFIXES.get(t, t)) for t in street.split())
    forms: dict[tuple[str, ...], tuple[int, str]] = {tokens: (0, "")}
    for op in ("lead", "trail", "suffix"):
        for form, (cost, kind) in list(forms.items()):
            if len(form) < 2:
                continue
            if op == "lead" and form[0] in _DIRECTION_ABBRS:
                new, new_kind = form[1:], kind
            elif op == "trail" and form[-1] in _DIRECTION_ABBRS:
                new, new_kind = form[:-1], kind
            elif op == "suffix" and form[-1] in _FULL_SUFFIX:
                typed = form[-1] in TYPE_SUFFIXES
                if not (reference or typed):
                    continue
                new, new_kind = form[:-1], "type" if typed else "other"
            else:
                continue
            if new not in forms or forms[new][0] > cost + 1:
                forms[new] = (cost + 1, new_kind)
    return {" ".join(f): v for f, v in forms.items()}


def correct_street_names(
    streets: Iterable[str],
    known: Collection[str],
    *,
    cutoff: float = 0.85,
) -> dict[str, str]:
    """
    Map misspelt street names to the closest known street name.

    Only names not already known are looked at. A name is corrected when exactly
    one known street is the same name with fewest parts left out (see
    :func:`loose_forms`): ``"MAPLE"`` -> ``"MAPLE ST"``, ``"MAPLE AVE"`` ->
    ``"MAPLE ST"`` when no Maple Ave exists, ``"ROUND HILL"`` -> ``"ROUND HILL RD"``,
    ``"SOUTH MEADOW"`` -> ``"S MEADOW RD"``, ``"LAKE VIEW"`` -> ``"LAKE VIEW
    BLVD"``, ``"MAIN ST"`` -> ``"N MAIN ST"``; or when one known name, abbreviated
    or with its suffix in full, is at least `cutoff` similar (``"MAPEL ST"`` ->
    ``"MAPLE ST"``, ``"MAIN STERET"`` -> ``"MAIN ST"``).

    Parameters
    ----------
    streets
        Normalised street names to check.
    known
        Normalised street names of the reference (address layer, street network).
    cutoff
        Minimum ``difflib`` similarity ratio for a fuzzy correction.

    Returns
    -------
    corrections
        ``{misspelt: known}`` for each name that could be corrected.
    """
    known_set = set(known)
    by_loose: dict[str, list[tuple[str, int, str]]] = {}
    by_form: dict[str, str] = {}
    for k in sorted(known_set):
        for form, (cost, kind) in loose_forms(k, reference=True).items():
            by_loose.setdefault(form, []).append((k, cost, kind))
        by_form.setdefault(k, k)
        by_form.setdefault(_spelt_out(k), k)
    forms = sorted(by_form)
    out: dict[str, str] = {}
    for s in sorted(set(streets) - known_set):
        if not s:
            continue
        if (fixed := _same_name(s, by_loose)) is not None:
            out[s] = fixed
            continue
        close = difflib.get_close_matches(s, forms, n=4, cutoff=cutoff)
        # The fewest keying errors wins (a swap of two letters is one); a tie is
        # left alone rather than guessed.
        best: dict[str, int] = {}
        for c in close:
            d = _edits(s, c)
            best[by_form[c]] = min(d, best.get(by_form[c], d))
        ranked = sorted(best.items(), key=lambda kv: kv[1])
        if ranked and (len(ranked) == 1 or ranked[0][1] < ranked[1][1]):
            out[s] = ranked[0][0]
    return out


def _same_name(
    street: str, by_loose: dict[str, list[tuple[str, int, str]]]
) -> str | None:
    """
    Find the one known street of the same name with fewest parts left out.

    ``"MAPLE"`` (type left out) and ``"MAPLE AVE"`` (type confused) may be
    ``"MAPLE ST"``; ``"ROUND HL"`` may be ``"ROUND HILL RD"``; but ``"PARK HL"`` is
    never ``"PARK ST"`` (HILL is part of the name) and a confused type is never
    another name word (``"MAPLE AVE"`` is not ``"MAPLE HL"``). A tie is not guessed.
    """
    best: dict[str, int] = {}
    for form, (cost, kind) in loose_forms(street, reference=False).items():
        for k, k_cost, k_kind in by_loose.get(form, []):
            if kind == "type" and k_kind == "other":
                continue
            best[k] = min(best.get(k, 99), cost + k_cost)
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1])
    if len(ranked) == 1 or ranked[0][1] < ranked[1][1]:
        return ranked[0][0]
    return None


def street_candidates(street: str, known: Collection[str], n: int = 3) -> list[str]:
    """
    Find the known street names closest to `street` (to explain a miss).

    Parameters
    ----------
    street
        A normalised street name that matched nothing.
    known
        Normalised reference street names.
    n
        At most this many names.

    Returns
    -------
    names
        Up to `n` names, closest first (``difflib`` ratio at least 0.5).
    """
    if not street:
        return []
    return difflib.get_close_matches(street, sorted(known), n=n, cutoff=0.5)


def _edits(a: str, b: str) -> int:
    """Optimal-string-alignment distance: inserts, deletes, changes, swaps."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
