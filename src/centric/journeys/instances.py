"""Journey instances: a customer's events in one journey cut into *instances* (one purchase, one
service request) where more than ``gap_days`` pass between two events. Shared by the journey
statistics (``centric.metrics.journeys``) and the journey map (``centric.journeys.map``).

The query is plain SQL with window functions (lag, a running sum, row_number), so PostgreSQL and
Spark can run it too; events at the same moment keep the order of their ids.
"""

from __future__ import annotations

import datetime as dt


def instances_sql(gap_days: float, start: dt.datetime | None = None, end: dt.datetime | None = None) -> str:
    """Every event with a customer in [start, end), with its ``instance`` number (per customer and
    journey, from 1), its position ``pos`` in the instance and the instance's ``started_at``."""
    where = ["customer_id IS NOT NULL"]
    if start is not None:
        where.append(f"occurred_at >= TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'")
    if end is not None:
        where.append(f"occurred_at < TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'")
    return f"""
        WITH e AS (
            SELECT event_id, customer_id, journey, stage, touchpoint, channel, occurred_at,
                   CASE WHEN lag(occurred_at) OVER w IS NULL
                          OR occurred_at - lag(occurred_at) OVER w > INTERVAL '{int(gap_days * 24 * 60)}' MINUTE
                        THEN 1 ELSE 0 END AS starts
            FROM events WHERE {' AND '.join(where)}
            WINDOW w AS (PARTITION BY customer_id, journey ORDER BY occurred_at, event_id)),
        i AS (
            SELECT *, sum(starts) OVER (PARTITION BY customer_id, journey ORDER BY occurred_at, event_id
                                        ROWS UNBOUNDED PRECEDING) AS instance
            FROM e)
        SELECT event_id, customer_id, journey, instance, stage, touchpoint, channel, occurred_at,
               row_number() OVER (PARTITION BY customer_id, journey, instance ORDER BY occurred_at, event_id) AS pos,
               min(occurred_at) OVER (PARTITION BY customer_id, journey, instance) AS started_at
        FROM i"""


def instances(store, gap_days: float, start: dt.datetime | None = None, end: dt.datetime | None = None,
              journey: str | None = None):
    """``instances_sql`` as an Ibis expression over the store's ``events`` (of one ``journey`` if given), for
    the engines whose Ibis backend cannot wrap raw SQL in a read-only session (PostgreSQL): the same rows,
    ``event_id``, ``customer_id``, ``journey``, ``instance``, ``stage``, ``touchpoint``, ``channel``,
    ``occurred_at``, ``pos`` and ``started_at``. A gap is more than ``gap_days`` (in whole minutes, as in
    ``instances_sql``) between two events; events at the same moment keep the order of their ids (by their
    UTF-8 bytes on PostgreSQL, whatever the database's collation, as DuckDB orders text)."""
    import ibis

    i = numbered(store, gap_days, start, end, journey)
    part = [i.customer_id, i.journey, i.instance]
    return i.select("event_id", "customer_id", "journey", "instance", "stage", "touchpoint", "channel", "occurred_at",
                    pos=ibis.row_number().over(group_by=part, order_by=[i.occurred_at, i._tie]) + 1,
                    started_at=i.occurred_at.min().over(group_by=part))


def numbered(store, gap_days: float, start: dt.datetime | None = None, end: dt.datetime | None = None,
             journey: str | None = None):
    """The events of :func:`instances` with their ``instance`` and, instead of ``pos`` and ``started_at``,
    ``_tie`` (what orders events at the same moment) and ``_rn`` (1, 2, … over all the customer's events of
    the journey, in the order of (``occurred_at``, ``_tie``): within an instance it orders as ``pos``). Every
    window here has the same partition and order — on PostgreSQL one sort of the events."""
    import ibis

    e = store.table("events")
    keep = [e.customer_id.notnull()]
    if journey is not None:
        keep.append(e.journey == journey)
    if start is not None:
        keep.append(e.occurred_at >= start)
    if end is not None:
        keep.append(e.occurred_at < end)
    e = e.filter(*keep)
    tie = e.event_id
    if getattr(store, "engine", "duckdb") == "postgresql":
        tie = _utf8_bytes(e.event_id, "UTF8")
    e = e.mutate(_tie=tie)  # a column of its own, which every window orders by
    # of one journey: by customer only (PostgreSQL, knowing the journey constant below the first window only,
    # would sort again for the second)
    by = ["customer_id"] if journey is not None else ["customer_id", "journey"]
    w = ibis.window(group_by=[e[c] for c in by], order_by=[e.occurred_at, e._tie])
    prev = e.occurred_at.lag().over(w)
    gap = ibis.interval(minutes=int(gap_days * 24 * 60))
    s = e.mutate(_starts=ibis.ifelse(prev.isnull() | (e.occurred_at > prev + gap), 1, 0),
                 _rn=ibis.row_number().over(w).cast("int64") + 1)
    run = ibis.cumulative_window(group_by=[s[c] for c in by], order_by=[s.occurred_at, s._tie])
    return s.mutate(instance=s._starts.sum().over(run).cast("int64"))


def _utf8_bytes(text, encoding):
    """PostgreSQL's ``convert_to(text, 'UTF8')``: the text's bytes, which sort as DuckDB sorts text."""
    import ibis

    @ibis.udf.scalar.builtin(name="convert_to")
    def convert_to(s: str, enc: str) -> bytes: ...

    return convert_to(text, encoding)
