"""Signals: the rows that say a customer is unhappy, each of which must reach a person.

- a **complaint** (feedback ``source = complaint`` about our brand);
- a **survey answer** with NPS ≤ ``cases_nps_max`` (6), CSAT ≤ ``cases_csat_max`` (2) or CES ≤
  ``cases_ces_max`` (3) — except the answers to a case's own "Was it solved?" question, which act on that
  case directly;
- a **review or social post** about our brand that the text pipeline judged negative, or rated at most
  ``cases_rating_max`` (2).

Each signal carries the factor it is about: the factor of its most negative mention (``centric
analyze``); a survey answer without one is about its touchpoint when the touchpoint is a factor of the
routing table (a detractor of the post-delivery survey is about delivery). A signal whose text has not
been analysed yet waits for ``centric analyze`` (``pending``) unless the caller takes it as it is; a signal
with no factor goes to the triage queue.

Queries go through Ibis (portable); :func:`find` returns one pandas row per signal.
"""

from __future__ import annotations

import datetime as dt
import json

import ibis
import numpy as np
import pandas as pd

from .. import settings
from ..store import Store
from .store_io import compiled

__all__ = ["CONFIRMATION_SURVEY", "COLUMNS", "SUMMARY_CHARS", "fetch_texts", "find"]

CONFIRMATION_SURVEY = "case-confirmation"
"""The survey name of the answers to "Was it solved?": they never open a case of their own."""

COLUMNS = ["source_table", "signal_id", "kind", "customer_id", "author", "signal_at", "channel", "factor",
           "analysed", "flags", "summary", "maybe_public", "language", "country", "imported_case_id"]
"""``summary``: the title or the first :data:`SUMMARY_CHARS` characters of the text; ``maybe_public``: the text
has a piece that every threat to go public has (:func:`centric.cases.routing.go_public` decides on the
full text) — the texts themselves stay in the store."""

SUMMARY_CHARS = 120

OURS = "ours"


def _int_setting(name: str, value: int | None) -> int:
    return int(settings.get(name, None if value is None else str(value)))


def find(store: Store, since: dt.datetime | None = None, touchpoint_factors: frozenset[str] = frozenset(),
         nps_max: int | None = None, csat_max: int | None = None, ces_max: int | None = None,
         rating_max: float | None = None, new_only: bool = False) -> pd.DataFrame:
    """Every signal in the store (since ``since``), newest last; with ``new_only``, only those the loop has not
    placed yet (no row in ``case_signals``): left out by the query itself (an anti-join), and the analyses,
    mentions and imported cases joined to them are read for those signals only — a sync with a few new
    signals reads a few rows, not every signal placed so far."""
    nps_max, csat_max, ces_max = (_int_setting("cases_nps_max", nps_max), _int_setting("cases_csat_max", csat_max),
                                  _int_setting("cases_ces_max", ces_max))
    rating_max = float(settings.get("cases_rating_max", None if rating_max is None else str(rating_max)))
    c = store.table("customers")
    customers = c.select(c_id=c.customer_id, country=c.country, customer_language=c.language)
    placed = store.table("case_signals") if new_only else None
    ids = {}  # table → the ids of its new signals (new_only), which the joined tables are read for

    def unplaced(t, key: str, table: str):  # before the texts are read: those of placed signals never are
        if placed is None:
            return t
        done = placed.filter(placed.source_table == table).select(p_id=placed.signal_id)
        t = t.anti_join(done, t[key] == done.p_id).select(*t.columns)  # a table, not a join
        ids[table] = t.select(n_id=t[key])
        return t

    r = store.table("responses")
    unhappy = (r.nps <= nps_max).fill_null(False) | (r.csat <= csat_max).fill_null(False) | \
        (r.ces <= ces_max).fill_null(False)
    r = r.filter(unhappy, r.survey.fill_null("") != CONFIRMATION_SURVEY)
    if since is not None:
        r = r.filter(r.responded_at >= since)
    r = unplaced(r, "response_id", "responses")
    responses = r.select(
        signal_id=r.response_id, customer_id=r.customer_id, author=ibis.null("string"), signal_at=r.responded_at,
        channel=r.channel, touchpoint=r.touchpoint, language=r.language, **_text_columns(r.comment),
        kind=ibis.literal("survey"), rating=ibis.null("float64"), source=ibis.literal("survey"),
    ).mutate(source_table=ibis.literal("responses"))

    f = store.table("feedback")
    ours = f.brand.fill_null(OURS).lower() == OURS
    f = f.filter(ours, f.source.isin(["complaint", "review", "social"]))
    if since is not None:
        f = f.filter(f.posted_at >= since)
    f = unplaced(f, "feedback_id", "feedback")
    feedback = f.select(
        signal_id=f.feedback_id, customer_id=f.customer_id, author=f.author, signal_at=f.posted_at,
        channel=f.channel, touchpoint=f.touchpoint, language=f.language, **_text_columns(f.text, f.title),
        kind=f.source.cast("string"), rating=f.rating.cast("float64"), source=f.source.cast("string"),
    ).mutate(source_table=ibis.literal("feedback"))

    parts = []
    for table, expr in (("responses", responses), ("feedback", feedback)):  # joined where the rows are
        new = ids.get(table)
        a, w, imp = _analyses(store, table, new), _worst_mentions(store, table, new), _imported(store, table, new)
        j = expr
        for right, key in ((a, "a_id"), (w, "w_id"), (imp, "i_id")):  # one at a time: with ``ids``, each of the
            j = j.left_join(right, j.signal_id == right[key])  # three holds ``expr`` too, which one chain of
            j = j.select(*j.columns)  # joins cannot tell apart
        j = j.left_join(customers, j.customer_id == customers.c_id)
        if table == "feedback":  # reviews and posts: only negative ones
            j = j.filter((j.kind == "complaint") | (j.worst == 0).fill_null(False)
                         | (j.rating <= rating_max).fill_null(False))
        factor = j.factor
        if touchpoint_factors and table == "responses":  # a detractor of a touchpoint that is a factor
            factor = factor.coalesce(j.touchpoint.isin(sorted(touchpoint_factors)).ifelse(j.touchpoint, None))
        parts.append(j.select(  # only what the loop reads: a million rows fetched once
            source_table=j.source_table, signal_id=j.signal_id, kind=j.kind, customer_id=j.customer_id,
            author=j.author, signal_at=j.signal_at, channel=j.channel, factor=factor,
            analysed=~j.has_text.fill_null(False) | j.worst.isin([0, 1, 2]).fill_null(False)
            | j.analysed_any.fill_null(False),
            flags=j.flags, summary=j.summary, maybe_public=j.maybe_public.fill_null(False),
            language=j.language.coalesce(j.customer_language), country=j.country, imported_case_id=j.i_case))
    # each table's rows in time order where they are, then the two merged (feedback first at the same instant):
    # sorting the million rows with their texts in one query would hold them all in the database's memory too
    frames = [_fetch(store, p.order_by(["signal_at", "signal_id"])) for p in parts[::-1]]
    df = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else frames[0]
    if not len(df):
        return pd.DataFrame(columns=COLUMNS)
    if len(frames[0]) and len(frames[1]):
        df = df.take(np.lexsort((np.repeat([0, 1], [len(f) for f in frames]), df["signal_at"].to_numpy())))
    del frames
    codes, raw = pd.factorize(df["flags"])  # a few distinct values among a million rows: each parsed once
    names = np.empty(len(raw) + 1, dtype=object)
    names[:] = [_flag_names(v) for v in raw] + [[]]
    df["flags"] = names[codes]  # rows with the same flags share one list (read, never changed in place)
    df["signal_at"] = pd.to_datetime(df["signal_at"])
    return df[COLUMNS].reset_index(drop=True)


def _fetch(store: Store, expr) -> pd.DataFrame:
    """``expr.execute()`` with its SQL compiled once per process (:func:`store_io.compiled`: the same
    expression is built on every run, and compiling it costs more than running it when little is new); texts
    stay Arrow-backed."""
    if getattr(store, "engine", None) != "duckdb":
        return expr.execute()
    return store.con.execute(compiled(store, expr)).to_arrow_table().to_pandas()


def _text_columns(text, title=None) -> dict:
    """Summary, whether there is a text, and whether it may threaten to go public — computed where the
    texts are, so that a million of them are never read into memory."""
    from .routing import GO_PUBLIC_PIECES

    head = text if title is None else ibis.coalesce(title.nullif(""), text)
    return {"summary": head.substr(0, SUMMARY_CHARS),
            "has_text": text.notnull() & (text.strip().length() > 0),
            "maybe_public": text.re_search(GO_PUBLIC_PIECES).fill_null(False)}


def fetch_texts(store: Store, rows: pd.DataFrame) -> pd.Series:
    """The full texts of signals (``source_table``, ``signal_id``), aligned with ``rows``."""
    from .store_io import only

    out = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    for table, key, col in (("feedback", "feedback_id", "text"), ("responses", "response_id", "comment")):
        mine = rows[rows["source_table"] == table]
        if not len(mine):
            continue
        t = store.table(table)
        got = only(t, key, mine["signal_id"]).select(key, col).execute()
        out.loc[mine.index] = mine["signal_id"].map(dict(zip(got[key], got[col], strict=True))).to_numpy()
    return out


def _only_ids(t, column: str, ids):
    """``t``'s rows whose ``column`` is among ``ids`` (an Ibis table of one column ``n_id``; None: all rows)."""
    return t if ids is None else t.semi_join(ids, t[column] == ids.n_id).select(*t.columns)


def _worst_mentions(store: Store, table: str, ids=None):
    """w_id → the factor of the most negative mention (lowest score; ties: the first sentence, then the factor's
    name) of each text of ``table`` (among ``ids``, when given), as an Ibis expression."""
    m = store.table("mentions")
    m = _only_ids(m.filter(m.source.cast("string") == table), "text_id", ids)
    ranked = m.mutate(rk=ibis.row_number().over(
        ibis.window(group_by=[m.source, m.text_id], order_by=[m.score.fill_null(0), m.sentence, m.factor])))
    return ranked.filter(ranked.rk == 0).select(w_id=ranked.text_id, factor=ranked.factor)


def _analyses(store: Store, table: str, ids=None):
    """a_id → the overall sentiment (``worst``: 0 negative, 1 neutral, 2 positive — the most negative over
    taxonomies) and flags of each text of ``table`` (among ``ids``, when given), as an Ibis expression."""
    a = store.table("text_analyses")
    a = _only_ids(a.filter(a.source.cast("string") == table), "text_id", ids)
    neg_rank = ibis.cases((a.sentiment == "negative", 0), (a.sentiment == "neutral", 1),
                          (a.sentiment == "positive", 2), else_=3)
    return a.group_by(a_id=a.text_id).aggregate(worst=neg_rank.min(), flags=a.flags.max(), analysed_any=a.count() > 0)


_IMPORTED_KEY = {"feedback": "feedback_id", "responses": "response_id"}


def _imported(store: Store, table: str, ids=None):
    """i_id → the imported case (``i_case``; the lowest id) that already covers that row of ``table``
    (``cases.feedback_id`` / ``response_id``), for the rows among ``ids`` when given, as an Ibis expression."""
    c = store.table("cases")
    col = _IMPORTED_KEY[table]
    c = _only_ids(c.filter(c.origin.isnull() | (c.origin == "import"), c[col].notnull()), col, ids)
    return c.group_by(i_id=c[col]).aggregate(i_case=c.case_id.min())


def _flag_names(raw) -> list[str]:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or raw in ("", "[]"):
        return []
    try:
        return sorted({f.get("flag") for f in json.loads(raw) if isinstance(f, dict) and f.get("flag")})
    except (TypeError, ValueError):
        return []
