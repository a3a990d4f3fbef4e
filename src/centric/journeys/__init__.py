"""Journeys drawn from the data: the customer journey map (``journey_map``) — stages × touchpoints with
volumes, conversion, times, scores, sentiment, open cases and quotes, pain points and moments of truth.
"""

from .charts import funnel_figure, map_figure
from .instances import instances_sql
from .map import Cell, JourneyMap, Quote, Stage, Touchpoint, journey_map

__all__ = ["journey_map", "JourneyMap", "Stage", "Cell", "Touchpoint", "Quote", "instances_sql",
           "funnel_figure", "map_figure"]
