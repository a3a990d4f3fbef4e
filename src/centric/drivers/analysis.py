"""The four levels of the factor analysis and the action matrix, from the ``mentions`` table.

1. **Importance** of each factor for the overall score (NPS 0–10 of survey answers, or the star rating
   of reviews): key-driver analysis on per-answer features (factor mentioned positively / negatively):
   Johnson's relative weights and Shapley (LMG) over the two columns of each factor, with bootstrap 95%
   intervals and the model's R²; share of voice; impact on NPS (NPS of all answers minus NPS of the
   answers that do not mention the factor).
2. **Perception**: net sentiment per factor (% positive − % negative mentions) with the NPS-style
   interval, and its trend by period with a z-test of each change.
3. **Competitors**: the same for every brand in the feedback, factors ranked per brand, a brand ×
   factor table of gaps with significance and the leader per factor.
4. **Action matrix**: importance × performance, crosshairs at the means (or given values), quadrants
   fix / promote / maintain / observe, "uncertain" when an interval straddles a crosshair.

Plus **emerging issues**: factors whose negative share rose significantly against the previous period.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CentricError
from ..metrics import stats
from ..metrics.periods import label
from ..metrics.stats import two_proportions
from ..store import Store
from . import kda

OURS = "ours"
QUADRANTS = ("fix", "promote", "maintain", "observe")


@dataclass
class Drivers:
    brand: str
    outcome: str  # "nps" or "rating"
    answers: int  # answers with a score and an analysed text
    r2: float
    r2_interval: tuple[float, float]
    factors: pd.DataFrame  # one row per factor: importance, perception, matrix position, quotes
    trend: pd.DataFrame  # factor × period: net sentiment, interval, change test
    competitors: pd.DataFrame  # brand × factor: net sentiment, gap to the brand analysed, test
    leaders: pd.DataFrame  # factor: leading brand, its net sentiment, whether the lead is significant
    importance_by_brand: pd.DataFrame  # brand × factor: relative weight share (% of R²), rank
    alerts: pd.DataFrame  # emerging issues
    crosshair: tuple[float, float]
    settings: dict[str, Any] = field(default_factory=dict)
    taxonomy: str | None = None

    def figure(self, lang: str = "en"):
        """The action matrix as a Plotly figure (hover shows each factor's figures and quotes)."""
        import plotly.graph_objects as go

        from ..report import matrix_chart
        from ..report.i18n import Formatter

        spec = matrix_chart(self, Formatter(lang))
        return go.Figure(spec["data"], spec["layout"])

    def names(self, lang: str = "en") -> dict[str, str]:
        """Factor id → its name in ``lang`` from the taxonomy (ids when the taxonomy is not built in)."""
        from ..text.taxonomy import load_taxonomy

        try:
            tax = load_taxonomy(self.taxonomy or "retail")
        except CentricError:
            return {}
        return {f.id: f.name(lang) for f in tax.factors}

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            if isinstance(v, float | np.floating):
                return None if not math.isfinite(v) else round(float(v), 4)
            if isinstance(v, np.integer):
                return int(v)
            if isinstance(v, np.bool_):
                return bool(v)
            if isinstance(v, dt.date | pd.Timestamp):
                return str(v)
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            return v

        def rows(df):
            return [{k: clean(v) for k, v in r.items()} for r in df.to_dict(orient="records")]

        return {"brand": self.brand, "outcome": self.outcome, "answers": self.answers, "r2": clean(self.r2),
                "r2_interval": clean(list(self.r2_interval)), "crosshair": clean(list(self.crosshair)),
                "settings": self.settings, "factors": rows(self.factors), "competitors": rows(self.competitors),
                "leaders": rows(self.leaders), "alerts": rows(self.alerts), "trend": rows(self.trend)}

    def to_frame(self) -> pd.DataFrame:
        """One row per factor (importance, perception, matrix position), with the brand and outcome."""
        f = self.factors.copy()
        f.insert(0, "outcome", self.outcome)
        f.insert(0, "brand", self.brand)
        return f

    def _repr_html_(self) -> str:
        from ..metrics.results import html_table, interval

        f = self.factors
        shown = pd.DataFrame({
            "factor": f.get("factor"), "importance %": f.get("importance"),
            "importance 95%": [interval(a, b) for a, b in zip(f.get("importance_low", []), f.get("importance_high", []),
                                                              strict=False)],
            "net sentiment": f.get("net"),
            "net 95%": [interval(a, b) for a, b in zip(f.get("net_low", []), f.get("net_high", []), strict=False)],
            "n": f.get("n"), "quadrant": f.get("quadrant")})
        lo, hi = self.r2_interval
        return html_table(shown, f"Key drivers of {self.outcome.upper()} for {self.brand}",
                          f": {self.answers:,} answers, R² {self.r2:.3f} (95% {lo:.3f} … {hi:.3f})")


# -- data ---------------------------------------------------------------------------------------------

def mentions_frame(store: Store, taxonomy: str | None = None) -> pd.DataFrame:
    """Every mention with its text's time, brand and scores (NPS for survey answers, rating for
    feedback). Complaints are left out: they are negative by purpose, and are measured as cases."""
    tax = " AND m.taxonomy = ?" if taxonomy else ""
    params = [taxonomy, taxonomy] if taxonomy else []
    return store.con.execute(f"""
        SELECT m.source, m.text_id, m.sentence, m.factor, m.sentiment, m.score, m.confidence, m.taxonomy,
               r.responded_at AS at, 'ours' AS brand, r.nps AS nps, r.csat AS csat, NULL::DOUBLE AS rating
        FROM mentions m JOIN responses r ON m.source = 'responses' AND m.text_id = r.response_id
        WHERE TRUE{tax}
        UNION ALL
        SELECT m.source, m.text_id, m.sentence, m.factor, m.sentiment, m.score, m.confidence, m.taxonomy,
               f.posted_at, coalesce(f.brand, 'ours'), NULL, NULL, f.rating
        FROM mentions m JOIN feedback f ON m.source = 'feedback' AND m.text_id = f.feedback_id
        WHERE f.source <> 'complaint'{tax}""", params).df()


def answers_frame(store: Store, brand: str, outcome: str, taxonomy: str | None = None) -> pd.DataFrame:
    """One row per analysed text with a score: ``y`` and the factors it mentions (as mentions rows)."""
    if outcome == "nps":
        sql = """SELECT a.source, a.text_id, r.nps AS y FROM text_analyses a
                 JOIN responses r ON a.source = 'responses' AND a.text_id = r.response_id
                 WHERE r.nps IS NOT NULL"""
    elif outcome == "rating":
        sql = """SELECT a.source, a.text_id, f.rating AS y FROM text_analyses a
                  JOIN feedback f ON a.source = 'feedback' AND a.text_id = f.feedback_id
                  WHERE f.rating IS NOT NULL AND coalesce(f.brand, 'ours') = ?"""
    else:
        raise CentricError(f"unknown outcome {outcome!r}; use nps or rating")
    if taxonomy:
        sql += " AND a.taxonomy = ?"
    params = ([brand] if outcome == "rating" else []) + ([taxonomy] if taxonomy else [])
    return store.con.execute(sql, params).df()


def features(answers: pd.DataFrame, mentions: pd.DataFrame, factors: list[str]) -> np.ndarray:
    """(n answers × 2·factors) 0/1: column 2i is factor i mentioned positively, 2i+1 negatively."""
    X = np.zeros((len(answers), 2 * len(factors)))
    if not len(answers) or not len(mentions):
        return X
    row = pd.Series(np.arange(len(answers)), index=pd.MultiIndex.from_frame(answers[["source", "text_id"]]))
    m = mentions[mentions["sentiment"].isin(["positive", "negative"]) & mentions["factor"].isin(factors)]
    idx = row.reindex(pd.MultiIndex.from_frame(m[["source", "text_id"]])).to_numpy()
    ok = ~np.isnan(idx)
    col = np.array([2 * factors.index(f) + (s == "negative") for f, s in zip(m["factor"], m["sentiment"], strict=True)])
    if len(col):
        X[idx[ok].astype(int), col[ok]] = 1.0
    return X


# -- level 1 -----------------------------------------------------------------------------------------

def importance(y: np.ndarray, X: np.ndarray, factors: list[str], outcome: str = "nps", reps: int = 200,
               seed: int = 0, with_lmg: bool | None = None) -> tuple[pd.DataFrame, dict]:
    """Relative weights and LMG per factor (shares of R², in points of R²·100) with bootstrap
    intervals, share of voice and impact on the score."""
    keep = np.isfinite(y)  # answers without a score cannot say what drives it
    y, X = y[keep], X[keep]
    k = len(factors)
    groups = [[2 * i, 2 * i + 1] for i in range(k)]
    with_lmg = k <= kda.MAX_LMG_GROUPS if with_lmg is None else with_lmg
    data = kda.Compressed.of(y, X)
    Z, c = data.Z, data.counts
    yv = Z[:, 0]
    mentioned = (Z[:, 1::2] + Z[:, 2::2]) > 0  # (rows, k)
    good, bad = (yv >= 9).astype(float), (yv <= 6).astype(float)

    def one(w):
        R = kda.corr_weighted(Z, w)
        rw = kda.relative_weights(R, groups)
        lm = kda.lmg(R, groups) if with_lmg else np.full(k, np.nan)
        r2 = kda.r_squared(R)
        tot = w.sum()
        without = (w[:, None] * ~mentioned).sum(axis=0)
        if outcome == "nps":
            allv = 100 * (w @ good - w @ bad) / tot
            wo = 100 * ((w * good) @ ~mentioned - (w * bad) @ ~mentioned) / np.where(without > 0, without, np.nan)
        else:
            allv = (w @ yv) / tot
            wo = ((w * yv) @ ~mentioned) / np.where(without > 0, without, np.nan)
        sov = 100 * (w @ mentioned) / tot
        return rw, lm, r2, allv - wo, sov

    rw, lm, r2, impact, sov = one(c)
    boots = [one(w) for w in data.replicates(reps, seed)]
    out = pd.DataFrame({"factor": factors, "mentions_in_answers": (c @ mentioned).astype(int)})
    for name, est, pos in (("relative_weight", rw, 0), ("lmg", lm, 1), ("impact", impact, 3),
                           ("share_of_voice", sov, 4)):
        scale = 100.0 if name in ("relative_weight", "lmg") else 1.0
        lo = hi = np.full(k, np.nan)
        if boots:
            lo, hi = kda.percentile_interval(np.array([b[pos] for b in boots]) * scale)
        out[name], out[f"{name}_low"], out[f"{name}_high"] = est * scale, lo, hi
    lo = hi = np.array([np.nan])
    if boots:
        lo, hi = kda.percentile_interval(np.array([b[2] for b in boots])[:, None])
    share = 100 * rw / r2 if r2 > 0 else np.full(k, np.nan)
    out["importance"] = share  # % of the explained variance
    samples = np.array([100 * b[0] / b[2] if b[2] > 0 else np.full(k, np.nan) for b in boots]) if boots else None
    if samples is not None:
        out["importance_low"], out["importance_high"] = kda.percentile_interval(samples)
    else:
        out["importance_low"] = out["importance_high"] = np.nan
    # stability: how often the factor keeps its rank among the bootstrap replicates (top-3 share)
    if boots:
        ranks = np.argsort(np.argsort(-np.array([b[0] for b in boots]), axis=1), axis=1)
        out["top3_share"] = 100 * (ranks < 3).mean(axis=0)
    return out, {"r2": r2, "r2_low": float(lo[0]), "r2_high": float(hi[0]), "answers": data.n, "lmg": with_lmg}


# -- level 2 -----------------------------------------------------------------------------------------

def perception(mentions: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Net sentiment (% positive − % negative mentions) with its 95% interval per group."""
    if not len(mentions):
        return pd.DataFrame(columns=[*by, "positive", "neutral", "negative", "n", "net", "net_low", "net_high",
                                     "net_se", "negative_share"])
    counts = (mentions.groupby([*by, "sentiment"]).size().unstack("sentiment", fill_value=0)
              .reindex(columns=["positive", "neutral", "negative"], fill_value=0).reset_index())
    rows = []
    for r in counts.to_dict(orient="records"):
        s = stats.nps_score(int(r["positive"]), int(r["neutral"]), int(r["negative"]))
        n = r["positive"] + r["neutral"] + r["negative"]
        rows.append({**r, "n": n, "net": s.value, "net_low": s.low, "net_high": s.high, "net_se": s.se,
                     "negative_share": 100 * r["negative"] / n if n else np.nan, "_score": s})
    return pd.DataFrame(rows)


def trend(mentions: pd.DataFrame, period: str) -> pd.DataFrame:
    """Net sentiment per factor and period, with the z-test of each change from the previous period."""
    if not len(mentions):
        return pd.DataFrame(columns=["factor", "period", "n", "net", "net_low", "net_high", "change", "p_value",
                                     "significant"])
    m = mentions.assign(period=[label(period, pd.Timestamp(t).to_pydatetime()) for t in mentions["at"]])
    p = perception(m, ["factor", "period"]).sort_values(["factor", "period"])
    out = []
    for _, g in p.groupby("factor"):
        prev = None
        for r in g.to_dict(orient="records"):
            ch = pv = np.nan
            if prev is not None:
                c = stats.change("net", prev["_score"], r["_score"], prev["period"], r["period"])
                ch, pv = c.delta, c.p_value
            out.append({"factor": r["factor"], "period": r["period"], "n": r["n"], "net": r["net"],
                        "net_low": r["net_low"], "net_high": r["net_high"], "change": ch, "p_value": pv,
                        "significant": bool(pv < 0.05) if pv == pv else False})
            prev = r
    return pd.DataFrame(out)


def emerging(mentions: pd.DataFrame, period: str, alpha: float = 0.05, min_n: int = 20) -> pd.DataFrame:
    """Factors whose share of negative mentions rose significantly in the last full period against the
    one before (two-proportion test)."""
    cols = ["factor", "period", "previous", "negative_share", "previous_share", "n", "previous_n", "z", "p_value"]
    if not len(mentions):
        return pd.DataFrame(columns=cols)
    from ..report.data import headline_periods

    last = pd.Timestamp(mentions["at"].max()).to_pydatetime()
    (c0, c1), (p0, p1) = headline_periods(last, "quarter" if period == "quarter" else "month")
    at = pd.to_datetime(mentions["at"])
    cur, prev = mentions[(at >= c0) & (at < c1)], mentions[(at >= p0) & (at < p1)]
    out = []
    for f in sorted(set(cur["factor"]) | set(prev["factor"])):
        a, b = cur[cur["factor"] == f], prev[prev["factor"] == f]
        k1, n1 = int((a["sentiment"] == "negative").sum()), len(a)
        k2, n2 = int((b["sentiment"] == "negative").sum()), len(b)
        if n1 < min_n or n2 < min_n:
            continue
        z, p = two_proportions(k1, n1, k2, n2)
        if z > 0 and p < alpha:
            out.append({"factor": f, "period": label(period, c0), "previous": label(period, p0),
                        "negative_share": 100 * k1 / n1, "previous_share": 100 * k2 / n2, "n": n1,
                        "previous_n": n2, "z": z, "p_value": p})
    return pd.DataFrame(out, columns=cols).sort_values("z", ascending=False) if out else pd.DataFrame(columns=cols)


# -- levels 3 and 4 ----------------------------------------------------------------------------------

def competitors(mentions: pd.DataFrame, brand: str, min_n: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gaps, leaders): every other brand's net sentiment per factor with the gap of ``brand`` to it
    (z-test of two net-sentiment shares), and the leading brand per factor (n ≥ min_n)."""
    p = perception(mentions, ["brand", "factor"])
    cols = ["brand", "factor", "n", "net", "net_low", "net_high", "net_se", "gap", "z", "p_value", "significant"]
    if not len(p):
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=["factor", "leader", "net", "runner_up", "significant"])
    mine = {r["factor"]: r for r in p[p["brand"] == brand].to_dict(orient="records")}
    rows = []
    for r in p[p["brand"] != brand].to_dict(orient="records"):
        own = mine.get(r["factor"])
        gap = z = pv = np.nan
        if own is not None:
            c = stats.change("net", r["_score"], own["_score"], r["brand"], brand)
            gap, z, pv = c.delta, c.z, c.p_value
        rows.append({"brand": r["brand"], "factor": r["factor"], "n": r["n"], "net": r["net"], "net_low": r["net_low"],
                     "net_high": r["net_high"], "net_se": r["net_se"], "gap": gap, "z": z, "p_value": pv,
                     "significant": bool(pv < 0.05) if pv == pv else False})
    leaders = []
    big = p[p["n"] >= min_n]
    for f, g in big.groupby("factor"):
        g = g.sort_values("net", ascending=False).to_dict(orient="records")
        sig = False
        if len(g) > 1:
            sig = stats.change("net", g[1]["_score"], g[0]["_score"], g[1]["brand"], g[0]["brand"]).significant
        leaders.append({"factor": f, "leader": g[0]["brand"], "net": g[0]["net"],
                        "runner_up": g[1]["brand"] if len(g) > 1 else None, "significant": bool(sig)})
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(leaders)


# -- the action matrix -------------------------------------------------------------------------------

def quadrant(imp: float, perf: float, cx: float, cy: float) -> str:
    """fix: important and weak; promote: important and strong; maintain: less important and strong;
    observe: less important and weak.

    >>> quadrant(30, -20, 10, 5), quadrant(30, 40, 10, 5), quadrant(2, 40, 10, 5), quadrant(2, -20, 10, 5)
    ('fix', 'promote', 'maintain', 'observe')
    """
    if imp >= cx:
        return "fix" if perf < cy else "promote"
    return "maintain" if perf >= cy else "observe"


def matrix(factors: pd.DataFrame, x: str = "importance", y: str = "performance",
           crosshair: tuple[float | None, float | None] = (None, None)) -> tuple[pd.DataFrame, tuple[float, float]]:
    """Quadrant and uncertainty per factor; crosshairs at the means unless given."""
    ok = factors[x].notna() & factors[y].notna()
    cx = float(factors.loc[ok, x].mean()) if crosshair[0] is None else float(crosshair[0])
    cy = float(factors.loc[ok, y].mean()) if crosshair[1] is None else float(crosshair[1])
    q, unsure = [], []
    for r in factors.to_dict(orient="records"):
        if r[x] != r[x] or r[y] != r[y]:
            q.append(None)
            unsure.append(True)
            continue
        q.append(quadrant(r[x], r[y], cx, cy))
        straddles_x = r.get(f"{x}_low", r[x]) <= cx <= r.get(f"{x}_high", r[x])
        straddles_y = r.get(f"{y}_low", r[y]) <= cy <= r.get(f"{y}_high", r[y])
        unsure.append(bool(straddles_x or straddles_y))
    out = factors.copy()
    out["quadrant"], out["uncertain"] = q, unsure
    return out, (cx, cy)


# -- everything together -----------------------------------------------------------------------------

def quotes(store: Store, mentions: pd.DataFrame, per_factor: int = 3, width: int = 180) -> dict[str, list[str]]:
    """Three typical sentences per factor: the most confident mentions in the factor's prevailing
    direction (positive or negative), one per text, cut to ``width`` characters."""
    from ..text.sentences import split_sentences

    out: dict[str, list[str]] = {}
    if not len(mentions):
        return out
    picks = []
    for f, g in mentions.groupby("factor"):
        pos, neg = (g["sentiment"] == "positive").sum(), (g["sentiment"] == "negative").sum()
        side = "negative" if neg >= pos else "positive"
        g = g[g["sentiment"] == side].assign(strength=lambda d: d["confidence"].fillna(0) * d["score"].abs().fillna(0))
        g = g.sort_values("strength", ascending=False).drop_duplicates(["source", "text_id"]).head(per_factor)
        picks += [(f, r.source, r.text_id, int(r.sentence)) for r in g.itertuples()]
    texts: dict[tuple[str, str], str] = {}
    for source, table, key, col in (("responses", "responses", "response_id", "comment"),
                                    ("feedback", "feedback", "feedback_id", "text")):
        ids = [p[2] for p in picks if p[1] == source]
        if ids:
            for tid, txt in store.con.execute(
                    f"SELECT {key}, {col} FROM {table} WHERE {key} IN ({', '.join('?' * len(ids))})", ids).fetchall():
                texts[(source, tid)] = txt or ""
    for f, source, tid, si in picks:
        sents = split_sentences(texts.get((source, tid), "")) or [texts.get((source, tid), "")]
        s = sents[si] if si < len(sents) else sents[0]
        out.setdefault(f, []).append(s if len(s) <= width else s[: width - 1].rstrip() + "…")
    return out


def drivers(store: Store, brand: str = OURS, outcome: str | None = None, period: str = "month",
            performance: str = "net", importance_by: str = "relative_weight", reps: int = 200,
            crosshair: tuple[float | None, float | None] = (None, None), taxonomy: str | None = None,
            min_mentions: int = 10, seed: int = 0) -> Drivers:
    """The whole four-level analysis for ``brand`` ("ours" or a competitor's name).

    ``outcome``: "nps" (survey answers; default for our brand when there are any) or "rating"
    (reviews' stars; the only one for competitors). ``performance``: "net" (net sentiment) or "gap"
    (net sentiment minus the mean of the other brands'). ``importance_by``: "relative_weight" or "lmg"
    (the share of R² either way)."""
    if performance not in ("net", "gap"):
        raise CentricError(f"unknown performance measure {performance!r}; use net or gap")
    if importance_by not in ("relative_weight", "lmg"):
        raise CentricError(f"unknown importance measure {importance_by!r}; use relative_weight or lmg")
    m = mentions_frame(store, taxonomy)
    if not len(m):
        raise CentricError("no factor mentions yet: run centric analyze first")
    brands = sorted(set(m["brand"]))
    if brand not in brands:
        raise CentricError(f"no mentions about brand {brand!r}; brands with mentions: {', '.join(brands)}")
    mine = m[m["brand"] == brand]
    if outcome is None:
        outcome = "nps" if brand == OURS and mine["nps"].notna().any() else "rating"
    answers = answers_frame(store, brand, outcome, taxonomy)
    factors = sorted(set(mine["factor"]))
    if len(answers) < 30:
        raise CentricError(f"only {len(answers)} answers with a {outcome} and an analysed text for {brand}; "
                           "the key-driver analysis needs at least 30")
    X = features(answers, mine, factors)
    y = answers["y"].to_numpy(dtype=np.float64)
    imp, fit = importance(y, X, factors, outcome, reps=reps, seed=seed)
    if importance_by == "lmg" and fit["lmg"]:
        imp["importance"] = imp["lmg"] / fit["r2"] if fit["r2"] > 0 else np.nan
        imp["importance_low"] = imp["lmg_low"] / fit["r2"]
        imp["importance_high"] = imp["lmg_high"] / fit["r2"]
    per = perception(mine, ["factor"]).drop(columns=["_score"])
    table = imp.merge(per, on="factor", how="left")
    table["share_of_mentions"] = 100 * table["n"] / table["n"].sum()
    gaps, leaders = competitors(m, brand)
    if performance == "gap":
        g = gaps.groupby("factor").agg(others=("net", "mean"), k=("net", "size"))
        se_others = gaps.groupby("factor")["net_se"].apply(lambda s: math.sqrt((s ** 2).sum()) / len(s))
        table = table.join(g, on="factor").join(se_others.rename("se_others"), on="factor")
        table["performance"] = table["net"] - table["others"]
        half = stats.Z95 * np.sqrt(table["net_se"] ** 2 + table["se_others"] ** 2)
        table["performance_low"], table["performance_high"] = table["performance"] - half, table["performance"] + half
        table = table.drop(columns=["k"])
    else:
        table["performance"] = table["net"]
        table["performance_low"], table["performance_high"] = table["net_low"], table["net_high"]
    small = table["n"].fillna(0) < min_mentions
    table.loc[small, ["performance"]] = np.nan
    table, cross = matrix(table, "importance", "performance", crosshair)
    q = quotes(store, mine)
    table["quotes"] = [q.get(f, []) for f in table["factor"]]
    table = table.sort_values("importance", ascending=False).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    by_brand = []
    for b in brands:
        if b == brand:
            continue
        a = answers_frame(store, b, "rating", taxonomy)
        if len(a) < 30:
            continue
        fb = sorted(set(m.loc[m["brand"] == b, "factor"]))
        imp_b, fit_b = importance(a["y"].to_numpy(dtype=np.float64), features(a, m[m["brand"] == b], fb), fb,
                                  "rating", reps=0)
        imp_b = imp_b.sort_values("importance", ascending=False)
        by_brand += [{"brand": b, "factor": r.factor, "importance": r.importance, "rank": i + 1, "r2": fit_b["r2"]}
                     for i, r in enumerate(imp_b.itertuples())]
    by_brand += [{"brand": brand, "factor": r.factor, "importance": r.importance, "rank": r.rank, "r2": fit["r2"]}
                 for r in table.itertuples()]
    return Drivers(brand, outcome, fit["answers"], fit["r2"], (fit["r2_low"], fit["r2_high"]), table,
                   trend(mine, period), gaps, leaders, pd.DataFrame(by_brand), emerging(mine, period), cross,
                   {"performance": performance, "importance": importance_by, "reps": reps, "period": period,
                    "min_mentions": min_mentions, "lmg": fit["lmg"]},
                   taxonomy or (str(mine["taxonomy"].mode().iloc[0]) if len(mine) else None))
