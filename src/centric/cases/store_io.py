"""The loop's reads and writes of the store, in one place.

Every write happens inside the caller's ``Store.transaction()`` (pass its connection): a command that
fails half-way leaves the store as it was. Rows are written by name from pandas frames, so a frame need
not carry every column; reads return frames with the schema's columns.

Event ids are ``<case_id>:<n>`` with ``n`` counting the case's events from 1 (zero-padded), so that
events at the same instant keep the order they were written in (:func:`load_events` sorts by time,
then id).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .. import schema
from ..store import Store

__all__ = [
    "CASE_ID_PREFIX", "append_events", "compiled", "event_ids", "insert_rows", "is_in", "load_cases", "load_events", "new_case_ids",
    "only", "update_cases", "utcnow",
]

CASE_ID_PREFIX = "CX-"
_ID_WIDTH = 7


def utcnow() -> dt.datetime:
    """Now, as a naive UTC datetime (how the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_case_ids(con, n: int) -> list[str]:
    """``n`` new case ids (CX-0000001 …), after the highest the loop has given."""
    row = con.execute(
        "SELECT max(CAST(substr(case_id, ?) AS BIGINT)) FROM cases WHERE case_id LIKE ? "
        "AND length(case_id) = ?", [len(CASE_ID_PREFIX) + 1, CASE_ID_PREFIX + "%", len(CASE_ID_PREFIX) + _ID_WIDTH],
    ).fetchall()
    start = int(row[0][0] or 0) + 1
    return [f"{CASE_ID_PREFIX}{i:0{_ID_WIDTH}d}" for i in range(start, start + n)]


def event_ids(con, case_ids: Sequence[str]) -> list[str]:
    """Ids for new events of ``case_ids`` (one per item, a case may repeat), continuing each case's count. ``con``:
    a DuckDB connection or a store of any engine."""
    if not len(case_ids):
        return []
    ids = pd.Series(case_ids, dtype=object) if not isinstance(case_ids, pd.Series) else case_ids.reset_index(drop=True)
    codes, uniq = pd.factorize(ids)
    if getattr(con, "engine", None) == "postgresql":  # a PostgreSQL store: its events counted per case
        marks = ", ".join("?" for _ in uniq)
        have = dict(con.execute(f"SELECT case_id, count(*) FROM case_events WHERE case_id IN ({marks}) "
                                "GROUP BY case_id", [str(u) for u in uniq]).fetchall())
        before = [int(have.get(u, 0)) for u in uniq]
    else:
        con = getattr(con, "con", con)  # a DuckDB store: its connection
        con.register("_centric_ids", pd.DataFrame({"pos": np.arange(len(uniq)),
                                                   "case_id": np.asarray(uniq, dtype=object)}))
        try:
            before = con.execute(
                "SELECT i.pos, count(e.case_id) AS n FROM _centric_ids i LEFT JOIN case_events e "
                "ON e.case_id = i.case_id GROUP BY i.pos ORDER BY i.pos").fetchnumpy()["n"]
        finally:
            con.unregister("_centric_ids")
    n = np.asarray(before, dtype=np.int64)[codes] + pd.Series(codes).groupby(codes).cumcount().to_numpy() + 1
    return (ids.astype(str) + ":" + pd.Series(n).astype(str).str.zfill(5)).tolist()


def insert_rows(con, table: str, rows: pd.DataFrame) -> int:
    """Insert ``rows`` (columns named as in the schema; missing ones stay empty) into ``table``. ``con``: a DuckDB
    connection, or a store of any engine (inside the caller's ``transaction()``; one COPY on PostgreSQL)."""
    if rows is None or not len(rows):
        return 0
    known = set(schema.TABLES[table].column_names)
    extra = [c for c in rows.columns if c not in known]
    if extra:
        raise ValueError(f"{table} has no column {', '.join(extra)}")
    json_cols = {c: rows[c].map(_json) for c in rows.columns  # texts already (e.g. one constant) stay as they are
                 if schema.TABLES[table].column(c).type == "json" and not pd.api.types.is_string_dtype(rows[c])}
    if getattr(con, "engine", None) == "postgresql":
        return con.insert_frame(table, rows.assign(**json_cols) if json_cols else rows)
    con = getattr(con, "con", con)  # a DuckDB store: its connection
    con.register("_centric_rows", _arrow(table, rows.assign(**json_cols) if json_cols else rows))
    try:
        cols = ", ".join(f'"{c}"' for c in rows.columns)
        con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM _centric_rows')
    finally:
        con.unregister("_centric_rows")
    return len(rows)


def append_events(con, events: pd.DataFrame) -> pd.DataFrame:
    """Append case events (``case_id``, ``occurred_at``, ``kind`` and any other columns of
    ``case_events``); ids are given when missing. Returns the events as written. ``con``: as for
    :func:`insert_rows`."""
    if events is None or not len(events):
        return events
    ev = events
    bad = set(pd.unique(ev["kind"].astype(object))) - set(schema.CASE_EVENT_KINDS)
    if bad:
        raise ValueError(f"unknown case event kind {', '.join(sorted(map(str, bad)))}")
    if "case_event_id" not in ev.columns or ev["case_event_id"].isna().any():
        ids = pd.Series(event_ids(con, ev["case_id"]), index=ev.index)
        ev = ev.assign(case_event_id=ev["case_event_id"].fillna(ids) if "case_event_id" in ev.columns else ids)
    insert_rows(con, "case_events", ev)
    return ev


def update_cases(con, changes: pd.DataFrame) -> int:
    """Set the columns of ``changes`` (besides ``case_id``) on the cases it names."""
    if changes is None or not len(changes):
        return 0
    cols = [c for c in changes.columns if c != "case_id"]
    if not cols:
        return 0
    for c in cols:
        schema.TABLES["cases"].column(c)  # KeyError for a column cases does not have
    con.register("_centric_changes", changes)
    try:
        sets = ", ".join(f'"{c}" = u."{c}"' for c in cols)
        con.execute(f"UPDATE cases SET {sets} FROM _centric_changes u WHERE cases.case_id = u.case_id")
    finally:
        con.unregister("_centric_changes")
    return len(changes)


def only(t, column: str, values: Iterable):
    """The rows of Ibis table ``t`` whose ``column`` is one of ``values`` — as a semi-join with an in-memory
    table, which stays fast for a million values where a literal IN list would not (a literal list where no
    temporary table may be made: the web app's readers on PostgreSQL)."""
    import ibis

    from ..engines import in_scratch, temp_tables, values_table

    values = pd.unique(pd.Series(list(values), dtype=object).dropna())
    if len(values) > 50 and not temp_tables(t) and in_scratch(t):  # inside a read-only session's own transaction
        ids = values_table(t._find_backend(), pd.DataFrame({"_only": values.astype(str)}))
        return t.semi_join(ids, t[column] == ids._only)
    if len(values) <= 50 or not temp_tables(t):  # a read-only PostgreSQL session makes no temporary table
        return t.filter(t[column].isin(list(values)))
    ids = ibis.memtable(pd.DataFrame({"_only": values.astype(str)}))
    return t.semi_join(ids, t[column] == ids._only)


def is_in(values, among) -> np.ndarray:
    """Which of ``values`` are among ``among`` (texts; a missing value never is), as a boolean array — hashed in
    Arrow's C++ kernels, where pandas' ``isin`` on Arrow-backed texts reads each of a million values in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def texts(v):
        v = v if isinstance(v, pd.Series) else pd.Series(list(v), dtype=object)
        try:
            return pa.array(v, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers among the ids: compared as text
            return pa.array(v.where(v.isna(), v.astype(str)), type=pa.string(), from_pandas=True)

    a = texts(values)
    if not len(a):
        return np.zeros(0, dtype=bool)
    return pc.fill_null(pc.is_in(a, value_set=texts(among)), False).to_numpy(zero_copy_only=False)


def frame(store: Store, expr) -> pd.DataFrame:
    """The rows of an Ibis table expression: the SQL Ibis compiles for the store, run on the store's own
    connection and read straight into pandas. For the small results a page asks for, Ibis's ``execute``
    (its relation wrapper and schema conversion) and the compilation itself cost more than the query, so
    the SQL of the latest :data:`SQL_CACHE` expressions is kept (an expression is immutable and compares by
    its structure and values: asking the same again — a page shown again — compiles nothing)."""
    return _df(store.con.execute(compiled(store, expr)))


def compiled(store: Store, expr) -> str:
    """The SQL of an Ibis expression for the store's backend, kept for the latest :data:`SQL_CACHE` expressions
    (see :func:`frame`): the loop's own large queries, built again on every run, compile once per process."""
    key = (store.ibis.name, expr.op())  # the operation tree: hashed and compared by structure and values
    with _sql_lock:
        sql = _sql.get(key)
        if sql is not None:
            _sql.move_to_end(key)
    if sql is None:
        sql = store.ibis.compile(expr)
        with _sql_lock:
            _sql[key] = sql
            while len(_sql) > SQL_CACHE:
                _sql.popitem(last=False)
    return sql


def _df(cur) -> pd.DataFrame:
    """A query's rows as a frame: DuckDB's own reader, or (a psycopg cursor on PostgreSQL) from its rows."""
    if hasattr(cur, "df"):
        return cur.df()
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


SQL_CACHE = 2048
"""How many compiled queries :func:`frame` keeps."""
_sql: OrderedDict = OrderedDict()
_sql_lock = threading.Lock()


def prepared(store: Store, key: str, build, **values) -> pd.DataFrame:
    """The rows of a query built once and compiled once per store backend, run with the request's values
    bound as parameters — where :func:`frame` builds and compiles an expression per distinct value (tens of
    milliseconds of Python, against a query of a millisecond).

    ``build(**placeholders)`` returns the Ibis expression; each of ``values`` (a text, or a list of texts)
    comes to it as an ``ibis.param`` — a list as a list of params, one per position, its length rounded up
    to a power of two (padded with its last value, which an ``isin`` does not mind), so a handful of shapes
    is compiled, not one per length. ``key`` names the query (one builder per key). The SQL is Ibis's for
    the store's backend, the placeholders in it replaced by the backend connection's named parameters."""
    sql, bound = _bound(store, key, build, values)
    return _df(store.con.execute(sql, bound))


def prepared_rows(store: Store, key: str, build, limit: int | None = None, **values) -> list[dict]:
    """:func:`prepared`'s rows as dicts of the driver's Python values (datetimes, numbers, texts, None),
    without a pandas frame between — for the few rows a page shows, building a frame costs several times
    the query. ``limit``: the first rows only, taken from the result rather than by a ``LIMIT`` in the SQL
    (a sorted ``LIMIT`` makes DuckDB read the whole table where an index finds the few rows asked for)."""
    sql, bound = _bound(store, key, build, values)
    cur = store.con.execute(sql, bound)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall() if limit is None else cur.fetchmany(limit)
    return [dict(zip(names, r, strict=True)) for r in rows]


def _bound(store: Store, key: str, build, values: dict) -> tuple[str, dict]:
    """The prepared SQL of ``key`` (compiled the first time) and the parameters bound to ``values``."""
    shape = tuple((k, None if isinstance(v, str) or v is None else _slots(len(v))) for k, v in sorted(values.items()))
    ck = (store.ibis.name, key, shape)
    with _sql_lock:
        entry = _prepared.get(ck)
    if entry is None:
        import ibis

        placeholders, sentinels = {}, {}
        for k, n in shape:
            names = [k] if n is None else [f"{k}_{i}" for i in range(n)]
            ps = [ibis.param("string") for _ in names]
            for name, p in zip(names, ps, strict=True):
                sentinels[p] = f"__centric_param_{name}__"
            placeholders[k] = ps[0] if n is None else ps
        sql = store.ibis.compile(build(**placeholders), params=sentinels)
        postgres = getattr(store, "engine", "duckdb") == "postgresql"
        if postgres:  # psycopg's named parameters: %(name)s, and a literal % doubled
            sql = sql.replace("%", "%%")
        for name in sentinels.values():
            quoted = f"'{name}'"
            if quoted not in sql:
                raise AssertionError(f"the query {key} lost its parameter {name}")
            bare = name.removeprefix("__centric_param_").removesuffix("__")
            sql = sql.replace(quoted, f"%({bare})s" if postgres else "$" + bare)
        entry = sql
        with _sql_lock:
            _prepared[ck] = entry
    bound = {}
    for k, n in shape:
        v = values[k]
        if n is None:
            bound[k] = v
        else:
            padded = list(v) + [v[-1]] * (n - len(v)) if len(v) else []
            bound.update({f"{k}_{i}": str(x) for i, x in enumerate(padded)})
    return entry, bound


def records(frame: pd.DataFrame | list[dict], value) -> list[dict]:
    """Rows (a frame, or :func:`prepared_rows`' dicts) as dicts, each value passed through ``value``; a frame
    read column by column (``to_dict("records")`` boxes value by value, twice as slow for a page's rows)."""
    if isinstance(frame, list):
        return [{k: value(v) for k, v in r.items()} for r in frame]
    cols = list(frame.columns)
    return [{k: value(v) for k, v in zip(cols, row, strict=True)}
            for row in zip(*(frame[c].tolist() for c in cols), strict=True)]


def _slots(n: int) -> int:
    """``n`` rounded up to a power of two (0 stays 0)."""
    return 0 if n == 0 else 1 << (n - 1).bit_length()


_prepared: dict = {}


def load_cases(store: Store, case_ids: Iterable[str] | None = None, open_only: bool = False) -> pd.DataFrame:
    """Cases (all, those named, or those still open) as a frame with every column of ``cases``."""
    t = store.table("cases")
    if case_ids is not None:
        t = only(t, "case_id", case_ids)
    if open_only:
        from .model import OPEN

        t = t.filter(t.status.isin(list(OPEN)) | t.status.isnull())
    return t.execute()


def load_events(store: Store, case_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Case events (all, or of the cases named), in the order they happened."""
    t = store.table("case_events")
    if case_ids is not None:
        t = only(t, "case_id", case_ids)
    return t.order_by(["case_id", "occurred_at", "case_event_id"]).execute()


_ARROW_TYPES = {"text": "string", "enum": "string", "json": "string", "integer": "int32", "bigint": "int64",
                "number": "float64", "timestamp": "timestamp[us]", "date": "date32", "boolean": "bool"}


def _arrow(table: str, frame: pd.DataFrame):
    """The frame as an Arrow table with the schema's types: DuckDB reads Arrow without looking at each
    Python object, many times faster than a pandas frame of object columns."""
    import pyarrow as pa

    fields = []
    for c in frame.columns:
        t = _ARROW_TYPES[schema.TABLES[table].column(c).type]
        fields.append(pa.field(c, pa.timestamp("us") if t == "timestamp[us]" else pa.type_for_alias(t)))
    cols = []
    for f in fields:
        v = frame[f.name]
        if pa.types.is_timestamp(f.type):
            v = pd.to_datetime(v)
            if getattr(v.dtype, "tz", None) is not None:
                v = v.dt.tz_convert("UTC").dt.tz_localize(None)
        try:
            cols.append(pa.array(v, type=f.type, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. numbers among the texts: written as text
            if not pa.types.is_string(f.type):
                raise
            v = v.where(v.isna(), v.astype(str))
            cols.append(pa.array(v, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def parse_json(v):
    """A JSON column's value as read: its text parsed (DuckDB hands JSON over as text); text that is not JSON,
    and anything else, as it is."""
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _json(v):
    if v is None or (isinstance(v, float) and pd.isna(v)) or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)
