"""The 5-whys tree of a drop: a metric that fell for a segment from one period to the next.

The root is the drop itself — the metric in the earlier period and in the period asked about, over every answer
of the segment, with the change's 95% interval and p-value (``centric.metrics.stats.change``). One level down,
the factors: among the segment's answers with an analysed comment, the share that blames each factor (a negative
mention) in the period, against the same share in the earlier period (``baseline``), with the Wilson interval, a
one-sided two-proportion test (did the blame grow?) and the p-values of all factors corrected together by Holm's
method. Each factor's *impact* is the growth of its share times the gap in score points between the answers that
blame it and those that do not (in the period): about how many points of the metric the growth cost. Factors are
shown by impact, largest first.

Under each factor whose blame grew significantly (at most ``expand``), the rest of the tree is the factor's own
5-whys tree (``centric.whys.tree.whys``) over the segment's texts of the period: what customers say → where in the
journey → which department → the root causes recorded; its p-values are corrected within that factor's branch.

>>> previous_period("2026-Q1"), previous_period("2026-07"), previous_period("2026")
('2025-Q4', '2026-06', '2025')
"""

from __future__ import annotations

import math
import re

from ..errors import CentricError
from ..metrics import stats
from ..metrics.filters import Where, describe
from ..store import Store
from .tree import Node, WhysTree, period_bounds, whys

METRICS = ("nps", "csat", "ces")


def previous_period(period: str) -> str:
    """The period just before ``period``, of the same kind (a year, a quarter or a month)."""
    period_bounds(period)  # checks the label
    p = period.strip().upper()
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", p):
        y, q = int(m.group(1)), int(m.group(2))
        return f"{y - 1}-Q4" if q == 1 else f"{y}-Q{q - 1}"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", p):
        y, mo = int(m.group(1)), int(m.group(2))
        return f"{y - 1}-12" if mo == 1 else f"{y}-{mo - 1:02d}"
    return str(int(p) - 1)


def _relabel(node: Node, prefix: str) -> Node:
    """``node`` and its subtree with ids under ``prefix`` (the factor tree's own ids start at its root "0")."""
    node.id = prefix + node.id[1:]
    for c in node.children:
        _relabel(c, prefix)
    return node


def whys_drop(store: Store, metric: str, period: str, where: Where = None, compare: str | None = None,
              taxonomy: str | None = None, expand: int = 3, alpha: float = 0.05, names: dict[str, str] | None = None,
              **tree_options) -> WhysTree:
    """Why did ``metric`` (nps, csat or ces) fall for the answers ``where`` keeps (a segment: ``{"segment":
    ["vip"]}``) from ``compare`` (default: the period before) to ``period``? ``tree_options`` go to each factor's
    tree (``k``, ``embedder``, ``min_cases``, ``min_share`` …). Raises CentricError when either period has no
    answer or no analysed comment."""
    from ..drivers.analysis import OURS, answers_frame, features, mentions_frame, score_points
    from ..metrics.survey import score

    metric = metric.lower()
    if metric not in METRICS:
        raise CentricError(f"--metric {metric!r}: use one of {', '.join(METRICS)}")
    compare = compare or previous_period(period)
    start_b, end_b = period_bounds(period)
    start_a, end_a = period_bounds(compare)
    if start_a >= start_b:
        raise CentricError(f"--compare {compare!r} must come before --period {period!r}")
    segment = describe(where) if where else "all answers"
    a, b = score(store, metric, start_a, end_a, where), score(store, metric, start_b, end_b, where)
    for label, s in ((compare, a), (period, b)):
        if s.value is None:
            raise CentricError(f"no {metric.upper()} answer in {label} ({segment})")
    change = stats.change(metric, a, b, compare, period)
    names = names or {}
    unit = "" if metric == "nps" else "%"
    label = (f"{metric.upper()} {a.value:+.1f}{unit} → {b.value:+.1f}{unit} ({compare} → {period}; {segment})"
             if metric == "nps" else
             f"{metric.upper()} {a.value:.1f}{unit} → {b.value:.1f}{unit} ({compare} → {period}; {segment})")
    root = Node("0", "drop", label, metric, b.n, p=change.p_value if change else None,
                significant=bool(change and change.significant and change.delta < 0))
    settings = {"metric": metric, "period": period, "compare": compare, "where": where or {}, "taxonomy": taxonomy,
                "expand": expand, "alpha": alpha, "before": {"value": a.value, "n": a.n, "low": a.low, "high": a.high},
                "after": {"value": b.value, "n": b.n, "low": b.low, "high": b.high},
                "change": None if change is None else {"delta": change.delta, "p": change.p_value, "low": None, "high": None}}
    if change is not None:
        se = math.sqrt((a.se or 0) ** 2 + (b.se or 0) ** 2)
        settings["change"].update(low=change.delta - stats.Z95 * se, high=change.delta + stats.Z95 * se)
    notes = []
    if change is not None and change.delta >= 0:
        notes.append(f"{metric.upper()} did not fall ({change.delta:+.1f}); the factors below are those blamed more "
                     "often all the same")

    # the factors: the share of the segment's analysed answers blaming each, then and now
    ans_a = answers_frame(store, OURS, metric, taxonomy, where, start_a, end_a)
    ans_b = answers_frame(store, OURS, metric, taxonomy, where, start_b, end_b)
    if not len(ans_b) or not len(ans_a):
        raise CentricError(f"no analysed {metric.upper()} comment in {compare if not len(ans_a) else period} "
                           f"({segment}): run centric analyze first")
    m_a = mentions_frame(store, taxonomy, where, start_a, end_a)
    m_b = mentions_frame(store, taxonomy, where, start_b, end_b)
    factors = sorted(set(m_b.loc[m_b["sentiment"] == "negative", "factor"]))
    xa, xb = features(ans_a, m_a, factors), features(ans_b, m_b, factors)
    pts = score_points(ans_b["y"].to_numpy(dtype=float), metric)
    tests, rows = [], []
    for i, f in enumerate(factors):
        blamed_a, blamed_b = xa[:, 2 * i + 1] > 0, xb[:, 2 * i + 1] > 0
        k_a, k_b = int(blamed_a.sum()), int(blamed_b.sum())
        n_a, n_b = len(ans_a), len(ans_b)
        gap = float(pts[blamed_b].mean() - pts[~blamed_b].mean()) if 0 < k_b < n_b else 0.0
        impact = (k_b / n_b - k_a / n_a) * gap
        node = Node("", "factor", names.get(f, f), f, k_b, share=100.0 * k_b / n_b, baseline=100.0 * k_a / n_a,
                    evidence={"texts": sorted(f"responses:{t}" for t in ans_b["text_id"][blamed_b])[:50]})
        node.low, node.high = stats.wilson(k_b, n_b)
        z, p2 = stats.two_proportions(k_b, n_b, k_a, n_a)
        tests.append(p2 / 2 if z > 0 else 1 - p2 / 2)
        rows.append((impact, gap, node))
    for (impact, _gap, node), q in zip(rows, stats.adjust_p(tests, "holm"), strict=True):
        node.p = q
        node.significant = bool(q < alpha and node.share > node.baseline)
        node.impact = impact
    rows.sort(key=lambda r: (r[0], r[2].key))  # the most negative impact first
    expanded = 0
    for j, (impact, _gap, node) in enumerate(rows):
        node.id = f"0.{j}"
        if node.significant and impact < 0 and expanded < expand:
            try:
                sub = whys(store, node.key, start_b, end_b, taxonomy=taxonomy, where=where, names=names,
                           alpha=alpha, **tree_options)
            except CentricError as e:
                notes.append(f"{node.key}: {e}")
            else:
                node.children = [_relabel(c, node.id) for c in sub.root.children]
                node.other = sub.root.other
                node.quotes = sub.root.quotes
                expanded += 1
        if not node.children:
            node.verdict = "open" if node.significant and impact < 0 else "expected"
        root.children.append(node)
    if not expanded:
        notes.append("no factor was blamed significantly more often: the drop is not explained by what the "
                     "segment's comments say (too few comments, or a cause they do not name)")
    return WhysTree(metric, root, start_b, end_b, settings, notes)


__all__ = ["METRICS", "previous_period", "whys_drop"]
