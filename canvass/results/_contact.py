"""The chance that someone answers a knock: a beta-binomial model of households.

Each door's chance of being answered at a knock is drawn from a Beta(a, b) over the
town's households, so after ``n`` knocks of which ``h`` were answered it is
``(a + h) / (a + b + n)`` (docs/replan.md). :func:`fit_contact_model` finds ``a``
and ``b`` by maximum likelihood over every knock recorded, each with its door's
history, together with the priors (``lift.contact_rate`` and
``campaign.repeat_contact_rates``, ``campaign.prior_weight`` knocks each); it also
reports the campaign's own shrunk rate at the 1st, 2nd, ... knock of doors never
answered.

A not-home in another time slot than a knock's counts ``w`` of a not-home in the
same slot (households out on weekday evenings may be in on Saturdays).
``campaign.other_slot_weight`` is the planner's guess of ``w``; the fit tries
``w`` in :data:`SLOT_WEIGHTS` too and takes the one the campaign's own knocks
favour once it beats the setting by a likelihood ratio of
``exp(`` :data:`SLOT_WEIGHT_MARGIN` ``)`` (about the 95 % test of one parameter),
so a handful of knocks never moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from ..config import PlanConfig

__all__ = [
    "SLOT_WEIGHTS",
    "SLOT_WEIGHT_MARGIN",
    "ContactModel",
    "fit_contact_model",
    "slots_meet",
]

_KAPPA_GRID: Final = np.geomspace(0.2, 2000.0, 400)
#: Weights of a not-home in another slot the fit tries besides the setting.
SLOT_WEIGHTS: Final = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Log-likelihood a tried weight must gain over the setting's to replace it (half
#: the 95 % point of a chi-square of one degree of freedom, 3.84).
SLOT_WEIGHT_MARGIN: Final = 1.92


@dataclass(frozen=True)
class ContactModel:
    """
    The chance that someone answers a knock, fitted to the campaign's results.

    Parameters
    ----------
    a, b
        Beta(a, b) of a household's chance of being home at a knock.
    rates
        Shrunk chance of an answer at knock 1, 2, ... of doors never answered.
    knocks, answered
        The campaign's own counts behind each rate.
    learnt
        The campaign's first knocks outweigh the prior (knocks >= prior weight).
    slot_weight
        How much a not-home in another slot counts against a knock: the setting
        ``campaign.other_slot_weight``, or the weight the campaign's own knocks
        favour (:data:`SLOT_WEIGHT_MARGIN`).
    """

    a: float
    b: float
    rates: tuple[float, ...]
    knocks: tuple[int, ...]
    answered: tuple[int, ...]
    learnt: bool
    slot_weight: float = 0.5

    def p_home(
        self, answered: np.ndarray, misses: np.ndarray
    ) -> np.ndarray:  # (a + h) / (a + b + n)
        """Return the chance of an answer after `answered` answers and `misses`."""
        return np.asarray((self.a + answered) / (self.a + self.b + answered + misses))


def fit_contact_model(visits: pd.DataFrame, config: PlanConfig) -> ContactModel:
    """
    Estimate the beta-binomial contact model from the knocks recorded so far.

    Parameters
    ----------
    visits
        Knocks (:func:`door_visits`).
    config
        ``lift.contact_rate`` (1st knock) and ``campaign.repeat_contact_rates``
        (later knocks) are the priors; ``campaign.prior_weight`` their weight.

    Returns
    -------
    model
        The fitted model.
    """
    cp = config.campaign
    priors = [config.lift.contact_rate, *cp.repeat_contact_rates]
    v = visits[~visits["silent"].astype(bool)] if len(visits) else visits
    n_k: list[int] = []
    x_k: list[int] = []
    if len(v):
        # a door's knocks up to (and with) its first answer
        before = v.groupby("door_id")["answered"].transform(
            lambda s: s.astype(int).cumsum().shift(fill_value=0)
        )
        fresh = v[before.to_numpy() == 0]
        k = fresh.groupby("door_id").cumcount().to_numpy() + 1
        for i in range(1, max(len(priors), int(k.max(initial=0))) + 1):
            at = fresh["answered"].to_numpy(dtype=bool)[k == i]
            n_k.append(len(at))
            x_k.append(int(at.sum()))
    n_k += [0] * (len(priors) - len(n_k))
    x_k += [0] * (len(priors) - len(x_k))
    w = cp.prior_weight
    prior = [priors[min(i, len(priors) - 1)] for i in range(len(n_k))]
    rates = [(x + w * p) / (n + w) for x, n, p in zip(x_k, n_k, prior, strict=True)]
    history = _knock_history(v)
    weight = cp.other_slot_weight
    a, kappa, ll = _fit_beta(_knock_counts(history, weight), priors, w)
    best = (ll, weight, a, kappa)
    if len(history) and bool((history["m_other"] > 0).any()):
        for ow in SLOT_WEIGHTS:
            fit = _fit_beta(_knock_counts(history, ow), priors, w)
            if fit[2] > best[0]:
                best = (fit[2], ow, fit[0], fit[1])
        if best[0] - ll > SLOT_WEIGHT_MARGIN:
            _, weight, a, kappa = best
    return ContactModel(
        a=a,
        b=kappa - a,
        rates=tuple(round(x, 4) for x in rates),
        knocks=tuple(n_k),
        answered=tuple(x_k),
        learnt=bool(n_k[0] >= w),
        slot_weight=float(weight),
    )


def slots_meet(a: str, b: str) -> bool:
    """Whether knocks in slots `a` and `b` tried one slot (a date alone: its day)."""
    if not a or not b or a == b:
        return True
    return a.startswith(b + "_") or b.startswith(a + "_")


def _knock_history(visits: pd.DataFrame) -> pd.DataFrame:
    """
    Every knock with what came before it at its door.

    Returns one row per knock: ``h`` (answers before), ``m_same`` (not-homes
    before in a slot that meets this knock's, :func:`slots_meet`), ``m_other``
    (not-homes before in another slot) and ``x`` (1: answered).
    """
    cols = ["h", "m_same", "m_other", "x"]
    if visits.empty:
        return pd.DataFrame(columns=cols)
    rows: list[tuple[float, float, float, int]] = []
    for _, g in visits.groupby("door_id", sort=False):
        slots = g["slot"].astype(str).tolist()
        ans = g["answered"].astype(bool).tolist()
        for j in range(len(g)):
            meet = [slots_meet(slots[i], slots[j]) for i in range(j) if not ans[i]]
            rows.append(
                (
                    float(sum(ans[:j])),
                    float(sum(meet)),
                    float(len(meet) - sum(meet)),
                    int(ans[j]),
                )
            )
    return pd.DataFrame(rows, columns=cols)


def _knock_counts(history: pd.DataFrame, other_slot_weight: float) -> pd.DataFrame:
    """
    Group the knocks of :func:`_knock_history` by their door's history.

    Returns ``h`` (answers before), ``m`` (not-homes before, those in another slot
    than this knock's weighted `other_slot_weight`), ``n`` (knocks with that
    history) and ``x`` (of them answered).
    """
    cols = ["h", "m", "n", "x"]
    if history.empty:
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame(
        {
            "h": history["h"].to_numpy(dtype=float),
            "m": history["m_same"].to_numpy(dtype=float)
            + other_slot_weight * history["m_other"].to_numpy(dtype=float),
            "x": history["x"].to_numpy(dtype=int),
        }
    )
    return frame.groupby(["h", "m"])["x"].agg(n="size", x="sum").reset_index()[cols]


def _fit_beta(
    counts: pd.DataFrame, priors: list[float], weight: float
) -> tuple[float, float, float]:
    """
    Maximum-likelihood Beta(a, kappa - a) of the households' chance of an answer.

    Every knock counts with its door's history (a Polya urn: the chance is
    ``(a + h) / (kappa + h + m)``); each prior rate adds `weight` knocks at its
    knock of a never-answered door. Returns ``(a, kappa)`` and the log-likelihood
    there (priors included: the same terms whatever the slot weight, so fits with
    other weights compare on it).
    """
    hs = np.array([0.0] * len(priors) + counts["h"].astype(float).tolist())
    ms = np.array(list(range(len(priors))) + counts["m"].astype(float).tolist())
    ns = np.array([weight] * len(priors) + counts["n"].astype(float).tolist())
    xs = np.array([weight * p for p in priors] + counts["x"].astype(float).tolist())
    mean = np.linspace(0.005, 0.995, 199)[:, None, None]
    kappa = _KAPPA_GRID[None, :, None]
    p = np.clip((mean * kappa + hs) / (kappa + hs + ms), 1e-9, 1 - 1e-9)
    ll = (xs * np.log(p) + (ns - xs) * np.log1p(-p)).sum(axis=2)
    i, j = np.unravel_index(int(np.argmax(ll)), ll.shape)
    k = float(_KAPPA_GRID[j])
    return float(mean[i, 0, 0]) * k, k, float(ll[i, j])
