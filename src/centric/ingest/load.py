"""Loading one source into one table, all or nothing.

read (readers) → recognise columns (columns) → parse and validate in SQL (transform) → drop rows
already stored → resolve customers (identity) → insert; every rejected row goes to ``rejected_rows``
with its reason. Everything after reading happens in one transaction: a failure or a kill half-way
leaves nothing of the source in the store. Re-loading the same content stores nothing new; with
``replace=True`` what earlier loads of the same file stored (rows, rejected rows, the text analyses of
rows that changed, customers that only they brought) is taken back in the same transaction.

A caller whose load is not complete with the rows alone (an import that sets defaults on them, or moves some of
them to the rejected rows) passes :class:`AfterLoad`: its work runs in the same transaction once the rows are in,
so a failure in it leaves nothing of the source either — on every engine, since the ingest always runs in a
DuckDB store (on PostgreSQL and a lake its scratch store, published all or nothing afterwards).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import faults, schema, settings
from ..errors import IngestError, SettingError
from ..store import Store
from . import advice, identity, transform
from .columns import Mapping, check_required, known_names, match_columns, targets
from .readers import Staged, _q, drop_stage, read_source

log = logging.getLogger("centric.ingest")

VALID = "_centric_valid"


@dataclass
class IngestResult:
    """What happened to one source."""

    table: str
    source: str
    run_id: int | None
    rows_read: int
    rows_stored: int
    rows_rejected: int
    rows_duplicate: int
    status: str = "stored"
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    customers_created: int = 0
    customers_merged: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    recoding: dict[str, dict] = field(default_factory=dict)  # centric column -> counts (see transform)
    replaced_runs: list[int] = field(default_factory=list)
    rows_removed: int = 0  # rows of the replaced runs taken out
    notes: list[str] = field(default_factory=list)  # what a person should know: assumptions, hints
    keys: list[tuple[int, str]] | None = None  # with keys=True: (row, key) of each row stored or already there

    @property
    def ok(self) -> bool:
        """False when rows were read but none could be stored (and none was already there)."""
        return not (self.rows_stored == 0 and self.rows_duplicate == 0)

    @property
    def partial(self) -> bool:
        """True when some rows were stored but more were rejected than kept."""
        return self.ok and self.rows_rejected > self.rows_stored + self.rows_duplicate


@dataclass(frozen=True)
class AfterLoad:
    """What completes a load, run inside the ingest's transaction after the rows are stored (also after a source
    loaded before, when nothing new is stored): ``run(store, result)`` may read and change the store through
    ``store.execute``/``store.insert_frame`` — without a transaction of its own, the ingest's is under way — and
    correct ``result``'s counts (notes it appends are kept). An exception in it rolls the whole load back.

    ``store`` is a DuckDB store: the store itself, or on PostgreSQL and a lake the scratch store the ingest runs
    in, which holds only the tables the ingest reads (:func:`tables_read`) and those named in ``reads``; ``run``
    may change only tables the ingest writes."""

    run: Callable[[Store, IngestResult], None]
    reads: tuple[str, ...] = ()  # tables ``run`` reads besides the ingest's own


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


OPTIONS = ("day_first", "timezone", "default_country", "currency")


def resolve_options(mapping: Mapping, overrides: dict[str, str | None]) -> dict[str, str]:
    opts = {n: settings.get(n, overrides.get(n) or mapping.settings.get(n)) for n in OPTIONS}
    if not re.fullmatch(r"[A-Za-z]{2}", opts["default_country"]):
        raise SettingError(f"default_country must be a two-letter country code such as PL or GB, "
                           f"got {opts['default_country']!r}")
    if not re.fullmatch(r"[A-Za-z]{3}", opts["currency"]):
        raise SettingError(f"currency must be a three-letter currency code such as PLN or GBP, got {opts['currency']!r}")
    if opts["timezone"].upper() != "UTC":
        try:
            zoneinfo.ZoneInfo(opts["timezone"])
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise SettingError(f"timezone: unknown time zone {opts['timezone']!r}; use a name such as "
                               "Europe/Warsaw or UTC") from None
    return opts


def _origins(mapping: Mapping, overrides: dict[str, str | None]) -> dict[str, str]:
    """Where each option's value comes from: given (argument or mapping file), environment, default."""
    out = {}
    for n in OPTIONS:
        if overrides.get(n) or n in mapping.settings:
            out[n] = "given"
        else:
            out[n] = "environment" if os.environ.get(settings.SETTINGS[n].env) else "default"
    return out


def ingest_source(store: Store, table_name: str, source: Any, mapping: Mapping | None = None,
                  values: dict[str, str] | None = None, name: str | None = None, sheet: str | None = None,
                  replace: bool = False, keys: bool = False, after_load: AfterLoad | None = None,
                  **overrides: str | None) -> IngestResult:
    """Load ``source`` into ``table_name`` (see the module's docstring). ``keys=True`` (for small sources such as
    the rows posted to the web API) also returns each stored or already stored row's key — given, or derived
    from the row's content — in ``IngestResult.keys``, and reads a source seen before row by row.
    ``after_load``: the caller's work that completes the load, in its transaction (:class:`AfterLoad`)."""
    if table_name not in schema.TABLES or not schema.TABLES[table_name].ingestable:
        loadable = [t.name for t in schema.TABLES.values() if t.ingestable]
        raise IngestError(f"cannot load into {table_name!r}; tables that take files: {', '.join(loadable)}")
    if getattr(store, "engine", "duckdb") == "postgresql":
        return _on_postgres(store, table_name, source, mapping=mapping, values=values, name=name, sheet=sheet,
                            replace=replace, keys=keys, after_load=after_load, **overrides)
    if getattr(store, "engine", "duckdb") in ("spark", "lake"):
        return _on_lake(store, table_name, source, mapping=mapping, values=values, name=name, sheet=sheet,
                        replace=replace, keys=keys, after_load=after_load, **overrides)
    table = schema.TABLES[table_name]
    mapping = mapping or Mapping()
    opts = resolve_options(mapping, overrides)
    opts_origin = _origins(mapping, overrides)
    mapping.check(table)
    con = store.con
    transform.register_functions(con)
    staged = read_source(con, source, known_names(table), name=name, sheet=sheet)
    try:
        result = _load_staged(store, table, staged, mapping, {**mapping.values, **(values or {})}, opts,
                              opts_origin, replace, keys, after_load)
    finally:
        _cleanup(con)
        staged.remove_temp_files()
    log.info("%s -> %s: read %d, stored %d, rejected %d, duplicate %d", staged.source, table_name,
             result.rows_read, result.rows_stored, result.rows_rejected, result.rows_duplicate)
    return result


def tables_read(table_name: str, replace: bool = False) -> tuple[list[str], list[str]]:
    """The tables an ingest into ``table_name`` reads (and may change), and those it only adds rows to:
    what a PostgreSQL store hands to the scratch DuckDB store the ingest runs in (``centric.engines.scratch``).
    ``--replace`` reads more: the rows and rejected rows it takes back, the text analyses and scores of what
    it removes, and every table that may still refer to a customer it would remove."""
    read = [table_name, "customers", "identities", "customer_merges", "ingest_runs"]
    added = ["ingest_rows", "rejected_rows"]
    if replace:
        read += added + ["text_analyses", "mentions", "customer_scores"]
        read += [t.name for t in schema.TABLES.values()
                 if t.ingestable and t.name != "customers" and "customer_id" in t.column_names]
        added = []
    return list(dict.fromkeys(read)), added


def _scratch_tables(table_name: str, kwargs: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What the scratch store of an ingest holds: :func:`tables_read`, and the tables its ``after_load`` reads."""
    read, added = tables_read(table_name, bool(kwargs.get("replace")))
    after = kwargs.get("after_load")
    if after is not None:
        read = list(dict.fromkeys([*read, *after.reads]))
        added = [a for a in added if a not in read]
    return read, added


def _on_postgres(store, table_name: str, source: Any, **kwargs: Any) -> IngestResult:
    """``ingest_source`` on a PostgreSQL store: the same ingest, run in a scratch DuckDB store holding the
    tables it reads; what it changed (its ``after_load``'s work included) is then written into PostgreSQL in one
    transaction, under the write lock (see ``centric.engines.scratch``)."""
    from ..engines.scratch import scratch

    read, added = _scratch_tables(table_name, kwargs)
    with scratch(store, tables=read, append=added) as s:
        result = ingest_source(s.store, table_name, source, **kwargs)
    return result


def _on_lake(store, table_name: str, source: Any, **kwargs: Any) -> IngestResult:
    """``ingest_source`` into a lake (a ``SparkStore``'s, or a ``centric.engines.lake.Lake``): the same ingest,
    run in a scratch DuckDB store loaded from the Parquet files of the tables it reads; the tables it changed are
    then written back, all or nothing, under the lake's write lock (see ``centric.engines.lake``)."""
    from ..engines.lake import lake_scratch

    read, added = _scratch_tables(table_name, kwargs)
    with lake_scratch(store.url, tables=read, append=added) as s:
        result = ingest_source(s.store, table_name, source, **kwargs)
    if hasattr(store, "refresh"):  # a Spark store lists the lake's files anew
        store.refresh()
    return result


def _load_staged(store: Store, table: schema.Table, staged: Staged, mapping: Mapping, consts: dict[str, str],
                 opts: dict[str, str], opts_origin: dict[str, str], replace: bool,
                 keys: bool = False, after_load: AfterLoad | None = None) -> IngestResult:
    con, label = store.con, staged.source
    if staged.rows_read == 0:
        raise IngestError(f"{label}: the file has a header but no rows")
    match = match_columns(table, staged.columns, mapping, label)
    # earlier loads of this file: the same content, or the same name (a frame passed without a name
    # is only "DataFrame": there the content alone says it is the same)
    same_name = staged.source if not (staged.format == "frame" and staged.source == "DataFrame") else None
    earlier = [r for r, in con.execute(
        "SELECT run_id FROM ingest_runs WHERE table_name = ? AND status = 'stored' AND (content_hash = ? "
        "OR source = ?) ORDER BY run_id", [table.name, staged.content_hash, same_name]).fetchall()]
    # the same content loaded before without a rejected row: nothing can be new (a source that had
    # rejected rows is read again, so that fixed settings can rescue them; stored rows stay single)
    prev = con.execute(
        "SELECT run_id FROM ingest_runs WHERE table_name = ? AND content_hash = ? AND status = 'stored' "
        "AND rows_rejected = 0 ORDER BY run_id LIMIT 1", [table.name, staged.content_hash],
    ).fetchall()
    if prev and not replace and not keys:
        with store.transaction():
            run_id = _record_run(con, table.name, staged, "duplicate_file", 0, 0, staged.rows_read, _now())
            result = IngestResult(table.name, label, run_id, staged.rows_read, 0, 0, staged.rows_read,
                                  status=f"already loaded in run {prev[0][0]}", format=staged.format,
                                  encoding=staged.encoding, delimiter=staged.delimiter,
                                  notes=[f"nothing new: to load it again with other settings or another mapping, "
                                         f"add --replace (what run {prev[0][0]} stored is then replaced)"])
            if after_load is not None:
                after_load.run(store, result)
        return result
    if replace:
        _check_replaceable(con, table, earlier)

    unknown_consts = set(consts) - set(targets(table))
    if unknown_consts:
        raise IngestError(f"values given for unknown columns of {table.name}: {', '.join(sorted(unknown_consts))}")
    check_required(table, match, Mapping(values=consts), staged.columns, label)
    defaults = {"currency": transform._lit(opts["currency"]), "brand": "'ours'"}
    symbol = None
    if "currency" in table.column_names and "currency" not in consts and "amount" in match.assigned:
        # an amount written with its currency (£ 12.50, 12,50 zł) says which one it is: the first symbol, or
        # NULL (written once, not as nullif(regexp_extract(…), ''), whose repeated pattern DuckDB would
        # hoist out of the lazy coalesce below and match against every amount, a currency cell or not)
        symbol = f"regexp_extract_all({_q(match.assigned['amount'])}, '{transform._CURRENCY_WORDS}', 1)[1]"
        defaults["currency"] = f"coalesce({symbol}, {defaults['currency']})"
    rules = {r.to: r for r in mapping.rules.values()}
    plans = []
    for col_name, col in targets(table).items():
        if col_name in match.assigned:
            raw = _q(match.assigned[col_name])
            if col_name in defaults and col_name not in consts:
                raw = f"coalesce(nullif(trim({raw}), ''), {defaults[col_name]})"
            plans.append(transform.ColumnPlan(col_name, col, raw, match.assigned[col_name], rules.get(col_name)))
        elif col_name in consts:
            plans.append(transform.ColumnPlan(col_name, col, transform._lit(consts[col_name]),
                                              f"{col_name} (given value)"))
        elif col_name in defaults and col_name in table.column_names:
            plans.append(transform.ColumnPlan(col_name, col, defaults[col_name], f"{col_name} (default)"))
    facts = transform.build_typed(con, table, plans, opts, staged.columns)
    currency = advice.currency_facts(con, table, match.assigned, consts, symbol)
    drop_stage(con)  # everything needed from it is in TYPED and ERRORS now
    recoding = transform.recode_counts(con, plans)
    phones = advice.phone_country(con, plans, opts)
    country = phones[0] or (opts["default_country"] if opts_origin["default_country"] != "default" else None)
    if currency and currency["assumed"] and not country:
        country = advice.stored_phone_country(con, plans)
    notes = advice.recode_notes(plans, recoding) + advice.date_notes(plans, facts, opts_origin)
    notes += advice.phone_notes(phones, opts) + advice.currency_notes(currency, opts, opts_origin, country)
    with store.transaction():
        forgotten = _forget_runs(con, table, earlier) if replace else None
        faults.checkpoint("ingest.replace_half_way")
        result = _store_rows(store, table, staged, plans, _now(), keys)
        if forgotten and table.name != "customers":  # a customers file updates customers in place
            notes += _forget_derived(con, table, earlier)
        result.columns = dict(match.assigned)
        result.ignored_columns = match.ignored
        result.recoding = recoding
        little = advice.little_stored(result)  # about the values as the ingest checked them
        if after_load is not None:
            after_load.run(store, result)
        faults.checkpoint("ingest.before_commit")
    if result.customers_merged:
        from ..surveys.intake import invitations_changed

        invitations_changed()  # a running web app's intake keeps the open invitations' customers in memory
    if replace:
        result.replaced_runs, result.rows_removed = earlier, forgotten or 0
        if not earlier:
            notes.insert(0, "--replace: no earlier load of this file to replace; loaded as new")
    elif earlier:
        notes.append(f"loaded before in run {', '.join(map(str, earlier))}: rows stored then are kept (skipped "
                     "here as duplicates); to replace what that load stored, add --replace")
    result.notes = notes + little + result.notes  # result.notes: what after_load said
    return result


def _check_replaceable(con, table: schema.Table, runs: list[int]) -> None:
    if not runs or table.key in (None, "customer_id"):
        return
    unrecorded = con.execute(
        f"SELECT run_id FROM ingest_runs r WHERE run_id IN ({', '.join('?' * len(runs))}) AND rows_stored > 0 "
        "AND NOT EXISTS (SELECT 1 FROM ingest_rows k WHERE k.run_id = r.run_id)", runs).fetchall()
    if unrecorded:
        raise IngestError(f"run {unrecorded[0][0]} was loaded by an older centric that did not record which rows "
                          "it stored, so it cannot be replaced; load the file into a new store instead")


def _forget_runs(con, table: schema.Table, runs: list[int]) -> int:
    """Take back what ``runs`` stored: their rows (recorded in ``ingest_rows``) and their rejected
    rows; the runs are marked ``replaced``. Returns the number of rows removed. The removed rows'
    keys (and texts) are kept in _centric_replaced for ``_forget_derived``."""
    if not runs:
        return 0
    marks = ", ".join("?" * len(runs))
    removed = 0
    if table.key and table.key != "customer_id":
        text = {"responses": "comment", "feedback": "text"}.get(table.name)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _centric_replaced AS
                SELECT t.{_q(table.key)} AS key{f', t.{_q(text)} AS text' if text else ''}
                FROM {table.name} t WHERE t.{_q(table.key)} IN
                    (SELECT key FROM ingest_rows WHERE table_name = ? AND run_id IN ({marks}))""",
            [table.name, *runs])
        removed = con.execute("SELECT count(*) FROM _centric_replaced").fetchall()[0][0]
        con.execute(f"DELETE FROM {table.name} WHERE {_q(table.key)} IN (SELECT key FROM _centric_replaced)")
        con.execute(f"DELETE FROM ingest_rows WHERE run_id IN ({marks})", runs)
    con.execute(f"DELETE FROM rejected_rows WHERE run_id IN ({marks})", runs)
    con.execute(f"UPDATE ingest_runs SET status = 'replaced' WHERE run_id IN ({marks})", runs)
    return removed


def _forget_derived(con, table: schema.Table, runs: list[int]) -> list[str]:
    """After the new rows are in: remove the text analyses of removed rows whose text did not come
    back unchanged, and the customers that only the replaced runs brought and nothing refers to now."""
    notes = []
    if table.name in ("responses", "feedback"):
        stale = (f"SELECT r.key FROM _centric_replaced r WHERE NOT EXISTS (SELECT 1 FROM {table.name} t "
                 f"WHERE t.{_q(table.key)} = r.key AND t.{_q('comment' if table.name == 'responses' else 'text')} "
                 "IS NOT DISTINCT FROM r.text)")
        n = con.execute(f"SELECT count(*) FROM text_analyses WHERE source = ? AND text_id IN ({stale})",
                        [table.name]).fetchall()[0][0]
        for t in ("mentions", "text_analyses"):
            con.execute(f"DELETE FROM {t} WHERE source = ? AND text_id IN ({stale})", [table.name])
        if n:
            notes.append(f"{n:,} text analyses of replaced rows whose text changed or went were removed; "
                         "run centric analyze for the new texts")
    marks = ", ".join("?" * len(runs))
    refs = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {t.name} x WHERE x.customer_id = c.customer_id)"
                        for t in schema.TABLES.values()
                        if t.ingestable and t.name != "customers" and "customer_id" in t.column_names)
    attrs = " AND ".join(f"c.{_q(a.name)} IS NULL" for a in schema.TABLES["customers"].columns if a.ingested)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _centric_orphans AS SELECT c.customer_id FROM customers c
            WHERE c.customer_id IN (SELECT customer_id FROM identities GROUP BY customer_id
                                    HAVING bool_and(run_id IN ({marks})))
              AND {refs} AND {attrs}""", runs)
    n = con.execute("SELECT count(*) FROM _centric_orphans").fetchall()[0][0]
    if n:
        for t in ("identities", "customer_scores", "customers"):
            con.execute(f"DELETE FROM {t} WHERE customer_id IN (SELECT customer_id FROM _centric_orphans)")
        notes.append(f"{n:,} customers that only the replaced load had brought were removed")
    return notes


def _record_run(con, table_name: str, staged: Staged, status: str, stored: int, rejected: int, dup: int,
                started: dt.datetime) -> int:
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchall()[0][0]
    con.execute(
        "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, table_name, staged.source, staged.content_hash, staged.format, staged.encoding,
         staged.delimiter, status, staged.rows_read, stored, rejected, dup, started, _now()],
    )
    return run_id


def _store_rows(store: Store, table: schema.Table, staged: Staged, plans: list[transform.ColumnPlan],
                now: dt.datetime, want_keys: bool = False) -> IngestResult:
    con = store.con
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchall()[0][0]
    present = [p.name for p in plans]
    # a table without customers (units, employees) may have a column named like an identity (email): data
    ids = [k for k in schema.IDENTITY_INPUTS if k in present] if table.customer_ref != "none" else []
    data_cols = [p.name for p in plans if p.name not in ids]
    key = table.key if table.key and table.key != "customer_id" else None
    good = f"SELECT * FROM {transform.TYPED} WHERE NOT __bad"
    conflicts: list[tuple] = []
    duplicates = 0
    row_keys = None
    if key:
        nulls, repeats = (0, 0)
        if key in present:
            nulls, repeats = con.execute(
                f"SELECT count(*) - count({_q(key)}), count({_q(key)}) - count(DISTINCT {_q(key)}) FROM ({good})"
            ).fetchall()[0]
        if key in present and nulls == 0 and repeats == 0:
            keyed = f"SELECT *, {_q(key)} AS __key FROM ({good})"
            every_key = keyed
        else:
            keyed = _rank_by_content(con, table, present, key, good)
            typed_record = ", ".join(f"{transform._lit(p.label)}, {_q(p.name)}" for p in plans)
            label = next((p.label for p in plans if p.name == key), key)
            conflicts = con.execute(
                f"""SELECT __row, ?, __key, 'the {key} ' || __key || ' is used again (first on row '
                           || __first_row || ') with different values', CAST(json_object({typed_record}) AS VARCHAR)
                    FROM _centric_ranked WHERE __rn > 1 AND __hash <> __first_hash ORDER BY __row""", [label],
            ).fetchall()
            duplicates = con.execute(
                "SELECT count(*) FROM _centric_ranked WHERE __rn > 1 AND __hash = __first_hash").fetchall()[0][0]
            every_key = "SELECT * FROM _centric_ranked WHERE __rn = 1 OR __hash = __first_hash"
        if want_keys:  # a repeated row has its first row's key; a conflicting one none (it is rejected)
            row_keys = [(int(r), k) for r, k in
                        con.execute(f"SELECT __row, __key FROM ({every_key}) ORDER BY __row").fetchall()]
        candidates = con.execute(f"SELECT count(*) FROM ({keyed})").fetchall()[0][0]
        if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT 1)").fetchall()[0][0]:
            keyed = (f"SELECT * FROM ({keyed}) r WHERE NOT EXISTS "
                     f"(SELECT 1 FROM {table.name} t WHERE t.{_q(key)} = r.__key)")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {VALID} AS {keyed}")
        n_valid = con.execute(f"SELECT count(*) FROM {VALID}").fetchall()[0][0]
        duplicates += candidates - n_valid
        # which rows this run stores, so that a later --replace can take them back
        con.execute(f"INSERT INTO ingest_rows SELECT ?, ?, __key FROM {VALID}", [run_id, table.name])
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {VALID} AS {good}")
        n_valid = con.execute(f"SELECT count(*) FROM {VALID}").fetchall()[0][0]
    # VALID is a view: counted here, before the insert that would change what it shows

    merges: list[identity.Merge] = []
    created = 0
    joins, customer = "", "NULL"
    if ids:
        may_create = "true"
        if table.name == "feedback" and "brand" in present:
            may_create = "lower(coalesce(brand, 'ours')) = 'ours'"
        if table.name == "customers":
            duplicates = _unchanged_customers(con, ids, data_cols)
        merges, created = identity.resolve(con, VALID, ids, may_create, run_id, staged.source, now)
        joins, customer = identity.customer_join(ids)
    # write
    if table.name == "customers":
        _write_customers(con, data_cols, joins, customer, now)
        stored = n_valid - duplicates
    else:
        cols = [c for c in table.column_names if c in data_cols or c == "customer_id" or c == key]
        select = [("v.__key" if c == key else customer if c == "customer_id" else f"v.{_q(c)}") for c in cols]
        if "customer_key" in table.column_names and ids:  # written with the id (centric.customer_keys)
            cols.append("customer_key")
            select.append(schema.customer_key_sql(f"({customer})"))
        con.execute(f"INSERT INTO {table.name} ({', '.join(map(_q, cols))}) "
                    f"SELECT {', '.join(select)} FROM {VALID} v {joins}")
        stored = n_valid
    faults.checkpoint("ingest.after_insert")

    # rejected rows: reader problems, value problems, key conflicts
    con.execute(
        f"""INSERT INTO rejected_rows SELECT ?, ?, ?, __row, column_name, value, reason, __record
            FROM {transform.ERRORS} ORDER BY __row""",
        [run_id, table.name, staged.source],
    )
    extra = [(run_id, table.name, staged.source, r.row, r.column, r.value, r.reason, r.record)
             for r in staged.rejects]
    for row, column, value, reason, rec in conflicts:
        extra.append((run_id, table.name, staged.source, row, column, value, reason, rec))
    if extra:
        con.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", extra)
    rejected = con.execute(f"SELECT count(DISTINCT __row) FROM {transform.ERRORS}").fetchall()[0][0]
    rejected += len(staged.rejects) + len(conflicts)
    top = con.execute(
        "SELECT kind, count(*) FROM (SELECT regexp_replace(reason, '''[^'']*''', '…', 'g') AS kind "
        "FROM rejected_rows WHERE run_id = ?) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5", [run_id]).fetchall()
    _record_run(con, table.name, staged, "stored", stored, rejected, duplicates, now)
    return IngestResult(
        table.name, staged.source, run_id, staged.rows_read, stored, rejected, duplicates,
        format=staged.format, encoding=staged.encoding, delimiter=staged.delimiter,
        customers_created=created, customers_merged=len(merges), top_reasons=[(r, n) for r, n in top],
        keys=row_keys,
    )


def _rank_by_content(con, table: schema.Table, present: list[str], key: str, good: str) -> str:
    """Rows numbered within their key; keys missing in the file are derived from the row's content.
    Creates _centric_ranked and returns the query of each key's first row."""
    # over every column the table can take, in a fixed order, so that a file with an extra empty
    # column hashes like one without it
    hash_parts = ", ".join(
        f"coalesce(CAST({_q(c)} AS VARCHAR), '\x01')" if c in present else "'\x01'" for c in targets(table)
    )
    given = f"{_q(key)}, " if key in present else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _centric_ranked AS
            SELECT *, row_number() OVER w AS __rn, first_value(__hash) OVER w AS __first_hash,
                   first_value(__row) OVER w AS __first_row
            FROM (SELECT *, coalesce({given}'h' || left(__hash, 16)) AS __key
                  FROM (SELECT *, md5(concat_ws('|', {hash_parts})) AS __hash FROM ({good})))
            WINDOW w AS (PARTITION BY __key ORDER BY __row)"""
    )
    return "SELECT * FROM _centric_ranked WHERE __rn = 1"


def _unchanged_customers(con, ids: list[str], attrs: list[str]) -> int:
    """Customer rows that would change nothing: every identity known, all of one customer, and every
    given attribute equal to what is stored."""
    known = " AND ".join(
        f"(v.{_q(k)} IS NULL OR EXISTS (SELECT 1 FROM identities x WHERE x.kind = '{k}' AND x.value = v.{_q(k)}))"
        for k in ids
    )
    owner = " OR ".join(f"(x.kind = '{k}' AND x.value = v.{_q(k)})" for k in ids)
    same = " AND ".join(f"(v.{_q(a)} IS NULL OR v.{_q(a)} IS NOT DISTINCT FROM c.{_q(a)})" for a in attrs) or "true"
    return con.execute(
        f"""SELECT count(*) FROM {VALID} v WHERE {known}
            AND (SELECT count(DISTINCT x.customer_id) FROM identities x WHERE {owner}) = 1
            AND EXISTS (SELECT 1 FROM customers c WHERE {same} AND c.customer_id =
                        (SELECT any_value(x.customer_id) FROM identities x WHERE {owner}))"""
    ).fetchall()[0][0]


def _write_customers(con, attrs: list[str], joins: str, customer: str, now: dt.datetime) -> None:
    """Apply the customers file's attributes (the last row per customer wins)."""
    if attrs:
        aggs = ", ".join(f"arg_max(v.{_q(a)}, v.__row) FILTER (WHERE v.{_q(a)} IS NOT NULL) AS {_q(a)}"
                         for a in attrs)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _centric_attrs AS SELECT {customer} AS customer_id, {aggs} "
                    f"FROM {VALID} v {joins} GROUP BY 1")
        sets = ", ".join(f"{_q(a)} = coalesce(a.{_q(a)}, customers.{_q(a)})" for a in attrs)
        con.execute(f"UPDATE customers SET {sets}, updated_at = ? FROM _centric_attrs a "
                    "WHERE customers.customer_id = a.customer_id", [now])


def _cleanup(con) -> None:
    con.execute(f"DROP VIEW IF EXISTS {VALID}")
    drop_stage(con)
    for t in (transform.TYPED, transform.ERRORS, "_centric_bad", "_centric_ranked", identity.IDS,
              identity.IDENTMAP, "_centric_remap", "_centric_attrs", "_centric_replaced", "_centric_orphans"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def rejected_summary(store: Store, run_id: int, limit: int = 10) -> list[dict[str, Any]]:
    t = store.table("rejected_rows")
    rows = (t.filter(t.run_id == run_id).order_by([t.row_number, t.column_name])
            .select("row_number", "column_name", "value", "reason").limit(limit).to_pyarrow().to_pylist())
    return [{"row": r["row_number"], "column": r["column_name"], "value": r["value"], "reason": r["reason"]}
            for r in rows]

