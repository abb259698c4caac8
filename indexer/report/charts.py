"""The report's charts: Vega-Lite specs built with altair, rendered to SVG by vl-convert (offline)."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import vl_convert as vlc


def _base(rows: list[dict[str, Any]], title: str, font: str) -> Any:
    data = alt.Data(values=rows)  # type: ignore[no-untyped-call]
    return alt.Chart(data, title=title, width=460, height=220).configure(font=font)


def participation(rows: list[dict[str, Any]], t: dict[str, str], font: str) -> dict[str, Any]:
    """Sessions and participants per day: rows {day, series, value}."""
    chart = (
        _base(rows, t["chart_participation"], font)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:O", title=t["day"]),
            y=alt.Y("value:Q", title=t["count"]),
            color=alt.Color("series:N", title=None),
        )
    )
    return dict(chart.to_dict())


def kilograms_by_area(rows: list[dict[str, Any]], t: dict[str, str], font: str) -> dict[str, Any]:
    """rows {area, kilograms}."""
    chart = (
        _base(rows, t["chart_kilograms"], font)
        .mark_bar()
        .encode(
            x=alt.X("area:N", title=t["area"]),
            y=alt.Y("kilograms:Q", title="kg"),
        )
    )
    return dict(chart.to_dict())


def tokens(rows: list[dict[str, Any]], t: dict[str, str], font: str) -> dict[str, Any]:
    """rows {day, series (issued | redeemed), points}."""
    chart = (
        _base(rows, t["chart_tokens"], font)
        .mark_bar()
        .encode(
            x=alt.X("day:O", title=t["day"]),
            xOffset="series:N",
            y=alt.Y("points:Q", title=t["points"]),
            color=alt.Color("series:N", title=None),
        )
    )
    return dict(chart.to_dict())


def funnel(rows: list[dict[str, Any]], t: dict[str, str], font: str) -> dict[str, Any]:
    """rows {order, stage, items}: submitted → supported → answered → closed."""
    chart = (
        _base(rows, t["chart_funnel"], font)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=alt.EncodingSortField("order"), title=None),
            x=alt.X("items:Q", title=t["items"]),
        )
    )
    return dict(chart.to_dict())


def svg(spec: dict[str, Any]) -> str:
    """The chart as SVG text (its labels stay text, in the report's embedded font)."""
    out = vlc.vegalite_to_svg(json.dumps(spec))
    return str(out)
