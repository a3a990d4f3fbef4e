"""Rows given as records (a list of dicts: the body posted to the web API) loaded like a file.

The records become a DataFrame of text values and go through :func:`~centric.ingest.load.ingest_source`,
so they meet exactly the validation of a file: columns recognised by name (in any of the languages),
values parsed and checked, every rejected row kept in ``rejected_rows`` with its reason, identities
resolved into customers, a row stored before not stored again. What comes back says, for each record,
its key (given, or derived from the row's content as for a file) and its customer, or why it was rejected.

>>> from centric import Store
>>> with Store.open(":memory:") as store:  # doctest: +SKIP
...     r = ingest_records(store, "feedback", [{"email": "a@x.pl", "text": "Late again", "source": "complaint",
...                                              "created_at": "2026-11-02"}], source="api:feedback")
...     r.stored[0]["customer_id"]
'C000001'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import schema
from ..errors import IngestError
from ..store import Store
from .load import ingest_source

__all__ = ["RecordsResult", "ingest_records"]


@dataclass
class RecordsResult:
    """What happened to posted records. ``stored``: one item per record stored now or stored before
    (``{"index", "id", "customer_id", "duplicate"}``; ``index`` counts the records from 0); ``rejected``: one
    item per problem (``{"index", "column", "value", "reason"}``; a record may have several), each kept in
    ``rejected_rows`` under ``run_id``."""

    table: str
    source: str
    run_id: int | None
    stored: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len({r["index"] for r in self.rejected})

    @property
    def rows_new(self) -> int:
        return sum(not r["duplicate"] for r in self.stored)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The records as a frame of text columns (the union of their fields, in first-seen order)."""
    columns: dict[str, None] = {}
    for r in records:
        columns.update(dict.fromkeys(r))
    data = {c: pd.Series([_text(r.get(c)) for r in records], dtype=object) for c in columns}
    return pd.DataFrame(data, columns=list(columns))


KEYS_PER_QUERY = 1000
"""Stored keys looked up per query after a load on PostgreSQL (the request's rows, in parts)."""


def _stored(store: Store, table: str, key: str, run_id: int | None, keys: list[tuple[int, str]]) -> list[tuple]:
    """(row, key, customer id, whether this run stored it) of each loaded row, in the rows' order."""
    # a table without customers (employees, units) has no customer to hand back
    customer = "t.customer_id" if "customer_id" in {c.name for c in schema.TABLES[table].columns} else "NULL"
    if getattr(store, "engine", "duckdb") == "duckdb":  # one join against the keys, registered as a table
        store.con.register("_centric_keys", pd.DataFrame(keys, columns=["row", "key"]))
        try:
            return store.con.execute(
                f"""SELECT k.row, k.key, {customer},
                           EXISTS (SELECT 1 FROM ingest_rows i WHERE i.run_id = ?
                                   AND i.table_name = ? AND i.key = k.key) AS new
                    FROM _centric_keys k LEFT JOIN {table} t ON t.{key} = k.key ORDER BY k.row""",
                [run_id, table]).fetchall()
        finally:
            store.con.unregister("_centric_keys")
    unique = sorted({k for _, k in keys})
    customers: dict[str, Any] = {}
    new_keys: set[str] = set()
    for i in range(0, len(unique), KEYS_PER_QUERY):  # parameterised lists of keys: no table to register there
        part = unique[i:i + KEYS_PER_QUERY]
        marks = ", ".join("?" * len(part))
        customers.update(store.execute(f"SELECT t.{key}, {customer} FROM {table} t WHERE t.{key} IN ({marks})",
                                       part).fetchall())
        new_keys.update(k for (k,) in store.execute(
            f"SELECT key FROM ingest_rows WHERE run_id = ? AND table_name = ? AND key IN ({marks})",
            [run_id, table, *part]).fetchall())
    return [(row, k, customers.get(k), k in new_keys) for row, k in sorted(keys)]


def ingest_records(store: Store, table: str, records: list[dict[str, Any]], source: str,
                   **options: str | None) -> RecordsResult:
    """Load ``records`` into ``table`` as the source named ``source`` (one transaction, as a file)."""
    if not records:
        raise IngestError(f"{source}: no rows given")
    key = schema.TABLES[table].key if table in schema.TABLES else None
    if not key or key == "customer_id":
        raise IngestError(f"{source}: records can be loaded into tables with their own key, not {table!r}")
    res = ingest_source(store, table, records_frame(records), name=source, keys=True, **options)
    out = RecordsResult(table, source, res.run_id, ignored_columns=list(res.ignored_columns), notes=list(res.notes))
    if res.run_id is not None:
        for row, column, value, reason in store.execute(
                "SELECT row_number, column_name, value, reason FROM rejected_rows WHERE run_id = ? "
                "ORDER BY row_number, column_name", [res.run_id]).fetchall():
            out.rejected.append({"index": int(row) - 1, "column": column, "value": value, "reason": reason})
    if res.keys:
        found = _stored(store, table, key, res.run_id, res.keys)
        seen: set[str] = set()
        for row, k, cid, new in found:  # a record repeating an earlier one of the same request: a duplicate
            out.stored.append({"index": int(row) - 1, "id": k, "customer_id": cid, "duplicate": not new or k in seen})
            seen.add(k)
    return out
