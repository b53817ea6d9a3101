"""The director's map and a volunteer route page, driven in headless Chromium.

Playwright drives Debian's Chromium (``/usr/bin/chromium``). Tests have no internet,
so the CDN addresses of Leaflet and Leaflet.markercluster are answered with the copies
vendored in ``canvass/static``, map tiles with a blank tile, and any other external
address with an empty response. Screenshots go to ``tests/output/`` (git-ignored).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _chromium import launch
from plan_factory import make_plan

from canvass import outputs, schema
from canvass.outputs import _maps as maps
from canvass.outputs._pages import LEAFLET_CSS_URL, LEAFLET_JS_URL, STATIC

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).resolve().parents[1] / "output"
LOCAL = {
    LEAFLET_JS_URL: ("leaflet.js", "application/javascript"),
    LEAFLET_CSS_URL: ("leaflet.css", "text/css"),
    maps.MARKERCLUSTER_URLS["js"]: (
        "leaflet.markercluster.js",
        "application/javascript",
    ),
    maps.MARKERCLUSTER_URLS["css"]: ("MarkerCluster.css", "text/css"),
    maps.MARKERCLUSTER_URLS["css_default"]: ("MarkerCluster.Default.css", "text/css"),
}
# a 1x1 light-grey PNG stands in for every map tile
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4+/fvfwAJmAPp1bKXJwAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def _serve(route: Any) -> None:
    url = route.request.url
    if url.startswith("file:"):
        route.continue_()
    elif url in LOCAL:
        name, kind = LOCAL[url]
        route.fulfill(status=200, content_type=kind, body=(STATIC / name).read_bytes())
    elif url.startswith("data:"):
        route.continue_()
    elif "tile" in url and url.endswith(".png"):
        route.fulfill(status=200, content_type="image/png", body=TILE)
    else:
        route.fulfill(status=200, content_type="text/plain", body="")


def _open(browser: Any, path: Path, *, mobile: bool = False) -> tuple[Any, list[str]]:
    size = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 860}
    context = browser.new_context(viewport=size, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.route("**/*", _serve)
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    return page, errors


CLUSTER_COUNT = """() => {
  for (const k of Object.keys(window)) {
    const v = window[k];
    if (v && window.L && L.MarkerClusterGroup && v instanceof L.MarkerClusterGroup) {
      return v.getLayers().length;
    }
  }
  return -1;
}"""


def _check_director(page: Any, plan: Any) -> None:
    assert page.locator("path.route-line").count() == len(plan.routes)
    assert page.locator("path.route-start").count() == len(plan.routes)
    assert page.evaluate(CLUSTER_COUNT) == len(plan.stops)
    assert page.locator(".turf-label").count() == len(plan.turfs)
    assert page.locator(".leaflet-control-layers").count() == 1
    assert "Doors routed" in page.inner_text(".cv-summary")


def _check_route_page(page: Any, plan: Any, route_id: str) -> None:
    n_stops = int((plan.stops[schema.ROUTE_ID] == route_id).sum())
    assert page.locator("path.route-line").count() == 1
    assert page.locator(".stop-marker").count() == n_stops
    assert page.locator(".start-marker").count() == 1
    assert page.locator("li.stop").count() == n_stops
    viewport = page.locator('meta[name="viewport"]').get_attribute("content")
    assert "width=device-width" in viewport


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    plan = make_plan(n_turfs=6, doors_per_turf=15, seed=2)
    out = tmp_path_factory.mktemp("browser")
    files = outputs.write_walk_lists(plan, out)
    files["maps"] = [maps.write_director_map(plan, out)]
    files["pages"] = maps.write_route_pages(plan, out)
    maps.write_index(plan, out, files, plan.summary())
    return plan, out


def test_director_map_draws_every_route_and_door(browser, synthetic_run):
    plan, out = synthetic_run
    page, errors = _open(browser, out / "turf_map.html")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "director_map_synthetic.png"))
    assert errors == []
    _check_director(page, plan)


POPUP = """() => new Promise((done) => {
  for (const k of Object.keys(window)) {
    const v = window[k];
    if (v && window.L && L.MarkerClusterGroup && v instanceof L.MarkerClusterGroup) {
      const m = v.getLayers()[0];
      v.zoomToShowLayer(m, () => { m.openPopup(); done(true); });
      return;
    }
  }
  done(false);
})"""


def test_director_map_door_popup_has_counts_not_names(browser, synthetic_run):
    plan, out = synthetic_run
    page, errors = _open(browser, out / "turf_map.html")
    assert page.evaluate(POPUP)
    page.wait_for_selector(".leaflet-popup-content")
    text = page.inner_text(".leaflet-popup-content")
    m = re.search(r"Route (\S+), stop (\d+)", text)
    assert m, text
    stops = plan.stops
    hit = stops[
        (stops[schema.ROUTE_ID] == m.group(1)) & (stops[schema.STOP] == int(m.group(2)))
    ]
    door = plan.doors.loc[hit[schema.DOOR_ID].iloc[0]]
    assert text.startswith(door[schema.ADDRESS])
    assert (
        f"{door[schema.N_TARGETS]} target(s) of {door[schema.N_VOTERS]} voter(s)"
        in text
    )
    assert errors == []


def test_route_page_shows_its_stops_on_a_phone(browser, synthetic_run):
    plan, out = synthetic_run
    route_id = str(plan.routes.index[1])
    page, errors = _open(browser, out / "routes" / f"{route_id}.html", mobile=True)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "route_page_synthetic.png"), full_page=False)
    assert errors == []
    _check_route_page(page, plan, route_id)
    # tapping a stop marker scrolls its door into view and highlights it
    page.locator(".stop-marker").nth(2).click()
    page.wait_for_timeout(200)
    assert page.locator("li.stop.current").get_attribute("id") == "stop-3"


def test_offline_route_page_needs_no_network(browser, tmp_path):
    plan = make_plan(n_turfs=2, doors_per_turf=8, output={"offline_pages": True})
    pages = maps.write_route_pages(plan, tmp_path)
    page, errors = _open(browser, pages[0], mobile=True)
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    page.reload(wait_until="load")
    assert errors == []
    assert not [u for u in requested if "leaflet" in u]  # inlined, nothing fetched
    _check_route_page(page, plan, str(plan.routes.index[0]))


def test_demo_run_in_the_browser(browser, demo_outputs, demo_plan):
    """The lead's demo run folder: director map and the first route page."""
    page, errors = _open(browser, demo_outputs / "turf_map.html")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "director_map_demo.png"))
    assert errors == []
    _check_director(page, demo_plan)
    route_id = str(sorted(demo_plan.routes.index)[0])
    page, errors = _open(
        browser, demo_outputs / "routes" / f"{route_id}.html", mobile=True
    )
    page.screenshot(path=str(OUTPUT / "route_page_demo.png"))
    assert errors == []
    _check_route_page(page, demo_plan, route_id)
    summary = json.loads((demo_outputs / "summary.json").read_text())
    assert page.locator("li.stop").count() <= summary["doors_routed"]


@pytest.fixture(scope="module")
def offline_run(demo_town: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`canvass run --offline` over the test town, as a user would type it."""
    from click.testing import CliRunner

    from canvass.cli import cli

    out = tmp_path_factory.mktemp("offline") / "run"
    args = ["-q", "run", "--config", str(demo_town.config), "--out", str(out)]
    args += ["--offline", "--time-limit", "0", "--workers", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out


def _layer_sizes(page: Any) -> dict[str, int]:
    """Features per GeoJSON layer of the director's map, by the layer's variable."""
    return dict(
        page.evaluate(
            """() => Object.keys(window)
              .filter((k) => /^(targets_per_precinct|turfs|routes)_[0-9a-f]{32}$/
                             .test(k))
              .map((k) => {
                const count = (l) => (l instanceof L.GeoJSON ? l.getLayers().length
                  : l.getLayers ? l.getLayers().reduce((n, c) => n + count(c), 0) : 0);
                return [k.replace(/_[0-9a-f]{32}$/, ""), count(window[k])];
              })"""
        )
    )


def test_offline_director_map_draws_with_every_request_blocked(browser, offline_run):
    """No connection at all: Leaflet is inlined and every vector layer still draws."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    requested: list[tuple[str, str]] = []
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def block(route: Any) -> None:
        request = route.request
        if request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            requested.append((request.resource_type, request.url))
            route.abort("internetdisconnected")

    page.route("**/*", block)
    page.goto((offline_run / "turf_map.html").resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "director_map_offline.png"))
    assert errors == []
    # only background tiles were asked for (and refused); no script, no stylesheet
    assert requested, "the tile layer should still try its tiles"
    assert all(
        kind == "image" and url.startswith("https://tile.openstreetmap.org/")
        for kind, url in requested
    ), sorted({u for _, u in requested if "tile.openstreetmap" not in u})
    summary = json.loads((offline_run / "summary.json").read_text())
    sizes = _layer_sizes(page)
    n_precincts = len(pd.read_csv(offline_run / "precincts.csv"))
    assert sizes == {
        "targets_per_precinct": n_precincts,
        "turfs": summary["turfs"],
        "routes": summary["volunteers"],
    }
    assert min(sizes.values()) > 0
    # ... and drawn: one SVG path per feature
    assert page.locator("path.precinct-area").count() == n_precincts
    assert page.locator("path.turf-area").count() == summary["turfs"]
    assert page.locator("path.route-line").count() == summary["volunteers"]
    assert page.locator("path.route-start").count() == summary["volunteers"]
    assert page.evaluate(CLUSTER_COUNT) == summary["doors_routed"]
    # the route pages of the same run need no network either
    first = sorted((offline_run / "routes").glob("*.html"))[0]
    requested.clear()
    page.goto(first.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(200)
    assert errors == []
    assert page.locator("path.route-line").count() == 1
    assert all(kind == "image" and "tile" in url for kind, url in requested)
    context.close()
