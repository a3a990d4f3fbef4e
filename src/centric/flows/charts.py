"""Plotly figures of user flows: the Sankey of paths, the variants' coverage curve and the top of the
directly-follows graph. ``*_spec`` functions return plain figure dicts (what the report and the web app
embed), the others ``plotly.graph_objects.Figure``. Labels from the data are HTML-escaped, because
Plotly renders a subset of HTML in text."""

from __future__ import annotations

import html
from typing import Any

from .analysis import LEFT, NOWHERE, OTHER, Graph, Sankey, Variants

FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#1f2937"}
BLUE, GREY, RED, LIGHT = "#2563eb", "#94a3b8", "#dc2626", "rgba(100,116,139,0.25)"


def _layout(title: str, height: int) -> dict[str, Any]:
    return {"title": {"text": html.escape(title), "x": 0, "font": {"size": 14}}, "font": FONT, "height": height,
            "margin": {"l": 20, "r": 20, "t": 40, "b": 20}, "paper_bgcolor": "white", "plot_bgcolor": "white",
            "showlegend": False}


def sankey_spec(s: Sankey, title: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    """The paths as a Sankey diagram, one column a step; "other" in grey, the end ("left here",
    "came from nowhere") in red. ``names`` translates those three labels."""
    names = names or {}
    index = {(n.step, n.label): i for i, n in enumerate(s.nodes)}
    labels = [html.escape(names.get(n.label, n.label)) for n in s.nodes]
    colors = [RED if n.label in (LEFT, NOWHERE) else GREY if n.label == OTHER else BLUE for n in s.nodes]
    # links point forwards in time: backwards, from the earlier step to the later one (the chosen step right)
    src = [index[(lk.step, lk.source)] for lk in s.links]
    dst = [index[(lk.step + 1, lk.target)] for lk in s.links]
    if s.backwards:
        src, dst = dst, src
    link = {"source": src, "target": dst, "value": [lk.cases for lk in s.links], "color": LIGHT}
    data = [{"type": "sankey", "arrangement": "snap",
             "node": {"label": labels, "color": colors, "pad": 12, "thickness": 14,
                      "align": "right" if s.backwards else "left"},
             "link": link}]
    return {"data": data, "layout": _layout(title, 380)}


def coverage_spec(curve: list[float], title: str, x_title: str, y_title: str, limit: int = 200) -> dict[str, Any]:
    """The share of cases covered by the first 1, 2, … variants (``curve``: ``Variants.curve()``; at most
    ``limit`` points shown), with 80% marked."""
    curve = curve[:limit]
    data = [{"type": "scatter", "mode": "lines+markers", "x": list(range(1, len(curve) + 1)),
             "y": [round(100 * c, 2) for c in curve], "line": {"color": BLUE}, "marker": {"size": 4}}]
    layout = _layout(title, 300)
    layout["margin"] = {"l": 60, "r": 20, "t": 40, "b": 50}
    layout["xaxis"] = {"title": {"text": html.escape(x_title)}, "gridcolor": "#e5e7eb"}
    layout["yaxis"] = {"title": {"text": html.escape(y_title)}, "range": [0, 100], "gridcolor": "#e5e7eb"}
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 80, "y1": 80,
                         "line": {"color": RED, "dash": "dot", "width": 1}}]
    return {"data": data, "layout": layout}


def graph_spec(g: Graph, title: str, top: int = 15) -> dict[str, Any]:
    """The most frequent edges of the directly-follows graph as horizontal bars (label: from → to)."""
    edges = list(reversed(g.edges[:top]))
    data = [{"type": "bar", "orientation": "h", "x": [e.count for e in edges],
             "y": [html.escape(f"{e.source} → {e.target}") for e in edges], "marker": {"color": BLUE}}]
    layout = _layout(title, 60 + 22 * max(len(edges), 3))
    layout["margin"] = {"l": 20, "r": 20, "t": 40, "b": 30}
    layout["yaxis"] = {"automargin": True, "type": "category"}
    return {"data": data, "layout": layout}


def _figure(spec: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    return go.Figure(spec)


def sankey_figure(s: Sankey, title: str = "") -> Any:
    """``sankey_spec`` as a ``plotly.graph_objects.Figure``."""
    return _figure(sankey_spec(s, title or s._title()))


def coverage_figure(v: Variants, title: str = "") -> Any:
    """``coverage_spec`` as a ``plotly.graph_objects.Figure``."""
    return _figure(coverage_spec(v.curve(), title or v._title(), "variants, most frequent first", "% of cases"))


def graph_figure(g: Graph, title: str = "") -> Any:
    """``graph_spec`` as a ``plotly.graph_objects.Figure``."""
    return _figure(graph_spec(g, title or g._title()))
