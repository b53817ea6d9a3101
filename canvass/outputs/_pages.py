"""Stage 6b (part): volunteer route pages and the run's ``index.html``.

A route page (``routes/<route_id>.html``) is what a volunteer opens on a phone: a
mobile-first page with the route drawn along the streets, a start marker and numbered
stops on a Leaflet map, then the doors in walking order with the targeted voters at
each (named per ``output.door_names``: by default first name and last initial) and
links that open the stop in the phone's map app. It carries that volunteer's doors
only. With ``output.offline_pages`` Leaflet's script and styles are inlined from the
vendored copy in ``canvass/outputs/static`` (map tiles still need a connection; the
route and stops draw without them). With ``output.redact`` stops are street blocks
with counts.

``index.html`` links every output of the run and shows its summary.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import jinja2
import numpy as np
import pandas as pd

from .. import schema
from ._gpx import route_lonlat, to_wgs84
from ._recorder import recorder_config, recorder_script
from ._table import (
    blank,
    block_table,
    door_name,
    safe_name,
    volunteer_label,
    walk_list_table,
)

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "STATIC",
    "route_page_data",
    "write_index",
    "write_route_pages",
]

logger = logging.getLogger(__name__)

#: The Leaflet build folium 0.20 uses; ``canvass/static`` vendors the same version.
LEAFLET_JS_URL: Final = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS_URL: Final = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
STATIC: Final = Path(__file__).parent / "static"
TEMPLATES: Final = Path(__file__).parent / "templates"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _inline_leaflet() -> tuple[str, str]:
    """Return Leaflet's (css, js) for inlining, with its images as data URIs."""
    css = (STATIC / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png", "marker-icon.png"):
        data = base64.b64encode((STATIC / name).read_bytes()).decode()
        css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    js = (STATIC / "leaflet.js").read_text(encoding="utf-8")
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "").replace(
        "</script", "<\\/script"
    )
    return css, js


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace(
        "</", "<\\/"
    )


def _to_lat_lon(
    plan: Plan, xs: Sequence[float], ys: Sequence[float]
) -> list[list[float]]:
    lon, lat = to_wgs84(plan.doors.crs).transform(np.asarray(xs), np.asarray(ys))
    return [
        [round(float(y), 6), round(float(x), 6)]
        for x, y in zip(np.atleast_1d(lon), np.atleast_1d(lat), strict=True)
    ]


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _map_links(lat: float, lon: float, label: str) -> dict[str, str]:
    return {
        "geo": f"geo:{lat},{lon}?q={lat},{lon}({quote(label)})",
        "web": (
            "https://www.google.com/maps/dir/?api=1&travelmode=walking"
            f"&destination={lat},{lon}"
        ),
    }


@dataclass(frozen=True)
class _Doors:
    """Per-door lookups built once per run (pandas row access is slow per stop)."""

    voters: dict[str, list[dict[Any, Any]]]
    info: dict[str, tuple[str, str]]
    latlon: dict[str, list[float]]


def _door_lookups(plan: Plan, table: pd.DataFrame) -> _Doors:
    voters: dict[str, list[dict[Any, Any]]] = {}
    for r in table[table[schema.VOTER_ID].notna()].to_dict("records"):
        voters.setdefault(str(r[schema.DOOR_ID]), []).append(r)
    doors = plan.doors.loc[plan.doors.index.isin(plan.stops[schema.DOOR_ID])]
    number = (
        doors[schema.STREET_NUMBER].astype("string").fillna("")
        if schema.STREET_NUMBER in doors.columns
        else pd.Series("", index=doors.index)
    )
    info = {
        str(d): (str(a), str(n))
        for d, a, n in zip(doors.index, doors[schema.ADDRESS], number, strict=True)
    }
    pos = _to_lat_lon(plan, doors.geometry.x.tolist(), doors.geometry.y.tolist())
    return _Doors(voters, info, dict(zip(map(str, doors.index), pos, strict=True)))


def _side(number: str) -> str:
    digits = "".join(ch for ch in number.split("-")[0] if ch.isdigit())
    if not number[:1].isdigit() or not digits:
        return ""
    return "odd side" if int(digits) % 2 else "even side"


def _door_stop(n: int, door_id: str, lookups: _Doors, mode: str) -> dict[str, Any]:
    lat, lon = lookups.latlon[door_id]
    address, number = lookups.info[door_id]
    listed = lookups.voters.get(door_id, [])
    targets = [r for r in listed if r[schema.IS_TARGET]]
    people = [
        {
            "name": door_name(t[schema.FIRST_NAME], t[schema.LAST_NAME], mode),
            "unit": "" if blank(t.get(schema.UNIT)) else str(t[schema.UNIT]),
        }
        for t in targets
    ]
    voters = [
        {
            "id": str(t[schema.VOTER_ID]),
            "label": p["name"] if mode != "none" else f"Voter {i}",
            "unit": p["unit"],
        }
        for i, (t, p) in enumerate(zip(targets, people, strict=True), start=1)
    ]
    others = len(listed) - len(targets)
    notes = []
    if mode == "none" or not people:
        notes.append(f"Ask for the {_plural(len(targets), 'voter')} on your list")
    if others:
        verb = "lives" if others == 1 else "live"
        notes.append(f"{_plural(others, 'other voter')} {verb} here")
    return {
        "n": n,
        "lat": lat,
        "lon": lon,
        "title": address,
        "side": _side(number),
        "detail": " · ".join(notes),
        "people": people if mode != "none" else [],
        "door_id": door_id,
        "voters": voters,
        "links": _map_links(lat, lon, f"Stop {n}"),
    }


def _drive_back(plan: Plan, route_id: str) -> int:
    """Minutes driven after a route's last door (back from a car leg), 0 if none."""
    route = plan.routes.loc[route_id]
    if schema.DRIVE_S not in plan.routes.columns or schema.DRIVE_S not in plan.stops:
        return 0
    mine = plan.stops[plan.stops[schema.ROUTE_ID] == route_id]
    back = float(route[schema.DRIVE_S]) - float(mine[schema.DRIVE_S].fillna(0).sum())
    return max(1, round(back / 60)) if back > 30 else 0


def route_page_data(
    plan: Plan, route_id: str, table: Any = None, *, lookups: _Doors | None = None
) -> dict[str, Any]:
    """
    Collect what one route page shows: the path, the start and the stops.

    Parameters
    ----------
    plan
        A finished plan.
    route_id
        The route.
    table
        The plan's :func:`~canvass.outputs.walk_list_table`, or with
        ``output.redact`` its :func:`~canvass.outputs.block_table` (computed
        when None).
    lookups
        Per-door lookups shared by all routes of a run (built when None).

    Returns
    -------
    data
        JSON-ready: ``route`` (counts), ``path`` and ``start`` as [lat, lon], and
        ``stops`` (number, position, address, the targeted voters' display names,
        map-app links; unless redacted also the door id and ``voters``: the
        targeted voters' ids with the label the results recorder shows).
    """
    out = plan.config.output
    route = plan.routes.loc[route_id]
    path = [[lat, lon] for lon, lat in route_lonlat(plan, route_id)]
    stops: list[dict[str, Any]] = []
    if out.redact:
        blocks = block_table(plan) if table is None else table
        blocks = blocks[blocks[schema.ROUTE_ID] == route_id]
        pos = _to_lat_lon(plan, blocks["x"].tolist(), blocks["y"].tolist())
        for (lat, lon), r in zip(pos, blocks.to_dict("records"), strict=True):
            n = int(r[schema.STOP])
            stops.append(
                {
                    "n": n,
                    "lat": lat,
                    "lon": lon,
                    "title": str(r["block"]),
                    "detail": f"{_plural(int(r['doors']), 'door')}, "
                    f"{_plural(int(r['targets']), 'targeted voter')}",
                    "people": [],
                    "links": _map_links(lat, lon, f"Block {n}"),
                }
            )
    else:
        if lookups is None:
            table = walk_list_table(plan) if table is None else table
            lookups = _door_lookups(plan, table)
        mine = plan.stops[plan.stops[schema.ROUTE_ID] == route_id].sort_values(
            schema.STOP, kind="stable"
        )
        drives = (
            mine[schema.DRIVE_S].fillna(0).to_numpy()
            if schema.DRIVE_S in mine.columns
            else np.zeros(len(mine))
        )
        stops = [
            _door_stop(int(n), str(d), lookups, out.door_names)
            | {"drive": max(1, round(float(t) / 60)) if t > 0 else 0}
            for n, d, t in zip(
                mine[schema.STOP], mine[schema.DOOR_ID], drives, strict=True
            )
        ]
    start = path[0] if path else ([stops[0]["lat"], stops[0]["lon"]] if stops else None)
    return {
        "route": {
            "id": str(route_id),
            "turf": str(route[schema.TURF_ID]),
            "volunteer": volunteer_label(route[schema.VOLUNTEER]),
            "doors": int(route[schema.N_DOORS]) if out.redact else len(stops),
            "blocks": len(stops) if out.redact else None,
            "minutes": round(float(route[schema.TOTAL_S]) / 60),
            "km": round(float(route[schema.WALK_M]) / 1000, 1),
            "drive_back": _drive_back(plan, route_id),
        },
        "path": path,
        "start": start,
        "stops": stops,
    }


def write_route_pages(plan: Plan, out_dir: Path) -> list[Path]:
    """
    Write one mobile page per volunteer route to ``out_dir/routes/<route_id>.html``.

    Parameters
    ----------
    plan
        A finished plan.
    out_dir
        The run folder.

    Returns
    -------
    paths
        The pages written, in route-id order.
    """
    out = plan.config.output
    folder = Path(out_dir) / "routes"
    folder.mkdir(parents=True, exist_ok=True)
    template = _env().get_template("route_page.html")
    css, js = _inline_leaflet() if out.offline_pages else ("", "")
    table = block_table(plan) if out.redact else walk_list_table(plan)
    lookups = None if out.redact else _door_lookups(plan, table)
    paths = []
    for route_id in sorted(str(r) for r in plan.routes.index):
        data = route_page_data(plan, route_id, table, lookups=lookups)
        recorder = None if out.redact else recorder_config(plan, data)
        page = template.render(
            data=data,
            data_json=_json(
                {
                    "path": data["path"],
                    "start": data["start"],
                    # the map needs positions only; names stay in the list
                    "stops": [
                        {k: s[k] for k in ("n", "lat", "lon")} for s in data["stops"]
                    ],
                }
            ),
            offline=out.offline_pages,
            leaflet_css=css,
            leaflet_js=js,
            leaflet_css_url=LEAFLET_CSS_URL,
            leaflet_js_url=LEAFLET_JS_URL,
            redact=out.redact,
            date=out.date,
            script=out.script,
            run_name=plan.config.run_name,
            recorder_json=_json(recorder) if recorder else "",
            recorder_js=recorder_script() if recorder else "",
        )
        path = folder / f"{safe_name(route_id)}.html"
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    logger.info(
        "Wrote %s volunteer route pages%s",
        f"{len(paths):,}",
        " (offline, Leaflet inlined)" if out.offline_pages else "",
    )
    return paths


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def write_index(
    plan: Plan,
    out_dir: Path,
    files: Mapping[str, Sequence[Path]],
    summary: Mapping[str, Any],
) -> Path:
    """
    Write ``out_dir/index.html``: the run summary and a link to every output.

    Parameters
    ----------
    plan
        A finished plan.
    out_dir
        The run folder.
    files
        Written files by kind (paths inside `out_dir`), as collected by
        :func:`canvass.outputs.write_plan`.
    summary
        The run summary (``summary.json``'s content).

    Returns
    -------
    path
        The file written.
    """
    root = Path(out_dir)
    rel = {kind: sorted(_rel(p, root) for p in paths) for kind, paths in files.items()}
    present = {p for paths in rel.values() for p in paths}
    routes = []
    for route_id, r in plan.routes.sort_index().iterrows():
        stem = safe_name(str(route_id))
        turf = safe_name(str(r[schema.TURF_ID]))
        links = {
            "page": f"routes/{stem}.html",
            "pdf": f"walklists/{stem}.pdf",
            "gpx": f"gpx/{stem}.gpx",
            "csv": f"walklists/{turf}.csv",
        }
        routes.append(
            {
                "id": str(route_id),
                "turf": str(r[schema.TURF_ID]),
                "volunteer": volunteer_label(r[schema.VOLUNTEER]),
                "doors": int(r[schema.N_DOORS]),
                "targets": int(r[schema.N_TARGETS]) if schema.N_TARGETS in r else None,
                "minutes": round(float(r[schema.TOTAL_S]) / 60),
                "km": round(float(r[schema.WALK_M]) / 1000, 1),
                "links": {k: v for k, v in links.items() if v in present},
            }
        )
    left = summary.get("doors_left_out", [])
    reasons: dict[str, int] = {}
    for row in left if isinstance(left, list) else []:
        reasons[str(row.get("reason"))] = reasons.get(str(row.get("reason")), 0) + 1
    counts = [
        (label, summary.get(key))
        for key, label in (
            ("voters", "Voters"),
            ("targets", "Targets"),
            ("doors", "Target doors"),
            ("doors_routed", "Doors routed"),
            ("turfs", "Turfs"),
            ("volunteers", "Volunteer routes"),
            ("expected_extra_votes", "Expected extra votes"),
            ("walk_km", "Walking (km)"),
        )
        if key in summary
    ]
    counts.append(("Doors left out", len(left) if isinstance(left, list) else left))
    backtest: list[tuple[str, dict[str, Any]]] = []
    scores: list[str] = []
    for kind, row in sorted(dict(summary.get("backtest") or {}).items()):
        row = row if isinstance(row, Mapping) else {"auc": row}
        backtest.append((str(kind), dict(row)))
        scores += [str(s) for s in row if str(s) not in scores]
    other = {
        kind: paths
        for kind, paths in rel.items()
        if kind not in ("pages", "index") and kind != "maps"
    }
    page = (
        _env()
        .get_template("index.html")
        .render(
            run_name=plan.config.run_name,
            summary=summary,
            counts=counts,
            reasons=sorted(reasons.items()),
            routes=routes,
            maps=rel.get("maps", []),
            other=sorted(other.items()),
            date=plan.config.output.date,
            redact=plan.config.output.redact,
            target_election=str(summary.get("target_election", "")).replace("_", " "),
            universe=str(summary.get("universe", "")).replace("_", " "),
            backtest=backtest,
            backtest_scores=scores,
            backtest_pages=[
                p for p in present if "backtest" in p and p.endswith(".html")
            ],
        )
    )
    path = root / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
