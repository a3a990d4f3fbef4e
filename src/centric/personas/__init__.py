"""Personas and empathy maps found in the data: segments of customers by what they do (orders, purchase
rhythm, channels, categories, journeys) and what they say (scores, factors, emotions), each described by
a card built from its rows, and the empathy map of a persona or a segment with every item traceable to
its evidence. See docs/personas.md."""

from .cards import Persona, Personas, personas
from .empathy import EmpathyMap, empathy_map, empathy_maps
from .features import Features, customer_features

__all__ = ["EmpathyMap", "Features", "Persona", "Personas", "customer_features", "empathy_map", "empathy_maps", "personas"]
