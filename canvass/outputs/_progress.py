"""The field director's progress map (``progress.html``) and its CSVs.

Drawn like the turf map (folium, Leaflet only, always inlined: it opens without a
connection except for the background tiles): turfs coloured
by the share of their doors knocked, precincts by people contacted, flagged doors as
markers, and a panel with the run's totals, each volunteer's contact rate and the
quality flags. ``progress.csv`` and ``progress_flags.csv`` hold the same numbers for
a spreadsheet. The counts come from :func:`canvass.results.run_progress`; this module
only draws them. Voters' names never appear; volunteers' names do (the director's
page).
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import folium
import geopandas as gpd
import pandas as pd

from ._maps import (
    _bins,
    _classes,
    _geojson,
    _layer_js,
    _LeanMap,
    _legend_html,
    _lonlat,
    _ScriptLayer,
    deterministic_ids,
    inline_assets,
)
from ._pages import _env

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["progress_map", "write_progress"]

logger = logging.getLogger(__name__)

KNOCKED_COLOURS: Final = ("#f7fcf5", "#c7e9c0", "#74c476", "#31a354", "#006d2c")
_SHOWN_FLAGS: Final = 60
_PER_DOOR: Final = 5


def _e(value: Any) -> str:
    return html.escape(str(value))


def _rate(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.0%}"


def _tip(title: str, r: pd.Series) -> str:
    return (
        f"<b>{_e(title)}</b><br>{int(r['doors_knocked'])} of {int(r['doors'])} doors "
        f"knocked · {int(r['knocks'])} knocks<br>{int(r['people_contacted'])} people "
        f"contacted · contact rate {_rate(r['contact_rate'])}<br>"
        f"{float(r['votes_banked']):.1f} expected extra votes banked, "
        f"{float(r['votes_left']):.1f} left"
        + (f"<br><b>{int(r['flags'])} flag(s)</b>" if int(r.get("flags", 0)) else "")
    )


def _panel(plan: Plan, progress: Any, legends: list[str]) -> str:
    t = progress.totals
    rows = [
        ("Doors knocked", f"{t['doors_knocked']:,} of {t['doors']:,}"),
        ("Knocks", f"{t['knocks']:,} ({t['attempts']:,} results)"),
        ("People contacted", f"{t['people_contacted']:,}"),
        ("Contact rate", _rate(t["contact_rate"])),
        ("Targets contacted", f"{t['targets_contacted']:,} of {t['targets']:,}"),
        ("Expected extra votes banked", f"{t['votes_banked']:,.1f}"),
        ("Expected extra votes left", f"{t['votes_left']:,.1f}"),
        ("Quality flags", f"{t['flags']:,}"),
    ]
    vols = progress.volunteers
    vol_rows = "".join(
        f"<tr><td>{_e(k)}</td><td>{int(r['routes'])}</td><td>{int(r['knocks'])}</td>"
        f"<td>{_rate(r['contact_rate'])}</td><td>{int(r['flags'])}</td></tr>"
        for k, r in vols.iterrows()
    )
    flags = progress.flags
    flag_rows = "".join(
        f"<tr><td>{_e(f['flag'])}</td><td>{_e(f['key'])}</td><td>{_e(f['date'])}</td>"
        f"<td>{_e(f['detail'])}</td></tr>"
        for _, f in flags.head(_SHOWN_FLAGS).iterrows()
    )
    more = (
        f"<p>… and {len(flags) - _SHOWN_FLAGS:,} more in progress_flags.csv</p>"
        if len(flags) > _SHOWN_FLAGS
        else ""
    )
    extra = (
        "<details><summary><b>Volunteers</b></summary><table><tr><th>volunteer</th>"
        "<th>routes</th><th>knocks</th><th>rate</th><th>flags</th></tr>"
        f"{vol_rows}</table></details>"
        "<details><summary><b>Quality flags</b> (nothing is deleted)</summary>"
        "<table><tr><th>flag</th><th>where</th><th>date</th><th>detail</th></tr>"
        f"{flag_rows}</table>{more}</details>"
    )
    panel = (
        _env()
        .get_template("director_panel.html")
        .render(
            title=f"{plan.config.run_name}: progress",
            redacted=False,
            rows=rows,
            legends=legends,
        )
    )
    style = (
        "<style>.cv-summary{max-width:420px;max-height:80vh;overflow:auto}"
        ".cv-summary td{vertical-align:top;padding-right:6px}</style>"
    )
    return style + panel.replace("</table></details>", f"</table>{extra}</details>", 1)


def progress_map(plan: Plan, progress: Any) -> folium.Map:
    """
    Build the progress map of a run.

    Parameters
    ----------
    plan
        The run's plan.
    progress
        :class:`canvass.results.Progress` of the run.

    Returns
    -------
    map
        A folium map.
    """
    turfs = plan.turfs
    precincts = plan.precincts
    bounds = gpd.GeoSeries(turfs.geometry, crs=turfs.crs).to_crs(4326).total_bounds
    m = _LeanMap(location=None, tiles=None, control_scale=True, prefer_canvas=False)
    folium.TileLayer("openstreetmap", name="OpenStreetMap", opacity=0.7).add_to(m)
    legends = []

    table = progress.precincts.reindex(precincts.index.astype(str))
    table = table.fillna({"doors": 0, "doors_knocked": 0, "knocks": 0,
                          "people_contacted": 0, "votes_banked": 0.0,
                          "votes_left": 0.0, "flags": 0})  # fmt: skip
    edges = _bins(table["people_contacted"])
    cls = _classes(table["people_contacted"], edges)
    props = pd.DataFrame(index=precincts.index)
    props["fill"] = [KNOCKED_COLOURS[min(int(c), 4)] for c in cls]
    props["tip"] = [
        _tip(f"Precinct {pid}", r)
        for pid, (_, r) in zip(precincts.index, table.iterrows(), strict=True)
    ]
    title = "People contacted per precinct"
    _ScriptLayer(
        title, _geojson(precincts, props, 5.0), _layer_js()["choropleth"], show=False
    ).add_to(m)
    legends.append(_legend_html(title, edges, KNOCKED_COLOURS))

    ttable = progress.turfs.reindex(turfs.index.astype(str))
    share = (
        ttable["doors_knocked"] / ttable["doors"].where(ttable["doors"] > 0)
    ).fillna(0.0) * 100
    edges = [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    cls = _classes(share, edges)
    tprops = pd.DataFrame(index=turfs.index)
    tprops["fill"] = [KNOCKED_COLOURS[min(int(c), 4)] for c in cls]
    tprops["tip"] = [
        _tip(f"Turf {t}", r)
        for t, (_, r) in zip(turfs.index, ttable.fillna(0).iterrows(), strict=True)
    ]
    title = "Doors knocked per turf (%)"
    _ScriptLayer(title, _geojson(turfs, tprops, 1.0), _layer_js()["choropleth"]).add_to(
        m
    )
    legends.append(_legend_html(title, edges, KNOCKED_COLOURS))

    flags = progress.flags
    by_door: dict[str, list[str]] = {}
    for f in flags.to_dict("records"):
        d = str(f["door_id"]).split(" ")[0]
        if d in plan.doors.index:
            by_door.setdefault(d, []).append(
                f"<b>{_e(f['flag'])}</b> {_e(f['date'])}: {_e(f['detail'])}"
            )
    if by_door:
        door_ids = list(by_door)
        lat, lon = _lonlat(plan.doors.loc[door_ids])

        def popup(d: str) -> str:
            lines = by_door[d][:_PER_DOOR]
            more = len(by_door[d]) - len(lines)
            tail = f"<br>… {more} more in progress_flags.csv" if more > 0 else ""
            return f"Door {_e(d)}<br>" + "<br>".join(lines) + tail

        points = [
            [float(la), float(lo), popup(d)]
            for la, lo, d in zip(lat, lon, door_ids, strict=True)
        ]
        _ScriptLayer("Flagged doors", points, _layer_js()["left"]).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    root: Any = m.get_root()
    root.html.add_child(folium.Element(_panel(plan, progress, legends)))
    head = html.escape(f"{plan.config.run_name}: progress")
    root.header.add_child(folium.Element(f"<title>{head}</title>"))
    return m


def write_progress(plan: Plan, progress: Any, out_dir: Path) -> list[Path]:
    """
    Write ``progress.html``, ``progress.csv`` and ``progress_flags.csv``.

    Parameters
    ----------
    plan
        The run's plan.
    progress
        :class:`canvass.results.Progress` of the run.
    out_dir
        The run folder.

    Returns
    -------
    paths
        The files written (mode 0600).
    """
    import os

    out_dir = Path(out_dir)
    # always inlined: the director opens it from the laptop, maybe with no network
    page = inline_assets(
        deterministic_ids(progress_map(plan, progress).get_root().render())
    )
    written = []

    def write(name: str, text: str) -> None:
        path = out_dir / name
        tmp = out_dir / f".{name}.partial"
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        tmp.replace(path)
        written.append(path)

    write("progress.html", page)
    write("progress.csv", progress.table().to_csv(index=False, lineterminator="\n"))
    write("progress_flags.csv", progress.flags.to_csv(index=False, lineterminator="\n"))
    logger.info(
        "Wrote the progress map of run %s (%s flag(s)) to %s",
        progress.run_id, len(progress.flags), out_dir / "progress.html",
    )  # fmt: skip
    return written
