"""Load stage: any other state's CSV/TSV voter file through the ``[mapping]`` table.

``inputs.voter_format = "mapped"`` reads a delimited voter file whose columns are named
in ``[mapping.columns]`` (see ``docs/voter-files.md`` for worked Ohio, Florida and New
York examples). Vote history is either

* **wide**: one column per election in the voter file, found by
  ``mapping.wide_pattern`` (Ohio: ``PRIMARY-05/07/2013``). A cell in
  ``mapping.voted_values`` (``X``, ``Y``, ``1``, ``A``...) is a vote, one in
  ``mapping.party_values`` (``D``, ``R``...) a vote with that party's ballot; a blank
  cell or one in ``mapping.not_voted`` is no vote; any other value is rejected
  (``unknown vote mark 'Q' in PRIMARY-05/07/2013``). These cells are reported as a
  separate pseudo-file ``<file> (history columns)`` whose ``rows_in`` is the number
  of non-blank cells.
* **cell**: one column (``columns.vote_history``) listing the elections voted in,
  items separated by ``mapping.history_separator`` (New York's ``VoterHistory``:
  ``20181106 GE;20180913 PR``). Each item is read by the first of
  ``mapping.history_item_patterns`` that matches (named groups ``date``, ``type``,
  ``party``); an item none matches is rejected (``unreadable history item``). The
  items are the pseudo-file ``<file> (history cell)``.
* **long**: separate files (``inputs.history``) with one row per voter per election
  (Florida: voter id, election date, ``PPP``/``PRI``/``RUN``/``GEN``/``OTH``, history
  code). Rows whose ``voted`` code is in ``mapping.not_voted`` record that the voter
  did *not* vote: they are read (counted as loaded, and as ``rows_did_not_vote`` in
  the report) but add nothing to the history table; a code in none of
  ``not_voted``/``voted_values``/``party_values`` is rejected.

Wide and cell votes carry the voter row they came from (``origin``), so a voter row
rejected later (a duplicate voter id) takes its votes to the rejects with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema
from ..config import MappingParams, PlanConfig
from ..errors import InputError
from ._adapters import (
    ELECTION_TYPE_RAW,
    ORIGIN,
    Parsed,
    from_street_line,
    match_header,
)
from ._adapters import sniff_delimiter as _sniff
from ._encoding import RawTable, Sample, read_delimited
from ._precincts import normalise_precinct_code

__all__ = ["read_mapped"]

_DATE_IN_LABEL = re.compile(r"(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|\d{8})")


class _Pick:
    """A ``pick`` keeping the mapped columns (by name, or number without header)."""

    def __init__(self, mapping: dict[str, str], setting: str, what: str) -> None:
        self.mapping = {k: v for k, v in mapping.items() if v}
        self.setting = setting
        self.what = what
        self.pos: dict[str, int] = {}
        self.extra: list[int] = []
        self.wide: re.Pattern[str] | None = None

    def __call__(self, sample: Sample) -> list[int]:
        if sample.header is None:  # columns are named by 1-based number
            for key, col in self.mapping.items():
                if not col.isdigit() or not 1 <= int(col) <= sample.width:
                    msg = (
                        f"{sample.path}: `{self.setting}.{key}` = {col!r} must be a "
                        f"column number 1-{sample.width} because the file has no "
                        "header (mapping header = false)."
                    )
                    raise InputError(msg)
                self.pos[key] = int(col) - 1
        else:
            wanted = {key: (f"!{col}",) for key, col in self.mapping.items()}
            try:
                self.pos = match_header(sample, wanted, what=self.what)
            except InputError as err:
                msg = f"{err} Fix [{self.setting}] in the config to name its columns."
                raise InputError(msg) from None
        if self.wide is not None:
            header = sample.header or []
            self.extra = [i for i, h in enumerate(header) if self.wide.match(h.strip())]
        return [*self.pos.values(), *self.extra]

    def columns(self, raw: RawTable) -> dict[str, pd.Series]:
        """Return the mapped columns of the table read, by canvass name."""
        return {k: raw.frame[i] for k, i in self.pos.items()}


def _marks(
    cell: pd.Series, params: MappingParams, *, parties: bool
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Split upper-cased marks into voted, party ballot, not voted and unknown."""
    filled = cell != ""
    not_voted = filled & cell.isin({v.strip().upper() for v in params.not_voted})
    voted = filled & cell.isin({v.strip().upper() for v in params.voted_values})
    party = pd.Series(False, index=cell.index)
    if parties:
        party = filled & cell.isin({v.strip().upper() for v in params.party_values})
    unknown = filled & ~(not_voted | voted | party)
    return voted, party, not_voted, unknown


def _reject_marks(
    parsed: Parsed, name: str, lines: pd.Series, marks: pd.Series, where: str
) -> dict[str, int]:
    """Reject rows holding unknown vote marks; return the count per mark."""
    if not len(marks):
        return {}
    fix = "list it in mapping.voted_values, party_values or not_voted"
    parsed.rejects.append(
        pd.DataFrame(
            {
                "file": name,
                "line": lines.to_numpy(),
                "reason": ("unknown vote mark '" + marks + f"'{where}; {fix}")
                .astype(str)
                .to_numpy(),
            }
        )
    )
    return {str(k): int(n) for k, n in marks.value_counts().items()}


def _no_pattern_match(raw: RawTable, params: MappingParams) -> str:
    """Return the error for a wide pattern matching no column name."""
    if raw.header is None:
        return (
            f'{raw.path}: mapping.history = "wide" finds the election columns by '
            "their names, but the file is read without a header (mapping.header = "
            "false); set header = true if its first row names the columns, or map "
            'the history as "long" or "cell".'
        )
    names = [h.strip() for h in raw.header]
    dated = [h for h in names if _DATE_IN_LABEL.search(h)]
    seen = dated[:5] or names[:8]
    what = "columns with a date" if dated else "columns"
    return (
        f"{raw.path}: no column name matches mapping.wide_pattern "
        f"{params.wide_pattern!r}; the header has {len(names)} columns, {what} "
        f"such as {seen}; fix the pattern to match those names."
    )


def _wide(
    raw: RawTable,
    ids: pd.Series,
    params: MappingParams,
    positions: list[int],
    source: str,
    parsed: Parsed,
) -> None:
    pattern = re.compile(params.wide_pattern)
    header = raw.header or []
    name = f"{source} (history columns)"
    if not positions:
        raise InputError(_no_pattern_match(raw, params))
    parts: list[pd.DataFrame] = []
    n_cells = n_not_voted = 0
    unknown_marks: dict[str, int] = {}
    lines = pd.Series(raw.frame.index, index=raw.frame.index)
    for i in positions:  # one vectorised pass per election column
        m = pattern.match(header[i].strip())
        if m is None:  # pragma: no cover - positions come from the same pattern
            continue
        kind = (m.groupdict().get("type") or params.wide_type).strip()
        cell = raw.frame[i].astype(str).str.strip().str.upper()
        voted, party, not_voted, unknown = _marks(cell, params, parties=True)
        n_cells += int((cell != "").sum())
        n_not_voted += int(not_voted.sum())
        for mark, n in _reject_marks(
            parsed, name, lines[unknown], cell[unknown], f" in {header[i].strip()}"
        ).items():
            unknown_marks[mark] = unknown_marks.get(mark, 0) + n
        vote = voted | party
        if not vote.any():
            parsed.empty_elections.append((m.group("date"), kind))
        parts.append(
            pd.DataFrame(
                {
                    schema.VOTER_ID: ids[vote].to_numpy(),
                    schema.ELECTION_DATE: m.group("date"),
                    ELECTION_TYPE_RAW: kind,
                    schema.PARTY_VOTED: cell[vote].where(party[vote], "").to_numpy(),
                    schema.SOURCE: name,
                    schema.LINE: raw.frame.index[vote.to_numpy()].to_numpy(),
                    ORIGIN: source,
                }
            )
        )
    parsed.files.append(
        {
            "file": name,
            "kind": "history",
            "layout": "mapped_wide",
            "encoding": raw.encoding,
            "header": True,
            "rows_in": n_cells,
            "rows_did_not_vote": n_not_voted,
            **({"unknown_vote_marks": unknown_marks} if unknown_marks else {}),
        }
    )
    parsed.history.extend(parts)


def _read_items(
    uniq: pd.Series, params: MappingParams
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Date, type and party text of each distinct history item; ok mask."""
    patterns = [re.compile(p) for p in params.history_item_patterns]
    date = pd.Series("", index=uniq.index, dtype=object)
    kind = date.copy()
    party = date.copy()
    ok = pd.Series(False, index=uniq.index)
    for pat in patterns:
        todo = ~ok
        if not todo.any():
            break
        got = uniq[todo].str.extract(pat)
        hit = got["date"].notna() & (got["date"].str.strip() != "")
        idx = got.index[hit]
        date[idx] = got.loc[idx, "date"].str.strip()
        if "type" in got.columns:
            kind[idx] = got.loc[idx, "type"].fillna("").str.strip()
        if "party" in got.columns:
            party[idx] = got.loc[idx, "party"].fillna("").str.strip().str.upper()
        ok[idx] = True
    kind = kind.where(kind != "", params.wide_type)
    return date, kind, party, ok


def _cell(
    raw: RawTable,
    ids: pd.Series,
    cell: pd.Series,
    params: MappingParams,
    source: str,
    parsed: Parsed,
) -> None:
    """Read a one-cell history column (``history = "cell"``) into long rows."""
    name = f"{source} (history cell)"
    items = cell.astype(str).str.split(params.history_separator, regex=False).explode()
    items = items.dropna().str.strip()
    items = items[items != ""]
    codes, uniques = pd.factorize(items)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    date, kind, party, ok = _read_items(uniq, params)
    good = ok.to_numpy()[codes] if len(codes) else np.zeros(0, dtype=bool)
    lines = items.index.to_numpy()
    if (~good).any():
        bad = items[~good]
        parsed.rejects.append(
            pd.DataFrame(
                {
                    "file": name,
                    "line": lines[~good],
                    "reason": (
                        "unreadable history item '"
                        + bad
                        + "'; fix mapping.history_item_patterns or "
                        "mapping.history_separator"
                    ).to_numpy(),
                }
            )
        )
    take = codes[good]
    parsed.history.append(
        pd.DataFrame(
            {
                schema.VOTER_ID: ids.loc[lines[good]].to_numpy(),
                schema.ELECTION_DATE: date.to_numpy()[take],
                ELECTION_TYPE_RAW: kind.to_numpy()[take],
                schema.PARTY_VOTED: party.to_numpy()[take],
                schema.SOURCE: name,
                schema.LINE: lines[good],
                ORIGIN: source,
            }
        )
    )
    parsed.files.append(
        {
            "file": name,
            "kind": "history",
            "layout": "mapped_cell",
            "encoding": raw.encoding,
            "header": raw.header is not None,
            "rows_in": len(items),
        }
    )


def _directions(cols: dict[str, pd.Series]) -> None:
    """Join pre- and post-directions ("E", "SW") into the street name."""
    pre = cols.pop("street_pre_direction", None)
    post = cols.pop("street_post_direction", None)
    if (pre is None and post is None) or schema.STREET_NAME not in cols:
        return
    street = cols[schema.STREET_NAME].astype(str).str.strip()
    parts = [p.astype(str).str.strip() if p is not None else "" for p in (pre, post)]
    joined = (parts[0] + " " + street + " " + parts[1]).str.replace(
        r"\s+", " ", regex=True
    )
    cols[schema.STREET_NAME] = joined.str.strip().where(street != "", street)


def _long(path: Path, config: PlanConfig, parsed: Parsed) -> None:
    params = config.mapping
    sep = params.history_delimiter or _sniff(path, config.inputs.encoding)
    hc = dict(params.history_columns)
    if "voter_id" not in hc or not ({"election_date", "election"} & set(hc)):
        msg = (
            "[mapping.history_columns] must name voter_id and election_date (or a "
            'combined election label) for history = "long".'
        )
        raise InputError(msg)
    pick = _Pick(hc, "mapping.history_columns", "vote-history file")
    raw = read_delimited(
        path,
        sep=sep,
        header=params.history_header,
        encoding=config.inputs.encoding,
        what="vote-history file",
        pick=pick,
    )
    cols = {k: v.astype(str).str.strip() for k, v in pick.columns(raw).items()}
    source = parsed.add_file(raw, "history", "mapped_long")
    label = cols.get("election", pd.Series("", index=raw.frame.index))
    date = cols.get("election_date", label.str.extract(_DATE_IN_LABEL)[0].fillna(""))
    raw_type = cols.get("election_type", label)
    keep = pd.Series(True, index=raw.frame.index)
    if "voted" in cols:
        code = cols["voted"].str.strip().str.upper()
        voted, _, _, unknown = _marks(code, params, parties=False)
        keep = voted
        parsed.files[-1]["rows_did_not_vote"] = int((~(voted | unknown)).sum())
        lines = pd.Series(raw.frame.index, index=raw.frame.index)
        marks = _reject_marks(parsed, source, lines[unknown], code[unknown], "")
        if marks:
            parsed.files[-1]["unknown_vote_marks"] = marks
    hist = pd.DataFrame(
        {
            schema.VOTER_ID: cols["voter_id"],
            schema.ELECTION_DATE: date,
            ELECTION_TYPE_RAW: raw_type,
            schema.PARTY_VOTED: cols.get(
                "party_voted", pd.Series("", index=raw.frame.index)
            ),
            schema.SOURCE: source,
            schema.LINE: raw.frame.index.to_numpy(),
        }
    )
    parsed.history.append(hist[keep.to_numpy()].reset_index(drop=True))


def read_mapped(voters: list[Path], history: list[Path], config: PlanConfig) -> Parsed:
    """
    Read voter files (and history) described by the ``[mapping]`` section.

    Parameters
    ----------
    voters, history
        The voter files and, for ``history = "long"``, the history files.
    config
        Uses ``[mapping]``, ``inputs.encoding`` and ``[precincts] code_pattern``.

    Returns
    -------
    Parsed
        Raw canonical tables for :mod:`canvass.load` to type and check.

    Raises
    ------
    InputError
        If the mapping is incomplete or names columns the file does not have.
    """
    params = config.mapping
    if "voter_id" not in params.columns:
        msg = (
            'voter_format = "mapped" needs [mapping.columns] with at least voter_id '
            "(and the name, address and precinct columns); see docs/voter-files.md."
        )
        raise InputError(msg)
    if params.history == "long" and not history:
        msg = 'mapping.history = "long" but inputs.history lists no history file.'
        raise InputError(msg)
    if params.history != "long" and history:
        msg = (
            'inputs.history is set but mapping.history is not "long"; set '
            'mapping.history = "long" and [mapping.history_columns].'
        )
        raise InputError(msg)
    parsed = Parsed()
    for path in voters:
        with parsed.problem():
            sep = params.delimiter or _sniff(path, config.inputs.encoding)
            pick = _Pick(dict(params.columns), "mapping.columns", "voter file")
            if params.history == "wide":
                pick.wide = re.compile(params.wide_pattern)
            raw = read_delimited(
                path,
                sep=sep,
                header=params.header,
                encoding=config.inputs.encoding,
                what="voter file",
                pick=pick,
            )
            cols = pick.columns(raw)
            history_cell = cols.pop("vote_history", None)
            if "address" in cols:
                from_street_line(cols, cols.pop("address"), cols.pop(schema.UNIT, None))
            _directions(cols)
            if "precinct_code" in cols:
                codes, uniq = pd.factorize(cols.pop("precinct_code").astype(str))
                norm = [normalise_precinct_code(str(c), config.precincts) for c in uniq]
                cols[schema.PRECINCT_ID] = pd.Series(
                    np.asarray(norm, dtype=object)[codes] if norm else [],
                    index=raw.frame.index,
                    dtype=object,
                )
            source = parsed.add_file(raw, "voters", "mapped")
            frame = pd.DataFrame(
                {k: v.astype(str).str.strip() for k, v in cols.items()}
            )
            frame[schema.SOURCE] = source
            frame[schema.LINE] = raw.frame.index.to_numpy()
            if schema.STATE not in frame.columns and params.state:
                frame[schema.STATE] = params.state.upper()
            parsed.voters.append(frame.reset_index(drop=True))
            ids = cols["voter_id"].astype(str).str.strip()
            if params.history == "wide":
                _wide(raw, ids, params, pick.extra, source, parsed)
            elif params.history == "cell" and history_cell is not None:
                _cell(raw, ids, history_cell, params, source, parsed)
    for path in history:
        with parsed.problem():
            _long(path, config, parsed)
    return parsed
