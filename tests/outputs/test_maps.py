from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pandas as pd
import pytest
from plan_factory import make_plan, with_output

from canvass import outputs, schema
from canvass.outputs import _maps as maps
from canvass.outputs import route_page_data


@pytest.fixture(scope="module")
def plan():
    """Four turfs of 10 doors, one route each."""
    return make_plan(n_turfs=4, doors_per_turf=10, seed=4)


@pytest.fixture(scope="module")
def run_dir(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    files = outputs.write_walk_lists(plan, out)
    files["maps"] = [maps.write_director_map(plan, out)]
    files["pages"] = maps.write_route_pages(plan, out)
    files["index"] = [maps.write_index(plan, out, files, plan.summary())]
    return out, files


def _names(plan):
    v = plan.voters
    return {str(n).title() for n in v[schema.LAST_NAME]} | {
        str(n).title() for n in v[schema.FIRST_NAME]
    }


def _layer_data(page: str, name: str):
    m = re.search(
        rf"var {name}_[0-9a-f]{{32}} = \(function\(data\) {{.*?}}\)\((.*?)\);\n",
        page,
        re.S,
    )
    assert m, name
    return json.loads(m.group(1))


def test_director_map_has_every_layer_and_no_names(plan, run_dir):
    out, _ = run_dir
    page = (out / "turf_map.html").read_text()
    routes = _layer_data(page, "routes")
    assert sorted(f["properties"]["route_id"] for f in routes["features"]) == sorted(
        plan.routes.index
    )
    # routes follow the street path, not straight lines between doors
    for f in routes["features"]:
        assert len(f["geometry"]["coordinates"]) >= 4
    doors = _layer_data(page, "routed_target_doors")
    assert len(doors["rows"]) == len(plan.stops)
    assert sorted(r[2] for r in doors["rows"]) == sorted(
        plan.doors.loc[plan.stops[schema.DOOR_ID], schema.ADDRESS]
    )
    assert len(_layer_data(page, "turfs")["features"]) == len(plan.turfs)
    assert len(_layer_data(page, "turf_labels")) == len(plan.turfs)
    assert len(_layer_data(page, "targets_per_precinct")["features"]) == len(
        plan.precincts
    )
    assert "L.control.layers" in page
    assert "markerClusterGroup" in page
    assert "cv-summary" in page
    assert "cv-legend" in page
    words = set(re.findall(r"[A-Z][a-zł']+", page))
    assert not words & _names(plan), "the director map must carry counts, not names"
    assert "jquery" not in page.lower()
    assert "bootstrap" not in page.lower()


def test_director_map_is_deterministic(plan, run_dir, tmp_path):
    out, _ = run_dir
    again = maps.write_director_map(plan, tmp_path)
    assert again.read_bytes() == (out / "turf_map.html").read_bytes()
    ids = re.findall(r"_([0-9a-f]{32})\b", again.read_text())
    assert ids
    assert all(i.startswith("0000") for i in ids)


def test_deterministic_ids_renumber_in_order():
    a, b = "a" * 32, "0123456789abcdef" * 2
    text = f"map_{b} x_{a} y_{b}"
    assert maps.deterministic_ids(text) == f"map_{1:032x} x_{2:032x} y_{1:032x}"


def test_choropleth_classes_start_at_zero():
    edges = maps._bins(pd.Series([296.0, 341.0, 320.0]))
    assert edges[0] == 0
    assert edges[-1] >= 341
    assert len(edges) == 6
    assert maps._bins(pd.Series([0.0, 0.0])) == [0.0, 1.0]


def test_one_route_page_per_volunteer_with_only_its_doors(plan, run_dir):
    _out, files = run_dir
    assert sorted(p.stem for p in files["pages"]) == sorted(plan.routes.index)
    for path in files["pages"]:
        page = path.read_text()
        assert 'name="viewport"' in page
        mine = plan.stops[plan.stops[schema.ROUTE_ID] == path.stem]
        others = plan.stops[plan.stops[schema.ROUTE_ID] != path.stem]
        for door in mine[schema.DOOR_ID]:
            assert f">{plan.doors.loc[door, schema.ADDRESS]}<" in page
        for door in others[schema.DOOR_ID]:
            assert f">{plan.doors.loc[door, schema.ADDRESS]}<" not in page
        assert page.count('href="geo:') == len(mine)
        assert page.count('<li class="stop"') == len(mine)


def test_route_page_names_follow_door_names(plan):
    route_id = str(plan.routes.index[0])
    stops = plan.stops[plan.stops[schema.ROUTE_ID] == route_id]
    targets = plan.voters[
        plan.voters[schema.DOOR_ID].isin(stops[schema.DOOR_ID])
        & plan.voters[schema.IS_TARGET]
    ]
    short = route_page_data(plan, route_id)
    names = [p["name"] for s in short["stops"] for p in s["people"]]
    assert len(names) == len(targets)
    assert all(re.fullmatch(r"\S+ \S\.", n) for n in names)
    full = route_page_data(with_output(plan, door_names="full"), route_id)
    assert any(
        " " in p["name"] and "." not in p["name"]
        for s in full["stops"]
        for p in s["people"]
    )
    none = route_page_data(with_output(plan, door_names="none"), route_id)
    assert all(not s["people"] for s in none["stops"])
    assert "Ask for the" in none["stops"][0]["detail"]


def test_offline_pages_inline_leaflet(plan, tmp_path):
    pages = maps.write_route_pages(with_output(plan, offline_pages=True), tmp_path)
    page = pages[0].read_text()
    assert "cdn.jsdelivr" not in page
    assert "<script src=" not in page
    assert "Leaflet 1.9.3" in page or 'version="1.9.3"' in page
    assert "url(images/" not in page


def test_offline_director_map_inlines_every_script(plan, tmp_path):
    online = maps.write_director_map(plan, tmp_path).read_text()
    assert maps.MARKERCLUSTER_URLS["js"] in online  # online maps stay small
    page = maps.write_director_map(with_output(plan, offline_pages=True), tmp_path)
    text = page.read_text()
    assert not re.search(r"<script[^>]* src=|<link[^>]* href=", text)
    assert "cdn.jsdelivr" not in text
    assert "cdnjs" not in text
    assert "Leaflet 1.9.3" in text
    assert "Leaflet.markercluster" in text
    assert "url(images/" not in text
    # the vector layers' data is unchanged: only the asset tags differ
    assert _layer_data(text, "routes") == _layer_data(online, "routes")


def test_offline_page_refuses_an_asset_it_cannot_inline():
    page = '<script src="https://example.org/new-plugin.js"></script>'
    with pytest.raises(RuntimeError, match=r"new-plugin\.js"):
        maps.inline_assets(page)


def test_redacted_maps_show_blocks_not_doors(plan, tmp_path):
    red = with_output(plan, redact=True)
    director = maps.write_director_map(red, tmp_path).read_text()
    pages = maps.write_route_pages(red, tmp_path)
    addresses = set(plan.doors[schema.ADDRESS])
    for text in [director, *(p.read_text() for p in pages)]:
        assert not any(f">{a}<" in text for a in addresses)
        assert not set(re.findall(r"[A-Z][a-zł']+", text)) & _names(plan)
        assert " block of " in text


def test_index_links_every_output(plan, run_dir):
    out, files = run_dir
    index = (out / "index.html").read_text()
    for kind, paths in files.items():
        if kind == "index":
            continue
        for p in paths:
            assert f'href="{p.relative_to(out).as_posix()}"' in index, p
    assert f"{len(plan.voters):,}" in index
    digest = hashlib.sha256(index.encode()).hexdigest()
    again = maps.write_index(plan, out, files, plan.summary())
    assert hashlib.sha256(again.read_bytes()).hexdigest() == digest


def test_route_page_says_when_to_drive_to_the_next_leg(plan, tmp_path):
    route_id = str(plan.routes.index[0])
    mine = plan.stops[schema.ROUTE_ID] == route_id
    third = plan.stops.index[mine][2]
    drive = pd.Series(0, index=plan.stops.index)
    drive[third] = 420  # a 7-minute drive before the third door
    stops = plan.stops.assign(**{schema.DRIVE_S: drive})
    # and 9 minutes back from the leg after the last door
    back = pd.Series(0, index=plan.routes.index)
    back[route_id] = 420 + 540
    routes = plan.routes.assign(**{schema.DRIVE_S: back})
    driving = dataclasses.replace(plan, stops=stops, routes=routes)
    data = route_page_data(driving, route_id)
    assert [s["drive"] for s in data["stops"]][:4] == [0, 0, 7, 0]
    assert data["route"]["drive_back"] == 9
    (page,) = [
        p for p in maps.write_route_pages(driving, tmp_path) if route_id in p.name
    ]
    html = page.read_text()
    assert html.count("Walk back to the car and drive about 7 min") == 1
    assert "drive about 9 min back to where you started" in html
    # from an office: the first door is after the drive out to the turf
    first = plan.stops.index[mine][0]
    office = dataclasses.replace(
        driving,
        stops=stops.assign(**{schema.DRIVE_S: drive.where(drive.index != first, 600)}),
    )
    (page,) = [
        p
        for p in maps.write_route_pages(office, tmp_path / "office")
        if route_id in p.name
    ]
    html = page.read_text()
    assert "Drive about 10 min to the turf and park, then:" in html
    assert html.count("Walk back to the car") == 1  # (the third door's leg)
    # plans routed before car legs existed have no drive column
    plain = route_page_data(plan, route_id)
    assert all(s["drive"] == 0 for s in plain["stops"])
    assert plain["route"]["drive_back"] == 0


def test_turf_minutes_are_per_volunteer_for_a_team() -> None:
    from canvass.outputs._maps import _minutes

    assert _minutes(pd.Series({schema.EST_S: 6600, "volunteers": 1})) == "110 min"
    assert _minutes(pd.Series({schema.EST_S: 13200, "volunteers": 2})) == "2 × 110 min"
    assert _minutes(pd.Series({schema.EST_S: 3000})) == "50 min"
