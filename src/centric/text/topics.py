"""Topics: what the texts of one source (complaints, reviews, social posts, survey comments …) are about,
from what ``centric analyze`` stored — per factor of the taxonomy: how many texts raise it and their share,
net sentiment with its 95% interval, the trend by period and typical quotes.

- **texts**: analysed texts of the selection that mention the factor (a text counts once however many of
  its sentences do); **share**: those texts as a percentage of every analysed text of the selection
  (shares add up to more than 100% when texts raise several factors). Placeholder answers ("did not
  answer", "n/a", only a score) are counted apart and are in no denominator.
- **net sentiment**: % positive − % negative of the factor's mentions (one per sentence, as in the
  drivers' perception), with the NPS-style 95% interval.
- **trend**: per period the share and net sentiment; each change from the previous period is tested
  (share: pooled two-proportion z-test; net sentiment: z-test of two independent estimates) when both
  periods have at least ``min_texts`` texts, and the p-values of all the changes tested in the view are
  corrected together by Holm's step-down method (family-wise error 5%); ``significant`` uses the
  corrected p.
- **quotes**: up to three sentences per factor from different texts, in the factor's prevailing
  direction (negative when at least as many mentions are negative), most confident first, whitespace
  collapsed, distinct and cut to ``width`` characters. They are customer text: escape them wherever shown.

Everything is read through Ibis (``Store.table``), so another backend can run it.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import pandas as pd

from ..errors import CentricError
from ..metrics import stats
from ..metrics.periods import PERIODS, label
from ..schema import FEEDBACK_SOURCES
from ..store import Store
from .pipeline import PLACEHOLDER_LIKE
from .sentences import sentences_of

# --source values: "survey" is the comments of survey answers (and feedback of source survey_comment)
SURVEY = "survey"
KINDS = (SURVEY, *(s for s in FEEDBACK_SOURCES if s != "survey_comment"))
OURS = "ours"


@dataclass(frozen=True)
class Topic:
    """One factor of the view."""

    factor: str
    name: str
    texts: int
    share: float  # % of the analysed texts
    mentions: int
    positive: int
    neutral: int
    negative: int
    net: float | None
    net_low: float | None
    net_high: float | None
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicPeriod:
    """One factor in one period, with the tests of its change from the previous period."""

    factor: str
    period: str
    texts: int
    period_texts: int  # analysed texts of the selection in the period
    share: float | None
    net: float | None
    share_change: float | None = None  # percentage points against the previous period
    share_p: float | None = None  # Holm-corrected
    net_change: float | None = None
    net_p: float | None = None  # Holm-corrected
    share_significant: bool = False
    net_significant: bool = False


@dataclass(frozen=True)
class Topics:
    """The topics view of one selection of texts (``topics``)."""

    source: str | None
    brand: str | None
    taxonomy: str | None
    period: str
    since: dt.date | None
    texts: int  # analysed texts of the selection, placeholders excluded
    placeholders: int
    unclassified: int  # analysed texts with no factor
    topics: tuple[Topic, ...]
    trend: tuple[TopicPeriod, ...]
    periods: tuple[str, ...]
    tests: int  # changes tested in the trend (the family Holm's correction runs over)
    correction: str = "holm"
    min_texts: int = 20
    names_: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def names(self, lang: str = "en") -> dict[str, str]:
        """Factor id → its name in ``lang`` (from the taxonomy; the id when unknown)."""
        return {t.factor: self.names_.get(t.factor, {}).get(lang) or t.name for t in self.topics}

    def to_frame(self) -> pd.DataFrame:
        """One row per factor, most texts first (quotes joined by " | ")."""
        cols = [f.name for f in Topic.__dataclass_fields__.values()]
        rows = [{**asdict(t), "quotes": " | ".join(t.quotes)} for t in self.topics]
        return pd.DataFrame(rows, columns=cols)

    def trend_frame(self) -> pd.DataFrame:
        """One row per factor and period."""
        return pd.DataFrame([asdict(t) for t in self.trend],
                            columns=[f.name for f in TopicPeriod.__dataclass_fields__.values()])

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"source": self.source, "brand": self.brand, "taxonomy": self.taxonomy, "period": self.period,
                "since": self.since.isoformat() if self.since else None, "texts": self.texts,
                "placeholders": self.placeholders, "unclassified": self.unclassified,
                "topics": [{k: clean(v) if not isinstance(v, tuple) else list(v) for k, v in asdict(t).items()}
                           for t in self.topics],
                "trend": [{k: clean(v) for k, v in asdict(t).items()} for t in self.trend],
                "periods": list(self.periods), "tests": self.tests, "correction": self.correction,
                "min_texts": self.min_texts}

    def _repr_html_(self) -> str:
        e = html.escape

        def num(v, digits=1, sign=False):
            return "—" if v is None else f"{v:{'+' if sign else ''}.{digits}f}"

        head = (f"<p><b>Topics</b> of {self.texts:,} {e(self.source or 'texts')} (taxonomy {e(self.taxonomy or '—')}, "
                f"brand {e(self.brand or 'all')}): {self.placeholders:,} placeholder answers not analysed, "
                f"{self.unclassified:,} texts with no factor.</p>")
        rows = "".join(
            f"<tr><td>{e(t.name)}</td><td>{t.texts:,}</td><td>{num(t.share)}%</td><td>{num(t.net, sign=True)}</td>"
            f"<td>{num(t.net_low, 0)} … {num(t.net_high, 0)}</td>"
            f"<td style='text-align:left'>{'<br>'.join('“' + e(q) + '”' for q in t.quotes[:2])}</td></tr>"
            for t in self.topics)
        return (head + "<table><thead><tr><th>factor</th><th>texts</th><th>share</th><th>net sentiment</th>"
                "<th>95% interval</th><th>quotes</th></tr></thead><tbody>" + rows + "</tbody></table>")


def _texts(store: Store):
    """Every text of the store as (source, text_id, kind, brand, at, text)."""
    r, f = store.table("responses"), store.table("feedback")
    rt = r.filter(r.comment.notnull()).select(
        source=ibis.literal("responses"), text_id=r.response_id, kind=ibis.literal(SURVEY),
        brand=ibis.literal(OURS), at=r.responded_at, text=r.comment)
    ft = f.select(source=ibis.literal("feedback"), text_id=f.feedback_id,
                  kind=ibis.ifelse(f.source == "survey_comment", SURVEY, f.source),
                  brand=f.brand.fill_null(OURS), at=f.posted_at, text=f.text)
    common = ibis.schema({"source": "string", "text_id": "string", "kind": "string", "brand": "string",
                          "at": "timestamp", "text": "string"})
    return rt.cast(common).union(ft.cast(common))


def sources(store: Store) -> list[str]:
    """The kinds of text that ``centric analyze`` analysed, most texts first."""
    t, a = _texts(store), store.table("text_analyses")
    j = t.join(a, [t.source == a.source, t.text_id == a.text_id])
    df = j.group_by(j.kind).aggregate(n=j.text_id.nunique()).order_by([ibis.desc("n"), "kind"]).execute()
    return [str(k) for k in df["kind"]]


def topics(store: Store, source: str | None = None, brand: str | None = OURS, period: str = "month",
           since: dt.date | dt.datetime | None = None, taxonomy: str | None = None, quotes: int = 3,
           width: int = 160, min_texts: int = 20, alpha: float = 0.05,
           until: dt.datetime | None = None) -> Topics:
    """The topics of the texts of ``source`` (``complaint``, ``review``, ``social``, ``survey`` … or None
    for all) about ``brand`` (None: every brand) written on or after ``since`` (and before ``until``), as analysed with
    ``taxonomy`` (default: the taxonomy that analysed most of them), with the trend by ``period``
    (day, week, month, quarter or year)."""
    if period not in PERIODS:
        raise CentricError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    if source is not None and source not in KINDS:
        raise CentricError(f"unknown source {source!r}; use one of {', '.join(KINDS)}")
    t, a = _texts(store), store.table("text_analyses")
    if source is not None:
        t = t.filter(t.kind == source)
    if brand is not None:
        t = t.filter(t.brand == brand)
    if since is not None:
        t = t.filter(t.at >= (dt.datetime.combine(since, dt.time()) if type(since) is dt.date else since))
    if until is not None:
        t = t.filter(t.at < until)
    sel = t.join(a, [t.source == a.source, t.text_id == a.text_id])
    if taxonomy is None:
        by_tax = sel.group_by(sel.taxonomy).aggregate(n=sel.count()).order_by([ibis.desc("n"), "taxonomy"]).execute()
        if not len(by_tax):
            return Topics(source, brand, None, period, _day(since), 0, 0, 0, (), (), (), 0, "holm", min_texts)
        taxonomy = str(by_tax["taxonomy"].iloc[0])
    sel = sel.filter(sel.taxonomy == taxonomy).select(
        "source", "text_id", "taxonomy", "text", placeholder=sel.flags.fill_null("").like(PLACEHOLDER_LIKE),
        bucket=sel.at.truncate(PERIODS[period]))
    per_period = (sel.group_by(sel.bucket)
                  .aggregate(texts=(~sel.placeholder).sum(), placeholders=sel.placeholder.sum())
                  .order_by("bucket").execute())
    m = store.table("mentions")
    mj = sel.filter(~sel.placeholder).join(m, [sel.source == m.source, sel.text_id == m.text_id,
                                               sel.taxonomy == m.taxonomy])
    key = mj.source.concat(":", mj.text_id)
    counts = (mj.group_by([mj.factor, mj.bucket])
              .aggregate(texts=key.nunique(), positive=(mj.sentiment == "positive").sum(),
                         neutral=(mj.sentiment == "neutral").sum(), negative=(mj.sentiment == "negative").sum())
              .execute())
    with_factor = int(mj.aggregate(n=key.nunique()).execute()["n"].iloc[0] or 0)
    n_texts = int(per_period["texts"].sum()) if len(per_period) else 0
    names = _names(taxonomy)
    labels = {b: label(period, pd.Timestamp(b).to_pydatetime()) for b in per_period["bucket"]}
    period_texts = {labels[b]: int(n) for b, n in zip(per_period["bucket"], per_period["texts"], strict=True)}
    counts["period"] = [labels[b] for b in counts["bucket"]]
    picked = _quotes(store, mj, counts, quotes, width)
    rows = []
    for fid, g in counts.groupby("factor"):
        pos, neu, neg = (int(g[c].sum()) for c in ("positive", "neutral", "negative"))
        s = stats.nps_score(pos, neu, neg)
        n = int(g["texts"].sum())
        rows.append(Topic(str(fid), names.get(fid, {}).get("en", str(fid)), n, 100 * n / n_texts if n_texts else math.nan,
                          pos + neu + neg, pos, neu, neg, s.value, s.low, s.high, tuple(picked.get(fid, ()))))
    rows.sort(key=lambda r: (-r.texts, r.factor))
    trend, tests = _trend(counts, [r.factor for r in rows], list(period_texts.items()), min_texts, alpha)
    return Topics(source, brand, taxonomy, period, _day(since), n_texts,
                  int(per_period["placeholders"].sum()) if len(per_period) else 0, n_texts - with_factor,
                  tuple(rows), tuple(trend), tuple(period_texts), tests, "holm", min_texts, names)


def _day(since) -> dt.date | None:
    return since.date() if isinstance(since, dt.datetime) else since


def _names(taxonomy: str) -> dict[str, dict[str, str]]:
    from .taxonomy import load_taxonomy

    try:
        return {f.id: dict(f.names) for f in load_taxonomy(taxonomy).factors}
    except CentricError:  # a taxonomy file that is no longer there: ids stand for names
        return {}


def _trend(counts: pd.DataFrame, factors: list[str], periods: list[tuple[str, int]], min_texts: int,
           alpha: float) -> tuple[list[TopicPeriod], int]:
    """Per factor and period: share and net sentiment, and the changes from the previous period tested,
    Holm-corrected over every test of the view."""
    by = {(r.factor, r.period): r for r in counts.itertuples()}
    raw: list[dict[str, Any]] = []
    tests: list[tuple[int, str, float]] = []  # (row, "share"|"net", p)
    for fid in factors:
        prev = None
        for p, n in periods:
            c = by.get((fid, p))
            k = int(c.texts) if c is not None else 0
            pos, neu, neg = (int(getattr(c, x)) for x in ("positive", "neutral", "negative")) if c is not None else (0, 0, 0)
            score = stats.nps_score(pos, neu, neg)
            row = {"factor": fid, "period": p, "texts": k, "period_texts": n, "share": 100 * k / n if n else None,
                   "net": score.value, "_score": score}
            if prev is not None and n >= min_texts and prev["period_texts"] >= min_texts:
                _z, pv = stats.two_proportions(k, n, prev["texts"], prev["period_texts"])
                row["share_change"] = row["share"] - prev["share"]
                tests.append((len(raw), "share", pv))
                ch = stats.change("net", prev["_score"], score, prev["period"], p)
                if ch is not None and math.isfinite(ch.p_value):
                    row["net_change"] = ch.delta
                    tests.append((len(raw), "net", ch.p_value))
            raw.append(row)
            prev = row
    adjusted = stats.adjust_p([p for _, _, p in tests], "holm")
    for (i, what, _), q in zip(tests, adjusted, strict=True):
        raw[i][f"{what}_p"] = q
        raw[i][f"{what}_significant"] = q < alpha
    return [TopicPeriod(**{k: v for k, v in r.items() if not k.startswith("_")}) for r in raw], len(tests)


def _quotes(store: Store, mj, counts: pd.DataFrame, per_factor: int, width: int) -> dict[str, list[str]]:
    """Up to ``per_factor`` distinct sentences per factor, each from another text, in the factor's
    prevailing direction, most confident first; personal data masked (the customer's name and the author's
    among it)."""
    from .masking import mask_personal, text_names

    if per_factor <= 0 or not len(counts):
        return {}
    totals = counts.groupby("factor")[["positive", "negative"]].sum()
    side = {f: "negative" if r.negative >= r.positive else "positive" for f, r in totals.iterrows()}
    negative = [f for f, s in side.items() if s == "negative"]  # a filter, not a join with an in-memory
    positive = [f for f, s in side.items() if s == "positive"]  # table: it runs in a read-only session too
    cand = mj.filter((mj.factor.isin(negative) & (mj.sentiment == "negative"))
                     | (mj.factor.isin(positive) & (mj.sentiment == "positive")))
    cand = cand.mutate(strength=cand.confidence.fill_null(0) * cand.score.fill_null(0).abs())
    rank = ibis.row_number().over(group_by=cand.factor, order_by=[ibis.desc(cand.strength), cand.source,
                                                                   cand.text_id, cand.sentence])
    top = (cand.mutate(rank=rank).filter(lambda x: x.rank < 10 * per_factor)
           .select("factor", "source", "text_id", "sentence", "rank", "text").order_by(["factor", "rank"]).execute())
    out: dict[str, list[str]] = {}
    seen: dict[str, set] = {}  # texts and sentences already quoted, per factor
    names = text_names(store, zip(top["source"], top["text_id"], strict=True))
    for r in top.itertuples():
        got, done = out.setdefault(r.factor, []), seen.setdefault(r.factor, set())
        sents = sentences_of(r.text or "")
        s = " ".join((sents[r.sentence] if r.sentence < len(sents) else r.text or "").split())
        s = mask_personal(s, names.get((r.source, r.text_id), ()))
        same = _quote_key(s)  # "Fast delivery." and "fast delivery!" are one quote
        if len(got) >= per_factor or not s or (r.source, r.text_id) in done or same in done:
            continue
        got.append(s if len(s) <= width else s[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…")
        done |= {(r.source, r.text_id), same}
    return out


def _quote_key(sentence: str) -> str:
    """A sentence without case, punctuation and spacing, to tell quotes that differ only in those.

    >>> _quote_key("Fast delivery, friendly staff.") == _quote_key("fast delivery  friendly staff!")
    True
    """
    return " ".join(re.sub(r"[^\w]+", " ", sentence.casefold()).split())
