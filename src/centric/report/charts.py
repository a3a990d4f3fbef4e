"""Plotly figure specifications (plain dicts) for the report. Labels that come from the data are
HTML-escaped, because Plotly renders a subset of HTML in text."""

from __future__ import annotations

import html
from typing import Any

from .i18n import Formatter

BLUE, RED, GREEN, GREY, BAND = "#2563eb", "#dc2626", "#16a34a", "#64748b", "rgba(37,99,235,0.15)"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#1f2937"}


def _layout(title: str, yaxis: str = "", height: int = 320, **extra) -> dict[str, Any]:
    layout = {
        "title": {"text": html.escape(title), "x": 0, "font": {"size": 14}},
        "font": FONT, "height": height, "margin": {"l": 60, "r": 20, "t": 40, "b": 70},
        "paper_bgcolor": "white", "plot_bgcolor": "white", "showlegend": False,
        "xaxis": {"gridcolor": "#e5e7eb", "automargin": True},
        "yaxis": {"title": {"text": html.escape(yaxis)}, "gridcolor": "#e5e7eb", "zerolinecolor": "#9ca3af",
                  "automargin": True},
        "hoverlabel": {"font": FONT},
    }
    layout.update(extra)
    return layout


def trend(breakdown, fmt: Formatter, title: str, unit: str) -> dict[str, Any]:
    """A line over periods with its 95% band; points with too few answers are shown hollow."""
    rows = [(g, s) for g, s in breakdown.rows if not s.no_data]
    x = [fmt.period(g["month"]) for g, _ in rows]
    y = [round(s.value, 2) for _, s in rows]
    lo = [round(s.low, 2) for _, s in rows]
    hi = [round(s.high, 2) for _, s in rows]
    n = [s.n for _, s in rows]
    hover = [f"{xi}: {fmt.num(yi, 1)}{unit} ({fmt.num(a, 1)} … {fmt.num(b, 1)}), n = {fmt.num(ni)}"
             for xi, yi, a, b, ni in zip(x, y, lo, hi, n, strict=True)]
    data = [
        {"type": "scatter", "x": x + x[::-1], "y": hi + lo[::-1], "fill": "toself", "fillcolor": BAND,
         "line": {"width": 0}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": y, "line": {"color": BLUE, "width": 2},
         "marker": {"size": 7, "color": [BLUE if k >= 30 else "white" for k in n], "line": {"color": BLUE, "width": 2}},
         "text": hover, "hoverinfo": "text", "name": title},
    ]
    return {"data": data, "layout": _layout(title, unit.strip())}


def bars(breakdown, fmt: Formatter, title: str, column: str) -> dict[str, Any]:
    """Horizontal bars with 95% error bars, one per group."""
    rows = sorted([(g, s) for g, s in breakdown.rows if not s.no_data], key=lambda r: r[1].value)
    names = [html.escape(str(g[column])) for g, _ in rows]
    vals = [round(s.value, 2) for _, s in rows]
    plus = [round(s.high - s.value, 2) for _, s in rows]
    minus = [round(s.value - s.low, 2) for _, s in rows]
    hover = [f"{nm}: {fmt.num(s.value, 1)} ({fmt.num(s.low, 1)} … {fmt.num(s.high, 1)}), n = {fmt.num(s.n)}"
             for nm, (_, s) in zip(names, rows, strict=True)]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": vals, "hovertext": hover, "hoverinfo": "text",
             "text": [fmt.num(v, 1) for v in vals], "textposition": "outside", "cliponaxis": False,
             "marker": {"color": [RED if v < 0 else BLUE for v in vals]},
             "error_x": {"type": "data", "array": plus, "arrayminus": minus, "color": GREY, "thickness": 1.2}}]
    return {"data": data, "layout": _layout(title, "", height=max(220, 60 + 28 * len(rows)))}


def backlog(points: list[tuple[str, int]], fmt: Formatter, title: str) -> dict[str, Any]:
    x = [fmt.period(m) for m, _ in points]
    y = [n for _, n in points]
    data = [{"type": "bar", "x": x, "y": y, "marker": {"color": GREY},
             "hovertemplate": "%{x}: %{y}<extra></extra>"}]
    return {"data": data, "layout": _layout(title, "")}


def funnel(jmap, fmt: Formatter, title: str, optional: str) -> dict[str, Any]:
    """A journey map's stages (``centric.journeys.JourneyMap``): required ones with the funnel's counts,
    which never grow, optional ones in grey with those of the previous required stage that took them."""
    stages = jmap.stages
    first = max(jmap.funnel()[0].reached, 1) if jmap.funnel() else 1
    names = [html.escape(s.stage) + (f" ({html.escape(optional)})" if s.optional else "") for s in stages]
    data = [{"type": "bar", "orientation": "h", "y": names, "x": [s.reached for s in stages],
             "marker": {"color": [GREY if s.optional else GREEN if s.stage == jmap.final_stage else BLUE
                                  for s in stages]},
             "text": [f"{fmt.num(s.reached)} ({fmt.pct(100 * s.reached / first)})" for s in stages],
             "textposition": "auto", "hovertemplate": "%{y}: %{text}<extra></extra>"}]
    layout = _layout(title, "", height=max(220, 60 + 34 * len(stages)))
    layout["yaxis"]["autorange"] = "reversed"
    return {"data": data, "layout": layout}


def churn_line(points, fmt: Formatter, title: str) -> dict[str, Any]:
    points = [p for p in points if p.rate is not None]  # a period with nobody active at its start
    x = [fmt.period(p.period) for p in points]
    data = [
        {"type": "scatter", "x": x + x[::-1], "y": [p.high for p in points] + [p.low for p in points][::-1],
         "fill": "toself", "fillcolor": "rgba(220,38,38,0.12)", "line": {"width": 0}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": [round(p.rate, 2) for p in points],
         "line": {"color": RED, "width": 2},
         "text": [f"{xi}: {fmt.pct(p.rate)} ({fmt.num(p.churned)} / {fmt.num(p.customers)})"
                  for xi, p in zip(x, points, strict=True)], "hoverinfo": "text"},
    ]
    return {"data": data, "layout": _layout(title, "%")}


def histogram(values, fmt: Formatter, title: str, unit: str) -> dict[str, Any]:
    """Distribution of a positive amount (CLV), clipped at the 99th percentile so one whale does not
    flatten the rest; the clipped customers are counted in the last bar."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    top = float(np.quantile(v, 0.99)) if len(v) else 0.0
    data = [{"type": "histogram", "x": [round(float(x), 2) for x in np.minimum(v, top)], "nbinsx": 40,
             "marker": {"color": BLUE}, "hovertemplate": "%{x}: %{y}<extra></extra>"}]
    return {"data": data, "layout": _layout(title, "", xaxis={"title": {"text": html.escape(unit)},
                                                             "gridcolor": "#e5e7eb", "automargin": True})}


def heatmap(heat: dict, fmt: Formatter, title: str, xlabel: str, ylabel: str) -> dict[str, Any]:
    """Mean P(alive) per cell with the number of customers in the hover."""
    z = [[None if v != v else round(float(v), 3) for v in row] for row in heat["mean"]]
    text = [[("" if v is None else fmt.num(v, 2)) for v in row] for row in z]
    hover = [[f"{fmt.num(n)}" for n in row] for row in heat["n"]]
    data = [{"type": "heatmap", "z": z, "x": heat["cols"], "y": heat["rows"], "zmin": 0, "zmax": 1,
             "colorscale": [[0, RED], [0.5, "#fde68a"], [1, GREEN]], "text": text, "texttemplate": "%{text}",
             "customdata": hover, "hovertemplate": "%{y} / %{x}: %{z:.2f} (n = %{customdata})<extra></extra>",
             "colorbar": {"thickness": 12}}]
    layout = _layout(title, ylabel, height=340)
    layout["xaxis"].update({"title": {"text": html.escape(xlabel)}, "type": "category"})
    layout["yaxis"]["type"] = "category"
    return {"data": data, "layout": layout}


def sankey(flows, labels: dict[str, str], title: str) -> dict[str, Any]:
    """Flows between loyalty phases from one period end to the next (``flows``: from, to, customers)."""
    left = [f"{labels.get(p, p)} ←" for p in ("new", "ordinary", "loyal", "advocate")]
    right = [labels.get(p, p) for p in ("ordinary", "loyal", "advocate")]
    li = {p: i for i, p in enumerate(("new", "ordinary", "loyal", "advocate"))}
    ri = {p: len(left) + i for i, p in enumerate(("ordinary", "loyal", "advocate"))}
    src, dst, val = [], [], []
    for r in flows:
        if r["from"] in li and r["to"] in ri:
            src.append(li[r["from"]])
            dst.append(ri[r["to"]])
            val.append(int(r["customers"]))
    colors = [GREY, BLUE, GREEN, "#7c3aed", BLUE, GREEN, "#7c3aed"]
    data = [{"type": "sankey", "node": {"label": [html.escape(x) for x in left + right], "color": colors,
                                        "pad": 14, "thickness": 14},
             "link": {"source": src, "target": dst, "value": val, "color": "rgba(100,116,139,0.25)"}}]
    return {"data": data, "layout": _layout(title, "", height=320)}


QUADRANT_COLORS = {"fix": RED, "promote": GREEN, "maintain": BLUE, "observe": GREY}


def action_matrix(factors, crosshair: tuple[float, float], fmt: Formatter, title: str, labels: dict[str, str],
                  x_title: str, y_title: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    """Importance × performance with 95% error bars, crosshairs and the four quadrants; hovering a
    factor shows its figures and three typical quotes (escaped: customers' words are untrusted)."""
    rows = [r for r in factors.to_dict(orient="records") if isinstance(r["quadrant"], str)]
    names = names or {}
    data = []
    for quad in ("fix", "promote", "maintain", "observe"):
        sub = [r for r in rows if r["quadrant"] == quad]
        if not sub:
            continue
        hover = []
        for r in sub:
            quotes = "<br>".join("“" + html.escape(q) + "”" for q in r.get("quotes") or [])
            hover.append(f"<b>{html.escape(names.get(r['factor'], r['factor']))}</b> — {html.escape(labels[quad])}"
                         f"{' (?)' if r['uncertain'] else ''}<br>"
                         f"{html.escape(x_title)}: {fmt.num(r['importance'], 1)} "
                         f"({fmt.num(r['importance_low'], 1)} … {fmt.num(r['importance_high'], 1)})<br>"
                         f"{html.escape(y_title)}: {fmt.num(r['performance'], 1, sign=True)} "
                         f"({fmt.num(r['performance_low'], 1, sign=True)} … {fmt.num(r['performance_high'], 1, sign=True)}),"
                         f" n = {fmt.num(r['n'])}<br>{quotes}")
        data.append({
            "type": "scatter", "mode": "markers+text", "name": html.escape(labels[quad]),
            "x": [max(round(r["importance"], 2), 0.01) for r in sub], "y": [round(r["performance"], 2) for r in sub],
            "text": [html.escape(names.get(r["factor"], r["factor"])) + ("?" if r["uncertain"] else "") for r in sub],
            "textposition": "top center", "hovertext": hover, "hoverinfo": "text",
            "customdata": [r["factor"] for r in sub],  # the factor's id: the web app's dashboards open it on a click
            "marker": {"size": [max(8, min(26, 6 + (r["n"] or 0) ** 0.5 / 2)) for r in sub],
                       "color": QUADRANT_COLORS[quad], "opacity": 0.85,
                       "symbol": ["circle-open" if r["uncertain"] else "circle" for r in sub]},
            "error_x": {"type": "data", "array": [round(r["importance_high"] - r["importance"], 2) for r in sub],
                        "arrayminus": [round(r["importance"] - max(r["importance_low"], 0.01), 2) for r in sub],
                        "color": QUADRANT_COLORS[quad], "thickness": 1, "width": 0},
            "error_y": {"type": "data", "array": [round(r["performance_high"] - r["performance"], 2) for r in sub],
                        "arrayminus": [round(r["performance"] - r["performance_low"], 2) for r in sub],
                        "color": QUADRANT_COLORS[quad], "thickness": 1, "width": 0},
        })
    cx, cy = crosshair
    layout = _layout(title, y_title, height=520, showlegend=True,
                     legend={"orientation": "h", "y": -0.15})
    # a log axis: a few factors usually take most of the importance, the rest would pile up at zero
    layout["xaxis"].update({"title": {"text": html.escape(x_title)}, "type": "log", "dtick": 1})
    layout["shapes"] = [
        {"type": "line", "x0": cx, "x1": cx, "yref": "paper", "y0": 0, "y1": 1, "line": {"color": GREY, "dash": "dot"}},
        {"type": "line", "y0": cy, "y1": cy, "xref": "paper", "x0": 0, "x1": 1, "line": {"color": GREY, "dash": "dot"}},
    ]
    corner = {"font": {"size": 13, "color": GREY}, "showarrow": False, "xref": "paper", "yref": "paper"}
    layout["annotations"] = [
        {**corner, "x": 0.99, "y": 0.02, "xanchor": "right", "text": html.escape(labels["fix"]).upper()},
        {**corner, "x": 0.99, "y": 0.98, "xanchor": "right", "text": html.escape(labels["promote"]).upper()},
        {**corner, "x": 0.01, "y": 0.98, "xanchor": "left", "text": html.escape(labels["maintain"]).upper()},
        {**corner, "x": 0.01, "y": 0.02, "xanchor": "left", "text": html.escape(labels["observe"]).upper()},
    ]
    return {"data": data, "layout": layout}
