"""The campaign bench's planners: static VAN-style lists and canvass's own planning.

Used by bench/campaign.py (its docstring gives every assumption). :class:`Canvass`
plans as ``canvass run`` does with a campaign database; it sees only the results
recorded in that database, never the simulator's draws (bench/_campaign_town.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _campaign_town import P_COL  # noqa: E402

from canvass import results, route, schema, target, turf  # noqa: E402
from canvass.config import PlanConfig  # noqa: E402


def nearest_neighbour(idx: np.ndarray, tmat: np.ndarray, first: int) -> list[int]:
    """Order doors nearest-first from `first`."""
    order = [first]
    left = set(idx.tolist()) - {first}
    while left:
        cand = np.fromiter(left, dtype=np.int64)
        nxt = int(cand[np.argmin(tmat[order[-1], cand])])
        order.append(nxt)
        left.remove(nxt)
    return order


def static_lists(
    doors: gpd.GeoDataFrame, voters: pd.DataFrame, tmat: np.ndarray
) -> list[list[str]]:
    """VAN-style turfs: ~50 target doors per precinct turf, lowest propensity first."""
    tv = voters[voters[schema.IS_TARGET]]
    mean_p = tv.groupby(schema.DOOR_ID)[P_COL].mean()
    ids = doors.index.astype(str)
    lists: list[tuple[float, list[str]]] = []
    for _, grp in doors[ids.isin(mean_p.index)].groupby(schema.PRECINCT_ID):
        key = turf.hilbert_key(grp.geometry.x.to_numpy(), grp.geometry.y.to_numpy())
        g = grp.iloc[np.argsort(key, kind="stable")]
        k = max(1, round(len(g) / 50))
        for piece in np.array_split(np.arange(len(g)), k):
            members = g.iloc[piece]
            idx = np.array([doors.index.get_loc(d) for d in members.index])
            xy = np.column_stack([members.geometry.x, members.geometry.y])
            first = int(idx[np.argmin(((xy - xy.mean(axis=0)) ** 2).sum(axis=1))])
            order = nearest_neighbour(idx, tmat, first)
            lists.append(
                (
                    float(mean_p.reindex(members.index).mean()),
                    [str(doors.index[i]) for i in order],
                )
            )
    lists.sort(key=lambda x: x[0])
    return [lst for _, lst in lists]


@dataclasses.dataclass
class Canvass:
    """canvass's planning, as ``canvass run`` does it with a campaign database."""

    config: PlanConfig
    snapped: gpd.GeoDataFrame
    G: Any
    voters: pd.DataFrame
    previous: pd.Series
    stable: list[float]
    spare: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: doors moved back to their previous turf, per plan (campaign.stable_m)
    moved: list[int] = dataclasses.field(default_factory=list)
    #: door -> P(answer) the last plan gave its next knock (for the ledger)
    p_door: dict[str, float] = dataclasses.field(default_factory=dict)
    #: voter -> P(answer) the last plan gave their next knock (for the calibration)
    p_voter: dict[str, float] = dataclasses.field(default_factory=dict)
    #: door -> why the last plan did not send anyone there (for the ledger)
    status: dict[str, str] = dataclasses.field(default_factory=dict)
    #: est_s of each list of the last plan (for the ledger)
    est: list[float] = dataclasses.field(default_factory=list)
    #: choose the shift's doors by value per minute (results.choose_doors)
    choose: bool = True
    #: doors at the cap compete for the shift's time (next_knock's cap_competes)
    cap_competes: bool = True
    #: the upper bound only: slot -> each voter's true chance of a contact at a
    #: knock (the simulator's), replacing canvass's estimate (no cap, no low value)
    truth: Any = None

    def plan(
        self, volunteers: int, slot: str, day: dt.date, *, shift_volunteers: int = 0
    ) -> list[list[str]]:
        """
        Routes for the next shift, best value per hour first.

        `shift_volunteers` is ``campaign.shift_volunteers``, as a field director
        sets it for the next shift (0 = not said).
        """
        cfg = dataclasses.replace(
            self.config,
            campaign=dataclasses.replace(
                self.config.campaign,
                next_slot=slot,
                shift_volunteers=shift_volunteers,
            ),
            output=dataclasses.replace(self.config.output, date=day.isoformat()),
        )
        targeted = self.voters.assign(
            **{
                schema.LIFT: target.lift_curve(self.voters[P_COL].to_numpy(), cfg)
                * self.voters[schema.IS_TARGET].to_numpy(),
                schema.SUPPRESSED: "",
            }
        )
        unvalued, _ = results.apply_history(targeted, cfg)
        events = results.read_attempts(cfg)
        targeted, left, replan = results.next_knock(
            unvalued, cfg, events, cap_competes=self.cap_competes
        )
        if self.truth is not None:  # the bound: every knock's value known exactly
            p_true = self.truth(slot).reindex(unvalued.index).fillna(0.0).to_numpy()
            live = unvalued[schema.IS_TARGET].astype(bool).to_numpy()
            effect = target.lift_curve(self.voters[P_COL].to_numpy(), cfg) / (
                cfg.lift.contact_rate
            )
            targeted = unvalued.assign(
                **{
                    schema.LIFT: np.where(live, p_true * effect, 0.0),
                    results.P_CONTACT: np.where(live, p_true, 0.0),
                }
            )
            left = left.iloc[0:0]
            replan = {**replan, "reserve": {}}
        doors = target.door_values(self.snapped, targeted)
        chose: dict[str, Any] = {"no_time": 0}
        if shift_volunteers and self.choose:  # the doors for the shift's volunteers
            doors, targeted, chosen_left, chose = results.choose_doors(
                doors, targeted, cfg
            )
            left = pd.concat([x for x in (left, chosen_left) if len(x)] or [left])
        cut = turf.cut_turfs(doors, self.G, cfg)
        if shift_volunteers:  # as canvass.pipeline does: volunteers to spare
            room = 0 if chose["no_time"] else results.doors_to_fill(cut.turfs, cfg)
            if room and sum(replan["reserve"].values()):
                targeted, left, replan = results.next_knock(
                    unvalued,
                    cfg,
                    events,
                    bring_back=room,
                    cap_competes=self.cap_competes,
                )
                doors = target.door_values(self.snapped, targeted)
                if self.choose:
                    doors, targeted, chosen_left, chose = results.choose_doors(
                        doors, targeted, cfg
                    )
                    left = pd.concat(
                        [x for x in (left, chosen_left) if len(x)] or [left]
                    )
                cut = turf.cut_turfs(doors, self.G, cfg)
            spare = results.spare_report(cut.turfs, cfg, room, replan)
            self.spare.append(spare)
        named, turfs, report = results.keep_turf_ids(
            cut.doors, cut.turfs, self.previous
        )
        named, turfs, settled = results.settle_turfs(named, turfs, self.previous, cfg)
        report.update(settled)
        self.moved.append(settled["doors_moved_back"])
        if report["doors_again"]:
            self.stable.append(report["doors_same_turf"] / report["doors_again"])
        self.previous = named.loc[named[schema.TURF_ID] != "", schema.TURF_ID]
        rank = (turfs[schema.VALUE] / turfs[schema.EST_S].clip(1)).sort_values(
            ascending=False, kind="stable"
        )
        chosen = list(rank.index[: volunteers + 3])
        sub = named[named[schema.TURF_ID].isin(chosen)]
        routed = route.route_turfs(sub, turfs.loc[chosen], self.G, cfg)
        stops = routed.stops.sort_values([schema.ROUTE_ID, schema.STOP])
        by_turf = {
            str(t): g[schema.DOOR_ID].astype(str).tolist()
            for t, g in stops.groupby(schema.TURF_ID, sort=False)
        }
        tv = targeted[targeted[schema.IS_TARGET].astype(bool)]
        self.p_voter = tv[results.P_CONTACT].astype(float).to_dict()
        self.p_door = (
            tv.groupby(schema.DOOR_ID)[results.P_CONTACT].max().astype(float).to_dict()
        )
        status = {str(d): f"left_out_{r}" for d, r in zip(
            left[schema.DOOR_ID], left[schema.REASON], strict=True)}  # fmt: skip
        in_turf = named[schema.TURF_ID].astype(str)
        status.update({str(d): "turf_not_sent" for d in in_turf[in_turf != ""].index})
        status.update({str(d): "sent_dropped" for d in sub.index})
        self.status = status
        self.est = [float(turfs.loc[t, schema.EST_S]) for t in chosen if t in by_turf]
        return [by_turf[t] for t in chosen if t in by_turf]
