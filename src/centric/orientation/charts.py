"""Plotly figures of the orientation scores (``plotly.graph_objects.Figure``), and the same as plain dicts for the
report (``*_spec``). Names that come from the data are HTML-escaped (Plotly renders a subset of HTML)."""

from __future__ import annotations

import html
from typing import Any

from ..report.charts import BLUE, GREY, _layout
from .criteria import criterion_names


def _label(value: Any, names: dict[str, str]) -> str:
    return html.escape(names.get(str(value), str(value)))


def scores_spec(scores, title: str, lang: str = "en") -> dict[str, Any]:
    """Points with 95% error bars (horizontal bars per group; a line over quarters when grouped by period)."""
    t = scores.table
    names = criterion_names(lang)
    by = scores.by[0] if scores.by else None
    x = [_label(v, names) for v in t[by]] if by else ["all"]
    val = [round(float(v), 3) for v in t["score"]]
    plus = [0 if v != v else round(float(h) - s, 3) for h, s, v in zip(t["high"], val, t["high"], strict=True)]
    minus = [0 if v != v else round(s - float(lo), 3) for lo, s, v in zip(t["low"], val, t["low"], strict=True)]
    hover = [f"{xi}: {s:.2f} (n = {int(n)})" for xi, s, n in zip(x, val, t["n"], strict=True)]
    err = {"type": "data", "array": plus, "arrayminus": minus, "color": GREY}
    if by == "period":
        data = [{"type": "scatter", "mode": "lines+markers", "x": x, "y": val, "error_y": err, "text": hover,
                 "hoverinfo": "text", "line": {"color": BLUE}}]
        layout = _layout(title, "1–5")
        layout["yaxis"]["range"] = [1, 5]
    else:
        data = [{"type": "bar", "orientation": "h", "y": x, "x": val, "error_x": err, "hovertext": hover,
                 "hoverinfo": "text", "marker": {"color": BLUE}}]
        layout = _layout(title, "", height=max(260, 40 + 34 * len(x)))
        layout["xaxis"]["range"] = [1, 5]
    return {"data": data, "layout": layout}


def gap_spec(gap, title: str, lang: str = "en", all_name: str = "All criteria") -> dict[str, Any]:
    t = gap.table
    names = {**criterion_names(lang), "all": all_name}
    y = [_label(c, names) for c in t["criterion"]]
    val = [round(float(v), 3) for v in t["gap"]]
    plus = [0 if h != h else round(float(h) - v, 3) for h, v in zip(t["high"], val, strict=True)]
    minus = [0 if lo != lo else round(v - float(lo), 3) for lo, v in zip(t["low"], val, strict=True)]
    data = [{"type": "bar", "orientation": "h", "y": y, "x": val,
             "error_x": {"type": "data", "array": plus, "arrayminus": minus, "color": GREY},
             "marker": {"color": BLUE}, "hoverinfo": "x+y"}]
    return {"data": data, "layout": _layout(title, "", height=max(260, 40 + 34 * len(y)))}


def units_spec(link, y: str, title: str, x_title: str, y_title: str) -> dict[str, Any]:
    t = link.table.dropna(subset=["score", y])
    data = [{"type": "scatter", "mode": "markers+text", "x": [round(float(v), 3) for v in t["score"]],
             "y": [round(float(v), 2) for v in t[y]], "text": [html.escape(str(u)) for u in t["unit"]],
             "textposition": "top center", "marker": {"size": 10, "color": BLUE}, "hoverinfo": "text+x+y",
             "cliponaxis": False}]
    layout = _layout(title, y_title, height=360)
    layout["xaxis"]["title"] = {"text": html.escape(x_title)}
    return {"data": data, "layout": layout}


def _figure(spec: dict[str, Any]):
    import plotly.graph_objects as go

    return go.Figure(spec)


def scores_figure(scores, lang: str = "en"):
    return _figure(scores_spec(scores, "Customer orientation", lang))


def gap_figure(gap, lang: str = "en"):
    return _figure(gap_spec(gap, "Self view − manager's view", lang))


def units_figure(link, y: str = "nps", lang: str = "en"):
    return _figure(units_spec(link, y, "Stores: orientation and customers", "orientation (1–5)", y))
