"""Walking costs between snapped doors, computed locally (private helper).

Shortest paths run with ``scipy.sparse.csgraph.dijkstra`` on the part of the walking
graph around one turf (its bounding box plus a margin), from the end nodes of the
doors' edges only, so the work grows with the number of doors, not with its square
over the whole town. A door sits on one side of its edge at a position along it;
reaching a door on the other side of the same street costs the crossing penalty of
that street class (DOMAIN.md 3.1), and streets in ``walk.intersection_only`` are
crossed only at their ends. With ``walk.door_access`` a door's walk from the street up
to its door and back (its ``snap_m`` each way) is part of every leg into and out of it;
doors at one point (the units of one building) are walked between directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.ops import substring

from .. import schema
from ..config import WalkParams

__all__ = ["Anchors", "LocalCosts", "StreetIndex"]

_DEFAULT_CROSS_M = 20.0
#: doors whose points are this close share a building: walked between directly
_SAME_POINT_M = 2.0


class StreetIndex:
    """
    Arrays of the walking graph for fast local shortest paths (built once per run).

    Parameters
    ----------
    G
        Walking network from :func:`canvass.network.read_walk_graph`.
    """

    def __init__(self, G: nx.MultiDiGraph[Any]) -> None:
        self.nodes: list[Hashable] = list(G.nodes)
        self.ix: dict[Hashable, int] = {n: i for i, n in enumerate(self.nodes)}
        self.xy = np.array(
            [(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float
        )
        best: dict[tuple[int, int], tuple[float, Any, str]] = {}
        for u, v, d in G.edges(data=True):
            key = (self.ix[u], self.ix[v])
            length = float(d["length"])
            if key not in best or length < best[key][0]:
                best[key] = (length, d["geometry"], str(d.get("highway", "")))
        keys = np.array(list(best), dtype=np.int64).reshape(-1, 2)
        self.eu = keys[:, 0]
        self.ev = keys[:, 1]
        self.w = np.array([b[0] for b in best.values()], dtype=float)
        self.geom: dict[tuple[int, int], Any] = {k: b[1] for k, b in best.items()}
        self.highway: dict[tuple[int, int], str] = {k: b[2] for k, b in best.items()}
        self.edges: dict[tuple[Hashable, Hashable, int], tuple[Any, float, str]] = {
            (u, v, int(k)): (
                d["geometry"],
                float(d["length"]),
                str(d.get("highway", "")),
            )
            for u, v, k, d in G.edges(keys=True, data=True)
        }

    def node_xy(self, node: Hashable) -> tuple[float, float]:
        """Return the coordinates of a graph node."""
        x, y = self.xy[self.ix[node]]
        return float(x), float(y)


@dataclass(frozen=True)
class Anchors:
    """
    Points to route between: snapped doors (on an edge) or graph nodes (depots).

    Parameters
    ----------
    u, v
        Node indexes (:class:`StreetIndex` numbering) of the edge ends; equal for nodes.
    edge
        Integer id of the undirected edge (-1 for nodes); same id = same street edge.
    pos, length
        Position along the edge from ``u`` and the edge length, in metres.
    side
        +1 left, -1 right, 0 for nodes.
    cross_m
        Crossing penalty of the street, in metres.
    midblock
        Whether the street may be crossed between intersections.
    access
        Metres from the street up to the door (0 for nodes and without
        ``walk.door_access``), walked on the way in and again on the way out.
    same
        Pairs of anchor positions ``(i, j)``, ``i < j``, of doors at one point
        (within 2 m: units of one building), walked between directly.
    geoms
        Geometry of each door's street edge (None for nodes).
    """

    u: np.ndarray
    v: np.ndarray
    edge: np.ndarray
    pos: np.ndarray
    length: np.ndarray
    side: np.ndarray
    cross_m: np.ndarray
    midblock: np.ndarray
    access: np.ndarray
    same: np.ndarray
    geoms: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.u)

    @classmethod
    def build(
        cls,
        index: StreetIndex,
        doors: pd.DataFrame,
        depots: Sequence[Hashable],
        params: WalkParams,
    ) -> Anchors:
        """Anchors for `depots` (graph nodes) followed by the snapped `doors`."""
        n_dep = len(depots)
        n = n_dep + len(doors)
        u = np.empty(n, dtype=np.int64)
        v = np.empty(n, dtype=np.int64)
        edge = np.full(n, -1, dtype=np.int64)
        pos = np.zeros(n)
        length = np.zeros(n)
        side = np.zeros(n, dtype=np.int64)
        cross = np.zeros(n)
        midblock = np.ones(n, dtype=bool)
        geoms: list[Any] = [None] * n
        for i, node in enumerate(depots):
            u[i] = v[i] = index.ix[node]
        eu = doors[schema.EDGE_U].to_numpy()
        ev = doors[schema.EDGE_V].to_numpy()
        ek = doors[schema.EDGE_KEY].to_numpy()
        codes: dict[tuple[Any, Any, int], int] = {}
        for j in range(len(doors)):
            i = n_dep + j
            key = (eu[j], ev[j], int(ek[j]))
            geom, elen, hw = index.edges[key]
            u[i], v[i] = index.ix[eu[j]], index.ix[ev[j]]
            edge[i] = codes.setdefault(key, len(codes))
            length[i] = elen
            geoms[i] = geom
            cross[i] = params.crossing_m.get(hw, _DEFAULT_CROSS_M)
            midblock[i] = hw not in params.intersection_only
        pos[n_dep:] = np.clip(
            doors[schema.EDGE_POS_M].to_numpy(dtype=float), 0, length[n_dep:]
        )
        side[n_dep:] = np.where(doors[schema.SIDE].astype(str).to_numpy() == "L", 1, -1)
        access = np.zeros(n)
        same = np.zeros((0, 2), dtype=np.int64)
        if params.door_access and len(doors):
            snap = doors[schema.SNAP_M].to_numpy(dtype=float)
            access[n_dep:] = np.where(np.isfinite(snap), snap, 0.0)
            pts = shapely.get_coordinates(doors.geometry.to_numpy())
            same = cKDTree(pts).query_pairs(_SAME_POINT_M, output_type="ndarray")
            same = same.astype(np.int64).reshape(-1, 2) + n_dep
        return cls(
            u, v, edge, pos, length, side, cross, midblock, access, same, tuple(geoms)
        )


class LocalCosts:
    """
    Walking costs (metres, crossing penalties included) among a set of anchors.

    Parameters
    ----------
    index
        The street index.
    anchors
        Depots and doors of one turf (or one bench instance).
    margin_m
        Extra graph around the anchors' bounding box searched for paths; grows by 4x
        (then to the whole graph) when some anchors are not connected inside it.
    """

    def __init__(
        self, index: StreetIndex, anchors: Anchors, margin_m: float = 1000.0
    ) -> None:
        self.index = index
        self.a = anchors
        src = np.unique(np.concatenate([anchors.u, anchors.v]))
        self.src = src
        for margin in (margin_m, margin_m * 4, np.inf):
            self._search(src, margin)
            if np.isfinite(self.node_d).all():
                break
        self.matrix = self._door_costs()

    def _search(self, src: np.ndarray, margin: float) -> None:
        idx = self.index
        if np.isfinite(margin):
            lo = idx.xy[src].min(axis=0) - margin
            hi = idx.xy[src].max(axis=0) + margin
            inside = ((idx.xy >= lo) & (idx.xy <= hi)).all(axis=1)
        else:
            inside = np.ones(len(idx.xy), dtype=bool)
        keep = inside[idx.eu] & inside[idx.ev]
        sub = np.flatnonzero(inside)
        local = np.full(len(idx.xy), -1, dtype=np.int64)
        local[sub] = np.arange(len(sub))
        m = len(sub)
        graph = csr_matrix(
            (idx.w[keep], (local[idx.eu[keep]], local[idx.ev[keep]])), shape=(m, m)
        )
        d, pred = dijkstra(
            graph, directed=True, indices=local[src], return_predecessors=True
        )
        self.sub = sub
        self.local = local
        self.pred = pred
        self.row = {int(s): r for r, s in enumerate(src)}
        self.node_d = d[:, local[src]]

    def _door_costs(self) -> np.ndarray:
        a = self.a
        col = {int(s): c for c, s in enumerate(self.src)}
        ru = np.array([col[int(x)] for x in a.u], dtype=np.int64)
        rv = np.array([col[int(x)] for x in a.v], dtype=np.int64)
        out_off = (a.pos, a.length - a.pos)  # from the door to u, to v
        ends = (ru, rv)
        best = np.full((len(a), len(a)), np.inf)
        for i in range(2):
            for j in range(2):
                c = (
                    out_off[i][:, None]
                    + self.node_d[np.ix_(ends[i], ends[j])]
                    + out_off[j][None, :]
                )
                best = np.minimum(best, c)
        same = (a.edge[:, None] == a.edge[None, :]) & (a.edge[:, None] >= 0)
        opposite = same & (a.side[:, None] != a.side[None, :])
        cross = a.cross_m[:, None]
        best = np.where(opposite, best + cross, best)
        dp = np.abs(a.pos[:, None] - a.pos[None, :])
        best = np.where(same & ~opposite, np.minimum(best, dp), best)
        mid = opposite & a.midblock[:, None]
        best = np.where(mid, np.minimum(best, dp + cross), best)
        best += a.access[:, None] + a.access[None, :]
        if len(a.same):
            p, q = a.same[:, 0], a.same[:, 1]
            best[p, q] = best[q, p] = 0.0
        np.fill_diagonal(best, 0.0)
        return best

    # --- geometry ---------------------------------------------------------------------
    def _node_path(self, s: int, t: int) -> list[int]:
        row = self.pred[self.row[s]]
        loc_t = int(self.local[t])
        path = [loc_t]
        while path[-1] != self.local[s] and row[path[-1]] >= 0:
            path.append(int(row[path[-1]]))
        return [int(self.sub[p]) for p in reversed(path)]

    def _along(self, i: int, start: float, end: float) -> list[tuple[float, float]]:
        geom = self.a.geoms[i]
        if geom is None or abs(end - start) < 1e-6:
            return []
        part = substring(geom, start, end)
        return [(float(x), float(y)) for x, y in shapely.get_coordinates(part)]

    def leg(self, i: int, j: int) -> list[tuple[float, float]]:
        """
        Coordinates of the walk from anchor `i` to anchor `j` along the streets.

        The walk up to the doors (``Anchors.access``) is in the cost, not drawn: the
        line runs between the doors' points on their streets.

        Parameters
        ----------
        i, j
            Anchor positions.

        Returns
        -------
        coords
            The path as (x, y) pairs, following the street geometry.
        """
        a = self.a
        if i == j:
            return []
        if self.matrix[i, j] == 0.0:  # one point (units of one building)
            return []
        same = a.edge[i] >= 0 and a.edge[i] == a.edge[j]
        opposite = same and a.side[i] != a.side[j]
        dp = abs(a.pos[i] - a.pos[j])
        target = self.matrix[i, j] - a.access[i] - a.access[j]
        if same and (not opposite or a.midblock[i]):
            direct = dp + (a.cross_m[i] if opposite else 0.0)
            if direct <= target + 1e-6:
                return self._along(i, a.pos[i], a.pos[j])
        ends_i = (
            (int(a.u[i]), a.pos[i], 0.0),
            (int(a.v[i]), a.length[i] - a.pos[i], a.length[i]),
        )
        ends_j = (
            (int(a.u[j]), a.pos[j], 0.0),
            (int(a.v[j]), a.length[j] - a.pos[j], a.length[j]),
        )
        col = {int(s): c for c, s in enumerate(self.src)}
        best: tuple[float, int, int] = (np.inf, 0, 0)
        for ei, (x, ox, _) in enumerate(ends_i):
            for ej, (y, oy, _) in enumerate(ends_j):
                c = ox + self.node_d[col[x], col[y]] + oy
                if c < best[0]:
                    best = (c, ei, ej)
        _, ei, ej = best
        x, _, x_at = ends_i[ei]
        y, _, y_at = ends_j[ej]
        coords = self._along(i, a.pos[i], x_at)
        nodes = self._node_path(x, y) if x != y else [x]
        coords.append(tuple(self.index.xy[nodes[0]]))
        for p, q in itertools.pairwise(nodes):
            coords.extend(
                tuple(c) for c in shapely.get_coordinates(self.index.geom[(p, q)])
            )
        coords.extend(self._along(j, y_at, a.pos[j]))
        return coords

    def path_length(self, i: int, j: int) -> float:
        """Return the walking cost in metres from anchor `i` to anchor `j`."""
        return float(self.matrix[i, j])
