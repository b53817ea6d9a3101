"""Stage 6b: the field director's turf map (folium), plus route pages and the index.

The director's map (``turf_map.html``) shows precinct choropleths of targets and
expected extra votes with a legend, turf outlines labelled with doors, targets and
estimated minutes, every route drawn along its walked street path, the routed target
doors as clustered markers, the left-out target doors with their reasons, a layer
control and a summary panel. It carries counts and addresses (what the walk list
already has), never names. With ``output.redact`` doors are shown as street blocks.

To stay light for a county with hundreds of turfs, geometries are simplified to about
a metre and coordinates rounded to 1e-5°, the data of each layer is one GeoJSON or
array literal read by a few lines of JavaScript (not one folium object per feature),
and only Leaflet and Leaflet.markercluster are loaded (no jQuery, Bootstrap or fonts).
folium's random element ids are replaced by sequential ones, so the same plan gives
the same bytes. With ``output.offline_pages`` the scripts and styles of Leaflet and
Leaflet.markercluster are inlined from ``canvass/outputs/static`` (no CDN): only the
background tiles need a connection, and every vector layer draws without them. Route
pages and ``index.html`` are written by :mod:`canvass.outputs._pages`.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from .. import schema
from ._pages import (
    LEAFLET_CSS_URL,
    LEAFLET_JS_URL,
    STATIC,
    TEMPLATES,
    _env,
    _inline_leaflet,
    write_index,
    write_route_pages,
)
from ._table import volunteer_label

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = [
    "MARKERCLUSTER_URLS",
    "deterministic_ids",
    "director_map",
    "inline_assets",
    "write_director_map",
    "write_index",
    "write_route_pages",
]

logger = logging.getLogger(__name__)

MARKERCLUSTER_URLS: Final = {
    "js": "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "leaflet.markercluster.js",
    "css": "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.css",
    "css_default": "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
    "MarkerCluster.Default.css",
}
#: Colour classes (light to dark) of the two precinct choropleths.
TARGET_COLOURS: Final = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
VOTES_COLOURS: Final = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
ROUTE_COLOURS: Final = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#393b79",
)  # fmt: skip
_ROUND: Final = 5  # decimal degrees: about 1 m
_SIMPLIFY_M: Final = 1.0
_HEX_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
#: A script or stylesheet the page would fetch (folium writes these tags so).
_EXTERNAL = re.compile(
    r'<script src="(?P<js>[^"]+)"></script>'
    r'|<link rel="stylesheet" href="(?P<css>[^"]+)"/>'
)


class _LeanMap(folium.Map):
    """A folium map loading only Leaflet (no jQuery, Bootstrap, fonts, icons)."""

    default_js = [("leaflet", LEAFLET_JS_URL)]  # noqa: RUF012 - folium's own attribute
    default_css = [("leaflet_css", LEAFLET_CSS_URL)]  # noqa: RUF012


class _ScriptLayer(JSCSSMixin, Layer):
    """A layer built by a JavaScript expression over one JSON literal."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(data) {
                {{ this.body }}
            })({{ this.data }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        data: Any,
        body: str,
        *,
        show: bool = True,
        cluster: bool = False,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = re.sub(r"\W+", "_", name).strip("_").lower() or "layer"
        self.data = _json(data)
        self.body = body
        if cluster:
            self.default_js = [("markercluster", MARKERCLUSTER_URLS["js"])]
            self.default_css = [
                ("markercluster_css", MARKERCLUSTER_URLS["css"]),
                ("markercluster_default_css", MARKERCLUSTER_URLS["css_default"]),
            ]


def _json(data: Any) -> str:
    """JSON for a ``<script>`` block: no ``</`` that could close the element."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace(
        "</", "<\\/"
    )


def _geojson(gdf: gpd.GeoDataFrame, props: pd.DataFrame, simplify_m: float) -> Any:
    """Project to WGS 84 with simplified geometry and rounded coordinates."""
    geom = gdf.geometry.simplify(simplify_m) if simplify_m > 0 else gdf.geometry
    wgs = gpd.GeoSeries(geom, crs=gdf.crs).to_crs(4326)
    wgs = wgs.set_precision(10**-_ROUND)
    features = []
    for (_, g), (_, p) in zip(wgs.items(), props.iterrows(), strict=True):
        if g is None or g.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {k: _plain(v) for k, v in p.items()},
                "geometry": shapely.geometry.mapping(g),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return round(float(value), 3)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value if isinstance(value, str | int | bool) else str(value)


def _lonlat(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    pts = gpd.GeoSeries(gdf.geometry, crs=gdf.crs).to_crs(4326)
    return np.round(pts.y.to_numpy(), _ROUND), np.round(pts.x.to_numpy(), _ROUND)


def _bins(values: pd.Series, n: int = 5) -> list[float]:
    """
    Equal-interval class breaks (n + 1 edges) from 0 to a round maximum.

    Starting at 0 keeps the colours honest: precincts with 300 and 340 targets look
    alike, as they should, instead of at opposite ends of the scale.
    """
    hi = float(values.max()) if len(values) else 0.0
    if not np.isfinite(hi) or hi <= 0:
        return [0.0, 1.0]
    raw = hi / n
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [round(float(step * i), 6) for i in range(n + 1)]


def _classes(values: pd.Series, edges: list[float]) -> pd.Series:
    idx = np.searchsorted(edges[1:-1], values.to_numpy(dtype=float), side="right")
    return pd.Series(idx, index=values.index)


def _precinct_counts(plan: Plan) -> pd.DataFrame:
    table = plan.precinct_table
    out = pd.DataFrame(index=plan.precincts.index)
    doors = plan.target_doors
    by_precinct = doors.groupby(schema.PRECINCT_ID) if len(doors) else None
    for col, fallback in (
        ("targets", schema.N_TARGETS),
        ("expected_extra_votes", schema.VALUE),
    ):
        if col in table.columns:
            out[col] = pd.to_numeric(table[col], errors="coerce").reindex(out.index)
        elif by_precinct is not None:
            out[col] = by_precinct[fallback].sum().reindex(out.index)
        else:
            out[col] = 0.0
    out["voters"] = (
        pd.to_numeric(table["voters"], errors="coerce").reindex(out.index)
        if "voters" in table.columns
        else np.nan
    )
    if "supporters" in table.columns:
        out["supporters"] = pd.to_numeric(table["supporters"]).reindex(out.index)
    return out.fillna(0)


def _turnout_line(table: pd.DataFrame, precinct_id: Any) -> str:
    """Past turnout and priority rank of a precinct, when the table has them."""
    if precinct_id not in table.index:
        return ""
    row = table.loc[precinct_id]
    parts = [
        f"{label} {float(row[col]):.0%}"
        for col, label in (
            ("turnout_state_primary", "state primary"),
            ("turnout_state_election", "state election"),
        )
        if col in table.columns and pd.notna(row[col])
    ]
    text = f"<br>Past turnout: {', '.join(parts)}" if parts else ""
    if "rank" in table.columns and pd.notna(row["rank"]):
        text += f"<br>Rank {int(row['rank'])} of {len(table)} by expected extra votes"
    return text


def _minutes(turf: pd.Series) -> str:
    """Return a turf's estimated minutes (per volunteer, for a team's turf)."""
    vols = int(turf.get("volunteers", 1) or 1)
    each = float(turf[schema.EST_S]) / vols / 60
    return f"{each:.0f} min" if vols == 1 else f"{vols} × {each:.0f} min"


def _legend_html(title: str, edges: list[float], colours: Sequence[str]) -> str:
    rows = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        rows.append(
            f'<div><i style="background:{colours[min(i, len(colours) - 1)]}"></i>'
            f"{lo:g} – {hi:g}</div>"
        )
    return f"<b>{html.escape(title)}</b>{''.join(rows)}"


def _panel(plan: Plan, legends: Iterable[str]) -> str:
    s = plan.summary()
    routes = plan.routes
    reasons = plan.left_out[schema.REASON].value_counts().sort_index()
    left = ", ".join(f"{n} {str(r).replace('_', ' ')}" for r, n in reasons.items())
    left = left or "none"
    mean_min = float(routes[schema.TOTAL_S].mean()) / 60 if len(routes) else 0.0
    rows = [
        ("Voters", f"{s['voters']:,}"),
        ("Targets", f"{s['targets']:,}"),
        ("Target doors", f"{s['doors']:,}"),
        ("Doors routed", f"{s['doors_routed']:,}"),
        ("Doors left out", f"{len(plan.left_out):,} ({left})"),
        ("Turfs", f"{s['turfs']:,}"),
        ("Volunteer routes", f"{s['volunteers']:,}"),
        ("Expected extra votes", f"{s['expected_extra_votes']:,.1f}"),
        ("Walking", f"{s['walk_km']:,.1f} km, mean {mean_min:.0f} min a route"),
    ]
    return (
        _env()
        .get_template("director_panel.html")
        .render(
            title=f"{plan.config.run_name}: canvass plan",
            redacted=plan.config.output.redact,
            rows=rows,
            legends=list(legends),
        )
    )


@cache
def _layer_js() -> dict[str, str]:
    """Read the layers' JavaScript bodies from ``templates/director_layers.js``."""
    text = (TEMPLATES / "director_layers.js").read_text(encoding="utf-8")
    parts = re.split(r"^// == (\w+) ==\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _e(value: Any) -> str:
    return html.escape(str(value))


def _door_points(plan: Plan) -> dict[str, Any]:
    """
    Routed doors (or, redacted, blocks) in a compact form for the clustered layer.

    Returns ``{"routes": [[route_id, turf_id], ...], "redact": bool, "rows": [[lat,
    lon, address or block, route index, stop or block number, targets, voters or
    doors], ...]}``; the popups are built in the browser when opened.
    """
    redact = plan.config.output.redact
    if redact:
        from ._table import block_table

        table = block_table(plan)
        pts = gpd.GeoSeries(
            gpd.points_from_xy(table["x"], table["y"]), crs=plan.doors.crs
        )
        label, targets, people = table["block"], table["targets"], table["doors"]
    else:
        table = plan.stops.sort_values([schema.ROUTE_ID, schema.STOP], kind="stable")
        doors = plan.doors.loc[table[schema.DOOR_ID]]
        pts = gpd.GeoSeries(doors.geometry, crs=plan.doors.crs)
        label = doors[schema.ADDRESS]
        targets, people = doors[schema.N_TARGETS], doors[schema.N_VOTERS]
    lat, lon = _lonlat(pts)
    turf_of = plan.routes[schema.TURF_ID].astype(str)
    route_ids = sorted(str(r) for r in table[schema.ROUTE_ID].unique())
    index = {r: i for i, r in enumerate(route_ids)}
    rows = [
        [float(la), float(lo), str(lb), index[str(r)], int(n), int(t), int(v)]
        for la, lo, lb, r, n, t, v in zip(
            lat,
            lon,
            label,
            table[schema.ROUTE_ID],
            table[schema.STOP],
            targets.fillna(0),
            people.fillna(0),
            strict=True,
        )
    ]
    routes = [[r, turf_of.get(r, "")] for r in route_ids]
    return {"routes": routes, "redact": redact, "rows": rows}


def _left_points(plan: Plan) -> list[list[Any]]:
    left = plan.left_out[plan.left_out[schema.DOOR_ID].isin(plan.doors.index)]
    if not len(left) or plan.config.output.redact:
        return []
    doors = plan.doors.loc[left[schema.DOOR_ID]]
    lat, lon = _lonlat(doors)
    return [
        [float(la), float(lo),
         f"<b>Left out</b>: {_e(str(r[schema.REASON]).replace('_', ' '))}<br>"
         f"{_e(r[schema.DETAIL])}"]
        for la, lo, r in zip(lat, lon, left.to_dict("records"), strict=True)
    ]  # fmt: skip


def director_map(plan: Plan) -> folium.Map:
    """
    Build the field director's map of a plan.

    Parameters
    ----------
    plan
        A finished plan.

    Returns
    -------
    map
        A folium map (render it with :func:`write_director_map` for stable ids).
    """
    precincts = plan.precincts
    bounds = (
        gpd.GeoSeries(precincts.geometry, crs=precincts.crs).to_crs(4326).total_bounds
    )
    m = _LeanMap(location=None, tiles=None, control_scale=True, prefer_canvas=False)
    folium.TileLayer("openstreetmap", name="OpenStreetMap", opacity=0.7).add_to(m)

    counts = _precinct_counts(plan)
    area_km2 = precincts.geometry.area / 1e6
    legends = []
    layers = [
        ("targets", "Targets per precinct", TARGET_COLOURS, True),
        ("expected_extra_votes", "Expected extra votes", VOTES_COLOURS, False),
    ]
    if "supporters" in counts.columns:  # a [supporters] list was matched
        layers.append(("supporters", "Supporters per precinct", TARGET_COLOURS, False))
    for col, title, colours, show in layers:
        edges = _bins(counts[col])
        cls = _classes(counts[col], edges)
        props = pd.DataFrame(index=precincts.index)
        props["fill"] = [colours[min(int(c), len(colours) - 1)] for c in cls]
        names = (
            precincts[schema.NAME]
            if schema.NAME in precincts.columns
            else precincts.index
        )
        props["tip"] = [
            f"<b>{_e(n)}</b> ({_e(pid)})<br>{int(c['voters']):,} voters · "
            f"{c['targets']:,.0f} targets<br>"
            f"{c['expected_extra_votes']:,.1f} expected extra votes · "
            f"{c['targets'] / max(float(km2), 1e-9):,.0f} targets/km²"
            + (f"<br>{int(c['supporters']):,} supporters" if "supporters" in c else "")
            + f"{_turnout_line(plan.precinct_table, pid)}"
            for pid, n, km2, (_, c) in zip(
                precincts.index, names, area_km2, counts.iterrows(), strict=True
            )
        ]
        data = _geojson(precincts, props, 5.0)
        _ScriptLayer(title, data, _layer_js()["choropleth"], show=show).add_to(m)
        legends.append(_legend_html(title, edges, colours))

    turfs = plan.turfs
    n_routes = plan.routes.groupby(schema.TURF_ID).size()
    tprops = pd.DataFrame(index=turfs.index)
    tprops["tip"] = [
        f"<b>Turf {_e(t)}</b> · precinct {_e(r[schema.PRECINCT_ID])}<br>"
        f"{int(r[schema.N_DOORS])} doors · {int(r[schema.N_TARGETS])} targets<br>"
        f"about {_minutes(r)} · {int(n_routes.get(t, 0))} volunteer route(s)"
        for t, r in turfs.iterrows()
    ]
    _ScriptLayer(
        "Turfs", _geojson(turfs, tprops, _SIMPLIFY_M), _layer_js()["turfs"]
    ).add_to(m)
    centre = turfs.geometry.representative_point()
    lat, lon = _lonlat(gpd.GeoSeries(centre, crs=turfs.crs))
    labels = [
        [float(la), float(lo),
         f"<b>{_e(t)}</b><br>{int(r[schema.N_DOORS])} doors · "
         f"{int(r[schema.N_TARGETS])} tgt · {_minutes(r)}"]
        for la, lo, (t, r) in zip(lat, lon, turfs.iterrows(), strict=True)
    ]  # fmt: skip
    _ScriptLayer("Turf labels", labels, _layer_js()["labels"]).add_to(m)

    routes = plan.routes.sort_index()
    rprops = pd.DataFrame(index=routes.index)
    rprops["route_id"] = routes.index.astype(str)
    rprops["colour"] = [
        ROUTE_COLOURS[i % len(ROUTE_COLOURS)] for i in range(len(routes))
    ]
    rprops["tip"] = [
        f"<b>Route {_e(rid)}</b> · {_e(volunteer_label(r[schema.VOLUNTEER]))}<br>"
        f"turf {_e(r[schema.TURF_ID])} · {int(r[schema.N_DOORS])} doors · "
        f"{float(r[schema.WALK_M]) / 1000:.1f} km · "
        f"{float(r[schema.TOTAL_S]) / 60:.0f} min"
        for rid, r in routes.iterrows()
    ]
    rdata = _geojson(routes, rprops, _SIMPLIFY_M)
    for f in rdata["features"]:
        first = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))[0]
        f["properties"]["start"] = [
            round(float(first[1]), _ROUND),
            round(float(first[0]), _ROUND),
        ]
    _ScriptLayer("Routes", rdata, _layer_js()["routes"]).add_to(m)
    label = (
        "Routed doors (blocks)" if plan.config.output.redact else "Routed target doors"
    )
    _ScriptLayer(label, _door_points(plan), _layer_js()["doors"], cluster=True).add_to(
        m
    )
    left = _left_points(plan)
    if left:
        _ScriptLayer("Left-out target doors", left, _layer_js()["left"]).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    root: Any = m.get_root()
    root.html.add_child(folium.Element(_panel(plan, legends)))
    title = html.escape(f"{plan.config.run_name}: turf map")
    root.header.add_child(folium.Element(f"<title>{title}</title>"))
    return m


def deterministic_ids(text: str) -> str:
    """Replace folium's random 32-hex element ids by sequential ones, in order."""
    seen: dict[str, str] = {}

    def repl(match: re.Match[str]) -> str:
        key = match.group(0)
        if key not in seen:
            seen[key] = f"{len(seen) + 1:032x}"
        return seen[key]

    return _HEX_ID.sub(repl, text)


@cache
def _offline_assets() -> dict[str, str]:
    """Map each CDN address to its vendored asset as an inline element."""
    leaflet_css, leaflet_js = _inline_leaflet()

    def static(name: str) -> str:
        text = (STATIC / name).read_text(encoding="utf-8")
        return re.sub(r"</(script|style)", r"<\\/\1", text, flags=re.I)

    return {
        LEAFLET_JS_URL: f"<script>{leaflet_js}</script>",
        LEAFLET_CSS_URL: f"<style>{leaflet_css}</style>",
        MARKERCLUSTER_URLS["js"]: (
            f"<script>{static('leaflet.markercluster.js')}</script>"
        ),
        MARKERCLUSTER_URLS["css"]: f"<style>{static('MarkerCluster.css')}</style>",
        MARKERCLUSTER_URLS["css_default"]: (
            f"<style>{static('MarkerCluster.Default.css')}</style>"
        ),
    }


def inline_assets(page: str) -> str:
    """
    Replace every external script and stylesheet of a rendered page by its content.

    Parameters
    ----------
    page
        HTML as folium renders it.

    Returns
    -------
    str
        The page with Leaflet and Leaflet.markercluster inlined from
        ``canvass/outputs/static``.

    Raises
    ------
    RuntimeError
        If the page loads a script or stylesheet canvass does not vendor (a newer
        folium); an offline page must not depend on it silently.
    """
    assets = _offline_assets()

    def repl(match: re.Match[str]) -> str:
        url = match.group("js") or match.group("css")
        if url not in assets:
            msg = f"the offline page would load {url}; vendor it in {STATIC}."
            raise RuntimeError(msg)
        return assets[url]

    return _EXTERNAL.sub(repl, page)


def write_director_map(plan: Plan, out_dir: Path) -> Path:
    """
    Write the field director's map to ``out_dir/turf_map.html``.

    Parameters
    ----------
    plan
        A finished plan.
    out_dir
        The run folder.

    Returns
    -------
    path
        The file written.
    """
    schema.validate_routes(plan.routes)
    schema.validate_turfs(plan.turfs)
    page = deterministic_ids(director_map(plan).get_root().render())
    offline = plan.config.output.offline_pages
    if offline:
        page = inline_assets(page)
    path = Path(out_dir) / "turf_map.html"
    path.write_text(page, encoding="utf-8")
    logger.info(
        "Wrote the turf map: %s precincts, %s turfs, %s routes, %s doors (%s kB%s)",
        f"{len(plan.precincts):,}",
        f"{len(plan.turfs):,}",
        f"{len(plan.routes):,}",
        f"{len(plan.stops):,}",
        f"{path.stat().st_size // 1024:,}",
        ", offline: Leaflet inlined" if offline else "",
    )
    return path
