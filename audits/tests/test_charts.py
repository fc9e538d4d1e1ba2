"""``audits.charts``: server-side SVG charts as pure functions of numbers (no database)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from audits import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_nice_ceiling_rounds_up_to_a_readable_axis_top() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 180, 2600)] == [1, 1, 5, 10, 20, 200, 5000]


def test_stacked_bars_draw_one_rect_per_non_zero_value_and_scale_to_the_tallest() -> None:
    svg = charts.stacked_bars(
        title="Root events per week",
        categories=["01 Dec", "08 Dec", "15 Dec"],
        series={"payments-prod": [2, 0, 4], "web-staging": [1, 3, 0]},
    )
    root = _parse(svg)
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert root.get("role") == "img"
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert len(bars) == 4
    heights = {rect.find(f"{SVG}title").text: float(rect.get("height")) for rect in bars}  # type: ignore[union-attr]
    # The tallest stack (4) reaches a top of 5: 4 of the 5 units of the plot's height.
    plot = charts.HEIGHT - charts.MARGIN_BOTTOM - charts.MARGIN_TOP
    assert abs(heights["payments-prod, 15 Dec: 4"] - plot * 4 / 5) < 0.1
    assert abs(heights["web-staging, 08 Dec: 3"] - plot * 3 / 5) < 0.1
    assert "payments-prod" in {t.text for t in root.iter(f"{SVG}text")}


def test_text_from_data_is_escaped() -> None:
    svg = charts.stacked_bars(title="t", categories=["w"], series={"<script>alert(1)</script>": [1]})
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    _parse(svg)


def test_an_empty_chart_says_so_instead_of_drawing_nothing() -> None:
    svg = charts.stacked_bars(title="t", categories=["a", "b"], series={"x": [0, 0]}, empty="No root events.")
    assert "No root events." in svg
    assert "chart-empty" in svg
    assert "No findings" in charts.horizontal_bars(title="t", items=[("High", 0)], empty="No findings")


def test_horizontal_bars_take_their_colour_from_the_key() -> None:
    svg = charts.horizontal_bars(
        title="Open findings by severity",
        items=[("Critical", 3), ("High", 1)],
        keys=["critical", "high"],
        colours=charts.SEVERITY_COLOURS,
    )
    fills = [rect.get("fill") for rect in _parse(svg).iter(f"{SVG}rect")]
    assert fills == [charts.SEVERITY_COLOURS["critical"], charts.SEVERITY_COLOURS["high"]]
    assert "Open findings by severity: 4 in all." in svg


def test_bars_and_lines_break_a_line_where_a_month_has_no_value() -> None:
    svg = charts.bars_and_lines(
        title="Sessions",
        categories=["Jan", "Feb", "Mar", "Apr"],
        bars=("sessions", [2, 1, 0, 3]),
        lines={"median hours to approval": [1.5, 2.0, None, 0.5], "median hours to rotation": [None] * 4},
    )
    root = _parse(svg)
    polylines = list(root.iter(f"{SVG}polyline"))
    # Jan to Feb is one segment; Apr alone draws a point, not a line; the rotation line has no point.
    assert len(polylines) == 1
    assert len(polylines[0].get("points", "").split()) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    assert "2h" in {t.text for t in root.iter(f"{SVG}text")}  # the right axis, in hours


def test_long_category_lists_label_only_some_ticks_so_a_phone_can_read_them() -> None:
    weeks = [f"w{i}" for i in range(24)]
    svg = charts.stacked_bars(title="t", categories=weeks, series={"a": [1] * 24})
    labels = [t.text for t in _parse(svg).iter(f"{SVG}text") if t.text in weeks]
    assert labels == weeks[::3]
