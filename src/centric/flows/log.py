"""Event logs: one row per event with its case, its activity, its time (UTC) and its position in the
source, the tie-breaker for events of one case at the same time.

An :class:`EventLog` wraps an Ibis table with the columns ``case_id`` (text), ``activity`` (text),
``ts`` (timestamp, UTC, naive) and ``seq`` (integer: the row in the file, or any order that breaks ties).
Build one from a file (:func:`read_log`: CSV in any delimiter and encoding the ingest readers know,
Parquet, JSON), from any Ibis table (:func:`from_table`) or from the store's ``events`` of a journey
(:func:`journey_log`: a case is one customer's journey instance, cut where more than ``gap_days``
pass between two events, as in ``centric metrics``' journey statistics).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis

from ..errors import CentricError
from ..ingest.readers import STAGE, read_source
from ..ingest.transform import MACROS, timestamp_sql
from ..journeys.instances import numbered
from ..store import Store

CASE, ACTIVITY, TIME, SEQ = "case_id", "activity", "ts", "seq"
SHOW_REJECTED = 5  # rows listed in the rejection message


@dataclass(frozen=True)
class Rejected:
    """Rows left out of a log: their number, and the first few (row number, reason)."""

    count: int = 0
    first: list[tuple[int, str]] = field(default_factory=list)

    def message(self, source: str) -> str:
        rows = "; ".join(f"row {r}: {why}" for r, why in self.first)
        more = f"; … {self.count - len(self.first):,} more" if self.count > len(self.first) else ""
        noun = "row" if self.count == 1 else "rows"
        return f"{source}: {self.count:,} {noun} rejected ({rows}{more})"


@dataclass(frozen=True)
class EventLog:
    """An event log as an Ibis table (``case_id``, ``activity``, ``ts``, ``seq``) and what was rejected."""

    table: Any
    source: str = "events"
    rejected: Rejected = field(default_factory=Rejected)

    def filter_cases(self, cases: Any) -> EventLog:
        """The same log restricted to the cases in ``cases`` (an Ibis table with a ``case_id`` column)."""
        t = self.table
        keep = cases.select(CASE).distinct()
        return EventLog(t.semi_join(keep, t[CASE] == keep[CASE]), self.source, self.rejected)


def from_table(table: Any, case: str, activity: str, time: str, order: str | None = None,
               source: str = "table") -> EventLog:
    """An event log over any Ibis table: ``case``, ``activity`` and ``time`` name its columns; ``order``
    (optional) breaks ties between events of one case at the same time (without it, ties fall in the
    order of the activity names, so that the result is deterministic)."""
    missing = [c for c in (case, activity, time, order) if c and c not in table.columns]
    if missing:
        raise CentricError(f"{source}: no column {missing[0]!r}; the columns are {', '.join(table.columns)}")
    seq = table[order].cast("int64") if order else ibis.literal(0, "int64")
    t = table.select(**{CASE: table[case].cast("string"), ACTIVITY: table[activity].cast("string"),
                        TIME: table[time].cast("timestamp"), SEQ: seq})
    if not order:
        t = t.mutate(**{SEQ: ibis.row_number().over(order_by=[t[CASE], t[TIME], t[ACTIVITY]])})
    return EventLog(t, source)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_log(path: str | Path, case: str, activity: str, time: str, day_first: bool = True,
             con: duckdb.DuckDBPyConnection | None = None) -> EventLog:
    """Read an event log from a file (CSV/TSV in any delimiter and encoding, Parquet, JSON, Excel).

    Times are parsed like ``centric ingest`` parses them (ISO, ``31.12.2025 10:00``, with or without an
    offset; ``day_first`` decides ``01/02/2025``); times with an offset are converted to UTC, naive times
    are taken as UTC. A time that cannot be read stops the reading with the file, row and column named;
    rows with an empty case, activity or time, and rows the reader could not split, are left out and
    counted in ``rejected``.
    """
    source = str(path)
    con = con or duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    staged = read_source(con, str(path), {case, activity, time}, name=source)
    cols = staged.columns
    for c in (case, activity, time):
        if c not in cols:
            raise CentricError(f"{source}: no column {c!r}; the columns are {', '.join(cols)}")
    for m in MACROS:
        con.execute(m)
    c_, a_, t_ = _q(case), _q(activity), _q(time)
    ts = timestamp_sql(f"trim({t_})", day_first, "UTC")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _flows_raw AS
        SELECT __row, NULLIF(trim({c_}), '') AS c, NULLIF(trim({a_}), '') AS a, NULLIF(trim({t_}), '') AS t_raw,
               {ts} AS t
        FROM {STAGE}""")
    bad = con.execute("""SELECT __row, t_raw FROM _flows_raw
                         WHERE t_raw IS NOT NULL AND t IS NULL ORDER BY __row LIMIT 1""").fetchall()
    if bad:
        row, value = bad[0]
        raise CentricError(f"{source} row {row} column {time!r}: {value!r} is not a time "
                           "(use e.g. 2024-01-31 10:00:00, 2024-01-31T10:00:00+02:00 or 31.01.2024 10:00)")
    empty = con.execute("""SELECT __row, CASE WHEN c IS NULL THEN 'case' WHEN a IS NULL THEN 'activity'
                                  ELSE 'time' END
                           FROM _flows_raw WHERE c IS NULL OR a IS NULL OR t IS NULL ORDER BY __row""").fetchall()
    names = {"case": case, "activity": activity, "time": time}
    reasons = [(r.row, r.reason) for r in staged.rejects]
    reasons += [(int(r), f"empty {names[w]!r}") for r, w in empty]
    reasons.sort()
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _flows_log AS
        SELECT c AS {CASE}, a AS {ACTIVITY}, t AS {TIME}, CAST(__row AS BIGINT) AS {SEQ}
        FROM _flows_raw WHERE c IS NOT NULL AND a IS NOT NULL AND t IS NOT NULL""")
    con.execute("DROP TABLE _flows_raw")
    table = ibis.duckdb.from_connection(con).table("_flows_log")
    return EventLog(table, source, Rejected(len(reasons), reasons[:SHOW_REJECTED]))


def journey_log(store: Store, journey: str, gap_days: float = 14.0, start: dt.datetime | None = None,
                end: dt.datetime | None = None) -> EventLog:
    """The events of one journey as a log: a case is one customer's journey instance (``customer_id``
    and its instance number, joined by ``#``), cut where more than ``gap_days`` pass between two events
    (``metrics.journeys``' definition); an activity is a stage; events at the same time keep the order of
    their ``event_id``. ``start``/``end``: only the events in [start, end). The table also has
    ``customer_id``, to keep some customers' journeys (``log.table.filter(log.table.customer_id.isin(ids))``,
    e.g. a persona's most common paths with ``variants``)."""
    ev = store.table("events")
    known = ev.select("journey").distinct().execute()["journey"].tolist()
    if journey not in known:
        raise CentricError(f"--journey: no journey {journey!r} in events; "
                           f"the journeys are {', '.join(sorted(known)) or '(none)'}")
    # the order of events at one moment: their number over the customer's events of the journey, which orders
    # as their position in the instance does (without the instance's own window: one sort fewer)
    inst = numbered(store, gap_days, start, end, journey=journey)
    t = inst.select(**{CASE: inst.customer_id + "#" + inst.instance.cast("string"),
                       ACTIVITY: inst.stage.cast("string"), TIME: inst.occurred_at.cast("timestamp(6)"),
                       SEQ: inst._rn, "customer_id": inst.customer_id})
    return EventLog(t, f"events ({journey})")


@contextlib.contextmanager
def materialized(log: EventLog) -> Iterator[EventLog]:
    """``log`` computed once into a temporary table of its connection (dropped on exit), for running several
    analyses over a log whose definition is costly (a journey's instances).

    A read-only PostgreSQL session (the web app's readers) makes no table by default: there the block runs in a
    transaction of its own, opened ``READ WRITE`` for the temporary table (``ON COMMIT DROP``, the block's one
    write) and always rolled back, so nothing it did outlives it and the session stays read-only. A session
    already in a transaction gets ``log`` itself (computed again by each analysis: the same answers)."""
    from ..engines import kept_read_only, temp_tables

    backend = log.table._find_backend()
    if not temp_tables(backend):
        with kept_read_only(backend, log.table, "_flows_") as table:
            yield log if table is None else EventLog(table, log.source, log.rejected)
        return
    name = f"_flows_{uuid.uuid4().hex[:12]}"
    table = backend.create_table(name, log.table, temp=True)  # in the backend's own dialect
    try:
        yield EventLog(table, log.source, log.rejected)
    finally:
        backend.con.execute(f'DROP TABLE IF EXISTS "{name}"')  # valid on both (Ibis's drop_table misses DuckDB's temp tables)

