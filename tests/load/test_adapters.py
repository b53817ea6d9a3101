"""Tests for the voter-file adapters and the broken-input corpus.

Every broken input must end in a one-line CanvassError naming the file, or in rejected
rows with a reason (and rows in = loaded + rejected) — never another exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from _voterfiles import (
    HIST_HEADER,
    VOT_HEADER,
    check_accounting,
    config,
    hist_fields,
    join,
    vot_fields,
    voter_id,
    write_ma,
)

from canvass import load, schema
from canvass.errors import CanvassError, InputError
from canvass.load._fields import normalise_zip, parse_dates, split_street_line

# --- field parsers ----------------------------------------------------------------


def test_parse_dates_compact_forms() -> None:
    dates, bad = parse_dates(
        pd.Series(["20240305", "03052024", "10102010", "2/30/2020"])
    )
    assert list(dates[:3]) == [
        pd.Timestamp(2024, 3, 5),
        pd.Timestamp(2024, 3, 5),
        pd.Timestamp(2010, 10, 10),
    ]
    assert list(bad) == [False, False, False, True]


def test_parse_dates_formats() -> None:
    raw = pd.Series(
        [
            "03/05/2024",
            "2024-03-05",
            "20240305",
            "3/5/24",
            "3/5/50",
            "",
            "00/00/0000",
            "13/45/2020",
            "01/02/2003 00:00:00",
        ]
    )
    dates, bad = parse_dates(raw)
    assert list(dates[:4]) == [pd.Timestamp(2024, 3, 5)] * 4
    assert dates[4] == pd.Timestamp(1950, 3, 5)  # two-digit year not in the future
    assert dates[5:8].isna().all()
    assert dates[8] == pd.Timestamp(2003, 1, 2)
    assert list(bad) == [False] * 7 + [True, False]


def test_zip_codes_keep_leading_zeros() -> None:
    zips, padded = normalise_zip(
        pd.Series(["01060", "1060", "01060-1234", "010601234", "", "x"])
    )
    assert list(zips) == ["01060", "01060", "01060", "01060", "", ""]
    assert list(padded) == [False, True, False, False, False, False]


def test_split_street_line() -> None:
    parts = split_street_line(
        pd.Series(
            [
                "795 JOHNSON CLUB APT. 394",
                "12A ELM ST #3",
                "12 1/2 MAIN ST",
                "100 A ST",
                "MAIN ST",
                "5 OAK AVE, UNIT 2B",
                "7 KING ST STE 100",
            ]
        )
    )
    assert parts.to_dict("list") == {
        schema.STREET_NUMBER: ["795", "12", "12", "100", "", "5", "7"],
        schema.STREET_NUMBER_SUFFIX: ["", "A", "1/2", "", "", "", ""],
        schema.STREET_NAME: [
            "JOHNSON CLUB",
            "ELM ST",
            "MAIN ST",
            "A ST",
            "MAIN ST",
            "OAK AVE",
            "KING ST",
        ],
        schema.UNIT: ["394", "3", "", "", "", "2B", "100"],
    }


# --- MA detection -----------------------------------------------------------------


def test_ma_anp_acp_told_apart_without_header_or_name(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 6, header=False)
    a, b = tmp_path / "history_one.txt", tmp_path / "history_two.txt"
    anp.rename(a)
    acp.rename(b)
    result = load.load_voter_file(config(voters=[vot], history=[a, b]))
    layouts = {f["file"]: f["layout"] for f in result.report["files"]}
    assert layouts == {vot.name: "ma_vot", a.name: "ma_anp", b.name: "ma_acp"}
    assert result.rejects.empty


def test_ma_crlf_and_blank_lines(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 5, newline="\r\n")
    vot.write_bytes(vot.read_bytes() + b"\r\n\r\n")
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    assert len(result.voters) == 5
    assert result.report["files"][0]["rows_in"] == 5  # blank lines are not records


# --- the broken-input corpus ------------------------------------------------------

Case = Callable[[Path], tuple[list[Path], list[Path]]]


def _files(
    tmp: Path, vot_text: str | bytes, hist_text: str | bytes | None = None
) -> tuple[list[Path], list[Path]]:
    vot = tmp / "214VOT_1.txt"
    vot.write_bytes(vot_text.encode() if isinstance(vot_text, str) else vot_text)
    hist: list[Path] = []
    if hist_text is not None:
        h = tmp / "214ACP_1.txt"
        h.write_bytes(hist_text.encode() if isinstance(hist_text, str) else hist_text)
        hist.append(h)
    return [vot], hist


def _vot(n: int = 4, **over: str) -> list[list[str]]:
    return [vot_fields(i, **(over if i == 2 else {})) for i in range(1, n + 1)]


def _acp(rows: list[tuple[int, str, str]]) -> str:
    return join(
        [hist_fields(i, k, d, acp=True) for i, k, d in rows], header=HIST_HEADER
    )


GOOD_ACP = _acp(
    [(1, "STATE PRIMARY", "09/04/2018"), (2, "STATE PRIMARY", "09/04/2018")]
)

# cases that must raise one clean InputError: (name, builder, words in the message)
ERRORS: list[tuple[str, Case, str]] = [
    ("empty file", lambda t: _files(t, ""), "empty"),
    ("whitespace only", lambda t: _files(t, "\n\n  \n"), "empty"),
    ("header only", lambda t: _files(t, join([], header=VOT_HEADER)), "no rows"),
    ("missing file", lambda t: ([t / "nope.txt"], []), "not found"),
    ("folder as file", lambda t: ([t], []), "folder"),
    (
        "comma instead of pipe",
        lambda t: _files(t, join(_vot(), header=VOT_HEADER).replace("|", ",")),
        "delimit",
    ),
    (
        "truncated mid-row",
        lambda t: _files(t, join(_vot(), header=VOT_HEADER)[:-40]),
        "truncated",
    ),
    (
        "not a voter file (csv of something else)",
        lambda t: _files(t, "a|b\n1|2\n3|4\n"),
        "not a Massachusetts VOT",
    ),
    (
        "binary file",
        lambda t: _files(t, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50),
        "binary",
    ),
    (
        "history with wrong field count",
        lambda t: _files(t, join(_vot(), header=VOT_HEADER), "x|y|z\n1|2|3\n"),
        "ANP/ACP",
    ),
    (
        "unknown declared encoding",
        lambda t: _files(t, join(_vot())),
        "unknown encoding",
    ),
]


@pytest.mark.parametrize(("name", "build", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_broken_inputs_raise_one_line_errors(
    tmp_path: Path, name: str, build: Case, words: str
) -> None:
    voters, history = build(tmp_path)
    enc = "klingon-8" if name == "unknown declared encoding" else "auto"
    with pytest.raises(InputError) as info:
        load.load_voter_file(config(voters=voters, history=history, encoding=enc))
    msg = str(info.value)
    assert "\n" not in msg
    assert words.lower() in msg.lower()
    assert str(voters[0].name) in msg or str(history[0].name) in msg


def _reason(result: load.LoadResult, text: str) -> int:
    return int(result.rejects["reason"].str.contains(text, regex=False).sum())


# cases answered with rejected rows or flags: (name, builder, check)
Check = Callable[[load.LoadResult], None]
ROWS: list[tuple[str, Case, Check]] = [
    (
        "short row",
        lambda t: _files(t, join([*_vot()[:3], vot_fields(9)[:10], *_vot()[3:]])),
        lambda r: _reason(r, "has 11 fields") == 1 and len(r.voters) == 4,
    ),
    (
        "long row",
        lambda t: _files(t, join([*_vot(), [*vot_fields(9), "X", "Y"]])),
        lambda r: _reason(r, "has 29 fields") == 1 and len(r.voters) == 4,
    ),
    (
        "duplicate voter id",
        lambda t: _files(
            t, join([*_vot(), vot_fields(3, seq="99")], header=VOT_HEADER)
        ),
        lambda r: (
            _reason(r, "duplicate voter id (first at 214VOT_1.txt line 4)") == 1
            and r.report["flags"]["duplicate_voter_ids"]["voter_ids"] == [voter_id(3)]
        ),
    ),
    (
        "missing voter id",
        lambda t: _files(t, join(_vot(id=""))),
        lambda r: _reason(r, "missing voter id") == 1 and len(r.voters) == 3,
    ),
    (
        "bad birth date kept and flagged",
        lambda t: _files(t, join(_vot(dob="31/31/1990"))),
        lambda r: (
            len(r.voters) == 4
            and pd.isna(r.voters.loc[voter_id(2), schema.BIRTH_DATE])
            and r.report["flags"]["unreadable_birth_date"]["count"] == 1
        ),
    ),
    (
        "born in the future",
        lambda t: _files(t, join(_vot(dob="01/01/2999"))),
        lambda r: (
            r.report["flags"]["impossible_birth_date"]["voter_ids"] == [voter_id(2)]
        ),
    ),
    (
        "born after registering",
        lambda t: _files(t, join(_vot(dob="01/01/2005", reg="01/01/2001"))),
        lambda r: r.report["flags"]["born_after_registering"]["count"] == 1,
    ),
    (
        "no street address",
        lambda t: _files(t, join(_vot(street="", num=""))),
        lambda r: (
            r.report["flags"]["no_street_address"]["count"] == 1 and len(r.voters) == 4
        ),
    ),
    (
        "bad election date",
        lambda t: _files(t, join(_vot()), _acp([(1, "STATE PRIMARY", "99/99/2018")])),
        lambda r: _reason(r, "unreadable election date '99/99/2018'") == 1,
    ),
    (
        "missing election date",
        lambda t: _files(t, join(_vot()), _acp([(1, "STATE PRIMARY", "")])),
        lambda r: _reason(r, "missing election date") == 1,
    ),
    (
        "election in the future",
        lambda t: _files(t, join(_vot()), _acp([(1, "STATE PRIMARY", "09/01/2999")])),
        lambda r: _reason(r, "election date in the future") == 1,
    ),
    (
        "unknown election code",
        lambda t: _files(
            t,
            join(_vot()),
            _acp([(1, "BAKE SALE", "09/04/2018"), (2, "STATE PRIMARY", "09/04/2018")]),
        ),
        lambda r: (
            _reason(r, "unknown election code 'BAKE SALE'") == 1
            and len(r.history) == 1
            and r.report["flags"]["unknown_election_codes"]["codes"] == {"BAKE SALE": 1}
        ),
    ),
    (
        "history voter not in voter file",
        lambda t: _files(t, join(_vot()), _acp([(77, "STATE PRIMARY", "09/04/2018")])),
        lambda r: _reason(r, "voter id not in the voter file") == 1,
    ),
    (
        "duplicate vote record",
        lambda t: _files(
            t, join(_vot()), _acp([(1, "STATE PRIMARY", "09/04/2018")] * 2)
        ),
        lambda r: (
            _reason(r, "duplicate vote record for election 2018-09-04_state_primary")
            == 1
        ),
    ),
    (
        "voted before registering kept",
        lambda t: _files(t, join(_vot(reg="01/01/2019")), GOOD_ACP),
        lambda r: (
            len(r.history) == 2
            and r.report["flags"]["voted_before_registering"]["voter_ids"]
            == [voter_id(2)]
        ),
    ),
    (
        "invalid utf-8 byte, auto encoding",
        lambda t: _files(
            t,
            join(_vot()).encode()
            + join([vot_fields(8, last="JOS\xc9")]).encode("latin-1"),
        ),
        lambda r: len(r.voters) == 5 and "JOSÉ" in set(r.voters[schema.LAST_NAME]),
    ),
    (
        "truncated utf-16",
        lambda t: _files(t, join(_vot()).encode("utf-16")[:-3]),
        lambda r: len(r.voters) >= 3,
    ),
]


@pytest.mark.parametrize(("name", "build", "check"), ROWS, ids=[r[0] for r in ROWS])
def test_broken_rows_are_rejected_or_flagged(
    tmp_path: Path, name: str, build: Case, check: Check
) -> None:
    voters, history = build(tmp_path)
    try:
        result = load.load_voter_file(config(voters=voters, history=history))
    except CanvassError as err:  # allowed, but must be one clean line
        message = str(err)
        result = None
    if result is None:
        assert "\n" not in message
        return
    assert check(result), (name, result.rejects.to_dict("list"), result.report["flags"])
    check_accounting(result.report, result.rejects)
    schema.validate_voters(result.voters)
    schema.validate_history(result.history)


def test_corpus_is_big_enough() -> None:
    assert len(ERRORS) + len(ROWS) + len(MAPPED_ERRORS) + len(MAPPED_ROWS) >= 25


# --- mapped files: rows and cells answered with rejects, flags or warnings --------

WIDE = "ID,ZIP,PRIMARY-05/08/2018,GENERAL-11/06/2018,GENERAL-11/08/2016\n"
WIDE_MAP: dict[str, object] = {
    "state": "OH",
    "history": "wide",
    "columns": {"voter_id": "ID", "zip5": "ZIP"},
}


def _votes(r: load.LoadResult, voter: str) -> int:
    return int((r.history[schema.VOTER_ID] == voter).sum())


MappedCheck = Callable[[load.LoadResult], bool]
MAPPED_ROWS: list[tuple[str, str, dict[str, object], MappedCheck]] = [
    (
        # issue 20 item 2: the rejected row's votes were credited to the first row
        "duplicate voter id in a wide file takes its votes with it",
        WIDE + "1,45039,D,X,\n2,45039,,X,X\n1,45040,R,X,X\n",
        WIDE_MAP,
        lambda r: (
            _votes(r, "1") == 2
            and len(r.history) == 4
            and list(r.rejects["line"]) == [4] * 4
            and r.rejects["reason"].iloc[0]
            == "duplicate voter id (first at voters.csv line 2)"
            and _reason(r, "its voter row was rejected: duplicate voter id") == 3
            and r.report["files"][1]["rows_loaded"] == 4
        ),
    ),
    (
        # issue 20 item 3: an unknown cell value counted as a vote, unflagged
        "unknown wide cell value is rejected, not counted",
        WIDE + "1,45039,Q,X,\n2,45039,D,?,X\n3,45039,N,,\n",
        WIDE_MAP,
        lambda r: (
            _votes(r, "1") == 1
            and _votes(r, "2") == 2
            and _reason(r, "unknown vote mark 'Q' in PRIMARY-05/08/2018") == 1
            and _reason(r, "unknown vote mark '?' in GENERAL-11/06/2018") == 1
            and r.report["flags"]["unknown_vote_marks"]
            == {"count": 2, "marks": {"Q": 1, "?": 1}}
            and r.report["files"][1]["rows_did_not_vote"] == 1
        ),
    ),
    (
        "configured voted_values and party_values count",
        WIDE + "1,45039,Q,Z,\n",
        {**WIDE_MAP, "voted_values": ["Z"], "party_values": ["Q"]},
        lambda r: (
            r.rejects.empty
            and sorted(r.history[schema.PARTY_VOTED]) == ["", "Q"]
            and "unknown_vote_marks" not in r.report["flags"]
        ),
    ),
    (
        # issue 20 item 15: a file without vote history loaded without a word
        "no vote history at all is said plainly",
        "ID,ZIP\n1,45039\n2,45039\n",
        {"columns": {"voter_id": "ID", "zip5": "ZIP"}},
        lambda r: (
            len(r.history) == 0
            and len(r.report["warnings"]) == 1
            and r.report["warnings"][0].startswith("No vote history loaded")
            and "Every voter looks new" in r.report["warnings"][0]
        ),
    ),
    (
        "wide history whose cells are all blank is said plainly",
        WIDE + "1,45039,,,\n2,45039,,,\n",
        WIDE_MAP,
        lambda r: "the history holds no vote" in r.report["warnings"][0],
    ),
    (
        "wide history whose every cell is rejected is said plainly",
        WIDE + "1,45039,Q,Q,\n",
        WIDE_MAP,
        lambda r: "all 2 history rows read were rejected" in r.report["warnings"][0],
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "mapping", "check"),
    MAPPED_ROWS,
    ids=[m[0] for m in MAPPED_ROWS],
)
def test_mapped_rows_are_rejected_flagged_or_warned(
    tmp_path: Path,
    name: str,
    text: str,
    mapping: dict[str, object],
    check: MappedCheck,
) -> None:
    path = tmp_path / "voters.csv"
    path.write_text(text)
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[path], mapping=mapping)
    )
    assert check(result), (name, result.rejects.to_dict("list"), result.report)
    check_accounting(result.report, result.rejects)
    assert ("warnings" in result.report) == (len(result.history) == 0)
    schema.validate_voters(result.voters)
    schema.validate_history(result.history)


def test_long_history_unknown_voted_code_is_rejected(tmp_path: Path) -> None:
    voters = tmp_path / "voters.txt"
    voters.write_text("1\tDOE\n2\tROE\n")
    hist = tmp_path / "history.txt"
    hist.write_text(
        "1\t11/08/2016\tGEN\tY\n1\t11/06/2018\tGEN\tB\n2\t11/06/2018\tGEN\tN\n"
    )
    mapping = {
        "state": "FL",
        "header": False,
        "history": "long",
        "history_header": False,
        "columns": {"voter_id": "1", "last_name": "2"},
        "history_columns": {
            "voter_id": "1",
            "election_date": "2",
            "election_type": "3",
            "voted": "4",
        },
    }
    result = load.load_voter_file(
        config(voter_format="mapped", voters=[voters], history=[hist], mapping=mapping)
    )
    assert len(result.history) == 1
    assert list(result.rejects["reason"]) == [
        "unknown vote mark 'B'; list it in mapping.voted_values, party_values or "
        "not_voted"
    ]
    fl = next(f for f in result.report["files"] if f["file"] == hist.name)
    assert (fl["rows_did_not_vote"], fl["rows_rejected"]) == (1, 1)
    check_accounting(result.report, result.rejects)


def test_a_mark_in_two_lists_is_a_config_error() -> None:
    from canvass.errors import ConfigError

    with pytest.raises(ConfigError, match=r"'N' is in both mapping\.not_voted"):
        config(mapping={"party_values": ["N"]})


MAPPED_ERRORS: list[tuple[str, dict[str, object], str]] = [
    ("no voter_id mapped", {"columns": {"last_name": "LAST"}}, "at least voter_id"),
    (
        # issue 20 item 8: only the first 8 header names were listed
        "mapped column near miss",
        {"columns": {"voter_id": "ID", "precinct_code": "PRECINCT_CD"}},
        "(closest in the header: 'PRECINCT_CODE' for 'PRECINCT_CD')",
    ),
    (
        # issue 20 item 8: "check the pattern against the header" without a header
        "wide history without a header",
        {"columns": {"voter_id": "1"}, "history": "wide", "header": False},
        "read without a header (mapping.header = false)",
    ),
    (
        "mapped column missing",
        {"columns": {"voter_id": "ID", "zip5": "ZIPCODE"}},
        "missing required column(s) ['ZIPCODE']",
    ),
    (
        "long history without file",
        {"columns": {"voter_id": "ID"}, "history": "long"},
        "lists no history file",
    ),
    (
        "wide pattern matches nothing",
        {"columns": {"voter_id": "ID"}, "history": "wide"},
        "wide_pattern",
    ),
    (
        "column number without header",
        {"columns": {"voter_id": "ID"}, "header": False},
        "column number",
    ),
]


@pytest.mark.parametrize(
    ("name", "mapping", "words"), MAPPED_ERRORS, ids=[m[0] for m in MAPPED_ERRORS]
)
def test_mapped_config_errors(
    tmp_path: Path, name: str, mapping: dict[str, object], words: str
) -> None:
    path = tmp_path / "voters.csv"
    path.write_text(
        "ID,LAST,ZIP,A,B,C,D,E,F,G,PRECINCT_CODE\n"
        "1,SMITH,01060,,,,,,,,1A\n2,JONES,01062,,,,,,,,1B\n"
    )
    with pytest.raises(InputError) as info:
        load.load_voter_file(
            config(voter_format="mapped", voters=[path], mapping=mapping)
        )
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_nc_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "ncvoter1.txt"
    path.write_text("county_id\tlast_name\tres_street_address\n1\tDOE\t1 MAIN ST\n")
    with pytest.raises(InputError, match=r"missing required column\(s\) \['ncid'\]"):
        load.load_voter_file(config(voter_format="nc", voters=[path]))


def test_glob_without_match(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no file matches"):
        load.load_voter_file(config(voters=[tmp_path / "*.vot"]))


def test_history_dates_against_today(tmp_path: Path) -> None:
    today = dt.date.today()
    voters, hist = _files(
        tmp_path, join(_vot()), _acp([(1, "STATE PRIMARY", f"{today:%m/%d/%Y}")])
    )
    result = load.load_voter_file(config(voters=voters, history=hist))
    assert len(result.history) == 1  # today is not the future


def test_every_unusable_file_is_reported_at_once(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 4)
    anp.write_text("")
    acp.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 20)
    with pytest.raises(InputError) as info:
        load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    msg = str(info.value)
    assert msg.startswith("2 input files are unusable")
    assert anp.name in msg
    assert acp.name in msg
    assert "\n" not in msg


def test_repeated_header_rows_are_rejected(tmp_path: Path) -> None:
    vot, anp, acp = write_ma(tmp_path, 6)
    text = vot.read_text()
    header = text.splitlines(keepends=True)[0]
    vot.write_text(text + header + join([vot_fields(20)]))
    result = load.load_voter_file(config(voters=[vot], history=[anp, acp]))
    assert len(result.voters) == 7
    assert list(result.rejects["reason"]) == ["repeated header row"]
    assert list(result.rejects["line"]) == [8]
    check_accounting(result.report, result.rejects)
