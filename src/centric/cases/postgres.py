"""The loop on a PostgreSQL store: which rows each writing operation reads.

The loop's writes (``sync``, ``tick``, the workflow of one case, ``config``) are written once, in DuckDB SQL.
On a PostgreSQL store they run unchanged in a scratch DuckDB store (:func:`centric.engines.scratch.scratch`)
that receives only what the operation reads, and the difference is published in one PostgreSQL transaction
under the write lock — all or nothing, as on DuckDB:

- ``sync`` and ``tick`` work on every case: they fetch the loop's tables whole (and ``sync`` the signals'
  tables, and the two latest scorings for the proactive contacts);
- an operation on one case fetches that case's row, events, clocks and tokens (plus the case with the
  highest id, from which a new linked case takes its id, and the active configuration) — never the rest
  of the store.

:func:`portable` wraps an operation so that it takes either engine's store; on DuckDB it is called as it is.
"""

from __future__ import annotations

from typing import Any

from ..engines.scratch import portable

__all__ = ["answer_scope", "config_scope", "one_case_scope", "portable", "sync_scope", "tick_scope", "transfer_scope"]

Scope = tuple[list[str], list[str], dict[str, str]]  # tables fetched, tables only appended to, row filters

LOOP = ["cases", "case_events", "case_clocks", "case_signals", "case_tokens", "case_config"]
_HIGHEST_ID = ("case_id = (SELECT max(case_id) FROM cases WHERE case_id LIKE 'CX-%' AND length(case_id) = 10)")
_LATEST_TAXONOMY = ("taxonomy IS NOT NULL AND analyzed_at = "
                    "(SELECT max(analyzed_at) FROM text_analyses WHERE taxonomy IS NOT NULL)")
_TWO_SCORINGS = ("scored_at IN (SELECT DISTINCT scored_at FROM customer_scores ORDER BY scored_at DESC LIMIT 2)")


def _literal(pg, value: Any) -> str:
    """``value`` as an SQL literal quoted by the PostgreSQL driver (scratch filters take no parameters)."""
    from psycopg import sql

    return sql.Literal(str(value)).as_string(pg.con)


def sync_scope(pg, *args, **kwargs) -> Scope:
    """``sync``: the loop's tables, the signals (answers, feedback, their analyses, the customers) and the two
    latest scorings (VIP routing and proactive contacts read them)."""
    return ([*LOOP, "customers", "responses", "feedback", "text_analyses", "mentions", "customer_scores"], [], {"customer_scores": _TWO_SCORINGS})


def tick_scope(pg, *args, **kwargs) -> Scope:
    """``tick``: the cases, their events and clocks, the configuration."""
    return (["cases", "case_events", "case_clocks", "case_config"], [], {})


def one_case_scope(pg, case_id: str, *args, department: str | None = None, **kwargs) -> Scope:
    """An operation on one case: its rows, the case with the highest id, the configuration, the case's
    customer (the language of the "Was it solved?" link) and the latest analyses' taxonomy (the root causes).
    ``department``: a transfer's target, with one case already there (a department known only by its cases)."""
    case = f"case_id = {_literal(pg, case_id)}"
    cases = f"{case} OR {_HIGHEST_ID}"
    if department is not None:
        cases += (f" OR case_id = (SELECT min(case_id) FROM cases WHERE department = {_literal(pg, department)})")
    return (["cases", "case_events", "case_clocks", "case_tokens", "case_config", "customers", "text_analyses"],
            ["case_signals", "responses"],
            {"cases": cases, "case_events": case, "case_clocks": case, "case_tokens": case,
             "customers": f"customer_id = (SELECT customer_id FROM cases WHERE {case})",
             "text_analyses": _LATEST_TAXONOMY})


def answer_scope(pg, token: str, *args, **kwargs) -> Scope:
    """The customer's answer: the case of the token (found by its hash) as :func:`one_case_scope` gives it."""
    from .tokens import hash_token

    h = _literal(pg, hash_token(token or ""))
    found = pg.con.execute("SELECT case_id FROM case_tokens WHERE token_hash = %s", [hash_token(token or "")]).fetchone()
    tables, append, filters = one_case_scope(pg, found[0] if found else "")
    if not found:  # an unknown link: the token's row (none) is what the operation reads, and refuses
        filters["case_tokens"] = f"token_hash = {h}"
    return tables, append, filters


def config_scope(pg, *args, **kwargs) -> Scope:
    """``cases config``: the configurations kept so far."""
    return (["case_config"], [], {})


def transfer_scope(pg, case_id: str, department: str | None = None, *args, **kwargs) -> Scope:
    """A transfer: the case, and one case of the department it goes to."""
    return one_case_scope(pg, case_id, department=department)
