"""The suggestion box: submit, vote (once per person — the store refuses a second vote), comment, change the
status with an answer, record rewards, merge near-duplicates. Each function is one transaction on the store, so
the web app runs it through ``Hub.write`` (one writer: no other change comes between a check and its write).

Votes: an employee votes in the web app (voter ``user:U0001``). Customers do not vote on a web page: an
anonymous vote cannot be held to one per person. Their votes come from imports (the ``votes`` column of a
file: a count, added to the idea's total as it is) or, from code, as ``customer:C0000042``.

Merging keeps the voters: the merged idea's voters who had not voted for the other idea move to it, the others
already count there (someone who voted for both counts once); imported vote counts add up; comments move; the
merged idea keeps its row and points to the other (``merged_into``).

>>> from centric.store import Store
>>> s = Store.open(":memory:")
>>> a = submit(s, "Open the shop on Sundays", "employee", user_id="U0001", author_name="Ann")
>>> b = submit(s, "Please open on Sunday", "employee", user_id="U0002", author_name="Bo")
>>> vote(s, a, "user:U0001"), vote(s, a, "user:U0001"), vote(s, b, "user:U0001"), vote(s, b, "user:U0002")
(True, False, True, True)
>>> merge(s, b, a, "analyst@example.com").votes_moved, votes_of(s, a)
(1, 2)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import CentricError
from ..schema import IDEA_AUTHORS, IDEA_STATUSES
from ..store import Store, next_free_id

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_COMMENT = 2000
MAX_ANSWER = 2000
OPEN = ("new", "under_review", "planned")
# where an idea may go from each status (a declined or done idea may be looked at again)
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("under_review", "planned", "declined"),
    "under_review": ("planned", "done", "declined"),
    "planned": ("under_review", "done", "declined"),
    "done": ("under_review",),
    "declined": ("under_review",),
}
COLUMNS = ("idea_id", "customer_id", "created_at", "title", "text", "author_kind", "author_name", "language", "factor",
           "status", "votes", "author_email", "user_id", "source", "factor_source", "answer", "answered_at",
           "merged_into", "flags", "updated_at")


class IdeaError(CentricError):
    """A change to an idea that cannot be made (the message names the field or the idea)."""


@dataclass(frozen=True)
class Merged:
    merged_id: str
    into_id: str
    votes_moved: int
    votes_shared: int  # voters of both: counted once
    comments_moved: int


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def clean(value: str | None, what: str, limit: int, required: bool = True, one_line: bool = False) -> str:
    """``value`` trimmed (on one line when ``one_line``); IdeaError naming ``what`` when empty, too long or with
    a NUL character."""
    v = str(value or "").strip()
    if one_line:
        v = " ".join(v.split())
    if required and not v:
        raise IdeaError(f"{what}: must not be empty")
    if len(v) > limit:
        raise IdeaError(f"{what}: at most {limit} characters (got {len(v)})")
    if "\x00" in v:
        raise IdeaError(f"{what}: a NUL character is not allowed")
    return v


def submit(store: Store, text: str, author_kind: str, title: str | None = None, *, user_id: str | None = None,
           customer_id: str | None = None, author_name: str | None = None, author_email: str | None = None,
           language: str | None = None, factor: str | None = None, factor_source: str | None = None,
           source: str = "web", flags: list[str] | None = None, ip_hash: str | None = None,
           at: dt.datetime | None = None) -> str:
    """Store a new idea (status new); its id (I000001 …)."""
    import json

    if author_kind not in IDEA_AUTHORS:
        raise IdeaError(f"author_kind: {author_kind!r} is not one of {', '.join(IDEA_AUTHORS)}")
    text = clean(text, "text", MAX_TEXT)
    title = clean(title, "title", MAX_TITLE, required=False, one_line=True) or _title_of(text)
    when = at or now()
    with store.transaction():
        idea_id = next_free_id(store, "ideas", "idea_id", "I", 6)
        store.execute(
            "INSERT INTO ideas (idea_id, customer_id, created_at, title, text, author_kind, author_name, language, "
            "factor, status, author_email, user_id, source, factor_source, flags, ip_hash, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?)",
            [idea_id, customer_id, when, title, text, author_kind, author_name or None, language, factor or None,
             author_email or None, user_id, source, (factor_source or "suggested") if factor else None,
             json.dumps(flags) if flags else None, ip_hash, when])
    return idea_id


def _title_of(text: str, width: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1].rsplit(" ", 1)[0] + "…"


def row(store: Store, idea_id: str) -> dict | None:
    """The idea's stored fields (None when there is none)."""
    got = store.execute(f"SELECT {', '.join(COLUMNS)} FROM ideas WHERE idea_id = ?", [idea_id]).fetchone()
    return None if got is None else dict(zip(COLUMNS, got, strict=True))


def require(store: Store, idea_id: str) -> dict:
    got = row(store, idea_id)
    if got is None:
        raise IdeaError(f"there is no idea {idea_id!r}")
    return got


def surviving(store: Store, idea_id: str) -> str:
    """The idea that ``idea_id`` was merged into, following later merges (itself when never merged)."""
    seen = [idea_id]
    while True:
        got = store.execute("SELECT merged_into FROM ideas WHERE idea_id = ?", [seen[-1]]).fetchone()
        if got is None or not got[0] or got[0] in seen:
            return seen[-1]
        seen.append(got[0])


def vote(store: Store, idea_id: str, voter: str, at: dt.datetime | None = None) -> bool:
    """One vote of ``voter`` (``user:U0001`` or ``customer:C0000042``) for the idea (for the idea it was merged
    into, when merged); False when that person has voted for it already."""
    kind = {"user": "employee", "customer": "customer"}.get(voter.partition(":")[0])
    if kind is None or not voter.partition(":")[2]:
        raise IdeaError(f"voter: {voter!r} is neither user:ID nor customer:ID")
    target = surviving(store, require(store, idea_id)["idea_id"])
    with store.transaction():
        if store.execute("SELECT 1 FROM idea_votes WHERE idea_id = ? AND voter = ?", [target, voter]).fetchone():
            return False
        store.execute("INSERT INTO idea_votes (idea_id, voter, voter_kind, voted_at) VALUES (?, ?, ?, ?)",
                      [target, voter, kind, at or now()])
    return True


def unvote(store: Store, idea_id: str, voter: str) -> bool:
    """Take the vote back; whether there was one."""
    with store.transaction():
        return bool(store.execute("DELETE FROM idea_votes WHERE idea_id = ? AND voter = ? RETURNING 1",
                                  [idea_id, voter]).fetchall())


def voted(store: Store, idea_id: str, voter: str) -> bool:
    return store.execute("SELECT 1 FROM idea_votes WHERE idea_id = ? AND voter = ?",
                         [idea_id, voter]).fetchone() is not None


def votes_of(store: Store, idea_id: str) -> int:
    """The idea's votes: its voters in centric plus the votes counted elsewhere (imported)."""
    got = store.execute(
        "SELECT coalesce(i.votes, 0) + (SELECT count(*) FROM idea_votes v WHERE v.idea_id = i.idea_id) "
        "FROM ideas i WHERE i.idea_id = ?", [idea_id]).fetchone()
    return int(got[0]) if got else 0


def comment(store: Store, idea_id: str, text: str, author: str, author_kind: str = "employee",
            customer_id: str | None = None, at: dt.datetime | None = None) -> str:
    """Add a comment; its id."""
    if author_kind not in IDEA_AUTHORS:
        raise IdeaError(f"author_kind: {author_kind!r} is not one of {', '.join(IDEA_AUTHORS)}")
    text = clean(text, "comment", MAX_COMMENT)
    target = surviving(store, require(store, idea_id)["idea_id"])
    with store.transaction():
        comment_id = next_free_id(store, "idea_comments", "comment_id", "K", 6)
        store.execute("INSERT INTO idea_comments (comment_id, idea_id, author, author_kind, customer_id, text, "
                      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [comment_id, target, author, author_kind, customer_id, text, at or now()])
    return comment_id


def change_status(store: Store, idea_id: str, to: str, answer: str, by: str, at: dt.datetime | None = None) -> str:
    """Move the idea to status ``to`` with ``answer`` for its author (kept in its history); the status before.
    The allowed moves are :data:`NEXT`; an answer is required."""
    idea = require(store, idea_id)
    if idea["merged_into"]:
        raise IdeaError(f"idea {idea_id} was merged into {idea['merged_into']}; change that one")
    if to not in IDEA_STATUSES:
        raise IdeaError(f"status: {to!r} is not one of {', '.join(IDEA_STATUSES)}")
    before = idea["status"] or "new"
    if to not in NEXT[before]:
        raise IdeaError(f"status: an idea that is {before} can become {', '.join(NEXT[before])}, not {to}")
    answer = clean(answer, "answer", MAX_ANSWER)
    when = at or now()
    with store.transaction():
        store.execute("INSERT INTO idea_status_changes (idea_id, from_status, to_status, answer, changed_by, changed_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", [idea_id, before, to, answer, by, when])
        store.execute("UPDATE ideas SET status = ?, answer = ?, answered_at = coalesce(answered_at, ?), updated_at = ? "
                      "WHERE idea_id = ?", [to, answer, when, when, idea_id])
    return before


def set_factor(store: Store, idea_id: str, factor: str | None, by_person: bool = True) -> None:
    """Link the idea to ``factor`` (a factor id of the active taxonomy; empty: none)."""
    require(store, idea_id)
    factor = (factor or "").strip() or None
    if factor is not None:
        from ..text.taxonomy import active_taxonomy

        known = active_taxonomy(store).ids
        if factor not in known:
            raise IdeaError(f"factor: {factor!r} is not a factor of the taxonomy ({', '.join(known)})")
    with store.transaction():
        store.execute("UPDATE ideas SET factor = ?, factor_source = ?, updated_at = ? WHERE idea_id = ?",
                      [factor, ("set" if by_person else "suggested") if factor else None, now(), idea_id])


def reward(store: Store, idea_id: str, what: str, recipient: str, by: str, amount: float | None = None,
           unit: str | None = None, at: dt.datetime | None = None) -> str:
    """Record a reward for the idea; its id."""
    require(store, idea_id)
    what = clean(what, "what", 200, one_line=True)
    recipient = clean(recipient, "recipient", 200, one_line=True)
    unit = clean(unit, "unit", 20, required=False, one_line=True) or None
    if amount is not None and not (0 <= float(amount) < 1e9):
        raise IdeaError(f"amount: {amount} is not between 0 and 1,000,000,000")
    with store.transaction():
        reward_id = next_free_id(store, "idea_rewards", "reward_id", "R", 5)
        store.execute("INSERT INTO idea_rewards (reward_id, idea_id, what, amount, unit, recipient, given_by, given_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      [reward_id, idea_id, what, None if amount is None else float(amount), unit, recipient, by,
                     at or now()])
    return reward_id


def merge(store: Store, merged_id: str, into_id: str, by: str, similarity: float | None = None,
          at: dt.datetime | None = None) -> Merged:
    """Merge idea ``merged_id`` into ``into_id`` (see the module docstring for what happens to votes and
    comments)."""
    if merged_id == into_id:
        raise IdeaError("merge: an idea cannot be merged into itself")
    a, b = require(store, merged_id), require(store, into_id)
    for idea in (a, b):
        if idea["merged_into"]:
            raise IdeaError(f"merge: idea {idea['idea_id']} was merged into {idea['merged_into']} already")
    when = at or now()
    with store.transaction():
        shared = int(store.execute(
            "SELECT count(*) FROM idea_votes v WHERE v.idea_id = ? AND EXISTS "
            "(SELECT 1 FROM idea_votes w WHERE w.idea_id = ? AND w.voter = v.voter)", [merged_id, into_id]).fetchone()[0])
        moved = len(store.execute(
            "UPDATE idea_votes SET idea_id = ? WHERE idea_id = ? AND voter NOT IN "
            "(SELECT voter FROM idea_votes WHERE idea_id = ?) RETURNING 1", [into_id, merged_id, into_id]).fetchall())
        store.execute("DELETE FROM idea_votes WHERE idea_id = ?", [merged_id])  # the voters of both: counted once
        comments = len(store.execute("UPDATE idea_comments SET idea_id = ? WHERE idea_id = ? RETURNING 1",
                                     [into_id, merged_id]).fetchall())
        store.execute("UPDATE ideas SET votes = CASE WHEN votes IS NULL AND CAST(? AS INTEGER) IS NULL THEN NULL "
                    "ELSE coalesce(votes, 0) + coalesce(CAST(? AS INTEGER), 0) END, updated_at = ? WHERE idea_id = ?",
                    [a["votes"], a["votes"], when, into_id])
        store.execute("UPDATE ideas SET merged_into = ?, votes = NULL, updated_at = ? WHERE idea_id = ?",
                      [into_id, when, merged_id])
        store.execute("INSERT INTO idea_merges (merged_id, into_id, similarity, votes_moved, comments_moved, merged_by, "
                      "merged_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [merged_id, into_id, similarity, moved, comments, by, when])
    return Merged(merged_id, into_id, moved, shared, comments)


def release(store: Store, idea_id: str, by: str) -> None:
    """Release a flagged public idea (listed and counted from now on)."""
    require(store, idea_id)
    with store.transaction():
        store.execute("UPDATE ideas SET flags = NULL, updated_at = ? WHERE idea_id = ?", [now(), idea_id])
