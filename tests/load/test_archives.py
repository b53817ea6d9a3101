"""Compressed inputs (gzip, bzip2, xz, zip) and encodings declared wrongly.

Every compression is read by its content, gives exactly the rows, rejects and line
numbers the plain file gives, and a truncated, corrupt or wrongly-named archive is a
one-line error naming the file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from _voterfiles import (
    VOT_HEADER,
    check_accounting,
    config,
    join,
    vot_fields,
    write_ma,
)

from canvass import load, schema
from canvass.errors import InputError
from canvass.load._archive import expand_input, read_head, read_input

COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}
KINDS = ("gzip", "bz2", "xz", "zip")


def _pack(path: Path, kind: str, *, name: str | None = None) -> Path:
    """Compress `path` into a new file (its name need not say how) and remove it."""
    data = path.read_bytes()
    out = path.with_name(name or f"{path.name}.{kind}")
    if kind == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.name, data)
    else:
        out.write_bytes(COMPRESS[kind](data))
    path.unlink()
    return out


def _ma_with_bad_rows(folder: Path) -> tuple[Path, Path, Path]:
    """MA files whose VOT has a short row (line 4) and a blank line (line 6)."""
    vot, anp, acp = write_ma(folder, 9)
    lines = vot.read_text().splitlines(keepends=True)
    lines.insert(3, "|".join(vot_fields(50)[:10]) + "\n")
    lines.insert(5, "\n")
    vot.write_text("".join(lines))
    return vot, anp, acp


def _load(vot: Path, anp: Path, acp: Path) -> load.LoadResult:
    return load.load_voter_file(config(voters=[vot], history=[anp, acp]))


@pytest.mark.parametrize("kind", KINDS)
def test_compressed_ma_loads_like_plain(tmp_path: Path, kind: str) -> None:
    plain_dir, packed_dir = tmp_path / "plain", tmp_path / "packed"
    plain_dir.mkdir()
    packed_dir.mkdir()
    plain = _load(*_ma_with_bad_rows(plain_dir))
    packed_files = [_pack(p, kind) for p in _ma_with_bad_rows(packed_dir)]
    before = sorted(p.name for p in packed_dir.iterdir())
    packed = _load(*packed_files)
    assert sorted(p.name for p in packed_dir.iterdir()) == before  # nothing unpacked
    pd.testing.assert_frame_equal(
        packed.voters.drop(columns=schema.SOURCE),
        plain.voters.drop(columns=schema.SOURCE),
    )
    pd.testing.assert_frame_equal(
        packed.history.drop(columns=schema.SOURCE, errors="ignore"),
        plain.history.drop(columns=schema.SOURCE, errors="ignore"),
    )
    # the same rejects with the same line numbers, counted inside the member
    assert packed.rejects[["line", "reason"]].equals(plain.rejects[["line", "reason"]])
    assert list(packed.rejects["line"]) == [4]
    check_accounting(packed.report, packed.rejects)
    names = [f["file"] for f in packed.report["files"]]
    suffix = ":214VOT_1.txt" if kind == "zip" else ""
    assert names[0] == f"214VOT_1.txt.{kind}{suffix}"
    assert packed.report["files"][0]["rows_in"] == 10


@pytest.mark.parametrize("kind", KINDS)
def test_compression_detected_by_content_not_name(tmp_path: Path, kind: str) -> None:
    vot, anp, acp = write_ma(tmp_path, 5)
    disguised = _pack(vot, kind, name="voters.txt")
    result = _load(disguised, anp, acp)
    assert len(result.voters) == 5
    assert result.report["files"][0]["rows_in"] == 5


def test_zip_members_picked_by_pattern(tmp_path: Path) -> None:
    files = write_ma(tmp_path, 6)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", "not data")
        zf.writestr("__MACOSX/._214VOT_1.txt", "apple clutter")
        for f in files:
            zf.writestr(f"data/{f.name}", f.read_bytes())
            f.unlink()
    result = load.load_voter_file(
        config(voters=[f"{archive}:*VOT*.txt"], history=[f"{archive}:*a?p*"])
    )
    assert len(result.voters) == 6
    names = [f["file"] for f in result.report["files"]]
    assert names == [
        "export.zip:data/214VOT_1.txt",
        "export.zip:data/214ACP_1.txt",
        "export.zip:data/214ANP_1.txt",
    ]
    assert set(result.voters[schema.SOURCE]) == {"export.zip:data/214VOT_1.txt"}
    # globs on the archive name work too
    paths = expand_input(tmp_path / "*.zip:*VOT*", "inputs.voters")
    assert paths == [Path(f"{archive}:data/214VOT_1.txt")]


def test_single_member_zip_needs_no_pattern(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 4)
    result = _load(_pack(vot, "zip"), _pack(anp, "zip"), _pack(acp, "zip"))
    assert len(result.voters) == 4


def test_gzip_inside_zip(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 4)
    gz = _pack(vot, "gzip")
    archive = _pack(gz, "zip", name="voters.zip")
    result = _load(archive, anp, acp)
    assert len(result.voters) == 4
    assert result.report["files"][0]["file"] == "voters.zip:214VOT_1.txt.gzip"


def test_mapped_gzip_sniffs_delimiter_and_encoding(tmp_path: Path) -> None:
    text = "ID\tLAST\tZIP\n1\tJOSÉ\t01060\n2\tMÜLLER\t01062\n"
    path = tmp_path / "SWVF_1_22.txt.gz"
    path.write_bytes(gzip.compress(text.encode("utf-16")))
    mapping = {"columns": {"voter_id": "ID", "last_name": "LAST", "zip5": "ZIP"}}
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[path], mapping=mapping)
    )
    assert list(result.voters[schema.LAST_NAME]) == ["JOSÉ", "MÜLLER"]
    assert result.report["files"][0]["encoding"] == "utf-16"


# --- broken archives: one line naming the file -------------------------------------


def _truncate(tmp: Path, kind: str) -> list[Path]:
    vot = write_ma(tmp, 400)[0]
    packed = _pack(vot, kind)
    data = packed.read_bytes()
    packed.write_bytes(data[: len(data) * 2 // 3])
    return [packed]


def _corrupt(tmp: Path, kind: str) -> list[Path]:
    vot = write_ma(tmp, 400)[0]
    packed = _pack(vot, kind)
    data = bytearray(packed.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 16] = bytes(16)
    packed.write_bytes(bytes(data))
    return [packed]


def _wrong_member(tmp: Path, kind: str) -> list[Path]:
    vot = write_ma(tmp, 4)[0]
    packed = _pack(vot, kind)
    return [Path(f"{packed}:*ANP*")]


BROKEN: list[tuple[str, Callable[[Path, str], list[Path]], str]] = [
    ("truncated", _truncate, "truncated or corrupt"),
    ("corrupt", _corrupt, "truncated or corrupt"),
    ("wrong member", _wrong_member, "member"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("case", "build", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_archives_are_one_line_errors(
    tmp_path: Path,
    kind: str,
    case: str,
    build: Callable[[Path, str], list[Path]],
    words: str,
) -> None:
    voters = build(tmp_path, kind)
    with pytest.raises(InputError) as info:
        load.load_voter_file(config(voters=voters))
    msg = str(info.value)
    assert "\n" not in msg
    assert words in msg
    assert f"214VOT_1.txt.{kind}" in msg
    if case == "wrong member" and kind == "zip":
        assert "holds 214VOT_1.txt" in msg  # the members are listed


def test_zip_with_several_members_and_no_pattern(tmp_path: Path) -> None:
    files = write_ma(tmp_path, 4)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in files:
            zf.write(f, f.name)
    with pytest.raises(InputError) as info:
        load.load_voter_file(config(voters=[archive]))
    msg = str(info.value)
    assert "\n" not in msg
    assert "3 members match" in msg
    assert "214ACP_1.txt, 214ANP_1.txt, 214VOT_1.txt" in msg
    assert "export.zip:NAME" in msg


def test_missing_archive_and_unsupported_formats(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.zip: .*voter file not found"):
        load.load_voter_file(config(voters=[f"{tmp_path}/nope.zip:*VOT*"]))
    xlsx = tmp_path / "voters.xlsx"
    with zipfile.ZipFile(xlsx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError, match="Excel workbook"):
        load.load_voter_file(config(voters=[xlsx]))
    tar = tmp_path / "voters.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        tf.add(write_ma(tmp_path, 3)[0], "214VOT_1.txt")
    with pytest.raises(InputError, match=r"voters\.tar\.gz: a tar archive"):
        load.load_voter_file(config(voters=[tar]))
    zst = tmp_path / "voters.txt.zst"
    zst.write_bytes(b"(\xb5/\xfd" + bytes(40))
    with pytest.raises(InputError, match="Zstandard"):
        load.load_voter_file(config(voters=[zst]))


def test_read_input_and_head(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n" * 100_000)
    packed = _pack(path, "xz")
    data, kind = read_input(packed)
    assert kind == "xz"
    assert bytes(data) == b"a,b\n" * 100_000
    assert read_head(packed, size=8) == b"a,b\na,b\n"
    assert read_head(tmp_path / "missing.gz") == b""


# --- declared encodings that are wrong (issue 20, item 5) ---------------------------

ACCENTED = ["JOSÉ", "MÜLLER", "GARCÍA", "NÚÑEZ", "BÉLANGER", "O'BRIEN", "SMITH"]


def _cp1252_voters(tmp: Path, n: int = 5000) -> Path:
    rows = [
        vot_fields(i, last=ACCENTED[i % len(ACCENTED)] if i % 10 == 0 else "SMITH")
        for i in range(1, n + 1)
    ]
    path = tmp / "214VOT_1.txt"
    path.write_bytes(join(rows, header=VOT_HEADER).encode("cp1252"))
    return path


def test_cp1252_file_declared_utf8_stops_with_the_likely_encoding(
    tmp_path: Path,
) -> None:
    path = _cp1252_voters(tmp_path)
    with pytest.raises(InputError) as info:
        load.load_voter_file(config(voters=[path], encoding="utf-8"))
    msg = str(info.value)
    assert "\n" not in msg
    assert "214VOT_1.txt" in msg
    assert "of 5,000 rows hold bytes not valid in utf-8" in msg
    assert 'Windows-1252: set inputs.encoding = "cp1252"' in msg
    # declared right, or auto, every row loads with its accents
    for enc in ("cp1252", "auto"):
        result = load.load_voter_file(config(voters=[path], encoding=enc))
        assert len(result.voters) == 5000
        assert "NÚÑEZ" in set(result.voters[schema.LAST_NAME])


def test_cp1252_mapped_file_declared_utf8_in_a_zip(tmp_path: Path) -> None:
    lines = ["ID,LAST,ZIP"] + [
        f"{i},{ACCENTED[i % len(ACCENTED)]},01060" for i in range(5000)
    ]
    path = tmp_path / "voters.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    archive = _pack(path, "zip")
    mapping = {"columns": {"voter_id": "ID", "last_name": "LAST", "zip5": "ZIP"}}
    with pytest.raises(InputError, match="Windows-1252") as info:
        load.load_voter_file(
            config(
                voter_format="mapped",
                voters=[archive],
                mapping=mapping,
                encoding="utf-8",
            )
        )
    assert "voters.csv.zip:voters.csv" in str(info.value)


def test_a_few_undecodable_rows_are_rejected_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [vot_fields(i) for i in range(1, 200)]
    text = join(rows, header=VOT_HEADER).encode()
    bad = join([vot_fields(500, last="JOS\xc9")]).encode("latin-1")
    path = tmp_path / "214VOT_1.txt"
    path.write_bytes(text + bad)
    result = load.load_voter_file(config(voters=[path], encoding="utf-8"))
    assert len(result.voters) == 199
    assert list(result.rejects["reason"]) == ["bytes not valid in utf-8"]
    assert any(
        r.levelname == "WARNING" and "not valid in utf-8" in r.getMessage()
        for r in caplog.records
    )


def test_utf8_file_declared_latin1_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "214VOT_1.txt"
    path.write_text(join([vot_fields(1, last="GARCÍA")], header=VOT_HEADER))
    with pytest.raises(InputError, match=r'is UTF-8.*set inputs.encoding = "utf-8"'):
        load.load_voter_file(config(voters=[path], encoding="latin-1"))


def test_text_size_and_preflight_see_inside_archives(tmp_path: Path) -> None:
    from canvass.guards import _check_inputs

    vot, anp, _ = write_ma(tmp_path, 30)
    size = vot.stat().st_size
    gz = _pack(vot, "gzip")
    assert load.text_size(gz) == size
    assert load.text_size(_pack(anp, "zip")) == len(
        zipfile.ZipFile(tmp_path / "214ANP_1.txt.zip").read("214ANP_1.txt")
    )
    assert load.text_size(tmp_path / "missing.gz") == 0
    good = config(voters=[f"{tmp_path}/*.zip:*ANP*"], precincts="x", streets="y")
    bad = config(voters=[f"{tmp_path}/*.zip:*VOT*"], precincts="x", streets="y")
    assert not [p for p in _check_inputs(good) if "voters" in p or "member" in p]
    assert any("no member matches '*VOT*'" in p for p in _check_inputs(bad))
