"""Understand: offline multilingual text analytics as a pipeline of swappable stages.

language → sentences → factors (per sentence or clause) → sentiment per factor → overall sentiment.
Every stage is an object with a small interface and a default that runs offline from pip packages
(no model is fetched at run time). See ``pipeline.analyze``.
"""

from .pipeline import Analyzer, TextResult, analyze
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["Analyzer", "TextResult", "Taxonomy", "analyze", "load_taxonomy"]
