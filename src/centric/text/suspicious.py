"""Suspicious feedback in the store, flagged with a reason and never deleted:

- ``near_duplicate``: the same or nearly the same text (at least 70% of its character 5-grams shared,
  after lower-casing and removing punctuation, digits and spacing; see ``neardup``) posted by more than
  one author; texts shorter than 40 characters are left alone, as short praise or blame ("Great TV!")
  coincides naturally;
- ``burst``: at least ``min_count`` reviews or posts about one brand from one source (the link's host,
  else the channel) within ``window_minutes``.

Per-text flags (extortion-like demands) come from the pipeline itself (``pipeline.flags``).
"""

from __future__ import annotations

import json
from collections import defaultdict

from ..store import Store
from .neardup import groups, normalize

FLAGS = ("near_duplicate", "burst", "extortion")
# each flagged text once (a text analysed with several taxonomies carries the same flags)
_FLAGGED = ("SELECT source, text_id, any_value(flags) AS flags FROM text_analyses "
            "WHERE flags IS NOT NULL AND flags <> '[]' GROUP BY source, text_id")


def store_flags(store: Store, window_minutes: int = 60, min_count: int = 5, similarity: float = 0.7,
                min_chars: int = 40) -> dict[str, list[dict[str, str]]]:
    """feedback_id → flags with reasons."""
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    rows = [(fid, who, norm) for fid, who, text in store.con.execute(
        "SELECT feedback_id, coalesce(customer_id, author, url, feedback_id), text FROM feedback "
        "WHERE length(text) >= ? ORDER BY feedback_id", [min_chars]).fetchall()
        if len(norm := normalize(text)) >= min_chars]
    for group in groups([norm for _, _, norm in rows], threshold=similarity):
        authors = len({rows[i][1] for i in group})
        if authors < 2:
            continue
        same = len({rows[i][2] for i in group}) == 1
        reason = (f"the same text was posted by {authors} different authors" if same else
                  f"nearly the same text (at least {similarity:.0%} alike) was posted by {authors} different authors")
        for i in group:
            out[rows[i][0]].append({"flag": "near_duplicate", "reason": reason})
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


def flagged(store: Store, flag: str | None = None, limit: int = 100, excerpt: int = 80) -> list[dict]:
    """The texts ``centric analyze`` flagged (all taxonomies, each text once), newest first: source,
    id, when, brand, author, flag, reason and the first ``excerpt`` characters of the text. Nothing is
    deleted; this only lists."""
    rows = store.con.execute(
        f"""WITH a AS ({_FLAGGED})
           SELECT a.source, a.text_id, coalesce(f.posted_at, r.responded_at) AS written_at, f.brand,
                  coalesce(f.author, f.customer_id, r.customer_id) AS who, a.flags,
                  coalesce(f.text, r.comment) AS text
           FROM a LEFT JOIN feedback f ON a.source = 'feedback' AND f.feedback_id = a.text_id
                  LEFT JOIN responses r ON a.source = 'responses' AND r.response_id = a.text_id
           ORDER BY written_at DESC NULLS LAST, a.source, a.text_id""").fetchall()
    out = []
    for source, tid, at, brand, who, flags, text in rows:
        for f in json.loads(flags):
            if f.get("flag") not in FLAGS or (flag and f.get("flag") != flag):  # placeholders are not suspicious
                continue
            t = " ".join((text or "").split())
            out.append({"source": source, "id": tid, "at": at.isoformat(sep=" ") if at else None, "brand": brand,
                        "author": who, "flag": f.get("flag"), "reason": f.get("reason"),
                        "excerpt": t if len(t) <= excerpt else t[:excerpt - 1] + "…"})
            if len(out) >= limit:
                return out
    return out


def flag_counts(store: Store) -> dict[str, int]:
    """How many texts carry each flag."""
    counts = dict.fromkeys(FLAGS, 0)
    for _, _, raw in store.con.execute(_FLAGGED).fetchall():
        for kind in {f.get("flag") for f in json.loads(raw)} & set(FLAGS):
            counts[kind] += 1
    return counts
