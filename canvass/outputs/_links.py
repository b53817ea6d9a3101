"""Per-route secret keys and the links that carry them (``canvass serve``).

A run folder served by ``canvass serve`` gives every route a secret key: its page is
``<base>r/<route>/<key>/`` and its results go back by POST to that address plus
``results``. The keys are kept in ``serve_secrets.json`` in the run folder (mode
0600, readable by the organiser only), so links printed on walk lists and QR codes
keep working when the server restarts. A new run (a new run folder) gets new keys.
"""

from __future__ import annotations

import html
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Final
from urllib.parse import quote

from ..errors import InputError

__all__ = [
    "LINK_SHEET",
    "SECRETS_FILE",
    "route_ids",
    "route_secrets",
    "served_link",
    "write_link_sheet",
]

SECRETS_FILE: Final = "serve_secrets.json"
LINK_SHEET: Final = "serve_links.html"
#: Bytes of randomness in a key (128 bits; 22 URL-safe characters).
_KEY_BYTES: Final = 16


def served_link(base_url: str, route_id: str, key: str) -> str:
    """Return a route's page on ``canvass serve``: ``<base>r/<route>/<key>/``."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return f"{base}r/{quote(route_id, safe='')}/{key}/"


def _read(path: Path) -> dict[str, str]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"{path}: cannot read the route keys ({err}); delete it to make new ones."
        raise InputError(msg) from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) >= 16
        for k, v in raw.items()
    ):
        msg = f"{path}: not a file of route keys; delete it to make new ones."
        raise InputError(msg)
    return dict(raw)


def route_secrets(run_dir: Path, route_ids: Iterable[str]) -> dict[str, str]:
    """
    Return the secret key of every route, making and storing the missing ones.

    Parameters
    ----------
    run_dir
        The run folder; the keys are in its ``serve_secrets.json`` (mode 0600).
    route_ids
        The run's routes.

    Returns
    -------
    keys
        Route id -> key, for the routes asked for.

    Raises
    ------
    InputError
        If the keys file exists but cannot be read.
    """
    path = Path(run_dir) / SECRETS_FILE
    stored = _read(path) if path.exists() else {}
    wanted = [str(r) for r in route_ids]
    missing = [r for r in wanted if r not in stored]
    if missing:
        for route_id in missing:
            stored[route_id] = secrets.token_urlsafe(_KEY_BYTES)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(sorted(stored.items())), fh, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    return {r: stored[r] for r in wanted}


def route_ids(run_dir: Path) -> list[str]:
    """
    Return the routes of a run folder: those with keys, else the route pages' names.

    Raises
    ------
    InputError
        If the folder has no route pages.
    """
    run_dir = Path(run_dir)
    pages = sorted(p.stem for p in (run_dir / "routes").glob("*.html"))
    if not pages:
        msg = (
            f"{run_dir}: no route pages (routes/*.html); give the folder "
            "`canvass run` wrote (--run maps/<run_name>)."
        )
        raise InputError(msg)
    path = run_dir / SECRETS_FILE
    return sorted(_read(path)) if path.exists() else pages


def write_link_sheet(run_dir: Path, links: dict[str, str]) -> Path:
    """
    Write ``serve_links.html`` in the run folder: each route's link and QR code.

    The sheet (mode 0600: the links carry the keys) is for the organiser to show
    or print when the walk lists' QR codes do not hold the served links.

    Returns
    -------
    path
        The file written.
    """
    import segno

    parts = []
    for route_id, link in sorted(links.items()):
        svg = segno.make(link, error="m").svg_inline(scale=4, border=2)
        parts.append(
            f"<section><h2>Route {html.escape(route_id)}</h2>{svg}"
            f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p></section>'
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        "<title>canvass serve: route links</title><style>"
        "body{font:16px system-ui,sans-serif;margin:16px}"
        "section{display:inline-block;width:300px;margin:8px;vertical-align:top;"
        "break-inside:avoid}p{word-break:break-all;font-size:12px}</style></head>"
        "<body><h1>Route links (scan with the volunteer's phone)</h1>"
        "<p>Each link carries its route's secret key: give it to that route's "
        "volunteer only.</p>" + "".join(parts) + "</body></html>\n"
    )
    path = Path(run_dir) / LINK_SHEET
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path
