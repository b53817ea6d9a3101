"""Walking costs between doors: the walk from the street up to each door counts."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from _walknet import CRS, make_doors, write_osm

from canvass import network, schema
from canvass.config import WalkParams
from canvass.turf import _costs


@pytest.fixture(scope="module")
def G(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    path = write_osm(tmp_path_factory.mktemp("costs") / "grid.osm")
    return network.read_walk_graph(path, WalkParams(cache_dir="none"), crs=CRS)


def _costs_for(G: nx.MultiDiGraph, xy: list[tuple[float, float]], wp: WalkParams):
    doors = network.snap_doors(make_doors(xy), G, wp).doors
    index = _costs.StreetIndex(G)
    node = next(iter(G.nodes))
    anchors = _costs.Anchors.build(index, doors, [node], wp)
    return doors, _costs.LocalCosts(index, anchors)


def test_each_leg_walks_up_to_the_door_and_back(G: nx.MultiDiGraph) -> None:
    # a house set 12 m back, one 40 m back, and a second address at the first's
    # point (the other half of a duplex)
    xy = [(45.0, 12.0), (75.0, 40.0), (45.0, 12.0), (105.0, -12.0)]
    doors, on = _costs_for(G, xy, WalkParams())
    _, off = _costs_for(G, xy, WalkParams(door_access=False))
    snap = doors[schema.SNAP_M].to_numpy()
    assert snap[0] == pytest.approx(12, abs=0.5)
    assert snap[1] == pytest.approx(40, abs=0.5)
    access = np.concatenate([[0.0], snap])  # the depot is on the street
    want = off.matrix + access[:, None] + access[None, :]
    np.fill_diagonal(want, 0.0)
    want[1, 3] = want[3, 1] = 0.0  # one building: no walk out and back in
    np.testing.assert_allclose(on.matrix, want)
    assert on.matrix[0, 2] - off.matrix[0, 2] == pytest.approx(40, abs=0.5)
    # a route's legs walk each door's way in and out once; the duplex's two
    # addresses, knocked one after the other, share one way in and one way out
    seq = [0, 1, 3, 2, 4, 0]
    extra = sum(on.matrix[a, b] - off.matrix[a, b] for a, b in itertools.pairwise(seq))
    assert extra == pytest.approx(2 * snap.sum() - snap[0] - snap[2], abs=1e-6)
    # the drawn line stays on the streets: the same with or without the walk up
    assert on.leg(1, 2) == off.leg(1, 2)
    assert on.leg(1, 3) == []
