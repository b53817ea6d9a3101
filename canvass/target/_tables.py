"""Targeting stage, reporting: the precinct table and ranking for the field director.

One row per precinct: voters, targets, expected extra votes, area and targets per
km², past turnout in the latest election of each type (among the voters on the
current file who could vote then), and the precinct's rank by expected extra votes.
"""

from __future__ import annotations

import logging
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema
from ..score import build_matrix

__all__ = ["RANK", "TARGETS", "VOTERS", "precinct_table", "turnout_column"]

logger = logging.getLogger(__name__)

VOTERS: Final = "voters"
TARGETS: Final = "targets"
EXPECTED: Final = "expected_extra_votes"
PER_KM2: Final = "targets_per_km2"
RANK: Final = "rank"
SUPPORTERS: Final = "supporters"


def turnout_column(etype: str) -> str:
    """Return the precinct-table column of past turnout for one election type."""
    return f"turnout_{etype}"


def _voter_precincts(doors: pd.DataFrame, voters: pd.DataFrame) -> pd.Series:
    """Each voter's precinct: their door's (spatial) precinct, else the file's."""
    own = (
        voters[schema.PRECINCT_ID].astype("string")
        if schema.PRECINCT_ID in voters
        else pd.Series(pd.NA, index=voters.index, dtype="string")
    )
    if schema.DOOR_ID in voters and schema.PRECINCT_ID in doors:
        door_precinct = doors[schema.PRECINCT_ID].astype("string")
        door_precinct.index = door_precinct.index.astype(str)
        by_door = voters[schema.DOOR_ID].astype("string").map(door_precinct)
        return by_door.fillna(own)
    return own


def precinct_table(
    precincts: gpd.GeoDataFrame,
    doors: gpd.GeoDataFrame,
    voters: pd.DataFrame,
    history: pd.DataFrame,
    elections: pd.DataFrame,
) -> pd.DataFrame:
    """
    Summarise targets and past turnout per precinct, ranked by expected extra votes.

    Parameters
    ----------
    precincts
        Precinct polygons (index ``precinct_id``, projected CRS).
    doors
        Door table with ``precinct_id``.
    voters
        Targeted voters (``is_target``, ``lift``; ``door_id`` when geocoded).
    history
        Long vote history.
    elections
        The election calendar.

    Returns
    -------
    table
        Index ``precinct_id``: ``name``, ``voters``, ``targets``,
        ``expected_extra_votes``, ``area_km2``, ``targets_per_km2``,
        ``supporters`` (matched supporters, when the voters carry
        ``is_supporter``),
        ``expected_p_state_primary``/``expected_p_state_election`` (mean P(vote)
        of the precinct's voters in the next election of each type), one
        ``turnout_<type>`` column per election type (the latest election of that
        type; ``attrs["turnout_elections"]`` names it) and ``rank`` (1 = most
        expected extra votes; ties broken by precinct id).
    """
    schema.validate_precincts(precincts)
    where = _voter_precincts(doors, voters)
    index = precincts.index.astype(str)
    known = where.isin(index).fillna(False).to_numpy(dtype=bool)
    if (~known).any():
        logger.info("%s voters are in no known precinct", f"{int((~known).sum()):,}")
    is_target = voters[schema.IS_TARGET].astype(bool).to_numpy()
    lift = voters[schema.LIFT].astype(float).to_numpy()
    frame = pd.DataFrame(
        {
            "p": where.to_numpy(),
            VOTERS: 1,
            TARGETS: is_target.astype(int),
            EXPECTED: np.where(is_target, lift, 0.0),
        }
    )[known]
    sums = frame.groupby("p")[[VOTERS, TARGETS, EXPECTED]].sum().reindex(index)
    table = pd.DataFrame(index=pd.Index(index, name=schema.PRECINCT_ID))
    if schema.NAME in precincts:
        table[schema.NAME] = precincts[schema.NAME].astype("string").to_numpy()
    table[VOTERS] = sums[VOTERS].fillna(0).astype(int).to_numpy()
    table[TARGETS] = sums[TARGETS].fillna(0).astype(int).to_numpy()
    table[EXPECTED] = sums[EXPECTED].fillna(0.0).round(4).to_numpy()
    area = (precincts.geometry.area / 1e6).to_numpy(dtype=float)
    table[schema.AREA_KM2] = np.round(area, 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area > 0, table[TARGETS].to_numpy() / area, np.nan)
    table[PER_KM2] = np.round(density, 2)
    if schema.IS_SUPPORTER in voters:  # matched supporters of [supporters] lists
        sup = voters[schema.IS_SUPPORTER].astype(bool).to_numpy()[known]
        counts = pd.Series(sup.astype(int)).groupby(frame["p"].to_numpy()).sum()
        table[SUPPORTERS] = counts.reindex(index).fillna(0).astype(int).to_numpy()
    for etype in schema.TARGET_TYPES:  # expected turnout in the target elections
        col = f"p_{etype}"
        if col in voters:
            p = voters[col].astype(float).to_numpy()[known]
            mean = pd.Series(p).groupby(frame["p"].to_numpy()).mean()
            table[f"expected_{col}"] = mean.reindex(index).round(4).to_numpy()
    labels: dict[str, str] = {}
    if len(elections):
        mx = build_matrix(voters, history, elections)
        cal = elections.sort_values(schema.ELECTION_DATE, kind="stable")
        codes = pd.Categorical(where.to_numpy(), categories=index).codes
        ok = codes >= 0
        for etype in schema.ELECTION_TYPES:
            cols = np.flatnonzero(mx.types == etype)
            if not len(cols):
                continue
            j = int(cols[-1])
            voted = np.bincount(
                codes[ok], weights=mx.voted[ok, j], minlength=len(index)
            )
            elig = np.bincount(
                codes[ok], weights=mx.eligible[ok, j], minlength=len(index)
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(elig > 0, voted / np.maximum(elig, 1), np.nan)
            table[turnout_column(etype)] = np.round(rate, 4)
            labels[etype] = str(cal[schema.LABEL].iloc[j])
    order = table.sort_values(EXPECTED, ascending=False, kind="stable").index
    table[RANK] = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(
        table.index
    )
    table.attrs["turnout_elections"] = labels
    logger.info(
        "Precinct table: %s precincts, top %s",
        f"{len(table):,}",
        order[0] if len(order) else "none",
    )
    return table
