"""Plotly specifications (plain dicts) of the observation notes: the factors they raise, split by sentiment."""

from __future__ import annotations

import html
from typing import Any

from ..report.charts import GREEN, GREY, RED, _layout


def factors_spec(summary, unit: str | None, title: str, names: dict[str, str] | None = None,
                 legend: tuple[str, str, str] = ("positive", "neutral", "negative"), top: int = 10) -> dict[str, Any]:
    """Horizontal stacked bars: per factor the mentions in the notes (of ``unit``, or of every store)."""
    names = names or {}
    fa = summary.factors if unit is None else summary.factors[summary.factors["store"] == unit]
    g = fa.groupby("factor").agg(mentions=("mentions", "sum"), positive=("positive", "sum"),
                                 negative=("negative", "sum")).reset_index() if len(fa) else fa
    if len(g):
        g = g.sort_values(["mentions", "factor"], ascending=[True, False]).tail(top)
    y = [html.escape(names.get(f, f)) for f in g["factor"]] if len(g) else []
    pos = [int(v) for v in g["positive"]] if len(g) else []
    neg = [int(v) for v in g["negative"]] if len(g) else []
    neu = [int(m) - p - n for m, p, n in zip(g["mentions"], pos, neg, strict=True)] if len(g) else []
    data = [{"type": "bar", "orientation": "h", "y": y, "x": xs, "name": html.escape(nm), "marker": {"color": c},
             "hoverinfo": "x+name"}
            for xs, nm, c in ((pos, legend[0], GREEN), (neu, legend[1], GREY), (neg, legend[2], RED))]
    layout = _layout(title, "", height=max(240, 60 + 30 * len(y)), barmode="stack", showlegend=True)
    layout["legend"] = {"orientation": "h", "y": -0.2}
    return {"data": data, "layout": layout}
