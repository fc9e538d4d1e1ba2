"""Charts for the overview, drawn as SVG on the server: no JavaScript, no Node build, no vendored
library. Pure functions of plain numbers (no Django models, no database), tested as such.

Every chart scales to its container (``viewBox`` and ``width: 100%``), so it fits a 390 px phone,
and carries a ``<title>`` and ``<desc>`` for screen readers; the page shows the same numbers in a
table beside it. Every text that comes from data is escaped here, so the result can be marked safe.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 260
MARGIN_LEFT = 44
MARGIN_RIGHT = 44
MARGIN_TOP = 16
MARGIN_BOTTOM = 56
#: Series colours, distinguishable for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SEVERITY_COLOURS = {"critical": "#B00020", "high": "#D55E00", "medium": "#E69F00", "low": "#56B4E9"}
LINE_COLOURS = ("#D55E00", "#009E73")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (an axis's top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10


def _number(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"


def _svg(
    title: str, desc: str, body: list[str], *, height: int = HEIGHT, css_class: str = "chart"
) -> SafeString:
    return mark_safe(  # noqa: S308 - every piece of data below went through escape()
        f'<svg class="{css_class}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _axis(
    top: float, *, x0: int, x1: int, y0: int, y1: int, right: bool = False, unit: str = ""
) -> list[str]:
    """Horizontal grid lines at 0, ½ and the top, labelled on the left (or right)."""
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = y0 - (y0 - y1) * fraction
        if not right:
            parts.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        x, anchor = (x1 + 4, "start") if right else (x0 - 4, "end")
        parts.append(
            f'<text x="{x}" y="{y + 4:.1f}" text-anchor="{anchor}" class="tick">'
            f"{escape(_number(top * fraction))}{escape(unit)}</text>"
        )
    return parts


def _x_labels(categories: Sequence[str], *, x0: int, slot: float, y: int) -> list[str]:
    # At most about eight labels fit a phone: label every n-th category.
    every = max(1, math.ceil(len(categories) / 8))
    return [
        f'<text x="{x0 + slot * (i + 0.5):.1f}" y="{y}" text-anchor="middle" class="tick">'
        f"{escape(label)}</text>"
        for i, label in enumerate(categories)
        if i % every == 0
    ]


def _legend(names: Sequence[str], colours: Sequence[str], *, y: int, shapes: Sequence[str] = ()) -> list[str]:
    parts, x = [], MARGIN_LEFT
    for i, name in enumerate(names):
        colour = colours[i % len(colours)]
        if shapes and shapes[i] == "line":
            parts.append(
                f'<line x1="{x}" x2="{x + 12}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="3"/>'
            )
        else:
            parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        label = name if len(name) <= 30 else name[:29] + "…"
        parts.append(f'<text x="{x + 16}" y="{y}" class="legend">{escape(label)}</text>')
        x += 16 + 7 * len(label) + 14
        if x > WIDTH - 120 and i < len(names) - 1:
            x, y = MARGIN_LEFT, y + 16
    return parts


def stacked_bars(
    *, title: str, categories: Sequence[str], series: Mapping[str, Sequence[int]], empty: str = "No data."
) -> SafeString:
    """One bar per category, stacked by series (root events per week, by account)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(title, empty)
    top = nice_ceiling(max(totals))
    x0, x1, y0, y1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM, MARGIN_TOP
    slot = (x1 - x0) / len(categories)
    body = _axis(top, x0=x0, x1=x1, y0=y0, y1=y1)
    for i in range(len(categories)):
        base = float(y0)
        for s, (name, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = (y0 - y1) * values[i] / top
            base -= h
            body.append(
                f'<rect x="{x0 + slot * i + slot * 0.15:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(name)}, {escape(categories[i])}: {values[i]}</title></rect>"
            )
    body += _x_labels(categories, x0=x0, slot=slot, y=y0 + 16)
    body += _legend(list(series), PALETTE, y=y0 + 38)
    return _svg(title, f"{title}: {sum(totals)} in all over {len(categories)} periods.", body)


def horizontal_bars(
    *,
    title: str,
    items: Sequence[tuple[str, int]],
    colours: Mapping[str, str] | None = None,
    keys: Sequence[str] = (),
    empty: str = "None.",
) -> SafeString:
    """One labelled bar per item (open findings by severity); ``keys`` pick the colours."""
    if not items or not any(count for _, count in items):
        return _empty(title, empty)
    top = nice_ceiling(max(count for _, count in items))
    row, label_width = 30, 110
    height = MARGIN_TOP + row * len(items) + 12
    body = []
    for i, (label, count) in enumerate(items):
        y = MARGIN_TOP + row * i
        colour = (colours or {}).get(keys[i] if i < len(keys) else label.lower(), PALETTE[i % len(PALETTE)])
        w = (WIDTH - label_width - 70) * count / top
        body.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" class="tick">{escape(label)}</text>'
        )
        body.append(f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="18" fill="{colour}"/>')
        body.append(f'<text x="{label_width + w + 6:.1f}" y="{y + 17}" class="value">{count}</text>')
    total = sum(count for _, count in items)
    return _svg(title, f"{title}: {total} in all.", body, height=height)


def bars_and_lines(
    *,
    title: str,
    categories: Sequence[str],
    bars: tuple[str, Sequence[int]],
    lines: Mapping[str, Sequence[float | None]],
    line_unit: str = "h",
    empty: str = "No data.",
) -> SafeString:
    """Counts as bars on the left axis, and one or more measures as lines on the right axis (sessions
    per month, with the median hours to approval and to rotation). A ``None`` breaks a line."""
    name, counts = bars
    if not categories or not any(counts):
        return _empty(title, empty)
    top = nice_ceiling(max(counts))
    measured = [v for values in lines.values() for v in values if v is not None]
    line_top = nice_ceiling(max(measured)) if measured else 1.0
    x0, x1, y0, y1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM, MARGIN_TOP
    slot = (x1 - x0) / len(categories)
    body = _axis(top, x0=x0, x1=x1, y0=y0, y1=y1)
    body += _axis(line_top, x0=x0, x1=x1, y0=y0, y1=y1, right=True, unit=line_unit)
    for i, count in enumerate(counts):
        h = (y0 - y1) * count / top
        body.append(
            f'<rect x="{x0 + slot * i + slot * 0.2:.1f}" y="{y0 - h:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{h:.1f}" fill="#9ecae1">'
            f"<title>{escape(categories[i])}: {count} {escape(name)}</title></rect>"
        )
    for n, (line_name, values) in enumerate(lines.items()):
        colour = LINE_COLOURS[n % len(LINE_COLOURS)]
        segment: list[str] = []
        for i, value in enumerate(values):
            if value is None:
                body += _polyline(segment, colour)
                segment = []
                continue
            x, y = x0 + slot * (i + 0.5), y0 - (y0 - y1) * value / line_top
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(line_name)}, {escape(categories[i])}: "
                f"{value:.1f}{escape(line_unit)}</title></circle>"
            )
        body += _polyline(segment, colour)
    body += _x_labels(categories, x0=x0, slot=slot, y=y0 + 16)
    body += _legend(
        [name, *lines], ["#9ecae1", *LINE_COLOURS], y=y0 + 38, shapes=["bar", *["line"] * len(lines)]
    )
    return _svg(title, f"{title}: {sum(counts)} {name} over {len(categories)} periods.", body)


def _polyline(points: list[str], colour: str) -> list[str]:
    if len(points) < 2:
        return []
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>']


def _empty(title: str, message: str) -> SafeString:
    body = [f'<text x="{WIDTH / 2:.0f}" y="40" text-anchor="middle" class="empty">{escape(message)}</text>']
    return _svg(title, message, body, height=64, css_class="chart chart-empty")
