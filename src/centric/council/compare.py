"""The council's members as a segment of their own: their NPS, CSAT and CES against everyone else's, with 95%
intervals and a z-test of the difference (independent groups; the same test ``centric metrics`` applies between
periods), the factors they raise with their net sentiment against the others', and their open cases.

"Members" are the customers on the council now; "others" every other answer (former members, customers never on
it, anonymous answers). The cut is the ``council`` filter of ``centric.metrics.filters``, so dashboards and every
metric taking ``where`` give the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from ..metrics import stats
from ..metrics.results import Change, Score
from ..metrics.survey import breakdowns
from ..store import Store

METRICS = ("nps", "csat", "ces")
MEMBERS = {"council": ["member"]}
OTHERS = {"council": ["former", "(none)"]}
OPEN_CASES = ("new", "open", "assigned", "in_progress", "waiting")


@dataclass(frozen=True)
class Comparison:
    """Members' scores against the others' (``scores``: metric → (members, others, change others → members)),
    their factors (``factors``: factor, mentions and net sentiment of each group, in points) and their open cases."""

    scores: dict[str, tuple[Score, Score, Change | None]]
    factors: pd.DataFrame
    cases: pd.DataFrame
    members: int

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for m, (a, b, ch) in self.scores.items():
            rows.append({"metric": m, "members": a.value, "members_low": a.low, "members_high": a.high,
                         "members_n": a.n, "others": b.value, "others_low": b.low, "others_high": b.high,
                         "others_n": b.n, "difference": None if ch is None else ch.delta,
                         "p_value": None if ch is None else ch.p_value,
                         "p_adjusted": None if ch is None else ch.p_adjusted,
                         "significant": None if ch is None else ch.significant})
        return pd.DataFrame(rows)


def compare(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None,
            correction: str = "holm", top: int = 10) -> Comparison:
    """Members against everyone else over the answers in [start, end); the three differences' p-values corrected
    together (``correction``: holm, bh or none). ``top``: how many factors (the members' most mentioned)."""
    from ..council.roster import member_ids

    members = breakdowns(store, METRICS, (), start, end, where=MEMBERS)
    others = breakdowns(store, METRICS, (), start, end, where=OTHERS)
    scores: dict[str, tuple[Score, Score, Change | None]] = {}
    for m in METRICS:
        a, b = members[m].rows[0][1], others[m].rows[0][1]
        scores[m] = (a, b, stats.change(m, b, a, "others", "members"))
    tested = [m for m in METRICS if scores[m][2] is not None]
    for m, c in zip(tested, stats.correct([scores[m][2] for m in tested], correction), strict=True):
        scores[m] = (scores[m][0], scores[m][1], c)
    ids = member_ids(store, "member")
    return Comparison(scores, _factors(store, start, end, top), _cases(store, ids), len(ids))


def _factors(store: Store, start, end, top: int) -> pd.DataFrame:
    """Per factor: mentions and net sentiment (% positive − % negative) of the members' texts and the others'."""
    from ..drivers.analysis import _sources
    from ..metrics.filters import council_rows

    cols = ["factor", "members_n", "members_net", "others_n", "others_net"]
    r, f = _sources(store, None, start, end)
    import ibis

    texts = r.select(src=ibis.literal("responses"), text_id=r.response_id, customer_id=r.customer_id).union(
        f.filter(f.brand.isnull() | (f.brand == "ours")).select(src=ibis.literal("feedback"), text_id=f.feedback_id,
                                                                customer_id=f.customer_id))
    texts = texts.mutate(member=council_rows(store, texts.customer_id, ("member",)).fill_null(False))
    m = store.table("mentions")
    j = m.join(texts, (m.text_id == texts.text_id) & (m.source == texts.src))
    agg = j.group_by(["factor", "member"]).aggregate(
        n=j.count(), pos=(j.sentiment == "positive").sum(), neg=(j.sentiment == "negative").sum()).execute()
    if agg.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for factor, g in agg.groupby("factor"):
        row = {"factor": factor}
        for flag, name in ((True, "members"), (False, "others")):
            x = g[g["member"] == flag]
            n = int(x["n"].sum())
            row[f"{name}_n"] = n
            row[f"{name}_net"] = 100.0 * (int(x["pos"].sum()) - int(x["neg"].sum())) / n if n else None
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    out = out[out["members_n"] > 0].sort_values(["members_n", "factor"], ascending=[False, True]).head(top)
    return out.reset_index(drop=True)


def _cases(store: Store, ids) -> pd.DataFrame:
    c = store.table("cases")
    q = c.filter(c.customer_id.isin(list(ids)) & c.status.isin(OPEN_CASES))
    out = q.select("case_id", "customer_id", "type", "department", "status", "opened_at").order_by("opened_at").execute()
    return out.reset_index(drop=True)


def figure(c: Comparison, labels: dict[str, str] | None = None) -> go.Figure:
    """Members' and others' scores side by side with their 95% intervals, one panel per metric."""
    from plotly.subplots import make_subplots

    labels = {"members": "Council members", "others": "Everyone else", **(labels or {})}
    fig = make_subplots(rows=1, cols=len(METRICS), subplot_titles=[m.upper() for m in METRICS])
    for i, m in enumerate(METRICS, start=1):
        for j, (key, color) in enumerate((("members", "#2f6fb3"), ("others", "#9aa5b1"))):
            s = c.scores[m][j]
            if s.value is None:
                continue
            fig.add_trace(go.Bar(x=[labels[key]], y=[s.value], marker_color=color, name=labels[key],
                                 showlegend=i == 1, legendgroup=key,
                                 error_y={"type": "data", "symmetric": False, "array": [s.high - s.value],
                                          "arrayminus": [s.value - s.low]},
                                 hovertemplate=f"{labels[key]}: %{{y:.1f}} (n = {s.n})<extra></extra>"),
                          row=1, col=i)
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 40, "b": 40}, barmode="group")
    return fig
