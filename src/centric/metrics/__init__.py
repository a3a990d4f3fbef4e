"""Measure: every metric with its uncertainty, over time and by segment — pure functions over the
store's tables that run inside the database (Ibis/DuckDB) and return small result objects.

>>> from centric import Store
>>> from centric.metrics import nps
>>> with Store.open(":memory:") as s:
...     nps(s).rows[0][1].no_data
True
"""

from .cases import CaseMetrics, case_metrics
from .churn import ChurnPoint, churn
from .complaints import ComplaintReport, ComplaintStats, case_durations, complaints
from .journeys import JourneyStats, journeys
from .results import Breakdown, Change, Score
from .survey import breakdown, breakdowns, ces, csat, nps, score

__all__ = ["Breakdown", "CaseMetrics", "Change", "ChurnPoint", "ComplaintReport", "ComplaintStats", "JourneyStats", "Score",
           "breakdown", "breakdowns", "case_durations", "case_metrics", "ces", "churn", "complaints", "csat", "journeys", "nps", "score"]
