"""`canvass serve` (issue 18, point 2b): route pages on the laptop, results by POST.

The real server runs on 127.0.0.1 on a free port in a thread; results are posted by
the page in Chromium and with urllib, and found in the campaign database; requests
without the route's key, with a wrong key or for another route are refused; the log
carries no names and no keys.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import sqlite3
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _phone import answer, biggest_route, launch, tap, unsent
from conftest import Campaign

from canvass import outputs, schema
from canvass.errors import ConfigError
from canvass.results import check_host, make_server

# the server and urllib use real sockets (on 127.0.0.1 only)
pytestmark = pytest.mark.enable_socket


@dataclasses.dataclass
class Served:
    base: str
    run: Path
    route: str
    cfg: dict[str, Any]
    keys: dict[str, str]
    db: Path
    inbox: Path

    def link(self, route: str | None = None, key: str | None = None) -> str:
        route = route or self.route
        return outputs.served_link(self.base, route, key or self.keys[route])


@pytest.fixture
def served(campaign: Campaign, tmp_path: Path) -> Iterator[Served]:
    run = tmp_path / "maps" / "run"
    shutil.copytree(campaign.out / "routes", run / "routes")
    config = dataclasses.replace(campaign.copy(tmp_path), base_dir=str(tmp_path))
    keys = outputs.route_secrets(run, outputs.route_ids(run))
    route, cfg = biggest_route(run)
    server = make_server(run, config, keys, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(
            f"http://127.0.0.1:{server.server_address[1]}/", run, route, cfg, keys,
            Path(config.campaign.db), tmp_path / "phone_results" / "run",
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _post(url: str, body: str) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        url, data=body.encode(), method="POST",
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _events(db: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT event_id, voter_id, route_id, result, source FROM events "
            "ORDER BY event_id"
        ).fetchall()


def _csv(s: Served, rows: list[tuple[str, str, str]], route: str | None = None) -> str:
    head = "event_id,voter_id,run_id,route_id,door_id,time,result,volunteer\n"
    run_id = s.cfg["run_id"]
    return head + "".join(
        f"{e},{v},{run_id},{route or s.route},,2024-05-04T10:00:00-04:00,{r},Ann\n"
        for e, v, r in rows
    )


def test_keys_survive_a_restart_and_are_private(served: Served) -> None:
    path = served.run / outputs.SECRETS_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    again = outputs.route_secrets(served.run, outputs.route_ids(served.run))
    assert again == served.keys
    assert len(set(served.keys.values())) == len(served.keys)
    assert all(len(k) >= 22 for k in served.keys.values())


def test_requests_without_the_routes_key_are_refused(served: Served) -> None:
    other = next(r for r in served.keys if r != served.route)
    link = served.link()
    assert _get(served.base)[0] == 403
    assert _get(f"{served.base}r/{served.route}/")[0] == 403
    assert _get(f"{served.base}routes/{served.route}.html")[0] == 403
    assert _get(served.link(key="x" * 22))[0] == 403
    assert _get(served.link(served.route, served.keys[other]))[0] == 403  # other key
    assert _get(link + "../../../serve_secrets.json")[0] == 403
    status, page = _get(link)
    assert status == 200
    assert b'<meta name="canvass-send" content="results">' in page
    first = next(iter(served.cfg["stops"].values()))["people"][0]["id"]
    body = _csv(served, [("phone-test-0001", first, "NOT_HOME")])
    assert _post(f"{served.base}r/{served.route}/results", body)[0] == 403
    assert _post(served.link(key="y" * 22) + "results", body)[0] == 403
    assert _post(link, body)[0] == 403  # the page's address takes no POST
    assert _events(served.db) == []


def test_posted_results_go_into_the_database_once(
    served: Served, caplog: pytest.LogCaptureFixture, campaign: Campaign
) -> None:
    people = [p for s in served.cfg["stops"].values() for p in s["people"]]
    rows = [
        (f"phone-test-{i:04d}", p["id"], code)
        for i, (p, code) in enumerate(
            zip(people[:3], ("NOT_HOME", "REFUSED", "MOVED"), strict=True)
        )
    ]
    bad = ("phone-test-0099", "no-such-voter", "NOT_HOME")
    caplog.set_level(logging.DEBUG, logger="canvass")
    status, counts = _post(served.link() + "results", _csv(served, [*rows, bad]))
    assert status == 200, counts
    assert (counts["rows"], counts["imported"], counts["rejected"]) == (4, 3, 1)
    got = _events(served.db)
    assert [(e, v, r) for e, v, _, r, _ in got] == sorted(rows)
    assert {g[2] for g in got} == {served.route}
    assert {g[4] for g in got} == {"phone"}
    status, counts = _post(served.link() + "results", _csv(served, rows))
    assert (status, counts["imported"], counts["already"]) == (200, 0, 3)
    assert len(_events(served.db)) == 3
    # what the laptop received is kept (0600), with the rejects
    kept = sorted(served.inbox.glob("*.csv"))
    assert len(kept) == 3  # two posts and one rejects file
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in kept)
    # results of another route, or a file that is no phone CSV: 400, nothing stored
    other = next(r for r in served.keys if r != served.route)
    status, err = _post(served.link() + "results", _csv(served, rows[:1], other))
    assert status == 400
    assert "another route" in err["error"]
    status, err = _post(served.link() + "results", "a,b\n1,2\n")
    assert status == 400
    assert "not a phone results CSV" in err["error"]
    assert len(_events(served.db)) == 3
    # the log names routes and counts, never people or keys
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert served.route in log
    voters = campaign.plan.voters
    names = set(voters[schema.FIRST_NAME].dropna()) | set(
        voters[schema.LAST_NAME].dropna()
    )
    assert not {w.strip(".,:()") for w in log.split()} & {str(n) for n in names}
    assert not any(k in log for k in served.keys.values())
    assert not any(p["id"] in log for p in people)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.mark.browser
def test_the_served_page_sends_its_results_and_falls_back_to_the_csv(
    browser: Any, served: Served, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(served.base) else r.abort(),
    )
    page.goto(served.link(), wait_until="load")
    assert page.is_visible("#rec-send")
    people = [p["id"] for s in served.cfg["stops"].values() for p in s["people"]]
    tap(page, people[0], "NOT_HOME")
    tap(page, people[1], "COME_BACK")
    # the not-home goes by itself shortly after the tap; a "come back" waits for
    # its time ("Come back when?"), then goes with it
    page.wait_for_function(
        "() => document.getElementById('unsent').dataset.unsent === '1'", timeout=15000
    )
    answer(page, people[1], "@come_back", "weekday_evening")
    page.wait_for_function(
        "() => document.getElementById('unsent').dataset.unsent === '0'", timeout=15000
    )
    assert "Sent 1 to the laptop" in page.inner_text("#rec-status")
    got = {(v, r) for _, v, _, r, _ in _events(served.db)}
    assert got == {(people[0], "NOT_HOME"), (people[1], "COME_BACK")}
    with sqlite3.connect(served.db) as conn:
        when = conn.execute(
            "SELECT come_back FROM events WHERE voter_id = ?", (people[1],)
        ).fetchone()
    assert when == ("weekday_evening",)
    # a contact waits for its answers, then goes by itself with them
    tap(page, people[2], "CONTACTED")
    page.wait_for_timeout(3000)
    assert unsent(page) == 1
    answer(page, people[2], "support_1_5", "1")
    answer(page, people[2], "will_volunteer", "N")
    answer(page, people[2], "needs_ride", "Y")
    page.wait_for_function(
        "() => document.getElementById('unsent').dataset.unsent === '0'", timeout=15000
    )
    with sqlite3.connect(served.db) as conn:
        (answers,) = conn.execute(
            "SELECT answers FROM events WHERE voter_id = ?", (people[2],)
        ).fetchone()
    assert json.loads(answers) == {
        "support_1_5": "1",
        "will_volunteer": "N",
        "needs_ride": "Y",
    }
    # the laptop goes away: the result stays unsent and the CSV still works
    context.set_offline(True)
    tap(page, people[3], "REFUSED")
    page.click("#rec-send")
    page.wait_for_function(
        "() => /not reachable/.test(document.getElementById('rec-status').textContent)"
    )
    assert unsent(page) == 1
    with page.expect_download() as info:
        page.click("#rec-share")
    path = tmp_path / "phone.csv"
    info.value.save_as(str(path))
    text = path.read_text()
    assert text.count("\n") == 5  # header and all four results
    assert len(_events(served.db)) == 3
    context.close()
    assert errors == []


def test_the_server_listens_on_the_local_network_only() -> None:
    assert check_host("192.168.1.20") == "192.168.1.20"
    assert check_host("10.0.0.5") == "10.0.0.5"
    assert check_host("127.0.0.1") == "127.0.0.1"
    assert check_host("0.0.0.0") == "0.0.0.0"
    for public in ("8.8.8.8", "2001:4860:4860::8888", "laptop.example.org"):
        with pytest.raises(ConfigError):
            check_host(public)


def _toml(tmp_path: Path, db: str, extra: str = "") -> Path:
    toml = tmp_path / "canvass.toml"
    toml.write_text(
        f'[campaign]\ndb = "{db}"\nstart = "2020-01-01"\n{extra}'
        'survey = ["support_1_5", "will_volunteer", "needs_ride"]\n'
    )
    return toml


def test_the_serve_command_prints_links_and_serves_them(
    campaign: Campaign, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    run = tmp_path / "maps" / "run"
    shutil.copytree(campaign.out / "routes", run / "routes")
    toml = _toml(tmp_path, campaign.copy(tmp_path).campaign.db)
    args = [sys.executable, "-m", "canvass", "serve", "--config", str(toml),
            "--run", str(run), "--host", "127.0.0.1", "--port", "0"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        links: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("Links and QR codes:"):
                break
            route, link = line.rstrip("\n").split("\t")
            links[route] = link
        keys = json.loads((run / outputs.SECRETS_FILE).read_text())
        assert sorted(links) == sorted(keys)
        for route, link in links.items():
            assert link.startswith("http://127.0.0.1:")
            assert link.endswith(f"/r/{route}/{keys[route]}/")
        status, page = _get(next(iter(links.values())))
        assert status == 200
        assert b'content="results"' in page
        sheet = run / outputs.LINK_SHEET
        assert sheet.stat().st_mode & 0o777 == 0o600
        assert all(link in sheet.read_text() for link in links.values())
        assert sheet.read_text().count("<svg") == len(links)
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_serve_command_refuses_a_public_address(
    campaign: Campaign, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from canvass.cli import cli

    run = tmp_path / "maps" / "run"
    shutil.copytree(campaign.out / "routes", run / "routes")
    toml = _toml(tmp_path, campaign.copy(tmp_path).campaign.db)
    args = ["serve", "--config", str(toml), "--run", str(run), "--host", "8.8.8.8"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "public address" in result.output


def test_a_failing_import_is_a_500_and_the_file_is_kept(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from canvass.results import _import

    def boom(*args: Any, **kwargs: Any) -> Any:
        msg = "database is locked (row 7: voter 123)"
        raise RuntimeError(msg)

    monkeypatch.setattr(_import, "import_results", boom)
    first = next(iter(served.cfg["stops"].values()))["people"][0]["id"]
    status, err = _post(
        served.link() + "results", _csv(served, [("phone-test-0500", first, "NH")])
    )
    assert status == 500
    assert err == {"error": "RuntimeError"}
    assert len(list(served.inbox.glob("*.csv"))) == 1
    assert "voter 123" not in caplog.text
    assert _events(served.db) == []
