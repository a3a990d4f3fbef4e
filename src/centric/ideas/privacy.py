"""What ``centric customers forget`` erases of a customer in the suggestion box: the texts, titles, names and
addresses of their ideas (the ideas stay, with their votes and statuses, so that totals do not change), their
comments' texts, the recipient of rewards for their ideas; their votes still count, once, under a random token."""

from __future__ import annotations

import secrets

ERASED = "[erased]"


def texts_of(con, customer_id: str) -> list[str]:
    """The customer's own texts in the suggestion box (to find them in rejected rows)."""
    rows = con.execute("SELECT title FROM ideas WHERE customer_id = ? UNION ALL SELECT text FROM ideas WHERE "
                       "customer_id = ? UNION ALL SELECT text FROM idea_comments WHERE customer_id = ?",
                       [customer_id] * 3).fetchall()
    return [r[0] for r in rows if r[0]]


def forget(con, customer_id: str, emails: list[str]) -> int:
    """Erase inside the caller's transaction; how many rows were changed. ``emails``: the customer's addresses
    (a public idea left with one of them is theirs too)."""
    marks = ", ".join("?" for _ in emails) or "NULL"
    mine = f"(customer_id = ? OR author_email IN ({marks}))"
    touched = 0
    touched += len(con.execute(
        f"UPDATE idea_rewards SET recipient = '{ERASED}' WHERE idea_id IN (SELECT idea_id FROM ideas WHERE {mine}) "
        "RETURNING 1", [customer_id, *emails]).fetchall())
    touched += len(con.execute(
        f"UPDATE ideas SET title = '{ERASED}', text = '{ERASED}', author_name = NULL, author_email = NULL, "
        f"customer_id = NULL, ip_hash = NULL WHERE {mine} RETURNING 1", [customer_id, *emails]).fetchall())
    touched += len(con.execute(
        f"UPDATE idea_comments SET text = '{ERASED}', author = '{ERASED}', customer_id = NULL "
        "WHERE customer_id = ? RETURNING 1", [customer_id]).fetchall())
    voted = con.execute("SELECT idea_id FROM idea_votes WHERE voter = ?", [f"customer:{customer_id}"]).fetchall()
    for (idea_id,) in voted:
        con.execute("UPDATE idea_votes SET voter = ? WHERE idea_id = ? AND voter = ?",
                    ["erased:" + secrets.token_hex(8), idea_id, f"customer:{customer_id}"])
    return touched + len(voted)
