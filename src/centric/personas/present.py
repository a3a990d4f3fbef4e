"""What the report's "Personas" section and the web pages show: the personas with their empathy maps,
computed once per state of the data, texts formatted in a language, and their Plotly figures."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CentricError
from ..store import Store
from .cards import Personas, personas
from .empathy import CELLS, EmpathyMap, empathy_maps

if TYPE_CHECKING:
    import plotly.graph_objects as go


@dataclass
class Bundle:
    """The personas of a store and the empathy map of each (in persona order)."""
    result: Personas
    maps: list[EmpathyMap]


_CACHE: OrderedDict[tuple, Bundle | None] = OrderedDict()
_LOCK = threading.Lock()


def _signature(store: Store) -> tuple:
    counts = store.counts()
    keep = ("customers", "orders", "responses", "feedback", "events", "mentions", "text_analyses", "customer_scores")
    s = store.table("customer_scores")
    return (str(store.path), *(counts.get(t) for t in keep), str(s.scored_at.max().execute()))


def bundle(store: Store, seed: int = 0) -> Bundle | None:
    """The personas (k chosen, ``seed``) and their empathy maps, or None when there are too few customers
    with orders. Kept in memory for the same data, so the report and the pages compute them once."""
    key = (*_signature(store), seed)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    try:
        r = personas(store, seed=seed)
        b: Bundle | None = Bundle(r, empathy_maps(store, r))
    except CentricError:
        b = None
    with _LOCK:
        _CACHE[key] = b
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    return b


def _labels(_) -> dict[str, Any]:
    return {
        "cells": {"says": _("Says"), "thinks": _("Thinks"), "does": _("Does"), "feels": _("Feels"),
                  "pains": _("Pains"), "gains": _("Gains")},
        "emotions": {"joy": _("joy"), "anger": _("anger"), "sadness": _("sadness"), "fear": _("fear"),
                     "surprise": _("surprise"), "disgust": _("disgust"), "anticipation": _("anticipation"),
                     "trust": _("trust")},
        "phrases": {
            "frequent buyers": _("frequent buyers"), "one-time buyers": _("one-time buyers"),
            "big spenders": _("big spenders"), "small spenders": _("small spenders"),
            "large baskets": _("large baskets"), "small baskets": _("small baskets"),
            "long silent": _("long silent"), "recent buyers": _("recent buyers"),
            "long-standing customers": _("long-standing customers"), "newcomers": _("newcomers"),
            "slow to come back": _("slow to come back"), "quick to come back": _("quick to come back"),
            "likely to return": _("likely to return"), "drifting away": _("drifting away"),
            "high expected value": _("high expected value"), "low expected value": _("low expected value"),
            "{x} buyers": _("{x} buyers"), "buy {x}": _("buy {x}"), "reach {x}": _("reach {x}"),
            "stop before {x}": _("stop before {x}"), "promoters": _("promoters"), "detractors": _("detractors"),
            "satisfied": _("satisfied"), "dissatisfied": _("dissatisfied"), "find it easy": _("find it easy"),
            "find it hard": _("find it hard"), "{x} critics": _("{x} critics"), "praise {x}": _("praise {x}"),
            "joyful": _("joyful"), "angry": _("angry"), "sad": _("sad"), "worried": _("worried"),
            "surprised": _("surprised"), "disgusted": _("disgusted"), "eager": _("eager"),
            "trusting": _("trusting"), "customers": _("customers")},
    }


def _evidence(it: dict[str, Any]) -> dict[str, Any]:
    ev = it.get("evidence") or {}
    texts = [{"label": f"{t['source']} {t['text_id']}", "customer": t.get("customer_id")} for t in ev.get("texts", [])]
    customers = [{"label": c, "customer": c} for c in ev.get("customers", [])] if not texts else []
    return {"refs": texts or customers, "total": ev.get("total", len(texts or customers))}


def empathy_context(m: EmpathyMap, f, names: dict[str, str]) -> dict[str, Any]:
    """What the empathy-map template shows of ``m``, in ``f``'s language."""
    _ = f.gettext
    lab = _labels(_)
    cells = []
    for key in CELLS:
        c = m.cells[key]
        items = []
        for it in c.items:
            label, value = str(it.get("label", "")), it.get("value")
            kind = it.get("kind")
            if key == "says":
                text, shown = label, ""
            elif key == "feels":
                text, shown = lab["emotions"].get(label, label), f.pct(value)
            elif key == "does":
                if kind == "orders":
                    text, shown = _("orders per customer"), f.num(value, 2)
                elif kind == "gap":
                    text, shown = _("median days between purchases"), f.num(value, 0)
                elif kind == "channel":
                    text, shown = _("channel: %(x)s") % {"x": it["key"].replace("_", " ")}, f.pct(value)
                elif kind == "category":
                    text, shown = _("category: %(x)s") % {"x": it["key"].replace("_", " ")}, f.pct(value)
                else:
                    text, shown = " → ".join(it.get("key") or []), f.pct(value)
            elif key == "thinks":
                text = names.get(label, label.replace("_", " "))
                shown = _("%(n)s customers (%(pos)s positive, %(neg)s negative)") % {
                    "n": f.num(value), "pos": f.num(it.get("positive")), "neg": f.num(it.get("negative"))}
            else:
                text = names.get(label, label.replace("_", " "))
                shown = _("%(share)s of those who wrote (all customers: %(all)s; ×%(lift)s)") % {
                    "share": f.pct(value), "all": f.pct(it.get("share_all")), "lift": f.num(it.get("lift"), 1)}
            items.append({"text": text, "value": shown, "thin": bool(it.get("thin")), "language": it.get("language"),
                          **_evidence(it)})
        cells.append({"key": key, "name": lab["cells"][key], "thin": c.thin, "customers": f.num(c.customers),
                      "texts": f.num(c.texts), "entries": items, "from_texts": key != "does"})
    return {"group": m.group, "title": m.title, "customers": f.num(m.customers), "cells": cells}


def name_of(p, f, names: dict[str, str]) -> str:
    lab = _labels(f.gettext)["phrases"]
    return p.name(lambda s: lab.get(s, s), names)


def section(b: Bundle | None, f, specs: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The "Personas" section's context (texts in ``f``'s language) and its chart in ``specs``."""
    if b is None:
        return None
    _ = f.gettext
    names = names or {}
    r = b.result
    cards = []
    for p, m in zip(r.personas, b.maps, strict=True):
        nps = p.nps
        cards.append({
            "number": p.number, "name": name_of(p, f, names), "customers": f.num(p.customers), "share": f.pct(p.share),
            "revenue": f.pct(p.revenue_share), "clv": f.pct(p.clv_share),
            "nps": "—" if nps.value is None else f.num(nps.value, 0, sign=True),
            "nps_ci": "" if nps.value is None else f"{f.num(nps.low, 0, sign=True)} … {f.num(nps.high, 0, sign=True)}",
            "nps_n": f.num(nps.n), "p_alive": "—" if p.p_alive is None else f.num(p.p_alive, 2),
            "lost": f.pct(p.likely_lost),
            "channels": ", ".join(f"{c.replace('_', ' ')} {f.pct(s, 0)}" for c, s in p.channels) or "—",
            "languages": ", ".join(f"{c} {f.pct(s, 0)}" for c, s in p.languages) or "—",
            "pains": ", ".join(f"{names.get(x['factor'], x['factor'].replace('_', ' '))} ×{f.num(x['lift'], 1)}"
                               for x in p.pains) or "—",
            "gains": ", ".join(f"{names.get(x['factor'], x['factor'].replace('_', ' '))} ×{f.num(x['lift'], 1)}"
                               for x in p.gains) or "—",
            "path": " → ".join(s for _j, s in p.path) or "—", "path_share": f.pct(p.path_share),
            "quotes": [{"text": q["text"], "language": q.get("language"), "ref": f"{q['source']} {q['text_id']}",
                        "customer": q["customer_id"]} for q in p.quotes],
            "empathy": empathy_context(m, f, names)})
    specs["chart-personas"] = profile_spec(r, f, names)
    sel = r.selection.table
    return {
        "cards": cards, "k": r.k, "customers": f.num(r.customers), "not_enough": f.num(r.not_enough),
        "currency": r.currency or "—", "seed": r.seed,
        "selection": [{"k": int(row.k), "stability": f.num(row.stability, 2), "silhouette": f.num(row.silhouette, 3),
                       "chosen": int(row.k) == r.k} for row in sel.itertuples()],
        "min_stability": f.num(0.75, 2), "rounds": r.selection.rounds, "sample": f.num(r.selection.sample),
    }


FEATURE_GROUPS = ("value", "channels", "categories", "journeys", "scores", "pains", "gains", "emotions")


def _feature_label(col: str, f, names: dict[str, str]) -> str:
    _ = f.gettext
    plain = {"orders": _("orders"), "revenue": _("revenue"), "order_value": _("order value"),
             "days_silent": _("days silent"), "tenure_days": _("days since the first order"),
             "gap_days": _("days between purchases"), "p_alive": _("P(alive)"), "clv": _("CLV"),
             "nps": "NPS", "csat": "CSAT", "ces": "CES"}
    if col in plain:
        return plain[col]
    kind, _sep, value = col.partition(":")
    value = names.get(value, value.partition("/")[2] or value).replace("_", " ")
    return {"channel": _("channel: %(x)s"), "category": _("category: %(x)s"), "stage": _("stage: %(x)s"),
            "pain": _("pain: %(x)s"), "gain": _("gain: %(x)s"),
            "emotion": _("emotion: %(x)s")}.get(kind, "%(x)s") % {"x": value}


def profile_spec(r: Personas, f, names: dict[str, str] | None = None) -> dict[str, Any]:
    """Heat map (Plotly specification): each persona's mean z-score minus everyone's on the features that
    set personas apart most (the union of each persona's top three)."""
    import html

    names = names or {}
    means = r.z.groupby(r.labels.reindex(r.z.index).to_numpy()).mean() - r.z.mean()
    cols: list[str] = []
    for i in means.index:
        for c in means.loc[i].abs().sort_values(ascending=False, kind="stable").index[:3]:
            if c not in cols:
                cols.append(c)
    z = [[round(float(means.loc[i, c]), 2) for c in cols] for i in means.index]
    x = [html.escape(_feature_label(c, f, names)) for c in cols]
    y = [f"{p.number}" for p in r.personas]
    return {"data": [{"type": "heatmap", "z": z, "x": x, "y": y, "zmid": 0,
                      "colorscale": [[0, "#dc2626"], [0.5, "#f8fafc"], [1, "#2563eb"]],
                      "hovertemplate": "%{y} · %{x}: %{z:+.2f}<extra></extra>", "colorbar": {"thickness": 12}}],
            "layout": {"title": {"text": html.escape(f.gettext("What sets each persona apart (difference from all "
                                                               "customers, in standard deviations)")),
                                 "x": 0, "font": {"size": 14}},
                       "height": 120 + 36 * len(y), "margin": {"l": 40, "r": 20, "t": 40, "b": 140},
                       "xaxis": {"type": "category", "automargin": True, "tickangle": -40},
                       "yaxis": {"type": "category", "autorange": "reversed", "title": {"text": "#"}},
                       "paper_bgcolor": "white", "plot_bgcolor": "white"}}


def profile_figure(r: Personas, lang: str = "en") -> go.Figure:
    """The profile heat map as a Plotly figure (see ``profile_spec``)."""
    import plotly.graph_objects as go

    from ..report.i18n import Formatter

    return go.Figure(profile_spec(r, Formatter(lang)))


def selection_figure(r: Personas) -> go.Figure:
    """Stability (mean adjusted Rand index) and silhouette by k, the chosen k marked."""
    import plotly.graph_objects as go

    t = r.selection.table
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t["k"], y=t["stability"], name="stability (mean ARI)", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=t["k"], y=t["silhouette"], name="silhouette", mode="lines+markers", yaxis="y2"))
    fig.add_vline(x=r.k, line_dash="dot")
    fig.update_layout(yaxis={"title": "ARI"}, yaxis2={"title": "silhouette", "overlaying": "y", "side": "right"})
    return fig


def factor_names(store: Store, lang: str) -> dict[str, str]:
    """Factor id → its name in ``lang`` (the store's taxonomy)."""
    from ..text.taxonomy import active_taxonomy

    try:
        return {f.id: f.name(lang) for f in active_taxonomy(store).factors}
    except CentricError:
        return {}


def render(template: str, lang: str, **ctx: Any):
    """One of the report's persona templates (``_section_personas.html``, ``_personas_empathy.html``)
    rendered in ``lang`` as HTML, for the web pages."""
    from markupsafe import Markup

    from ..report import _environment

    return Markup(_environment(lang).get_template(template).render(**ctx))
