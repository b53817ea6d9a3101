"""How common a name's near agreements are on the voter file (private).

Splink adjusts an *exact* name agreement for how common the name is (its term
frequency): two records that agree on a rare surname are more likely one person
than two that agree on SMITH. The same holds for the partial agreements, and there
the right frequency is not the name's own but its neighbourhood's:

``typo``
    the share of voters whose name is one edit (Damerau-Levenshtein) from the
    supporter's, the name itself left out: a typo of a rare name meets few voters by
    chance, a typo of SMITHE meets every SMITH;
``part``
    the share of voters whose surname shares a word with the supporter's
    (``GARCIA LOPEZ`` meets every GARCIA and every LOPEZ);
``nickname``
    the share of voters whose first name is a nickname or formal form of the
    supporter's (``BILL``: every WILLIAM, WILL, BILLY...);
``middle_name``
    the share of voters whose middle name is the supporter's first name;
``year_only`` (birth)
    the share of voters born in the supporter's year (1931 says more than 1985);
``same_zip``, ``zip_no_street`` (address)
    the share of voters in the supporter's zip (a small zip says more than a big
    one).

A pair at one of these levels weighs the level's estimated ``log2(m / u)`` plus
``log2(typical share / share)``, the typical share being the mean over the
supporters whose value can reach the level at all (only a hyphenated surname agrees
on a part; a list's BILL meets a WILLIAM far more often than its JOHN a JACK): the
correction Splink makes for exact agreement, with the level's own m. The share is
at least the voter's own name's frequency, so a pair is never weighed as if its
voter's name were rarer than it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

from ._names import nickname_neighbours

__all__ = ["ADJUSTED_LEVELS", "neighbourhood_shares", "one_edit"]

#: (comparison, level) -> (the share column of the supporter's record that replaces
#: the level's average u, the voter's column whose own frequency bounds it below).
ADJUSTED_LEVELS: Final = {
    ("first_name", "nickname"): ("fn_nick", "fn"),
    ("first_name", "typo"): ("fn_typo", "fn"),
    ("first_name", "middle_name"): ("fn_mid", "mn"),
    ("last_name", "part"): ("ln_part", "ln"),
    ("last_name", "typo"): ("ln_typo", "ln"),
    ("birth", "year_only"): ("yob", ""),
    ("address", "zip_no_street"): ("zip5", ""),
    ("address", "same_zip"): ("zip5", ""),
}


def _deletions(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def one_edit(a: str, b: str) -> bool:
    """
    Return whether `a` and `b` differ by exactly one edit.

    An edit is a letter inserted, dropped or replaced, or two neighbouring letters
    swapped (Damerau-Levenshtein distance 1).

    Examples
    --------
    >>> one_edit("SMITH", "SMTIH"), one_edit("SMITH", "SMYTH"), one_edit("AB", "BA")
    (True, True, True)
    >>> one_edit("SMITH", "SMITH"), one_edit("SMITH", "SMYTHE")
    (False, False)
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        swapped = a[i] == b[i + 1] and a[i + 1] == b[i] if len(diff) == 2 else False
        return swapped and diff[1] == i + 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _typo_shares(names: Iterable[str], freq: pd.Series) -> dict[str, float]:
    """Per name: the summed frequency of the voter names one edit away."""
    wanted = {str(n) for n in names if n}
    variants: set[str] = set()
    for name in wanted:
        variants |= _deletions(name)
    index: dict[str, list[str]] = defaultdict(list)
    for other in freq.index:
        other = str(other)
        for v in _deletions(other):
            if v in variants:
                index[v].append(other)
    values = freq.to_dict()
    out = {}
    for name in wanted:
        near = {o for v in _deletions(name) for o in index.get(v, ())}
        out[name] = float(sum(values[o] for o in near if one_edit(name, o)))
    return out


def _part_shares(names: Iterable[str], freq: pd.Series) -> dict[str, float]:
    """Per surname: the summed frequency of the voter surnames sharing a word."""
    by_word: dict[str, float] = defaultdict(float)
    for name, f in freq.items():
        for word in set(str(name).split()):
            by_word[word] += float(f)
    own = freq.to_dict()
    out = {}
    for name in {str(n) for n in names if n}:
        words = set(name.split())
        shared = sum(by_word.get(w, 0.0) for w in words)
        out[name] = max(shared - len(words) * float(own.get(name, 0.0)), 0.0)
    return out


def _nickname_shares(names: Iterable[str], freq: pd.Series) -> dict[str, float]:
    """Per first name: the summed frequency of the voter first names it meets."""
    values = {str(k): float(v) for k, v in freq.items()}
    near = nickname_neighbours(names, values)
    return {name: float(sum(values[o] for o in near[name])) for name in near}


def neighbourhood_shares(
    supporters: pd.DataFrame, tf: dict[str, pd.Series]
) -> pd.DataFrame:
    """
    Return each supporter's neighbourhood shares (columns of :data:`ADJUSTED_LEVELS`).

    Parameters
    ----------
    supporters
        Prepared supporter records (``fn``, ``mn``, ``ln``).
    tf
        Frequencies on the voter file: ``fn``, ``ln``, ``mn`` (first names,
        surnames and middle names), ``yob`` (birth years) and ``zip5``, each a
        share of the voters with one.

    Returns
    -------
    shares
        Same index as `supporters`; NaN where the supporter has no such name.
    """
    fn = supporters["fn"].astype("object")
    ln = supporters["ln"].astype("object")
    fns = fn.dropna().unique()
    lns = ln.dropna().unique()
    typo_fn = _typo_shares(fns, tf["fn"])
    typo_ln = _typo_shares(lns, tf["ln"])
    part = _part_shares(lns, tf["ln"])
    nick = _nickname_shares(fns, tf["fn"])
    middle = tf["mn"].to_dict()
    out = pd.DataFrame(index=supporters.index)
    out["yob"] = supporters["yob"].astype("object").map(tf["yob"].to_dict())
    out["zip5"] = supporters["zip5"].astype("object").map(tf["zip5"].to_dict())
    out["fn_typo"] = fn.map(typo_fn)
    out["fn_nick"] = fn.map(nick)
    out["fn_mid"] = fn.map(
        lambda n: middle.get(n, 0.0) if isinstance(n, str) else np.nan
    )
    out["ln_part"] = ln.map(part)
    out["ln_typo"] = ln.map(typo_ln)
    return out.astype(float)
