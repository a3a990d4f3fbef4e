"""Suspicious feedback in the store, flagged with a reason and never deleted:

- ``near_duplicate``: the same text (after lower-casing and removing punctuation, digits and spacing)
  posted by more than one author;
- ``burst``: at least ``min_count`` reviews or posts about one brand from one source (the link's host,
  else the channel) within ``window_minutes``.

Per-text flags (extortion-like demands) come from the pipeline itself (``pipeline.flags``).
"""

from __future__ import annotations

from collections import defaultdict

from ..store import Store


def store_flags(store: Store, window_minutes: int = 60, min_count: int = 5) -> dict[str, list[dict[str, str]]]:
    """feedback_id → flags with reasons."""
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    dups = store.con.execute(
        r"""WITH n AS (
                SELECT feedback_id, coalesce(customer_id, author, url, feedback_id) AS who,
                       trim(regexp_replace(lower(regexp_replace(text, '[[:punct:][:digit:]]+', ' ', 'g')),
                                           '\s+', ' ', 'g')) AS norm
                FROM feedback WHERE length(text) >= 20)
            SELECT feedback_id, count(DISTINCT who) OVER (PARTITION BY norm) AS authors
            FROM n QUALIFY authors > 1""").fetchall()
    for fid, authors in dups:
        out[fid].append({"flag": "near_duplicate",
                         "reason": f"the same text was posted by {authors} different authors"})
    bursts = store.con.execute(
        f"""WITH f AS (
                SELECT feedback_id, brand, posted_at,
                       coalesce(regexp_extract(url, '^[a-z]+://([^/]+)', 1), channel, source) AS origin
                FROM feedback WHERE source IN ('review', 'social'))
            SELECT feedback_id, brand, origin,
                   count(*) OVER (PARTITION BY brand, origin ORDER BY posted_at
                                  RANGE BETWEEN INTERVAL {int(window_minutes)} MINUTE PRECEDING
                                  AND INTERVAL {int(window_minutes)} MINUTE FOLLOWING) AS nearby
            FROM f QUALIFY nearby >= {int(min_count)}""").fetchall()
    for fid, brand, origin, nearby in bursts:
        out[fid].append({"flag": "burst", "reason": f"{nearby} texts about {brand} from {origin} within "
                                                     f"{window_minutes} minutes of each other"})
    return dict(out)
