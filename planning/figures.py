"""The KM report's figures, drawn as inline SVG by tacit: no script, no network, nothing the
page's Content-Security-Policy would block. Every label is escaped; the report gives the same
figures as tables below them, for screen readers and print.

Risk matrix: attrition (1-5) across, position risk (1-5) up, one cell per pair. Each expert is
a circle inside the cell of their attrition and position risk (spread out when several share
a cell), its area growing with what is still uncaptured (topics without evidence and open
questions), coloured by coverage. Experts who have left are not plotted.

Capture timeline: one row per expert, today marked; sessions held are filled dots, planned
ones hollow, the leaving date a red bar.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from html import escape

CELL = 80  # pixels per matrix cell
LEFT, TOP = 70, 20  # room for the axis titles
SIZE = 5 * CELL


@dataclass(frozen=True)
class Point:
    slug: str
    name: str
    attrition: int
    position: int
    uncaptured: int
    coverage: float  # 0..1


def cell_box(attrition: int, position: int) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a cell: attrition 1 is the left column, position 1 the bottom row."""
    x0 = LEFT + (attrition - 1) * CELL
    y0 = TOP + (5 - position) * CELL
    return x0, y0, x0 + CELL, y0 + CELL


def coverage_colour(share: float) -> str:
    if share < 1 / 3:
        return "#c0392b"  # red: little captured
    if share < 2 / 3:
        return "#e67e22"  # amber
    return "#27ae60"  # green


def _radius(uncaptured: int) -> float:
    return min(6 + 4 * math.sqrt(uncaptured), CELL * 0.22)


def _spread(n: int, count: int) -> tuple[float, float]:
    """Where the n-th of count points sits relative to its cell's centre (inside the cell)."""
    if count == 1:
        return 0.0, 0.0
    angle = 2 * math.pi * n / count
    reach = CELL * 0.22
    return reach * math.cos(angle), reach * math.sin(angle)


def risk_matrix(points: list[Point], high: int, medium: int) -> str:
    width, height = LEFT + SIZE + 20, TOP + SIZE + 60
    parts = [
        f'<svg class="risk-matrix" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="risk-matrix-title">',
        '<title id="risk-matrix-title">Risk matrix: attrition across, position risk up; '
        "each expert sized by what is uncaptured, coloured by coverage</title>",
    ]
    for attrition in range(1, 6):
        for position in range(1, 6):
            x0, y0, _x1, _y1 = cell_box(attrition, position)
            score = attrition * position
            fill = "#fbe3e1" if score >= high else "#fdf1dc" if score >= medium else "#eef6ee"
            parts.append(
                f'<rect x="{x0}" y="{y0}" width="{CELL}" height="{CELL}" fill="{fill}" '
                'stroke="#bbb"/>'
            )
    for n in range(1, 6):
        x = LEFT + (n - 0.5) * CELL
        y = TOP + (5 - n + 0.5) * CELL
        parts.append(f'<text x="{x}" y="{TOP + SIZE + 18}" text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{LEFT - 12}" y="{y + 5}" text-anchor="end">{n}</text>')
    parts.append(
        f'<text x="{LEFT + SIZE / 2}" y="{TOP + SIZE + 42}" text-anchor="middle" '
        'font-weight="bold">attrition (how soon they leave) →</text>'
    )
    parts.append(
        f'<text x="16" y="{TOP + SIZE / 2}" text-anchor="middle" font-weight="bold" '
        f'transform="rotate(-90 16 {TOP + SIZE / 2})">position risk →</text>'
    )
    cells: dict[tuple[int, int], list[Point]] = {}
    for point in points:
        cells.setdefault((point.attrition, point.position), []).append(point)
    for (attrition, position), here in sorted(cells.items()):
        x0, y0, x1, y1 = cell_box(attrition, position)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for n, point in enumerate(here):
            dx, dy = _spread(n, len(here))
            x, y = round(cx + dx, 1), round(cy + dy, 1)
            r = round(_radius(point.uncaptured), 1)
            label = escape(point.name)
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="{r}" fill="{coverage_colour(point.coverage)}" '
                f'fill-opacity="0.85" stroke="#333" data-expert="{escape(point.slug)}">'
                f"<title>{label}: attrition {attrition}, position {position}, "
                f"{point.uncaptured} uncaptured, {point.coverage:.0%} covered</title></circle>"
            )
            parts.append(
                f'<text x="{x}" y="{round(y + r + 11, 1)}" text-anchor="middle" '
                f'font-size="11">{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Row:
    name: str
    leaving_on: dt.date | None
    held: tuple[dt.date, ...]
    planned: tuple[dt.date, ...]


def capture_timeline(rows: list[Row], today: dt.date) -> str:
    days = [today] + [d for r in rows for d in (*r.held, *r.planned)]
    days += [r.leaving_on for r in rows if r.leaving_on]
    first, last = min(days) - dt.timedelta(days=7), max(days) + dt.timedelta(days=7)
    span = max((last - first).days, 1)
    label_w, plot_w, row_h = 160, 480, 28
    width, height = label_w + plot_w + 20, 40 + row_h * max(len(rows), 1) + 30

    def x(day: dt.date) -> float:
        return round(label_w + plot_w * (day - first).days / span, 1)

    parts = [
        f'<svg class="capture-timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="capture-timeline-title">',
        '<title id="capture-timeline-title">Capture timeline: sessions held (filled) and '
        "planned (hollow) against each leaving date (red bar)</title>",
        f'<text x="{label_w}" y="16" font-size="11">{first.isoformat()}</text>',
        f'<text x="{label_w + plot_w}" y="16" font-size="11" text-anchor="end">'
        f"{last.isoformat()}</text>",
        f'<line x1="{x(today)}" y1="22" x2="{x(today)}" y2="{height - 24}" stroke="#555" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{x(today)}" y="{height - 10}" font-size="11" text-anchor="middle">today</text>',
    ]
    for n, row in enumerate(rows):
        y = 40 + n * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 4}" text-anchor="end">{escape(row.name)}</text>'
        )
        parts.append(
            f'<line x1="{label_w}" y1="{y}" x2="{label_w + plot_w}" y2="{y}" stroke="#ddd"/>'
        )
        for day in row.held:
            parts.append(
                f'<circle class="held" cx="{x(day)}" cy="{y}" r="5" fill="#2c7fb8">'
                f"<title>held {day.isoformat()}</title></circle>"
            )
        for day in row.planned:
            parts.append(
                f'<circle class="planned" cx="{x(day)}" cy="{y}" r="5" fill="white" '
                f'stroke="#2c7fb8" stroke-width="2"><title>planned {day.isoformat()}</title>'
                "</circle>"
            )
        if row.leaving_on:
            lx = x(row.leaving_on)
            parts.append(
                f'<rect class="leaving" x="{lx - 2}" y="{y - 10}" width="4" height="20" '
                f'fill="#c0392b"><title>leaving {row.leaving_on.isoformat()}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)
