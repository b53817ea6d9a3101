"""``canvass serve``: a run's route pages on the organiser's laptop, results by POST.

The server (the standard library's :class:`~http.server.ThreadingHTTPServer`) answers
two kinds of request and refuses everything else with 403:

``GET /r/<route>/<key>/``
    The route's page (``routes/<route>.html`` of the run folder), told where to send
    its results.
``POST /r/<route>/<key>/results``
    The page's results as a phone CSV (docs/results.md). The body is stored next to
    the config (``phone_results/<run folder>/<route>-<time>-<n>.csv``, mode 0600;
    not in the run folder, which the next run replaces) and imported
    into the campaign database by :func:`~canvass.results.import_results`, the same
    path as ``canvass results import`` (checks, rejects, event ids): results the
    laptop has stored are never lost, even when rejected. The answer is JSON with
    the counts.

``<key>`` is the route's secret (:mod:`canvass.outputs` keeps them in the run
folder's ``serve_secrets.json``), compared in constant time. Requests from outside
the private address ranges are refused; the log names routes and counts, never
people, addresses or keys.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import json
import logging
import os
import re
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from ..config import PlanConfig
from ..errors import CanvassError, ConfigError, InputError
from ._formats import PHONE_REQUIRED

__all__ = ["MAX_BODY", "RouteServer", "local_address", "make_server"]

logger = logging.getLogger(__name__)

#: The largest POST body taken (a route's results are a few kB).
MAX_BODY: Final = 2_000_000
_PATH = re.compile(r"^/r/([^/]+)/([A-Za-z0-9_-]{16,100})/(results)?$")
_SEND_META: Final = b'<meta name="canvass-send" content="">'
_SEND_HERE: Final = b'<meta name="canvass-send" content="results">'


def _private(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_private or ip.is_loopback or ip.is_link_local


def local_address() -> str:
    """
    Return this machine's address on its local network (where phones reach it).

    Asks the routing table which address would be used to reach a private-range
    address (no packet is sent).

    Raises
    ------
    ConfigError
        If the machine has no private (local-network) address.
    """
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((probe, 9))
                host = str(s.getsockname()[0])
            except OSError:
                continue
        if _private(host) and not ipaddress.ip_address(host).is_loopback:
            return host
    msg = (
        "canvass serve: this machine has no local-network (private) address; join "
        "the phones' Wi-Fi or hotspot, or give --host (e.g. --host 127.0.0.1)."
    )
    raise ConfigError(msg)


def check_host(host: str) -> str:
    """Return `host` if the server may listen there, else raise :class:`ConfigError`."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        msg = f"--host must be an IP address of this machine, got {host!r}."
        raise ConfigError(msg) from None
    if ip.is_unspecified:
        logger.warning(
            "Listening on every network interface (%s): only with a firewall that "
            "keeps the internet out; requests from public addresses are refused.",
            host,
        )
        return host
    if not _private(host):
        msg = (
            f"--host {host} is a public address: canvass serve listens on the local "
            "network only (10.x, 172.16-31.x, 192.168.x, link-local or loopback)."
        )
        raise ConfigError(msg)
    return host


@dataclass
class RouteServer:
    """
    What the request handler needs: the run folder, the config and the route keys.

    Parameters
    ----------
    run_dir
        The run folder (``routes/<route>.html`` inside).
    config
        The configuration (``[campaign] db``, survey, dates).
    keys
        Route id -> secret key.
    pages
        Route id -> the page file.
    inbox
        Where the POSTed files are kept.
    lock
        Serialises the imports (one database transaction at a time).
    """

    run_dir: Path
    config: PlanConfig
    keys: dict[str, str]
    pages: dict[str, Path]
    inbox: Path
    lock: threading.Lock
    counter: int = 0

    def route_for(self, route: str, key: str) -> str | None:
        """Return the route when `key` is its secret (constant-time), else None."""
        stored = self.keys.get(route)
        if stored is None:
            hmac.compare_digest(key, key)  # same work for unknown routes
            return None
        return route if hmac.compare_digest(stored.encode(), key.encode()) else None

    def store(self, route: str, body: bytes) -> dict[str, Any]:
        """Store a POSTed phone CSV in the run folder and import it; return counts."""
        from ._import import import_results

        text = body.decode("utf-8-sig")
        head = text.split("\n", 1)[0].strip().lower().split(",")
        if missing := [c for c in PHONE_REQUIRED if c not in head]:
            msg = f"not a phone results CSV: no column(s) {missing}"
            raise InputError(msg)
        folder = self.inbox
        with self.lock:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.counter += 1
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            stem = re.sub(r"[^A-Za-z0-9_-]", "_", route)[:60]
            path = folder / f"{stem}-{stamp}-{os.getpid()}-{self.counter}.csv"
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            rows = _route_rows(text)
            if rows - {route, ""}:
                path.unlink()
                msg = "the file holds results of another route"
                raise InputError(msg)
            report = import_results(
                [path],
                self.config,
                rejects_path=path.with_name(path.stem + ".rejects.csv"),
            )
        counts = report.totals
        if not counts["rejected"] and report.rejects_path is not None:
            report.rejects_path.unlink(missing_ok=True)
        return {**counts, "file": path.name}


def _route_rows(text: str) -> set[str]:
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    names = {(n or "").strip().lower(): n for n in reader.fieldnames or []}
    if "route_id" not in names:
        return set()
    return {(row.get(names["route_id"]) or "").strip() for row in reader}


class _Handler(BaseHTTPRequestHandler):
    server_version = "canvass"
    sys_version = ""
    timeout = 30
    app: RouteServer  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing by default: the request line holds the route's key."""

    def _reply(
        self, status: HTTPStatus, body: bytes, kind: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: HTTPStatus, data: dict[str, Any]) -> None:
        self._reply(status, json.dumps(data).encode())

    def _route(self, *, post: bool) -> str | None:
        """Return the route the request is for, or None after refusing it."""
        if not _private(self.client_address[0]):
            self._json(HTTPStatus.FORBIDDEN, {"error": "local network only"})
            return None
        m = _PATH.match(urlsplit(self.path).path)
        route = (
            self.app.route_for(unquote(m.group(1)), m.group(2))
            if m and bool(m.group(3)) == post
            else None
        )
        if route is None:
            logger.info("serve: refused a %s request (no or wrong key)", self.command)
            refused = {"error": "forbidden: open your route's link"}
            self._json(HTTPStatus.FORBIDDEN, refused)
        return route

    def do_GET(self) -> None:
        """Serve a route page (with its key)."""
        route = self._route(post=False)
        if route is None:
            return
        page = self.app.pages[route].read_bytes()
        page = page.replace(_SEND_META, _SEND_HERE, 1)
        logger.info("serve: route %s page opened", route)
        self._reply(HTTPStatus.OK, page, "text/html; charset=utf-8")

    def do_HEAD(self) -> None:
        """Answer as GET does, without the body."""
        self.do_GET()

    def do_POST(self) -> None:
        """Take a route's results (a phone CSV) into the campaign database."""
        route = self._route(post=True)
        if route is None:
            return
        try:
            size = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length needed"})
            return
        if not 0 < size <= MAX_BODY:
            too_big = {"error": f"empty, or more than {MAX_BODY:,} bytes"}
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_big)
            return
        body = self.rfile.read(size)
        try:
            counts = self.app.store(route, body)
        except (CanvassError, UnicodeDecodeError) as err:
            logger.warning("serve: route %s: results not taken: %s", route, _short(err))
            self._json(HTTPStatus.BAD_REQUEST, {"error": _short(err)})
            return
        except Exception as err:
            # no traceback: it could quote rows; the phone keeps the results unsent
            kind = type(err).__name__
            logger.error("serve: route %s: results not taken (%s)", route, kind)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": kind})
            return
        logger.info(
            "serve: route %s: %s rows, %s imported, %s already, %s rejected",
            route, counts["rows"], counts["imported"], counts["already"],
            counts["rejected"],
        )  # fmt: skip
        self._json(HTTPStatus.OK, counts)


def _short(err: BaseException) -> str:
    """Return an error's first line without the laptop's paths (for phone and log)."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return re.sub(r"(/[^\s:]+)+/", "", text)[:300]


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(
    run_dir: Path,
    config: PlanConfig,
    keys: dict[str, str],
    host: str,
    port: int,
) -> ThreadingHTTPServer:
    """
    Make (bind, not start) the server for a run folder.

    Parameters
    ----------
    run_dir
        The run folder written by ``canvass run``.
    config
        The configuration; ``[campaign] db`` must be set.
    keys
        Route id -> secret key (:func:`canvass.outputs.route_secrets`).
    host, port
        Where to listen (:func:`check_host` is applied); port 0 picks a free one.

    Returns
    -------
    server
        Call ``serve_forever()`` (and ``shutdown()`` from another thread).

    Raises
    ------
    ConfigError
        If there is no campaign database or `host` is not a local-network address.
    InputError
        If a route's page is missing from the run folder.
    """
    if not config.campaign.db:
        msg = (
            "canvass serve takes results into the campaign database: set "
            "[campaign] db in the config (docs/results.md)."
        )
        raise ConfigError(msg)
    from ..outputs import safe_name

    pages = {r: Path(run_dir) / "routes" / f"{safe_name(r)}.html" for r in keys}
    if missing := [r for r, p in pages.items() if not p.is_file()]:
        msg = f"{run_dir}: no page for route(s) {missing[:5]}; give a run folder."
        raise InputError(msg)
    inbox = config.resolve("phone_results") / Path(run_dir).resolve().name
    app = RouteServer(Path(run_dir), config, dict(keys), pages, inbox, threading.Lock())
    handler = type("Handler", (_Handler,), {"app": app})
    cls = _Server6 if ":" in check_host(host) else _Server
    return cls((host, port), handler)
