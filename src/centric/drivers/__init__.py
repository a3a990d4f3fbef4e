"""Decide: which factors matter (key-driver analysis), how each is perceived, how we compare with
competitors, and what to fix first (the action matrix). See ``analysis`` for the definitions."""

from .analysis import Drivers, competitors, drivers, emerging, importance, matrix, perception, quadrant, trend

__all__ = ["Drivers", "competitors", "drivers", "emerging", "importance", "matrix", "perception", "quadrant", "trend"]
