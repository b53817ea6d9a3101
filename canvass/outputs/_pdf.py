"""Stage 6a (part): the printable walk list of one route (US Letter PDF, fpdf2).

The sheet follows the VAN/Liberalist canvass sheet (DOMAIN.md §4.1): a header with
turf, precinct, volunteer, *People* and *Doors* counts and the date; the script; a key
of the result codes (DOMAIN.md §4.2); a small map of the route (matplotlib, no tiles)
and a QR code that opens the volunteer's route page. Households are separated by a
black line and members by a grey line; targets are marked with an asterisk, as PDI
does, and every listed voter has a tick box per result code. A household never splits
across pages unless it is taller than a page.

The sheet goes to a volunteer, so it carries only what is needed at the door
(issue 6): by default the targeted voters, named as ``output.door_names`` says (first
name and last initial), with age, unit and party, and a count of the other voters at
the door. ``door_names = "full"`` prints the whole household with full names and the
vote-history summary, like a VAN walk sheet; ``"none"`` prints no names at all.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import matplotlib as mpl
import numpy as np
import pandas as pd
import segno
import shapely
from fpdf import FPDF

from .. import schema
from ._table import RESULT_CODES, door_name, safe_name, volunteer_label

if TYPE_CHECKING:
    from ..pipeline import Plan

__all__ = ["route_map_png", "route_page_link", "write_route_pdf"]

logger = logging.getLogger(__name__)

_FONT_DIR: Final = Path(mpl.get_data_path()) / "fonts" / "ttf"
_MARGIN: Final = 10.0
_ROW_H: Final = 6.0
_BOX: Final = 3.6
_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# (key, header, width mm) of the text columns; the result tick boxes fill the rest.
# ``sex`` is dropped (and its width given to the history) when the file has none.
_COLS: Final[tuple[tuple[str, str, float], ...]] = (
    ("mark", "", 4.0),
    ("name", "Name", 44.0),
    ("unit", "Unit", 10.0),
    ("age", "Age", 8.0),
    ("sex", "Sex", 7.0),
    ("party", "Party", 9.0),
    ("history", "Vote history", 49.0),
)
_BOX_W: Final = 7.2  # per result code


def route_page_link(plan: Plan, route_id: str) -> str:
    """Return the address of a route's page: absolute with ``output.page_base_url``."""
    rel = f"routes/{safe_name(route_id)}.html"
    return plan.config.output.page_base_url + rel


def route_map_png(
    plan: Plan,
    route_id: str,
    *,
    size_in: float = 2.8,
    blocks: pd.DataFrame | None = None,
) -> bytes:
    """
    Draw a small map of one route: the turf outline, the path, numbered stops, start.

    Returns
    -------
    png
        PNG bytes (no tiles, no metadata timestamps).
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI

    fig = Figure(figsize=(size_in, size_in), dpi=150)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96))
    route = plan.routes.loc[route_id]
    turf_id = route[schema.TURF_ID]
    if turf_id in plan.turfs.index:
        outline = plan.turfs.geometry.loc[turf_id]
        for poly in getattr(outline, "geoms", [outline]):
            x, y = poly.exterior.xy
            ax.fill(x, y, color="#eef2f7", edgecolor="#8a9bb0", linewidth=0.6)
    geom = route.geometry
    if plan.config.output.redact:
        from ._table import block_table

        blocks = block_table(plan) if blocks is None else blocks
        blocks = blocks[blocks[schema.ROUTE_ID] == route_id]
        xs, ys = blocks["x"].to_numpy(), blocks["y"].to_numpy()
        nums = blocks[schema.STOP].to_numpy()
    else:
        stops = plan.stops[plan.stops[schema.ROUTE_ID] == route_id].sort_values(
            schema.STOP
        )
        g = plan.doors.geometry.loc[stops[schema.DOOR_ID]]
        xs, ys, nums = g.x.to_numpy(), g.y.to_numpy(), stops[schema.STOP].to_numpy()
    # the view: this route, its stops and its turf; other routes in grey for context
    parts = [geom] if geom is not None and not geom.is_empty else []
    parts += [shapely.multipoints(np.column_stack([xs, ys]))] if len(xs) else []
    if not parts:
        parts = (
            [plan.turfs.geometry.loc[turf_id]] if turf_id in plan.turfs.index else []
        )
    if parts:
        x0, y0, x1, y1 = shapely.total_bounds(parts)
        pad = 0.06 * max(x1 - x0, y1 - y0, 100.0)
        view = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        others = plan.routes.geometry.drop(index=route_id)
        for other in others[others.intersects(view)]:
            for line in getattr(other, "geoms", [other]):
                ox, oy = line.xy
                ax.plot(ox, oy, color="#b8b8b8", linewidth=0.8)
        side = max(x1 - x0, y1 - y0) / 2 + pad
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ax.set_xlim(cx - side, cx + side)
        ax.set_ylim(cy - side, cy + side)
    for line in getattr(geom, "geoms", [geom]):
        if line is not None and not line.is_empty:
            x, y = line.xy
            ax.plot(x, y, color="#1f5fbf", linewidth=1.6, solid_capstyle="round")
    ax.scatter(xs, ys, s=5, color="#d9480f", zorder=3, linewidths=0)
    every = 1 if len(xs) <= 40 else 5
    for x, y, n in zip(xs, ys, nums, strict=True):
        if int(n) % every == 0 or int(n) == 1:
            ax.annotate(
                str(int(n)),
                (x, y),
                fontsize=4.5,
                xytext=(2, 2),
                textcoords="offset points",
                color="#333333",
            )
    if geom is not None and not geom.is_empty:
        first = next(iter(getattr(geom, "geoms", [geom]))).coords[0]
        ax.plot(first[0], first[1], marker="^", color="#2b8a3e", markersize=7, zorder=4)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _qr_png(link: str) -> bytes:
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="png", scale=4, border=2)
    return buf.getvalue()


class _Sheet(FPDF):
    """An FPDF with a running header (route, turf, volunteer) and page numbers."""

    def __init__(self, running: str, *, mode: str = "full", sex: bool = True) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.running = running
        self.mode = mode
        full = mode == "full"
        cols = [
            c for c in _COLS if (sex or c[0] != "sex") and (full or c[0] != "history")
        ]
        spare = (self.w - 2 * _MARGIN) - sum(w for *_, w in cols)
        spare -= _BOX_W * len(RESULT_CODES)
        grow = "history" if full else "name"
        self.cols = [(k, t, w + spare if k == grow else w) for k, t, w in cols]
        self.add_font("DejaVu", "", str(_FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=False)
        self.set_creation_date(_EPOCH)
        self.set_creator("canvass")
        self.set_producer("canvass")
        self.alias_nb_pages()

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, self.running, new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
            self.ln(1)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(
            0, 5, f"{self.running}  ·  page {self.page_no()} of {{nb}}", align="R"
        )
        self.set_text_color(0, 0, 0)


def _table_head(pdf: _Sheet, redact: bool) -> None:
    pdf.set_font("DejaVu", "B", 7)
    pdf.set_fill_color(230, 230, 230)
    if redact:
        for text, w in (
            ("#", 10.0),
            ("Street block", 110.0),
            ("Doors", 20.0),
            ("Targets", 20.0),
            ("Done", 20.0),
        ):
            pdf.cell(w, 5, text, fill=True)
    else:
        for _, text, w in pdf.cols:
            pdf.cell(w, 5, text, fill=True)
        for _, mark, _label in RESULT_CODES:
            pdf.cell(_BOX_W, 5, mark, align="C", fill=True)
    pdf.ln(5)


def _new_page(pdf: _Sheet, redact: bool) -> None:
    pdf.add_page()
    _table_head(pdf, redact)


def _first_page(
    plan: Plan, route_id: str, rows: pd.DataFrame, pdf: _Sheet, link: str
) -> None:
    out = plan.config.output
    route = plan.routes.loc[route_id]
    turf_id = str(route[schema.TURF_ID])
    precincts = ""
    if turf_id in plan.turfs.index and schema.PRECINCT_ID in plan.turfs.columns:
        precincts = str(plan.turfs.loc[turf_id, schema.PRECINCT_ID])
    n_doors = int(plan.stops[plan.stops[schema.ROUTE_ID] == route_id].shape[0])
    listed = rows[rows[schema.VOTER_ID].notna()] if not out.redact else rows.iloc[0:0]
    if out.redact:
        people = "—"
    elif out.door_names == "full":
        people = f"{len(listed):,}"
    else:
        n_ask = int(listed[schema.IS_TARGET].sum())
        people = f"{n_ask:,} to ask for, {len(listed):,} registered"
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(
        0,
        8,
        f"Walk list · Turf {turf_id} · Route {route_id}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", "", 9.5)
    text_w = pdf.epw - 96
    lines = [
        f"Precinct: {precincts}      {volunteer_label(route[schema.VOLUNTEER])}",
        f"Doors: {n_doors:,}      People: {people}",
        f"Date: {out.date or '______________'}      "
        f"About {round(float(route[schema.TOTAL_S]) / 60)} min, "
        f"{float(route[schema.WALK_M]) / 1000:.1f} km on foot",
    ]
    driven = float(route.get(schema.DRIVE_S, 0) or 0)
    if driven > 0:  # from an office, or a turf with car legs
        lines.append(f"Includes {max(1, round(driven / 60))} min driving")
    for line in lines:
        pdf.cell(text_w, 5.5, _fit(pdf, line, text_w), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(text_w, 5, "Script", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        text_w, 4.5, out.script, border=1, padding=2, new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(
        text_w,
        5,
        "Result codes: tick one box per person you asked for",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", "", 8)
    nbsp = "\u00a0"
    key = "   ".join(
        f"{mark} = {label}".replace(" ", nbsp) for _, mark, label in RESULT_CODES
    )
    pdf.multi_cell(
        text_w,
        4.2,
        key + "   *" + nbsp + "=" + nbsp + "target voter: ask for them by name",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    text_bottom = pdf.get_y()
    # map and QR code on the right
    map_x = pdf.w - _MARGIN - 62
    png = route_map_png(plan, route_id, blocks=rows if out.redact else None)
    pdf.image(io.BytesIO(png), x=map_x, y=top, w=62, h=62)
    pdf.image(io.BytesIO(_qr_png(link)), x=map_x - 32, y=top + 8, w=30, h=30)
    pdf.set_xy(map_x - 33, top + 39)
    pdf.set_font("DejaVu", "", 6)
    pdf.multi_cell(32, 3, "Scan: your route on the phone\n" + link, align="C")
    pdf.set_y(max(text_bottom, top + 64) + 3)
    _table_head(pdf, out.redact)


def _blank(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _text(value: Any) -> str:
    return "" if _blank(value) else str(value)


def _voter_cells(r: dict[Any, Any], mode: str, i: int) -> dict[str, str]:
    last = _text(r.get(schema.LAST_NAME))
    first = _text(r.get(schema.FIRST_NAME))
    if mode == "full":
        middle = _text(r.get(schema.MIDDLE_NAME))
        name = f"{last.title()}, {first.title()} {middle[:1]}".strip().rstrip(",")
    else:
        name = door_name(first, last, mode) or f"Voter {i + 1} on your list"
    age = r.get("age")
    return {
        "mark": "*" if r.get(schema.IS_TARGET) else "",
        "name": name,
        "unit": _text(r.get(schema.UNIT)),
        "age": "" if age is None or pd.isna(age) else str(int(age)),
        "sex": _text(r.get("sex")),
        "party": _text(r.get(schema.PARTY)),
        "history": _text(r.get("history")),
    }


def _fit(pdf: _Sheet, text: str, width: float) -> str:
    while text and pdf.get_string_width(text) > width - 1:
        text = text[:-2] + "…"
    return text


def _household(pdf: _Sheet, door: list[dict[Any, Any]]) -> None:
    """Draw one door: a black rule, the address line, then one row per voter."""
    first = door[0]
    listed = [r for r in door if not _blank(r.get(schema.VOTER_ID))]
    targets = [r for r in listed if r.get(schema.IS_TARGET)]
    # the full sheet lists every household member; otherwise only whom to ask for
    people = listed if pdf.mode == "full" else targets
    height = _ROW_H * (1 + max(len(people), 1))
    if pdf.get_y() + height > pdf.h - 14:
        _new_page(pdf, redact=False)
    x0, x1 = _MARGIN, pdf.w - _MARGIN
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.5)
    pdf.line(x0, pdf.get_y(), x1, pdf.get_y())
    pdf.set_font("DejaVu", "B", 9)
    side = str(first.get("odd_even") or "")
    where = f"{first[schema.ADDRESS]}" + (f"  ({side} side)" if side else "")
    tail = f"{len(listed)} voter{'s' if len(listed) != 1 else ''}"
    if pdf.mode != "full":
        tail += f" · {len(targets)} to ask for"
    pdf.cell(12, _ROW_H, str(int(first[schema.STOP])))
    pdf.cell(pdf.epw - 57, _ROW_H, _fit(pdf, where, pdf.epw - 57))
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(45, _ROW_H, tail, align="R", new_x="LMARGIN", new_y="NEXT")
    for i, r in enumerate(people):
        if i:
            pdf.set_draw_color(170, 170, 170)
            pdf.set_line_width(0.2)
            pdf.line(x0 + 4, pdf.get_y(), x1, pdf.get_y())
        y = pdf.get_y()
        cells = _voter_cells(r, pdf.mode, i)
        for key, _, w in pdf.cols:
            bold = bool(r.get(schema.IS_TARGET)) and key in ("mark", "name")
            pdf.set_font("DejaVu", "B" if bold else "", 7 if key == "history" else 8)
            pdf.cell(w, _ROW_H, _fit(pdf, cells[key], w))
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.25)
        for j in range(len(RESULT_CODES)):
            bx = pdf.get_x() + j * _BOX_W + (_BOX_W - _BOX) / 2
            pdf.rect(bx, y + (_ROW_H - _BOX) / 2, _BOX, _BOX)
        pdf.set_xy(_MARGIN, y + _ROW_H)


def _blocks(pdf: _Sheet, rows: pd.DataFrame) -> None:
    pdf.set_font("DejaVu", "", 9)
    for r in rows.to_dict("records"):
        if pdf.get_y() + _ROW_H > pdf.h - 14:
            _new_page(pdf, redact=True)
        pdf.set_draw_color(0, 0, 0)
        pdf.line(_MARGIN, pdf.get_y(), pdf.w - _MARGIN, pdf.get_y())
        pdf.cell(10, _ROW_H, str(r[schema.STOP]))
        pdf.cell(110, _ROW_H, _fit(pdf, str(r["block"]), 110))
        pdf.cell(20, _ROW_H, str(r["doors"]))
        pdf.cell(20, _ROW_H, str(r["targets"]))
        pdf.rect(pdf.get_x() + 2, pdf.get_y() + 1.2, _BOX, _BOX)
        pdf.ln(_ROW_H)


def write_route_pdf(
    plan: Plan, route_id: str, rows: pd.DataFrame, path: Path, *, link: str = ""
) -> Path:
    """
    Write one route's printable walk list (US Letter).

    Parameters
    ----------
    plan
        A finished plan.
    route_id
        The route.
    rows
        Its rows of :func:`canvass.outputs.walk_list_table` (or of
        :func:`~canvass.outputs.block_table` with ``output.redact``), in order.
    path
        Destination file.
    link
        What the QR code opens (``canvass serve``'s link with the route's key);
        empty = :func:`route_page_link`.

    Returns
    -------
    path
        The file written.
    """
    route = plan.routes.loc[route_id]
    running = (
        f"Route {route_id} · Turf {route[schema.TURF_ID]} · "
        f"{volunteer_label(route[schema.VOLUNTEER])}"
    )
    sex = "sex" in rows.columns and bool(
        rows["sex"].fillna("").astype(str).str.strip().any()
    )
    pdf = _Sheet(running, mode=plan.config.output.door_names, sex=sex)
    _first_page(plan, route_id, rows, pdf, link or route_page_link(plan, route_id))
    if plan.config.output.redact:
        _blocks(pdf, rows)
    else:
        doors: dict[int, list[dict[Any, Any]]] = {}
        for r in rows.to_dict("records"):
            doors.setdefault(int(r[schema.STOP]), []).append(r)
        for stop in sorted(doors):
            _household(pdf, doors[stop])
    pdf.output(str(path))
    return Path(path)
