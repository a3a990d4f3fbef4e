"""Inter-shopper calibration: the same store scored by two shoppers within a window of days.

For each such pair of visits (same template, different shoppers, at most ``window_days`` apart) the items both
answered are compared: **percent agreement** (share of items with the same answer) and **Cohen's kappa** over
the three answers yes / no / n.a., ``κ = (p_o − p_e) / (1 − p_e)`` with ``p_e = Σ_k p₁(k)·p₂(k)`` from each
shopper's own answer shares (undefined when both gave one and the same answer throughout). The two scores'
difference is shown too. A pair is **flagged** when the scores differ by more than ``max_diff`` points (15) or
the shoppers agree on fewer than ``min_agreement`` of the items (80%): they read the checklist differently and
need calibrating. κ is shown, not used to flag: when nearly every item passes, two shoppers who differ on one item
get a κ near 0 despite 90% agreement (the "kappa paradox"), which says little about a checklist that mostly
passes.

>>> kappa(["yes", "yes", "no", "no"], ["yes", "no", "no", "no"])
0.5
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..store import Store

__all__ = ["Calibration", "agreement", "calibration", "kappa"]

MAX_DIFF = 15.0
MIN_AGREEMENT = 0.8
WINDOW_DAYS = 14


def agreement(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Share of positions where ``a`` and ``b`` agree (None for none)."""
    if len(a) != len(b):
        raise ValueError("the two answer lists differ in length")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if len(a) else None


def kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' answers to the same items (None when undefined)."""
    n = len(a)
    po = agreement(a, b)
    if po is None:
        return None
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if pe >= 1:
        return None
    return (po - pe) / (1 - pe)


@dataclass(frozen=True)
class Calibration:
    """``pairs``: one row per pair of visits (store, template_id, visit_a, shopper_a, visit_b, shopper_b, days
    apart, items compared, agreement, kappa, score_a, score_b, diff, flagged)."""

    pairs: pd.DataFrame
    window_days: int
    max_diff: float
    min_agreement: float

    def to_frame(self) -> pd.DataFrame:
        return self.pairs.copy()

    @property
    def flagged(self) -> int:
        return int(self.pairs["flagged"].sum()) if len(self.pairs) else 0


COLUMNS = ["store", "template_id", "visit_a", "shopper_a", "visited_a", "visit_b", "shopper_b", "visited_b", "days",
           "items", "agreement", "kappa", "score_a", "score_b", "diff", "flagged"]


def calibration(store: Store, window_days: int = WINDOW_DAYS, max_diff: float = MAX_DIFF,
                min_agreement: float = MIN_AGREEMENT) -> Calibration:
    """Every pair of visits to one store by two shoppers at most ``window_days`` apart (see the module)."""
    t = store.table("mystery_visits")
    v = t.filter(t.shopper.notnull()).select("visit_id", "store", "template_id", "shopper", "visited_at",
                                               "score").execute()
    # sorted in pandas (by code points, as DuckDB orders text by its bytes), whatever the database's collation
    v = v.sort_values(["store", "visited_at", "visit_id"], kind="stable").reset_index(drop=True)
    rows = []
    if len(v):
        a = store.table("mystery_answers").select("visit_id", "item_id", "answer").execute()
        answers = {k: dict(zip(g["item_id"], g["answer"], strict=True)) for k, g in a.groupby("visit_id")}
        for (_s, _t), g in v.groupby(["store", "template_id"], sort=True):
            recs = g.to_dict(orient="records")
            for i, x in enumerate(recs):
                for y in recs[i + 1:]:
                    days = (y["visited_at"] - x["visited_at"]).total_seconds() / 86400
                    if days > window_days:
                        break
                    if x["shopper"] == y["shopper"]:
                        continue
                    ax, ay = answers.get(x["visit_id"], {}), answers.get(y["visit_id"], {})
                    common = sorted(set(ax) & set(ay))
                    la, lb = [ax[k] for k in common], [ay[k] for k in common]
                    ag, kp = agreement(la, lb), kappa(la, lb)
                    diff = None if pd.isna(x["score"]) or pd.isna(y["score"]) else float(y["score"] - x["score"])
                    flagged = (diff is not None and abs(diff) > max_diff) or (ag is not None and ag < min_agreement)
                    rows.append({"store": x["store"], "template_id": x["template_id"], "visit_a": x["visit_id"],
                                 "shopper_a": x["shopper"], "visited_a": x["visited_at"], "visit_b": y["visit_id"],
                                 "shopper_b": y["shopper"], "visited_b": y["visited_at"], "days": round(days, 1),
                                 "items": len(common), "agreement": ag, "kappa": kp, "score_a": x["score"],
                                 "score_b": y["score"], "diff": diff, "flagged": bool(flagged)})
    return Calibration(pd.DataFrame(rows, columns=COLUMNS), window_days, max_diff, min_agreement)
