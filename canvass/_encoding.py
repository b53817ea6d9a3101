"""Load stage helpers: decode voter files and split them into string tables.

Voter files arrive as UTF-8, UTF-8 with a byte-order mark, Latin-1/Windows-1252
(older county exports) or UTF-16 (VAN writes tab-delimited UTF-16 with a BOM). This
module turns the bytes of one file into a table of strings, one row per physical line,
indexed by the 1-based line number, without ever raising anything but
:class:`~canvass.errors.InputError`:

* The encoding is sniffed from the byte-order mark; without one, ``auto`` tries UTF-8
  and falls back to Windows-1252 and finally Latin-1 (which decodes any byte). An
  explicitly declared encoding is honoured: lines holding bytes that are invalid in
  it become rejected rows (reason ``bytes not valid in <encoding>``), not a crash.
* Lines whose field count differs from the layout's are returned in ``bad`` with the
  reason, so they reach the rejects file; blank lines are not records and are skipped.
* Whole-file problems (missing, empty, binary, wrong delimiter, truncated mid-row) are
  one-line errors that name the file and say how to fix it.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError

__all__ = ["RawTable", "decode", "read_delimited"]

logger = logging.getLogger(__name__)

_REPLACEMENT = "\ufffd"
_SNIFF = 64_000
#: Share of data lines that must have the layout's field count for the file to count
#: as that layout at all; below it the file is rejected as a whole.
_MIN_GOOD = 0.5


@dataclass(frozen=True)
class RawTable:
    """
    One delimited file split into strings.

    Parameters
    ----------
    path
        The file read.
    frame
        Good rows: columns ``0..n-1`` (or the header names), all strings, index = the
        1-based line number in the file.
    bad
        Unusable lines: columns ``line`` and ``reason``.
    header
        The header fields when the file has a header row, else ``None``.
    encoding
        The encoding the file was decoded with.
    """

    path: Path
    frame: pd.DataFrame
    bad: pd.DataFrame
    header: list[str] | None
    encoding: str


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        msg = f"{path}: {what} not found; check the path in the config (inputs)."
        raise InputError(msg) from None
    except IsADirectoryError:
        msg = f"{path}: is a folder, expected a {what}; give the file itself."
        raise InputError(msg) from None
    except OSError as err:
        msg = f"{path}: cannot read the {what} ({err.strerror})."
        raise InputError(msg) from err
    return data


def _sniff_utf16(data: bytes) -> str | None:
    """Return ``utf-16-le``/``-be`` for BOM-less UTF-16 (NUL in every other byte)."""
    head = data[: min(len(data), 4000)]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode(
    data: bytes, path: Path, *, encoding: str = "auto", what: str = "file"
) -> tuple[str, str]:
    """
    Decode a file's bytes, sniffing the byte-order mark.

    Parameters
    ----------
    data
        The raw bytes.
    path
        The file (for messages).
    encoding
        ``auto`` or a Python codec name. With a declared codec, invalid bytes are
        replaced by U+FFFD so that the caller can reject exactly those lines.
    what
        What the file is, for messages ("voter file", "history file").

    Returns
    -------
    text, encoding
        The decoded text and the codec used.

    Raises
    ------
    InputError
        If the codec is unknown or the file is binary.
    """
    if data.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    elif encoding.lower() not in ("auto", ""):
        enc = encoding
    else:
        enc = _sniff_utf16(data) or ""
    if enc:
        try:
            text = data.decode(enc, errors="replace")
        except LookupError:
            msg = (
                f"{path}: unknown encoding {encoding!r}; use auto, utf-8, latin-1, "
                "cp1252 or utf-16 (setting inputs.encoding)."
            )
            raise InputError(msg) from None
    else:
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if enc != "utf-8":
            logger.info("%s: not valid UTF-8; read as %s", path.name, enc)
    if "\x00" in text[:_SNIFF]:
        msg = (
            f"{path}: binary data, not a delimited text {what}; "
            "give the plain-text export (unzip it first if it is compressed)."
        )
        raise InputError(msg)
    return text, enc


def _split_header(
    lines: pd.Series, detect: Callable[[list[str]], bool] | bool | None, sep: str
) -> tuple[list[str] | None, pd.Series]:
    nonblank = lines[lines.str.strip() != ""]
    if nonblank.empty:
        return None, nonblank
    first = str(nonblank.iloc[0])
    fields = (
        next(csv.reader([first], delimiter=sep)) if sep != "|" else first.split(sep)
    )
    has_header = detect(fields) if callable(detect) else bool(detect)
    if has_header:
        return [f.strip().strip('"') for f in fields], nonblank.iloc[1:]
    return None, nonblank


def read_delimited(
    path: Path,
    *,
    sep: str,
    widths: tuple[int, ...] = (),
    header: Callable[[list[str]], bool] | bool | None = None,
    encoding: str = "auto",
    what: str = "voter file",
    quoting: bool = True,
) -> RawTable:
    """
    Read one delimited text file into strings, line by line.

    Parameters
    ----------
    path
        The file.
    sep
        Field delimiter.
    widths
        Field counts the layout allows; empty = the header's width, or the most
        common width when there is no header.
    header
        ``True``/``False``, or a function of the first line's fields that says
        whether it is a header row.
    encoding
        ``auto`` or a codec name (see :func:`decode`).
    what
        What the file is, for messages.
    quoting
        Honour double quotes around fields (CSV); off for pipe files, whose fields
        may hold bare quote characters.

    Returns
    -------
    RawTable
        Good rows and bad lines with reasons.

    Raises
    ------
    InputError
        If the file is missing, empty, binary, not delimited by `sep`, or ends in
        the middle of a row.
    """
    path = Path(path)
    data = _read_bytes(path, what)
    text, enc = decode(data, path, encoding=encoding, what=what)
    if not text.strip():
        msg = (
            f"{path}: the {what} is empty; export it again or drop it from the config."
        )
        raise InputError(msg)
    lines = pd.Series(text.split("\n"), dtype=object)
    lines.index = pd.RangeIndex(1, len(lines) + 1, name="line")
    lines = lines.str.removesuffix("\r")
    ends_mid_line = not text.endswith("\n")
    hdr, body = _split_header(lines, header, sep)
    sep_label = {"\t": "tab", "|": "pipe (|)", ",": "comma"}.get(sep, repr(sep))
    if body.empty:
        msg = f"{path}: the {what} has a header but no rows; export it again."
        raise InputError(msg)
    quoted = quoting and '"' in text[:_SNIFF]
    if quoted:
        rows = list(
            csv.reader(body.tolist(), delimiter=sep, quotechar='"', strict=False)
        )
        counts = pd.Series([len(r) for r in rows], index=body.index)
    else:
        counts = body.str.count(sep if sep != "|" else r"\|") + 1
    if widths:
        in_layout = counts[counts.isin(widths)]
        allowed = {int(in_layout.mode().iloc[0])} if len(in_layout) else set(widths)
    else:
        allowed = {len(hdr)} if hdr else {int(counts.mode().iloc[0])}
    good = counts.isin(allowed)
    if counts.max() == 1 and 1 not in allowed:
        msg = (
            f"{path}: no {sep_label} delimiters found; the {what} must be "
            f"{sep_label}-delimited (check the export settings or inputs.voter_format)."
        )
        raise InputError(msg)
    if good.mean() < _MIN_GOOD:
        msg = (
            f"{path}: only {int(good.sum()):,} of {len(good):,} rows have the expected "
            f"{sorted(allowed)} {sep_label}-delimited fields; this is not a {what} in "
            "the configured layout (check inputs.voter_format and the file)."
        )
        raise InputError(msg)
    last = int(body.index[-1])
    if ends_mid_line and not bool(good.loc[last]):
        msg = (
            f"{path}: the file ends in the middle of row {last} (truncated download "
            "or copy?); get a complete copy of the file."
        )
        raise InputError(msg)
    reasons = (
        "has " + counts[~good].astype(str) + f" fields, expected {sorted(allowed)}"
    )
    invalid = body.str.contains(_REPLACEMENT, regex=False)
    reasons = pd.concat(
        [
            reasons,
            pd.Series(f"bytes not valid in {enc}", index=body.index[invalid & good]),
        ]
    ).sort_index()
    good &= ~invalid
    width = max(allowed)
    if quoted:
        kept = [r for r, g in zip(rows, good.tolist(), strict=True) if g]
        frame = pd.DataFrame(kept, index=body.index[good], dtype=object)
    elif good.any():
        frame = pd.read_csv(
            io.StringIO("\n".join(body[good].tolist())),
            sep=sep,
            header=None,
            names=list(range(width)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            quoting=csv.QUOTE_NONE,
            engine="c",
            skip_blank_lines=False,
        )
        frame.index = body.index[good]
    else:
        frame = pd.DataFrame(index=body.index[:0], columns=range(width))
    frame = frame.reindex(columns=range(width)).fillna("").astype(str)
    frame.index.name = "line"
    bad = pd.DataFrame(
        {"line": reasons.index.astype(int), "reason": reasons.to_numpy()}
    )
    logger.debug(
        "%s: %s rows, %s bad, encoding %s", path.name, len(frame), len(bad), enc
    )
    return RawTable(path=path, frame=frame, bad=bad, header=hdr, encoding=enc)
