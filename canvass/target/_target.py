"""Targeting stage: universes, suppressions, expected extra votes and door values.

:func:`select_targets` puts each scored voter in or out of the configured universe
(``[target] universe`` naming one of ``[universes.<name>]``), applies the standard
suppressions and gives every target the expected extra votes a knock brings:
``lift = effect(P(vote)) x contact rate``, with the piecewise-linear effect curve of
``[lift]`` (default: largest for middle propensity, near zero under 10 %, as the
field experiments for low-salience races find; DOMAIN.md 2.3).

Suppressions, in this order (the first that applies is the reason given):

``inactive``
    Voter status ``I``.
``moved``
    Status in ``target.moved_statuses`` (default M, MOVED, R, REMOVED), a true
    ``moved`` column, or a ``status_reason`` with the word MOVED (NC: "MOVED
    FROM COUNTY"; "REMOVED" alone does not count).
``deceased``
    Status in ``target.deceased_statuses`` (default D, DECEASED), a true
    ``deceased`` column, or a ``status_reason`` mentioning DECEASED.
``do_not_knock``
    Listed in ``inputs.do_not_knock``: a CSV with a ``voter_id``, ``door_id`` or
    ``address`` column (address = house number and street, e.g. "12 MAIN ST";
    everyone at that building is skipped).

Massachusetts files carry only A/I statuses, so ``moved`` and ``deceased`` come
from the other codes and columns when a file has them.
"""

from __future__ import annotations

import logging
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..config import PlanConfig, UniverseParams
from ..errors import InputError
from ..load import read_table
from ..score import build_matrix
from ._tables import precinct_table

__all__ = [
    "door_values",
    "last_eligible",
    "lift_curve",
    "lookalikes",
    "precinct_table",
    "select_targets",
]

logger = logging.getLogger(__name__)

UNIVERSE: Final = "universe"
_DNK_COLUMNS: Final = (schema.VOTER_ID, schema.DOOR_ID, schema.ADDRESS)


def lift_curve(p: np.ndarray, config: PlanConfig) -> np.ndarray:
    """
    Return the expected extra votes per knock at propensity `p`.

    Parameters
    ----------
    p
        P(vote) in the target election.
    config
        Run configuration (``[lift]``: curve and contact rate).

    Returns
    -------
    lift
        ``effect(p) x contact_rate`` (NaN propensities give 0).
    """
    lift = config.lift
    effect = np.interp(np.nan_to_num(p, nan=0.0), lift.curve_p, lift.curve_effect)
    return np.asarray(np.where(np.isnan(p), 0.0, effect * lift.contact_rate))


def _text(voters: pd.DataFrame, name: str) -> pd.Series:
    if name not in voters:
        return pd.Series("", index=voters.index, dtype="string")
    return voters[name].astype("string").fillna("").str.strip().str.upper()


def _flag(voters: pd.DataFrame, name: str) -> pd.Series:
    if name not in voters:
        return pd.Series(False, index=voters.index)
    col = voters[name]
    if col.dtype == bool:
        return col.fillna(False).astype(bool)
    text = col.astype("string").fillna("").str.strip().str.upper()
    return text.isin(["TRUE", "T", "Y", "YES", "1"])


def building_address(frame: pd.DataFrame) -> pd.Series:
    """House number (with suffix) and street, upper case: ``"12A MAIN ST"``."""
    number = _text(frame, schema.STREET_NUMBER) + _text(
        frame, schema.STREET_NUMBER_SUFFIX
    )
    joined = number + " " + _text(frame, schema.STREET_NAME)
    return joined.str.replace(r"\s+", " ", regex=True).str.strip()


def _do_not_knock(voters: pd.DataFrame, config: PlanConfig) -> pd.Series:
    path_text = config.inputs.do_not_knock
    if not path_text:
        return pd.Series(False, index=voters.index)
    path = config.resolve(path_text)
    table = read_table(path, what="do-not-knock file", header_only_ok=True)
    if len(table.bad):  # a skipped entry would send a canvasser to that door
        first = table.bad.iloc[0]
        msg = (
            f"{path}: line {first['line']} of the do-not-knock file {first['reason']} "
            f"({len(table.bad)} such lines); fix the file so that no entry is lost."
        )
        raise InputError(msg)
    dnk = table.frame
    dnk.columns = [str(c).strip().lower() for c in dnk.columns]
    found = [c for c in _DNK_COLUMNS if c in dnk.columns]
    if not found:
        msg = (
            f"{path}: the do-not-knock file needs a column named one of "
            f"{list(_DNK_COLUMNS)}; found {list(dnk.columns)[:8]}."
        )
        raise InputError(msg)
    hit = pd.Series(False, index=voters.index)
    if schema.VOTER_ID in found:
        ids = set(dnk[schema.VOTER_ID].str.strip()) - {""}
        hit |= voters.index.to_series().astype(str).isin(ids)
        if missing := len(ids - set(voters.index.astype(str))):
            logger.info("%s do-not-knock voter ids are not in the voter file", missing)
    if schema.DOOR_ID in found and schema.DOOR_ID in voters:
        doors = set(dnk[schema.DOOR_ID].str.strip()) - {""}
        hit |= voters[schema.DOOR_ID].astype("string").isin(doors).fillna(False)
    if schema.ADDRESS in found:
        wanted = dnk[schema.ADDRESS].str.upper().str.replace(r"\s+", " ", regex=True)
        hit |= building_address(voters).isin(set(wanted.str.strip()) - {""})
    return hit.astype(bool)


def _suppressions(voters: pd.DataFrame, config: PlanConfig) -> pd.Series:
    status = _text(voters, schema.STATUS)
    reason = _text(voters, "status_reason")
    rules = {
        "inactive": status.eq(schema.INACTIVE),
        "moved": status.isin(config.target.moved_statuses)
        | _flag(voters, "moved")
        | reason.str.contains(r"\bMOVED\b", regex=True),  # not "REMOVED"
        "deceased": status.isin(config.target.deceased_statuses)
        | _flag(voters, "deceased")
        | reason.str.contains("DECEAS", regex=False),
    }
    out = pd.Series("", index=voters.index, dtype="string")
    for name in config.target.suppress:
        hit = _do_not_knock(voters, config) if name == "do_not_knock" else rules[name]
        out = out.mask(out.eq("") & hit.to_numpy(dtype=bool), name)
    return out


def lookalikes(voters: pd.DataFrame, ratio: float) -> pd.Series:
    """
    Voters in groups where matched supporters are over-represented.

    Groups are precinct x age band (18-29, 30-44, 45-64, 65+) x party. A group's
    supporter share is smoothed toward the file's (10 pseudo-voters), so a small
    precinct group with one supporter does not count; the group "looks like the
    supporters" when its share is at least `ratio` times the file's.

    Parameters
    ----------
    voters
        Voters with ``is_supporter`` (from :func:`canvass.match.flag_voters`).
    ratio
        ``supporters.lookalike_ratio``.

    Returns
    -------
    lookalike
        Boolean per voter.
    """
    sup = voters[schema.IS_SUPPORTER].astype(bool)
    rate = float(sup.mean()) if len(sup) else 0.0
    if rate == 0.0:
        return pd.Series(False, index=voters.index)
    if schema.BIRTH_YEAR in voters:
        year = pd.to_numeric(voters[schema.BIRTH_YEAR], errors="coerce")
    else:
        year = pd.Series(np.nan, index=voters.index)
    age = year.max() - year
    band = np.digitize(age.fillna(-1).to_numpy(), [0, 30, 45, 65])
    keys = pd.DataFrame(
        {
            "p": _text(voters, schema.PRECINCT_ID).to_numpy(),
            "a": band,
            "y": _text(voters, schema.PARTY).to_numpy(),
        },
        index=voters.index,
    )
    grouped = sup.groupby([keys["p"], keys["a"], keys["y"]])
    n = grouped.transform("size").to_numpy(dtype=float)
    s = grouped.transform("sum").to_numpy(dtype=float)
    smoothed = (s + 10.0 * rate) / (n + 10.0)
    return pd.Series(smoothed >= ratio * rate, index=voters.index)


def _among(voters: pd.DataFrame, universe: UniverseParams, ratio: float) -> pd.Series:
    """Whom a universe is drawn from: everyone, supporters, households, lookalikes."""
    if universe.among == "all":
        return pd.Series(True, index=voters.index)
    if schema.IS_SUPPORTER not in voters:
        msg = (
            f"The universe is drawn from {universe.among} but the voters carry no "
            "supporter match; configure [supporters] files (canvass run matches "
            'them) or pick a universe with among = "all".'
        )
        raise InputError(msg)
    if universe.among == "supporters":
        return voters[schema.IS_SUPPORTER].astype(bool)
    house = voters[schema.SUPPORTER_HOUSEHOLD].astype(bool)
    if universe.among == "households":
        return house
    return house | lookalikes(voters, ratio)


def _members(
    voters: pd.DataFrame,
    history: pd.DataFrame,
    elections: pd.DataFrame,
    universe: UniverseParams,
    etype: str,
    ratio: float = 1.5,
) -> pd.Series:
    """Who is in `universe` before suppressions."""
    p = voters[f"p_{etype}"].astype(float)
    new = voters[schema.IS_NEW_REGISTRANT].astype(bool)
    if universe.kind == "new_registrants":
        inside = new
    elif universe.kind == "drop_off":
        inside = _drop_off(voters, history, elections) & ~new
    elif universe.kind == "low_propensity" and universe.max_voted >= 0:
        voted, elig = last_eligible(voters, history, elections, etype, universe.of_last)
        inside = pd.Series(
            (elig > 0) & (voted <= universe.max_voted), index=voters.index
        )
        inside &= ~new | universe.include_new_registrants
    else:
        low = universe.min_p if universe.kind == "band" else 0.0
        inside = p.between(low, universe.max_p) & (
            ~new | universe.include_new_registrants
        )
    if universe.parties:
        parties = {x.strip().upper() for x in universe.parties}
        inside &= _text(voters, schema.PARTY).isin(parties)
    inside &= _among(voters, universe, ratio)
    return inside.fillna(False).astype(bool)


def last_eligible(
    voters: pd.DataFrame,
    history: pd.DataFrame,
    elections: pd.DataFrame,
    etype: str,
    m: int,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Votes among the last `m` elections of a type that each voter was eligible for.

    Returns
    -------
    voted, eligible
        Per voter: elections voted in, and how many were counted (at most `m`;
        fewer when the voter could vote in fewer).
    """
    mx = build_matrix(voters, history, elections)
    cols = np.flatnonzero(mx.types == etype)[::-1]  # newest first
    elig = mx.eligible[:, cols]
    counted = elig & (np.cumsum(elig, axis=1) <= m)
    voted = (mx.voted[:, cols] & counted).sum(axis=1)
    return np.asarray(voted), np.asarray(counted.sum(axis=1))


def _drop_off(
    voters: pd.DataFrame, history: pd.DataFrame, elections: pd.DataFrame
) -> pd.Series:
    """Voted in a presidential election, in no other election they could vote in."""
    mx = build_matrix(voters, history, elections)
    pres = mx.types == schema.PRESIDENTIAL_ELECTION
    other = ~pres
    voted_pres = mx.voted[:, pres].any(axis=1)
    voted_other = mx.voted[:, other].any(axis=1)
    could_other = mx.eligible[:, other].any(axis=1)
    return pd.Series(voted_pres & ~voted_other & could_other, index=voters.index)


def select_targets(
    voters: pd.DataFrame,
    history: pd.DataFrame,
    elections: pd.DataFrame,
    config: PlanConfig,
) -> pd.DataFrame:
    """
    Pick the voters to knock and the expected extra votes of each.

    Parameters
    ----------
    voters
        Scored voters (from :func:`canvass.score.score_voters`).
    history
        Long vote history (for the drop-off and rule universes).
    elections
        The election calendar.
    config
        Run configuration: ``[target]``, ``[universes]``, ``[lift]`` and
        ``inputs.do_not_knock``.

    Returns
    -------
    voters
        Copy with ``universe`` (the universe name, or ""), ``suppressed`` ("" or
        the reason), ``is_target`` and ``lift`` (expected extra votes if knocked;
        0 for non-targets).

    Raises
    ------
    InputError
        If the voters are not scored, or the do-not-knock file is unusable.
    """
    schema.validate_voters(voters)
    etype = config.target.election_type
    needed = [f"p_{etype}", schema.IS_NEW_REGISTRANT]
    if missing := [c for c in needed if c not in voters]:
        msg = f"The voters are not scored (missing {missing}); run score_voters first."
        raise InputError(msg)
    name = config.target.universe
    universe = config.universes[name]
    inside = _members(
        voters,
        history,
        elections,
        universe,
        etype,
        config.supporters.lookalike_ratio,
    )
    out = voters.copy()
    out[UNIVERSE] = np.where(inside, name, "")
    out[schema.SUPPRESSED] = _suppressions(voters, config).to_numpy()
    target = inside & out[schema.SUPPRESSED].eq("").to_numpy()
    out[schema.IS_TARGET] = target.to_numpy(dtype=bool)
    lift = lift_curve(out[f"p_{etype}"].to_numpy(dtype=float), config)
    out[schema.LIFT] = np.where(out[schema.IS_TARGET], lift, 0.0)
    suppressed = out.loc[inside, schema.SUPPRESSED]
    logger.info(
        "Universe %s: %s voters, %s suppressed (%s), %s targets, %.1f extra votes",
        name,
        f"{int(inside.sum()):,}",
        f"{int(suppressed.ne('').sum()):,}",
        ", ".join(
            f"{k} {v}" for k, v in suppressed[suppressed.ne("")].value_counts().items()
        )
        or "none",
        f"{int(target.sum()):,}",
        float(out[schema.LIFT].sum()),
    )
    return out


def door_values(doors: gpd.GeoDataFrame, voters: pd.DataFrame) -> gpd.GeoDataFrame:
    """
    Count targets per door and sum their expected extra votes.

    Parameters
    ----------
    doors
        Door table (index ``door_id``).
    voters
        Targeted voters with ``door_id``, ``is_target`` and ``lift``.

    Returns
    -------
    doors
        Copy with ``n_targets`` (int) and ``value`` (expected extra votes at the
        door); doors with no voters get 0.

    Raises
    ------
    InputError
        If the voters carry no ``door_id`` or are not targeted yet.
    """
    needed = [schema.DOOR_ID, schema.IS_TARGET, schema.LIFT]
    if missing := [c for c in needed if c not in voters]:
        msg = f"door_values needs voters with {needed}; missing {missing}."
        raise InputError(msg)
    targets = voters[
        voters[schema.IS_TARGET].astype(bool) & voters[schema.DOOR_ID].notna()
    ]
    grouped = targets.groupby(targets[schema.DOOR_ID].astype(str))
    out = doors.copy()
    index = out.index.astype(str)
    out[schema.N_TARGETS] = (
        grouped.size().reindex(index).fillna(0).to_numpy(dtype=np.int64)
    )
    out[schema.VALUE] = (
        grouped[schema.LIFT].sum().reindex(index).fillna(0.0).to_numpy(dtype=float)
    )
    # group keys via size(): .groups builds one Index per door (slow on a state)
    if lost := len(set(grouped.size().index) - set(index)):
        logger.info("%s doors of targeted voters are not in the door table", lost)
    return out
