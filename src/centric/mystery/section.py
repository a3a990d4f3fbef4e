"""The mystery-shopping section of the report and of the web app's /mystery page: scores by store and region
with intervals, the trend by region, ours against the competitors by factor, the calibration pairs and the
failed visits with their cases."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..store import Store
from .calibration import Calibration, calibration
from .scores import OURS, ScoreTable, factor_figure, factor_scores, scores, trend_figure, visit_factor_scores
from .visits import visits_frame

__all__ = ["MysteryData", "context", "for_report"]


@dataclass(frozen=True)
class MysteryData:
    overall: ScoreTable
    by_store: ScoreTable
    by_region: ScoreTable
    factors: pd.DataFrame
    calibration: Calibration
    failed: pd.DataFrame  # visit_id, store, visited_at, case_id (our failed visits, newest first)
    factor_names: dict[str, dict[str, str]]
    visits: int
    competitor_visits: int
    notes: Any = None  # centric.observations.ObservationSummary of the shoppers' notes (None without notes)


def for_report(store: Store, start=None, end=None) -> MysteryData | None:
    """What the section shows (visits from ``start`` to before ``end``); None when there is no visit."""
    if not store.count("mystery_visits"):
        return None
    v = visits_frame(store)
    keep = pd.Series(True, index=v.index)
    if start is not None:
        keep &= v["visited_at"] >= pd.Timestamp(start)
    if end is not None:
        keep &= v["visited_at"] < pd.Timestamp(end)
    v = v[keep]
    if not len(v):
        return None
    ours = v[v["brand"].str.lower() == OURS]
    try:
        from ..text.taxonomy import active_taxonomy

        names = {f.id: dict(f.names) for f in active_taxonomy(store).factors}
    except Exception:  # noqa: BLE001 — no taxonomy: the ids are shown
        names = {}
    fs = visit_factor_scores(store)
    cal = calibration(store)
    cal = Calibration(cal.pairs[cal.pairs["visit_a"].isin(set(v["visit_id"]))].reset_index(drop=True), cal.window_days,
                      cal.max_diff, cal.min_agreement)
    failed = ours[ours["failed_critical"].astype(bool)].sort_values("visited_at", ascending=False)
    from .notes import summary as notes_summary

    notes = notes_summary(store, start=start, end=end, quotes=1)
    return MysteryData(scores(store, None, frame=v), scores(store, "store", frame=v), scores(store, "region", frame=v),
                       factor_scores(frame=fs[fs["visit_id"].isin(set(v["visit_id"]))]), cal,
                       failed[["visit_id", "store", "visited_at", "case_id"]].reset_index(drop=True), names,
                       len(ours), len(v) - len(ours), notes if notes.notes else None)


def _spec(fig) -> dict[str, Any]:
    """A figure as the plain specification the report's charts are (labels from the data escaped by the caller:
    Plotly renders a subset of HTML in text)."""
    spec = json.loads(fig.to_json())
    spec["layout"].pop("template", None)
    return {"data": spec["data"], "layout": spec["layout"]}


def _interval(f, lo, hi) -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{f.num(lo, 1)} … {f.num(hi, 1)}"


def _rows(frame: pd.DataFrame, key: str, f) -> list[dict[str, Any]]:
    return [{"name": r[key], "n": f.num(r["n"]), "mean": "—" if r["mean"] is None or pd.isna(r["mean"])
             else f.num(r["mean"], 1), "interval": _interval(f, r["low"], r["high"]), "failed": r["failed"]}
            for r in frame.to_dict(orient="records")]


def context(d: MysteryData | None, f, specs: dict[str, Any], live: bool = False) -> dict[str, Any] | None:
    """The template's context (texts formatted by ``f``, a report Formatter), adding the charts to ``specs``."""
    if d is None:
        return None
    _ = f.gettext
    lang = getattr(f, "lang", "en")
    names = {k: v.get(lang) or v.get("en") or k for k, v in d.factor_names.items()}
    tr = d.by_region.trend
    if len(tr):
        tr = tr.assign(region=tr["region"].astype(str).map(html.escape), period=tr["period"].map(f.period))
    specs["chart-mystery-trend"] = _spec(trend_figure(tr, "region", html.escape(_("Mystery-shopping score by month and region"))))
    comp = d.factors
    factors = []
    for fid in sorted(set(comp["factor"])):
        ours = comp[(comp["factor"] == fid) & (comp["brand"].str.lower() == OURS)]
        row = {"factor": names.get(fid, fid), "ours": "—", "ours_interval": "—", "ours_n": 0, "others": []}
        if len(ours):
            o = ours.iloc[0]
            row.update(ours=f.num(o["mean"], 1), ours_interval=_interval(f, o["low"], o["high"]), ours_n=int(o["n"]))
        for r in comp[(comp["factor"] == fid) & (comp["brand"].str.lower() != OURS)].to_dict(orient="records"):
            sig = r["p"] is not None and not pd.isna(r["p"]) and r["p"] < 0.05
            row["others"].append({"brand": r["brand"], "mean": f.num(r["mean"], 1), "n": int(r["n"]),
                                  "interval": _interval(f, r["low"], r["high"]),
                                  "diff": "—" if r["diff"] is None or pd.isna(r["diff"]) else f.num(r["diff"], 1, sign=True),
                                  "diff_interval": _interval(f, r["diff_low"], r["diff_high"]), "significant": sig})
        factors.append(row)
    brands = sorted({b for b in comp["brand"] if str(b).lower() != OURS})
    if brands:
        specs["chart-mystery-factors"] = _spec(factor_figure(
            comp.assign(brand=comp["brand"].where(comp["brand"].str.lower() != OURS, _("Ours")).astype(str).map(html.escape)),
            html.escape(_("Score by factor: ours and the competitors'")), {k: html.escape(v) for k, v in names.items()}))
    notes = None
    if d.notes is not None:
        from ..observations.present import store_rows

        ours_stores = set(d.by_store.frame["store"]) if "store" in d.by_store.frame else set()
        notes = store_rows(d.notes, d.factor_names, f)
        for r in notes:
            r["competitor"] = r["store"] not in ours_stores
    cal = d.calibration.pairs
    overall = d.overall.frame.iloc[0] if len(d.overall.frame) else None
    return {
        "live": live,
        "visits": f.num(d.visits), "competitor_visits": f.num(d.competitor_visits),
        "overall": None if overall is None else {"mean": f.num(overall["mean"], 1),
                                                 "interval": _interval(f, overall["low"], overall["high"]),
                                                 "failed": int(overall["failed"])},
        "stores": _rows(d.by_store.frame, "store", f), "regions": _rows(d.by_region.frame, "region", f),
        "factors": factors, "brands": brands, "notes": notes,
        "calibration": [{"store": r["store"], "a": r["shopper_a"], "b": r["shopper_b"], "days": f.num(r["days"], 1),
                         "items": r["items"], "agreement": f.pct(100 * r["agreement"], 0) if r["agreement"] is not None else "—",
                         "kappa": "—" if r["kappa"] is None or pd.isna(r["kappa"]) else f.num(r["kappa"], 2),
                         "diff": "—" if r["diff"] is None or pd.isna(r["diff"]) else f.num(r["diff"], 1, sign=True),
                         "flagged": bool(r["flagged"]), "visit_a": r["visit_a"], "visit_b": r["visit_b"]}
                        for r in cal.to_dict(orient="records")],
        "calibration_rule": {"window": d.calibration.window_days, "diff": f.num(d.calibration.max_diff),
                             "agreement": f.pct(100 * d.calibration.min_agreement, 0)},
        "failed": [{"visit_id": r["visit_id"], "store": r["store"], "date": f.date(r["visited_at"]),
                    "case_id": r["case_id"] if isinstance(r["case_id"], str) else None}
                   for r in d.failed.to_dict(orient="records")],
    }
