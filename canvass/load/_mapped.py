"""Load stage: any other state's CSV/TSV voter file through the ``[mapping]`` table.

``inputs.voter_format = "mapped"`` reads a delimited voter file whose columns are named
in ``[mapping.columns]`` (see ``docs/voter-files.md`` for worked Ohio and Florida
examples). Vote history is either

* **wide**: one column per election in the voter file, found by
  ``mapping.wide_pattern`` (Ohio: ``PRIMARY-05/07/2013``). A cell counts as a vote
  unless it is blank or listed in ``mapping.not_voted``; a cell other than a plain
  voted mark (``X``, ``Y``, ``1``...) is taken as the party ballot in primaries.
  These votes are reported as a separate pseudo-file ``<file> (history columns)``
  whose ``rows_in`` is the number of vote cells.
* **long**: separate files (``inputs.history``) with one row per voter per election
  (Florida: voter id, election date, ``PPP``/``PRI``/``RUN``/``GEN``/``OTH``, history
  code). Rows whose ``voted`` code is in ``mapping.not_voted`` record that the voter
  did *not* vote: they are read (counted as loaded, and as ``rows_did_not_vote`` in
  the report) but add nothing to the history table.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema
from ..config import MappingParams, PlanConfig
from ..errors import InputError
from ._adapters import ELECTION_TYPE_RAW, Parsed, from_street_line, match_header
from ._adapters import sniff_delimiter as _sniff
from ._encoding import RawTable, Sample, read_delimited
from ._precincts import normalise_precinct_code

__all__ = ["read_mapped"]

#: Wide-history cells that say "voted" (or how), not which party's ballot was taken.
_VOTED_MARKS = frozenset(
    {"X", "Y", "YES", "V", "VOTED", "1", "TRUE", "T", "A", "AB", "ABS", "E", "EV",
     "EARLY", "P", "POLL", "POLLS", "M", "MAIL", "IP", "PROV"}
)  # fmt: skip
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
        msg = (
            f"{raw.path}: no column name matches mapping.wide_pattern "
            f"{params.wide_pattern!r}; check the pattern against the header."
        )
        raise InputError(msg)
    not_voted_codes = {v.upper() for v in params.not_voted}
    parts: list[pd.DataFrame] = []
    n_cells = n_not_voted = 0
    for i in positions:  # one vectorised pass per election column
        m = pattern.match(header[i].strip())
        if m is None:  # pragma: no cover - positions come from the same pattern
            continue
        kind = (m.groupdict().get("type") or params.wide_type).strip()
        cell = raw.frame[i].astype(str).str.strip().str.upper()
        filled = cell != ""
        not_voted = filled & cell.isin(not_voted_codes)
        voted = filled & ~not_voted
        n_cells += int(filled.sum())
        n_not_voted += int(not_voted.sum())
        mark = cell[voted]
        parts.append(
            pd.DataFrame(
                {
                    schema.VOTER_ID: ids[voted].to_numpy(),
                    schema.ELECTION_DATE: m.group("date"),
                    ELECTION_TYPE_RAW: kind,
                    schema.PARTY_VOTED: mark.where(
                        ~mark.isin(_VOTED_MARKS), ""
                    ).to_numpy(),
                    schema.SOURCE: name,
                    schema.LINE: raw.frame.index[voted.to_numpy()].to_numpy(),
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
        }
    )
    parsed.history.extend(parts)


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
        keep = (code != "") & ~code.isin({v.upper() for v in params.not_voted})
        parsed.files[-1]["rows_did_not_vote"] = int((~keep).sum())
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
            if "address" in cols:
                from_street_line(cols, cols.pop("address"), cols.pop(schema.UNIT, None))
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
            if params.history == "wide":
                ids = cols["voter_id"].astype(str).str.strip()
                _wide(raw, ids, params, pick.extra, source, parsed)
    for path in history:
        with parsed.problem():
            _long(path, config, parsed)
    return parsed
