"""Size and load time of the field director's map for a county-sized plan.

Builds a synthetic plan (default 400 turfs x 40 doors = 16,000 routed doors, one route
per turf), writes ``turf_map.html`` and opens it in headless Chromium (Leaflet served
from ``canvass/static``, tiles answered with a blank tile) to time the page load and
count the drawn routes and clustered door markers. Run from the repository root:

    .venv/bin/python bench/bench_maps.py [n_turfs] [doors_per_turf]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "outputs")]

from plan_factory import make_plan  # noqa: E402
from test_browser import ARGS, CLUSTER_COUNT, _serve  # noqa: E402

from canvass.outputs import _maps as maps  # noqa: E402

ZOOM = """() => new Promise((done) => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  const t0 = performance.now();
  const z = map.getZoom();
  map.once('zoomend', () => {
    map.once('zoomend', () => requestAnimationFrame(() =>
      done((performance.now() - t0) / 1000)));
    map.setZoom(z, {animate: false});
  });
  map.setZoom(z + 2, {animate: false});
})"""


def main(n_turfs: int = 400, doors_per_turf: int = 40) -> None:
    t0 = time.perf_counter()
    plan = make_plan(n_turfs=n_turfs, doors_per_turf=doors_per_turf, seed=0)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = maps.write_director_map(plan, Path(tmp))
        t2 = time.perf_counter()
        size = path.stat().st_size
        print(
            f"plan: {len(plan.turfs):,} turfs, {len(plan.routes):,} routes, "
            f"{len(plan.stops):,} doors (built in {t1 - t0:.1f} s)"
        )
        print(f"turf_map.html: {size / 1e6:.2f} MB, written in {t2 - t1:.1f} s")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for run in range(3):
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                errors: list[str] = []
                page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
                page.route("**/*", _serve)
                start = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load")
                loaded = time.perf_counter() - start
                page.wait_for_function(
                    "() => document.querySelectorAll('path.route-line').length > 0"
                )
                ready = time.perf_counter() - start
                routes = page.locator("path.route-line").count()
                doors = page.evaluate(CLUSTER_COUNT)
                if run == 0:
                    shots = ROOT / "bench" / "out"
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / f"director_map_{n_turfs}.png"))
                # zoom in two levels and back out, timing until the next frame
                interact = page.evaluate(ZOOM)
                print(
                    f"run {run + 1}: load event {loaded:.2f} s, "
                    f"routes drawn {ready:.2f} s, "
                    f"zoom in+out {interact:.2f} s; {routes:,} route lines, "
                    f"{doors:,} clustered doors, JS errors: {len(errors)}"
                )
                for e in errors:
                    print("   JS error:", e[:300])
                page.close()
            browser.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
