"""Tests for the demo town generator (`canvass.demo`)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from canvass import schema
from canvass.config import PlanConfig
from canvass.demo import (
    DemoTown,
    clerk_street_name,
    make_demo_town,
    write_ma_voter_files,
)
from canvass.demo._town import CLERK_WORDS
from canvass.errors import ConfigError, InputError

SMALL = 400
MID = 2000
LAT0 = 42.33
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> DemoTown:
    """A 400-voter demo town, seed 3."""
    return make_demo_town(
        tmp_path_factory.mktemp("small") / "town", seed=3, n_voters=SMALL
    )


@pytest.fixture(scope="module")
def mid(tmp_path_factory: pytest.TempPathFactory) -> DemoTown:
    """A 2,000-voter demo town, seed 11, for turnout statistics."""
    return make_demo_town(
        tmp_path_factory.mktemp("mid") / "town", seed=11, n_voters=MID
    )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="|", dtype=str, keep_default_na=False).iloc[:, :-1]


def _voters(town: DemoTown) -> pd.DataFrame:
    v = _read(town.voters[0])
    sfx = v["Residential Address - Street Suffix"]
    sep = np.where(sfx.str.contains("/"), " ", "")
    v["house"] = v["Residential Address - Street Number"] + sep + sfx
    v["dob"] = pd.to_datetime(v["Date of Birth"], format="%m/%d/%Y")
    v["reg"] = pd.to_datetime(v["Date of Registration"], format="%m/%d/%Y")
    return v


def _history(town: DemoTown) -> pd.DataFrame:
    h = pd.concat([_read(p) for p in town.history], ignore_index=True)
    h["date"] = pd.to_datetime(h["Election Date"], format="%m/%d/%Y")
    return h


def _xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.column_stack(
        ((lon + 72.64) * M_PER_DEG_LON, (lat - LAT0) * M_PER_DEG_LAT)
    )


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(small: DemoTown, tmp_path: Path) -> None:
    again = make_demo_town(tmp_path / "again", seed=3, n_voters=SMALL)
    assert _file_bytes(again.root) == _file_bytes(small.root)
    other = make_demo_town(tmp_path / "other", seed=4, n_voters=SMALL)
    a, b = _file_bytes(small.root), _file_bytes(other.root)
    assert a.keys() == b.keys()
    for name in (
        "streets.osm",
        "precincts.geojson",
        "address_points.csv",
        "voters/999VOT_demo.txt",
    ):
        assert a[name] != b[name], name


def test_files_and_counts(small: DemoTown) -> None:
    assert small.n_voters == SMALL
    for path in (
        small.config,
        small.streets,
        small.precincts,
        small.address_points,
        small.do_not_knock,
        *small.voters,
        *small.history,
    ):
        assert path.is_file()
        assert path.stat().st_size > 0
    assert [p.name for p in small.voters] == ["999VOT_demo.txt"]
    assert [p.name for p in small.history] == ["999ANP_demo.txt", "999ACP_demo.txt"]
    voters = _voters(small)
    assert len(voters) == SMALL
    doors = voters.groupby(["house", "Residential Address - Street Name"]).ngroups
    assert doors == small.n_addresses
    assert b"synthetic" in small.streets.read_bytes()[:300]
    assert not re.search(rb"20\d\d-\d\d-\d\dT", small.streets.read_bytes())


def test_config_loads_and_points_at_the_files(small: DemoTown) -> None:
    config = PlanConfig.from_toml(small.config)
    inputs = config.inputs
    assert inputs.voter_format == "ma"
    assert config.target.election_type == "state_primary"
    assert config.target.universe == "primary_low_propensity"
    assert config.resolve(inputs.voters[0]) == small.voters[0].resolve()
    assert [config.resolve(p) for p in inputs.history] == [
        p.resolve() for p in small.history
    ]
    for name in ("precincts", "streets", "address_points", "do_not_knock"):
        assert config.resolve(getattr(inputs, name)).is_file(), name


def test_osmnx_reads_a_connected_town_with_mixed_classes_and_dead_ends(
    small: DemoTown,
) -> None:
    G = ox.graph_from_xml(small.streets, simplify=True, retain_all=True)
    classes = {d["highway"] for _, _, d in G.edges(data=True)}
    assert {"primary", "tertiary", "residential"} <= classes
    assert all(d.get("name") for _, _, d in G.edges(data=True))
    und = nx.Graph(G.to_undirected())
    assert nx.is_connected(und)
    dead_ends = [n for n in und if und.degree(n) == 1]
    assert len(dead_ends) >= 5
    assert sum(1 for n in und if und.degree(n) >= 3) >= 50
    ids = [int(n) for n in G.nodes]
    assert min(ids) > 0
    lats = [d["y"] for _, d in G.nodes(data=True)]
    lons = [d["x"] for _, d in G.nodes(data=True)]
    width = (max(lons) - min(lons)) * M_PER_DEG_LON
    height = (max(lats) - min(lats)) * M_PER_DEG_LAT
    assert 1300 < width < 1800
    assert 1000 < height < 1500
    assert 42.2 < np.mean(lats) < 42.45
    assert -72.8 < np.mean(lons) < -72.5


def test_precincts_cover_every_address_once(small: DemoTown) -> None:
    precincts = gpd.read_file(small.precincts)
    assert precincts.crs.to_epsg() == 4326
    assert sorted(precincts["WARDPREC"]) == ["1A", "1B", "2A", "2B"]
    assert set(precincts["WARD"]) == {"1", "2"}
    assert set(precincts["PRECINCT"]) == {
        "A",
        "B",
    }
    assert "Ward 1 Precinct A" in set(precincts["NAME"])
    points = pd.read_csv(small.address_points, dtype=str, keep_default_na=False)
    pts = gpd.GeoDataFrame(
        points,
        geometry=gpd.points_from_xy(
            points["lon"].astype(float), points["lat"].astype(float)
        ),
        crs=4326,
    )
    joined = gpd.sjoin(pts, precincts, predicate="within", how="left")
    assert joined.index.is_unique
    assert joined["WARDPREC"].notna().all()
    # every precinct holds a fair share of the doors
    shares = joined["WARDPREC"].value_counts(normalize=True)
    assert shares.min() > 0.12
    # and the network: every street node is inside the town
    G = ox.graph_from_xml(small.streets, retain_all=True)
    nodes = gpd.GeoSeries(
        [Point(d["x"], d["y"]) for _, d in G.nodes(data=True)], crs=4326
    )
    assert nodes.within(precincts.union_all()).all()


def _ways(path: Path) -> dict[str, LineString]:
    root = ET.parse(path).getroot()
    xy = {
        n.get("id"): (float(n.get("lon", "0")), float(n.get("lat", "0")))
        for n in root.iter("node")
    }
    out = {}
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        coords = [xy[nd.get("ref")] for nd in way.iter("nd")]
        arr = np.array(coords)
        out[str(tags["name"])] = LineString(_xy(arr[:, 0], arr[:, 1]))
    return out


def test_house_numbers_odd_left_even_right_and_increasing(small: DemoTown) -> None:
    ways = _ways(small.streets)
    points = pd.read_csv(small.address_points, dtype=str, keep_default_na=False)
    label = points["street_number"].str.extract(r"^(\d+)(?: ?(1/2|[A-Z]))?$")
    assert label[0].notna().all()
    points["number"] = label[0].astype(int)
    points["suffix"] = label[1].fillna("")
    assert set(points["street_name"]) <= set(ways)
    xy = _xy(
        points["lon"].astype(float).to_numpy(), points["lat"].astype(float).to_numpy()
    )
    sides, stations, setbacks = [], [], []
    for (x, y), name in zip(xy, points["street_name"], strict=True):
        line = ways[name]
        s = line.project(Point(x, y))
        a = line.interpolate(max(s - 1, 0))
        b = line.interpolate(min(s + 1, line.length))
        cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x)
        sides.append("L" if cross > 0 else "R")
        stations.append(s)
        setbacks.append(line.distance(Point(x, y)))
    points["side"], points["s"], points["setback"] = sides, stations, setbacks
    odd = points["number"] % 2 == 1
    assert (points.loc[odd, "side"] == "L").all()
    assert (points.loc[~odd, "side"] == "R").all()
    assert points["setback"].between(7.5, 15.5).all()
    for _, g in points.groupby(["street_name", "side"]):
        g = g.sort_values("s")
        assert g["number"].is_monotonic_increasing
        assert not g.duplicated(["number", "suffix"]).any()
    # no door on the primary road's centreline, doors not crowded together
    assert points["setback"].min() >= 7.5


def test_address_points_leave_some_doors_out_and_spell_names_in_full(
    mid: DemoTown,
) -> None:
    points = pd.read_csv(mid.address_points, dtype=str, keep_default_na=False)
    assert list(points.columns) == [
        "street_number",
        "street_name",
        "unit",
        "zip",
        "lat",
        "lon",
    ]
    assert 0.90 < len(points) / mid.n_addresses < 0.99
    assert points["street_name"].str.match(r"^[A-Z][a-z]+( [A-Z][a-z]+)*$").all()
    assert points["street_name"].str.split().str[-1].isin(list(CLERK_WORDS)).all()
    assert (points["unit"] == "").all()


def test_clerk_street_names() -> None:
    assert clerk_street_name("North Main Street") == "N MAIN ST"
    assert clerk_street_name("West Farms Road") == "W FARMS RD"
    assert clerk_street_name("Fort Hill Terrace") == "FORT HILL TER"
    assert clerk_street_name("Maple Street") == "MAPLE ST"
    assert clerk_street_name("Park Avenue") == "PARK AVE"


def test_voter_file_layout(small: DemoTown) -> None:
    vot, anp, acp = (
        p.read_text(encoding="utf-8").splitlines()
        for p in (*small.voters, *small.history)
    )
    assert vot[0].startswith("Record Sequence Number|Voter Id Number|Last Name|")
    assert anp[0].startswith("Party Affiliation|Voter Id Number|")
    assert "|Party Voted|" in acp[0]
    assert "|Party Voted|" not in anp[0]
    for lines, n_fields in ((vot, 27), (anp, 25), (acp, 26)):
        assert len(lines) > 1
        for line in lines:
            fields = line.split("|")
            assert len(fields) == n_fields
            assert fields[-1] == ""
    voters = _voters(small)
    date = re.compile(r"^\d\d/\d\d/\d{4}$")
    assert voters["Date of Birth"].str.match(date).all()
    assert voters["Voter Id Number"].str.match(r"^\d\d[A-Z]{3}\d{7}$").all()
    assert voters["Voter Id Number"].is_unique
    assert voters["Voter Id Number"].str.startswith("0").any()  # leading zeros kept
    assert voters["Residential Address - Zip Code"].str.match(r"^0\d{4}$").all()
    assert voters["Gender"].isin(["F", "M"]).all()
    assert voters["Ward Number"].isin(["1", "2"]).all()
    assert voters["Precinct Number"].isin(["A", "B"]).all()
    streets = voters["Residential Address - Street Name"]
    assert (streets == streets.str.upper()).all()
    assert not streets.str.contains(r"\b(?:STREET|AVENUE|ROAD|LANE)\b").any()
    points = pd.read_csv(small.address_points, dtype=str, keep_default_na=False)
    assert set(streets) <= {clerk_street_name(s) for s in points["street_name"]} | {
        clerk_street_name(s) for s in _ways(small.streets)
    }
    units = voters["Residential Address - Apartment Number"]
    assert (units != "").any()
    assert units[units != ""].str.match(r"^\d{1,2}[A-D]?$").all()
    history = _history(small)
    assert set(history["Type of Election"]) == {
        "STATE ELECTION",
        "CITY ELECTION",
        "STATE PRIMARY",
        "PRESIDENTIAL PRIMARY",
    }
    acp_rows = _read(small.history[1])
    assert acp_rows["Party Voted"].isin(["D", "R", "L", "J", "G"]).all()
    assert (_read(small.history[0])["City/ Town Name"] == "DEMOVILLE").all()


def test_population_mix(mid: DemoTown) -> None:
    voters = _voters(mid)
    party = voters["Party Affiliation"].value_counts(normalize=True)
    assert party["U"] == pytest.approx(0.58, abs=0.05)
    assert party["D"] == pytest.approx(0.30, abs=0.05)
    assert party["R"] == pytest.approx(0.09, abs=0.03)
    assert set(party.index) <= {"U", "D", "R", "L", "J", "G"}
    assert (voters["Voter Status"] == "I").mean() == pytest.approx(0.08, abs=0.03)
    extract = pd.Timestamp("2025-06-30")
    age = (extract - voters["dob"]).dt.days / 365.25
    assert age.min() >= 18
    assert age.max() <= 96
    assert (voters["reg"] >= voters["dob"] + pd.DateOffset(years=18)).all()
    household = voters.groupby(
        [
            "Residential Address - Street Number",
            "Residential Address - Street Name",
            "Residential Address - Apartment Number",
        ]
    )
    sizes = household.size()
    assert sizes.max() <= 5
    assert (sizes == 1).any()
    assert (sizes >= 3).any()
    # housemates often share a last name
    assert (household["Last Name"].nunique() < sizes).sum() > 0.4 * (sizes > 1).sum()
    suffixes = voters["Residential Address - Street Suffix"]
    assert set(suffixes) <= {"", "1/2", "A"}
    assert (suffixes != "").any()
    new = voters["reg"] > pd.Timestamp("2024-11-05")
    assert 0.02 < new.mean() < 0.12
    history = _history(mid)
    assert not history["Voter Id Number"].isin(voters.loc[new, "Voter Id Number"]).any()


def test_nobody_votes_before_registering_or_turning_18(mid: DemoTown) -> None:
    voters = _voters(mid).set_index("Voter Id Number")
    history = _history(mid)
    assert history["Voter Id Number"].isin(voters.index).all()
    reg = voters.loc[history["Voter Id Number"], "reg"].to_numpy()
    dob = voters.loc[history["Voter Id Number"], "dob"]
    assert (history["date"].to_numpy() >= reg).all()
    eighteen = (dob + pd.DateOffset(years=18)).to_numpy()
    assert (history["date"].to_numpy() >= eighteen).all()
    assert not history.duplicated(["Voter Id Number", "date"]).any()


def _turnout(town: DemoTown) -> pd.DataFrame:
    voters = _voters(town)
    history = _history(town)
    rows = []
    for (day, kind), g in history.groupby(["date", "Type of Election"]):
        eligible = (voters["reg"] <= day - pd.Timedelta(days=20)) & (
            voters["dob"] + pd.DateOffset(years=18) <= day
        )
        rows.append({"date": day, "kind": kind, "turnout": len(g) / eligible.sum()})
    return pd.DataFrame(rows)


def test_turnout_looks_like_massachusetts(mid: DemoTown) -> None:
    t = _turnout(mid).set_index("date")
    primaries = t[t["kind"] == "STATE PRIMARY"]["turnout"]
    assert len(primaries) == 6
    assert primaries.between(0.15, 0.35).all(), primaries
    governor = t.loc[
        pd.to_datetime(["2014-11-04", "2018-11-06", "2022-11-08"]), "turnout"
    ]
    assert governor.between(0.50, 0.65).all(), governor
    president = t.loc[
        pd.to_datetime(["2016-11-08", "2020-11-03", "2024-11-05"]), "turnout"
    ]
    assert president.between(0.70, 0.80).all(), president
    city = t[t["kind"] == "CITY ELECTION"]
    assert len(city) == 5
    assert (city.index.year % 2 == 1).all()
    assert city["turnout"].max() < governor.min()
    assert len(t[t["kind"] == "PRESIDENTIAL PRIMARY"]) == 3


def test_turnout_is_correlated_within_voters_and_households(mid: DemoTown) -> None:
    voters = _voters(mid)
    history = _history(mid)
    # voters eligible for every state primary from 2018 on
    old = voters[voters["reg"] < pd.Timestamp("2018-01-01")].copy()
    primaries = history[
        (history["Type of Election"] == "STATE PRIMARY")
        & (history["date"].dt.year >= 2018)
    ]
    counts = primaries.groupby("Voter Id Number").size()
    old["n"] = old["Voter Id Number"].map(counts).fillna(0).astype(int)
    # within a voter: the 2018-2022 primaries predict the 2024 primary strongly
    voted_24 = old["Voter Id Number"].isin(
        primaries.loc[primaries["date"].dt.year == 2024, "Voter Id Number"]
    )
    earlier = (
        old["Voter Id Number"]
        .map(
            primaries[primaries["date"].dt.year < 2024]
            .groupby("Voter Id Number")
            .size()
        )
        .fillna(0)
    )
    assert voted_24[earlier >= 2].mean() > 3 * voted_24[earlier == 0].mean()
    # within a household: a voter's count correlates with the housemates' mean count
    key = [
        "Residential Address - Street Number",
        "Residential Address - Street Name",
        "Residential Address - Apartment Number",
    ]
    grp = old.groupby(key)["n"]
    size = grp.transform("size")
    mates = (grp.transform("sum") - old["n"]) / (size - 1).where(size > 1)
    ok = mates.notna()
    r = np.corrcoef(old.loc[ok, "n"], mates[ok])[0, 1]
    assert r > 0.25, r
    # presidential-only (drop-off) voters exist in numbers
    pres = history[
        history["date"].isin(pd.to_datetime(["2016-11-08", "2020-11-03", "2024-11-05"]))
    ]
    mid_terms = history[
        history["date"].isin(pd.to_datetime(["2018-11-06", "2022-11-08"]))
    ]
    pres_all = pres.groupby("Voter Id Number").size() == 3
    drop_off = set(pres_all[pres_all].index) - set(mid_terms["Voter Id Number"])
    assert len(drop_off) > 0.03 * len(voters)


def test_primary_ballots_follow_enrollment(mid: DemoTown) -> None:
    acp = _read(mid.history[1])
    by_party = acp.groupby("Party Affiliation")["Party Voted"].value_counts(
        normalize=True
    )
    assert by_party["D"]["D"] == 1.0
    assert by_party["R"]["R"] == 1.0
    assert 0.6 < by_party["U"]["D"] < 0.95


def test_some_voters_have_the_wrong_precinct_in_the_file(mid: DemoTown) -> None:
    voters = _voters(mid)
    points = pd.read_csv(mid.address_points, dtype=str, keep_default_na=False)
    precincts = gpd.read_file(mid.precincts)
    pts = gpd.GeoDataFrame(
        points,
        geometry=gpd.points_from_xy(
            points["lon"].astype(float), points["lat"].astype(float)
        ),
        crs=4326,
    ).sjoin(precincts, predicate="within")
    pts["street"] = pts["street_name"].map(clerk_street_name)
    where = voters.merge(
        pts[["street_number", "street", "WARDPREC"]],
        left_on=["house", "Residential Address - Street Name"],
        right_on=["street_number", "street"],
    )
    assert len(where) > 0.85 * len(voters)
    wrong = (where["Ward Number"] + where["Precinct Number"]) != where["WARDPREC"]
    assert 1 <= wrong.sum() <= 0.015 * len(where)


def test_do_not_knock_lists_active_voters(small: DemoTown) -> None:
    dnk = pd.read_csv(small.do_not_knock, dtype=str)
    assert list(dnk.columns) == ["voter_id"]
    voters = _voters(small).set_index("Voter Id Number")
    assert 5 <= len(dnk) <= 10
    assert dnk["voter_id"].isin(voters.index).all()


def test_refuses_to_overwrite_without_force(small: DemoTown, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--force"):
        make_demo_town(small.root, seed=3, n_voters=SMALL)
    target = tmp_path / "town"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match=re.escape(str(target))):
        make_demo_town(target, n_voters=100)
    assert (target / "notes.txt").read_text() == "keep me"
    town = make_demo_town(target, n_voters=100, force=True)
    assert (target / "notes.txt").read_text() == "keep me"  # not ours: kept
    assert (target / "canvass.toml").is_file()
    assert town.n_voters == 100
    again = make_demo_town(target, n_voters=120, force=True)
    assert len(again.voters[0].read_text().splitlines()) == 121
    empty = tmp_path / "empty"
    empty.mkdir()
    assert make_demo_town(empty, n_voters=60).n_voters == 60
    with pytest.raises(ConfigError, match="at least 50"):
        make_demo_town(tmp_path / "tiny", n_voters=10)
    with pytest.raises(ConfigError, match="is a file"):
        make_demo_town(target / "notes.txt", n_voters=100)
    with pytest.raises(ConfigError, match="fewer --voters"):
        make_demo_town(tmp_path / "huge", n_voters=200_000)
    assert not (tmp_path / "huge").exists()  # nothing written when it fails


def _canonical() -> tuple[pd.DataFrame, pd.DataFrame]:
    voters = pd.DataFrame(
        {
            schema.VOTER_ID: ["01ABC0001000", "99XYZ0002000"],
            schema.LAST_NAME: ["Doe", "Roe"],
            schema.FIRST_NAME: ["Ann", "Bob"],
            schema.MIDDLE_NAME: ["", "Q"],
            schema.NAME_SUFFIX: ["", "JR"],
            schema.STREET_NUMBER: ["12", "7"],
            schema.STREET_NUMBER_SUFFIX: ["", "1/2"],
            schema.STREET_NAME: ["MAPLE ST", "N MAIN ST"],
            schema.UNIT: ["", "2A"],
            schema.CITY: ["TESTTOWN", "TESTTOWN"],
            schema.STATE: ["MA", "MA"],
            schema.ZIP5: ["01060", "01060"],
            schema.PARTY: ["D", "U"],
            schema.STATUS: ["A", "I"],
            schema.BIRTH_DATE: pd.to_datetime(["1980-02-29", "2001-12-31"]),
            schema.BIRTH_YEAR: [1980, 2001],
            schema.REGISTRATION_DATE: pd.to_datetime(["2000-01-05", "2020-06-01"]),
            schema.WARD: ["3", "7"],
            schema.PRECINCT: ["A", "B"],
            schema.PRECINCT_ID: ["3A", "7B"],
        }
    ).set_index(schema.VOTER_ID)
    history = pd.DataFrame(
        {
            schema.VOTER_ID: ["01ABC0001000", "01ABC0001000", "99XYZ0002000"],
            schema.ELECTION_ID: ["sp22", "se22", "sp22"],
            schema.ELECTION_DATE: pd.to_datetime(
                ["2022-09-06", "2022-11-08", "2022-09-06"]
            ),
            schema.ELECTION_TYPE: [
                schema.STATE_PRIMARY,
                schema.STATE_ELECTION,
                schema.STATE_PRIMARY,
            ],
            schema.PARTY_VOTED: ["D", "", "R"],
        }
    )
    return voters, history


def test_writer_round_trip(tmp_path: Path) -> None:
    voters, history = _canonical()
    before = (voters.copy(), history.copy())
    vot, anp, acp = write_ma_voter_files(
        voters, history, tmp_path, town_id=214, town_name="Testtown"
    )
    pd.testing.assert_frame_equal(voters, before[0])
    pd.testing.assert_frame_equal(history, before[1])
    assert [p.name for p in (vot, anp, acp)] == [
        "214VOT_demo.txt",
        "214ANP_demo.txt",
        "214ACP_demo.txt",
    ]
    v = _read(vot)
    assert v["Voter Id Number"].tolist() == ["01ABC0001000", "99XYZ0002000"]
    assert v["Date of Birth"].tolist() == ["02/29/1980", "12/31/2001"]
    assert v["Residential Address - Street Suffix"].tolist() == ["", "1/2"]
    assert v["Title"].tolist() == ["", "JR"]
    assert v["Last Name"].tolist() == ["DOE", "ROE"]
    c = _read(acp)
    assert c["Party Voted"].tolist() == ["D", "R"]
    assert (c["Type of Election"] == "STATE PRIMARY").all()
    assert (c["City/ Town Code Assigned Number"] == "214").all()
    a = _read(anp)
    assert a["Election Date"].tolist() == ["11/08/2022"]
    assert a["City/ Town Name"].tolist() == ["TESTTOWN"]


def test_writer_options_and_errors(tmp_path: Path) -> None:
    voters, history = _canonical()
    vot, anp, _ = write_ma_voter_files(
        voters,
        history,
        tmp_path / "old",
        town_id=1,
        town_name="X",
        with_gender=False,
        header=False,
    )
    lines = vot.read_text().splitlines()
    assert len(lines) == 2
    assert all(len(line.split("|")) == 26 for line in lines)
    assert len(anp.read_text().splitlines()) == 1
    bad = voters.copy()
    bad.loc["01ABC0001000", schema.LAST_NAME] = "DOE|SMITH"
    with pytest.raises(InputError, match="last_name"):
        write_ma_voter_files(bad, history, tmp_path / "bad", town_id=1, town_name="X")
    stray = pd.concat(
        [history, history.iloc[[0]].assign(**{schema.VOTER_ID: "00NOP0000000"})]
    )
    with pytest.raises(InputError, match="not in the voter table"):
        write_ma_voter_files(voters, stray, tmp_path / "bad", town_id=1, town_name="X")


def _features(
    voters: pd.DataFrame, wide: pd.DataFrame, target: pd.Timestamp
) -> pd.DataFrame:
    prior = [d for d in wide.columns if d < target]
    x = pd.DataFrame(
        {f"e{i}": wide[d].to_numpy() for i, d in enumerate(reversed(prior))}
    )
    age = ((target - voters["dob"]).dt.days / 365.25).to_numpy()
    x["young"] = np.clip((35 - age) / 17, 0, 1)
    x["age"] = age / 100
    x["old"] = np.clip((age - 80) / 10, 0, 1)
    years = ((target - voters["reg"]).dt.days / 365.25).to_numpy()
    x["recent"] = (years < 1.2).astype(int)
    for party in ("D", "R", "U"):
        x[party] = (voters["Party Affiliation"] == party).astype(int).to_numpy()
    x["inactive"] = (voters["Voter Status"] == "I").astype(int).to_numpy()
    return x


@pytest.mark.parametrize(
    ("train_day", "test_day", "kind"),
    [
        ("2022-09-06", "2024-09-03", "STATE PRIMARY"),
        ("2018-11-06", "2022-11-08", "STATE ELECTION"),
    ],
)
def test_a_fitted_model_beats_simple_history_rules(
    mid: DemoTown, train_day: str, test_day: str, kind: str
) -> None:
    """The history has structure beyond "voted last time" and "count of last 4"."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    voters = _voters(mid)
    history = _history(mid)
    wide = pd.crosstab(history["Voter Id Number"], history["date"]).reindex(
        voters["Voter Id Number"], fill_value=0
    )
    train, test = pd.Timestamp(train_day), pd.Timestamp(test_day)

    def eligible(day: pd.Timestamp) -> np.ndarray:
        ok = (voters["reg"] <= day - pd.Timedelta(days=20)) & (
            voters["dob"] + pd.DateOffset(years=18) <= day
        )
        return ok.to_numpy()

    x_train, x_test = _features(voters, wide, train), _features(voters, wide, test)
    columns = [c for c in x_train.columns if c in x_test.columns]
    fit_rows, test_rows = eligible(train), eligible(test)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x_train.loc[fit_rows, columns], wide[train].to_numpy()[fit_rows])
    y = wide[test].to_numpy()[test_rows]
    score = model.predict_proba(x_test.loc[test_rows, columns])[:, 1]
    same = sorted(set(history.loc[history["Type of Election"] == kind, "date"]))
    same = [d for d in same if d < test][-4:]
    rules = [
        wide[same].sum(axis=1).to_numpy()[test_rows],
        wide[same[-1]].to_numpy()[test_rows],
    ]
    if kind == "STATE ELECTION":  # also the last gubernatorial election
        rules.append(wide[pd.Timestamp("2018-11-06")].to_numpy()[test_rows])
    auc_model = roc_auc_score(y, score)
    for rule in rules:
        assert auc_model > roc_auc_score(y, rule) + 0.02


SHARED_LAYOUT = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "voter_file_layouts"
    / "MA_voter_files_layout.md"
)


def _layout_columns(text: str, heading: str) -> list[str]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        m = re.match(r"^\d+\. (.+)$", line.strip())
        if m:
            name = m.group(1).replace("**", "").split(" — ")[0]
            names.append(re.sub(r"\s*\(.*\)$", "", name).strip())
    return names


def test_column_names_follow_the_shared_ma_layout() -> None:
    """The headers are the layout document's column names, in its order."""
    from canvass.demo._ma_writer import ACP_COLUMNS, VOT_COLUMNS

    if not SHARED_LAYOUT.is_file():
        pytest.skip(f"shared MA layout document not found at {SHARED_LAYOUT}")
    text = SHARED_LAYOUT.read_text(encoding="utf-8")
    vot = _layout_columns(text, "## 1. Registered voters")
    assert vot[-1] == ""  # "(empty trailing field)"
    assert tuple(vot[:-1]) == VOT_COLUMNS
    acp = _layout_columns(text, "## 2. Voting activity")
    assert tuple(acp) == ACP_COLUMNS
