"""The ideas programme in figures: ideas by status and by author, the top ideas by votes, ideas per factor,
time to the first answer (median and 90th percentile, in days, from epoch seconds) and rewards. A pure function
of the store (:func:`programme`) returning :class:`Programme`; the report's section and the web page show it.

>>> from centric.store import Store
>>> from centric.ideas import box
>>> s = Store.open(":memory:")
>>> i = box.submit(s, "Longer opening hours on Saturday", "customer")
>>> programme(s).by_status
{'new': 1, 'under_review': 0, 'planned': 0, 'done': 0, 'declined': 0}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..schema import IDEA_STATUSES
from ..store import Store


@dataclass(frozen=True)
class Programme:
    ideas: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    top: pd.DataFrame  # the most-voted ideas (views.LIST_COLUMNS)
    per_factor: dict[str, dict[str, Any]]  # views.by_factor
    answered: int  # ideas with an answer
    days_to_answer_median: float | None
    days_to_answer_p90: float | None
    waiting: int  # open ideas (new) without an answer
    rewards: int
    reward_points: float
    merged: int
    flagged: int
    votes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per status: how many ideas."""
        return pd.DataFrame({"status": list(self.by_status), "ideas": list(self.by_status.values())})

    def to_dict(self) -> dict[str, Any]:
        return {"ideas": self.ideas, "by_status": self.by_status, "by_kind": self.by_kind, "votes": self.votes,
                "answered": self.answered, "days_to_answer_median": self.days_to_answer_median,
                "days_to_answer_p90": self.days_to_answer_p90, "waiting": self.waiting, "rewards": self.rewards,
                "reward_points": self.reward_points, "merged": self.merged, "flagged": self.flagged,
                "per_factor": self.per_factor, "top": self.top.astype(object).where(self.top.notna(), None)
                .assign(created_at=lambda d: d["created_at"].astype(str)).to_dict(orient="records")}


def programme(store: Store, top: int = 10) -> Programme | None:
    """The programme's figures, or None when the store has no idea."""
    from .views import by_factor, frame

    ideas = store.table("ideas")
    if not int(ideas.count().execute()):
        return None
    df = frame(store)
    by_status = {s: int((df["status"] == s).sum()) for s in IDEA_STATUSES}
    by_kind = {k: int((df["author_kind"] == k).sum()) for k in ("customer", "employee")}
    times = ideas.filter(ideas.merged_into.isnull(), ideas.flags.isnull(), ideas.answered_at.notnull()).select(
        "created_at", "answered_at").execute()
    days = ((pd.to_datetime(times["answered_at"]) - pd.to_datetime(times["created_at"])).dt.total_seconds() / 86400.0
            if len(times) else pd.Series(dtype=float))
    days = days[days >= 0]
    r = store.table("idea_rewards")
    got = r.aggregate(n=r.count(), points=r.amount.sum(where=r.unit == "points")).execute().iloc[0]
    rewards = (int(got["n"]), 0.0 if got["points"] is None or pd.isna(got["points"]) else float(got["points"]))
    counted = ideas.aggregate(merged=ideas.merged_into.count(),
                              flagged=(ideas.flags.notnull() & ideas.merged_into.isnull()).sum()).execute().iloc[0]
    merged, flagged = int(counted["merged"]), int(counted["flagged"] or 0)
    return Programme(
        ideas=len(df), by_status=by_status, by_kind=by_kind, top=df.head(top), per_factor=by_factor(store),
        answered=int(len(days)),
        days_to_answer_median=float(np.median(days)) if len(days) else None,
        days_to_answer_p90=float(np.quantile(days, 0.9)) if len(days) else None,
        waiting=int(((df["status"] == "new")).sum()), rewards=int(rewards[0]), reward_points=float(rewards[1]),
        merged=int(merged), flagged=int(flagged), votes=int(df["votes"].sum()) if len(df) else 0)


def figure(p: Programme, labels: dict[str, str] | None = None, title: str = ""):
    """Ideas by status, customers' and employees' stacked (a ``plotly.graph_objects.Figure``)."""
    import plotly.graph_objects as go

    labels = labels or {}
    fig = go.Figure()
    return fig.add_bar(x=[labels.get(s, s) for s in p.by_status], y=list(p.by_status.values()),
                       marker_color="#1f4e79").update_layout(title=title, showlegend=False, height=300,
                                                             margin={"l": 40, "r": 10, "t": 40, "b": 40})


def section(p: Programme | None, f, specs: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The report section's context (texts in ``f``'s language) and its chart in ``specs``."""
    if p is None:
        return None
    from ..text.masking import mask_personal
    from .labels import kind_names
    from .labels import status_names as statuses_in

    _ = f.gettext
    names = names or {}
    kinds = kind_names(f.lang)
    status_names = statuses_in(f.lang)
    from ..report.charts import BLUE, _layout

    specs["chart-ideas"] = {"data": [{"type": "bar", "x": list(status_names.values()), "y": list(p.by_status.values()),
                                      "marker": {"color": BLUE}, "hoverinfo": "x+y"}],
                            "layout": _layout(_("Ideas by status"), _("Ideas"), height=280)}

    def days(v: float | None) -> str:
        return "—" if v is None else f.num(v, 1)

    return {
        "ideas": f.num(p.ideas), "votes": f.num(p.votes), "answered": f.num(p.answered), "waiting": f.num(p.waiting),
        "median": days(p.days_to_answer_median), "p90": days(p.days_to_answer_p90), "rewards": f.num(p.rewards),
        "points": f.num(p.reward_points), "merged": f.num(p.merged), "flagged": f.num(p.flagged),
        "customers": f.num(p.by_kind["customer"]), "employees": f.num(p.by_kind["employee"]),
        "statuses": [{"name": status_names[s], "n": f.num(n)} for s, n in p.by_status.items()],
        "top": [{"id": r.idea_id, "title": mask_personal(str(r.title)), "status": status_names.get(r.status, r.status),
                 "factor": names.get(r.factor, str(r.factor).replace("_", " ")) if isinstance(r.factor, str) else "—",
                 "kind": kinds.get(r.author_kind, r.author_kind), "votes": f.num(r.votes)} for r in p.top.itertuples()],
        "factors": [{"id": k, "factor": names.get(k, k.replace("_", " ")), "ideas": f.num(v["ideas"]),
                     "customers": f.num(v["customers"]), "top": mask_personal(str(v["top"]["title"])),
                     "top_votes": f.num(v["top"]["votes"])}
                    for k, v in sorted(p.per_factor.items(), key=lambda kv: -kv[1]["ideas"])],
        # the action matrix's column: factor id → ideas and the top idea
        "by_factor": {k: {"ideas": f.num(v["ideas"]), "top": mask_personal(str(v["top"]["title"])),
                          "top_id": v["top"]["idea_id"]} for k, v in p.per_factor.items()},
    }
