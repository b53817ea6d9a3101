"""Builders for tiny synthetic voter files in the real state layouts (made-up people).

Used by ``test_load.py`` and ``test_adapters.py``. Massachusetts rows follow
../shared/data/voter_file_layouts/MA_voter_files_layout.md field by field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from canvass.config import PlanConfig
from canvass.demo._ma_writer import ACP_COLUMNS, VOT_COLUMNS

# The layout comes from the project's one statement of it (the MA writer), which a
# demo test checks against the shared layout document.
VOT_HEADER = list(VOT_COLUMNS)
HIST_HEADER = list(ACP_COLUMNS)

LAST_NAMES = ["PELLETIER", "OKAFOR", "NGUYEN", "MÜLLER", "GARCÍA", "O'BRIEN"]

#: (type text, date) of Massachusetts elections 2014-2022, with the expected type.
MA_ELECTIONS = [
    ("STATE PRIMARY", "09/09/2014", "state_primary"),
    ("STATE ELECTION", "11/04/2014", "state_election"),
    ("PRESIDENTIAL PRIMARY", "03/01/2016", "presidential_primary"),
    ("STATE PRIMARY", "09/08/2016", "state_primary"),
    ("STATE ELECTION", "11/08/2016", "presidential_election"),
    ("STATE PRIMARY", "09/04/2018", "state_primary"),
    ("STATE ELECTION", "11/06/2018", "state_election"),
    ("TOWN ELECTION", "05/07/2019", "municipal"),
    ("PRESIDENTIAL PRIMARY", "03/03/2020", "presidential_primary"),
    ("STATE ELECTION", "11/03/2020", "presidential_election"),
    ("STATE ELECTION", "11/08/2022", "state_election"),
]
ACP_TYPES = ("STATE PRIMARY", "PRESIDENTIAL PRIMARY")


def voter_id(i: int) -> str:
    """MA-style voter id with leading zeros."""
    return f"0{i % 10}WXY{i:07d}"


def vot_fields(i: int, *, gender: bool = True, **over: str) -> list[str]:
    """One VOT record (without the trailing empty field)."""
    rec = {
        "seq": str(i),
        "id": voter_id(i),
        "last": LAST_NAMES[i % len(LAST_NAMES)],
        "first": "ALEX",
        "middle": "",
        "title": "",
        "num": str(10 + 2 * (i // 3)),
        "suffix": "A" if i % 7 == 0 else "",
        "street": "ELM ST" if i % 2 else "MAIN ST",
        "apt": str(i % 3 + 1) if i % 5 == 0 else "",
        "zip": "01060",
        "mail": "",
        "mail_apt": "",
        "mail_city": "",
        "mail_state": "",
        "mail_zip": "",
        "party": ["D", "U", "R", "U"][i % 4],
        "gender": "F" if i % 2 else "M",
        "dob": f"{1 + i % 12:02d}/{1 + i % 28:02d}/{1940 + i % 60}",
        "reg": f"06/15/{2000 + i % 10}",
        "ward": str(1 + i % 2),
        "precinct": "AB"[i // 2 % 2],
        "cong": "2",
        "sen": "1",
        "rep": "1",
        "status": "A" if i % 9 else "I",
    }
    rec.update(over)
    values = list(rec.values())
    if not gender:
        values.pop(17)
    return values


def hist_fields(i: int, kind: str, date: str, *, acp: bool, **over: str) -> list[str]:
    """One ANP (acp=False) or ACP record (without the trailing empty field)."""
    rec = {
        "party": ["D", "U", "R", "U"][i % 4],
        "id": voter_id(i),
        "last": LAST_NAMES[i % len(LAST_NAMES)],
        "first": "ALEX",
        "middle": "",
        "num": str(10 + 2 * (i // 3)),
        "suffix": "",
        "street": "ELM ST" if i % 2 else "MAIN ST",
        "apt": "",
        "zip": "01060",
        "type": kind,
        "date": date,
        "voted": ("D" if i % 4 in (0, 1) else "R") if "PRIMARY" in kind else "",
        "city": "NORTHAMPTON",
        "indicator": "C",
        "code": "214",
        "title": "",
        "ward": str(1 + i % 2),
        "precinct": "AB"[i // 2 % 2],
        "status": "A",
        "mail": "",
        "mail_apt": "",
        "mail_city": "",
        "mail_state": "",
        "mail_zip": "",
    }
    rec.update(over)
    values = list(rec.values())
    if not acp:
        values.pop(12)
    return values


def join(
    rows: list[list[str]], *, trailing: bool = True, header: list[str] | None = None
) -> str:
    """Pipe-join records, with the trailing empty field MA files have."""
    lines = ([header] if header else []) + rows
    end = "|" if trailing else ""
    return "".join("|".join(r) + end + "\n" for r in lines)


def write_ma(
    folder: Path,
    n: int = 12,
    *,
    header: bool = True,
    gender: bool = True,
    trailing: bool = True,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> tuple[Path, Path, Path]:
    """Write VOT, ANP and ACP files; voter i votes in election j when (i + j) % 3."""
    vot = [vot_fields(i, gender=gender) for i in range(1, n + 1)]
    vh = VOT_HEADER if gender else [h for h in VOT_HEADER if h != "Gender"]
    anp: list[list[str]] = []
    acp: list[list[str]] = []
    for j, (kind, date, _) in enumerate(MA_ELECTIONS):
        for i in range(1, n + 1):
            if (i + j) % 3:
                is_acp = kind in ACP_TYPES
                (acp if is_acp else anp).append(hist_fields(i, kind, date, acp=is_acp))
    anp_h = [h for h in HIST_HEADER if h != "Party Voted"]
    paths = (folder / "214VOT_1.txt", folder / "214ANP_1.txt", folder / "214ACP_1.txt")
    texts = (
        join(vot, trailing=trailing, header=vh if header else None),
        join(anp, trailing=trailing, header=anp_h if header else None),
        join(acp, trailing=trailing, header=HIST_HEADER if header else None),
    )
    for path, text in zip(paths, texts, strict=True):
        path.write_bytes(text.replace("\n", newline).encode(encoding))
    return paths


def config(**inputs: Any) -> PlanConfig:
    """A PlanConfig with the given [inputs] (paths as str) and optional mapping."""
    mapping = inputs.pop("mapping", None)
    raw: dict[str, Any] = {"inputs": dict(inputs.items())}
    for key in ("voters", "history"):
        if key in raw["inputs"]:
            raw["inputs"][key] = [str(p) for p in raw["inputs"][key]]
    if mapping is not None:
        raw["mapping"] = mapping
    return PlanConfig.from_dict(raw)


def check_accounting(report: dict[str, Any], rejects: pd.DataFrame) -> None:
    """Every file: rows in = loaded + rejected, and rejects match the report."""
    for f in report["files"]:
        assert f["rows_in"] == f["rows_loaded"] + f["rows_rejected"], f
        assert f["rows_rejected"] == int((rejects["file"] == f["file"]).sum()), f
