"""Campaign bench: expected extra votes per volunteer hour, over many shifts.

Doors are the real voter addresses of some Northampton, MA precincts (2012-2021
lines), walked on the 2020 OpenStreetMap walk graph. People are synthetic: each door
holds its real number of registered voters (at most 8, so dormitories do not swamp
the town), grouped into households of 1-3; each voter has a P(vote) in the target
election (household-correlated Beta) and the voters under 45 % are the universe.
Each household has its own chance of being home, Beta(0.75, 2.25) (mean 0.25), half
of it the household's habit and half particular to the time slot (weekday evening,
weekend day). A campaign is ``--weeks`` weeks of two 2-hour shifts (Wednesday
evening, Saturday day) with ``--volunteers`` volunteers; the same people, hours and
walking-time matrix (shortest paths on the walk graph, 1.2 m/s) serve three ways of
planning it:

- **static**, what campaigns do with VAN today: precinct turfs of about 50 target
  doors (along a space-filling curve), the lowest-propensity turfs first, each
  walked in nearest-neighbour order, the same lists re-walked as printed until the
  campaign ends (a voter already contacted and spoken to again banks only a
  reminder's effect, 1.2/7 of a first contact; ``--lists-skip-done`` makes the
  volunteers skip doors whose people are all done instead, as MiniVAN shows fresh
  results);
- **one plan**: canvass's turfs and routes (its cut and router on the real network)
  made once, turfs taken best value per hour first, re-walked as is (the same way);
- **re-planned**: before every shift canvass reads the results recorded so far from
  its campaign database (:func:`canvass.results.apply_history`,
  :func:`canvass.results.next_knock`), values each door by its next knock, cuts and
  routes again, and sends volunteers to the best turfs per hour. It is told the
  shift's volunteers (``campaign.shift_volunteers``, as a field director sets it;
  ``--no-shift-volunteers``: not told), so it chooses the shift's doors by value per
  minute of work (:func:`canvass.results.choose_doors`; ``--no-choose-doors``:
  not), lets doors at the attempt cap that are worth a knock compete for the shift
  (``--cap-waits``: they wait for room, the rule before) and, with time to spare,
  brings back doors it left out (:func:`canvass.results.doors_to_fill`), as
  ``canvass run`` does. Its planning is in bench/_campaign_plan.py.

``--oracle`` adds a bound: the same re-planner told every knock's true value by the
simulator (each household's chance of being home in the slot), and the votes of
knocks without walking (:func:`_campaign_town.knock_bound`). No planner of the
comparison sees these.

The simulator (:class:`Field`, in bench/_campaign_town.py) draws who is home at each
knock and keeps those draws to itself: the planners see only the results written to the
campaign database (the rows canvass imports). Its draws are common random numbers:
the j-th knock at a household in a slot uses the same uniforms in all three
campaigns of a seed, so the plans are compared on the same answering doors.
Every knock is also written to a ledger (bench/_campaign_ledger.py): first knocks,
re-knocks of never-answered doors by attempt and slot, doors answered before with
someone still to reach, reminders, with their walking, answers and votes; and the
target doors never knocked, by the last plan's reason; the volunteers' idle minutes
(no list left, or the next door does not fit), each list's planned (``est_s``) against
actual time, each voter's predicted P(answer) against their recorded result by their
own history (what the planner sees, nothing of the simulator's), and the ratio vs
static split into factors (time used, walking, time at
the door, first knocks' value, the rest: :func:`_campaign_ledger.decompose`). A knock
takes 60 s when nobody
answers and 150 s with a conversation (DOMAIN.md 3.2); a volunteer who finishes a
list early takes the next one (walking to it, or a 5-minute drive if that is less).
Every contact with a target banks the effect of the ``[lift]`` curve at that voter's
P(vote) (the first contact only: contacted voters are done). Votes per volunteer
hour = banked votes / (volunteers x shifts x 2 h).

Usage::

    python bench/campaign.py [--quick] [--seeds 0 1 2] [--weeks 4] [--volunteers 3]
                             [--precincts 2B 4A] [--lists-skip-done]
                             [--min-value-share 0.2] [--max-attempts 3] [--cap-waits]
                             [--no-shift-volunteers]
                             [--stable-m 15] [--no-choose-doors] [--oracle]

Last line: ``campaign: votes_per_hour_ratio_vs_static=.. replan_gain=..
contacts_ratio=.. wall_s=..`` (means over the seeds; each seed's line and the spread
are printed before).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _campaign_ledger import Ledger, decompose  # noqa: E402
from _campaign_plan import Canvass, static_lists  # noqa: E402
from _campaign_town import (  # noqa: E402
    ADDRESSES,
    CRS,
    ETYPE,
    GRAPH,
    NOT_HOME_S,
    SHIFT_S,
    SHIFTS,
    SPEED,
    START,
    TRANSFER_S,
    Field,
    knock_bound,
    load_doors,
    make_people,
    walk_matrix,
)

from canvass import network, results, schema  # noqa: E402
from canvass.config import PlanConfig  # noqa: E402

# The town and the field (who is home) are in bench/_campaign_town.py.


# --- walking lists in a shift ------------------------------------------------------


def stamp_of(start: dt.datetime, clock: float) -> str:
    """ISO time of a knock `clock` seconds into a shift."""
    return (start + dt.timedelta(seconds=int(clock))).isoformat()


def walk_list(
    field: Field,
    tmat: np.ndarray,
    pos: dict[str, int],
    doors: list[str],
    at: int,
    clock: float,
    here: int | None,
    slot: str,
    start: dt.datetime,
    rows: list[dict[str, str]],
    skip_done: bool,
    ledger: Ledger,
) -> tuple[int, float, int | None]:
    """Walk `doors` from index `at` until the shift ends; return where it stopped."""
    i, first = at, True
    while i < len(doors):
        d = doors[i]
        if skip_done and field.door_done(d):
            i += 1
            continue
        j = pos[d]
        step = 0.0 if here is None else float(tmat[here, j])
        if first and here is not None:  # to the next list: drive there at most
            step = min(step, TRANSFER_S)
        if clock + step + NOT_HOME_S > SHIFT_S:
            break
        clock += step
        done_before, votes_before = field.door_done(d), field.votes
        got, spent = field.knock(d, slot, stamp_of(start, clock))
        ledger.note(d, slot, done_before, step, spent, field.votes - votes_before, got)
        rows.extend(got)
        clock += spent
        here, first = j, False
        i += 1
    return i, clock, here


def run_lists(
    field: Field,
    tmat: np.ndarray,
    pos: dict[str, int],
    lists: list[list[str]],
    pointers: list[int],
    volunteers: int,
    slot: str,
    start: dt.datetime,
    *,
    repass: bool,
    skip_done: bool,
    ledger: Ledger,
    est: list[float] | None = None,
) -> list[dict[str, str]]:
    """
    One shift: each volunteer takes the next unfinished list, and the next when done.

    With `repass` (standing lists), once every list has been walked the pointers
    go back to the top: the lists are walked again, done doors skipped. Each
    volunteer's unused minutes go to the ledger (nothing left to walk, or the
    next door does not fit), and with `est` (the planner's ``est_s`` of each
    list) every list walked whole in one go is set against its estimate.
    """
    rows: list[dict[str, str]] = []
    taken: set[int] = set()
    est = est or []

    def open_list(t: int) -> bool:
        if t in taken:
            return False
        rest = lists[t][pointers[t] :]
        return any(not field.door_done(d) for d in rest) if skip_done else bool(rest)

    for _ in range(volunteers):
        clock, here = 0.0, None
        reset = False
        why = "shift_end"
        while clock < SHIFT_S - NOT_HOME_S:
            free = [t for t in range(len(lists)) if open_list(t)]
            if not free:
                if not repass or reset:
                    why = "nothing_left"
                    break
                for t in range(len(lists)):  # a new pass over the same lists
                    if t not in taken:
                        pointers[t] = 0
                reset = True
                continue
            t = free[0]
            taken.add(t)
            at, began = pointers[t], clock
            pointers[t], clock, here = walk_list(
                field, tmat, pos, lists[t], at, clock, here, slot, start, rows,
                skip_done, ledger,
            )  # fmt: skip
            if at == 0 and pointers[t] == len(lists[t]) and t < len(est):
                ledger.turf_time(est[t], clock - began)
            if pointers[t] < len(lists[t]) and pointers[t] == at:
                taken.discard(t)  # not even its next door fits: left for another
                break
        ledger.idle(why, SHIFT_S - clock)
    return rows


def record(engine: sa.Engine, rows: list[dict[str, str]]) -> None:
    """Write results to the campaign database, as an import would."""
    if not rows:
        return
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(
            events.insert(),
            [
                {
                    "event_id": uuid.uuid4().hex,
                    "voter_id": r["voter_id"],
                    "door_id": r["door_id"],
                    "run_id": None,
                    "route_id": None,
                    "volunteer": "",
                    "contacted_at": r["contacted_at"],
                    "contact_date": dt.date.fromisoformat(r["contacted_at"][:10]),
                    "result": r["result"],
                    "answers": {},
                    "source": "phone",
                    "contact_type": "Walk",
                }
                for r in rows
            ],
        )


def shifts(weeks: int) -> list[tuple[str, dt.datetime]]:
    """The campaign's shifts: (slot, start time)."""
    out = []
    for w in range(weeks):
        for slot, weekday, hour in SHIFTS:
            day = START + dt.timedelta(days=7 * w + weekday)
            out.append((slot, dt.datetime(day.year, day.month, day.day, hour)))
    return out


def campaign(
    kind: str,
    town: dict[str, Any],
    seed: int,
    args: argparse.Namespace,
    folder: Path,
) -> dict[str, float]:
    """Run one campaign; return its votes, contacts, knocks and hours."""
    voters, households, doors, tmat, G, snapped = (
        town["voters"], town["households"], town["doors"], town["tmat"],
        town["G"], town["snapped"],
    )  # fmt: skip
    field = Field(voters, households, seed)
    ledger = Ledger()
    pos = {str(d): i for i, d in enumerate(doors.index)}
    plan_s = 0.0
    cfg = PlanConfig.from_dict(
        {
            "seed": seed,
            "walk": {"speed_m_s": SPEED, "door_s": 90},
            "turf": {"shift_s": SHIFT_S, "car_legs": False},
            "route": {"time_limit_s": 0.0, "workers": args.workers},
            "target": {"election_type": ETYPE},
            "campaign": {
                "db": str(folder / f"{kind}-{seed}.db"),
                "min_value_share": args.min_value_share,
                "max_attempts": args.max_attempts,
                "stable_m": args.stable_m,
            },
        }
    )
    engine = results.open_db(cfg)
    planner = Canvass(cfg, snapped, G, voters, pd.Series(dtype=object), [])
    planner.choose = not args.no_choose_doors
    planner.cap_competes = not args.cap_waits
    if kind == "oracle":
        planner.truth = field.true_contact
    lists: list[list[str]] = []
    pointers: list[int] = []
    if kind == "static":
        lists = static_lists(doors, voters, tmat)
    elif kind == "one_plan":
        t0 = time.perf_counter()
        lists = planner.plan(10**6, "", START)
        plan_s += time.perf_counter() - t0
    pointers = [0] * len(lists)
    for slot, start in shifts(args.weeks):
        if kind in ("replan", "oracle"):
            t0 = time.perf_counter()
            lists = planner.plan(
                args.volunteers,
                slot,
                start.date(),
                shift_volunteers=0 if args.no_shift_volunteers else args.volunteers,
            )
            plan_s += time.perf_counter() - t0
            pointers = [0] * len(lists)
            ledger.predicted = planner.p_door
            ledger.calibration.predicted = planner.p_voter
        rows = run_lists(
            field, tmat, pos, lists, pointers, args.volunteers, slot, start,
            repass=kind not in ("replan", "oracle"),
            skip_done=kind in ("replan", "oracle") or args.lists_skip_done,
            ledger=ledger, est=planner.est if kind != "static" else None,
        )  # fmt: skip
        record(engine, rows)
    engine.dispose()
    target_doors = sorted(
        {str(d) for d in voters.loc[voters[schema.IS_TARGET], schema.DOOR_ID]}
        & set(pos)
    )
    listed = {d for lst in lists for d in lst}
    status = dict(planner.status) if kind != "static" else {}
    status.update(dict.fromkeys(listed, "not_reached"))  # in a list walked this shift
    hours = args.volunteers * len(shifts(args.weeks)) * SHIFT_S / 3600
    return {
        "votes": field.votes,
        "contacts": field.contacts,
        "reminders": field.reminders,
        "knocks": field.knocks,
        "hours": hours,
        "plan_s": plan_s,
        "stable": float(np.mean(planner.stable)) if planner.stable else float("nan"),
        "moved": sum(planner.moved),
        "back_low": sum(r["brought_back"]["low_value"] for r in planner.spare),
        "back_cap": sum(r["brought_back"]["attempt_cap"] for r in planner.spare),
        "idle": sum(r["idle_shifts"] for r in planner.spare),
        "ledger": ledger,
        "unknocked": ledger.unknocked(target_doors, status),
        "unknocked_worth": float(
            np.mean([field.worth(d) for d in target_doors if d not in ledger.history])
            if any(d not in ledger.history for d in target_doors)
            else np.nan
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one precinct, 2 weeks")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--volunteers", type=int, default=3)
    ap.add_argument("--precincts", nargs="+", default=["2B", "4A"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--lists-skip-done",
        action="store_true",
        help="static and one-plan volunteers skip doors whose people are all done "
        "(as MiniVAN shows fresh results) instead of re-walking the lists as is",
    )
    ap.add_argument(
        "--min-value-share",
        type=float,
        default=PlanConfig().campaign.min_value_share,
        help="campaign.min_value_share of canvass's plans (default: canvass's)",
    )
    ap.add_argument(
        "--max-attempts",
        type=int,
        default=PlanConfig().campaign.max_attempts,
        help="campaign.max_attempts of canvass's plans (default: canvass's)",
    )
    ap.add_argument(
        "--cap-waits",
        action="store_true",
        help="doors at the attempt cap come back only when the shift has room "
        "(canvass before they competed for the shift's time by value per minute)",
    )
    ap.add_argument(
        "--stable-m",
        type=float,
        default=PlanConfig().campaign.stable_m,
        help="campaign.stable_m of the re-plans (negative: doors never moved back "
        "to their previous turf; default: canvass's)",
    )
    ap.add_argument(
        "--no-shift-volunteers",
        action="store_true",
        help="do not tell canvass the next shift's volunteers (campaign."
        "shift_volunteers = 0, as before it existed)",
    )
    ap.add_argument(
        "--no-choose-doors",
        action="store_true",
        help="the re-planner without results.choose_doors (every door still worth "
        "a knock cut into turfs, only whole turfs ranked: canvass before it)",
    )
    ap.add_argument(
        "--oracle",
        action="store_true",
        help="also run the upper bound: canvass's re-planner told every knock's "
        "true value by the simulator (no planner of the comparison sees it)",
    )
    args = ap.parse_args()
    if args.quick:
        args.precincts, args.weeks, args.volunteers = ["4A"], 2, 3
        args.seeds = args.seeds[:2]
    t_all = time.perf_counter()
    if not GRAPH.is_file() or not ADDRESSES.is_file():
        sys.exit(f"campaign: the shared data folder is missing ({GRAPH.parent.parent})")
    G = network.read_walk_graph(GRAPH, PlanConfig().walk, crs=CRS)
    base = load_doors(args.precincts)
    snapped_all = network.snap_doors(base, G, PlanConfig().walk)
    doors = snapped_all.doors[snapped_all.doors[schema.EDGE_U].notna()]
    tmat = walk_matrix(G, doors)
    print(
        f"town: precincts {' '.join(args.precincts)}, {len(doors):,} doors; "
        f"{args.volunteers} volunteers x {len(shifts(args.weeks))} shifts of 2 h"
    )
    per_seed: list[dict[str, float]] = []
    factors: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            rng = np.random.default_rng(seed)
            voters, households = make_people(doors, rng)
            town = {
                "voters": voters,
                "households": households,
                "doors": doors,
                "tmat": tmat,
                "G": G,
                "snapped": doors,
            }
            kinds = ("static", "one_plan", "replan") + (
                ("oracle",) if args.oracle else ()
            )
            out = {k: campaign(k, town, seed, args, Path(tmp)) for k in kinds}
            n_t = int(voters[schema.IS_TARGET].sum())
            for k, r in out.items():
                print(
                    f"  seed {seed} {k:9s}: {r['votes']:7.2f} votes, "
                    f"{r['votes'] / r['hours']:.3f}/h, {r['contacts']:5d} contacts of "
                    f"{n_t} targets (+{r['reminders']} spoken to again), "
                    f"{r['knocks']:5d} knocks, plan {r['plan_s']:.0f} s"
                    + (
                        f", re-knocked doors in the same turf {r['stable']:.0%} "
                        f"({r['moved']} moved back)"
                        if k in ("replan", "oracle") and r["stable"] == r["stable"]
                        else ""
                    )
                    + (
                        f"; brought back {r['back_low']} low-value doors and "
                        f"{r['back_cap']} at the cap, {r['idle']:.1f} volunteer "
                        "shifts idle"
                        if k == "replan"
                        else ""
                    )
                )
                if k != "static":
                    dec = decompose(r["ledger"], out["static"]["ledger"], r["hours"])
                    for f, x in dec.items():
                        factors.setdefault((k, f), []).append(x)
                    print(
                        "      vs static: "
                        + " x ".join(
                            f"{f} {x:.3f}" for f, x in dec.items() if f != "ratio"
                        )
                        + f" = {dec.get('ratio', float('nan')):.3f}"
                    )
                for line in [*r["ledger"].table(), *r["ledger"].time_lines(r["hours"])]:
                    print(f"      {line}")
                never = ", ".join(f"{n} {why}" for why, n in
                                  sorted(r["unknocked"].items()))  # fmt: skip
                print(
                    f"      never knocked (target doors): {never or 'none'}; a knock "
                    f"there worth {r['unknocked_worth']:.4f} votes (simulator's view)"
                )
            row = {
                "ratio": out["replan"]["votes"] / out["static"]["votes"],
                "gain": out["replan"]["votes"] / out["one_plan"]["votes"],
                "contacts": out["replan"]["contacts"] / out["static"]["contacts"],
                "one_vs_static": out["one_plan"]["votes"] / out["static"]["votes"],
            }
            if "oracle" in out:
                row["oracle_vs_static"] = (
                    out["oracle"]["votes"] / out["static"]["votes"]
                )
                per = round(out["static"]["knocks"] / len(shifts(args.weeks)))
                slots = [slot for slot, _ in shifts(args.weeks)]
                free = {
                    p: knock_bound(voters, households, seed, per, slots, p)
                    for p in ("static", "effect", "known")
                }
                print(
                    f"      no walking, {per} knocks a shift: static's order "
                    f"{free['static']:.2f} votes; best doors by effect "
                    f"{free['effect'] / free['static']:.3f} x, who is home known "
                    f"{free['known'] / free['static']:.3f} x"
                )
            per_seed.append(row)
            print(
                f"seed {seed}: votes_per_hour_ratio_vs_static={row['ratio']:.3f} "
                f"replan_gain={row['gain']:.3f} contacts_ratio={row['contacts']:.3f} "
                f"(one plan vs static {row['one_vs_static']:.3f}"
                + (
                    f"; bound, values known exactly: {row['oracle_vs_static']:.3f}"
                    if "oracle_vs_static" in row
                    else ""
                )
                + ")"
            )
    frame = pd.DataFrame(per_seed)
    for (k, f), xs in factors.items():
        if f == "time_used":
            print(f"{k} vs static, factors (mean over seeds):", end="")
        print(f" {f} {np.mean(xs):.3f}", end="\n" if f == "ratio" else "")
    for col in ("ratio", "gain", "contacts", "oracle_vs_static"):
        if col not in frame:
            continue
        print(
            f"{col}: mean {frame[col].mean():.3f}, sd {frame[col].std(ddof=1):.3f}, "
            f"min {frame[col].min():.3f}, max {frame[col].max():.3f} "
            f"over {len(frame)} seeds"
        )
    wall = time.perf_counter() - t_all
    print(
        f"campaign: votes_per_hour_ratio_vs_static={frame['ratio'].mean():.3f} "
        f"replan_gain={frame['gain'].mean():.3f} "
        f"contacts_ratio={frame['contacts'].mean():.3f} wall_s={wall:.0f}"
    )


if __name__ == "__main__":
    main()
