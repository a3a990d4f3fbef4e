"""Suspicious texts in the store, flagged with a reason and never deleted:

- ``near_duplicate``: the same or nearly the same text (at least 70% of its character 5-grams shared,
  after lower-casing and removing punctuation, digits and spacing; see ``neardup``) written by more than
  one author — feedback and survey comments alike — when it carries enough information to be more than
  a coincidence and the repetition looks like a campaign:

  * only texts of at least ``min_chars`` (40) characters and ``min_words`` (8) distinct words take part:
    short, common texts ("Great service.", "Fast delivery, thank you") repeat across honest authors;
  * the alike texts of different authors are flagged when they were written within ``window_days`` (14)
    of one another (texts chained by gaps of at most that many days count as one campaign; fake-review
    groups post within a short time window — Mukherjee, Liu & Glance, "Spotting fake reviewer groups in
    consumer reviews", WWW 2012), or whatever their dates when they have at least ``long_words`` (30)
    distinct words, as no two people write so much the same by chance;

- ``burst``: at least ``min_count`` reviews or posts about one brand from one source (the link's host,
  else the channel) within ``window_minutes``.

Per-text flags (extortion-like demands) come from the pipeline itself (``pipeline.flags``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence

from .. import settings
from ..store import Store
from .neardup import groups, normalize

FLAGS = ("near_duplicate", "burst", "extortion")
STORE_FLAGS = ("near_duplicate", "burst")  # raised over the store by ``centric analyze``, replaced on each run
# each flagged text once (a text analysed with several taxonomies carries the same flags)
_FLAGGED = ("SELECT source, text_id, max(flags) AS flags FROM text_analyses "
            "WHERE flags IS NOT NULL AND flags <> '[]' GROUP BY source, text_id")
# the texts compared for near-duplicates: (source, id, author, written at, text)
_TEXTS = ("SELECT 'feedback', feedback_id, coalesce(customer_id, author, url, feedback_id), posted_at, text "
          "FROM feedback WHERE length(text) >= ? "
          "UNION ALL SELECT 'responses', response_id, coalesce(customer_id, response_id), responded_at, comment "
          "FROM responses WHERE length(comment) >= ? ORDER BY 1, 2")


def near_duplicates(texts: Sequence[tuple[Hashable, Hashable, dt.datetime | None, str]], similarity: float = 0.7,
                    min_chars: int = 40, min_words: int | None = None, window_days: int | None = None,
                    long_words: int | None = None, alpha: float = 0.05) -> dict[Hashable, str]:
    """Key → reason of the near-duplicates among ``texts`` — (key, author, written at, text) — by the rule
    in this module's docstring; the three thresholds default to the settings ``duplicate_min_words``,
    ``duplicate_window_days`` and ``duplicate_long_words``. A text without a date is compared by its
    length only.

    >>> at = dt.datetime(2026, 3, 2)
    >>> texts = [(1, "ann", at, "Fast delivery, thank you very much!"), (2, "bob", at, "Fast delivery, thank you very much")]
    >>> near_duplicates(texts)  # a short, common text: not evidence of anything
    {}
    """
    min_words = settings.get_positive_int("duplicate_min_words", min_words)
    window = dt.timedelta(days=settings.get_positive_int("duplicate_window_days", window_days))
    long_words = settings.get_positive_int("duplicate_long_words", long_words)
    rows = []
    for key, who, at, text in texts:
        norm = normalize(text or "")
        words = len(set(norm.split()))
        if len(norm) >= min_chars and words >= min_words:
            rows.append((key, who, at, norm, words))
    out: dict[Hashable, str] = {}
    dates = [at for _, _, at, _ in texts if at is not None]  # the period the texts cover, all of them
    period = max(max(dates) - min(dates), _DAY) if dates else _DAY
    for group in groups([r[3] for r in rows], threshold=similarity):
        if len({rows[i][1] for i in group}) < 2:
            continue
        if all(rows[i][4] >= long_words for i in group):
            authors = len({rows[i][1] for i in group})
            alike = ("the same long text (" if len({rows[i][3] for i in group}) == 1 else
                     f"nearly the same long text (at least {similarity:.0%} alike, ")
            for i in group:
                out[rows[i][0]] = f"{alike}{long_words} distinct words or more) was posted by {authors} different authors"
            continue
        for members, expected in _campaigns([(rows[i][2], rows[i][1], i) for i in group], window, period,
                                            alpha / len(rows)):
            authors = len({rows[i][1] for i in members})
            days = max(1, math.ceil((rows[members[-1]][2] - rows[members[0]][2]) / _DAY))
            alike = "the same text" if len({rows[i][3] for i in members}) == 1 else \
                f"nearly the same text (at least {similarity:.0%} alike)"
            reason = (f"{alike} was posted by {authors} different authors within {days} day{'s' if days > 1 else ''}"
                      f" (at its rate over the whole period, {expected:.2g} would be expected)")
            for i in members:
                out[rows[i][0]] = reason
    return out


_DAY = dt.timedelta(days=1)


def _campaigns(members: list[tuple[dt.datetime | None, Hashable, int]], window: dt.timedelta, period: dt.timedelta,
               alpha: float) -> list[tuple[list[int], float]]:
    """The runs of alike texts that came too close together for chance: ``members`` are (written at,
    author, index) of one near-duplicate group. Each run of members within ``window`` of its first is
    judged against the group's own rate over ``period`` (a text that many people write anyway, spread
    over the year, is no campaign): with N authors in the group, a run of k authors over s days (at
    least one) is flagged when P(Poisson(N·s/period) ≥ k) ≤ ``alpha``. Overlapping flagged runs are
    joined; returns (indices in time order, the expected count of the largest run)."""
    from scipy.special import gammainc  # P(X ≥ k) of X ~ Poisson(λ) is the regularized gammainc(k, λ)

    dated = sorted((m for m in members if m[0] is not None), key=lambda m: m[0])
    rate = len({m[1] for m in members}) / (period / _DAY)
    runs: list[tuple[list[int], float]] = []
    for a in range(len(dated)):
        best = None
        for b in range(a + 1, len(dated)):
            span = dated[b][0] - dated[a][0]
            if span > window:
                break
            k = len({m[1] for m in dated[a:b + 1]})
            expected = rate * max(span / _DAY, 1.0)
            if k >= 2 and gammainc(k, expected) <= alpha:
                best = (b, expected)
        if best is None:
            continue
        idx = [m[2] for m in dated[a:best[0] + 1]]
        if runs and idx[0] in runs[-1][0]:  # overlaps the run before: one campaign
            joined = runs[-1][0] + [i for i in idx if i not in runs[-1][0]]
            runs[-1] = (joined, max(runs[-1][1], best[1]))
        else:
            runs.append((idx, best[1]))
    return runs


def store_flags(store: Store, window_minutes: int = 60, min_count: int = 5, similarity: float = 0.7,
                min_chars: int = 40) -> dict[tuple[str, str], list[dict[str, str]]]:
    """(source, text id) → flags with reasons; source is ``feedback`` or ``responses`` (survey comments)."""
    out: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    texts = [((src, tid), who, at, text) for src, tid, who, at, text in
             store.con.execute(_TEXTS, [min_chars, min_chars]).fetchall()]
    for key, reason in near_duplicates(texts, similarity=similarity, min_chars=min_chars).items():
        out[key].append({"flag": "near_duplicate", "reason": reason})
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
        out[("feedback", fid)].append({"flag": "burst", "reason": f"{nearby} texts about {brand} from {origin} within "
                                                                   f"{window_minutes} minutes of each other"})
    return dict(out)


def flagged(store: Store, flag: str | None = None, limit: int = 100, excerpt: int = 80) -> list[dict]:
    """The texts ``centric analyze`` flagged (all taxonomies, each text once), newest first: source,
    id, when, brand, author, flag, reason and the first ``excerpt`` characters of the text. Nothing is
    deleted; this only lists."""
    rows = store.execute(
        f"""WITH a AS ({_FLAGGED})
           SELECT a.source, a.text_id, coalesce(f.posted_at, r.responded_at) AS written_at, f.brand,
                  coalesce(f.author, f.customer_id, r.customer_id) AS who, a.flags,
                  coalesce(f.text, r.comment) AS text
           FROM a LEFT JOIN feedback f ON a.source = 'feedback' AND f.feedback_id = a.text_id
                  LEFT JOIN responses r ON a.source = 'responses' AND r.response_id = a.text_id""").fetchall()
    # newest first, then by source and id in Python's order of code points (a database's collation may differ)
    rows.sort(key=lambda r: (r[0], r[1]))
    rows.sort(key=lambda r: r[2] or dt.datetime.min, reverse=True)  # stable: the order above within a time
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
    a = store.table("text_analyses")
    a = a.filter(a.flags.notnull() & (a.flags != "[]"))
    flagged = a.group_by(["source", "text_id"]).aggregate(flags=a.flags.max()).execute()
    for raw in flagged["flags"]:
        for kind in {f.get("flag") for f in json.loads(raw)} & set(FLAGS):
            counts[kind] += 1
    return counts
