"""Customers: purchase rhythm, lifetime value, alerts, churn reasons and loyalty phases.

- :func:`rfm_summary` turns orders into one row per customer (``frequency``, ``recency``, ``T``,
  ``monetary_value``), with the column names of lifetimes;
- :class:`BetaGeo` (BG/NBD), :class:`ModifiedBetaGeo` (MBG/NBD) and :class:`GammaGamma` fit by maximum
  likelihood on grouped statistics;
- :mod:`centric.customers.scoring` stores P(alive), expected purchases and CLV per customer and raises
  alerts; :mod:`centric.customers.loyalty` gives loyalty phases, RFM segments and churn reasons.
"""

from .models import MODEL_VERSION, BetaGeo, ConvergenceError, GammaGamma, ModifiedBetaGeo
from .rfm import calibration_table, rfm_summary

__all__ = ["MODEL_VERSION", "BetaGeo", "ConvergenceError", "GammaGamma", "ModifiedBetaGeo", "calibration_table",
           "rfm_summary"]
