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

import pandas as pd

from . import schema
from ._encoding import RawTable, read_delimited
from .adapters import ELECTION_TYPE_RAW, Parsed, by_header, from_street_line
from .adapters import sniff_delimiter as _sniff
from .config import MappingParams, PlanConfig
from .errors import InputError
from .precincts import normalise_precinct_code

__all__ = ["read_mapped"]

_VOTED_MARKS = frozenset({"X", "Y", "YES", "V", "VOTED", "1", "TRUE", "T"})
_DATE_IN_LABEL = re.compile(r"(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|\d{8})")


def _columns(
    raw: RawTable, mapping: dict[str, str], setting: str, what: str
) -> dict[str, pd.Series]:
    wanted = {key: (f"!{col}",) for key, col in mapping.items() if col}
    if raw.header is None:  # columns are named by 1-based number
        out: dict[str, pd.Series] = {}
        for key, col in mapping.items():
            if not col:
                continue
            if not col.isdigit() or not 1 <= int(col) <= raw.frame.shape[1]:
                msg = (
                    f"{raw.path}: `{setting}.{key}` = {col!r} must be a column number "
                    f"1-{raw.frame.shape[1]} because mapping header = false."
                )
                raise InputError(msg)
            out[key] = raw.frame[int(col) - 1]
        return out
    try:
        return by_header(raw, wanted, what=what)
    except InputError as err:
        msg = f"{err} Fix [{setting}] in the config to name the file's columns."
        raise InputError(msg) from None


def _wide(
    raw: RawTable, ids: pd.Series, params: MappingParams, source: str, parsed: Parsed
) -> None:
    pattern = re.compile(params.wide_pattern)
    header = raw.header or []
    hits = [(i, m) for i, h in enumerate(header) if (m := pattern.match(h.strip()))]
    name = f"{source} (history columns)"
    if not hits:
        msg = (
            f"{raw.path}: no column name matches mapping.wide_pattern "
            f"{params.wide_pattern!r}; check the pattern against the header."
        )
        raise InputError(msg)
    cells = raw.frame[[i for i, _ in hits]].copy()
    cells.index = raw.frame.index
    long = cells.stack()
    long = long[long.astype(str).str.strip() != ""]
    values = long.astype(str).str.strip().str.upper()
    not_voted = values.isin({v.upper() for v in params.not_voted})
    meta = pd.DataFrame(
        {
            "date": [m.group("date") for _, m in hits],
            "type": [
                (m.groupdict().get("type") or params.wide_type).strip() for _, m in hits
            ],
        },
        index=[i for i, _ in hits],
    )
    voted = values[~not_voted]
    lines = voted.index.get_level_values(0)
    cols = voted.index.get_level_values(1)
    id_by_line = pd.Series(ids.to_numpy(), index=raw.frame.index)
    hist = pd.DataFrame(
        {
            schema.VOTER_ID: id_by_line.reindex(lines).to_numpy(),
            schema.ELECTION_DATE: meta["date"].reindex(cols).to_numpy(),
            ELECTION_TYPE_RAW: meta["type"].reindex(cols).to_numpy(),
            schema.PARTY_VOTED: voted.where(~voted.isin(_VOTED_MARKS), "").to_numpy(),
            schema.SOURCE: name,
            schema.LINE: lines.to_numpy(),
        }
    )
    parsed.files.append(
        {
            "file": name,
            "kind": "history",
            "layout": "mapped_wide",
            "encoding": raw.encoding,
            "header": True,
            "rows_in": len(values),
            "rows_did_not_vote": int(not_voted.sum()),
        }
    )
    parsed.history.append(hist)


def _long(path: Path, config: PlanConfig, parsed: Parsed) -> None:
    params = config.mapping
    sep = params.history_delimiter or _sniff(path, config.inputs.encoding)
    raw = read_delimited(
        path,
        sep=sep,
        header=params.history_header,
        encoding=config.inputs.encoding,
        what="vote-history file",
    )
    hc = dict(params.history_columns)
    if "voter_id" not in hc or not ({"election_date", "election"} & set(hc)):
        msg = (
            "[mapping.history_columns] must name voter_id and election_date (or a "
            'combined election label) for history = "long".'
        )
        raise InputError(msg)
    cols = _columns(raw, hc, "mapping.history_columns", "vote-history file")
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
        sep = params.delimiter or _sniff(path, config.inputs.encoding)
        raw = read_delimited(
            path,
            sep=sep,
            header=params.header,
            encoding=config.inputs.encoding,
            what="voter file",
        )
        cols = _columns(raw, dict(params.columns), "mapping.columns", "voter file")
        if "address" in cols:
            from_street_line(cols, cols.pop("address"), cols.pop(schema.UNIT, None))
        if "precinct_code" in cols:
            code = cols.pop("precinct_code")
            uniq = {
                c: normalise_precinct_code(c, config.precincts) for c in pd.unique(code)
            }
            cols[schema.PRECINCT_ID] = code.map(uniq)
        source = parsed.add_file(raw, "voters", "mapped")
        frame = pd.DataFrame({k: v.astype(str).str.strip() for k, v in cols.items()})
        frame[schema.SOURCE] = source
        frame[schema.LINE] = raw.frame.index.to_numpy()
        if schema.STATE not in frame.columns and params.state:
            frame[schema.STATE] = params.state.upper()
        parsed.voters.append(frame.reset_index(drop=True))
        if params.history == "wide":
            _wide(raw, cols["voter_id"].str.strip(), params, source, parsed)
    for path in history:
        _long(path, config, parsed)
    return parsed
