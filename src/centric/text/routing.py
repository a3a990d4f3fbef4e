"""Routing: the one factor a text is about, from the factor model's probabilities per sentence.

A long complaint names its subject in a few sentences and spends the rest on the procedure (dates,
calls, letters) or on feelings; a sentence whose best factor is below ``floor`` names none and does not
vote. Each voting sentence adds its probabilities to the factors' totals; the top factor is the one with
the largest total, when that total reaches ``threshold``.

>>> import numpy as np
>>> probs = np.array([[0.10, 0.05], [0.70, 0.20], [0.30, 0.60], [0.55, 0.10]])
>>> route(probs, ["cards", "loans"])
{'factor': 'cards', 'confidence': 0.7, 'sentences': [1, 3]}
>>> route(np.array([[0.2, 0.1]]), ["cards", "loans"]) is None
True
>>> for_matching("On XX/XX/XXXX XXXX XXXX charged {$25.00} to my card")
'On charged $25.00 to my card'
"""

from __future__ import annotations

import re

import numpy as np

# the masks of redacted complaints: XX/XX/XXXX dates, XXXX names and numbers, {$25.00} amounts
_MASK = re.compile(r"(?<!\w)X{2,}(?:[/-]X{2,})*(?!\w)")
_AMOUNT = re.compile(r"\{(\$?[\d.,]+)\}")


def for_matching(text: str) -> str:
    """``text`` as the factor model reads it: masks (``XXXX``, ``XX/XX/XXXX``) left out, ``{$25.00}`` as
    ``$25.00``; a text without masks is returned unchanged."""
    if "XX" not in text and "{" not in text:
        return text
    out = _AMOUNT.sub(r"\1", _MASK.sub(" ", text))
    return re.sub(r"\s+([,.;:!?)])", r"\1", re.sub(r"\s{2,}", " ", out)).strip()


def route(probs: np.ndarray, ids: list[str], floor: float = 0.45, threshold: float | None = None
          ) -> dict | None:
    """The top factor of a text from ``probs`` (sentences × factors, the factor model's probabilities):
    ``{"factor": id, "confidence": its best sentence's probability, "sentences": the sentences that
    name it}``, or None when no sentence names a factor (every probability below ``floor``).
    ``threshold``: the least total a factor needs (default ``floor``)."""
    probs = np.asarray(probs, dtype=float)
    if probs.size == 0:
        return None
    voting = probs.max(axis=1) >= floor
    if not voting.any():
        return None
    totals = probs[voting].sum(axis=0)
    best = int(np.argmax(totals))  # ties: the earlier factor of the taxonomy
    if totals[best] < (floor if threshold is None else threshold):
        return None
    named = [int(i) for i in np.flatnonzero(probs[:, best] >= floor)]
    return {"factor": ids[best], "confidence": round(float(probs[:, best].max()), 4), "sentences": named}
