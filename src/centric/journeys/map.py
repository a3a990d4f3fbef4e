"""The customer journey map: per journey, its stages in order × the touchpoints (and channels) where
they happen, with the volume, conversion, drop-off and time of each stage, and at each touchpoint the
survey scores, the net sentiment of what customers say there, the open cases and real quotes; the
pain points and the moments of truth are marked.

How it is built (every rule is also in ``JourneyMap.rules``):

* **Instances.** A customer's events in one journey are cut into instances where more than
  ``gap_days`` pass between two events (``centric.journeys.instances``).
* **Stage order.** Stage A comes before stage B when, among the instances that have both, more of them
  reach A first than B first (by each stage's first event). Stages are ranked by the number of other
  stages they come before (a Copeland ranking); ties by the mean position of their first event.
* **Final stage.** Given (``final={"purchase": "delivery"}``) or the latest stage in that order that at
  least ``min_reach`` (half) of the instances that get beyond the first stage reach.
* **Optional stages.** A stage up to the final one is *required* when at least ``required_share``
  (80 %) of the completed instances (those seen from the first stage to the final one) pass through
  it; the first and the
  final stage always are. The others — and every stage after the final one (installation after
  delivery) — are *optional*.
* **Funnel.** A required stage counts the instances that reached it *and every earlier required
  stage*. The sets are nested, so a later required stage can never show more instances (or customers)
  than an earlier one, even when some instances start in the middle of the journey (a delivery with no
  recorded visit). "Reached it at all" would break that. Those instances are not lost: ``entered`` counts
  every instance with an event of the stage. An optional stage counts the instances at the previous
  required stage that also went through it. Conversion is the share of a required stage's count that
  reaches the next required stage; drop-off is the rest.
* **Time in a stage**: from its first event to the first event of another stage after it (median,
  p90, in hours); **time between stages**: from the previous required stage's first event to this
  stage's first event.
* **Touchpoint experience** (store-wide, in the period): NPS, CSAT and CES of the answers with that
  touchpoint (``centric.metrics.survey``, with their intervals); the net sentiment of the factor mentions
  in the answers' comments and feedback texts with that touchpoint, 100·(positive − negative)/n with the
  same interval as NPS; the open cases whose answer or feedback text has that touchpoint or whose type
  names it; two or three quotes with personal data masked.
* **Pain points**: touchpoints with at least ``min_evidence`` answers whose NPS (CSAT without NPS) is
  significantly below that of all other answers (two-sided z-test, Holm-corrected across touchpoints),
  or with at least ``min_evidence`` mentions whose net sentiment is significantly negative (interval
  below 0); weakest first.
* **Moments of truth**: key-driver analysis by touchpoint. Per customer, their experience at each
  touchpoint — good (CSAT 4–5, CES 5–7 or a positive text) and bad (CSAT 1–2, CES 1–3 or a negative
  text), two columns per touchpoint, both 0 where they have none — explains their mean likelihood to
  recommend (0–10); each touchpoint's share of R² is its Shapley (LMG) value (``centric.drivers.kda``)
  with a bootstrap interval. A moment of truth explains more than an equal share of R² with an
  interval above zero (at most three).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..drivers import kda
from ..errors import CentricError
from ..metrics import stats
from ..metrics.periods import selection
from ..metrics.results import Score, Tabular
from ..metrics.survey import breakdowns
from ..store import Store
from ..text.masking import mask_personal
from .instances import instances

OPEN_STATUSES = ("new", "open", "assigned", "in_progress", "waiting")
QUOTES = 3
MAX_CASE_IDS = 50


@dataclass(frozen=True)
class Stage:
    """One column of the map."""

    stage: str
    order: int
    optional: bool
    after_final: bool
    entered: int  # instances with any event of the stage
    reached: int  # the funnel's count (see the module's rules)
    customers: int  # distinct customers behind ``reached``
    conversion_pct: float | None  # required: share of ``reached`` reaching the next required stage
    drop_off_pct: float | None
    share_pct: float | None  # optional: share of the previous required stage's instances passing through it
    in_median_hours: float | None
    in_p90_hours: float | None
    in_n: int
    previous: str | None  # the previous required stage
    between_median_hours: float | None
    between_p90_hours: float | None
    between_n: int


@dataclass(frozen=True)
class Cell:
    """One stage at one touchpoint: how many events, instances and customers, through which channels."""

    stage: str
    touchpoint: str
    events: int
    instances: int
    customers: int
    channels: dict[str, int]


@dataclass(frozen=True)
class Quote:
    source: str  # responses or feedback
    id: str
    text: str  # personal data masked
    polarity: str  # positive, neutral or negative
    language: str | None


@dataclass(frozen=True)
class Touchpoint:
    """One row of the map: the experience at a touchpoint (store-wide, in the period)."""

    touchpoint: str
    nps: Score
    csat: Score
    ces: Score
    sentiment: Score  # net sentiment of the mentions, −100…100
    factors: list[dict[str, Any]]  # the factors mentioned most there, with their net sentiment
    open_cases: int
    case_ids: list[str]
    quotes: list[Quote]
    pain: bool = False
    pain_reason: str | None = None
    pain_by: str | None = None  # nps, csat or sentiment
    pain_delta: float | None = None  # points below the other touchpoints (nps, csat)
    weight: float | None = None  # share of R² of the likelihood to recommend (moments of truth)
    weight_low: float | None = None
    weight_high: float | None = None
    moment_of_truth: bool = False


@dataclass(frozen=True)
class JourneyMap(Tabular):
    journey: str
    instances: int
    customers: int
    final_stage: str
    stages: list[Stage]
    cells: list[Cell]
    touchpoints: list[Touchpoint]
    pain_points: list[str]
    moments_of_truth: list[str]
    r_squared: float | None
    kda_customers: int
    rules: dict[str, str] = field(default_factory=dict)
    complete_median_hours: float | None = None  # from the first stage to the final one, in the funnel
    complete_p90_hours: float | None = None

    @property
    def completion_pct(self) -> float | None:
        """Share of the funnel's first stage that reaches the final stage."""
        req = self.funnel()
        fin = self.stage(self.final_stage)
        return 100.0 * fin.reached / req[0].reached if req and req[0].reached else None

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.stage == name)

    def touchpoint(self, name: str) -> Touchpoint | None:
        return next((t for t in self.touchpoints if t.touchpoint == name), None)

    def cell(self, stage: str, touchpoint: str) -> Cell | None:
        return next((c for c in self.cells if c.stage == stage and c.touchpoint == touchpoint), None)

    def funnel(self) -> list[Stage]:
        """The required stages in order: their counts never grow."""
        return [s for s in self.stages if not s.optional]

    def to_frame(self) -> pd.DataFrame:
        """One row per cell (stage × touchpoint) with the stage's and the touchpoint's figures."""
        rows = []
        for c in self.cells:
            s, t = self.stage(c.stage), self.touchpoint(c.touchpoint)
            rows.append({"journey": self.journey, "stage": c.stage, "order": s.order, "optional": s.optional,
                         "touchpoint": c.touchpoint, "events": c.events, "instances": c.instances,
                         "customers": c.customers,
                         "nps": t.nps.value if t else None, "csat": t.csat.value if t else None,
                         "ces": t.ces.value if t else None, "net_sentiment": t.sentiment.value if t else None,
                         "open_cases": t.open_cases if t else 0, "pain": bool(t and t.pain),
                         "moment_of_truth": bool(t and t.moment_of_truth)})
        return pd.DataFrame(rows)

    def stages_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"journey": self.journey, **asdict(s)} for s in self.stages])

    def touchpoints_frame(self) -> pd.DataFrame:
        rows = []
        for t in self.touchpoints:
            row = {"touchpoint": t.touchpoint}
            for m in ("nps", "csat", "ces", "sentiment"):
                s = getattr(t, m)
                row.update({m: s.value, f"{m}_n": s.n, f"{m}_low": s.low, f"{m}_high": s.high})
            row.update(open_cases=t.open_cases, pain=t.pain, weight=t.weight, moment_of_truth=t.moment_of_truth)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        def tp(t: Touchpoint) -> dict[str, Any]:
            d = {k: v for k, v in asdict(t).items() if k not in ("nps", "csat", "ces", "sentiment", "quotes")}
            for m in ("nps", "csat", "ces", "sentiment"):
                d[m] = getattr(t, m).to_dict()
            d["quotes"] = [asdict(q) for q in t.quotes]
            d["evidence"] = {
                "responses": f"responses where touchpoint = '{t.touchpoint}'",
                "feedback": f"feedback where touchpoint = '{t.touchpoint}'",
                "quotes": [{"table": q.source, "id": q.id} for q in t.quotes],
                "cases": t.case_ids}
            return d

        return {
            "journey": self.journey, "instances": self.instances, "customers": self.customers,
            "final_stage": self.final_stage,
            "stages": [_clean(asdict(s)) for s in self.stages],
            "cells": [{**asdict(c), "evidence": {"table": "events", "where": {
                "journey": self.journey, "stage": c.stage, "touchpoint": c.touchpoint}}} for c in self.cells],
            "touchpoints": [_clean(tp(t)) for t in self.touchpoints],
            "pain_points": self.pain_points, "moments_of_truth": self.moments_of_truth,
            "r_squared": self.r_squared, "kda_customers": self.kda_customers, "rules": self.rules,
            "completion_pct": self.completion_pct, "complete_median_hours": self.complete_median_hours,
            "complete_p90_hours": self.complete_p90_hours,
        }


RULES = {
    "instances": "A customer's events in one journey form one instance until more than {gap} days pass "
                 "between two events.",
    "order": "Stage A comes before B when more of the instances having both reach A first; stages are ranked "
             "by how many others they come before.",
    "final": "The final stage is the latest stage reached by at least {reach:.0%} of the instances that get "
             "beyond the first stage (or the one given).",
    "optional": "A stage is required when at least {share:.0%} of the instances seen from the first to the final "
                "stage pass through it; "
                "the others, and the stages after the final one, are optional.",
    "funnel": "A required stage counts the instances that reached it and every earlier required stage, so "
              "the funnel never grows; an optional stage counts those at the previous required stage that "
              "went through it.",
    "time": "Time in a stage: from its first event to the first event of another stage; time between: from "
            "the previous required stage's first event.",
    "pain": "Pain points: at least {n} answers and NPS (CSAT without NPS) significantly below all other "
            "answers (Holm-corrected), or at least {n} mentions with a significantly negative net sentiment.",
    "truth": "Moments of truth: each touchpoint's share of R² (Shapley/LMG) when customers' good and bad "
             "experiences there explain their likelihood to recommend; more than an equal share, interval "
             "above 0, at most three.",
}


@selection
def journey_map(store: Store, journey: str | None = None, final: dict[str, str] | None = None,
                gap_days: float = 14.0, min_reach: float = 0.5, required_share: float = 0.8,
                min_evidence: int = 30, reps: int = 200, seed: int = 0,
                start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[JourneyMap]:
    """The map of every journey in ``events`` (or only ``journey``), from events in [start, end) and
    the answers, texts and cases of the same period (open cases: as they are now)."""
    if not 0 < required_share <= 1 or not 0 < min_reach <= 1:
        raise CentricError("required_share and min_reach must be shares between 0 and 1")
    facts = _runs(store, gap_days, journey, start, end)
    firsts = _firsts(facts)
    cells = _cells(facts)
    if firsts.empty:
        known = sorted(store.table("events").select("journey").distinct().execute()["journey"].dropna())
        if journey is not None and journey not in known:
            raise CentricError(f"no journey {journey!r} in the events; the journeys are: "
                               f"{', '.join(known) or '(none)'}")
        return []
    tps = sorted(set(cells.touchpoint))
    experience = touchpoint_experience(store, tps, min_evidence=min_evidence, reps=reps, seed=seed,
                                       start=start, end=end)
    rules = {k: v.format(gap=gap_days, reach=min_reach, share=required_share, n=min_evidence)
             for k, v in RULES.items()}
    out = []
    for j, f in firsts.groupby("journey", sort=True):
        stages, final_stage, complete = funnel(f, (final or {}).get(j), min_reach, required_share)
        cj = cells[cells.journey == j]
        cell_list = []
        for (s, t), g in cj.groupby(["stage", "touchpoint"], sort=False):
            cell_list.append(Cell(s, t, int(g.events.sum()), int(g.instances_any.iloc[0]),
                                  int(g.customers_any.iloc[0]),
                                  {str(k): int(v) for k, v in zip(g.channel, g.events, strict=True)}))
        order = {s.stage: s.order for s in stages}
        cell_list.sort(key=lambda c: (order.get(c.stage, 99), c.touchpoint))
        rows = [experience.touchpoints[t] for t in dict.fromkeys(c.touchpoint for c in cell_list)
                if t in experience.touchpoints]
        keys = f[["customer_id", "instance"]].drop_duplicates()
        out.append(JourneyMap(
            j, len(keys), int(keys.customer_id.nunique()), final_stage, stages, cell_list, rows,
            [t for t in experience.pain_points if any(r.touchpoint == t for r in rows)],
            [t for t in experience.moments_of_truth if any(r.touchpoint == t for r in rows)],
            experience.r_squared, experience.kda_customers, rules, _q(complete, 0.5), _q(complete, 0.9)))
    return out


def _runs(store: Store, gap_days: float, journey: str | None, start, end):
    """Every event with its instance and its *run*: consecutive events of one stage in an instance (an Ibis
    table)."""
    i = instances(store, gap_days, start, end, journey=journey)
    part = [i.customer_id, i.journey, i.instance]
    same = (i.stage.lag().over(ibis.window(group_by=part, order_by=i.pos)) == i.stage).fill_null(False)
    f = i.mutate(new_run=ibis.ifelse(same, 0, 1))
    run = ibis.cumulative_window(group_by=[f.customer_id, f.journey, f.instance], order_by=f.pos)
    return f.select("journey", "customer_id", "instance", "stage", "occurred_at",
                    touchpoint=f.touchpoint.fill_null("(none)"), channel=f.channel.fill_null("(none)"),
                    run=f.new_run.sum().over(run))


def _firsts(facts) -> pd.DataFrame:
    """Per instance and stage: the first event's time and the first event of another stage after it
    (epoch seconds): a stage's first run starts at its first event and the next run starts where the
    stage is left."""
    key = ["customer_id", "journey", "instance"]
    runs = facts.group_by([*key, "run"]).aggregate(stage=facts.stage.min(), run_at=facts.occurred_at.min())
    nx = runs.mutate(next_at=runs.run_at.lead().over(ibis.window(group_by=key, order_by=runs.run)),
                     k=ibis.row_number().over(ibis.window(group_by=[*key, "stage"], order_by=runs.run)))
    nx = nx.filter(nx.k == 0)
    df = nx.select("journey", "customer_id", "instance", "stage",
                   first=nx.run_at.epoch_seconds().cast("float64"),
                   next=nx.next_at.epoch_seconds().cast("float64")).execute()
    # in a fixed order (the engine returns rows in any): instances, then their stages by time
    df = df.astype({"first": "float64", "next": "float64", "instance": "int64"})
    return df.sort_values(["journey", "customer_id", "instance", "first", "stage"], kind="stable").reset_index(drop=True)


def _cells(facts) -> pd.DataFrame:
    """Per journey, stage, touchpoint and channel: events; per journey, stage and touchpoint: instances
    and customers."""
    keys = ["journey", "stage", "touchpoint"]
    c = facts.group_by([*keys, "channel"]).aggregate(events=facts.count())
    d = facts.select(*keys, "customer_id", "instance").distinct()
    n = d.group_by(keys).aggregate(instances_any=d.count(), customers_any=d.customer_id.nunique())
    df = c.join(n, keys).select(*keys, "channel", "events", "instances_any", "customers_any").execute()
    return df.sort_values([*keys, "channel"], kind="stable").reset_index(drop=True)


def order_stages(f: pd.DataFrame) -> list[str]:
    """Stages in order (see the module's rules) from per-instance first times (columns customer_id,
    instance, stage, first)."""
    m = f.pivot_table(index=["customer_id", "instance"], columns="stage", values="first", aggfunc="min")
    names = list(m.columns)
    a = m.to_numpy(dtype=float)
    rank = m.rank(axis=1, method="min").to_numpy(dtype=float)
    wins = np.zeros(len(names))
    for i in range(len(names)):
        for k in range(len(names)):
            if i == k:
                continue
            both = ~np.isnan(a[:, i]) & ~np.isnan(a[:, k])
            before = int((a[both, i] < a[both, k]).sum())
            after = int((a[both, i] > a[both, k]).sum())
            wins[i] += 1.0 if before > after else 0.5 if before == after and both.any() else 0.0
    mean_rank = np.nanmean(rank, axis=0)
    return [names[i] for i in sorted(range(len(names)), key=lambda i: (-wins[i], mean_rank[i], names[i]))]


def _q(v: np.ndarray, q: float) -> float | None:
    return float(np.quantile(v, q)) if len(v) else None


def funnel(f: pd.DataFrame, final: str | None = None, min_reach: float = 0.5,
           required_share: float = 0.8) -> tuple[list[Stage], str, np.ndarray]:
    """The stages of one journey with their funnel counts and times, the final stage and the hours from
    the first stage to the final one of the instances in the funnel's last step, from per-instance first
    times (columns customer_id, instance, stage, first, next — epoch seconds; next may be NaN)."""
    names = order_stages(f)
    first = f.pivot_table(index=["customer_id", "instance"], columns="stage", values="first", aggfunc="min")[names]
    nxt = f.pivot_table(index=["customer_id", "instance"], columns="stage", values="next", aggfunc="min",
                        dropna=False).reindex(index=first.index, columns=names)
    has = first.notna().to_numpy()
    customers = first.index.get_level_values("customer_id").to_numpy()
    n_inst = len(first)
    if final is None:
        beyond = has[:, 1:].any(axis=1) if len(names) > 1 else has[:, 0]
        nb = max(int(beyond.sum()), 1)
        final = names[0]
        for i, s in enumerate(names):
            if has[beyond, i].sum() >= min_reach * nb:
                final = s
    elif final not in names:
        raise CentricError(f"final stage {final!r} is not a stage of this journey; its stages: {', '.join(names)}")
    fi = names.index(final)
    done = has[:, fi] & has[:, 0]  # completed, and seen from the start
    required = []
    for i in range(len(names)):
        if i == 0 or i == fi:
            required.append(True)
        elif i > fi:
            required.append(False)
        else:
            required.append(bool(done.sum()) and has[done, i].mean() >= required_share)
    chain = np.ones(n_inst, dtype=bool)
    chains: dict[int, np.ndarray] = {}
    for i in range(len(names)):
        if required[i]:
            chain = chain & has[:, i]
            chains[i] = chain
    req_idx = [i for i in range(len(names)) if required[i]]
    a = first.to_numpy(dtype=float)
    b = nxt.to_numpy(dtype=float)
    stages = []
    for i, s in enumerate(names):
        prev_req = max((k for k in req_idx if k < i), default=None)
        if required[i]:
            members = chains[i]
            later = [k for k in req_idx if k > i]
            conv = None
            if later and members.sum():
                conv = 100.0 * chains[later[0]].sum() / members.sum()
            share = None
        else:
            base = chains[prev_req] if prev_req is not None else np.ones(n_inst, dtype=bool)
            members = base & has[:, i]
            conv = None
            share = 100.0 * members.sum() / base.sum() if base.sum() else None
        ok_in = has[:, i] & ~np.isnan(b[:, i])
        t_in = (b[ok_in, i] - a[ok_in, i]) / 3600.0
        if prev_req is not None:
            ok_b = has[:, i] & has[:, prev_req] & (a[:, i] >= a[:, prev_req])
            t_b = (a[ok_b, i] - a[ok_b, prev_req]) / 3600.0
        else:
            t_b = np.array([])
        stages.append(Stage(
            s, i + 1, not required[i], i > fi, int(has[:, i].sum()), int(members.sum()),
            int(len(set(customers[members]))), conv, None if conv is None else 100.0 - conv, share,
            _q(t_in, 0.5), _q(t_in, 0.9), int(len(t_in)), names[prev_req] if prev_req is not None else None,
            _q(t_b, 0.5), _q(t_b, 0.9), int(len(t_b))))
    complete = (a[chains[fi], fi] - a[chains[fi], 0]) / 3600.0
    return stages, final, complete


# -- the touchpoints' experience ----------------------------------------------------------------------

@dataclass(frozen=True)
class Experience:
    touchpoints: dict[str, Touchpoint]
    pain_points: list[str]
    moments_of_truth: list[str]
    r_squared: float | None
    kda_customers: int


def _in_period(t, col: str, start, end):
    if start is not None:
        t = t.filter(t[col] >= start)
    if end is not None:
        t = t.filter(t[col] < end)
    return t


def _tagged_texts(store: Store, start, end):
    """Answers' comments and feedback texts with a touchpoint: source, id, customer, touchpoint, text,
    score (NPS or rating), CSAT, CES."""
    r = _in_period(store.table("responses"), "responded_at", start, end)
    r = r.filter(r.touchpoint.notnull())
    rs = r.select(source=ibis.literal("responses"), id=r.response_id, customer_id=r.customer_id,
                  touchpoint=r.touchpoint, text=r.comment, nps=r.nps.cast("float64"),
                  rating=ibis.null().cast("float64"), csat=r.csat.cast("float64"), ces=r.ces.cast("float64"),
                  author=ibis.null().cast("string"), language=r.language)
    f = _in_period(store.table("feedback"), "posted_at", start, end)
    f = f.filter(f.touchpoint.notnull() & (f.brand.isnull() | (f.brand == "ours")))
    fs = f.select(source=ibis.literal("feedback"), id=f.feedback_id, customer_id=f.customer_id,
                  touchpoint=f.touchpoint, text=f.text, nps=ibis.null().cast("float64"),
                  rating=f.rating.cast("float64"), csat=ibis.null().cast("float64"),
                  ces=ibis.null().cast("float64"), author=f.author, language=f.language)
    schema = ibis.schema({k: v.copy(nullable=True) for k, v in rs.schema().items()})
    return rs.cast(schema).union(fs.cast(schema))


def touchpoint_experience(store: Store, touchpoints: list[str], min_evidence: int = 30, reps: int = 200,
                          seed: int = 0, start: dt.datetime | None = None,
                          end: dt.datetime | None = None) -> Experience:
    """Scores, sentiment, open cases, quotes, pain points and moments of truth of ``touchpoints``."""
    scores = breakdowns(store, ("nps", "csat", "ces"), "touchpoint", start, end)
    by_tp: dict[str, dict[str, Score]] = {}
    for m, b in scores.items():
        for group, s in b.rows:
            by_tp.setdefault(group["touchpoint"], {})[m] = s
    texts = _tagged_texts(store, start, end)
    analysed = store.count("text_analyses") > 0
    sentiment, factors = _sentiment(store, texts, touchpoints) if analysed else ({}, {})
    cases = _open_cases(store, touchpoints)
    empty = {m: Score(m, None, 0, None, None, "none") for m in ("nps", "csat", "ces")}
    pains = _pain_points(by_tp, sentiment, touchpoints, min_evidence)
    weights, r2, n_kda = _moments(store, texts, touchpoints, reps, seed, start, end, analysed)
    truth = []
    if weights:
        equal = (r2 or 0.0) / max(len(weights), 1)
        ranked = sorted(weights, key=lambda t: -weights[t][0])
        truth = [t for t in ranked if weights[t][0] > equal and weights[t][1] > 0][:3]
    quotes = _quotes(store, texts, touchpoints, {t: (t in pains or (sentiment.get(t) is not None and
                                                                     (sentiment[t].value or 0) < 0))
                                                 for t in touchpoints}, sentiment, analysed)
    out = {}
    for t in touchpoints:
        sc = {**empty, **by_tp.get(t, {})}
        w = weights.get(t)
        ids = cases.get(t, [])
        out[t] = Touchpoint(
            t, sc["nps"], sc["csat"], sc["ces"], sentiment.get(t) or Score("net_sentiment", None, 0, None, None, "none"),
            factors.get(t, []), len(ids), ids[:MAX_CASE_IDS], quotes.get(t, []), t in pains,
            *(pains[t] if t in pains else (None, None, None)),
            None if w is None else w[0], None if w is None else w[1], None if w is None else w[2], t in truth)
    return Experience(out, sorted(pains, key=lambda t: _weakness(out[t])), truth, r2, n_kda)


def _weakness(t: Touchpoint) -> float:
    s = t.nps if not t.nps.no_data else t.csat
    return s.value if s.value is not None else 0.0


def _sentiment(store: Store, texts, touchpoints: list[str]) -> tuple[dict[str, Score], dict[str, list]]:
    m = store.table("mentions")
    t = texts.select("source", "id", "touchpoint")
    j = m.join(t, [m.source == t.source, m.text_id == t.id])
    df = j.group_by(["touchpoint", "factor", "sentiment"]).aggregate(n=j.count()).execute()
    net: dict[str, Score] = {}
    top: dict[str, list] = {}
    for tp, g in df.groupby("touchpoint"):
        if tp not in touchpoints:
            continue
        c = g.groupby("sentiment").n.sum()
        net[tp] = _net(int(c.get("positive", 0)), int(c.get("neutral", 0)), int(c.get("negative", 0)))
        per = []
        for fac, h in g.groupby("factor"):
            k = h.groupby("sentiment").n.sum()
            s = _net(int(k.get("positive", 0)), int(k.get("neutral", 0)), int(k.get("negative", 0)))
            per.append({"factor": fac, "mentions": s.n, "net": s.value, "interval": [s.low, s.high]})
        top[tp] = sorted(per, key=lambda d: (-d["mentions"], d["factor"]))[:5]
    return net, top


def _net(pos: int, neu: int, neg: int) -> Score:
    """Net sentiment 100·(pos − neg)/n with the NPS interval (a difference of two shares of one sample)."""
    s = stats.nps_score(pos, neu, neg)
    return Score("net_sentiment", s.value, s.n, s.low, s.high, s.method,
                 {"positive": pos, "neutral": neu, "negative": neg}, se=s.se)


def _open_cases(store: Store, touchpoints: list[str]) -> dict[str, list[str]]:
    """Open cases per touchpoint: those opened from an answer or a text with that touchpoint, and those
    whose type names the touchpoint."""
    c = store.table("cases")
    c = c.filter(c.status.isin(OPEN_STATUSES))
    r = store.table("responses").select(rid=ibis._.response_id, rtp=ibis._.touchpoint)
    f = store.table("feedback").select(fid=ibis._.feedback_id, ftp=ibis._.touchpoint)
    j = c.left_join(r, c.response_id == r.rid).left_join(f, c.feedback_id == f.fid)
    df = j.select("case_id", "type", "rtp", "ftp").execute()
    out: dict[str, set[str]] = {}
    known = set(touchpoints)
    for row in df.itertuples(index=False):
        for tp in (row.rtp, row.ftp, (row.type or "").lower() if isinstance(row.type, str) else None):
            if isinstance(tp, str) and tp in known:
                out.setdefault(tp, set()).add(row.case_id)
    return {t: sorted(v) for t, v in out.items()}


def _pain_points(by_tp: dict[str, dict[str, Score]], sentiment: dict[str, Score], touchpoints: list[str],
                 min_evidence: int) -> dict[str, tuple[str, str, float | None]]:
    tests = []
    for metric in ("nps", "csat"):
        total: dict[str, int] = {}
        for sc in by_tp.values():
            for k, v in sc.get(metric, Score(metric, None, 0, None, None, "none")).counts.items():
                total[k] = total.get(k, 0) + v
        for t in touchpoints:
            s = by_tp.get(t, {}).get(metric)
            if s is None or s.no_data or s.n < min_evidence or any(x[0] == t for x in tests):
                continue
            rest = {k: total.get(k, 0) - s.counts.get(k, 0) for k in total}
            if metric == "nps":
                other = stats.nps_score(rest.get("promoters", 0), rest.get("passives", 0), rest.get("detractors", 0))
            else:
                top = next((k for k in rest if k != "others"), "")
                other = stats.share_score("csat", rest.get(top, 0), sum(rest.values()), rest)
            c = stats.change(metric, other, s, "others", t)
            if c is not None:
                tests.append((t, metric, c))
    adjusted = stats.correct([c for _, _, c in tests])
    out: dict[str, tuple[str, str, float | None]] = {}
    for (t, metric, _), c in zip(tests, adjusted, strict=True):
        if c.significant and c.delta < 0:
            out[t] = (f"{metric.upper()} {c.delta:+.1f} against the other touchpoints (p = {c.p_adjusted:.3g})",
                      metric, c.delta)
    for t in touchpoints:
        s = sentiment.get(t)
        if t not in out and s is not None and s.n >= min_evidence and s.high is not None and s.high < 0:
            out[t] = (f"net sentiment {s.value:+.1f} (interval {s.low:+.1f} to {s.high:+.1f})", "sentiment", None)
    return out


def _moments(store: Store, texts, touchpoints: list[str], reps: int, seed: int, start, end,
             analysed: bool) -> tuple[dict[str, tuple[float, float, float]], float | None, int]:
    """Per touchpoint: share of R² (LMG) with its bootstrap interval; R²; customers in the model."""
    t = texts.filter(texts.customer_id.notnull())
    good = (t.csat >= 4) | (t.csat.isnull() & (t.ces >= 5))
    bad = (t.csat <= 2) | (t.csat.isnull() & (t.ces <= 3))
    if analysed:
        a = store.table("text_analyses").select(asrc=ibis._.source, aid=ibis._.text_id, sent=ibis._.sentiment)
        t = t.left_join(a, [t.source == a.asrc, t.id == a.aid])
        good = good | (t.sent == "positive")
        bad = bad | (t.sent == "negative")
    t = t.mutate(good=ibis.ifelse(good.fill_null(False), 1, 0), bad=ibis.ifelse(bad.fill_null(False), 1, 0))
    xdf = t.group_by(["customer_id", "touchpoint"]).aggregate(good=t.good.max(), bad=t.bad.max()).execute()
    r = _in_period(store.table("responses"), "responded_at", start, end)
    r = r.filter(r.nps.notnull() & r.customer_id.notnull())
    # the mean from the integer sum and count (engines round AVG differently), in the customers' order
    ydf = r.group_by("customer_id").aggregate(s=r.nps.sum(), n=r.nps.count()).execute()
    ydf = ydf.assign(y=ydf.s.astype(float) / ydf.n.astype(float)).sort_values("customer_id").reset_index(drop=True)
    tps = [tp for tp in touchpoints if tp in set(xdf.touchpoint)]
    if len(ydf) < 30 or not tps:
        return {}, None, len(ydf)
    wide = xdf[xdf.touchpoint.isin(tps)].pivot_table(index="customer_id", columns="touchpoint",
                                                     values=["good", "bad"], aggfunc="max", fill_value=0)
    wide = wide.reindex(ydf.customer_id).fillna(0)
    X = np.column_stack([wide[(k, tp)].to_numpy(dtype=float) if (k, tp) in wide.columns
                         else np.zeros(len(wide)) for tp in tps for k in ("good", "bad")])
    groups = [[2 * i, 2 * i + 1] for i in range(len(tps))]
    comp = kda.Compressed.of(ydf.y.to_numpy(dtype=float), X)
    decompose = kda.lmg if len(groups) <= kda.MAX_LMG_GROUPS else kda.relative_weights

    def weights(counts):
        R = kda.corr_weighted(comp.Z, counts)
        return decompose(R, groups), kda.r_squared(R)

    w, r2 = weights(comp.counts)
    boot = np.array([weights(c)[0] for c in comp.replicates(reps, seed)]) if reps else np.array([w])
    lo, hi = kda.percentile_interval(boot)
    return ({tp: (float(w[i]), float(lo[i]), float(hi[i])) for i, tp in enumerate(tps)}, float(r2), len(ydf))


def _quotes(store: Store, texts, touchpoints: list[str], weak: dict[str, bool], sentiment: dict[str, Score],
            analysed: bool) -> dict[str, list[Quote]]:
    """Up to three quotes per touchpoint: negative ones first where the touchpoint is weak, otherwise
    positive and negative ones in proportion to the mentions there. Flagged texts (near-duplicates,
    bursts, extortion, placeholders) and very short or very long ones are left out; among the rest, those
    closest to 140 characters, then by id."""
    t = texts.filter(texts.text.notnull() & texts.touchpoint.isin(touchpoints))
    length = t.text.length()
    t = t.filter((length >= 25) & (length <= 400))
    pol = ibis.cases((t.nps <= 6, "negative"), (t.nps >= 9, "positive"), (t.rating <= 2, "negative"),
                     (t.rating >= 4, "positive"), else_="neutral")
    if analysed:
        a = store.table("text_analyses").select(asrc=ibis._.source, aid=ibis._.text_id, sent=ibis._.sentiment,
                                                 flags=ibis._.flags.cast("string"))
        t = t.left_join(a, [t.source == a.asrc, t.id == a.aid])
        t = t.filter(t.flags.isnull() | (t.flags == "[]") | (t.flags == ""))
        pol = t.sent.fill_null(pol)
    t = t.mutate(polarity=pol, closeness=(t.text.length() - 140).abs())
    w = ibis.window(group_by=[t.touchpoint, t.polarity], order_by=[t.closeness, t.id])
    t = t.mutate(rn=ibis.row_number().over(w))
    df = t.filter(t.rn <= QUOTES).select("source", "id", "customer_id", "touchpoint", "text", "polarity",
                                         "author", "language").execute()
    names = _names(store, [c for c in df.customer_id.dropna().unique()])
    out: dict[str, list[Quote]] = {}
    for tp, g in df.groupby("touchpoint"):
        pools = {p: list(h.itertuples(index=False)) for p, h in g.groupby("polarity")}
        s = sentiment.get(tp)
        if weak.get(tp):
            want = ["negative"] * QUOTES
        else:
            pos = s.counts.get("positive", 0) if s else len(pools.get("positive", []))
            neg = s.counts.get("negative", 0) if s else len(pools.get("negative", []))
            k_neg = int(round(QUOTES * neg / (pos + neg))) if pos + neg else 0
            want = ["positive"] * (QUOTES - k_neg) + ["negative"] * k_neg
        picked = []
        for p in want:
            if pools.get(p):
                picked.append(pools[p].pop(0))
        for p in ("negative", "neutral", "positive"):  # fill from the rest
            while len(picked) < QUOTES and pools.get(p):
                picked.append(pools[p].pop(0))
        out[tp] = [Quote(q.source, str(q.id), mask_personal(q.text, [names.get(q.customer_id), q.author]),
                         q.polarity, q.language) for q in picked]
    return out


def _names(store: Store, customer_ids: list[str]) -> dict[str, str]:
    if not customer_ids:
        return {}
    c = store.table("customers")
    df = c.filter(c.customer_id.isin(customer_ids)).select("customer_id", "name").execute()
    return {r.customer_id: r.name for r in df.itertuples(index=False) if isinstance(r.name, str)}


def _clean(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _clean(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_clean(v) for v in d]
    if isinstance(d, float) and (math.isnan(d) or math.isinf(d)):
        return None
    return d
