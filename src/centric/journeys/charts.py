"""Plotly figures of a journey map: the funnel of its stages and a heat map of stages × touchpoints."""

from __future__ import annotations

import plotly.graph_objects as go

from .map import JourneyMap

BLUE, GREY, RED, GREEN = "#2563eb", "#9ca3af", "#dc2626", "#16a34a"


def funnel_figure(m: JourneyMap) -> go.Figure:
    """Instances at each stage: required stages in the funnel's (never growing) counts, optional ones
    in grey with the count of those at the previous required stage that went through them."""
    fig = go.Figure(go.Bar(
        orientation="h", y=[s.stage + (" (optional)" if s.optional else "") for s in m.stages],
        x=[s.reached for s in m.stages],
        marker_color=[GREY if s.optional else GREEN if s.stage == m.final_stage else BLUE for s in m.stages],
        text=[f"{s.reached:,}" for s in m.stages], textposition="auto"))
    fig.update_layout(title=f"Journey “{m.journey}”: instances at each stage", yaxis_autorange="reversed",
                      height=max(240, 70 + 36 * len(m.stages)), margin={"l": 140, "r": 20, "t": 50, "b": 30})
    return fig


def map_figure(m: JourneyMap, metric: str = "nps") -> go.Figure:
    """Stages as columns, touchpoints as rows, coloured by the touchpoint's ``metric`` (nps, csat, ces or
    sentiment) where the stage happens there; the hover shows the cell's volume."""
    stages = [s.stage for s in m.stages]
    rows = [t.touchpoint for t in m.touchpoints]
    z, text = [], []
    for t in m.touchpoints:
        value = getattr(t, metric).value
        zr, tr = [], []
        for s in stages:
            c = m.cell(s, t.touchpoint)
            zr.append(value if c is not None else None)
            tr.append(f"{c.instances:,} instances" if c is not None else "")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(go.Heatmap(z=z, x=stages, y=rows, text=text, colorscale="RdYlGn", hoverongaps=False,
                               hovertemplate="%{y} × %{x}: %{z:.1f}<br>%{text}<extra></extra>"))
    fig.update_layout(title=f"Journey “{m.journey}”: {metric} by touchpoint and stage",
                      height=max(240, 80 + 40 * len(rows)), margin={"l": 120, "r": 20, "t": 50, "b": 40})
    return fig
