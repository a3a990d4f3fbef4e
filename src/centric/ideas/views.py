"""Reading the suggestion box: the list (sorted by votes), one idea with its history, and the ideas per factor
that the action matrix shows. Ideas merged into another and public submissions kept aside as automated (flagged)
are left out of lists and counts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..store import Store
from .box import COLUMNS, row

LIST_COLUMNS = ("idea_id", "title", "status", "factor", "author_kind", "votes", "comments", "created_at",
                "language", "source")


def frame(store: Store, status: str | None = None, factor: str | None = None, kind: str | None = None,
          flagged: bool = False, limit: int | None = None) -> pd.DataFrame:
    """The ideas not merged away, most votes first (then newest): ``LIST_COLUMNS``. ``flagged``: the public
    submissions kept aside instead of the others."""

    i = store.table("ideas")
    i = i.filter(i.merged_into.isnull(), i.flags.notnull() if flagged else i.flags.isnull())
    status_, kind_ = i.status.fill_null("new"), i.author_kind.fill_null("customer")
    for column, value in ((status_, status), (i.factor, factor), (kind_, kind)):
        if value:
            i = i.filter(column == value)
    v, c = store.table("idea_votes"), store.table("idea_comments")
    v = v.group_by(v_id=v.idea_id).aggregate(v_n=v.count())
    c = c.group_by(c_id=c.idea_id).aggregate(c_n=c.count())
    j = i.left_join(v, i.idea_id == v.v_id).left_join(c, i.idea_id == c.c_id)
    df = j.select(
        "idea_id", title=j.title.fill_null(""), status=j.status.fill_null("new"), factor=j.factor,
        author_kind=j.author_kind.fill_null("customer"),
        votes=j.votes.fill_null(0).cast("int64") + j.v_n.fill_null(0), comments=j.c_n.fill_null(0),
        created_at=j.created_at, language=j.language, source=j.source.fill_null("import")).execute()
    # most votes first, then the newest, then by id as text's bytes order it (the same on every engine)
    df = df.sort_values(["votes", "created_at", "idea_id"], ascending=[False, False, True], kind="stable",
                        na_position="last").reset_index(drop=True)
    if limit:
        df = df.head(int(limit))
    if len(df):
        df["votes"] = df["votes"].astype(int)
        df["comments"] = df["comments"].astype(int)
    return df[list(LIST_COLUMNS)]


@dataclass(frozen=True)
class Detail:
    idea: dict[str, Any]
    votes: int
    voters: int  # people who voted in centric
    comments: list[dict[str, Any]]
    history: list[dict[str, Any]]
    rewards: list[dict[str, Any]]
    merged_here: list[dict[str, Any]]  # ideas merged into this one
    flags: list[str] = field(default_factory=list)


def _rows(store: Store, sql: str, params: list) -> list[dict[str, Any]]:
    cur = store.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def detail(store: Store, idea_id: str) -> Detail | None:
    idea = row(store, idea_id)
    if idea is None:
        return None
    voters = int(store.execute("SELECT count(*) FROM idea_votes WHERE idea_id = ?", [idea_id]).fetchone()[0])
    return Detail(
        idea, voters + int(idea["votes"] or 0), voters,
        _rows(store, "SELECT comment_id, author, author_kind, text, created_at FROM idea_comments WHERE idea_id = ? "
                     "ORDER BY created_at, comment_id", [idea_id]),
        _rows(store, "SELECT from_status, to_status, answer, changed_by, changed_at, notified, notified_to "
                     "FROM idea_status_changes WHERE idea_id = ? ORDER BY changed_at", [idea_id]),
        _rows(store, "SELECT reward_id, what, amount, unit, recipient, given_by, given_at FROM idea_rewards "
                     "WHERE idea_id = ? ORDER BY given_at, reward_id", [idea_id]),
        _rows(store, "SELECT m.merged_id, i.title, m.votes_moved, m.comments_moved, m.merged_by, m.merged_at "
                     "FROM idea_merges m JOIN ideas i ON i.idea_id = m.merged_id WHERE m.into_id = ? "
                     "ORDER BY m.merged_at", [idea_id]),
        json.loads(idea["flags"]) if idea.get("flags") else [])


def by_factor(store: Store) -> dict[str, dict[str, Any]]:
    """factor → {"ideas": how many ideas address it (merged and flagged ones left out), "customers": how many of
    them customers proposed, "top": the one with the most votes (id, title, votes)}."""
    df = frame(store)
    out: dict[str, dict[str, Any]] = {}
    for factor, g in df[df["factor"].notna()].groupby("factor", sort=True):
        top = g.iloc[0]  # the frame is sorted by votes
        out[str(factor)] = {"ideas": len(g), "customers": int((g["author_kind"] == "customer").sum()),
                            "top": {"idea_id": top["idea_id"], "title": top["title"], "votes": int(top["votes"])}}
    return out


def texts(store: Store, ids: list[str] | None = None) -> pd.DataFrame:
    """idea_id, title, text, language of the ideas not merged away (and not flagged), for duplicate detection."""
    df = pd.DataFrame(_rows(store, "SELECT idea_id, coalesce(title, '') AS title, text, language, status FROM ideas "
                                   "WHERE merged_into IS NULL AND flags IS NULL ORDER BY idea_id", []),
                      columns=["idea_id", "title", "text", "language", "status"])
    return df if ids is None else df[df["idea_id"].isin(ids)]


__all__ = ["COLUMNS", "Detail", "by_factor", "detail", "frame", "texts"]
