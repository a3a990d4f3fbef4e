"""Routing: the one factor a text is about (``top_factor``), from the factor model's probabilities per
sentence and the words the taxonomy's own phrases use.

A long complaint names its subject in a few sentences and spends the rest on the procedure (dates,
calls, letters) or on feelings. Two kinds of evidence are weighed equally:

- **sentences**: a sentence whose best factor probability is below ``floor`` names no factor and does
  not vote; each voting sentence adds its probabilities to the factors' totals, and the totals are
  taken as shares (so a long text weighs as much as a short one);
- **words**: TF-IDF cosine of the text against each factor's names and example phrases (words of three
  letters or more and word pairs; English stop words left out), as shares too. A sentence embedding of a long, many-sided
  sentence dilutes the one word that names the product ("my student loan servicer …"); the words do not.

The top factor is the one with the largest sum of both shares; a text with neither a voting sentence nor
a word of any factor's phrases gets none (``I am writing to complain about this.``). On the CFPB complaint
narratives, with a taxonomy of four or five phrases per product, see ``benchmarks/own_factors.py``.

>>> import numpy as np
>>> probs = np.array([[0.10, 0.05], [0.70, 0.20], [0.20, 0.60], [0.55, 0.10]])
>>> route(probs, ["cards", "loans"])
{'factor': 'cards', 'confidence': 0.7, 'score': 0.617, 'sentences': [1, 3]}
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
FLOOR = 0.3  # the least probability with which a sentence votes (routing accuracy on the looked-at half
# of the CFPB narratives: 0.3 → 73.5%, 0.45 → 64.7%, 0.6 → 49.8%, sentences only)


def for_matching(text: str) -> str:
    """``text`` as the factor model reads it: masks (``XXXX``, ``XX/XX/XXXX``) left out, ``{$25.00}`` as
    ``$25.00``; a text without masks is returned unchanged."""
    if "XX" not in text and "{" not in text:
        return text
    out = _AMOUNT.sub(r"\1", _MASK.sub(" ", text))
    return re.sub(r"\s+([,.;:!?)])", r"\1", re.sub(r"\s{2,}", " ", out)).strip()


def _shares(x: np.ndarray) -> np.ndarray:
    s = float(x.sum())
    return x / s if s > 0 else np.zeros_like(x)


def route(probs: np.ndarray, ids: list[str], words: np.ndarray | None = None, floor: float = FLOOR,
          weight: float = 1.0) -> dict | None:
    """The top factor of a text from ``probs`` (sentences × factors: the factor model's probabilities)
    and ``words`` (per factor: the text's TF-IDF cosine to the factor's phrases; none by default):
    ``{"factor": id, "confidence": its best sentence's probability, "score": its share of the evidence
    (0–1), "sentences": the sentences that vote for it above all other factors}``, or None when no
    sentence reaches ``floor`` and no word is shared. ``weight``: the words' weight against the
    sentences'."""
    probs = np.asarray(probs, dtype=float).reshape(-1, len(ids))
    voting = probs.max(axis=1) >= floor if len(probs) else np.zeros(0, dtype=bool)
    total = _shares(probs[voting].sum(axis=0)) if voting.any() else np.zeros(len(ids))
    lexical = _shares(np.asarray(words, dtype=float)) if words is not None else np.zeros(len(ids))
    evidence = total + weight * lexical
    if evidence.max() <= 0:
        return None
    best = int(np.argmax(evidence))  # ties: the earlier factor of the taxonomy
    named = [int(i) for i in np.flatnonzero(voting & (probs.argmax(axis=1) == best))] if len(probs) else []
    return {"factor": ids[best], "confidence": round(float(probs[:, best].max()) if len(probs) else 0.0, 4),
            "score": round(float(evidence[best] / evidence.sum()), 4), "sentences": named}


class Router:
    """``fit(taxonomy)`` → ``route(probs, text)``: ``route`` with the words of the taxonomy's phrases."""

    def __init__(self, floor: float = FLOOR, weight: float = 1.0):
        self.floor = floor
        self.weight = weight

    def fit(self, taxonomy) -> Router:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ids_ = taxonomy.ids
        docs = [" ".join(f.all_examples()) for f in taxonomy.factors]
        try:
            # words of three letters or more: the short function words of other languages ("na", "и") name nothing
            self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True,
                                               token_pattern=r"(?u)\b\w\w\w+\b").fit(docs)
            self.phrases_ = self.vectorizer_.transform(docs)
        except ValueError:  # phrases of stop words only: the sentences alone decide
            self.vectorizer_ = None
        return self

    def words(self, texts: list[str]) -> np.ndarray:
        """The texts' TF-IDF cosine to each factor's phrases (texts × factors)."""
        if self.vectorizer_ is None:
            return np.zeros((len(texts), len(self.ids_)))
        return (self.vectorizer_.transform([for_matching(t) for t in texts]) @ self.phrases_.T).toarray()

    def route(self, probs: np.ndarray, text: str) -> dict | None:
        return route(probs, self.ids_, self.words([text])[0], self.floor, self.weight)
