"""Name, date and contact normalisation for supporter matching (private).

Both sides of a match (the supporter list and the voter file) go through the same
functions, so that ``Bill O'Neil-Smith Jr.`` and ``WILLIAM ONEIL SMITH`` meet as
``BILL`` / ``ONEIL SMITH`` with the parts ``ONEIL``, ``SMITH``, the suffix ``JR``, the
first-name group of *William* and the Soundex codes of each surname part.

Everything works on the distinct values of a column and maps the result back by
position (:func:`by_unique`), so a statewide voter file costs as much as its few
hundred thousand distinct names.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "JUNIOR_SUFFIXES",
    "SUFFIXES",
    "by_unique",
    "clean_first",
    "clean_last",
    "email_key",
    "first_keys",
    "nickname_neighbours",
    "phone_key",
    "soundex",
    "split_suffix",
]

#: Generational suffixes that end a surname (``SMITH JR``) and are kept apart.
SUFFIXES: Final = frozenset({"JR", "SR", "II", "III", "IV", "V", "2ND", "3RD"})
#: Suffixes that name a person after an elder of the same name (all but ``SR``).
JUNIOR_SUFFIXES: Final = SUFFIXES - {"SR"}
_TITLES: Final = frozenset({"MR", "MRS", "MS", "MISS", "DR", "REV", "PROF", "MX"})
#: Surname particles joined to the next word (``DE LA CRUZ`` = ``DELACRUZ`` too).
_NON_LETTER = re.compile(r"[^A-Z\s-]")
_SPACES = re.compile(r"[\s-]+")
_SOUNDEX_CODES: Final = {
    **dict.fromkeys("BFPV", "1"),
    **dict.fromkeys("CGJKQSXZ", "2"),
    **dict.fromkeys("DT", "3"),
    "L": "4",
    **dict.fromkeys("MN", "5"),
    "R": "6",
}


def _ascii_upper(text: object) -> str:
    """Upper case without accents: ``José`` -> ``JOSE``; missing -> ``""``."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = unicodedata.normalize("NFKD", str(text))
    s = s.encode("ascii", "ignore").decode("ascii").upper()
    return s.replace("'", "").replace("`", "")


def _words(text: object) -> list[str]:
    return [w for w in _SPACES.split(_NON_LETTER.sub(" ", _ascii_upper(text))) if w]


def clean_first(text: object) -> str:
    """
    Return a first name's comparable form: upper case, letters only, one word.

    Titles are dropped (``Dr. Ann`` -> ``ANN``); a leading initial followed by a
    name keeps the initial (``J. Robert`` -> ``J``: the voter file's middle name
    catches the rest).
    """
    words = [w for w in _words(text) if w not in _TITLES]
    return words[0] if words else ""


def split_suffix(text: object) -> tuple[str, str]:
    """
    Split a surname into its words (joined by one space) and a generational suffix.

    Examples
    --------
    >>> split_suffix("O'Neil-Smith Jr.")
    ('ONEIL SMITH', 'JR')
    """
    words = _words(text)
    suffix = ""
    if len(words) > 1 and words[-1] in SUFFIXES:
        suffix = words.pop()
    return " ".join(words), suffix


def clean_last(text: object) -> str:
    """Return a surname's comparable form (see :func:`split_suffix`)."""
    return split_suffix(text)[0]


def soundex(word: str) -> str:
    """
    Return the American Soundex code of one word (``""`` for no letters).

    Examples
    --------
    >>> soundex("ROBERT"), soundex("RUPERT"), soundex("TYMCZAK")
    ('R163', 'R163', 'T522')
    """
    letters = [c for c in word.upper() if "A" <= c <= "Z"]
    if not letters:
        return ""
    first = letters[0]
    out = [first]
    last = _SOUNDEX_CODES.get(first, "")
    for c in letters[1:]:
        code = _SOUNDEX_CODES.get(c, "")
        if code and code != last:
            out.append(code)
            if len(out) == 4:
                break
        if c not in "HW":  # H and W do not separate equal codes
            last = code
    return "".join(out).ljust(4, "0")


@functools.cache
def _nicknames() -> dict[str, frozenset[str]]:
    """Each known name -> the formal names it can stand for (nicknames package)."""
    from nicknames import NickNamer

    namer = NickNamer()
    groups: dict[str, set[str]] = {}
    for formal, nicks in namer.nickname_lookup.items():
        f = formal.upper()
        groups.setdefault(f, set()).add(f)
        for nick in nicks:
            groups.setdefault(nick.upper(), set()).add(f)
    return {k: frozenset(v) for k, v in groups.items()}


def first_keys(first: str) -> list[str]:
    """
    Return the keys under which a first name meets its nicknames.

    A name's keys are itself and every formal name it is a nickname of (``BILL``
    -> ``BILL``, ``WILLIAM``; ``PEGGY`` -> ``PEGGY``, ``MARGARET``). Two first names
    are nickname-compatible when their keys intersect: ``BILL`` and ``WILL`` meet at
    ``WILLIAM``.
    """
    if not first:
        return []
    keys = {first, *_nicknames().get(first, ())}
    return sorted(keys)


def nickname_neighbours(
    names: Iterable[str], file_names: Iterable[str]
) -> dict[str, list[str]]:
    """
    Return, per name, the names of `file_names` it meets as a nickname.

    Two first names meet when their :func:`first_keys` intersect (``BILL``:
    ``WILLIAM``, ``WILL``, ``BILLY``...); the name itself is left out. Built with
    one index over the distinct `file_names` (a voter file has a few hundred
    thousand at most), never pair by pair.

    Examples
    --------
    >>> nickname_neighbours(["BILL"], ["WILLIAM", "BILL", "ROBERT"])
    {'BILL': ['WILLIAM']}
    """
    by_key: dict[str, set[str]] = {}
    for name in {str(n) for n in file_names if n}:
        for key in first_keys(name):
            by_key.setdefault(key, set()).add(name)
    return {
        name: sorted({o for k in first_keys(name) for o in by_key.get(k, ())} - {name})
        for name in {str(n) for n in names if n}
    }


def phone_key(text: object) -> str:
    """Return the last 10 digits of a US phone number, or ``""`` (fewer than 10)."""
    digits = re.sub(r"\D", "", "" if text is None else str(text))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits[-10:] if len(digits) >= 10 else ""


def email_key(text: object) -> str:
    """Return a lower-case e-mail address, or ``""`` when it is not one."""
    s = "" if text is None else str(text).strip().lower()
    if s in ("nan", "none") or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", s):
        return ""
    return s


def by_unique(
    values: pd.Series | Iterable[object], fn: Callable[[object], object]
) -> np.ndarray:
    """
    Apply `fn` once per distinct value and return the results in input order.

    Returns
    -------
    results
        Object array, one result per input value (missing values are passed as
        ``""``).
    """
    series = (
        pd.Series(values, dtype="object")
        if not isinstance(values, pd.Series)
        else values
    )
    codes, uniques = pd.factorize(series.fillna(""))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(uniques):
        mapped[i] = fn(value)
    mapped[-1] = fn("")
    return np.asarray(mapped[codes])
