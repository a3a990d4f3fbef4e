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
IDENTMAP = "_centric_identmap"
KEY_OF_NEW = schema.customer_key_sql("r.new")  # the customer_key of a merged customer's new id


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


def customer_join(id_columns: list[str], alias: str = "v") -> tuple[str, str]:
    """(JOIN clauses, customer_id expression) that give each row of ``alias`` its customer after
    ``resolve``: every identity of a row maps to the same customer, so the first one found is it."""
    joins = " ".join(
        f"LEFT JOIN {IDENTMAP} m{i} ON m{i}.kind = '{k}' AND m{i}.value = {alias}.{_q(k)}"
        for i, k in enumerate(id_columns)
    )
    expr = "coalesce(" + ", ".join(f"m{i}.customer_id" for i in range(len(id_columns))) + ")"
    return joins, expr


def resolve(con, rows_table: str, id_columns: list[str], may_create_sql: str, run_id: int, source: str,
            now: dt.datetime) -> tuple[list[Merge], int]:
    """Resolve the identities of ``rows_table`` to customers: creates IDENTMAP(kind, value, customer_id)
    (see ``customer_join``) and writes new customers, new identities and merges to the store.
    Returns the merges and the number of customers created."""
    distinct = " UNION ALL ".join(
        f"SELECT '{k}' AS kind, {_q(k)} AS value, bool_or({may_create_sql}) AS mc FROM {rows_table} "
        f"WHERE {_q(k)} IS NOT NULL GROUP BY {_q(k)}" for k in id_columns
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {IDS} AS SELECT kind, value, bool_or(mc) AS mc "
                f"FROM ({distinct}) GROUP BY kind, value")
    multi = []
    if len(id_columns) > 1:
        items = ", ".join(f"CASE WHEN {_q(k)} IS NOT NULL THEN '{k}:' || {_q(k)} END" for k in id_columns)
        count = " + ".join(f"CAST({_q(k)} IS NOT NULL AS INTEGER)" for k in id_columns)
        multi = con.execute(
            f"""SELECT ids, min(__row), bool_or(mc) FROM (
                  SELECT list_filter([{items}], lambda x: x IS NOT NULL) AS ids, __row, ({may_create_sql}) AS mc
                  FROM {rows_table} WHERE {count} > 1)
                GROUP BY ids ORDER BY 2"""
        ).fetchall()
    known: dict[str, str] = {}
    if multi:
        idents = sorted({i for ids, _, _ in multi for i in ids})
        con.register("_centric_idents", pa.table({"ident": pa.array(idents, pa.string())}))
        try:
            known = dict(con.execute(
                "SELECT x.kind || ':' || x.value, x.customer_id FROM identities x "
                "JOIN _centric_idents i ON i.ident = x.kind || ':' || x.value").fetchall())
        finally:
            con.unregister("_centric_idents")

    uf = _UnionFind()
    evidence: dict[str, str] = {}
    creatable: set[str] = set()
    for ids, first_row, mc in multi:
        owners = {known[i] for i in ids if i in known}
        if len({uf.find("~" + c) for c in owners}) > 1:
            for c in owners:
                evidence.setdefault(c, f"{' and '.join(ids)} seen together in {source} row {first_row}")
        for i in ids:
            uf.union(ids[0], i)
            if i in known:
                uf.union(i, "~" + known[i])
        if mc:
            creatable.add(ids[0])
    comps: dict[str, list[str]] = {}
    for node in list(uf.parent):
        comps.setdefault(uf.find(node), []).append(node)
    merges: list[Merge] = []
    remap: dict[str, str] = {}
    assigned: dict[str, str | None] = {}
    next_no = first_no = _next_customer_number(con)
    creatable_roots = {uf.find(c) for c in creatable}
    for root, members in sorted(comps.items(), key=lambda kv: min(kv[1])):
        customers = sorted(m[1:] for m in members if m.startswith("~"))
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
        for i in members:
            if not i.startswith("~"):
                assigned[i] = into
    multi_tbl = pa.table({
        "kind": pa.array([i.split(":", 1)[0] for i in assigned], pa.string()),
        "value": pa.array([i.split(":", 1)[1] for i in assigned], pa.string()),
        "customer_id": pa.array(list(assigned.values()), pa.string()),
    })
    remap_tbl = pa.table({"old": pa.array(list(remap), pa.string()),
                          "new": pa.array(list(remap.values()), pa.string())})
    con.register("_centric_multi_arrow", multi_tbl)
    con.register("_centric_remap_arrow", remap_tbl)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _centric_remap AS SELECT * FROM _centric_remap_arrow")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {IDENTMAP} AS
            WITH s AS (
                SELECT i.kind, i.value, i.mc, coalesce(r.new, k.customer_id) AS customer_id
                FROM {IDS} i
                LEFT JOIN _centric_multi_arrow m ON m.kind = i.kind AND m.value = i.value
                LEFT JOIN identities k ON k.kind = i.kind AND k.value = i.value
                LEFT JOIN _centric_remap r ON r.old = k.customer_id
                WHERE m.kind IS NULL),
            fresh AS (
                SELECT kind, value, printf('C%07d', {next_no} - 1 + row_number() OVER (ORDER BY kind, value))
                       AS customer_id
                FROM s WHERE customer_id IS NULL AND mc)
            SELECT s.kind, s.value, coalesce(s.customer_id, f.customer_id) AS customer_id
            FROM s LEFT JOIN fresh f USING (kind, value)
            UNION ALL
            SELECT kind, value, customer_id FROM _centric_multi_arrow"""
        )
    finally:
        con.unregister("_centric_multi_arrow")
        con.unregister("_centric_remap_arrow")
    created = con.execute(
        f"SELECT count(DISTINCT customer_id) FROM {IDENTMAP} WHERE TRY_CAST(substr(customer_id, 2) AS BIGINT) >= ?",
        [first_no],
    ).fetchall()[0][0]
    _apply(con, merges, run_id, now, first_no)
    return merges, created


def _apply(con, merges: list[Merge], run_id: int, now: dt.datetime, first_no: int) -> None:
    """Write merges, new customers and new identities."""
    if merges:
        for t in schema.TABLES.values():
            if t.name not in ("customers", "customer_merges") and "customer_id" in t.column_names:
                # the key moves with the id (centric.customer_keys)
                rekey = f", customer_key = {KEY_OF_NEW}" if "customer_key" in t.column_names else ""
                con.execute(f"UPDATE {t.name} SET customer_id = r.new{rekey} FROM _centric_remap r "
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
        f"""INSERT INTO customers (customer_id, first_seen_at, updated_at, customer_key)
           SELECT customer_id, ?::TIMESTAMP, ?::TIMESTAMP, {schema.customer_key_sql("customer_id")}
           FROM (SELECT DISTINCT customer_id FROM _centric_identmap
                 WHERE TRY_CAST(substr(customer_id, 2) AS BIGINT) >= ?)""",
        [now, now, first_no],
    )
    con.execute(
        """INSERT INTO identities
           SELECT m.kind, m.value, m.customer_id, ?::TIMESTAMP, ? FROM _centric_identmap m
           WHERE m.customer_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM identities x WHERE x.kind = m.kind AND x.value = m.value)""",
        [now, run_id],
    )
