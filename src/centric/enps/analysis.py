"""eNPS and pulse results with the reporting threshold, the units' customer scores beside them, and the
correlation across units — pure functions over the store, returning frozen results.

**Threshold.** A cut (the company in a period, a unit, a unit in a period, a pulse question, the comments of
a unit, a theme) with fewer answers than ``enps_threshold`` (default 5, settable 3–10) carries no value,
only its reason: ``below_threshold``. Its n is not shown either (a "2 answers" says who answered in a team of
two).

**Differencing.** A total and all but one of its parts give the last part by subtraction. So within each
slice (the units of one period, the periods of one unit …), when the cuts hidden hold fewer answers together
than the threshold, the smallest visible cut is hidden too (``complementary``), until the hidden ones hold
at least the threshold or all are hidden. Comments are listed per visible unit only (the company's list is
the visible units' lists, never "all"); themes by unit are hidden the same way, theme by theme
(``centric.enps.units.themes_by``).

**eNPS** is computed exactly like customer NPS (``centric.metrics.stats.nps_score``: promoters 9–10,
detractors 0–6, a Wald interval, adjusted Wald below 30 answers).

**Units beside their customers.** For each store: the employees' eNPS, the customers' NPS (answers with
``responses.store`` = the store) and the complaint rate (complaints — ``feedback`` of source complaint
about the store — per 100 orders of the store), all within the survey's period; departments have no
customer answers of their own and are set beside the cases they own instead
(``centric.enps.units.compare_departments``). Across the stores with a visible eNPS:
Pearson's r with its 95% interval by Fisher's z (tanh(atanh r ± 1.96/√(n − 3)); none with fewer than 4
stores) and Spearman's rank correlation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from .. import settings
from ..errors import CentricError
from ..metrics.results import Score, Tabular, _clean
from ..metrics.stats import Z95, mean_interval, nps_score
from ..store import Store
from ..surveys import repo
from ..surveys.model import Survey
from ..text.masking import mask_personal
from .invitations import period_bounds

BY = ("store", "department", "unit", "region", "period")
HIDDEN = {"below_threshold": "fewer answers than the reporting threshold",
          "complementary": "hidden too, so that the total minus the visible groups does not reveal a hidden one"}


def threshold(value: int | str | None = None) -> int:
    """The reporting threshold: ``value`` or the setting ``enps_threshold`` (3–10; anything else is refused
    with the setting's message)."""
    return settings.get_int("enps_threshold", None if value is None else str(value))


# -- data ---------------------------------------------------------------------------------------------------

def employee_surveys(store: Store, kind: str | None = None) -> list[Survey]:
    """The stored employee surveys (``kind`` nps: eNPS, csat: pulse)."""
    return [s for s in repo.list_all(store) if s.audience == "employees" and (kind is None or s.kind == kind)]


def survey_of(store: Store, key: str | None = None, kind: str = "nps") -> Survey:
    """The employee survey ``key`` (id or slug), else the first employee survey of ``kind``."""
    if key:
        s = repo.require(store, key)
        if s.audience != "employees":
            raise CentricError(f"survey {s.slug!r} is a customer survey; employee surveys: "
                               f"{', '.join(x.slug for x in employee_surveys(store)) or 'none'}")
        return s
    found = employee_surveys(store, kind)
    if not found:
        raise CentricError("no employee survey yet: add one with audience = \"employees\" (centric surveys add "
                           "FILE.toml, see docs/enps.md)")
    return found[0]


def answers(store: Store, survey: Survey) -> pd.DataFrame:
    """The survey's answers with their unit's kind and region: answer_id, period, unit, score, comment,
    unit_kind, region."""
    a, u = store.table("employee_answers"), store.table("units")
    u = u.select(u_unit=u.unit, u_kind=u.kind, region=u.region)
    a = a.filter(a.survey_id == survey.survey_id)
    j = a.left_join(u, a.unit == u.u_unit)
    return j.select(a.answer_id, a.period, a.unit, a.score, a.comment, unit_kind=j.u_kind.fill_null("department"),
                    region=j.region).execute()


def periods(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["period"].dropna().unique().tolist())


def _select(frame: pd.DataFrame, by: Sequence[str], period: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows and the group columns for ``by``: store/department keep the units of that kind (column
    ``unit`` renamed), unit and region group as they are; without period in ``by``, one period (``period``,
    else the latest)."""
    bad = [b for b in by if b not in BY]
    if bad:
        raise CentricError(f"--by {bad[0]!r}: one of {', '.join(BY)}")
    if "period" not in by:
        ps = periods(frame)
        period = period or (ps[-1] if ps else None)
        frame = frame[frame["period"] == period]
    elif period:
        frame = frame[frame["period"] == period]
    cols: list[str] = []
    frame = frame.copy()
    for b in by:
        if b in ("store", "department"):
            frame = frame[frame["unit_kind"] == b]
            frame[b] = frame["unit"]
        cols.append(b)
    return frame, cols


def _key(k) -> tuple:
    """A group key of pandas' groupby as a tuple (one column gives a scalar)."""
    return k if isinstance(k, tuple) else (k,)


# -- the threshold and complementary hiding ------------------------------------------------------------------

def hide(counts: dict[tuple, int], by: Sequence[str], t: int, hidden: dict[tuple, str] | None = None,
         empty_too: bool = False) -> dict[tuple, str]:
    """Which groups (keys of ``counts``: tuples in the order of ``by``) are hidden and why: fewer than ``t``
    answers, or complementary (see the module's docstring). A slice is the groups that share every column
    but one, for each column of ``by``.

    ``hidden``: groups hidden already, for reasons of their own (kept with their reason). ``empty_too``: for
    counts that may be 0 (a theme's comments in a unit): hidden groups holding 0 together still need
    protecting — the total minus the visible groups would say "none of the hidden raised it" — so they are
    completed like any other sum below ``t``.

    >>> hide({("a",): 9, ("b",): 7, ("c",): 2}, ["unit"], 5)
    {('c',): 'below_threshold', ('b',): 'complementary'}
    >>> hide({("a",): 9, ("b",): 3, ("c",): 2}, ["unit"], 5)
    {('b',): 'below_threshold', ('c',): 'below_threshold'}
    """
    given = {k: v for k, v in (hidden or {}).items() if k in counts}
    hidden = {**{k: "below_threshold" for k, n in counts.items() if n < t}, **given}
    changed = True
    while changed:  # hiding in one slice may open a gap in another
        changed = False
        for i in range(len(by)):
            slices: dict[tuple, list[tuple]] = {}
            for k in counts:
                slices.setdefault(k[:i] + k[i + 1:], []).append(k)
            for keys in slices.values():
                gone = sum(counts[k] for k in keys if k in hidden)
                visible = sorted((k for k in keys if k not in hidden), key=lambda k: (counts[k], str(k)))
                some = gone > 0 or (empty_too and any(k in hidden for k in keys))
                while some and gone < t and visible:
                    k = visible.pop(0)
                    hidden[k] = "complementary"
                    gone += counts[k]
                    changed = True
    return hidden


# -- results ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cut:
    """One group: its columns, the score (None when hidden), and why it is hidden."""

    group: dict[str, Any]
    score: Score | None
    hidden: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {k: str(v) for k, v in self.group.items()}
        if self.hidden:
            d.update(value=None, n=None, interval=[None, None], hidden=self.hidden, why=HIDDEN[self.hidden])
        elif self.score is not None:
            d.update(self.score.to_dict())
        return d


@dataclass(frozen=True)
class EnpsBreakdown(Tabular):
    """eNPS by groups (or overall), with the threshold applied."""

    survey: str
    by: tuple[str, ...]
    period: str | None
    threshold: int
    rows: list[Cut]

    def to_dict(self) -> dict[str, Any]:
        return {"metric": "enps", "survey": self.survey, "by": list(self.by), "period": self.period,
                "threshold": self.threshold, "groups": [c.to_dict() for c in self.rows]}

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for c in self.rows:
            s = c.score
            rows.append({**c.group, "value": None if s is None else s.value, "low": None if s is None else s.low,
                         "high": None if s is None else s.high, "n": None if s is None else s.n,
                         "method": None if s is None else s.method, "hidden": c.hidden})
        return pd.DataFrame(rows, columns=[*self.by, "value", "low", "high", "n", "method", "hidden"])

    def _title(self) -> str:
        return "eNPS" + (f" by {', '.join(self.by)}" if self.by else "") + (f", {self.period}" if self.period else "")


def enps_of(scores: pd.Series) -> Score:
    """eNPS of 0–10 scores, as customer NPS (``nps_score``)."""
    s = scores.dropna().astype(int)
    return nps_score(int((s >= 9).sum()), int(((s >= 7) & (s <= 8)).sum()), int((s <= 6).sum()))


def enps(store: Store, by: str | Sequence[str] = (), survey: str | Survey | None = None, period: str | None = None,
         threshold_value: int | None = None, frame: pd.DataFrame | None = None) -> EnpsBreakdown:
    """eNPS of the employee ``survey`` (default: the first eNPS survey) overall or ``by`` store, department,
    unit, region and/or period; without period in ``by``, of ``period`` (default the latest)."""
    by = (by,) if isinstance(by, str) else tuple(by)
    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "nps")
    if s.kind != "nps":
        raise CentricError(f"survey {s.slug!r} is a pulse (kind {s.kind}); eNPS needs an nps survey")
    t = threshold(threshold_value)
    data = answers(store, s) if frame is None else frame
    chosen = period if "period" in by else (period or (periods(data)[-1] if len(data) else None))
    rows, cols = _select(data, by, period)
    groups: dict[tuple, pd.Series] = ({(): rows["score"]} if not cols else
                                      {_key(k): g["score"] for k, g in rows.groupby(cols, sort=True, dropna=False)})
    counts = {k: int(v.notna().sum()) for k, v in groups.items()}
    given = _regions_over_hidden_units(data, cols, period, t, rows) if "region" in cols else None
    hidden = hide(counts, cols, t, hidden=given) if cols else ({(): "below_threshold"} if counts[()] < t else {})
    out = [Cut(dict(zip(cols, k, strict=True)), None if k in hidden else enps_of(v), hidden.get(k))
           for k, v in groups.items()]
    return EnpsBreakdown(s.slug, by, chosen, t, out)


def _regions_over_hidden_units(data: pd.DataFrame, cols: list[str], period: str | None, t: int,
                               rows: pd.DataFrame) -> dict[tuple, str]:
    """The region groups to hide because a unit inside them is hidden in a finer cut (by unit, store or
    department, with the same other columns): otherwise the region minus its visible units gives the hidden
    unit away. A region shown then holds only units shown everywhere, and the hidden regions together minus
    their visible units give only the hidden units' sum, which the finer cut gives already (and which its
    complementary hiding keeps at ``t`` or more)."""
    i = cols.index("region")
    unit_hidden: set[tuple] = set()  # (the other columns' values…, unit)
    for finer in ("unit", "store", "department"):
        fcols = [finer if c == "region" else c for c in cols]
        frame, fc = _select(data, fcols, period)
        if not len(frame):
            continue
        fcounts = {_key(k): int(g["score"].notna().sum()) for k, g in frame.groupby(fc, sort=True, dropna=False)}
        for k in hide(fcounts, fc, t):
            unit_hidden.add(k[:i] + k[i + 1:] + (k[i],))
    region_of = dict(zip(data["unit"], data["region"], strict=False))
    out: dict[tuple, str] = {}
    for key, _ in rows.groupby(cols, sort=True, dropna=False):
        k = _key(key)
        rest = k[:i] + k[i + 1:]
        if any(h[:-1] == rest and _same(region_of.get(h[-1]), k[i]) for h in unit_hidden):
            out[k] = "complementary"
    return out


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


@dataclass(frozen=True)
class PulseRow:
    group: dict[str, Any]
    question: str
    label: str
    n: int | None
    mean: float | None
    low: float | None
    high: float | None
    top_box: float | None  # share answering 4–5 (of a 1–5 scale: the top two), percent
    hidden: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: str(v) for k, v in self.group.items()}
        d.update({k: _clean(v) for k, v in asdict(self).items() if k != "group"})
        if self.hidden:
            d["why"] = HIDDEN[self.hidden]
        return d


@dataclass(frozen=True)
class Pulse(Tabular):
    survey: str
    by: tuple[str, ...]
    period: str | None
    threshold: int
    rows: list[PulseRow]

    def to_dict(self) -> dict[str, Any]:
        return {"metric": "pulse", "survey": self.survey, "by": list(self.by), "period": self.period,
                "threshold": self.threshold, "rows": [r.to_dict() for r in self.rows]}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**r.group, **{k: v for k, v in asdict(r).items() if k != "group"}} for r in self.rows])


def ratings(store: Store, survey: Survey) -> pd.DataFrame:
    """The pulse's extra ratings, one row per answer × question."""
    r, a = store.table("employee_ratings"), store.table("employee_answers")
    ids = a.filter(a.survey_id == survey.survey_id).select(a_id=a.answer_id)
    return r.join(ids, r.answer_id == ids.a_id).select(r.answer_id, r.question_id, r.value).execute()


def pulse(store: Store, by: str | Sequence[str] = (), survey: str | Survey | None = None,
          period: str | None = None, threshold_value: int | None = None, lang: str = "en") -> Pulse:
    """A pulse survey's rating questions (its main 1–5 question first, then its rating questions): mean with
    a t interval and the top-two-box share, overall or ``by`` groups; a question of a cut with fewer answers
    than the threshold, or a cut hidden by the eNPS rules applied to the cut's answers, shows nothing."""
    by = (by,) if isinstance(by, str) else tuple(by)
    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "csat")
    t = threshold(threshold_value)
    data = answers(store, s)
    chosen = period if "period" in by else (period or (periods(data)[-1] if len(data) else None))
    rows, cols = _select(data, by, period)
    long = [rows.assign(question="score", value=rows["score"])[[*cols, "answer_id", "question", "value"]]]
    rated = [q for q in s.questions if q.type == "rating"]
    if rated:
        r = ratings(store, s)
        r = r[r["question_id"].isin([q.id for q in rated])].rename(columns={"question_id": "question"})
        long.append(rows[[*cols, "answer_id"]].merge(r, on="answer_id"))
    frame = pd.concat(long, ignore_index=True)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    cut_counts = ({(): len(rows)} if not cols else
                  {_key(k): len(g) for k, g in rows.groupby(cols, sort=True, dropna=False)})
    cut_hidden = hide(cut_counts, cols, t) if cols else ({(): "below_threshold"} if len(rows) < t else {})
    labels = {"score": s.text(lang).question, **{q.id: q.label(lang) for q in rated}}
    lows = {"score": s.scale, **{q.id: q.scale or (1, 5) for q in rated}}
    out = []
    for k in cut_counts:
        part = frame if not cols else frame[(frame[cols] == pd.Series(k, index=cols)).all(axis=1)]
        for qid in labels:
            v = part.loc[part["question"] == qid, "value"].dropna()
            why = cut_hidden.get(k) or ("below_threshold" if len(v) < t else None)
            if why:
                out.append(PulseRow(dict(zip(cols, k, strict=True)), qid, labels[qid], None, None, None, None, None,
                                    why))
                continue
            top = int((v >= lows[qid][1] - 1).sum())
            m = float(v.mean())
            lo, hi = mean_interval(m, float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v))
            lo, hi = max(lo, lows[qid][0]), min(hi, lows[qid][1])  # within the scale
            out.append(PulseRow(dict(zip(cols, k, strict=True)), qid, labels[qid], len(v), m, lo, hi,
                                100 * top / len(v)))
    return Pulse(s.slug, by, chosen, t, out)


# -- comments and themes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comments:
    """Comments of the visible units of one period (masked; sorted, so their order says nothing) and how many
    units' comments are withheld."""

    survey: str
    period: str | None
    threshold: int
    by_unit: dict[str, list[str]]
    withheld_units: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def comments(store: Store, survey: str | Survey | None = None, period: str | None = None,
             threshold_value: int | None = None, frame: pd.DataFrame | None = None) -> Comments:
    """The comments of each unit whose eNPS (or pulse) cut is visible in ``period``: a unit hidden by the
    threshold or by complementary hiding shows none of its comments. E-mails, phone numbers, numbers and the
    names of the company's employees are masked."""
    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "nps")
    t = threshold(threshold_value)
    data = answers(store, s) if frame is None else frame
    rows, _ = _select(data, ("unit",), period)
    counts = {(u,): len(g) for u, g in rows.groupby("unit", sort=True)}
    hidden = hide(counts, ["unit"], t)
    out: dict[str, list[str]] = {}
    e = store.table("employees")
    names = e.filter(e.name.notnull()).name.to_pyarrow().to_pylist()
    for (u,), _n in counts.items():
        if (u,) in hidden:
            continue
        texts = sorted(mask_personal(c, names).strip() for c in rows.loc[rows["unit"] == u, "comment"].dropna()
                       if str(c).strip())
        if texts:
            out[u] = texts
    chosen = period or (periods(data)[-1] if len(data) else None)
    return Comments(s.slug, chosen, t, out, len(hidden))


@dataclass(frozen=True)
class Theme:
    factor: str
    name: str
    comments: int
    positive: int
    negative: int

    @property
    def net(self) -> float:
        return 100 * (self.positive - self.negative) / self.comments if self.comments else 0.0


@dataclass(frozen=True)
class Themes:
    survey: str
    period: str | None
    threshold: int
    themes: list[Theme]
    withheld: int  # themes raised by fewer comments than the threshold
    analysed: int  # comments analysed (of the period)
    waiting: int  # comments not analysed yet (centric enps analyze)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for t, th in zip(d["themes"], self.themes, strict=True):
            t["net"] = round(th.net, 1)
        return d


TAXONOMY = "workplace.toml"


def taxonomy():
    """The workplace taxonomy (workload, pay, management, team, schedule, training, tools, customers)."""
    from pathlib import Path

    from ..text.taxonomy import load_taxonomy

    return load_taxonomy(Path(__file__).with_name(TAXONOMY))


def themes_of(store: Store, survey: Survey, period: str | None):
    """answer_id, factor, sentiment of the themes found in the survey's answers of ``period``."""
    th, a = store.table("employee_themes"), store.table("employee_answers")
    ids = a.filter((a.survey_id == survey.survey_id) & (a.period == period)).select(a_id=a.answer_id)
    return th.filter(th.answer_id.isin(ids.a_id)).select("answer_id", "factor", "sentiment").execute()


def themes(store: Store, survey: str | Survey | None = None, period: str | None = None,
           threshold_value: int | None = None, lang: str = "en") -> Themes:
    """The themes (workplace factors) of ``period``'s comments over the whole company, each only when at least
    the threshold's number of comments raise it — and none when the period has fewer answers than that."""
    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "nps")
    t = threshold(threshold_value)
    data = answers(store, s)
    rows, _ = _select(data, (), period)
    chosen = period or (periods(data)[-1] if len(data) else None)
    with_text = rows[rows["comment"].fillna("").str.strip() != ""]
    if len(rows) < t or with_text.empty:
        return Themes(s.slug, chosen, t, [], 0, 0, 0)
    ids = with_text["answer_id"].tolist()
    found = themes_of(store, s, chosen)
    analysed = set(found["answer_id"])
    found = found[found["factor"] != NONE]
    names = {f.id: f.names.get(lang) or f.names.get("en") or f.id for f in taxonomy().factors}
    out, withheld = [], 0
    for factor, g in found.groupby("factor", sort=True):
        n = g["answer_id"].nunique()
        if n < t:
            withheld += 1
            continue
        per = g.drop_duplicates("answer_id")
        out.append(Theme(factor, names.get(factor, factor), int(n), int((per["sentiment"] == "positive").sum()),
                         int((per["sentiment"] == "negative").sum())))
    out.sort(key=lambda x: (-x.comments, x.factor))
    return Themes(s.slug, chosen, t, out, withheld, len(analysed & set(ids)), len(set(ids) - analysed))


def analyze(store: Store, analyzer=None) -> int:
    """Find the themes of the employee comments not analysed yet (the workplace taxonomy, the text pipeline's
    own stages) and keep them in ``employee_themes``; returns the number of comments analysed. An answer
    whose comment raised no factor gets a row with factor ``(none)``, so it is not analysed again."""
    from ..orientation.records import frame as query

    todo = query(store,
                 "SELECT a.answer_id, a.comment FROM employee_answers a WHERE a.comment IS NOT NULL AND "
                 "trim(a.comment) <> '' AND NOT EXISTS (SELECT 1 FROM employee_themes t WHERE t.answer_id = "
                 "a.answer_id) ORDER BY a.answer_id")
    if todo.empty:
        return 0
    if analyzer is None:
        analyzer = _analyzer()
    texts = sorted(set(todo["comment"]))  # the same words give the same themes: each text analysed once
    found: dict[str, list[tuple[str, str | None]]] = {}
    for r in analyzer.analyze([{"id": i, "text": c} for i, c in enumerate(texts)]):
        seen: dict[str, str | None] = {}
        for f in r.factors:
            seen.setdefault(f["factor"], f.get("sentiment"))
        found[texts[r.id]] = list(seen.items()) or [(NONE, None)]
    rows = [(a, k, v) for a, c in zip(todo["answer_id"], todo["comment"], strict=True) for k, v in found[c]]
    frame = pd.DataFrame(rows, columns=["answer_id", "factor", "sentiment"]).sort_values(["answer_id", "factor"])
    with store.transaction():
        store.lock_writes()  # PostgreSQL: another run may have analysed some of them meanwhile
        done = {a for (a,) in store.execute("SELECT DISTINCT answer_id FROM employee_themes").fetchall()}
        frame = frame[~frame["answer_id"].isin(done)]
        store.insert_frame("employee_themes", frame[["answer_id", "factor", "sentiment"]])
    return int(frame["answer_id"].nunique())


NONE = "(none)"
_ANALYZERS: dict[str, Any] = {}


def _analyzer():
    """The text pipeline with the workplace taxonomy; it borrows the factor embedder of an analyser already
    loaded in this process (the demo's), so its model is not loaded twice."""
    if "workplace" not in _ANALYZERS:
        from ..text import pipeline

        loaded = next(iter(pipeline._cache.values()), None)
        kw = {"embedder": loaded.embedder, "language": loaded.language} if loaded is not None else {}
        _ANALYZERS["workplace"] = pipeline.Analyzer(taxonomy(), fast=True, **kw)
    return _ANALYZERS["workplace"]


# -- the units beside their customers -----------------------------------------------------------------------

@dataclass(frozen=True)
class Correlation:
    """Pearson's r across units with its 95% Fisher-z interval (None below 4 units) and Spearman's rho."""

    x: str
    y: str
    n: int
    r: float | None
    low: float | None
    high: float | None
    spearman: float | None
    spearman_p: float | None

    @property
    def note(self) -> str | None:
        """Why a figure is missing: ``too_few_units`` (no r: fewer than 3 units, or no spread), or
        ``too_few_for_interval`` (an r of 3 units, without an interval); None when all is given."""
        if self.r is None:
            return "too_few_units"
        return "too_few_for_interval" if self.low is None else None

    def to_dict(self) -> dict[str, Any]:
        return {**{k: _clean(v) for k, v in asdict(self).items()}, "note": self.note}


def correlation(x: Sequence[float], y: Sequence[float], x_name: str = "x", y_name: str = "y") -> Correlation:
    """Pearson's r of paired values with its Fisher-z 95% interval, and Spearman's rho with its p-value.

    >>> c = correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    >>> round(c.r, 3), round(c.low, 3), round(c.high, 3), round(c.spearman, 3)
    (0.8, -0.28, 0.986, 0.8)
    """
    from scipy import stats

    pairs = [(float(a), float(b)) for a, b in zip(x, y, strict=True)
             if a is not None and b is not None and not (math.isnan(float(a)) or math.isnan(float(b)))]
    n = len(pairs)
    if n < 3:
        return Correlation(x_name, y_name, n, None, None, None, None, None)
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return Correlation(x_name, y_name, n, None, None, None, None, None)
    r = float(stats.pearsonr(xs, ys)[0])
    low = high = None
    if n >= 4:
        z = math.atanh(max(-0.999999, min(0.999999, r)))
        half = Z95 / math.sqrt(n - 3)
        low, high = math.tanh(z - half), math.tanh(z + half)
    rho, p = stats.spearmanr(xs, ys)
    return Correlation(x_name, y_name, n, r, low, high, float(rho), float(p))


@dataclass(frozen=True)
class UnitRow:
    unit: str
    region: str | None
    enps: Score | None
    hidden: str | None
    nps: Score
    complaints: int
    orders: int

    @property
    def complaint_rate(self) -> float | None:
        """Complaints per 100 orders (None without orders)."""
        return 100 * self.complaints / self.orders if self.orders else None

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "region": self.region,
                "enps": None if self.enps is None else self.enps.to_dict(), "hidden": self.hidden,
                "customer_nps": self.nps.to_dict(), "complaints": self.complaints, "orders": self.orders,
                "complaint_rate": _clean(self.complaint_rate)}


@dataclass(frozen=True)
class Comparison(Tabular):
    survey: str
    period: str | None
    threshold: int
    rows: list[UnitRow]
    with_nps: Correlation
    with_complaints: Correlation

    def to_dict(self) -> dict[str, Any]:
        return {"survey": self.survey, "period": self.period, "threshold": self.threshold,
                "units": [r.to_dict() for r in self.rows], "correlation_nps": self.with_nps.to_dict(),
                "correlation_complaints": self.with_complaints.to_dict()}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"unit": r.unit, "region": r.region, "enps": None if r.enps is None else r.enps.value,
                              "enps_n": None if r.enps is None else r.enps.n, "hidden": r.hidden,
                              "customer_nps": r.nps.value, "customer_n": r.nps.n, "complaints": r.complaints,
                              "orders": r.orders, "complaint_rate": r.complaint_rate} for r in self.rows])


def compare(store: Store, survey: str | Survey | None = None, period: str | None = None,
            threshold_value: int | None = None, frame: pd.DataFrame | None = None) -> Comparison:
    """Each store's eNPS next to its customers' NPS and complaint rate in the same period, and their
    correlations across the stores whose eNPS is visible."""
    s = survey if isinstance(survey, Survey) else survey_of(store, survey, "nps")
    data = answers(store, s) if frame is None else frame
    b = enps(store, "store", s, period, threshold_value, frame=data)
    chosen = b.period
    bounds = period_bounds(chosen) if chosen else None

    def of(name: str, col: str, *keep):
        t = store.table(name)
        cond = [t.store.notnull(), *(k(t) for k in keep)]
        if bounds:
            cond += [t[col] >= bounds[0], t[col] < bounds[1]]
        return t.filter(*cond)

    r = of("responses", "responded_at", lambda t: t.nps.notnull())
    cust = store.rows(r.group_by("store").aggregate(p=(r.nps >= 9).sum(), n=r.nps.between(7, 8).sum(),
                                                    d=(r.nps <= 6).sum()))
    f = of("feedback", "posted_at", lambda t: t.source == "complaint")
    comp = dict(store.rows(f.group_by("store").aggregate(n=f.count())))
    o = of("orders", "ordered_at")
    orders = dict(store.rows(o.group_by("store").aggregate(n=o.count())))
    u = store.table("units")
    regions = dict(store.rows(u.filter(u.kind == "store").select("unit", "region")))
    nps_by = {r[0]: nps_score(int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in cust}
    cuts = {c.group["store"]: c for c in b.rows}
    rows = []
    for unit in sorted(set(regions) | set(cuts)):
        c = cuts.get(unit)
        rows.append(UnitRow(unit, regions.get(unit), None if c is None else c.score,
                            "no_answers" if c is None else c.hidden, nps_by.get(unit, nps_score(0, 0, 0)),
                            int(comp.get(unit, 0)), int(orders.get(unit, 0))))
    shown = [r for r in rows if r.enps is not None]
    with_nps = correlation([r.enps.value for r in shown], [r.nps.value for r in shown], "enps", "customer_nps")
    with_comp = correlation([r.enps.value for r in shown], [r.complaint_rate for r in shown], "enps",
                            "complaint_rate")
    return Comparison(s.slug, chosen, b.threshold, rows, with_nps, with_comp)


# -- figures ------------------------------------------------------------------------------------------------

def figure_units(c: Comparison, labels: dict[str, str] | None = None):
    """Stores: eNPS (x) against customer NPS (y), hidden stores left out."""
    import plotly.graph_objects as go

    lab = {"x": "eNPS", "y": "customer NPS", **(labels or {})}
    shown = [r for r in c.rows if r.enps is not None and r.nps.value is not None]
    fig = go.Figure(go.Scatter(
        x=[r.enps.value for r in shown], y=[r.nps.value for r in shown], mode="markers+text",
        text=[r.unit for r in shown], textposition="top center",
        error_x={"type": "data", "symmetric": False, "array": [r.enps.high - r.enps.value for r in shown],
                 "arrayminus": [r.enps.value - r.enps.low for r in shown]}))
    fig.update_layout(xaxis_title=lab["x"], yaxis_title=lab["y"], height=380, margin={"l": 50, "r": 20, "t": 20,
                                                                                      "b": 40})
    return fig


def figure_trend(b: EnpsBreakdown, labels: dict[str, str] | None = None):
    """eNPS by period with its interval (hidden periods left out)."""
    import plotly.graph_objects as go

    lab = {"x": "period", "y": "eNPS", **(labels or {})}
    shown = [c for c in b.rows if c.score is not None]
    fig = go.Figure(go.Scatter(
        x=[c.group.get("period") for c in shown], y=[c.score.value for c in shown], mode="lines+markers",
        error_y={"type": "data", "symmetric": False, "array": [c.score.high - c.score.value for c in shown],
                 "arrayminus": [c.score.value - c.score.low for c in shown]}))
    fig.update_layout(xaxis_title=lab["x"], yaxis_title=lab["y"], height=320, margin={"l": 50, "r": 20, "t": 20,
                                                                                      "b": 40})
    return fig


# -- everything a page or the report shows ------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    survey: Survey
    period: str | None
    threshold: int
    company: EnpsBreakdown
    trend: EnpsBreakdown
    stores: EnpsBreakdown
    departments: EnpsBreakdown
    comparison: Comparison
    themes: Themes
    comments: Comments
    pulse: Pulse | None
    pulse_units: Pulse | None
    invited: int
    answered: int
    extra: dict[str, Any] = field(default_factory=dict)
    department_cases: Any = None  # units.DepartmentComparison: departments beside the cases they own
    unit_themes: Any = None  # units.UnitThemes: the themes by store (or the ``themes_by`` asked for)

    @property
    def response_rate(self) -> float | None:
        return 100 * self.answered / self.invited if self.invited else None


def overview(store: Store, survey: str | None = None, period: str | None = None, threshold_value: int | None = None,
             lang: str = "en", themes_by: str = "store") -> Overview | None:
    """The eNPS survey's latest (or ``period``'s) results for a page or the report; None without an employee
    eNPS survey with answers. ``themes_by``: store, department or region, the cut of the themes by unit."""
    from .units import compare_departments
    from .units import themes_by as unit_themes

    try:
        s = survey_of(store, survey, "nps")
    except CentricError:
        if survey:
            raise
        return None
    data = answers(store, s)
    if data.empty:
        return None
    chosen = period or periods(data)[-1]
    t = threshold(threshold_value)
    i = store.table("employee_invitations")
    i = i.filter((i.survey_id == s.survey_id) & (i.period == chosen))
    inv = store.rows(i.aggregate(n=i.count(), used=i.count(where=i.used)))[0]
    pulses = employee_surveys(store, "csat")
    p = pu = None
    extra: dict[str, Any] = {}
    if pulses:
        pdata = answers(store, pulses[0])
        if not pdata.empty:
            p = pulse(store, (), pulses[0], None, t, lang)
            pu = pulse(store, "store", pulses[0], None, t, lang)
            extra["pulse_survey"] = pulses[0]
    return Overview(s, chosen, t, enps(store, (), s, chosen, t, frame=data), enps(store, "period", s, None, t, frame=data),
                    enps(store, "store", s, chosen, t, frame=data), enps(store, "department", s, chosen, t, frame=data),
                    compare(store, s, chosen, t, frame=data), themes(store, s, chosen, t, lang),
                    comments(store, s, chosen, t, frame=data), p, pu, int(inv[0]), int(inv[1]), extra,
                    compare_departments(store, s, chosen, t, frame=data), unit_themes(store, themes_by, s, chosen, t, lang))


__all__ = ["BY", "HIDDEN", "Comments", "Comparison", "Correlation", "Cut", "EnpsBreakdown", "Overview", "Pulse",
           "PulseRow", "Theme", "Themes", "UnitRow", "analyze", "answers", "compare", "comments", "correlation",
           "employee_surveys", "enps", "enps_of", "figure_trend", "figure_units", "hide", "overview", "pulse",
           "survey_of", "taxonomy", "themes", "threshold"]
