"""The four levels of the factor analysis and the action matrix, from the ``mentions`` table.

1. **Importance** of each factor for the outcome — NPS 0–10, CSAT 1–5 or CES 1–7 of survey answers, or
   the star rating of reviews, whichever has the most answers with an analysed text unless chosen:
   key-driver analysis on per-answer features (factor mentioned positively / negatively): Johnson's
   relative weights and Shapley (LMG) over the two columns of each factor, with bootstrap 95%
   intervals and the model's R²; share of voice; impact on the outcome's figure (its value over all
   answers minus over the answers that do not mention the factor). With no outcome to explain (fewer
   than 30 scored answers, e.g. complaints only), factors are ranked by volume: share of voice.
2. **Perception**: net sentiment per factor (% positive − % negative mentions) with the NPS-style
   interval, and its trend by period with a z-test of each change.
3. **Competitors**: the same for every brand in the feedback, factors ranked per brand, a brand ×
   factor table of gaps with significance and the leader per factor.
4. **Action matrix**: importance × performance, quadrants fix / promote / maintain / observe,
   "uncertain" when an interval straddles a crosshair. The performance crosshair sits at neutral
   (net sentiment 0) or at the competitors' level, never below neutral, so a factor customers dislike
   is never promote or maintain; the mean of our own factors is an explicit "relative" option.

Plus **emerging issues**: factors whose negative share rose significantly against the previous period.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..errors import CentricError
from ..metrics import stats
from ..metrics.filters import Where, describe, normalise, restrict
from ..metrics.periods import headline_periods, label
from ..metrics.stats import two_proportions
from ..schema import COMPANY_SOURCES
from ..store import Store
from ..text.taxonomy import store_factors
from . import kda

OURS = "ours"
QUADRANTS = ("fix", "promote", "maintain", "observe")
OUTCOMES = ("nps", "csat", "ces", "rating")
OUTCOME_NAMES = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "rating": "rating"}
MIN_ANSWERS = 30  # the key-driver analysis needs at least this many answers with a score and a text
CROSSHAIRS = ("neutral", "competitors", "relative")


@dataclass
class Drivers:
    brand: str
    outcome: str | None  # "nps", "csat", "ces" or "rating"; None: no scored answers, factors ranked by volume
    answers: int  # answers with a score and an analysed text (0 when ranked by volume)
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
    outcome_counts: dict[str, int] = field(default_factory=dict)  # analysed texts with each outcome
    texts: int = 0  # analysed texts about the brand
    notes: list[str] = field(default_factory=list)  # what the reader should know about the store's state
    extra_factors: tuple[Any, ...] = ()  # factors added in the store (centric.text.taxonomy.store_factors)
    # competitor × factor from mystery shopping (centric.drivers.mystery): factor scores 0–100, not net sentiment;
    # empty without visits to competitors' stores
    mystery: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ranked_by(self) -> str:
        """"importance" (key drivers of the outcome) or "volume" (share of voice, without an outcome)."""
        return "importance" if self.outcome else "volume"

    @property
    def outcome_name(self) -> str:
        return OUTCOME_NAMES[self.outcome] if self.outcome else "volume"

    def crosshair_note(self) -> str:
        """Where the performance crosshair is and why, in English (the report translates its own)."""
        cy, how = self.crosshair[1], self.settings.get("crosshair")
        level = self.settings.get("competitors_level")
        at = f"performance crosshair at {cy:+.1f}: "
        if how == "relative":
            return at + "the mean of our own factors (relative: above it means better than our average, not liked)"
        if how == "given":
            where = "as given"
        elif self.settings.get("performance") == "gap":
            where = "the competitors' level (a gap of 0)"
        elif how == "competitors" and level is not None and level > 0:
            where = f"the competitors' level (their net sentiment on the same factors, {level:+.1f})"
        elif how == "competitors":
            where = f"neutral (the competitors' level, {level:+.1f}, is below it)"
        else:
            where = "neutral (as many positive as negative mentions)"
        return at + where + "; a factor with negative net sentiment is never promote or maintain"

    def names(self, lang: str = "en") -> dict[str, str]:
        """Factor id → its name in ``lang`` from the taxonomy (ids when the taxonomy is not built in)."""
        from ..text.taxonomy import load_taxonomy

        try:
            tax = load_taxonomy(self.taxonomy or "retail")
        except CentricError:
            return {}
        return {f.id: f.name(lang) for f in (*tax.factors, *self.extra_factors)}

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

        return {"brand": self.brand, "outcome": self.outcome, "ranked_by": self.ranked_by,
                "outcome_counts": self.outcome_counts, "texts": self.texts, "notes": self.notes,
                "crosshair_note": self.crosshair_note(), "answers": self.answers, "r2": clean(self.r2),
                "r2_interval": clean(list(self.r2_interval)), "crosshair": clean(list(self.crosshair)),
                "settings": self.settings, "factors": rows(self.factors),
                "competitors": self._competitor_rows(rows),
                "leaders": rows(self.leaders), "alerts": rows(self.alerts), "trend": rows(self.trend)}

    def _competitor_rows(self, rows) -> list[dict[str, Any]]:
        """The mentions' brand × factor rows; with visits to competitors' stores, each also has
        ``mystery_shopping`` (the factor scores of the visits, :mod:`centric.drivers.mystery`; None when that brand ×
        factor has none), and the brand × factor pairs only the visits have come after, their mention fields None."""
        out = rows(self.competitors)
        if self.mystery is None or not len(self.mystery):
            return out
        from .mystery import MEASURE

        ms = {(str(r["brand"]).lower(), r["factor"]): {"measure": MEASURE, **{k: v for k, v in r.items()
                                                                             if k not in ("brand", "factor")}}
              for r in rows(self.mystery)}
        for r in out:
            r["mystery_shopping"] = ms.pop((str(r["brand"]).lower(), r["factor"]), None)
        blank = dict.fromkeys(self.competitors.columns)
        spelled = {str(r["brand"]).lower(): r["brand"] for r in out}
        for (b, f), m in ms.items():
            name = spelled.get(b) or next(x for x in self.mystery["brand"] if str(x).lower() == b)
            out.append({**blank, "brand": name, "factor": f, "significant": None, "mystery_shopping": m})
        return out

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


def _mentions(store: Store, taxonomy: str | None):
    m = store.table("mentions")
    if taxonomy:
        m = m.filter(m.taxonomy == taxonomy)
    return m.select("source", "text_id", "sentence", "factor", "sentiment", "score", "confidence", "taxonomy")


FILTER_COLUMNS = ("channel", "touchpoint", "language")
"""Columns of both survey answers and feedback texts that ``where`` may filter by (besides the customer's
segment, country and city)."""


def _sources(store: Store, where: Where = None, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """(responses, feedback) with only the rows in [start, end) that ``where`` keeps."""
    r = restrict(store, store.table("responses"), where, FILTER_COLUMNS, "texts")
    f = restrict(store, store.table("feedback"), where, FILTER_COLUMNS, "texts")
    f = f.filter(~f.source.cast("string").isin(COMPANY_SOURCES))  # shoppers' and managers' notes: not customers'
    if start is not None:
        r, f = r.filter(r.responded_at >= start), f.filter(f.posted_at >= start)
    if end is not None:
        r, f = r.filter(r.responded_at < end), f.filter(f.posted_at < end)
    return r, f


def _texts(store: Store, where: Where = None, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """(survey comments, feedback texts) as expressions with text_id, at, brand and kind ("survey" for a
    survey comment, else the feedback's source: review, complaint, social …)."""
    r, f = _sources(store, where, start, end)
    r = r.select(text_id=r.response_id, at=r.responded_at, brand=ibis.literal("ours"), kind=ibis.literal("survey"))
    f = f.select(text_id=f.feedback_id, at=f.posted_at, brand=f.brand.fill_null(OURS), kind=f.source.cast("string"))
    return r, f


def mentions_frame(store: Store, taxonomy: str | None = None, where: Where = None, start: dt.datetime | None = None,
                   end: dt.datetime | None = None) -> pd.DataFrame:
    """Every mention with its text's time, brand and kind ("survey", "review", "complaint" …); with
    ``where``/``start``/``end``, of the texts in [start, end) with those values of channel, touchpoint,
    language or of their customer's segment, country or city."""
    m = _mentions(store, taxonomy)
    r, f = _texts(store, where, start, end)
    survey = m.filter(m.source == "responses").join(r, "text_id")
    feedback = m.filter(m.source == "feedback").join(f, "text_id")
    return survey.union(feedback).execute()


def _analysed(store: Store, taxonomy: str | None):
    a = store.table("text_analyses")
    if taxonomy:
        a = a.filter(a.taxonomy == taxonomy)
    return a.select("source", "text_id").distinct()  # a text analysed with two taxonomies counts once


def _answers(store: Store, brand: str, outcome: str, taxonomy: str | None, where: Where = None,
             start: dt.datetime | None = None, end: dt.datetime | None = None):
    if outcome not in OUTCOMES:
        raise CentricError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    a = _analysed(store, taxonomy)
    r, f = _sources(store, where, start, end)
    if outcome == "rating":
        scored = f.filter(f.rating.notnull(), f.source.cast("string") != "complaint", f.brand.fill_null(OURS) == brand)
        scored, source = scored.select(text_id=f.feedback_id, y=f.rating.cast("float64")), "feedback"
    else:
        scored = r.filter(r[outcome].notnull(), ibis.literal(brand) == OURS)  # survey answers are about us
        scored, source = scored.select(text_id=r.response_id, y=r[outcome].cast("float64")), "responses"
    return a.filter(a.source == source).join(scored, "text_id").select("source", "text_id", "y")


def answers_frame(store: Store, brand: str, outcome: str, taxonomy: str | None = None, where: Where = None,
                  start: dt.datetime | None = None, end: dt.datetime | None = None) -> pd.DataFrame:
    """One row per analysed text of ``brand`` with a score: ``source``, ``text_id`` and the score ``y``
    (NPS 0–10, CSAT 1–5 or CES 1–7 of a survey answer, or the rating of a review; complaints are left
    out)."""
    return _answers(store, brand, outcome, taxonomy, where, start, end).execute()


def outcome_counts(store: Store, brand: str = OURS, taxonomy: str | None = None, where: Where = None,
                   start: dt.datetime | None = None, end: dt.datetime | None = None) -> dict[str, int]:
    """How many analysed texts of ``brand`` carry each outcome."""
    return {o: int(_answers(store, brand, o, taxonomy, where, start, end).count().execute()) for o in OUTCOMES}


def choose_outcome(counts: dict[str, int]) -> str:
    """The outcome with the most answers (ties: NPS, CSAT, CES, rating, in that order)."""
    return max(OUTCOMES, key=lambda o: (counts.get(o, 0), -OUTCOMES.index(o)))


def store_state(store: Store, taxonomy: str | None = None) -> dict[str, int]:
    """What the text analysis has to work on: texts in the store, texts analysed, mentions found."""
    r = store.table("responses")
    comments = int(r.filter(r.comment.notnull() & (r.comment.strip() != "")).count().execute())
    feedback = int(store.table("feedback").count().execute())
    return {"texts": comments + feedback, "analysed": int(_analysed(store, taxonomy).count().execute()),
            "mentions": int(_mentions(store, taxonomy).count().execute())}


def no_mentions_message(state: dict[str, int], taxonomy: str | None = None) -> str:
    """Why there is nothing to analyse, told from the store's state."""
    if not state["texts"]:
        return "no survey comments or feedback texts in the store yet: load them with centric ingest"
    if not state["analysed"]:
        return f"none of the {state['texts']:,} texts has been analysed yet: run centric analyze first"
    tax = f" of the taxonomy {taxonomy!r}" if taxonomy else ""
    return (f"{state['analysed']:,} texts analysed{tax}, but none names a factor of it: check that the taxonomy "
            "fits the texts (centric analyze --taxonomy NAME)")


def analysed_texts(store: Store, brand: str, taxonomy: str | None = None, where: Where = None,
                   start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    """How many analysed texts are about ``brand`` (survey comments are about us)."""
    a = _analysed(store, taxonomy)
    r, f = _texts(store, where, start, end)
    n = int(a.filter(a.source == "feedback").join(f.filter(f.brand == brand), "text_id").count().execute())
    if brand == OURS:
        n += int(a.filter(a.source == "responses").join(r, "text_id").count().execute())
    return n


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

def score_points(y: np.ndarray, outcome: str) -> np.ndarray:
    """Each answer's contribution to the outcome's headline figure, so that the figure of a group of
    answers is their mean: NPS ±100/0 (promoter/detractor), CSAT 100 for 4–5 (% satisfied), CES 100
    for 5–7 (% easy), a rating its value (the mean rating).

    >>> score_points(np.array([10, 8, 3]), "nps").tolist(), score_points(np.array([5, 3]), "csat").tolist()
    ([100.0, 0.0, -100.0], [100.0, 0.0])
    """
    if outcome == "nps":
        return 100.0 * ((y >= 9).astype(float) - (y <= 6).astype(float))
    if outcome in ("csat", "ces"):
        return 100.0 * (y >= (4 if outcome == "csat" else 5)).astype(float)
    return y.astype(float)


def importance(y: np.ndarray, X: np.ndarray, factors: list[str], outcome: str = "nps", reps: int = 200,
               seed: int = 0, with_lmg: bool | None = None) -> tuple[pd.DataFrame, dict]:
    """Relative weights and LMG per factor (shares of R², in points of R²·100) with bootstrap
    intervals, share of voice and impact on the outcome's figure (NPS points, points of % satisfied
    or % easy, or the mean rating: see ``score_points``)."""
    keep = np.isfinite(y)  # answers without a score cannot say what drives it
    y, X = y[keep], X[keep]
    k = len(factors)
    groups = [[2 * i, 2 * i + 1] for i in range(k)]
    with_lmg = k <= kda.MAX_LMG_GROUPS if with_lmg is None else with_lmg
    data = kda.Compressed.of(y, X)
    Z, c = data.Z, data.counts
    yv = Z[:, 0]
    mentioned = (Z[:, 1::2] + Z[:, 2::2]) > 0  # (rows, k)
    points = score_points(yv, outcome)

    def one(w):
        R = kda.corr_weighted(Z, w)
        rw = kda.relative_weights(R, groups)
        lm = kda.lmg(R, groups) if with_lmg else np.full(k, np.nan)
        r2 = kda.r_squared(R)
        tot = w.sum()
        without = (w[:, None] * ~mentioned).sum(axis=0)
        allv = (w @ points) / tot
        wo = ((w * points) @ ~mentioned) / np.where(without > 0, without, np.nan)
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
    one before (two-proportion test). Every factor with enough mentions in both periods is tested, and
    the p-values are adjusted by Holm's method for how many were tested (``p_adjusted``, ``tests``), so
    that eleven factors do not raise an alarm by chance."""
    cols = ["factor", "period", "previous", "negative_share", "previous_share", "n", "previous_n", "z", "p_value",
            "p_adjusted", "tests"]
    if not len(mentions):
        return pd.DataFrame(columns=cols)
    last = pd.Timestamp(mentions["at"].max()).to_pydatetime()
    (c0, c1), (p0, p1) = headline_periods(last, "quarter" if period == "quarter" else "month")
    at = pd.to_datetime(mentions["at"])
    cur, prev = mentions[(at >= c0) & (at < c1)], mentions[(at >= p0) & (at < p1)]
    tested = []
    for f in sorted(set(cur["factor"]) | set(prev["factor"])):
        a, b = cur[cur["factor"] == f], prev[prev["factor"] == f]
        k1, n1 = int((a["sentiment"] == "negative").sum()), len(a)
        k2, n2 = int((b["sentiment"] == "negative").sum()), len(b)
        if n1 < min_n or n2 < min_n:
            continue
        z, p = two_proportions(k1, n1, k2, n2)
        tested.append({"factor": f, "period": label(period, c0), "previous": label(period, p0),
                       "negative_share": 100 * k1 / n1, "previous_share": 100 * k2 / n2, "n": n1,
                       "previous_n": n2, "z": z, "p_value": p})
    for row, q in zip(tested, stats.adjust_p([r["p_value"] for r in tested], "holm"), strict=True):
        row.update(p_adjusted=q, tests=len(tested))
    out = [r for r in tested if r["z"] > 0 and r["p_adjusted"] < alpha]
    return pd.DataFrame(out, columns=cols).sort_values("z", ascending=False) if out else pd.DataFrame(columns=cols)


# -- levels 3 and 4 ----------------------------------------------------------------------------------

def competitors(mentions: pd.DataFrame, brand: str, min_n: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gaps, leaders): every other brand's net sentiment per factor with the gap of ``brand`` to it
    (z-test of two net-sentiment shares; ``significant`` after Holm's adjustment over all the gaps
    tested, ``p_adjusted``), and the leading brand per factor (n ≥ min_n)."""
    p = perception(mentions, ["brand", "factor"])
    cols = ["brand", "factor", "n", "net", "net_low", "net_high", "net_se", "gap", "z", "p_value", "p_adjusted",
            "significant"]
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
                     "significant": False})
    # one family: every gap shown in the table; Holm-adjusted so that many factors × brands do not show
    # significant gaps by chance
    tested = [i for i, r in enumerate(rows) if r["p_value"] == r["p_value"]]
    for i, q in zip(tested, stats.adjust_p([rows[i]["p_value"] for i in tested], "holm"), strict=True):
        rows[i]["p_adjusted"], rows[i]["significant"] = q, bool(q < 0.05)
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

def quadrant(imp: float, perf: float, cx: float, cy: float, liked: bool = True) -> str:
    """fix: important and weak; promote: important and strong; maintain: less important and strong;
    observe: less important and weak. Strong means at or above the performance crosshair and, unless
    ``liked`` is false, not disliked.

    >>> quadrant(30, -20, 10, 5), quadrant(30, 40, 10, 5), quadrant(2, 40, 10, 5), quadrant(2, -20, 10, 5)
    ('fix', 'promote', 'maintain', 'observe')
    >>> quadrant(30, 12, 10, 0, liked=False)  # ahead of the competitors, yet disliked
    'fix'
    """
    strong = perf >= cy and liked
    if imp >= cx:
        return "promote" if strong else "fix"
    return "maintain" if strong else "observe"


def matrix(factors: pd.DataFrame, x: str = "importance", y: str = "performance",
           crosshair: tuple[float | None, float | None] = (None, None), at: str = "neutral",
           floor: str | None = None) -> tuple[pd.DataFrame, tuple[float, float]]:
    """Quadrant and uncertainty per factor.

    The importance crosshair sits at the mean importance unless given. The performance crosshair sits
    where given, else ``at``: "neutral" — 0, as many positive as negative mentions (with the gap to
    competitors as performance: their level) — or "relative" — the mean of the factors' own
    performance, where "strong" only means better than our average. ``floor``: a column (net
    sentiment) that must also be ≥ 0 for a factor to be strong, so that a factor customers dislike is
    never promote or maintain whatever the crosshair. A factor is uncertain when an interval
    straddles a crosshair (or the floor)."""
    if at not in ("neutral", "relative"):
        raise CentricError(f"unknown crosshair {at!r}; use neutral or relative")
    ok = factors[x].notna() & factors[y].notna()
    cx = float(factors.loc[ok, x].mean()) if crosshair[0] is None else float(crosshair[0])
    if crosshair[1] is not None:
        cy = float(crosshair[1])
    else:
        cy = float(factors.loc[ok, y].mean()) if at == "relative" else 0.0
    q, unsure = [], []
    for r in factors.to_dict(orient="records"):
        if r[x] != r[x] or r[y] != r[y]:
            q.append(None)
            unsure.append(True)
            continue
        liked = floor is None or not r[floor] < 0
        q.append(quadrant(r[x], r[y], cx, cy, liked))
        straddles_x = r.get(f"{x}_low", r[x]) <= cx <= r.get(f"{x}_high", r[x])
        straddles_y = r.get(f"{y}_low", r[y]) <= cy <= r.get(f"{y}_high", r[y])
        straddles_floor = floor is not None and r[y] >= cy and r.get(f"{floor}_low", r[floor]) <= 0 <= r.get(
            f"{floor}_high", r[floor])
        unsure.append(bool(straddles_x or straddles_y or straddles_floor))
    out = factors.copy()
    out["quadrant"], out["uncertain"] = q, unsure
    return out, (cx, cy)


# -- everything together -----------------------------------------------------------------------------

def quotes(store: Store, mentions: pd.DataFrame, per_factor: int = 3, width: int = 180) -> dict[str, list[str]]:
    """Three typical sentences per factor: the most confident mentions in the factor's prevailing
    direction (positive or negative), one per text, personal data masked (the customer's name and the author's
    among it), cut to ``width`` characters."""
    from ..text.masking import mask_personal, text_names
    from ..text.sentences import split_sentences

    out: dict[str, list[str]] = {}
    if not len(mentions):
        return out
    picks = []
    for f, g in mentions.groupby("factor"):
        pos, neg = (g["sentiment"] == "positive").sum(), (g["sentiment"] == "negative").sum()
        side = "negative" if neg >= pos else "positive"
        g = g[g["sentiment"] == side].assign(strength=lambda d: d["confidence"].fillna(0) * d["score"].abs().fillna(0))
        g = g.sort_values(["strength", "source", "text_id", "sentence"], ascending=[False, True, True, True],
                          kind="stable").drop_duplicates(["source", "text_id"]).head(per_factor)
        picks += [(f, r.source, r.text_id, int(r.sentence)) for r in g.itertuples()]
    texts: dict[tuple[str, str], str] = {}
    for source, table, key, col in (("responses", "responses", "response_id", "comment"),
                                    ("feedback", "feedback", "feedback_id", "text")):
        ids = [p[2] for p in picks if p[1] == source]
        if ids:
            t = store.table(table)
            found = t.filter(t[key].isin(ids)).select(key, col).execute()
            for tid, txt in zip(found[key], found[col], strict=True):
                texts[(source, tid)] = txt if isinstance(txt, str) else ""
    names = text_names(store, [(p[1], p[2]) for p in picks])
    for f, source, tid, si in picks:
        sents = split_sentences(texts.get((source, tid), "")) or [texts.get((source, tid), "")]
        s = mask_personal(sents[si] if si < len(sents) else sents[0], names.get((source, tid), ()))
        out.setdefault(f, []).append(s if len(s) <= width else s[: width - 1].rstrip() + "…")
    return out


def volume(mentions: pd.DataFrame, factors: list[str], texts: int) -> pd.DataFrame:
    """Share of voice per factor — % of the ``texts`` analysed texts that mention it, with a Wilson 95%
    interval — as its importance when there is no score to explain."""
    k = mentions.drop_duplicates(["source", "text_id", "factor"]).groupby("factor").size().reindex(factors, fill_value=0)
    texts = max(texts, int(mentions.drop_duplicates(["source", "text_id"]).shape[0]), 1)
    rows = []
    for f, n in k.items():
        lo, hi = stats.wilson(int(n), texts)  # in %
        sov = 100 * n / texts
        rows.append({"factor": f, "mentions_in_answers": int(n), "share_of_voice": sov, "share_of_voice_low": lo,
                     "share_of_voice_high": hi, "importance": sov, "importance_low": lo, "importance_high": hi})
    out = pd.DataFrame(rows)
    for c in ("relative_weight", "lmg", "impact"):
        out[c] = out[f"{c}_low"] = out[f"{c}_high"] = np.nan
    return out


def competitors_level(mentions: pd.DataFrame, brand: str, factors: list[str], min_n: int = 30) -> float | None:
    """The other brands' net sentiment over all their mentions of ``factors`` (None below ``min_n``)."""
    others = mentions[(mentions["brand"] != brand) & mentions["factor"].isin(factors)]
    if len(others) < min_n:
        return None
    return float(perception(others.assign(all="all"), ["all"]).iloc[0]["net"])


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{OUTCOME_NAMES[o]} {counts.get(o, 0):,}" for o in OUTCOMES)


def drivers(store: Store, brand: str = OURS, outcome: str | None = None, period: str = "month",
            performance: str = "net", importance_by: str = "relative_weight", reps: int = 200,
            crosshair: tuple[float | None, float | None] = (None, None), taxonomy: str | None = None,
            min_mentions: int = 10, seed: int = 0, crosshair_at: str | None = None, where: Where = None,
            start: dt.datetime | None = None, end: dt.datetime | None = None) -> Drivers:
    """The whole four-level analysis for ``brand`` ("ours" or a competitor's name).

    ``outcome``: what the key-driver analysis explains — "nps", "csat" or "ces" (survey answers, about
    our brand) or "rating" (the stars of reviews; the only one for competitors). By default the one
    with the most answers that have an analysed text; with fewer than 30 such answers for every
    outcome, the factors are ranked by volume instead (share of voice, complaints included) and
    ``outcome`` is None. ``performance``: "net" (net sentiment) or "gap" (net sentiment minus the
    mean of the other brands'). ``importance_by``: "relative_weight" or "lmg" (the share of R² either
    way). ``crosshair_at``: where the performance crosshair sits — "neutral" (net sentiment 0),
    "competitors" (the other brands' net sentiment on the same factors, or neutral when that is below
    it; the default when there are at least 30 such mentions) or "relative" (the mean of our own
    factors); a number in ``crosshair`` overrides it. Whatever the crosshair, except "relative", a
    factor with negative net sentiment is never promote or maintain. ``where``, ``start`` and ``end``
    keep only the texts and answers of [start, end) with some values of channel, touchpoint or language,
    or whose customer has some values of segment, country or city (``centric.metrics.filters``)."""
    if performance not in ("net", "gap"):
        raise CentricError(f"unknown performance measure {performance!r}; use net or gap")
    if importance_by not in ("relative_weight", "lmg"):
        raise CentricError(f"unknown importance measure {importance_by!r}; use relative_weight or lmg")
    if outcome is not None and outcome not in OUTCOMES:
        raise CentricError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    if crosshair_at is not None and crosshair_at not in CROSSHAIRS:
        raise CentricError(f"unknown crosshair {crosshair_at!r}; use one of {', '.join(CROSSHAIRS)}")
    m = mentions_frame(store, taxonomy, where, start, end)
    state = store_state(store, taxonomy)
    if not len(m) and state["mentions"] and (normalise(where) or start is not None or end is not None):
        raise CentricError("no mentions in this selection (" + (describe(where) or "the period") + ")")
    if not len(m):
        raise CentricError(no_mentions_message(state, taxonomy))
    brands = sorted(set(m["brand"]))
    if brand not in brands:
        raise CentricError(f"no mentions about brand {brand!r}; brands with mentions: {', '.join(brands)}")
    notes = []
    if state["texts"] > state["analysed"]:
        notes.append(f"{state['texts'] - state['analysed']:,} of {state['texts']:,} texts are not analysed yet: "
                     "run centric analyze to include them")
    counts = outcome_counts(store, brand, taxonomy, where, start, end)
    said = m[(m["brand"] == brand)]
    voice = said[said["kind"] != "complaint"]
    if outcome is not None and counts[outcome] < MIN_ANSWERS:
        raise CentricError(f"only {counts[outcome]:,} answers with {OUTCOME_NAMES[outcome]} and an analysed text for "
                           f"{brand}; the key-driver analysis needs at least {MIN_ANSWERS} (answers per outcome: "
                           f"{_counts_text(counts)}); without --outcome the factors are ranked by volume")
    if outcome is None:
        best = choose_outcome(counts)
        if counts[best] >= MIN_ANSWERS and len(voice):
            outcome = best
        else:
            notes.append(f"no outcome to explain: fewer than {MIN_ANSWERS} answers with a score and an analysed text "
                         f"that names a factor ({_counts_text(counts)}); factors are ranked by volume (share of "
                         "voice, complaints included) with their net sentiment")
    elif not len(voice):
        raise CentricError(f"the answers with {OUTCOME_NAMES[outcome]} name no factor (only complaints do); "
                           "without --outcome the factors are ranked by volume")
    mine = voice if outcome else said
    factors = sorted(set(mine["factor"]))
    texts = analysed_texts(store, brand, taxonomy, where, start, end)
    if outcome:
        answers = answers_frame(store, brand, outcome, taxonomy, where, start, end)
        X = features(answers, mine, factors)
        y = answers["y"].to_numpy(dtype=np.float64)
        imp, fit = importance(y, X, factors, outcome, reps=reps, seed=seed)
        if importance_by == "lmg" and fit["lmg"]:
            imp["importance"] = imp["lmg"] / fit["r2"] if fit["r2"] > 0 else np.nan
            imp["importance_low"] = imp["lmg_low"] / fit["r2"]
            imp["importance_high"] = imp["lmg_high"] / fit["r2"]
    else:
        imp = volume(mine, factors, texts)
        fit = {"r2": np.nan, "r2_low": np.nan, "r2_high": np.nan, "answers": 0, "lmg": False}
    per = perception(mine, ["factor"]).drop(columns=["_score"])
    table = imp.merge(per, on="factor", how="left")
    table["share_of_mentions"] = 100 * table["n"] / table["n"].sum()
    complaints = said[said["kind"] == "complaint"].drop_duplicates(["text_id", "factor"]).groupby("factor").size()
    table["complaints"] = table["factor"].map(complaints).fillna(0).astype(int)
    elsewhere = complaints[~complaints.index.isin(factors)].sort_values(ascending=False)
    if len(elsewhere):
        notes.append("complaints also name " + ", ".join(f"{f} ({n:,})" for f, n in elsewhere.items())
                     + ", which the scored answers do not")
    others = m[(m["brand"] != brand) & (m["kind"] != "complaint")]
    gaps, leaders = competitors(pd.concat([mine, others]), brand)
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
    level = competitors_level(others, brand, factors)
    mode = crosshair_at or ("competitors" if performance == "gap" or level is not None else "neutral")
    cy = crosshair[1]
    if cy is not None:
        mode = "given"
    elif mode == "competitors" and performance == "net":
        if level is None:
            raise CentricError("no competitors' mentions of these factors to put the crosshair at (30 needed); "
                               "use the neutral crosshair")
        cy = max(0.0, level)
    table, cross = matrix(table, "importance", "performance", (crosshair[0], cy),
                          at="relative" if mode == "relative" else "neutral",
                          floor=None if mode == "relative" else "net")
    q = quotes(store, mine)
    table["quotes"] = [q.get(f, []) for f in table["factor"]]
    table = table.sort_values("importance", ascending=False).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    by_brand = []
    for b in brands if outcome else []:
        if b == brand:
            continue
        a = answers_frame(store, b, "rating", taxonomy, where, start, end)
        if len(a) < MIN_ANSWERS:
            continue
        fb = sorted(set(others.loc[others["brand"] == b, "factor"]))
        imp_b, fit_b = importance(a["y"].to_numpy(dtype=np.float64), features(a, others[others["brand"] == b], fb),
                                  fb, "rating", reps=0)
        imp_b = imp_b.sort_values("importance", ascending=False)
        by_brand += [{"brand": b, "factor": r.factor, "importance": r.importance, "rank": i + 1, "r2": fit_b["r2"]}
                     for i, r in enumerate(imp_b.itertuples())]
    if outcome:
        by_brand += [{"brand": brand, "factor": r.factor, "importance": r.importance, "rank": r.rank, "r2": fit["r2"]}
                     for r in table.itertuples()]
    from .mystery import mystery_comparison

    # the checklist visits compare our stores with the competitors' for the period; the other filters (channel,
    # segment …) describe customers' texts and do not apply to them
    visits = mystery_comparison(store, start, end) if brand == OURS and not normalise(where) else None
    return Drivers(brand, outcome, fit["answers"], fit["r2"], (fit["r2_low"], fit["r2_high"]), table,
                   trend(mine, period), gaps, leaders,
                   pd.DataFrame(by_brand, columns=["brand", "factor", "importance", "rank", "r2"]),
                   emerging(mine, period), cross,
                   {"performance": performance, "importance": importance_by if outcome else "share_of_voice",
                    "reps": reps, "period": period, "min_mentions": min_mentions, "lmg": fit["lmg"],
                    "crosshair": mode, "competitors_level": level},
                   taxonomy or (str(mine["taxonomy"].mode().iloc[0]) if len(mine) else None),
                   counts, texts, notes, tuple(store_factors(store)),
                   visits if visits is not None else pd.DataFrame())
