"""Read a small delimited table with a header (address points, do-not-knock lists).

Other stages' tabular inputs go through the same opener and decoder as voter files
(:func:`canvass.load._encoding.read_delimited`): gzip, bzip2, xz and zip archives,
byte-order marks and encodings, and the delimiter sniffed from the header line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._adapters import sniff_delimiter
from ._archive import read_head
from ._encoding import RawTable, decode, read_delimited

__all__ = ["read_table"]

_SMALL = 4096


def read_table(
    path: Path | str,
    *,
    what: str,
    encoding: str = "auto",
    sep: str = "",
    header_only_ok: bool = False,
) -> RawTable:
    """
    Read a delimited text table with a header row into strings.

    Parameters
    ----------
    path
        The file: plain, gzip, bzip2, xz or zip (``archive.zip:member`` picks a
        member of a zip holding several files).
    what
        What the file is, for messages ("do-not-knock file").
    encoding
        ``auto`` or a codec name.
    sep
        Delimiter; empty = sniffed from the first line (tab, pipe, comma, semicolon).
    header_only_ok
        A header without rows gives an empty table (a list nobody is on yet)
        instead of an error.

    Returns
    -------
    RawTable
        ``frame`` has the header's column names (all strings) and the 1-based line
        number as index; ``bad`` lists lines with another number of fields.

    Raises
    ------
    InputError
        If the file is missing, empty, binary, a broken archive, or not delimited.
    """
    path = Path(path)
    sep = sep or sniff_delimiter(path, encoding)
    if header_only_ok:
        head = read_head(path, what, size=_SMALL)
        text = decode(head, path, encoding=encoding, what=what)[0]
        lines = [x for x in text.splitlines() if x.strip()]
        if len(head) < _SMALL and len(lines) == 1:
            names = [f.strip().strip('"') for f in lines[0].split(sep)]
            empty = pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
            empty.index = pd.Index([], dtype="int64", name="line")
            bad = pd.DataFrame({"line": pd.Series([], dtype=int), "reason": ""})
            return RawTable(path, empty, bad, names, "utf-8")
    raw = read_delimited(path, sep=sep, header=True, encoding=encoding, what=what)
    header = raw.header or []
    frame = raw.frame.copy()
    frame.columns = [header[int(c)] for c in frame.columns]
    return RawTable(
        path=raw.path, frame=frame, bad=raw.bad, header=header, encoding=raw.encoding
    )
