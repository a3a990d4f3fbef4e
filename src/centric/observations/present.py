"""What the report's section and the web app's pages show of the observation notes: ``report_data`` gathers them
(once per period), ``section`` formats them in a language and adds their chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..store import Store
from . import ObservationSummary, summary

__all__ = ["ObservationReport", "factor_names", "report_data", "section"]


@dataclass(frozen=True)
class ObservationReport:
    summary: ObservationSummary
    names: dict[str, dict[str, str]]  # factor id → language → name


def factor_names(store: Store) -> dict[str, dict[str, str]]:
    """Factor id → its names by language (the store's taxonomy; empty when it has none)."""
    from ..errors import CentricError
    from ..text.taxonomy import active_taxonomy

    try:
        return {f.id: dict(f.names) for f in active_taxonomy(store).factors}
    except CentricError:
        return {}


def report_data(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
                quotes: int = 2) -> ObservationReport | None:
    """The figures of the section, or None when no observation note is in [start, end)."""
    s = summary(store, start=start, end=end, quotes=quotes)
    return ObservationReport(s, factor_names(store)) if s.notes else None


def _name(names: dict[str, dict[str, str]], fid: str, lang: str) -> str:
    n = names.get(fid, {})
    return n.get(lang) or n.get("en") or fid


def store_rows(s: ObservationSummary, names: dict[str, dict[str, str]], f: Any, top: int = 4) -> list[dict[str, Any]]:
    """Per store: its notes and the factors they raise most (with the sign of their sentiment), its latest quotes."""
    rows = []
    for r in s.stores.itertuples():
        fa = s.factors[s.factors["store"] == r.store].head(top)
        factors = [{"name": _name(names, x.factor, f.lang), "notes": f.num(x.notes),
                    "net": f.num(x.net, 0, sign=True), "tone": "neg" if x.net < 0 else "pos" if x.net > 0 else ""}
                   for x in fa.itertuples()]
        quotes = [{"text": q["text"], "date": f.date(q["posted_at"]),
                   "factors": ", ".join(_name(names, x, f.lang) for x in q["factors"])}
                  for q in s.quotes.get(r.store, [])]
        rows.append({"store": r.store, "notes": f.num(r.notes), "analysed": f.num(r.analysed),
                     "first": f.date(r.first), "last": f.date(r.last), "factors": factors, "quotes": quotes})
    return rows


def section(data: ObservationReport | None, f: Any, specs: dict[str, Any],
            chart: str = "chart-observations-factors") -> dict[str, Any] | None:
    if data is None:
        return None
    from .charts import factors_spec

    _ = f.gettext
    names = {k: _name(data.names, k, f.lang) for k in data.names}
    specs[chart] = factors_spec(data.summary, None, _("Factors the observation notes raise (all stores)"), names,
                                (_("positive"), _("neutral"), _("negative")))
    return {"stores": store_rows(data.summary, data.names, f), "notes": f.num(data.summary.notes),
            "n_stores": f.num(len(data.summary.stores)), "chart": chart}
