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
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from ._archive import read_input, split_member

__all__ = ["RawTable", "Sample", "decode", "read_delimited"]

logger = logging.getLogger(__name__)

_REPLACEMENT = "\ufffd"
_SNIFF = 64_000
_CHUNK = 1 << 24
_SAMPLE = 2000
_LF, _CR = 10, 13
#: Share of data lines that must have the layout's field count for the file to count
#: as that layout at all; below it the file is rejected as a whole.
_MIN_GOOD = 0.5
#: More rows than this holding bytes invalid in a declared encoding (and more than
#: `_BAD_SHARE` of the rows) stop the load: the declared encoding is wrong.
_BAD_FEW = 5
_BAD_SHARE = 1e-4
_BINARY_HINT = (
    "give the text export (gzip, bzip2, xz and zip archives are read as they are)"
)

Buffer = bytes | bytearray


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

    @property
    def name(self) -> str:
        """File name for reports: ``VOT.txt``, or ``export.zip:data/VOT.txt``."""
        archive, member = split_member(self.path)
        return f"{archive.name}:{member}" if member else self.path.name


@dataclass(frozen=True)
class Sample:
    """The first rows of a file, for adapters to recognise its layout."""

    path: Path
    header: list[str] | None
    width: int
    rows: list[list[str]]

    def column(self, i: int) -> pd.Series:
        """Field `i` of the sampled rows."""
        return pd.Series([r[i] for r in self.rows], dtype=object)


def _sniff_utf16(data: Buffer) -> str | None:
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
    data: Buffer, path: Path, *, encoding: str = "auto", what: str = "file"
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
        msg = f"{path}: binary data, not a delimited text {what}; {_BINARY_HINT}."
        raise InputError(msg)
    return text, enc


def _decodes(data: Buffer, codec: str) -> bool:
    """Check that `data` is valid in `codec`, in chunks, without keeping the text."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        for i in range(0, len(data), _CHUNK):
            decoder.decode(data[i : i + _CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8(data: Buffer) -> bool:
    """Check UTF-8 validity in chunks, without holding the decoded text."""
    return _decodes(data, "utf-8")


def _codec(encoding: str, path: Path) -> str:
    """Return the codec's canonical name ("" for auto); unknown names are errors."""
    if encoding.lower() in ("auto", ""):
        return ""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        msg = (
            f"{path}: unknown encoding {encoding!r}; use auto, utf-8, latin-1, "
            "cp1252 or utf-16 (setting inputs.encoding)."
        )
        raise InputError(msg) from None


def _likely_encoding(data: Buffer, used: str) -> tuple[str, str]:
    """Return (description, codec name) of the encoding `data` is most likely in."""
    used = codecs.lookup(used).name
    if _sniff_utf16(data):
        return "UTF-16", "utf-16"
    for codec, label in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        if codec != used and _decodes(data, codec):
            return label, codec
    return "Latin-1", "latin-1"


def _as_utf8(
    data: Buffer, path: Path, encoding: str, what: str
) -> tuple[Buffer, str, tuple[str, str] | None]:
    """
    Return the file as UTF-8 bytes (invalid input replaced by U+FFFD).

    The third value is the likely encoding when a declared one left invalid bytes
    (U+FFFD in the text), for the caller's message; ``None`` otherwise.
    """
    codec = _codec(encoding, path)
    plain = not data.startswith(
        (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    )
    utf16 = _sniff_utf16(data)
    if plain and codec in ("", "utf-8") and not utf16 and _is_utf8(data):
        _check_binary(data, path, what)
        return data, "utf-8", None
    if (
        plain
        and codec not in ("", "utf-8", "utf-16", "utf-16-le", "utf-16-be")
        and not utf16
        and not data.isascii()
        and _is_utf8(data)
    ):
        msg = (
            f"{path}: the {what} is UTF-8 (its accented letters are UTF-8 byte "
            f"pairs) but inputs.encoding = {encoding!r} would garble them; set "
            'inputs.encoding = "utf-8" or "auto".'
        )
        raise InputError(msg)
    text, enc = decode(data, path, encoding=encoding, what=what)
    guess = None
    if codec and _REPLACEMENT in text:
        guess = _likely_encoding(data, enc)
    return text.encode("utf-8"), enc, guess


def _check_binary(buf: Buffer, path: Path, what: str) -> None:
    if b"\x00" in buf[:_SNIFF]:
        msg = f"{path}: binary data, not a delimited text {what}; {_BINARY_HINT}."
        raise InputError(msg)


def _lines(buf: Buffer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return start, end (without CR/LF) and 1-based number of each non-empty line."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    parts = [
        np.flatnonzero(arr[i : i + _CHUNK] == _LF) + i
        for i in range(0, len(arr), _CHUNK)
    ]
    nl = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    has_cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == _CR)
    ends = ends - has_cr
    keep = ends > starts
    return starts[keep], ends[keep], np.flatnonzero(keep) + 1


def _fields(line: str, sep: str, quoting: bool) -> list[str]:
    if quoting:
        return next(csv.reader([line], delimiter=sep, quotechar='"'), [])
    return line.split(sep)


def read_delimited(
    path: Path,
    *,
    sep: str,
    widths: tuple[int, ...] = (),
    header: Callable[[list[str]], bool] | bool | None = None,
    encoding: str = "auto",
    what: str = "voter file",
    quoting: bool = True,
    pick: Callable[[Sample], list[int]] | None = None,
) -> RawTable:
    """
    Read one delimited text file into strings, keeping each row's line number.

    The file is parsed by Arrow's CSV reader (vectorised, no Python per row);
    rows with the wrong number of fields come back through its invalid-row
    handler and are listed in ``bad``. Embedded newlines inside quoted fields are
    not supported (each line is one record, as in every state's export).

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
    pick
        Given a :class:`Sample` of the file (header, width, first rows), return the
        positions of the columns to keep; the others are not parsed (saves memory
        on statewide files). The function may raise :class:`InputError`.

    Returns
    -------
    RawTable
        Good rows (columns labelled by their position in the file) and bad lines.

    Raises
    ------
    InputError
        If the file is missing, empty, binary, not delimited by `sep`, or ends in
        the middle of a row.
    """
    path = Path(path)
    data, compressed = read_input(path, what)
    buf, enc, likely = _as_utf8(data, path, encoding, what)
    del data  # `buf` is the same bytes, or their UTF-8 copy
    if buf.startswith(codecs.BOM_UTF8):
        buf = buf[len(codecs.BOM_UTF8) :]
    if not buf or buf.isspace():
        msg = (
            f"{path}: the {what} is empty; export it again or drop it from the config."
        )
        raise InputError(msg)
    starts, ends, numbers = _lines(buf)
    text_lines = [
        buf[a:b].decode("utf-8", errors="replace")
        for a, b in zip(starts[:_SAMPLE].tolist(), ends[:_SAMPLE].tolist(), strict=True)
    ]
    if not any(line.strip() for line in text_lines):
        msg = (
            f"{path}: the {what} is empty; export it again or drop it from the config."
        )
        raise InputError(msg)
    first = _fields(text_lines[0], sep, quoting)
    has_header = header(first) if callable(header) else bool(header)
    hdr = [f.strip().strip('"') for f in first] if has_header else None
    if has_header and len(starts) == 1:
        msg = f"{path}: the {what} has a header but no rows; export it again."
        raise InputError(msg)
    sep_label = {"\t": "tab", "|": "pipe (|)", ",": "comma"}.get(sep, repr(sep))
    rows = [_fields(x, sep, quoting) for x in text_lines[1 if hdr else 0 :]]
    counts = pd.Series([len(r) for r in rows] or [len(first)])
    if widths:
        in_layout = counts[counts.isin(widths)]
        width = int(in_layout.mode().iloc[0]) if len(in_layout) else max(widths)
    else:
        width = len(hdr) if hdr else int(counts.mode().iloc[0])
    if counts.max() == 1 and width != 1:
        msg = (
            f"{path}: no {sep_label} delimiters found; the {what} must be "
            f"{sep_label}-delimited (check the export settings or inputs.voter_format)."
        )
        raise InputError(msg)
    keep = list(range(width))
    if pick is not None:
        keep = sorted(
            set(pick(Sample(path, hdr, width, [r for r in rows if len(r) == width])))
        )
    table, invalid = _arrow_read(buf, sep, width, quoting, keep)
    n_rows = len(numbers)
    good = np.ones(n_rows, dtype=bool)
    bad_reasons: dict[int, str] = {}
    for row_number, actual in invalid:
        good[row_number - 1] = False
        bad_reasons[row_number - 1] = f"has {actual} fields, expected {width}"
    data_rows = n_rows - (1 if hdr else 0)
    n_good = int(good[1:].sum()) if hdr else int(good.sum())
    if data_rows and n_good < _MIN_GOOD * data_rows:
        msg = (
            f"{path}: only {n_good:,} of {data_rows:,} rows have the expected "
            f"{width} {sep_label}-delimited fields; this is not a {what} in the "
            "configured layout (check inputs.voter_format and the file)."
        )
        raise InputError(msg)
    if hdr is not None:
        if not good[0]:  # the header itself has another width than the rows
            msg = (
                f"{path}: the header has {len(hdr)} fields but the rows have {width}; "
                "check the delimiter and the header line."
            )
            raise InputError(msg)
        good[0] = False
        table = table.slice(1)
    if not buf.endswith(b"\n") and not good[-1] and (n_rows - 1) in bad_reasons:
        msg = (
            f"{path}: the file ends in the middle of line {int(numbers[-1])} "
            "(truncated download or copy?); get a complete copy of the file."
        )
        raise InputError(msg)
    line_index = pd.Index(numbers[good], name="line")
    replaced = b"\xef\xbf\xbd" in buf  # U+FFFD: bytes invalid in the encoding
    del buf  # the parsed table replaces the bytes
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    frame.columns = keep
    frame.index = line_index
    bad = pd.DataFrame(
        {
            "line": numbers[list(bad_reasons)].astype(int),
            "reason": list(bad_reasons.values()),
        }
    )
    if hdr is not None and len(frame):  # header rows repeated by concatenated exports
        again = np.ones(len(frame), dtype=bool)
        for c in keep:
            again &= (frame[c].str.strip() == hdr[c]).to_numpy(dtype=bool)
        if again.any():
            extra = pd.DataFrame(
                {"line": frame.index[again], "reason": "repeated header row"}
            )
            bad = pd.concat([bad, extra], ignore_index=True)
            frame = frame[~again]
    if replaced:
        hit = np.zeros(len(frame), dtype=bool)
        for c in frame.columns:
            hit |= frame[c].str.contains(_REPLACEMENT, regex=False).to_numpy(dtype=bool)
        if hit.any():
            _check_invalid_bytes(path, int(hit.sum()), data_rows, enc, likely)
            extra = pd.DataFrame(
                {"line": frame.index[hit], "reason": f"bytes not valid in {enc}"}
            )
            bad = pd.concat([bad, extra], ignore_index=True)
            frame = frame[~hit]
    bad = bad.sort_values("line", kind="stable").reset_index(drop=True)
    logger.debug(
        "%s: %s rows, %s bad, encoding %s%s",
        path.name,
        len(frame),
        len(bad),
        enc,
        f", {compressed}-compressed" if compressed else "",
    )
    return RawTable(path=path, frame=frame, bad=bad, header=hdr, encoding=enc)


def _check_invalid_bytes(
    path: Path, n_bad: int, n_rows: int, enc: str, likely: tuple[str, str] | None
) -> None:
    """Stop when many rows are invalid in the declared encoding; else warn."""
    label, codec = likely or ("another encoding", "auto")
    if n_bad > _BAD_FEW and n_bad > _BAD_SHARE * n_rows:
        msg = (
            f"{path}: {n_bad:,} of {n_rows:,} rows hold bytes not valid in {enc}, "
            f"the declared encoding; the file looks like {label}: set "
            f'inputs.encoding = "{codec}" (or "auto").'
        )
        raise InputError(msg)
    logger.warning(
        "%s: %s rows hold bytes not valid in %s and are rejected; if the file is "
        "%s, set inputs.encoding = %r",
        path.name,
        n_bad,
        enc,
        label,
        codec,
    )


def _arrow_read(
    buf: Buffer, sep: str, width: int, quoting: bool, keep: list[int]
) -> tuple[pa.Table, list[tuple[int, int]]]:
    """Parse with Arrow: every column a string; wrong-width rows reported, not kept."""
    invalid: list[tuple[int, int]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((int(row.number), int(row.actual_columns)))
        return "skip"

    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(buf),  # no copy of the text
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=names, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"' if quoting else False,
                newlines_in_values=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=[names[i] for i in keep],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                check_utf8=False,
            ),
        )
    except pa.ArrowInvalid as err:  # pragma: no cover - defensive, handler skips rows
        msg = f"cannot parse the file ({str(err).splitlines()[0][:120]})."
        raise InputError(msg) from None
    return table, invalid
