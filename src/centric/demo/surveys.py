"""The demo company's own surveys: NPS after delivery and after installation, CSAT after support (the TOML
files in ``survey_files``, with Voltaro's logo and colours, in four languages).

Over the data's last months, the day after a delivery, an installation or a call to support, a share of
the customers got an e-mailed invitation — at most one per customer per ``survey_min_interval_days``,
counting the answers they gave the old survey tool too — and about four in ten answered, some after the one
reminder. The answers are written as the intake writes them: a ``responses`` row ``SVR-<invitation>`` with
``survey`` = the slug, the extra questions' answers in ``survey_answers``, and the invitation's
``answered_at`` and ``response_id``; one INSERT per table. A few anonymous answers that looked automated wait
in ``survey_flagged``. Scores and comments come from the same experience model as the rest of the demo.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import customer_keys, settings
from ..store import Store
from ..surveys import load_toml, repo
from ..surveys.invitations import customer_emails, customer_languages
from .generator import END, P_NEG, TOUCHPOINT_FACTORS, _Gen

FILES = Path(__file__).parent / "survey_files"
WINDOW_DAYS = 150  # invitations over the data's last five months
STAGES = {"delivery": "after-delivery", "installation": "after-installation", "support": "after-support"}
INVITE_SHARE = {"delivery": 0.35, "installation": 0.6, "support": 0.6}
ANSWER_SHARE = {"delivery": 0.38, "installation": 0.47, "support": 0.33}
COMMENT_SHARE = 0.45
REMINDER_DAYS = 5


@dataclass(frozen=True)
class DemoSurveys:
    surveys: int
    invitations: int
    answers: int
    flagged: int


def add_surveys(store: Store, seed: int = 7) -> DemoSurveys:
    """Add the three surveys, their invitations and answers to the demo store (before the text analysis and
    the closed loop, which then treat the answers as any others)."""
    rng = np.random.default_rng(seed + 1400)
    g = _Gen(seed + 1401)
    surveys = {}
    for path in sorted(FILES.glob("*.toml")):
        s = load_toml(path)
        sid = repo.add(store, s)
        surveys[s.slug] = repo.get(store, sid)
    with store.transaction() as con:  # the surveys went live with the data's last months
        con.execute("UPDATE surveys SET created_at = ?, updated_at = ?",
                    [END - dt.timedelta(days=WINDOW_DAYS + 5), END - dt.timedelta(days=WINDOW_DAYS + 5)])

    inv = _invitations(store, rng)
    if inv.empty:
        return DemoSurveys(len(surveys), 0, 0, 0)
    inv["survey_id"] = inv["slug"].map({k: v.survey_id for k, v in surveys.items()})
    langs = []
    for slug, part in inv.groupby("slug", sort=False):
        langs.append(customer_languages(store, surveys[slug], part["customer_id"]))
    inv["language"] = pd.concat(langs).reindex(inv.index)
    inv["email"] = customer_emails(store, inv.assign(email=None)[["customer_id", "email"]]).values
    inv["invitation_id"] = np.arange(1, len(inv) + 1, dtype="int64")
    inv["expires_at"] = inv["created_at"] + dt.timedelta(days=settings.get_positive_int("survey_link_days"))
    inv["sent_at"] = inv["created_at"].where(inv["email"].notna())

    # who answered, when (hours after the e-mail; some only after the reminder)
    answered = rng.random(len(inv)) < inv["stage"].map(ANSWER_SHARE).to_numpy()
    after_reminder = answered & (rng.random(len(inv)) < 0.25)
    hours = np.where(after_reminder, REMINDER_DAYS * 24 + rng.gamma(1.5, 8, len(inv)), rng.gamma(1.2, 6, len(inv)))
    answered_at = (inv["created_at"] + pd.to_timedelta(hours, unit="h")).dt.floor("s")
    answered &= inv["sent_at"].notna().to_numpy() & (answered_at < END).to_numpy()
    reminder_at = inv["created_at"] + dt.timedelta(days=REMINDER_DAYS)
    reminded = inv["sent_at"].notna() & (reminder_at < END) & (~answered | after_reminder)
    inv["reminded_at"] = reminder_at.where(reminded)
    inv["answered_at"] = answered_at.where(answered)
    inv["opened_at"] = (inv["answered_at"] - pd.to_timedelta(rng.uniform(20, 240, len(inv)), unit="s")).dt.floor("s")
    opened_only = ~answered & (rng.random(len(inv)) < 0.15)
    inv.loc[opened_only, "opened_at"] = (inv.loc[opened_only, "created_at"] + pd.to_timedelta(
        rng.uniform(1, 48, int(opened_only.sum())), unit="h")).dt.floor("s")
    inv["response_id"] = ("SVR-" + inv["invitation_id"].astype(str)).where(answered)

    responses, extras = _answers(inv[answered], surveys, g)
    flagged = _flagged(surveys["after-delivery"], rng)
    with store.transaction() as con:
        _insert(con, "survey_invitations", inv[["invitation_id", "survey_id", "customer_id", "email", "language",
                                                "created_at", "expires_at", "sent_at", "reminded_at", "answered_at",
                                                "response_id", "opened_at"]])
        _insert(con, "responses", responses)
        _insert(con, "survey_answers", extras)
        _insert(con, "survey_flagged", flagged)
    return DemoSurveys(len(surveys), len(inv), len(responses), len(flagged))


def _invitations(store: Store, rng: np.random.Generator) -> pd.DataFrame:
    """The day after each delivery, installation or support call of the window, a share of the customers is
    invited — none twice within the minimum interval, nor within it after answering the old survey tool."""
    start = END - dt.timedelta(days=WINDOW_DAYS)
    e = store.table("events")
    ev = e.filter(e.stage.isin(list(STAGES)) & (e.occurred_at >= start) & e.customer_id.notnull()) \
        .select("customer_id", "occurred_at", "stage").execute()
    ev = ev.sort_values(["occurred_at", "customer_id", "stage"], kind="stable").reset_index(drop=True)  # seeded draws
    ev = ev[rng.random(len(ev)) < ev["stage"].map(INVITE_SHARE).to_numpy()]
    ev = ev.assign(created_at=ev["occurred_at"].dt.floor("D") + pd.Timedelta(days=1, hours=9))  # next day, 9:00
    ev = ev[ev["created_at"] < END].sort_values(["created_at", "customer_id", "stage"], kind="stable")
    interval = dt.timedelta(days=settings.get_int("survey_min_interval_days"))
    r = store.table("responses")
    answered = r.filter(r.customer_id.notnull() & (r.responded_at >= start - interval)) \
        .select("customer_id", "responded_at").execute()
    last_answer = answered.groupby("customer_id")["responded_at"].apply(lambda s: np.sort(s.to_numpy()))
    kept, last_invite = [], {}
    for i, (cid, when) in enumerate(zip(ev["customer_id"], ev["created_at"], strict=True)):
        prev = last_invite.get(cid)
        if prev is not None and when - prev < interval:
            continue
        if cid in last_answer.index:
            times = last_answer[cid]
            k = np.searchsorted(times, np.datetime64(when), side="right")
            if k and np.datetime64(when) - times[k - 1] < np.timedelta64(interval):
                continue
        last_invite[cid] = when
        kept.append(i)
    out = ev.iloc[kept].reset_index(drop=True)
    out["slug"] = out["stage"].map(STAGES)
    return out[["customer_id", "stage", "slug", "created_at"]]


def _answers(done: pd.DataFrame, surveys: dict, g: _Gen) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The answers of the invitations ``done``: scores and comments from the demo's experience model."""
    rows, extras = [], []
    for r in done.itertuples(index=False):
        s = surveys[r.slug]
        tp = s.touchpoint
        exp = g.experience(dict(TOUCHPOINT_FACTORS[tp]), P_NEG, r.answered_at.to_pydatetime())
        lat = g.latent(exp)
        lo, hi = s.scale
        score = int(np.clip(round(lo + (hi - lo) * lat / 10 + g.rng.normal(0, 0.45)), lo, hi))
        comment = g.comment(r.language, exp, lat >= 7) if g.chance(COMMENT_SHARE) else None
        rows.append({"response_id": r.response_id, "customer_id": r.customer_id, "survey": s.slug,
                     "responded_at": r.answered_at, "channel": s.channel or "web", "touchpoint": tp,
                     "nps": score if s.kind == "nps" else None, "csat": score if s.kind == "csat" else None,
                     "ces": None, "comment": comment, "language": r.language})
        for q in s.questions:
            if g.chance(0.15):
                continue  # extra questions are optional
            if q.id == "on_time":
                value = "no" if exp.get("delivery") is False else "yes"
            else:
                value = str(int(np.clip(round(1 + 4 * lat / 10 + g.rng.normal(0, 0.6)), *q.scale)))
            extras.append({"response_id": r.response_id, "survey_id": s.survey_id, "question_id": q.id,
                           "value": value, "answered_at": r.answered_at})
    resp = pd.DataFrame(rows, columns=["response_id", "customer_id", "survey", "responded_at", "channel", "touchpoint",
                                       "nps", "csat", "ces", "comment", "language"])
    for col in ("nps", "csat", "ces"):
        resp[col] = resp[col].astype("Int64")
    resp["customer_key"] = pd.array([customer_keys.key_of(c) for c in resp["customer_id"]], dtype="Int32")
    return resp, pd.DataFrame(extras, columns=["response_id", "survey_id", "question_id", "value", "answered_at"])


def _flagged(survey, rng: np.random.Generator) -> pd.DataFrame:
    """A few anonymous answers held back: a filled honeypot, answers sent too fast, a burst from one address."""
    when = END - dt.timedelta(days=3)
    samples = [(["honeypot"], 10, "Great prices, visit cheap-deals.example now"),
               (["too_fast"], 0, None), (["too_fast"], 10, None),
               (["rate_limited"], 0, "bad"), (["rate_limited", "too_fast"], 0, "bad")]
    rows = []
    for i, (reasons, score, comment) in enumerate(samples, start=1):
        rows.append({"flag_id": f"F{i}", "survey_id": survey.survey_id,
                     "received_at": when + dt.timedelta(minutes=int(rng.integers(0, 600)) + i),
                     "fields": json.dumps({"score": score, "comment": comment, "extras": {}, "language": "en"}),
                     "reasons": json.dumps(reasons), "ip_hash": f"{int(rng.integers(1 << 60)):016x}" * 4,
                     "released_at": None, "released_by": None, "response_id": None})
    return pd.DataFrame(rows)


def _insert(con, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    name = f"_demo_{table}"
    con.register(name, frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM {name}')
    finally:
        con.unregister(name)


__all__ = ["DemoSurveys", "add_surveys"]
