"""How customers feel, by factor and by segment: the share of their texts that show each of Plutchik's eight
emotions (``text_analyses.emotions``, present at p ≥ 0.5: :mod:`centric.text.emotions`), beside the share over
all texts of the selection.

- **By factor**: the texts that mention the factor (any sentiment), and of them the texts whose mention is
  negative — what the customers who raise delivery feel, and what those who complain about it feel.
- **By segment**: the texts of the customers of each segment, of the customers without one, and the texts
  without a known customer.

A text's emotions are the largest over its sentences (:mod:`centric.text.emotions`), so a factor's figures are
those of the texts that mention it, not of the sentence alone. Placeholder answers ("-", "nothing") carry no
emotions (``{}``) and are left out. The survey comments and feedback texts are those the factor analysis reads
(:mod:`centric.drivers.analysis`: the company's own notes — mystery shoppers, observations — are not customers'),
narrowed by the same filters. Every query goes through Ibis and runs on each engine.

>>> EMOTIONS[:3]
('anger', 'anticipation', 'disgust')
"""

from .analysis import EMOTIONS, Feelings, emotion_values, feelings

__all__ = ["EMOTIONS", "Feelings", "emotion_values", "feelings"]
