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
                          OR occurred_at - lag(occurred_at) OVER w > INTERVAL {int(gap_days * 24 * 60)} MINUTE
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
