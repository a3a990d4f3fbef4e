"""Employee NPS and pulse surveys: invitations to the employees of chosen units, answers that cannot be
joined back to the person, and results hidden below a reporting threshold, set next to the same units'
customer scores. See docs/enps.md.
"""

from __future__ import annotations

from .analysis import (
    Comparison,
    Correlation,
    EnpsBreakdown,
    Overview,
    Pulse,
    analyze,
    comments,
    compare,
    correlation,
    enps,
    figure_trend,
    figure_units,
    hide,
    overview,
    pulse,
    themes,
    threshold,
)
from .answers import record, record_many
from .invitations import issue, period_bounds, period_of, plan
from .privacy import forget_employee
from .units import DepartmentComparison, UnitThemes, compare_departments, themes_by

__all__ = ["Comparison", "Correlation", "DepartmentComparison", "EnpsBreakdown", "UnitThemes", "compare_departments",
           "themes_by", "Overview", "Pulse", "analyze", "compare", "comments",
           "correlation", "enps", "figure_trend", "figure_units", "forget_employee", "hide", "issue", "overview",
           "period_bounds", "period_of", "plan", "pulse", "record", "record_many", "themes", "threshold"]
