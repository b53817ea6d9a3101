"""Turn supporters and voters into the comparable records the linker reads (private).

Both tables end up in DuckDB with the same columns (see :data:`COLUMNS`), prepared
with the same rules: names by :mod:`._names`, streets and units by the geocoder's USPS
rules, birth dates split into year, month and day (a missing part is NULL, so a list
that gives only the year is compared on the year). List columns (first-name keys,
surname parts) are built on the distinct names only and joined in SQL, so preparing
a 5-million-row voter file stays a matter of seconds.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import numpy as np
import pandas as pd

from .. import schema
from ..geocode import normalize_street_names, normalize_units
from ._names import (
    by_unique,
    clean_first,
    email_key,
    first_keys,
    nickname_neighbours,
    phone_key,
    soundex,
    split_suffix,
)

__all__ = [
    "COLUMNS",
    "TF_COLUMNS",
    "frequencies",
    "prepare_supporters",
    "prepare_voters",
    "to_duckdb",
]

logger = logging.getLogger(__name__)

#: Scalar columns of a prepared record (plus the lists ``fn_keys``, ``ln_parts``).
COLUMNS: Final = (
    "unique_id", "fn", "mn", "fn_sx", "ln", "ln_i", "ln_sx1", "ln_sx2", "ln_w1",
    "ln_w2", "sfx",
    "yob", "mob", "dob", "hn", "st", "unit", "zip5", "city", "email", "phone",
)  # fmt: skip


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series("", index=frame.index, dtype="object")
    col = frame[name]
    return col.astype("object").where(col.notna(), "").astype(str).str.strip()


def _soundex_of(word: object) -> str:
    return soundex(str(word))


def _surname_parts(last: object) -> tuple[str, str, str]:
    """Soundex of the first and last word of a surname (hyphenated names)."""
    words = str(last).split()
    if not words:
        return "", "", ""
    return soundex(words[0]), soundex(words[-1]), " ".join(words)


def _word(surname: object, i: int) -> str:
    """Word `i` of a surname of two words or more; "" for a one-word surname."""
    words = str(surname).split()
    return words[i] if len(words) > 1 else ""


def _names(first: pd.Series, middle: pd.Series, last: pd.Series) -> dict[str, Any]:
    fn = by_unique(first, clean_first)
    mn = by_unique(middle, clean_first)
    ln_split = by_unique(last, split_suffix)
    ln = np.array([p[0] for p in ln_split], dtype=object)
    parts = by_unique(pd.Series(ln), _surname_parts)
    return {
        "fn": fn,
        "mn": mn,
        "fn_sx": by_unique(pd.Series(fn), _soundex_of),
        "ln": ln,
        "ln_i": np.array([str(x)[:1] for x in ln], dtype=object),
        "ln_sx1": np.array([p[0] for p in parts], dtype=object),
        "ln_sx2": np.array([p[1] for p in parts], dtype=object),
        # first and last word of a double or hyphenated surname (else missing)
        "ln_w1": by_unique(pd.Series(ln), lambda x: _word(x, 0)),
        "ln_w2": by_unique(pd.Series(ln), lambda x: _word(x, -1)),
        "sfx": np.array([p[1] for p in ln_split], dtype=object),
    }


def _null_empty(columns: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """
    Return the record columns as a frame, empty values missing (SQL NULL).

    Empty strings become None and zero date parts NA. Text stays in object
    columns, built once: a voter file's millions of strings are never converted
    to another string type and back.
    """
    out: dict[str, Any] = {}
    for col in COLUMNS:
        values = columns[col]
        if col in ("yob", "mob", "dob"):
            numbers = np.asarray(values, dtype=np.int64)
            out[col] = pd.arrays.IntegerArray(
                np.where(numbers > 0, numbers, 0), numbers <= 0
            )
        else:
            text = np.array(values, dtype=object)
            text[pd.isna(text) | (text == "")] = None
            out[col] = pd.Series(text, index=index, dtype=object)
    return pd.DataFrame(out, index=index)


def prepare_supporters(supporters: pd.DataFrame) -> pd.DataFrame:
    """
    Return the supporters as prepared records (index = ``supporter_key``).

    Parameters
    ----------
    supporters
        :attr:`SupporterList.supporters` (already cleaned by the reader).
    """
    names = _names(
        _text(supporters, "first_name"),
        _text(supporters, "middle_name"),
        _text(supporters, "last_name") + " " + _text(supporters, "name_suffix"),
    )
    return _null_empty(
        {
            "unique_id": supporters.index.astype(str),
            **names,
            "yob": supporters["birth_year"].to_numpy(dtype=np.int64),
            "mob": supporters["birth_month"].to_numpy(dtype=np.int64),
            "dob": supporters["birth_day"].to_numpy(dtype=np.int64),
            "hn": _text(supporters, "street_number").to_numpy(),
            "st": _text(supporters, "street_name").to_numpy(),
            "unit": _text(supporters, "unit").to_numpy(),
            "zip5": _text(supporters, "zip5").to_numpy(),
            "city": _text(supporters, "city").to_numpy(),
            "email": _text(supporters, "email").to_numpy(),
            "phone": _text(supporters, "phone").to_numpy(),
        },
        supporters.index,
    )


def prepare_voters(voters: pd.DataFrame) -> pd.DataFrame:
    """
    Return voters as prepared records (index = ``voter_id``).

    Parameters
    ----------
    voters
        Canonical voters table; optional ``email`` and ``phone`` columns (some
        states' files and VAN exports carry them) are compared when present.
    """
    names = _names(
        _text(voters, schema.FIRST_NAME),
        _text(voters, schema.MIDDLE_NAME),
        _text(voters, schema.LAST_NAME) + " " + _text(voters, schema.NAME_SUFFIX),
    )
    if schema.BIRTH_DATE in voters:
        born = pd.to_datetime(voters[schema.BIRTH_DATE], errors="coerce")
        by = born.dt.year.fillna(0).to_numpy(dtype=np.int64)
        bm = born.dt.month.fillna(0).to_numpy(dtype=np.int64)
        bd = born.dt.day.fillna(0).to_numpy(dtype=np.int64)
    else:
        by = bm = bd = np.zeros(len(voters), dtype=np.int64)
    if schema.BIRTH_YEAR in voters:
        year = pd.to_numeric(voters[schema.BIRTH_YEAR], errors="coerce")
        by = np.where(by > 0, by, year.fillna(0).to_numpy(dtype=np.int64))
    # "12A", "46 1/2": the number and its suffix, as the list reader joins them
    number = (
        _text(voters, schema.STREET_NUMBER)
        + " "
        + _text(voters, schema.STREET_NUMBER_SUFFIX)
    ).str.strip()
    return _null_empty(
        {
            "unique_id": voters.index.astype(str),
            **names,
            "yob": by,
            "mob": bm,
            "dob": bd,
            "hn": by_unique(number, lambda s: str(s).upper().lstrip("0")),
            "st": normalize_street_names(_text(voters, schema.STREET_NAME)).to_numpy(),
            "unit": normalize_units(_text(voters, schema.UNIT)).to_numpy(),
            "zip5": _text(voters, schema.ZIP5).str[:5].to_numpy(),
            "city": by_unique(
                _text(voters, schema.CITY), lambda s: " ".join(str(s).upper().split())
            ),
            "email": by_unique(_text(voters, "email"), email_key),
            "phone": by_unique(_text(voters, "phone"), phone_key),
        },
        voters.index,
    )


#: Columns whose exact agreement is weighed by how common the value is.
TF_COLUMNS: Final = ("fn", "ln")


def frequencies(voters: pd.DataFrame) -> dict[str, pd.Series]:
    """
    Return how common each name, birth year and zip is on the voter file (0-1).

    The frequencies come from the voter file alone: the supporter list is the query,
    and counting it too would make every supporter's own name look more common
    (a name on the file once, and on the list, would count twice).
    """
    out = {}
    for col in (*TF_COLUMNS, "mn", "yob", "zip5"):
        values = voters[col].dropna()
        out[col] = values.value_counts() / max(len(values), 1)
    return out


def to_duckdb(
    con: Any,
    name: str,
    records: pd.DataFrame,
    tf: dict[str, pd.Series],
    *,
    door_surnames: bool = False,
    nicknames_on_file: bool = False,
) -> None:
    """
    Create table `name` in DuckDB from prepared records, adding the list columns.

    ``fn_keys`` (the first name and the formal names it is a nickname of) and
    ``ln_parts`` (the words of the surname) are computed once per distinct name;
    ``fn_alts`` holds, when `nicknames_on_file` (the supporters), the first names
    of the voter file (`tf` ``fn``) that are nicknames or formal forms of the
    record's and sound different (``BILL``: ``WILLIAM``; ``WILL`` already meets
    ``WILLIAM`` by its sound), else the record's own first name (the voters): the
    array the statewide nickname blocking explodes;
    ``tf_fn`` and ``tf_ln`` are the names' frequencies `tf` on the voter file
    (NULL for a name not on it), the term frequencies Splink adjusts for.
    ``door_lns`` holds the surnames of everyone at the record's door (same zip,
    number, street and unit) when `door_surnames` (the voter file: a supporter
    listed under her husband's surname shares it with someone at her door), else
    NULL.
    """
    fns = pd.unique(records["fn"].dropna())
    lns = pd.unique(records["ln"].dropna())
    if nicknames_on_file:
        near = nickname_neighbours(fns, tf["fn"].index.astype(str))
        alts = [
            [o for o in near.get(str(f), []) if soundex(o) != soundex(str(f))]
            for f in fns
        ]
    else:
        alts = [[str(f)] for f in fns]
    fn_lookup = pd.DataFrame(
        {
            "name": fns,
            "keys": [first_keys(str(f)) for f in fns],
            "alts": alts,
            "tf": tf["fn"].reindex(fns).to_numpy(dtype=float),
        }
    )
    ln_lookup = pd.DataFrame(
        {
            "name": lns,
            "parts": [str(x).split() for x in lns],
            "tf": tf["ln"].reindex(lns).to_numpy(dtype=float),
        }
    )
    con.register(f"{name}_raw", records.reset_index(drop=True))
    con.register(f"{name}_fn", fn_lookup)
    con.register(f"{name}_ln", ln_lookup)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT r.*, f.keys AS fn_keys, CAST(f.alts AS VARCHAR[]) AS fn_alts,
            l.parts AS ln_parts,
            CAST(f.tf AS DOUBLE) AS tf_fn, CAST(l.tf AS DOUBLE) AS tf_ln
        FROM {name}_raw r
        LEFT JOIN {name}_fn f ON r.fn = f.name
        LEFT JOIN {name}_ln l ON r.ln = l.name
        """
    ).fetchall()
    for view in ("raw", "fn", "ln"):
        con.unregister(f"{name}_{view}")
    door = "coalesce(unit, '')"
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT t.*, d.lns AS door_lns
        FROM {name} t
        LEFT JOIN (
            SELECT zip5, hn, st, {door} AS u, list(DISTINCT ln) AS lns
            FROM {name}
            WHERE zip5 IS NOT NULL AND hn IS NOT NULL AND st IS NOT NULL
              AND ln IS NOT NULL
            GROUP BY ALL
        ) d ON t.zip5 = d.zip5 AND t.hn = d.hn AND t.st = d.st
           AND coalesce(t.unit, '') = d.u
        """
        if door_surnames
        else f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT *, CAST(NULL AS VARCHAR[]) AS door_lns FROM {name}
        """
    ).fetchall()
