"""Decide: which factors matter (key-driver analysis), how each is perceived, how we compare with
competitors, and what to fix first (the action matrix). See ``analysis`` for the definitions."""

from .analysis import (
    OUTCOMES,
    Drivers,
    competitors,
    drivers,
    emerging,
    importance,
    matrix,
    outcome_counts,
    perception,
    quadrant,
    trend,
)

__all__ = ["OUTCOMES", "Drivers", "competitors", "drivers", "emerging", "importance", "matrix", "outcome_counts",
           "perception", "quadrant", "trend"]
