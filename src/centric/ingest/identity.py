"""One customer across channels: identity resolution.

Each row brings zero or more identities (crm id, e-mail, phone, handle, loyalty card), already
normalised by ``transform``. Identities seen together in one row belong to one customer, and so do
identities already stored for one customer: the customers are the connected components of that graph
(union-find). A row that links two existing customers merges them into the older id, and the merge is
kept in ``customer_merges`` with the evidence. Rows whose identities are all unknown create a customer
only where ``may_create`` holds (feedback about a competitor, for example, creates none).

Rows with a single identity — nearly all orders, events and answers — are resolved in SQL; only rows
with several identities go through the union-find in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from .. import schema
from .readers import _q

IDS = "_centric_ids"
RESOLVED = "_centric_resolved"


@dataclass
class Merge:
    merged: str
    into: str
    reason: str


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _next_customer_number(con) -> int:
    row = con.execute(
        """SELECT max(TRY_CAST(substr(id, 2) AS BIGINT)) FROM (
             SELECT customer_id AS id FROM customers UNION ALL
             SELECT merged_customer_id FROM customer_merges)"""
    ).fetchall()[0]
    return (row[0] or 0) + 1


def resolve(con, rows_table: str, id_columns: list[str], may_create_sql: str, run_id: int, source: str,
            now: dt.datetime) -> tuple[list[Merge], int]:
    """Resolve every row of ``rows_table`` to a customer; creates RESOLVED(__row, customer_id) and writes
    new customers, new identities and merges to the store. Returns the merges and the number of
    customers created."""
    parts = [
        f"SELECT __row, '{k}' AS kind, {_q(k)} AS value, ({may_create_sql}) AS may_create "
        f"FROM {rows_table} WHERE {_q(k)} IS NOT NULL"
        for k in id_columns
    ]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {IDS} AS " + " UNION ALL ".join(parts))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _centric_known AS
            SELECT DISTINCT i.kind, i.value, x.customer_id
            FROM (SELECT DISTINCT kind, value FROM {IDS}) i JOIN identities x USING (kind, value)"""
    )
    known = {f"{k}:{v}": c for k, v, c in con.execute("SELECT * FROM _centric_known").fetchall()}
    multi = con.execute(
        f"""SELECT ids, min(first_row), bool_or(mc) FROM (
              SELECT list(kind || ':' || value ORDER BY kind, value) AS ids, min(__row) AS first_row,
                     bool_or(may_create) AS mc
              FROM {IDS} GROUP BY __row HAVING count(*) > 1)
            GROUP BY ids ORDER BY 2"""
    ).fetchall()

    uf = _UnionFind()
    evidence: dict[str, str] = {}
    creatable: set[str] = set()
    for ids, first_row, mc in multi:
        owners = {known[i] for i in ids if i in known}
        roots_before = {uf.find("~" + c) for c in owners}
        if len(roots_before) > 1:
            for c in owners:
                evidence.setdefault(c, f"{' and '.join(ids)} seen together in {source} row {first_row}")
        for i in ids:
            uf.union(ids[0], i)
            if i in known:
                uf.union(i, "~" + known[i])
        if mc:
            creatable.add(ids[0])
    # components of the multi-identity rows
    comps: dict[str, list[str]] = {}
    for node in list(uf.parent):
        comps.setdefault(uf.find(node), []).append(node)
    merges: list[Merge] = []
    remap: dict[str, str] = {}
    assigned: dict[str, str | None] = {}
    next_no = _next_customer_number(con)
    creatable_roots = {uf.find(c) for c in creatable}
    for root, members in sorted(comps.items(), key=lambda kv: min(kv[1])):
        customers = sorted(m[1:] for m in members if m.startswith("~"))
        idents = [m for m in members if not m.startswith("~")]
        if customers:
            into = customers[0]
            for other in customers[1:]:
                remap[other] = into
                merges.append(Merge(other, into, evidence.get(other, "shared identities in " + source)))
        elif root in creatable_roots:
            into = f"C{next_no:07d}"
            next_no += 1
        else:
            into = None
        for i in idents:
            assigned[i] = into
    multi_tbl = pa.table({
        "ident": pa.array(list(assigned), pa.string()),
        "customer_id": pa.array(list(assigned.values()), pa.string()),
    })
    remap_tbl = pa.table({"old": pa.array(list(remap), pa.string()),
                          "new": pa.array(list(remap.values()), pa.string())})
    con.register("_centric_multi_arrow", multi_tbl)
    con.register("_centric_remap_arrow", remap_tbl)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _centric_remap AS SELECT * FROM _centric_remap_arrow")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _centric_identmap AS
            WITH singles AS (
                SELECT kind, value, bool_or(may_create) AS mc FROM {IDS}
                WHERE kind || ':' || value NOT IN (SELECT ident FROM _centric_multi_arrow)
                GROUP BY kind, value),
            s AS (
                SELECT s.kind, s.value, s.mc, coalesce(r.new, k.customer_id) AS customer_id
                FROM singles s LEFT JOIN _centric_known k USING (kind, value)
                LEFT JOIN _centric_remap r ON r.old = k.customer_id),
            fresh AS (
                SELECT kind, value, printf('C%07d', {next_no} - 1 + row_number() OVER (ORDER BY kind, value))
                       AS customer_id
                FROM s WHERE customer_id IS NULL AND mc)
            SELECT s.kind, s.value, coalesce(s.customer_id, f.customer_id) AS customer_id
            FROM s LEFT JOIN fresh f USING (kind, value)
            UNION ALL
            SELECT split_part(ident, ':', 1), substr(ident, strpos(ident, ':') + 1), customer_id
            FROM _centric_multi_arrow"""
        )
    finally:
        con.unregister("_centric_multi_arrow")
        con.unregister("_centric_remap_arrow")
    created = con.execute(
        "SELECT count(DISTINCT customer_id) FROM _centric_identmap WHERE customer_id IS NOT NULL AND "
        "customer_id NOT IN (SELECT customer_id FROM customers)"
    ).fetchall()[0][0]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {RESOLVED} AS
            SELECT i.__row, any_value(m.customer_id) AS customer_id
            FROM {IDS} i JOIN _centric_identmap m USING (kind, value)
            WHERE m.customer_id IS NOT NULL GROUP BY i.__row"""
    )
    _apply(con, merges, run_id, now)
    return merges, created


def _apply(con, merges: list[Merge], run_id: int, now: dt.datetime) -> None:
    """Write merges, new customers and new identities."""
    if merges:
        for t in schema.TABLES.values():
            if t.name not in ("customers", "customer_merges") and "customer_id" in t.column_names:
                con.execute(f"UPDATE {t.name} SET customer_id = r.new FROM _centric_remap r "
                            f"WHERE {t.name}.customer_id = r.old")
        attrs = [c.name for c in schema.TABLES["customers"].columns if c.ingested]
        sets = ", ".join(f"{a} = coalesce(customers.{a}, m.{a})" for a in attrs)
        con.execute(
            f"""UPDATE customers SET {sets}, updated_at = ?,
                    first_seen_at = least(customers.first_seen_at, m.first_seen_at)
                FROM (SELECT r.new, c.* FROM customers c JOIN _centric_remap r ON c.customer_id = r.old) m
                WHERE customers.customer_id = m.new""",
            [now],
        )
        con.execute("DELETE FROM customers WHERE customer_id IN (SELECT old FROM _centric_remap)")
        con.executemany("INSERT INTO customer_merges VALUES (?, ?, ?, ?, ?)",
                        [(m.merged, m.into, m.reason, run_id, now) for m in merges])
    con.execute(
        """INSERT INTO customers (customer_id, first_seen_at, updated_at)
           SELECT DISTINCT customer_id, ?::TIMESTAMP, ?::TIMESTAMP FROM _centric_identmap
           WHERE customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM customers)""",
        [now, now],
    )
    con.execute(
        """INSERT INTO identities
           SELECT m.kind, m.value, m.customer_id, ?::TIMESTAMP, ? FROM _centric_identmap m
           WHERE m.customer_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM identities x WHERE x.kind = m.kind AND x.value = m.value)""",
        [now, run_id],
    )
