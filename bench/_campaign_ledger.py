"""Where a campaign's value goes: every knock of the campaign bench, by kind.

The bench (bench/campaign.py) writes each knock here as it happens; the ledger
sorts it, with what the simulator knows (who was done before the knock, the door's
earlier knocks), into:

- ``first``: the door's first knock;
- ``re{k}_new`` / ``re{k}_same``: the k-th knock (2, 3, 4+) of a door nobody ever
  answered, in a slot the door was not (``new``) or was (``same``) tried in before;
- ``partial``: a door answered before with someone there still to reach;
- ``reminder``: every target at the door is done (contacted or refused): what is
  banked is a reminder's worth at most.

For each kind it adds the knocks, the seconds on the way there (walking, or the
drive to the next list), the seconds at the door, the votes banked, the share of
knocks answered and, when the planner said (the re-planner's ``p_contact``), the
mean predicted chance of an answer. :meth:`Ledger.unknocked` says why target doors
were never knocked. Nothing here is seen by a planner.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

KINDS = (
    "first",
    "re2_new",
    "re2_same",
    "re3_new",
    "re3_same",
    "re4+_new",
    "re4+_same",
    "partial",
    "reminder",
)
ANSWERED = frozenset({"CONTACTED", "REFUSED", "COME_BACK", "LANGUAGE_BARRIER"})
SILENT = frozenset({"MOVED", "DECEASED", "INACCESSIBLE", "DO_NOT_KNOCK"})


@dataclass
class _Row:
    knocks: int = 0
    travel_s: float = 0.0
    door_s: float = 0.0
    votes: float = 0.0
    answered: int = 0
    predicted: float = 0.0
    n_predicted: int = 0


@dataclass
class Calibration:
    """
    The planner's P(answer) of each voter against that voter's recorded results.

    Only what the planner can see is used: its own prediction and the result rows
    written to the campaign database (a voter's own result answered or not). Knocks
    are grouped by the voter's own history before them: ``first``, ``miss1_same`` /
    ``miss1_other`` (one not-home before, in this slot / only in another),
    ``miss2+`` (two or more, never answered) and ``answered`` (answered before: a
    "come back", or a housemate's household spoken to).
    """

    #: voter -> the planner's P(answer) for the shift being walked
    predicted: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[tuple[str, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: group -> [knocks, sum of predictions, answered]
    rows: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0.0])
    )

    def note(self, slot: str, results: list[dict[str, str]]) -> None:
        """Write the voters' rows of one knock."""
        for r in results:
            v = r["voter_id"]
            if r["result"] in SILENT:
                continue
            past = self.history[v]
            answered = r["result"] in ANSWERED
            if v in self.predicted:
                if not past:
                    group = "first"
                elif any(a for _, a in past):
                    group = "answered"
                elif len(past) >= 2:
                    group = "miss2+"
                else:
                    group = f"miss1_{'same' if past[0][0] == slot else 'other'}"
                row = self.rows[group]
                row[0] += 1
                row[1] += self.predicted[v]
                row[2] += answered
            past.append((slot, answered))

    def lines(self) -> list[str]:
        """One line: predicted against answered, by the voter's history."""
        parts = [
            f"{g} {int(r[0])} pred {r[1] / r[0]:.0%} got {r[2] / r[0]:.0%}"
            for g in ("first", "miss1_same", "miss1_other", "miss2+", "answered")
            if (r := self.rows.get(g)) is not None and r[0]
        ]
        return (
            ["P(answer) by voter, predicted vs recorded: " + "; ".join(parts)]
            if (parts)
            else []
        )


@dataclass
class Ledger:
    """Every knock of one campaign, sorted by kind."""

    rows: dict[str, _Row] = field(default_factory=lambda: defaultdict(_Row))
    history: dict[str, list[tuple[str, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: door -> the planner's P(answer) for the shift being walked (re-planner only)
    predicted: dict[str, float] = field(default_factory=dict)
    #: volunteer seconds not used, by why: ``nothing_left`` (no list left to
    #: walk) or ``shift_end`` (the next door no longer fits in the shift)
    idle_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    #: (planner's estimate, seconds actually taken) of lists walked whole in one go
    turfs: list[tuple[float, float]] = field(default_factory=list)
    #: each voter's predicted P(answer) against their recorded results
    calibration: Calibration = field(default_factory=Calibration)

    def idle(self, why: str, seconds: float) -> None:
        """Write a volunteer's unused seconds at the end of a shift."""
        self.idle_s[why] += max(0.0, float(seconds))

    def turf_time(self, est_s: float, actual_s: float) -> None:
        """Write a list walked whole: the planner's estimate and the time taken."""
        self.turfs.append((float(est_s), float(actual_s)))

    def kind(self, door: str, slot: str, done_before: bool) -> str:
        """The kind of a knock at `door` in `slot`, from what came before."""
        past = self.history.get(door, [])
        if not past:
            return "first"
        if done_before:
            return "reminder"
        if any(a for _, a in past):
            return "partial"
        k = len(past) + 1
        tag = "re4+" if k >= 4 else f"re{k}"
        return f"{tag}_{'same' if any(s == slot for s, _ in past) else 'new'}"

    def note(
        self,
        door: str,
        slot: str,
        done_before: bool,
        travel_s: float,
        door_s: float,
        votes: float,
        results: list[dict[str, str]],
    ) -> None:
        """Write one knock."""
        row = self.rows[self.kind(door, slot, done_before)]
        answered = any(r["result"] in ANSWERED for r in results)
        row.knocks += 1
        row.travel_s += travel_s
        row.door_s += door_s
        row.votes += votes
        row.answered += int(answered)
        if door in self.predicted:
            row.predicted += self.predicted[door]
            row.n_predicted += 1
        self.history[door].append((slot, answered))
        self.calibration.note(slot, results)

    def unknocked(
        self, target_doors: list[str], status: dict[str, str]
    ) -> dict[str, int]:
        """Target doors never knocked, by `status` (else ``not_reached``)."""
        out: dict[str, int] = defaultdict(int)
        for d in target_doors:
            if d not in self.history:
                out[status.get(d, "not_reached")] += 1
        return dict(out)

    def table(self) -> list[str]:
        """One line per kind: knocks, seconds per knock, answered, votes."""
        total_s = sum(r.travel_s + r.door_s for r in self.rows.values()) or 1.0
        lines = []
        for k in KINDS:
            r = self.rows.get(k)
            if r is None or not r.knocks:
                continue
            secs = r.travel_s + r.door_s
            pred = f" pred {r.predicted / r.n_predicted:4.0%}" if r.n_predicted else ""
            lines.append(
                f"{k:10s} {r.knocks:5d} knocks {secs / total_s:4.0%} of time, "
                f"way {r.travel_s / r.knocks:4.0f} s + "
                f"door {r.door_s / r.knocks:3.0f} s"
                f", answered {r.answered / r.knocks:4.0%}{pred}, "
                f"{r.votes:6.2f} votes ({r.votes / r.knocks:.4f} a knock), "
                f"{3600 * r.votes / max(secs, 1.0):.3f}/h"
            )
        return lines

    def time_lines(self, hours: float) -> list[str]:
        """Where the volunteers' hours went: knocking, idle by why, estimates."""
        used = sum(r.travel_s + r.door_s for r in self.rows.values())
        walk = sum(r.travel_s for r in self.rows.values())
        total = max(hours * 3600, 1.0)
        idle = ", ".join(
            f"{why} {s / total:.1%}" for why, s in sorted(self.idle_s.items()) if s
        )
        lines = [
            *self.calibration.lines(),
            f"time: knocking {used / total:.1%} (walking {walk / total:.1%}), "
            f"idle {sum(self.idle_s.values()) / total:.1%}"
            + (f" ({idle})" if idle else ""),
        ]
        if self.turfs:
            est, act = np.array(self.turfs).T
            lines.append(
                f"lists walked whole: {len(est)}, planned {est.mean() / 60:.0f} min, "
                f"took {act.mean() / 60:.0f} min (actual/planned "
                f"{np.median(act / np.maximum(est, 1.0)):.2f} median)"
            )
        return lines

    def totals(self) -> dict[str, float]:
        """Knocks, votes and seconds of each kind (for the means over seeds)."""
        out: dict[str, float] = {}
        for k, r in self.rows.items():
            out[f"{k}_knocks"] = r.knocks
            out[f"{k}_votes"] = r.votes
            out[f"{k}_s"] = r.travel_s + r.door_s
        return out


def decompose(a: Ledger, b: Ledger, hours: float) -> dict[str, float]:
    """
    Split the ratio of votes per volunteer hour of campaign `a` over `b` into factors.

    votes / hour = (knocking time / hours) x (knocks / knocking time) x
    (votes / knock), so the ratio is the product of:

    - ``time_used``: the share of the volunteers' hours spent knocking (the rest is
      idle: no list left, or the next door does not fit in the shift);
    - ``walking``: knocks per knocking hour from the walk to a knock alone
      (b's seconds a knock over a's, both with a's seconds at the door);
    - ``at_door``: the same from the seconds at the door (more conversations take
      longer: a cost of more answers);
    - ``first_value``: votes per knock from the value of the first knocks (a's
      votes per knock over what it would be had a's first knocks banked b's
      votes per first knock): which doors are chosen;
    - ``rest``: votes per knock from the other knocks (re-knocks, partial doors,
      reminders: what the time after the first knocks buys).

    ``ratio`` is their product (exactly a's votes per hour over b's).
    """

    def tot(led: Ledger) -> tuple[int, float, float, float]:
        rows = led.rows.values()
        return (
            sum(r.knocks for r in rows),
            sum(r.travel_s for r in rows),
            sum(r.door_s for r in rows),
            sum(r.votes for r in rows),
        )

    (na, wa, da, va), (nb, wb, db, vb) = tot(a), tot(b)
    if not (na and nb and va and vb):
        return {}
    total = hours * 3600
    wa, da, wb, db = wa / na, da / na, wb / nb, db / nb  # seconds a knock
    fa, fb = a.rows.get("first", _Row()), b.rows.get("first", _Row())
    vpk_a, vpk_b = va / na, vb / nb
    first_b = fb.votes / fb.knocks if fb.knocks else 0.0
    counter = vpk_a - (fa.votes - fa.knocks * first_b) / na
    out = {
        "time_used": ((wa + da) * na / total) / ((wb + db) * nb / total),
        "walking": (wb + db) / (wa + db),
        "at_door": (wa + db) / (wa + da),
        "first_value": vpk_a / counter if counter > 0 else float("nan"),
        "rest": counter / vpk_b if counter > 0 else float("nan"),
    }
    out["ratio"] = float(np.prod(list(out.values())))
    return out


def mean_travel(ledger: Ledger, kinds: tuple[str, ...]) -> float:
    """Mean seconds on the way to a knock of the given kinds."""
    knocks = sum(ledger.rows[k].knocks for k in kinds if k in ledger.rows)
    secs = sum(ledger.rows[k].travel_s for k in kinds if k in ledger.rows)
    return float(secs / knocks) if knocks else float(np.nan)
