"""Everything the report's "Customers" section shows, gathered in one pass: CLV distribution, P(alive)
by recency and frequency, alerts, churn reasons, loyalty phases and flows, RFM segments.

It reads the latest stored scoring (``centric customers score``); a store that was never scored is
scored in memory, so the report never writes to the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CentricError
from ..store import Store
from . import loyalty, scoring
from .models import ConvergenceError

FREQ_BINS = ((0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 4, "3–4"), (5, 9, "5–9"), (10, 10**9, "10+"))
SILENT_BINS = ((0, 30, "0–30"), (31, 90, "31–90"), (91, 180, "91–180"), (181, 365, "181–365"), (366, 10**9, "366+"))


@dataclass
class Overview:
    scored_at: str
    stored: bool  # False: scored in memory for the report
    currency: str | None  # the currency of most customers (CLV is shown in it)
    customers: int
    likely_lost: int
    clv: np.ndarray  # CLV of the customers in ``currency``
    clv_total: float
    horizon_days: int
    heatmap: dict  # rows (frequency bins) × columns (days silent bins): mean P(alive) and n
    alerts: pd.DataFrame
    reasons: pd.DataFrame | None
    phases: pd.DataFrame | None
    flows: pd.DataFrame | None
    segments: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))
    model: str = "bgnbd"  # the purchase model of the scores: bgnbd or mbgnbd
    threshold: float = scoring.LOST_THRESHOLD
    selected: bool = False  # True: the model was chosen by likelihood among BG/NBD and MBG/NBD
    clv_by_currency: dict[str, float] = field(default_factory=dict)  # every currency's CLV total
    log_likelihoods: dict[str, float] = field(default_factory=dict)  # of each model fitted when it was chosen
    one_time: int = 0  # customers without a repeat purchase
    one_time_p_alive: float | None = None  # their mean P(alive) (1 under BG/NBD, which never lets them drop out)

    def to_frame(self) -> pd.DataFrame:
        """The key figures in one row (the tables are attributes: alerts, reasons, phases, flows)."""
        return pd.DataFrame([{"scored_at": self.scored_at, "stored": self.stored, "customers": self.customers,
                              "likely_lost": self.likely_lost, "clv_total": self.clv_total,
                              "currency": self.currency, "horizon_days": self.horizon_days,
                              "alerts": len(self.alerts)}])

    def _repr_html_(self) -> str:
        from ..metrics.results import html_table

        head = html_table(self.to_frame(), "Customers", f" (scored {self.scored_at})")
        return head + html_table(self.alerts.head(10), "Alerts (first 10)")


def _bin(values: np.ndarray, bins) -> np.ndarray:
    out = np.full(len(values), -1)
    for i, (lo, hi, _) in enumerate(bins):
        out[(values >= lo) & (values <= hi)] = i
    return out


def overview(store: Store, threshold: float = scoring.LOST_THRESHOLD, top: int = 15,
             period: str = "quarter") -> Overview | None:
    """None when there are no orders, or the models cannot be fitted yet. ``alerts`` holds the first
    ``top`` of each currency (value at risk is never compared across currencies)."""
    stored = bool(store.con.execute("SELECT count(*) FROM customer_scores").fetchall()[0][0])
    try:
        if stored:
            cur = scoring.latest(store)
            alerts = scoring.alerts(store, threshold=threshold)
        else:
            if scoring.orders_frame(store).empty:
                return None
            cur = scoring.score(store, write=False).scores
            alerts = scoring.with_contacts(store, scoring.alerts_from(cur, None, threshold=threshold))
    except (ConvergenceError, CentricError):
        return None
    try:
        lls = json.loads(str(cur["params"].iloc[0])).get("model_selection") or {}
    except ValueError:
        lls = {}
    selected = len(lls) > 1
    by_currency = {str(c): float(v) for c, v in cur.groupby(cur["currency"].fillna(""))["clv"].sum().items()}
    main = cur["currency"].mode()
    currency = str(main.iloc[0]) if len(main) else None
    in_cur = cur[cur["currency"] == currency] if currency else cur
    silent = (cur["age_days"] - cur["recency_days"]).to_numpy()
    fb, sb = _bin(cur["frequency"].to_numpy(), FREQ_BINS), _bin(silent, SILENT_BINS)
    mean = np.full((len(FREQ_BINS), len(SILENT_BINS)), np.nan)
    count = np.zeros((len(FREQ_BINS), len(SILENT_BINS)), dtype=int)
    p = cur["p_alive"].to_numpy()
    for i in range(len(FREQ_BINS)):
        for j in range(len(SILENT_BINS)):
            m = (fb == i) & (sb == j)
            count[i, j] = int(m.sum())
            if count[i, j]:
                mean[i, j] = float(p[m].mean())
    heat = {"rows": [b[2] for b in FREQ_BINS], "cols": [b[2] for b in SILENT_BINS], "mean": mean, "n": count}
    has_mentions = store.con.execute("SELECT count(*) FROM mentions").fetchall()[0][0] > 0
    reasons = None
    if has_mentions and stored:
        reasons = loyalty.churn_reasons(store, threshold=threshold)
    try:
        phases, flows = loyalty.loyalty_phases(store, period=period, threshold=threshold)
    except (ConvergenceError, CentricError):
        phases = flows = None
    summary = pd.DataFrame({"frequency": cur["frequency"].to_numpy(), "recency": cur["recency_days"].to_numpy(),
                            "T": cur["age_days"].to_numpy(), "monetary_value": cur["monetary_value"].to_numpy()})
    segments = loyalty.rfm_segments(summary, p, threshold)["segment"].value_counts()
    once = cur["frequency"].to_numpy() == 0
    return Overview(str(cur["scored_at"].iloc[0]), stored, currency, len(cur), int((p < threshold).sum()),
                    in_cur["clv"].to_numpy(), float(in_cur["clv"].sum()), int(cur["horizon_days"].iloc[0]),
                    heat, scoring.top_per_currency(alerts, top), reasons, phases, flows, segments,
                    str(cur["model"].iloc[0]).split("+")[0], threshold, selected,
                    dict(sorted(by_currency.items(), key=lambda kv: (kv[0] != currency, kv[0]))),
                    {str(k): float(v) for k, v in lls.items()} if selected else {}, int(once.sum()),
                    float(p[once].mean()) if once.any() else None)
