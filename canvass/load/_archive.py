"""Open tabular inputs the way they are downloaded: plain, gzip, bzip2, xz or zip.

Every reader of delimited text goes through :func:`read_input` (the whole text, for
parsing) or :func:`read_head` (its first bytes, for sniffing), so compression is
handled in one place:

* The compression is recognised by the file's first bytes (its magic number), not by
  its name: ``SWVF_1_22.txt.gz``, ``voters.bz2`` and a zip saved as ``.txt`` all work.
* The text is decompressed while it is read, into memory only: no unpacked copy is
  ever written to disk.
* A zip member is named after a colon: ``export.zip:*VOT*.txt`` (a shell-style
  pattern, compared without case, against the member's full name or its base name).
  A zip holding a single file needs no pattern. A pattern that matches nothing, or a
  zip with several files and no pattern, is a one-line error listing the members. A
  compressed file inside a zip (``export.zip:VOT.txt.gz``) is decompressed too.
* A truncated or corrupt archive is a one-line error naming the file (a gzip, bzip2
  or xz stream is checked to its end marker, a zip member against its CRC), never a
  partial load.
"""

from __future__ import annotations

import bz2
import contextlib
import fnmatch
import glob
import gzip
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Final, Protocol

from ..errors import InputError

__all__ = [
    "archive_members",
    "compression",
    "expand_input",
    "input_exists",
    "read_head",
    "read_input",
    "split_member",
    "text_size",
]

_CHUNK: Final = 1 << 24
_HEAD: Final = 65_536
#: (magic bytes, name) of the compressions read.
_READ: Final = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
)
#: (magic bytes, what it is) of formats recognised only to say what to do instead.
_REFUSED: Final = (
    (b"(\xb5/\xfd", "a Zstandard (.zst) archive"),
    (b"7z\xbc\xaf'\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 (.xls) workbook"),
)
#: Errors the decompressors raise on a truncated or corrupt stream.
_BROKEN: Final = (
    EOFError,
    OSError,  # gzip.BadGzipFile, bz2's "Invalid data stream"
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a zip compression method Python lacks
    RuntimeError,  # an encrypted zip member
)
_NAMES: Final = {"gzip": "gzip", "bz2": "bzip2", "xz": "xz", "zip": "zip"}
_MAX_LISTED: Final = 12


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _kind(head: bytes) -> str:
    """Return the compression of a stream starting with `head` ("" = none)."""
    for magic, name in _READ:
        if head.startswith(magic):
            return name
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0":
        return "bz2"
    return ""


def _refused(head: bytes) -> str:
    return next((what for magic, what in _REFUSED if head.startswith(magic)), "")


def split_member(path: Path | str, *, globs: bool = False) -> tuple[Path, str]:
    """
    Split ``archive.zip:pattern`` into the archive and the member pattern.

    Parameters
    ----------
    path
        A file, or a zip followed by a colon and a member name or pattern.
    globs
        Let the archive part be a glob pattern (``towns/*.zip:*VOT*``).

    Returns
    -------
    archive, member
        The file (or pattern) on disk and the member pattern ("" when none is
        given). A path that exists as it is is never split.
    """
    text = str(path)
    if ":" not in text or Path(text).exists():
        return Path(text), ""
    for i, char in enumerate(text):
        if char != ":" or i < 2:  # i < 2: a Windows drive letter
            continue
        head = text[:i]
        if globs and glob.has_magic(head):
            found = glob.glob(head)  # noqa: PTH207 - absolute patterns
            if found and all(Path(f).is_file() for f in found):
                return Path(head), text[i + 1 :]
        elif Path(head).is_file() or head.lower().endswith(".zip"):
            return Path(head), text[i + 1 :]
    return Path(text), ""


def _open_error(path: Path, what: str, err: OSError) -> InputError:
    if isinstance(err, FileNotFoundError):
        msg = f"{path}: {what} not found; check the path in the config (inputs)."
    elif isinstance(err, IsADirectoryError):
        msg = f"{path}: is a folder, expected a {what}; give the file itself."
    else:
        msg = f"{path}: cannot read the {what} ({err.strerror or err})."
    return InputError(msg)


def _broken(name: str, kind: str, what: str, err: BaseException) -> InputError:
    reason = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
    if isinstance(err, RuntimeError) and "encrypted" in reason:
        msg = f"{name}: the zip member is encrypted; unpack it with its password."
        return InputError(msg)
    msg = (
        f"{name}: the {_NAMES.get(kind, kind)}-compressed {what} is truncated or "
        f"corrupt ({reason}); download it again."
    )
    return InputError(msg)


def _not_zip(archive: Path, pattern: str) -> InputError:
    msg = (
        f"{archive}: not a zip archive, so it has no member {pattern!r}; give the "
        "file alone."
    )
    return InputError(msg)


def _data_members(zf: zipfile.ZipFile) -> list[str]:
    """Member files of a zip, without folders and macOS/hidden clutter."""
    names = []
    for info in zf.infolist():
        base = PurePosixPath(info.filename).name
        if info.is_dir() or info.filename.startswith("__MACOSX/"):
            continue
        if base.startswith(".") or base.lower() in ("thumbs.db", "desktop.ini"):
            continue
        names.append(info.filename)
    return names


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _pick(archive: Path, names: list[str], pattern: str, *, many: bool) -> list[str]:
    """Return the member(s) `pattern` names; one-line errors when none or unclear."""
    if not names:
        msg = f"{archive}: the zip archive holds no file; download it again."
        raise InputError(msg)
    if pattern:
        hits = [n for n in names if n == pattern]
        if not hits:
            pat = pattern.lower()
            hits = [
                n
                for n in names
                if fnmatch.fnmatchcase(n.lower(), pat)
                or fnmatch.fnmatchcase(PurePosixPath(n).name.lower(), pat)
            ]
        if not hits:
            msg = (
                f"{archive}: no member matches {pattern!r}; the archive holds "
                f"{_listing(names)}."
            )
            raise InputError(msg)
    else:
        hits = names
    hits = sorted(hits)
    if len(hits) > 1 and (not many or not pattern):
        msg = (
            f"{archive}: {len(hits)} members match "
            f"{repr(pattern) if pattern else '(no member named)'}: {_listing(hits)}; "
            f"name the one to read as `{archive.name}:NAME` (wildcards allowed)."
        )
        raise InputError(msg)
    return hits


def _zip_names(
    fh: IO[bytes], archive: Path, what: str
) -> tuple[zipfile.ZipFile, list[str]]:
    try:
        zf = zipfile.ZipFile(fh)
    except _BROKEN as err:
        raise _broken(str(archive), "zip", what, err) from None
    names = _data_members(zf)
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        zf.close()
        msg = (
            f"{archive}: an Excel workbook, not a delimited text {what}; save it as "
            "CSV or tab-delimited text."
        )
        raise InputError(msg)
    return zf, names


def archive_members(path: Path | str, what: str = "file") -> list[str]:
    """
    List the files inside a zip archive (folders and hidden files left out).

    Raises
    ------
    InputError
        If the file is missing, not a zip, truncated or corrupt.
    """
    archive, _ = split_member(path)
    try:
        with archive.open("rb") as fh:
            if _kind(fh.read(8)) != "zip":
                msg = f"{archive}: not a zip archive."
                raise InputError(msg)
            fh.seek(0)
            zf, names = _zip_names(fh, archive, what)
            zf.close()
    except OSError as err:
        raise _open_error(archive, what, err) from None
    return names


def compression(path: Path | str) -> str:
    """
    Return how a file is compressed, from its first bytes.

    Returns
    -------
    str
        ``gzip``, ``bz2``, ``xz``, ``zip`` or ``""`` (plain, or unreadable: the
        reader then reports the problem).
    """
    archive, member = split_member(path)
    if member:
        return "zip"
    try:
        with archive.open("rb") as fh:
            return _kind(fh.read(8))
    except OSError:
        return ""


def input_exists(path: Path | str) -> bool:
    """Whether a path, or the archive of an ``archive.zip:member`` path, exists."""
    archive, _ = split_member(path)
    return archive.exists()


def text_size(path: Path | str) -> int:
    """
    Return the size of the text a file holds, in bytes (0 when unreadable).

    Exact for plain files and zip members, the gzip trailer's size for gzip (modulo
    4 GiB); bzip2 and xz record no size, so their compressed size is returned.
    """
    archive, pattern = split_member(path)
    try:
        kind = compression(archive)
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                names = _pick(archive, _data_members(zf), pattern, many=True)
                return sum(zf.getinfo(n).file_size for n in names)
        size = archive.stat().st_size
        if kind == "gzip" and size >= 18:
            with archive.open("rb") as fh:
                fh.seek(-4, 2)
                return int.from_bytes(fh.read(4), "little")
    except (OSError, InputError, zipfile.BadZipFile):
        return 0
    return size


def expand_input(full: Path, setting: str) -> list[Path]:
    """
    Expand one configured input: glob patterns, and zip members by their pattern.

    Parameters
    ----------
    full
        The resolved path or pattern, maybe ``archive.zip:member-pattern``.
    setting
        The setting it comes from, for messages (``inputs.voters``).

    Returns
    -------
    list of Path
        Files, and ``archive.zip:member`` paths for the zip members to read (every
        member the pattern matches, sorted).

    Raises
    ------
    InputError
        If a glob matches no file or a member pattern no member; a zip with
        several members and no pattern.
    """
    text = str(full)
    outer_path, pattern = split_member(text, globs=True)
    outer = str(outer_path)
    if glob.has_magic(outer):
        files = sorted(Path(p) for p in glob.glob(outer))  # noqa: PTH207
        if not files:
            msg = f"`{setting}`: no file matches {text!r}; check the pattern."
            raise InputError(msg)
    else:
        files = [Path(outer)]
    paths: list[Path] = []
    for path in files:
        if pattern or (path.is_file() and compression(path) == "zip"):
            if not path.exists():
                paths.append(Path(f"{path}:{pattern}"))  # the reader says "not found"
                continue
            if compression(path) != "zip":
                raise _not_zip(path, pattern)
            names = _pick(path, archive_members(path), pattern, many=True)
            paths.extend(Path(f"{path}:{n}") for n in names)
        else:
            paths.append(path)
    return paths


@contextlib.contextmanager
def _opened(path: Path | str, what: str) -> Iterator[tuple[_Reader, str, str]]:
    """Yield (stream of the text, compression, name for messages)."""
    archive, pattern = split_member(path)
    with contextlib.ExitStack() as stack:
        try:
            fh: IO[bytes] = stack.enter_context(archive.open("rb"))
            head = fh.read(8)
            fh.seek(0)
        except OSError as err:
            raise _open_error(archive, what, err) from None
        kind, name = _kind(head), str(archive)
        if pattern and kind != "zip":
            raise _not_zip(archive, pattern)
        if refused := _refused(head):
            msg = (
                f"{archive}: {refused}, not a delimited text {what}; give it as text, "
                "gzip, bzip2, xz or zip."
            )
            raise InputError(msg)
        source: IO[bytes] = fh
        if kind == "zip":
            zf, names = _zip_names(fh, archive, what)
            stack.enter_context(zf)
            member = _pick(archive, names, pattern, many=False)[0]
            name = f"{archive}:{member}"
            try:
                with zf.open(member) as first:
                    inner = first.read(8)
                source = stack.enter_context(zf.open(member))
            except _BROKEN as err:
                raise _broken(name, "zip", what, err) from None
            if _kind(inner) in ("gzip", "bz2", "xz"):
                kind = _kind(inner)
        stream: _Reader = source
        if kind == "gzip":
            stream = stack.enter_context(gzip.GzipFile(fileobj=source, mode="rb"))
        elif kind == "bz2":
            stream = stack.enter_context(bz2.BZ2File(source, "rb"))
        elif kind == "xz":
            stream = stack.enter_context(lzma.LZMAFile(source, "rb"))
        yield stream, kind, name


def read_input(path: Path | str, what: str = "file") -> tuple[bytes | bytearray, str]:
    """
    Read a whole text input into memory, decompressing it on the way.

    Parameters
    ----------
    path
        A file (plain, gzip, bzip2, xz or zip) or ``archive.zip:member``.
    what
        What the file is, for messages ("voter file").

    Returns
    -------
    data, compression
        The (decompressed) bytes and the compression found ("" = plain).

    Raises
    ------
    InputError
        If the file is missing, a folder, unreadable, an unsupported archive, or
        a truncated or corrupt archive; if a zip's members do not match.
    """
    with _opened(path, what) as (stream, kind, name):
        if not kind:
            try:
                return stream.read(), kind
            except OSError as err:
                raise _open_error(split_member(path)[0], what, err) from None
        buf = bytearray()
        try:
            while chunk := stream.read(_CHUNK):
                buf += chunk
        except _BROKEN as err:
            raise _broken(name, kind, what, err) from None
    if buf[257:262] == b"ustar":  # a .tar.gz: many files in one stream
        msg = (
            f"{name}: a tar archive, not a delimited text {what}; give the file "
            "itself (gzip, bzip2 or xz) or a zip."
        )
        raise InputError(msg)
    return buf, kind


def read_head(path: Path | str, what: str = "file", size: int = _HEAD) -> bytes:
    """
    Read the first `size` bytes of a text input (decompressed), for sniffing.

    Returns
    -------
    bytes
        Up to `size` bytes; ``b""`` when the file cannot be opened (the full read
        then reports why).
    """
    try:
        with _opened(path, what) as (stream, kind, name):
            try:
                return stream.read(size)
            except _BROKEN as err:
                raise _broken(name, kind, what, err) from None
    except InputError:
        return b""
