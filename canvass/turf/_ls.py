"""Local search across the routes of a region (private; runs in worker processes).

Kept free of geopandas and the config, like :mod:`canvass.turf._solver`, so worker
processes start fast and a region (a matrix and lists of ints) pickles cheaply.

A region is `k` routes, each from its own staging point, over one seconds matrix:
the `k` staging points first (route ``v`` starts and ends at node ``v``), then the
doors. The search is the local search of hybrid genetic search (Vidal et al. 2012,
2022; PyVRP), vectorised with numpy: every move of every kind is priced at once and
the best is made, until none improves. The moves: a run of up to `_CHAIN` doors
relocated to any place in any route (its own included), two doors of different
routes swapped, a stretch of one route reversed (2-opt) and the tails of two routes
exchanged (2-opt*). The cost is walking plus `fixed` seconds per volunteer sent out
(a route emptied saves it) plus penalties: ``penalty`` per second over `cap` (the
planned fill of a shift) and `band_cost` per second outside the balance band. As in
hybrid genetic search, routes may run over `cap` while the search moves doors
around, at a price that grows until they fit or the search gives up: this is what
lets a route be dissolved into neighbours that have, at first, no room.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Region", "search"]

#: Longest run of consecutive doors one relocate moves (doors on one street come in
#: runs, and moving them one by one means a detour first).
_CHAIN = 3
#: Penalty per second over the cap: first, then multiplied by `_GROW` while the
#: routes do not fit, up to `_MAX_PENALTY`.
_PENALTY = 1.0
_GROW = 4.0
_MAX_PENALTY = 256.0
#: Penalty per second over the cap once the routes fit (no move may break it).
_HARD = 1e6
_NO = np.inf
#: Doors relocate next to their `_GRANULAR` nearest nodes only (granular search,
#: Toth and Vigo 2003, as in hybrid genetic search).
_GRANULAR = 32
#: Moves of one kind a step may make (the best, on different routes).
_PER_KIND = 32

#: A priced move: the change in cost, the routes it touches, what it does.
Move = tuple[float, set[int], tuple[int, ...]]


def _best(d: np.ndarray) -> list[tuple[int, int]]:
    """Positions of the `_PER_KIND` lowest negative entries of `d`, lowest first."""
    flat = np.flatnonzero(d < -1e-6)
    if len(flat) > _PER_KIND:
        flat = flat[np.argpartition(d.ravel()[flat], _PER_KIND)[:_PER_KIND]]
    flat = flat[np.argsort(d.ravel()[flat], kind="stable")]
    rows, cols = np.unravel_index(flat, d.shape)
    return [(int(a), int(b)) for a, b in zip(rows, cols, strict=True)]


@dataclass
class Region:
    """
    Routes over one seconds matrix, the staging points first.

    Parameters
    ----------
    walk
        ``(k + n, k + n)`` seconds: `k` staging points, then `n` doors.
    routes
        Per staging point, its route as door nodes (``k..k+n-1``) in walking order.
    cap
        Longest route allowed (walking plus `door_s` a door).
    door_s
        Seconds at each door.
    fixed
        Cost of one more volunteer sent out (seconds of walking).
    lo, hi
        The balance band: seconds below `lo` or above `hi` cost `band_cost` each.
    band_cost
        Cost per second outside the band.
    """

    walk: np.ndarray
    routes: list[list[int]]
    cap: float
    door_s: float
    fixed: float
    lo: float = 0.0
    hi: float = np.inf
    band_cost: float = 0.0
    _nbr: np.ndarray | None = field(default=None, repr=False)

    def copy(self, lo: float | None = None, hi: float | None = None) -> Region:
        """Return a region with its own copy of the routes (and another band)."""
        return replace(
            self,
            routes=[list(r) for r in self.routes],
            lo=self.lo if lo is None else lo,
            hi=self.hi if hi is None else hi,
        )

    def path(self, v: int) -> np.ndarray:
        """Route `v` with its staging point at both ends."""
        return np.array([v, *self.routes[v], v], dtype=np.int64)

    def times(self) -> np.ndarray:
        """Each route's seconds (0 for a route not sent out)."""
        out = np.zeros(len(self.routes))
        for v, r in enumerate(self.routes):
            if r:
                p = self.path(v)
                out[v] = self.walk[p[:-1], p[1:]].sum() + self.door_s * len(r)
        return out

    def _pen(self, t: np.ndarray, penalty: float) -> np.ndarray:
        out = penalty * np.maximum(0.0, t - self.cap)
        if self.band_cost and (self.lo > 0 or np.isfinite(self.hi)):
            band = np.maximum(0.0, self.lo - t) + np.maximum(0.0, t - self.hi)
            out = out + self.band_cost * np.where(t > 0, band, 0.0)
        return np.asarray(out)

    def cost(self, penalty: float) -> float:
        """Return the walking, fixed costs and penalties of the routes as they are."""
        t = self.times()
        n = np.array([len(r) for r in self.routes])
        walk = t - self.door_s * n
        return float(
            walk.sum() + self._pen(t, penalty).sum() + self.fixed * (n > 0).sum()
        )

    def plain(self) -> float:
        """Return the walking and fixed costs, without penalties."""
        n = np.array([len(r) for r in self.routes])
        return float(
            (self.times() - self.door_s * n).sum() + self.fixed * (n > 0).sum()
        )

    def fits(self) -> bool:
        """Whether every route is within the cap."""
        return bool((self.times() <= self.cap + 1e-6).all())

    def insert(self, doors: list[int], penalty: float) -> None:
        """Put each of `doors` where it costs least (penalties included)."""
        w = self.walk
        for x in doors:
            t = self.times()
            best: tuple[float, int, int] | None = None
            for v, r in enumerate(self.routes):
                p = self.path(v) if r else np.array([v, v])
                add = w[p[:-1], x] + w[x, p[1:]] - w[p[:-1], p[1:]]
                j = int(np.argmin(add))
                grown = t[v] + add[j] + self.door_s
                val = float(add[j] + self._pen(np.array([grown]), penalty)[0])
                val -= float(self._pen(t[v : v + 1], penalty)[0])
                val += 0.0 if r else self.fixed
                if best is None or val < best[0]:
                    best = (val, v, j)
            if best is not None:
                self.routes[best[1]].insert(best[2], x)

    def step(self, penalty: float) -> int:
        """
        Make the best improving moves that touch different routes; return how many.

        The cost is a sum over routes, so moves on routes no other chosen move
        touches keep their price: the best move is made, then the best of those
        left that touch none of its routes, and so on.
        """
        t = self.times()
        n = np.array([len(r) for r in self.routes])
        base = self._pen(t, penalty)
        paths = [
            self.path(v) if r else np.array([v, v]) for v, r in enumerate(self.routes)
        ]
        found = [
            *self._relocate(paths, t, n, base, penalty),
            *self._swap(paths, t, n, base, penalty),
            *self._two_opt(paths, t, n, base, penalty),
            *self._tails(paths, t, n, base, penalty),
        ]
        found.sort(key=lambda m: m[0])
        busy: set[int] = set()
        made = 0
        for _, routes, move in found:
            if busy.isdisjoint(routes):
                busy.update(routes)
                self._apply(move)
                made += 1
        return made

    def _near(self) -> np.ndarray:
        """Each node's `_GRANULAR` nearest nodes (staging points and doors)."""
        if self._nbr is None:
            w = self.walk + np.diag(np.full(len(self.walk), np.inf))
            g = min(_GRANULAR, len(w) - 1)
            self._nbr = np.argsort(w + w.T, axis=1, kind="stable")[:, :g]
        return self._nbr

    def _relocate(
        self,
        paths: list[np.ndarray],
        t: np.ndarray,
        n: np.ndarray,
        base: np.ndarray,
        penalty: float,
    ) -> list[Move]:
        w, ds, k = self.walk, self.door_s, len(paths)
        ea = np.concatenate([p[:-1] for p in paths])
        eb = np.concatenate([p[1:] for p in paths])
        er = np.concatenate([np.full(len(p) - 1, v) for v, p in enumerate(paths)])
        ej = np.concatenate([np.arange(len(p) - 1) for p in paths])
        # the edge leaving and the edge entering each node (a staging point's
        # edges are its route's first and last)
        e_out = np.zeros(len(w), dtype=np.int64)
        e_in = np.zeros(len(w), dtype=np.int64)
        e_out[ea[::-1]] = np.arange(len(ea))[::-1]
        e_in[eb] = np.arange(len(eb))
        near = self._near()
        depots = np.arange(k)
        out: list[Move] = []
        for size in range(1, _CHAIN + 1):
            parts = [
                (v, p, np.arange(1, int(n[v]) - size + 2))
                for v, p in enumerate(paths)
                if n[v] >= size
            ]
            if not parts:
                break
            f = np.concatenate([p[i] for _, p, i in parts])
            g = np.concatenate([p[i + size - 1] for _, p, i in parts])
            a0 = np.concatenate([p[i - 1] for _, p, i in parts])
            b0 = np.concatenate([p[i + size] for _, p, i in parts])
            inner = np.concatenate(
                [
                    (c := np.concatenate([[0.0], np.cumsum(w[p[:-1], p[1:]])]))[
                        i + size - 1
                    ]
                    - c[i]
                    for _, p, i in parts
                ]
            )
            rr = np.concatenate([np.full(len(i), v) for v, _, i in parts])
            ii = np.concatenate([i for _, _, i in parts])
            # granular: after a node near the run's first door, before one near
            # its last, or next to a staging point
            cand = np.concatenate(
                [
                    e_out[near[f]],
                    e_in[near[g]],
                    np.broadcast_to(e_out[depots], (len(f), k)),
                    np.broadcast_to(e_in[depots], (len(f), k)),
                ],
                axis=1,
            )
            ca, cb, cr, cj = ea[cand], eb[cand], er[cand], ej[cand]
            rem = w[a0, f] + w[g, b0] - w[a0, b0]
            whole = n[rr] == size
            t_src = t[rr] - rem - inner - size * ds
            p_src = np.where(
                whole, -self.fixed - base[rr], self._pen(t_src, penalty) - base[rr]
            )
            ins = w[ca, f[:, None]] + w[g[:, None], cb] - w[ca, cb]
            empty = n[cr] == 0
            same = rr[:, None] == cr
            t_dst = np.where(
                same, t[rr][:, None] - rem[:, None], t[cr] + inner[:, None]
            )
            t_dst = t_dst + ins + np.where(same, 0.0, size * ds)
            p_dst = (
                self._pen(t_dst, penalty) - base[cr] + np.where(empty, self.fixed, 0.0)
            )
            d = ins - rem[:, None] + np.where(same, p_dst, p_src[:, None] + p_dst)
            touch = (cj >= ii[:, None] - 1) & (cj <= ii[:, None] + size - 1)
            d[(same & touch) | (whole[:, None] & empty)] = _NO
            for x, y in _best(d):
                move = (0, int(rr[x]), int(ii[x]), size, int(cr[x, y]), int(cj[x, y]))
                out.append((float(d[x, y]), {int(rr[x]), int(cr[x, y])}, move))
        return out

    def _swap(
        self,
        paths: list[np.ndarray],
        t: np.ndarray,
        n: np.ndarray,
        base: np.ndarray,
        penalty: float,
    ) -> list[Move]:
        w, k = self.walk, len(paths)
        full = [(v, p) for v, p in enumerate(paths) if n[v]]
        if len(full) < 2:
            return []
        u = np.concatenate([p[1:-1] for _, p in full])
        size = len(w)
        prev = np.zeros(size, dtype=np.int64)
        nxt = np.zeros(size, dtype=np.int64)
        route = np.full(size, -1, dtype=np.int64)
        at = np.zeros(size, dtype=np.int64)
        for v, p in full:
            prev[p[1:-1]], nxt[p[1:-1]] = p[:-2], p[2:]
            route[p[1:-1]], at[p[1:-1]] = v, np.arange(1, len(p) - 1)
        # granular: door u swapped with a door of another route near it
        x = self._near()[u]
        pu, nu, ru = prev[u][:, None], nxt[u][:, None], route[u][:, None]
        px, nx, rx = prev[x], nxt[x], route[x]
        uu = u[:, None]
        d_a = w[pu, x] + w[x, nu] - w[pu, uu] - w[uu, nu]
        d_b = w[px, uu] + w[uu, nx] - w[px, x] - w[x, nx]
        d = d_a + d_b + self._pen(t[ru] + d_a, penalty) - base[ru]
        d = d + self._pen(t[rx] + d_b, penalty) - base[rx]
        d[(x < k) | (rx < 0) | (rx == ru)] = _NO
        return [
            (
                float(d[i, j]),
                {int(ru[i, 0]), int(rx[i, j])},
                (1, int(ru[i, 0]), int(at[u[i]]), int(rx[i, j]), int(at[x[i, j]])),
            )
            for i, j in _best(d)
        ]

    def _two_opt(
        self,
        paths: list[np.ndarray],
        t: np.ndarray,
        n: np.ndarray,
        base: np.ndarray,
        penalty: float,
    ) -> list[Move]:
        w = self.walk
        out: list[Move] = []
        for v, p in enumerate(paths):
            m = int(n[v])
            if m < 3:
                continue
            fwd = np.concatenate([[0.0], np.cumsum(w[p[:-1], p[1:]])])
            bwd = np.concatenate([[0.0], np.cumsum(w[p[1:], p[:-1]])])
            i = np.arange(1, m + 1)[:, None]
            j = np.arange(1, m + 1)[None, :]
            d = w[p[i - 1], p[j]] + w[p[i], p[j + 1]] - w[p[i - 1], p[i]]
            d = d - w[p[j], p[j + 1]] + (bwd[j] - bwd[i]) - (fwd[j] - fwd[i])
            d = d + self._pen(t[v] + d, penalty) - base[v]
            d = np.where(j > i, d, _NO)
            x, y = np.unravel_index(int(np.argmin(d)), d.shape)
            if d[x, y] < -1e-6:
                out.append((float(d[x, y]), {v}, (2, v, int(x) + 1, int(y) + 1)))
        return out

    def _tails(
        self,
        paths: list[np.ndarray],
        t: np.ndarray,
        n: np.ndarray,
        base: np.ndarray,
        penalty: float,
    ) -> list[Move]:
        w, ds = self.walk, self.door_s
        pre = [np.concatenate([[0.0], np.cumsum(w[p[:-1], p[1:]])]) for p in paths]
        out: list[Move] = []
        k = len(paths)
        # only routes that come near each other (a door among the other's doors'
        # nearest), or a route and an empty one
        route = np.zeros(len(w), dtype=np.int64)
        for v, p in enumerate(paths):
            route[p] = v
        doors = np.arange(k, len(w))
        meet = np.zeros((k, k), dtype=bool)
        meet[route[doors][:, None], route[self._near()[doors]]] = True
        meet |= meet.T | (n == 0)[:, None] | (n == 0)[None, :]
        for a in range(k):
            for b in range(a + 1, k):
                if (not n[a] and not n[b]) or not meet[a, b]:
                    continue
                d = self._tails_pair(paths, pre, a, b, n)
                na = (
                    np.arange(n[a] + 1)[:, None] + (n[b] - np.arange(n[b] + 1))[None, :]
                )
                nb = (
                    np.arange(n[b] + 1)[None, :] + (n[a] - np.arange(n[a] + 1))[:, None]
                )
                wa, wb = d
                ta = np.where(na > 0, wa + na * ds, 0.0)
                tb = np.where(nb > 0, wb + nb * ds, 0.0)
                old = (t[a] - n[a] * ds) + (t[b] - n[b] * ds)
                dd = np.where(na > 0, wa, 0.0) + np.where(nb > 0, wb, 0.0) - old
                dd = dd + self._pen(ta, penalty) + self._pen(tb, penalty)
                dd = dd - base[a] - base[b]
                sent = (na > 0).astype(float) + (nb > 0) - (n[a] > 0) - (n[b] > 0)
                dd = dd + self.fixed * sent
                dd[0, 0] = _NO
                dd[n[a], n[b]] = _NO
                x, y = np.unravel_index(int(np.argmin(dd)), dd.shape)
                if dd[x, y] < -1e-6:
                    out.append((float(dd[x, y]), {a, b}, (3, a, b, int(x), int(y))))
        return out

    def _tails_pair(
        self,
        paths: list[np.ndarray],
        pre: list[np.ndarray],
        a: int,
        b: int,
        n: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the walks of routes `a` and `b`, tails after door i, j swapped."""
        w = self.walk
        pa, pb, ca, cb = paths[a], paths[b], pre[a], pre[b]
        la, lb = int(n[a]), int(n[b])
        i = np.arange(la + 1)[:, None]
        j = np.arange(lb + 1)[None, :]

        def joined(
            p: np.ndarray,
            c: np.ndarray,
            x: np.ndarray,
            q: np.ndarray,
            cq: np.ndarray,
            y: np.ndarray,
            lq: int,
            home: int,
        ) -> np.ndarray:
            # p up to its x-th door, then q's doors after its y-th, then home
            nxt = q[np.minimum(y + 1, lq + 1)]
            tail = cq[lq] - cq[np.minimum(y + 1, lq)]
            on = w[p[x], nxt] + tail + w[q[lq], home]
            return np.asarray(c[x] + np.where(y < lq, on, w[p[x], home]))

        wa = joined(pa, ca, i, pb, cb, j, lb, a)
        wb = joined(pb, cb, j, pa, ca, i, la, b)
        return wa, wb

    def _apply(self, mv: tuple[int, ...]) -> None:
        r = self.routes
        if mv[0] == 0:
            _, v, i, size, to, j = mv
            chain = r[v][i - 1 : i - 1 + size]
            after = ([to, *r[to], to] if r[to] else [to, to])[j]
            del r[v][i - 1 : i - 1 + size]
            at = 0 if j == 0 else r[to].index(after) + 1
            r[to][at:at] = chain
        elif mv[0] == 1:
            _, a, i, b, j = mv
            r[a][i - 1], r[b][j - 1] = r[b][j - 1], r[a][i - 1]
        elif mv[0] == 2:
            _, v, i, j = mv
            r[v][i - 1 : j] = r[v][i - 1 : j][::-1]
        else:
            _, a, b, i, j = mv
            r[a], r[b] = r[a][:i] + r[b][j:], r[b][:j] + r[a][i:]

    def descend(self, penalty: float, limit: int) -> int:
        """Make improving moves until none is left or `limit`; return how many."""
        made = 0
        while made < limit:
            step = self.step(penalty)
            if not step:
                break
            made += step
        return made


def search(
    region: Region, drop: int | None, limit: int
) -> tuple[list[list[int]] | None, int]:
    """
    Improve a region's routes, first dissolving route `drop` if one is given.

    The dissolved route's doors go where they cost least, then the search runs at
    a growing penalty for seconds over the cap until every route fits (or the
    penalty reaches `_MAX_PENALTY`: no result), then once more with the cap hard.

    Parameters
    ----------
    region
        The routes (changed in place).
    drop
        The route to dissolve first, or None to improve the routes as they are.
    limit
        Most moves in each descent.

    Returns
    -------
    routes, moves
        The routes (None when they could not be made to fit) and the moves made.
    """
    moves = 0
    if drop is not None:
        doors = region.routes[drop]
        region.routes[drop] = []
        penalty = _PENALTY
        region.insert(doors, penalty)
        while True:
            moves += region.descend(penalty, limit)
            if region.fits() or penalty >= _MAX_PENALTY:
                break
            penalty *= _GROW
        if not region.fits():
            return None, moves
    elif not region.fits():
        return None, moves
    moves += region.descend(_HARD, limit)
    return [list(r) for r in region.routes], moves


def improve_region(
    region: Region,
    drop: int | None,
    limit: int,
    drop_band: tuple[float, float] | None = None,
) -> tuple[list[list[int]] | None, int]:
    """
    Dissolve route `drop` into the others if that lowers the cost, else improve.

    The cost is :meth:`Region.plain` (walking and volunteers); the searches also
    weigh the balance band. With `drop_band` the
    dissolving search uses that band (the precinct's mean grows when a turf goes).

    Returns
    -------
    routes, moves
        Better routes (None when neither search lowered the cost) and the moves made.
    """
    base = region.plain()
    moves = 0
    if drop is not None:
        band = (region.lo, region.hi) if drop_band is None else drop_band
        trial = region.copy(lo=band[0], hi=band[1])
        routes, made = search(trial, drop, limit)
        moves += made
        if routes is not None and trial.plain() < base - 0.5:
            return routes, moves
    trial = region.copy()
    routes, made = search(trial, None, limit)
    moves += made
    if routes is not None and trial.plain() < base - 0.5:
        return routes, moves
    return None, moves


def run_regions(
    tasks: list[tuple[Region, int | None, int, tuple[float, float] | None]],
    workers: int,
) -> list[tuple[list[list[int]] | None, int]]:
    """Run :func:`improve_region` on each task, in worker processes if `workers` > 1."""
    if workers <= 1 or len(tasks) <= 1:
        return [improve_region(*t) for t in tasks]
    import multiprocessing as mp
    import sys
    from concurrent.futures import ProcessPoolExecutor

    method = (
        "fork" if sys.platform == "linux" and sys.version_info < (3, 12) else "spawn"
    )
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context(method)
    ) as ex:
        futures = [ex.submit(improve_region, *t) for t in tasks]
        return [f.result() for f in futures]
