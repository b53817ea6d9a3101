"""Property tests (hypothesis): loaders and routing under random inputs (issue 6).

Loaders fed random bytes or randomly shaped delimited files must either load (with
every row accounted for) or raise one of canvass's own errors — never a stray
UnicodeDecodeError, KeyError or pandas ParserError. Routing on random small street
networks must keep its invariants: each door at most once, no shift over its limit,
every target door routed or listed with a reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canvass import network, route, schema, turf
from canvass.config import PlanConfig
from canvass.errors import CanvassError
from canvass.load import load_voter_file

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)

FORMATS = ("ma", "nc", "van", "mapped")


def _load(data: bytes, fmt: str, *, as_history: bool = False) -> None:
    """Load `data` as a voter file (or MA history) and check the bookkeeping."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        voters = root / "000VOT_x.txt"
        history = root / "000ANP_x.txt"
        if as_history:
            voters.write_text(
                "Record Sequence Number|Voter Id Number|Last Name|First Name|"
                "Middle Name|Title|Residential Address - Street Number|"
                "Residential Address - Street Suffix|Residential Address - Street Name|"
                "Residential Address - Apartment Number|Residential Address - Zip Code|"
                "Mailing Address - Street Number and Name|"
                "Mailing Address - Apartment Number|Mailing Address - City or Town|"
                "Mailing Address - State|Mailing Address - Zip Code|"
                "Party Affiliation|Date of Birth|Date of Registration|Ward Number|"
                "Precinct Number|Congressional District Number|"
                "Senatorial District Number|State Representative District|"
                "Voter Status|\n"
                "1|01AAA0000001|DOE|JANE||MS|12||MAIN ST||01060||||||D|01/02/1980|"
                "03/04/2010|1|A|1|1|1|A|\n"
            )
            history.write_bytes(data)
        else:
            voters.write_bytes(data)
        raw = {
            "base_dir": tmp,
            "inputs": {
                "voter_format": fmt,
                "voters": [voters.name],
                "history": [history.name] if as_history else [],
            },
        }
        if fmt == "mapped":
            raw["mapping"] = {
                "columns": {"voter_id": "id", "last_name": "last", "address": "addr"}
            }
        try:
            result = load_voter_file(PlanConfig.from_dict(raw))
        except CanvassError as err:
            message = str(err).strip()
        else:
            message = ""
        if message:  # one line, and nothing else to check
            assert "\n" not in message
            return
        voter_files = [f for f in result.report["files"] if f["kind"] == "voters"]
        assert len(result.voters) == sum(f["rows_loaded"] for f in voter_files)
        for f in result.report["files"]:
            assert f["rows_in"] == f["rows_loaded"] + f["rows_rejected"]
        assert result.voters.index.is_unique


@SETTINGS
@given(data=st.binary(max_size=600), fmt=st.sampled_from(FORMATS))
def test_random_bytes_never_crash_a_loader(data, fmt):
    _load(data, fmt)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_as_ma_history_never_crash(data):
    _load(data, "ma", as_history=True)


CELL = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "Zs"), include_characters="|\t,\"'"
    ),
    max_size=12,
)


@st.composite
def delimited(draw: st.DrawFn) -> bytes:
    """A delimited text file of random shape: ragged rows, quotes, odd encodings."""
    delimiter = draw(st.sampled_from(["|", "\t", ",", ";"]))
    width = draw(st.integers(1, 30))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 2), max_size=15))
    text = "\n".join(delimiter.join(row) for row in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@SETTINGS
@given(data=delimited(), fmt=st.sampled_from(FORMATS))
def test_random_csv_shapes_never_crash_a_loader(data, fmt):
    _load(data, fmt)


# --- routing on random small street networks -------------------------------------

LAT0, LON0 = 42.33, -72.64
M_LAT = 1 / 111_000  # degrees per metre, near enough at this latitude
M_LON = 1 / 82_000


@st.composite
def street_town(draw: st.DrawFn) -> tuple[str, list[tuple[float, float, int]]]:
    """A random grid-like street network (OSM XML) and doors along its streets."""
    rows = draw(st.integers(2, 4))
    cols = draw(st.integers(2, 4))
    step = draw(st.integers(60, 160))
    dropped = draw(st.sets(st.integers(0, 2 * rows * cols), max_size=3))
    classes = ["residential", "tertiary", "primary", "service"]
    nodes = []
    for r in range(rows):
        for c in range(cols):
            nid = 1 + r * cols + c
            lat = LAT0 + r * step * M_LAT
            lon = LON0 + c * step * M_LON
            nodes.append(f'<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    ways = []
    wid = 1000
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0)):
                rr, cc = r + dr, c + dc
                wid += 1
                if rr >= rows or cc >= cols or (wid - 1001) in dropped:
                    continue
                hw = draw(st.sampled_from(classes))
                a, b = 1 + r * cols + c, 1 + rr * cols + cc
                ways.append(
                    f'<way id="{wid}"><nd ref="{a}"/><nd ref="{b}"/>'
                    f'<tag k="highway" v="{hw}"/><tag k="name" v="Street {wid}"/></way>'
                )
    osm = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n"
    )
    n_doors = draw(st.integers(1, 25))
    doors = [
        (
            draw(st.floats(0, (cols - 1) * step)),
            draw(st.floats(-30, (rows - 1) * step + 30)),
            draw(st.integers(0, 3)),
        )
        for _ in range(n_doors)
    ]
    return osm, doors


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(town=street_town(), shift_min=st.integers(8, 40))
def test_routing_keeps_its_invariants_on_random_networks(town, shift_min):
    osm, door_specs = town
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "streets.osm"
        path.write_text(osm)
        config = PlanConfig.from_dict(
            {
                "walk": {"cache_dir": "none", "max_snap_m": 40.0, "door_s": 60},
                "turf": {"shift_s": shift_min * 60},
                "route": {"time_limit_s": 0.0, "workers": 1},
            }
        )
        crs = network.utm_crs(LON0, LAT0)
        G = network.read_walk_graph(path, config.walk, crs=crs)
        origin = gpd.GeoSeries([shapely.Point(LON0, LAT0)], crs="EPSG:4326").to_crs(
            crs
        )[0]
        ids = [f"D{i:03d}" for i in range(len(door_specs))]
        n_targets = np.array([t for _, _, t in door_specs])
        doors = gpd.GeoDataFrame(
            {
                schema.ADDRESS: [f"{i} TEST ST" for i in range(len(ids))],
                schema.STREET_NAME: "TEST ST",
                schema.STREET_NUMBER: [str(i) for i in range(len(ids))],
                schema.PRECINCT_ID: "1A",
                schema.N_VOTERS: np.maximum(n_targets, 1),
                schema.N_UNITS: 1,
                schema.N_TARGETS: n_targets,
                schema.VALUE: n_targets * 0.02,
            },
            geometry=[
                shapely.Point(origin.x + x, origin.y + y) for x, y, _ in door_specs
            ],
            index=pd.Index(ids, name=schema.DOOR_ID),
            crs=crs,
        )
        snapped = network.snap_doors(doors, G, config.walk)
        cut = turf.cut_turfs(snapped.doors, G, config)
        routed = route.route_turfs(cut.doors, cut.turfs, G, config)
    stops = routed.stops
    assert not stops[schema.DOOR_ID].duplicated().any()
    assert (routed.routes[schema.TOTAL_S] <= config.turf.shift_s).all()
    left = pd.concat([snapped.left_out, cut.left_out, routed.left_out])
    assert not left[schema.DOOR_ID].duplicated().any()
    assert left[schema.REASON].isin(schema.LEFT_OUT_REASONS).all()
    targets = set(doors.index[n_targets > 0])
    assert set(stops[schema.DOOR_ID]) | set(left[schema.DOOR_ID]) == targets
    assert set(stops[schema.DOOR_ID]).isdisjoint(set(left[schema.DOOR_ID]))
