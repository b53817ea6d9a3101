"""Read a supporter list: CSV or XLSX exports of the common organising tools (private).

A supporter list comes from Action Network, EveryAction/NGP VAN, NationBuilder,
ActBlue, Mobilize or a hand-made spreadsheet, as XLSX or as CSV/TSV (plain or in a
gzip, bzip2, xz or zip archive, read by the loader's :func:`canvass.load.read_table`).
Each field canvass uses is found by its known header names in those tools' exports
(:data:`ALIASES`, compared without case, spaces or punctuation) unless
``[supporters] columns`` names the column. Every row
comes out with a 1-based ``line`` (the spreadsheet row number) so that the outputs
can point back to it without copying names; rows that cannot be used are kept in
``rejects`` with the reason, so rows in = rows kept + rows rejected.
"""

from __future__ import annotations

import glob
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from ..config import PlanConfig, SupportersParams
from ..errors import InputError
from ..geocode import normalize_units, parse_address_line
from ..load import expand_input, read_table
from ._names import by_unique, clean_first, email_key, phone_key, split_suffix

__all__ = ["ALIASES", "FIELDS", "TOOL_SIGNATURES", "SupporterList", "read_supporters"]

logger = logging.getLogger(__name__)

#: canvass field -> header names used by the organising tools' exports (Action
#: Network ``can2_*``, EveryAction ``VANID``/``PreferredEmail``, NationBuilder
#: ``primary_*``/``born_at``/``tag_list``, ActBlue ``Donor *``, Mobilize
#: ``attendee *``) and common spreadsheets. Compared after dropping case and
#: everything but letters and digits.
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "supporter_id": ("supporter_id", "id", "vanid", "van_id", "nationbuilder_id",
                     "can2_user_id", "user_id", "person_id", "contact_id", "uuid"),
    "first_name": ("first_name", "first", "given_name", "donor_first_name",
                   "attendee_first_name", "user_first_name", "fname"),
    "last_name": ("last_name", "last", "family_name", "surname", "donor_last_name",
                  "attendee_last_name", "user_last_name", "lname"),
    "full_name": ("name", "full_name", "donor_name", "attendee_name", "contact_name"),
    "middle_name": ("middle_name", "middle", "middle_initial"),
    "email": ("email", "email_address", "preferred_email", "donor_email",
              "attendee_email", "user_email", "email1", "personal_email"),
    "phone": ("phone", "phone_number", "mobile_number", "mobile", "cell_phone",
              "cell", "preferred_phone", "home_phone", "donor_phone", "can2_phone",
              "attendee_phone", "user_phone", "phone1"),
    "address": ("address", "address1", "address_1", "address_line_1", "addr1",
                "street_address", "primary_address1", "donor_addr1",
                "can2_user_address", "home_address", "mailing_address1"),
    "unit": ("address2", "address_2", "address_line_2", "addr2", "primary_address2",
             "donor_addr2", "apt", "apartment", "unit", "mailing_address2"),
    "city": ("city", "town", "primary_city", "donor_city", "can2_user_city",
             "mailing_city"),
    "state": ("state", "primary_state", "donor_state", "can2_state_abbreviated",
              "state_abbreviation", "mailing_state"),
    "zip5": ("zip", "zip5", "zip_code", "zipcode", "postal_code", "postcode",
             "primary_zip", "donor_zip", "attendee_zip", "attendee_zip_code",
             "zip_postal_code", "mailing_zip"),
    "birth_date": ("birth_date", "birthdate", "dob", "date_of_birth", "born_at",
                   "birthday"),
    "birth_year": ("birth_year", "year_of_birth", "yob"),
    "tags": ("tags", "tag_list", "can2_user_tags", "activist_codes", "tag",
             "groups", "lists"),
    "volunteer": ("is_volunteer", "volunteer"),
    "has_car": ("has_car", "car", "has_a_car", "can_drive", "driver"),
    "event": ("event_name", "event", "event_title"),
    "attended": ("attended", "attendance_status", "status_attended"),
}  # fmt: skip
FIELDS: Final = tuple(ALIASES)
#: Tool -> header names that identify its exports, for the report, and the tag its
#: rows carry without saying (every ActBlue row is a donation).
TOOL_SIGNATURES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "actblue": (("receipt_id", "donor_first_name", "donor_email"), "donor"),
    "mobilize": (("attendee_first_name", "attendee_email", "timeslot_start"), "event"),
    "nationbuilder": (("nationbuilder_id", "primary_address1", "tag_list"), ""),
    "everyaction": (("vanid", "van_id", "preferred_email"), ""),
    "action_network": (("can2_user_address", "can2_phone", "can2_user_city"), ""),
}
#: Tool -> the prefix of its own person columns: when a file is recognised, aliases
#: with it are tried first, so ActBlue's `Donor Phone` wins over its `Mobile` (t/f:
#: the donation was made on a phone) and NationBuilder's `primary_*` over `mailing_*`.
_TOOL_PREFIX: Final[dict[str, str]] = {
    "actblue": "donor_",
    "mobilize": "attendee_",
    "nationbuilder": "primary_",
    "action_network": "can2_",
}
_YES: Final = frozenset({"Y", "YES", "TRUE", "T", "1", "X", "ATTENDED"})
_NO: Final = frozenset({"N", "NO", "FALSE", "F", "0", "NO_SHOW", "NOSHOW", "CANCELLED"})


def _norm(header: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


@dataclass(frozen=True)
class SupporterList:
    """
    A supporter list read and normalised for matching.

    Parameters
    ----------
    supporters
        One row per usable supporter, index ``supporter_key`` (``<file
        number>:<line>``), with ``source``, ``line``, ``supporter_id`` and the
        normalised fields ``first_name``, ``middle_name``, ``last_name``,
        ``name_suffix``, ``email``, ``phone``, ``street_number``, ``street_name``,
        ``unit``, ``city``, ``state``, ``zip5``, ``birth_year``, ``birth_month``,
        ``birth_day``, the tags ``is_volunteer``, ``is_donor``, ``is_event``,
        ``has_car`` ("yes", "no" or "") and ``address`` (the one-line address as
        given, for the volunteer roster only).
    rejects
        Rows that cannot be matched: ``source``, ``line``, ``supporter_id``,
        ``reason``.
    report
        Counts per file, detected tool and the column used for each field.
    """

    supporters: pd.DataFrame
    rejects: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


_EXCEL: Final = (".xlsx", ".xlsm")


def _files(config: PlanConfig) -> list[Path]:
    paths: list[Path] = []
    for pattern in config.supporters.files:
        full = config.resolve(pattern)
        if not full.name.lower().endswith(_EXCEL):
            paths += expand_input(full, "supporters.files")
            continue
        found = (
            sorted(full.parent.glob(full.name)) if glob.has_magic(str(full)) else [full]
        )
        if not found:
            msg = (
                f"`supporters.files`: no file matches {str(full)!r}; check the pattern."
            )
            raise InputError(msg)
        paths += found
    return paths


def _read_table(
    path: Path, params: SupportersParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """
    Read one supporter list as strings, index = the spreadsheet row number.

    CSV and TSV go through the loader's reader (plain or gzip/bzip2/xz/zip, any
    usual encoding, delimiter sniffed); lines with the wrong number of fields come
    back as ``bad`` (``line``, ``reason``). XLSX is read with openpyxl.
    """
    name = path.name.lower()
    if name.endswith(_EXCEL):
        try:
            frame = pd.read_excel(
                path,
                sheet_name=params.sheet or 0,
                dtype=str,
                keep_default_na=False,
                engine="openpyxl",
            )
        except FileNotFoundError:
            msg = f"{path}: supporter list not found; fix `supporters.files`."
            raise InputError(msg) from None
        except (ValueError, KeyError, OSError) as err:
            msg = (
                f"{path}: not a readable XLSX supporter list "
                f"({type(err).__name__}: {str(err).splitlines()[0][:120]}); "
                "save it again from the spreadsheet, or export CSV."
            )
            raise InputError(msg) from None
        frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")  # header: row 1
        bad = pd.DataFrame({"line": pd.Series([], dtype=int), "reason": ""})
        return frame, bad
    raw = read_table(path, what="supporter list")
    frame = raw.frame
    frame.index = pd.Index(frame.index.to_numpy(dtype=np.int64), name="line")
    return frame, raw.bad


def _columns(
    frame: pd.DataFrame, path: Path, params: SupportersParams, tool: str = ""
) -> dict[str, str]:
    """Canvass field -> the file's column, from `params.columns` or the aliases.

    The aliases of the recognised `tool` (its column prefix) are tried first.
    """
    by_norm: dict[str, str] = {}
    for col in frame.columns:
        by_norm.setdefault(_norm(col), str(col))
    found: dict[str, str] = {}
    for name, column in params.columns.items():
        if column not in frame.columns:
            msg = (
                f"{path}: `supporters.columns.{name}` names column {column!r}, which "
                f"the file does not have; its columns are {list(frame.columns)[:12]}."
            )
            raise InputError(msg)
        found[name] = column
    prefix = _TOOL_PREFIX.get(tool, "")
    for name, aliases in ALIASES.items():
        if name in found:
            continue
        own = [a for a in aliases if prefix and a.startswith(prefix)]
        for alias in own + [a for a in aliases if a not in own]:
            if (hit := by_norm.get(_norm(alias))) and hit not in found.values():
                found[name] = hit
                break
    if not ({"first_name", "last_name"} <= set(found) or "full_name" in found):
        msg = (
            f"{path}: no name columns found (looked for first/last name headers of "
            "Action Network, EveryAction, NationBuilder, ActBlue and Mobilize "
            "exports); "
            "name them in [supporters.columns] first_name and last_name."
        )
        raise InputError(msg)
    return found


def _tool(frame: pd.DataFrame) -> tuple[str, str]:
    names = {_norm(c) for c in frame.columns}
    for tool, (signature, tag) in TOOL_SIGNATURES.items():
        if any(_norm(s) in names for s in signature):
            return tool, tag
    return "", ""


def _flag(values: pd.Series) -> pd.Series:
    text = values.str.strip().str.upper().str.replace(" ", "_")
    return text.isin(_YES) | text.str.startswith("YES")


def _tagged(tags: pd.Series, words: tuple[str, ...]) -> pd.Series:
    if not words:
        return pd.Series(False, index=tags.index)
    pattern = "|".join(re.escape(w.lower()) for w in words)
    return tags.str.lower().str.contains(pattern, regex=True)


def _dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day (0 = unknown) of birth dates in any usual US format."""
    text = values.str.strip()
    year = np.zeros(len(text), dtype=np.int64)
    month = np.zeros(len(text), dtype=np.int64)
    day = np.zeros(len(text), dtype=np.int64)
    patterns = (
        (r"^(\d{4})-(\d{1,2})-(\d{1,2})", (1, 2, 3)),
        (r"^(\d{1,2})/(\d{1,2})/(\d{4})", (3, 1, 2)),
        (r"^(\d{1,2})-(\d{1,2})-(\d{4})", (3, 1, 2)),
        (r"^(\d{4})(\d{2})(\d{2})$", (1, 2, 3)),
        (r"^(\d{1,2})/(\d{4})$", (2, 1, 0)),
        (r"^(\d{4})$", (1, 0, 0)),
    )
    todo = np.ones(len(text), dtype=bool)
    for pattern, (iy, im, iday) in patterns:
        got = text.str.extract(pattern).to_numpy()
        hit = todo & ~pd.isna(got[:, 0])
        if not hit.any():
            continue
        year[hit] = got[hit, iy - 1].astype(np.int64)
        if im:
            month[hit] = got[hit, im - 1].astype(np.int64)
        if iday:
            day[hit] = got[hit, iday - 1].astype(np.int64)
        todo &= ~hit
    bad = (year < 1900) | (year > 2020) | (month > 12) | (day > 31)
    year[bad], month[bad], day[bad] = 0, 0, 0
    month[month == 0], day[month == 0] = 0, 0
    return year, month, day


def _one_file(
    path: Path, number: int, params: SupportersParams
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    frame, bad = _read_table(path, params)
    tool, implied = _tool(frame)
    cols = _columns(frame, path, params, tool)

    def get(name: str) -> pd.Series:
        if name not in cols:
            return pd.Series("", index=frame.index, dtype="object")
        return frame[cols[name]].astype("object").fillna("").astype(str).str.strip()

    blank = frame.apply(lambda c: c.astype(str).str.strip().eq("")).all(axis=1)
    frame = frame[~blank]
    first_raw, last_raw = get("first_name"), get("last_name")
    if "full_name" in cols and not {"first_name", "last_name"} <= set(cols):
        full = get("full_name")
        comma = full.str.contains(",")  # "Smith, Ann"
        parts = full.str.replace(",", " ").str.split()
        first_raw = parts.str[0].where(~comma, parts.str[1]).fillna("")
        last_raw = parts.str[-1].where(~comma, parts.str[0]).fillna("")
    last_split = by_unique(last_raw, split_suffix)
    addr = by_unique(get("address"), parse_address_line)
    unit_given = normalize_units(get("unit")).to_numpy()
    year, month, day = _dates(get("birth_date"))
    by_col = pd.to_numeric(get("birth_year"), errors="coerce").fillna(0).astype(int)
    year = np.where((year == 0) & by_col.between(1900, 2020), by_col, year)
    zips = get("zip5").str.extract(r"^(\d{5})", expand=False).fillna("")
    zips = zips.where(~get("zip5").str.fullmatch(r"\d{4}"), "0" + get("zip5"))
    tags = get("tags") + " " + get("event")
    out = pd.DataFrame(
        {
            "source": path.name,
            "line": frame.index.to_numpy(dtype=np.int64),
            "supporter_id": get("supporter_id").to_numpy(),
            "first_name": by_unique(first_raw, clean_first),
            "middle_name": by_unique(get("middle_name"), clean_first),
            "last_name": [p[0] for p in last_split],
            "name_suffix": [p[1] for p in last_split],
            "email": by_unique(get("email"), email_key),
            "phone": by_unique(get("phone"), phone_key),
            "street_number": [f"{a['number']} {a['suffix']}".strip() for a in addr],
            "street_name": [a["street"] for a in addr],
            "unit": np.where(unit_given != "", unit_given, [a["unit"] for a in addr]),
            "city": by_unique(get("city"), lambda s: " ".join(str(s).upper().split())),
            "state": get("state").str.upper().str[:2].to_numpy(),
            "zip5": zips.to_numpy(),
            "birth_year": year,
            "birth_month": month,
            "birth_day": day,
            "is_volunteer": (
                _flag(get("volunteer")) | _tagged(tags, params.volunteer_tags)
            ).to_numpy(),
            "is_donor": (
                _tagged(tags, params.donor_tags) | (implied == "donor")
            ).to_numpy(),
            "is_event": (
                _tagged(tags, params.event_tags)
                | ((implied == "event") & ~get("attended").str.upper().isin(_NO))
            ).to_numpy(),
            "has_car": np.where(
                _flag(get("has_car")),
                "yes",
                np.where(get("has_car").str.upper().isin(_NO), "no", ""),
            ),
            "address": (get("address") + " " + get("unit")).str.strip().to_numpy(),
        },
        index=frame.index,
    )
    out.index = pd.Index(
        [f"{number}:{line}" for line in out["line"]], name="supporter_key"
    )
    no_name = out["first_name"].eq("") | out["last_name"].eq("")
    nothing = (
        out["street_name"].eq("")
        & out["zip5"].eq("")
        & out["city"].eq("")
        & out["birth_year"].eq(0)
        & out["email"].eq("")
        & out["phone"].eq("")
    )
    reason = np.where(
        no_name,
        "no_name",
        np.where(nothing, "name_only", ""),
    )
    rejects = out.loc[reason != "", ["source", "line", "supporter_id"]].assign(
        reason=reason[reason != ""]
    )
    if len(bad):  # lines the reader could not split into the header's fields
        unreadable = pd.DataFrame(
            {
                "source": path.name,
                "line": bad["line"].to_numpy(dtype=np.int64),
                "supporter_id": "",
                "reason": "unreadable: " + bad["reason"].astype(str),
            }
        )
        rejects = pd.concat([rejects, unreadable], ignore_index=True)
    report = {
        "file": path.name,
        "tool": tool or "unknown",
        "rows": len(frame) + int(blank.sum()) + len(bad),
        "blank_rows": int(blank.sum()),
        "kept": int((reason == "").sum()),
        "rejected": len(rejects),
        "columns": cols,
    }
    return out[reason == ""], rejects, report


def read_supporters(config: PlanConfig) -> SupporterList:
    """
    Read and normalise the supporter lists of ``[supporters] files``.

    Parameters
    ----------
    config
        Run configuration (``[supporters]``: files, sheet, columns, tag words).

    Returns
    -------
    supporters
        The usable rows, the rejected rows with their reason and a PII-free report.

    Raises
    ------
    InputError
        If a file is missing or unreadable, has no name columns, or a configured
        column is not in it.
    """
    params = config.supporters
    paths = _files(config) if config.supporters.files else []
    if not paths:
        msg = "No supporter list configured; set `supporters.files` in the config."
        raise InputError(msg)
    kept, rejected, reports = [], [], []
    for number, path in enumerate(paths, start=1):
        rows, rejects, report = _one_file(path, number, params)
        kept.append(rows)
        rejected.append(rejects)
        reports.append(report)
    supporters = pd.concat(kept)
    rejects = pd.concat(rejected, ignore_index=True)
    logger.info(
        "Supporter list: %s rows kept, %s rejected (%s)",
        f"{len(supporters):,}",
        f"{len(rejects):,}",
        ", ".join(f"{k} {v}" for k, v in rejects["reason"].value_counts().items())
        or "none",
    )
    return SupporterList(supporters, rejects, {"files": reports})
