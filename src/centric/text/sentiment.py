"""Sentiment of a sentence or clause: positive, negative or neutral.

A small classifier over sentence embeddings — the mean of five networks with one hidden layer of 64
ReLU units each, which measured better than a multinomial logistic regression over both USE and
multilingual-e5 and steadier than one network — trained on data whose
licence allows shipping the result — Polish-ASTE sentence labels (CC BY 4.0), NHS patient comments
(MIT repository) and sentences written for centric in several languages (``data/sentiment_seed.tsv``)
— and shipped as ``models/sentiment_<embedder>.npz``. ``scripts/train_sentiment.py`` rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MODELS = Path(__file__).parent / "models"
LABELS = ("negative", "neutral", "positive")
FACTOR_MODEL = MODELS / "factor_polarity_e5-small.npz"


def factor_prompt(name: str, text: str) -> str:
    """e5's input that names the factor whose polarity is wanted (after e5's own ``query: ``)."""
    return f"what does the reviewer think about the {name}? passage: {text}"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class SentimentModel:
    """proba(embeddings) → (n, 3) probabilities of negative, neutral, positive."""

    def __init__(self, embedder_name: str = "use-v3", path: Path | None = None):
        self.path = path or MODELS / f"sentiment_{embedder_name}.npz"
        self._w = None

    def _load(self):
        if self._w is None:
            if not self.path.exists():
                raise FileNotFoundError(f"sentiment model {self.path} is missing: run scripts/train_sentiment.py")
            d = np.load(self.path, allow_pickle=False)
            classes = [str(c) for c in d["classes"]]
            if "w1" in d:  # one hidden ReLU layer
                w = [d["w1"], d["b1"], d["w2"], d["b2"]]
                if w[0].ndim == 2:  # a single network: a stack of one
                    w = [a[None] for a in w]
                self._w = ("mlp", tuple(w), classes)
            else:
                self._w = ("linear", (d["coef"], d["intercept"]), classes)
        return self._w

    def proba(self, E: np.ndarray) -> np.ndarray:
        kind, w, classes = self._load()
        if kind == "mlp":  # networks stacked on a first axis; their probabilities are averaged
            w1, b1, w2, b2 = w
            p = np.mean([_softmax(np.maximum(E @ w1[k] + b1[k], 0) @ w2[k] + b2[k]) for k in range(len(w1))], axis=0)
        else:
            coef, intercept = w
            p = _softmax(E @ coef.T + intercept)
        order = [classes.index(c) for c in LABELS]
        return p[:, order]
