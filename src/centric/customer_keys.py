"""Integer customer keys: ``customers.customer_key`` and ``responses.customer_key`` hold the number in the
``customer_id`` beside them (C0000042 → 42; ``schema.customer_key_sql``), so that the survey metrics join the
answers to the customers on an integer instead of a text (on DuckDB an inner join on a small range of integers
is an array lookup, a "perfect hash join"; see benchmarks/README.md, ``metrics.py``).

The key is derived from the id, never assigned: whichever engine or process writes a row, the key of an id is
the same, and a row whose key is NULL is only slower to query, never wrong (``metrics.survey`` joins such answers
on the text id). What must never happen is a key that disagrees with its row's ``customer_id``, so the key is
written wherever the id is:

- ingest: the customers identity resolution creates and the answers it stores (``customer_key_sql`` of the id
  it gives them), and the rows a merge moves (identity merges; the PostgreSQL and lake stores following merges
  in the tables the command did not read);
- rows written one by one, with :func:`key_of`: the web app's survey answers, a case's confirmation, the demo's
  survey answers;
- erasure empties it with the id;
- the migration that added the columns fills existing DuckDB stores (PostgreSQL never reads the keys; its
  existing rows keep NULL).

:func:`stale` counts disagreeing rows (the tests keep it at zero); :func:`fill` fills NULL keys (for stores built
with SQL, such as the benchmarks').
"""

from __future__ import annotations

from . import schema

__all__ = ["TABLES", "fill", "key_of", "keyed", "stale"]

TABLES = ("customers", "responses")
KEY = schema.customer_key_sql()


def key_of(customer_id: str | None) -> int | None:
    """The key ``schema.customer_key_sql`` gives ``customer_id``, in Python, for rows written one by one (the web
    app's survey answers, a case's confirmation).

    >>> [key_of(x) for x in ("C0000042", "C12345678", "C00000042", "C000004a", "K1", None)]
    [42, 12345678, None, None, None, None]
    """
    if customer_id is None or not 8 <= len(customer_id) <= 10 or customer_id[0] != "C":
        return None
    digits = customer_id[1:]
    if not (digits.isascii() and digits.isdigit()) or (len(digits) > 7 and digits[0] == "0"):
        return None
    return int(digits)


def fill(con) -> None:
    """Fill the keys left NULL in ``TABLES`` (a DuckDB or PostgreSQL connection, inside the caller's transaction).
    Rows whose key is already there are not rewritten; on DuckDB the scan skips row groups without a NULL key."""
    for t in TABLES:
        con.execute(f'UPDATE "{t}" SET "customer_key" = {KEY} '
                    f'WHERE "customer_key" IS NULL AND "customer_id" IS NOT NULL')


def stale(con) -> dict[str, int]:
    """How many rows of each table have a key that disagrees with their ``customer_id`` (a key where the id's is
    NULL, or another number). NULL keys of ids that have one are *unfilled*, not stale, and are not counted."""
    return {t: con.execute(f'SELECT count(*) FROM "{t}" WHERE "customer_key" IS NOT NULL '
                           f'AND "customer_key" IS DISTINCT FROM {KEY}').fetchone()[0] for t in TABLES}


ENGINES = ("duckdb", "spark")
"""The engines where the integer join pays (benchmarks/README.md, "integer customer keys"): DuckDB (a perfect hash
join, 0.67 → 0.46 s on 10 M answers) and Spark (2.9–4.0 → 2.4–2.9 s); on PostgreSQL the two joins and the count
take longer than the one join on the text id (7.4–7.6 against 6.2–6.4 s), so it keeps that."""


def keyed(store, *tables) -> bool:
    """Whether the integer join pays and can be used on ``store``: one of ``ENGINES``, with the key column in each
    of the Ibis ``tables``."""
    return getattr(store, "engine", "duckdb") in ENGINES and all("customer_key" in t.columns for t in tables)
