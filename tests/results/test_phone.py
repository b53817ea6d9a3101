"""Recording at the door on the phone (issue 18, point 1 and 2a), in real Chromium.

A route page of a recorded run is opened as a local file with every network request
refused (no map tiles, no Leaflet from the CDN): results are tapped for several
people, survive a reload, and leave the phone as a CSV download while offline;
`canvass results import` loads exactly those events and the next plan leaves the
done doors out.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _phone import answer, biggest_route, launch, tap, unsent
from click.testing import CliRunner
from conftest import Campaign

from canvass import schema
from canvass.cli import cli
from canvass.outputs._recorder import PHONE_CSV_COLUMNS
from canvass.results import PHONE_COLUMNS

UUID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_the_page_writes_the_columns_the_import_reads() -> None:
    assert PHONE_CSV_COLUMNS == PHONE_COLUMNS


def _no_network(route: Any) -> None:
    if route.request.url.startswith(("file:", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def _open_offline(context: Any, page_file: Path) -> tuple[Any, list[str]]:
    """Open a route page from its file with the network cut; collect its JS errors."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: d.accept())
    page.route("**/*", _no_network)
    page.goto(page_file.resolve().as_uri(), wait_until="load")
    return page, errors


def _pick(cfg: dict[str, Any]) -> dict[str, Any]:
    """Doors of the route: two with one person, one with two or more, one more."""
    stops = list(cfg["stops"].values())
    single = [s for s in stops if len(s["people"]) == 1]
    multi = [s for s in stops if len(s["people"]) >= 2]
    assert len(single) >= 3, "the test route needs three doors with one target"
    assert multi, "the test route needs a door with two targets"
    return {"done": single[0], "not_home": single[1], "undone": single[2],
            "kept": multi[0], "gated": next(s for s in stops if s not in
            (single[0], single[1], single[2], multi[0]))}  # fmt: skip


@pytest.mark.browser
def test_record_reload_offline_export_import_replan(
    browser: Any, campaign: Campaign, tmp_path: Path
) -> None:
    from canvass.pipeline import run

    route_id, cfg = biggest_route(campaign.out)
    doors = _pick(cfg)
    voter = {k: s["people"][0]["id"] for k, s in doors.items()}
    page_file = campaign.out / "routes" / f"{route_id}.html"
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, accept_downloads=True
    )
    page, errors = _open_offline(context, page_file)
    assert unsent(page) == 0
    assert page.inner_text("#unsent") == "No results recorded yet."
    assert "IndexedDB" in page.inner_text("#rec-status")
    # one tap per person; answers for the contacted voter; a result taken back
    tap(page, voter["done"], "CONTACTED")
    answer(page, voter["done"], "support_1_5", "2")
    answer(page, voter["done"], "will_volunteer", "Y")
    tap(page, voter["not_home"], "NOT_HOME")
    tap(page, voter["kept"], "REFUSED")
    tap(page, voter["gated"], "DO_NOT_KNOCK")
    tap(page, voter["undone"], "MOVED")
    assert unsent(page) == 5
    page.locator(f'.rec[data-voter="{voter["undone"]}"] button.undo').click()
    page.wait_for_function(
        "() => document.getElementById('unsent').dataset.unsent === '4'"
    )
    assert page.inner_text("#unsent") == "4 results not yet sent."
    # the log survives a reload
    page.reload(wait_until="load")
    assert unsent(page) == 4
    for key, code in (("done", "CONTACTED"), ("not_home", "NOT_HOME"),
                      ("kept", "REFUSED"), ("gated", "DO_NOT_KNOCK")):  # fmt: skip
        box = page.locator(f'.rec[data-voter="{voter[key]}"]')
        assert box.locator("button.on[data-code]").get_attribute("data-code") == code
    assert page.locator(f'.rec[data-voter="{voter["undone"]}"] button.on').count() == 0
    contacted = page.locator(f'.rec[data-voter="{voter["done"]}"]')
    assert (
        contacted.locator('.answers[data-q="support_1_5"] button.on').inner_text()
        == "2"
    )
    # offline: the CSV still leaves the phone (download: headless Chromium cannot share)
    context.set_offline(True)
    with page.expect_download() as info:
        page.click("#rec-share")
    download = info.value
    assert re.fullmatch(rf"results-{re.escape(route_id)}-\d{{8}}-\d{{4}}\.csv",
                        download.suggested_filename)  # fmt: skip
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    page.wait_for_function(
        "() => document.getElementById('unsent').dataset.unsent === '0'"
    )
    assert page.inner_text("#unsent") == "All 4 results sent."
    # answers of a sent result are locked (a changed answer would conflict on import)
    locked = contacted.locator('.answers[data-q="support_1_5"] button').first
    assert locked.is_disabled()
    # the volunteer clears the device at the end of the shift: nothing kept
    page.click("#rec-clear")
    page.wait_for_function(
        "() => document.getElementById('unsent').textContent === "
        "'No results recorded yet.'"
    )
    page.reload(wait_until="load")
    assert unsent(page) == 0
    assert page.inner_text("#unsent") == "No results recorded yet."
    assert page.locator(".rec button.on").count() == 0
    context.close()
    assert errors == []

    phone = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(phone.columns) == [*PHONE_COLUMNS, *campaign.config.campaign.survey]
    assert len(phone) == 4
    assert phone.event_id.map(lambda e: bool(UUID.match(e))).all()
    assert set(phone.route_id) == {route_id}
    assert set(phone.run_id) == {campaign.plan.run_id}
    assert phone.time.str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$").all()

    config = campaign.copy(tmp_path)
    toml = tmp_path / "canvass.toml"
    toml.write_text(
        f'[campaign]\ndb = "{config.campaign.db}"\nstart = "2020-01-01"\n'
        'survey = ["support_1_5", "will_volunteer", "needs_ride"]\n'
    )
    args = ["results", "import", str(path), "--config", str(toml),
            "--rejects", str(tmp_path / "rejects.csv")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (
        "4 rows: 4 imported, 0 already imported, 0 blank, 0 rejected" in result.output
    )
    again = CliRunner().invoke(cli, args)
    assert "4 rows: 0 imported, 4 already imported" in again.output
    with sqlite3.connect(config.campaign.db) as conn:
        rows = conn.execute(
            "SELECT event_id, voter_id, door_id, route_id, result, answers, source "
            "FROM events"
        ).fetchall()
    got = {(r[1], r[4]): r for r in rows}
    assert set(got) == {
        (voter["done"], "CONTACTED"),
        (voter["not_home"], "NOT_HOME"),
        (voter["kept"], "REFUSED"),
        (voter["gated"], "DO_NOT_KNOCK"),
    }
    assert {r[0] for r in rows} == set(phone.event_id)
    assert {r[6] for r in rows} == {"phone"}
    assert {r[3] for r in rows} == {route_id}
    assert json.loads(got[(voter["done"], "CONTACTED")][5]) == {
        "support_1_5": "2",
        "will_volunteer": "Y",
    }
    for key in ("done", "not_home", "kept", "gated"):
        assert got[next(k for k in got if k[0] == voter[key])][2] == doors[key]["door"]

    plan = run(config)
    routed = set(plan.stops[schema.DOOR_ID])
    assert doors["done"]["door"] not in routed
    assert doors["gated"]["door"] not in routed
    assert doors["not_home"]["door"] in routed
    assert doors["kept"]["door"] in routed
    assert doors["undone"]["door"] in routed
    assert plan.voters.loc[voter["kept"], schema.SUPPRESSED] == "refused"
    # every other door of the old plan is still planned
    before = set(campaign.plan.stops[schema.DOOR_ID])
    assert before - routed == {doors["done"]["door"], doors["gated"]["door"]}


@pytest.mark.browser
def test_without_indexeddb_the_log_is_kept_in_localstorage(
    browser: Any, campaign: Campaign
) -> None:
    route_id, cfg = biggest_route(campaign.out)
    people = [p["id"] for s in cfg["stops"].values() for p in s["people"]]
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(window, 'indexedDB', {value: null})")
    page, errors = _open_offline(context, campaign.out / "routes" / f"{route_id}.html")
    assert unsent(page) == 0
    assert "localStorage" in page.inner_text("#rec-status")
    tap(page, people[0], "LANGUAGE_BARRIER")
    tap(page, people[1], "COME_BACK")
    page.reload(wait_until="load")
    assert unsent(page) == 2
    kept = page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('canvass:log:'))"
    )
    assert kept == [f"canvass:log:{campaign.plan.run_id}|{route_id}"]
    context.close()
    assert errors == []


@pytest.mark.browser
def test_come_back_asks_when_and_the_csv_and_import_keep_it(
    browser: Any, campaign: Campaign, tmp_path: Path
) -> None:
    route_id, cfg = biggest_route(campaign.out)
    people = [p["id"] for s in cfg["stops"].values() for p in s["people"]]
    context = browser.new_context(accept_downloads=True)
    page, errors = _open_offline(context, campaign.out / "routes" / f"{route_id}.html")
    assert unsent(page) == 0
    when = f'.rec[data-voter="{people[0]}"] .answers[data-q="@come_back"]'
    assert page.locator(when).is_hidden()
    tap(page, people[0], "COME_BACK")
    assert page.locator(when).is_visible()  # shown only after "Come back"
    answer(page, people[0], "@come_back", "weekend_day")
    tap(page, people[1], "COME_BACK")  # no time said
    tap(page, people[2], "NOT_HOME")
    assert page.locator(
        f'.rec[data-voter="{people[2]}"] .answers[data-q="@come_back"]'
    ).is_hidden()
    with page.expect_download() as info:
        page.click("#rec-share")
    path = tmp_path / "phone.csv"
    info.value.save_as(str(path))
    context.close()
    assert errors == []
    phone = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("voter_id")
    assert phone.loc[people[0], "come_back"] == "weekend_day"
    assert phone.loc[people[1], "come_back"] == ""
    assert phone.loc[people[2], "come_back"] == ""

    config = campaign.copy(tmp_path)
    from canvass.results import import_results

    report = import_results([path], config)
    assert report.totals["imported"] == 3
    with sqlite3.connect(config.campaign.db) as conn:
        got = dict(conn.execute("SELECT voter_id, come_back FROM events").fetchall())
    assert got == {people[0]: "weekend_day", people[1]: None, people[2]: None}
