"""The council at a glance, for the report and the web app: members (by segment and country), meetings held and
planned, decisions, the action tracker's counts (open, in progress, overdue, done, dropped) and the members'
scores against everyone else's."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..store import Store
from .compare import Comparison, compare
from .meetings import Actions, actions, meetings
from .roster import Roster, roster, today


@dataclass(frozen=True)
class Summary:
    roster: Roster
    meetings: pd.DataFrame
    actions: Actions
    comparison: Comparison
    decisions: int
    as_of: dt.date

    def to_frame(self) -> pd.DataFrame:
        return self.comparison.to_frame()

    @property
    def segments(self) -> list[tuple[str, int]]:
        s = self.roster.current["segment"].fillna("(none)").value_counts()
        return sorted(((str(k), int(v)) for k, v in s.items()), key=lambda x: (-x[1], x[0]))

    @property
    def countries(self) -> list[tuple[str, int]]:
        s = self.roster.current["country"].fillna("(none)").value_counts()
        return sorted(((str(k), int(v)) for k, v in s.items()), key=lambda x: (-x[1], x[0]))


def summary(store: Store, as_of: dt.date | None = None, start: dt.datetime | None = None,
            end: dt.datetime | None = None) -> Summary | None:
    """The council's summary as of ``as_of`` (today), the members' scores over the answers in [start, end); None
    when the store has no council."""
    if not store.count("council_members") and not store.count("council_meetings"):
        return None
    as_of = as_of or today()
    decisions = store.count("council_decisions")
    return Summary(roster(store, as_of), meetings(store, as_of), actions(store, as_of), compare(store, start, end), decisions,
                   as_of)


def version(store: Store) -> tuple:
    """A fingerprint of the council's tables (their rows and last changes), in one query: part of the report's
    data version, so that the dashboards' council section follows every change."""
    parts = [f"(SELECT count(*) FROM {t})" for t in ("council_members", "council_meetings", "council_attendance",
                                                       "council_decisions", "council_actions")]
    parts += [f"(SELECT CAST(max(updated_at) AS VARCHAR) FROM {t})" for t in ("council_members", "council_meetings",
                                                                                "council_actions")]
    parts.append("(SELECT sum(CASE WHEN status = 'present' THEN 1 ELSE 0 END) FROM council_attendance)")
    return tuple(store.execute("SELECT " + ", ".join(parts)).fetchone())


def actions_figure(a: Actions, labels: dict[str, str] | None = None) -> go.Figure:
    """The tracker's actions by status (overdue apart from the other open ones)."""
    c = a.counts()
    labels = {"overdue": "Overdue", "open": "Open", "in_progress": "In progress", "done": "Done",
              "dropped": "Dropped", **(labels or {})}
    t = a.table
    open_ok = int(((t["status"] == "open") & ~t["overdue"]).sum()) if len(t) else 0
    prog_ok = int(((t["status"] == "in_progress") & ~t["overdue"]).sum()) if len(t) else 0
    values = {"overdue": c["overdue"], "open": open_ok, "in_progress": prog_ok, "done": c["done"],
              "dropped": c["dropped"]}
    colors = {"overdue": "#c0392b", "open": "#e6a23c", "in_progress": "#2f6fb3", "done": "#2e8b57",
              "dropped": "#9aa5b1"}
    fig = go.Figure(go.Bar(x=[labels[k] for k in values], y=list(values.values()),
                           marker_color=[colors[k] for k in values], hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(height=260, margin={"l": 40, "r": 10, "t": 20, "b": 40}, showlegend=False)
    return fig


def context(s: Summary | None, f, specs: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The report's "Customer council" section (texts in ``f``'s language) and its charts in ``specs``."""
    if s is None:
        return None
    _ = f.gettext
    names = names or {}
    c = s.comparison
    rows = []
    for m, (a, b, ch) in c.scores.items():
        rows.append({"metric": m.upper(), "members": _score(a, f), "members_ci": _ci(a, f), "members_n": f.num(a.n),
                     "others": _score(b, f), "others_ci": _ci(b, f), "others_n": f.num(b.n),
                     "difference": "—" if ch is None else f.num(ch.delta, 1, sign=True),
                     "significant": bool(ch and ch.significant),
                     "p": "—" if ch is None else f.num(ch.p_adjusted if ch.p_adjusted is not None else ch.p_value, 3)})
    labels = {"members": _("Council members"), "others": _("Everyone else")}
    from .compare import figure

    specs["chart-council-scores"] = json.loads(figure(c, labels).to_json())
    specs["chart-council-actions"] = json.loads(actions_figure(s.actions, {
        "overdue": _("Overdue"), "open": _("Open"), "in_progress": _("In progress"), "done": _("Done"),
        "dropped": _("Dropped")}).to_json())
    counts = s.actions.counts()
    held = s.meetings[s.meetings["held"]] if len(s.meetings) else s.meetings
    overdue = s.actions.table[s.actions.table["overdue"]]
    return {
        "members": f.num(len(s.roster.current)), "former": f.num(len(s.roster.former)),
        "segments": ", ".join(f"{k} {f.num(v)}" for k, v in s.segments) or "—",
        "countries": ", ".join(f"{k} {f.num(v)}" for k, v in s.countries) or "—",
        "held": f.num(len(held)), "planned": f.num(len(s.meetings) - len(held)), "decisions": f.num(s.decisions),
        "open": f.num(counts["open"] + counts["in_progress"]), "overdue": f.num(counts["overdue"]),
        "done": f.num(counts["done"]), "dropped": f.num(counts["dropped"]),
        "overdue_rows": [{"id": r.action_id, "what": r.what, "owner": r.owner, "due": f.date(r.due_on),
                          "days": f.num(r.days_overdue)} for r in overdue.itertuples(index=False)],
        "meetings": [{"id": r.meeting_id, "title": r.title, "day": f.date(r.held_on), "held": bool(r.held),
                      "present": f.num(r.present), "decisions": f.num(r.decisions), "actions": f.num(r.actions)}
                     for r in s.meetings.itertuples(index=False)],
        "scores": rows,
        "factors": [{"factor": names.get(r.factor, str(r.factor).replace("_", " ")), "members_n": f.num(r.members_n),
                     "members_net": _net(r.members_net, f), "others_n": f.num(r.others_n),
                     "others_net": _net(r.others_net, f)} for r in c.factors.itertuples(index=False)],
        "cases": f.num(len(c.cases)),
    }


def _score(s, f) -> str:
    return "—" if s.value is None else f.num(s.value, 1, sign=s.metric == "nps")


def _ci(s, f) -> str:
    if s.value is None or s.low is None:
        return ""
    return f"{f.num(s.low, 1)} … {f.num(s.high, 1)}"


def _net(v, f) -> str:
    return "—" if v is None or pd.isna(v) else f.num(v, 0, sign=True)
