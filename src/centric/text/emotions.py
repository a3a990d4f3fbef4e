"""Emotions of a sentence: Plutchik's eight — anger, anticipation, disgust, fear, joy, sadness,
surprise, trust — each as a probability (multi-label: a sentence may carry several, or none).

A small classifier over the sentence embeddings the pipeline already computes (no second encoder
pass): one logistic output per emotion on top of the mean of a few one-hidden-layer networks, shipped
as ``models/emotions_<embedder>.npz`` and rebuilt by ``scripts/train_emotions.py`` (fixed seed). One
head reads the USE embeddings every mode has; the default mode, which also has e5's for polarity,
averages its probabilities with those of a head over e5 (``emotions_e5-small.npz``) and of a head over
both side by side (``emotions_use-v3+e5-small.npz``). It is
trained on XED (movie subtitles annotated with the eight emotions; English by people, other
languages by projection — Öhman, Pàmies, Kajava and Tiedemann, COLING 2020, CC BY 4.0, see
``models/NOTICE``) and on review sentences written for centric (``data/emotions_seed.tsv``).

An emotion counts as present at p ≥ ``PRESENT`` (0.5); the output layer's offsets are set at
training time so that this cut is the one that gives the best F1 per emotion on the training data's
own cross-validation. A text's emotion is the largest of its sentences' (an emotion is present in a
text when it is present in one of its sentences; a mean would dilute a single furious sentence in a
long review, a noisy-or would find every emotion in a long text).

>>> import numpy as np
>>> text_emotions(np.array([[0.9, 0, 0, 0, 0, 0, 0, 0], [0.2, 0, 0, 0, 0.7, 0, 0, 0]]))["anger"]
0.9
>>> sorted(present({"anger": 0.9, "joy": 0.49}))
['anger']
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

MODELS = Path(__file__).parent / "models"
EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")
PRESENT = 0.5
_LABELS = re.compile(r"^\s*[1-8](\s*,\s*[1-8])*\s*$")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


NEGATIVE = ("anger", "disgust", "fear", "sadness")
POSITIVE = ("joy", "trust")
_NEG = [EMOTIONS.index(e) for e in NEGATIVE]
_POS = [EMOTIONS.index(e) for e in POSITIVE]


def agree_with_polarity(pe: np.ndarray, p3: np.ndarray) -> np.ndarray:
    """The emotions ``pe`` (n, 8) of sentences whose polarity ``p3`` (n, 3: negative, neutral, positive) the
    pipeline has: a negative emotion is scaled by 1 − (P(positive) − P(negative)) where the sentence is more
    positive than negative, joy and trust likewise where it is more negative; anticipation and surprise are
    left alone. Trained on film subtitles, the emotion model alone gave joy or trust to 10% of the negative
    review sentences and anger, disgust or sadness to 19% of the positive ones (English; "arrived dented" →
    trust); with this, 6% and 10%, for about a point of macro-F1 on XED (benchmarks/README.md).

    >>> r = agree_with_polarity(np.array([[0.8, 0, 0, 0, 0.8, 0, 0.6, 0]]), np.array([[0.1, 0.1, 0.8]]))
    >>> [round(float(x), 2) for x in r[0]]
    [0.24, 0.0, 0.0, 0.0, 0.8, 0.0, 0.6, 0.0]
    """
    out = np.array(pe, dtype=float, copy=True)
    lean = p3[:, 2] - p3[:, 0]
    out[:, _NEG] *= (1.0 - np.clip(lean, 0.0, 1.0))[:, None]
    out[:, _POS] *= (1.0 - np.clip(-lean, 0.0, 1.0))[:, None]
    return out


class EmotionModel:
    """``proba(embeddings)`` → (n, 8) probabilities of the eight emotions, in the order of ``EMOTIONS``."""

    def __init__(self, embedder_name: str = "use-v3", path: Path | None = None):
        self.embedder_name = embedder_name
        self.path = path or MODELS / f"emotions_{embedder_name}.npz"
        self._w: tuple | None = None

    def _load(self) -> tuple:
        if self._w is None:
            if not self.path.exists():
                raise FileNotFoundError(f"emotion model {self.path} is missing: run scripts/train_emotions.py")
            d = np.load(self.path, allow_pickle=False)
            if [str(c) for c in d["classes"]] != list(EMOTIONS):
                raise ValueError(f"emotion model {self.path} has the classes {list(d['classes'])}, "
                                 f"expected {list(EMOTIONS)}: run scripts/train_emotions.py")
            self._w = (d["w1"], d["b1"], d["w2"], d["b2"], d["offset"])
        return self._w

    def logits(self, E: np.ndarray) -> np.ndarray:
        """The mean of the networks' output scores (before the offsets and the sigmoid)."""
        w1, b1, w2, b2, _ = self._load()
        E = np.asarray(E, dtype=np.float32)
        if E.ndim != 2 or E.shape[1] != w1.shape[1]:
            raise ValueError(f"emotion model {self.path} reads {w1.shape[1]} numbers per sentence "
                             f"({self.embedder_name} embeddings), got an array of shape {E.shape}")
        return np.mean([np.maximum(E @ w1[k] + b1[k], 0) @ w2[k] + b2[k] for k in range(len(w1))], axis=0)

    def proba(self, E: np.ndarray) -> np.ndarray:
        if len(E) == 0:
            return np.zeros((0, len(EMOTIONS)))
        return _sigmoid(self.logits(E) + self._load()[4]).astype(np.float64)


def as_dict(p: np.ndarray) -> dict[str, float]:
    """One row of probabilities as ``{"anger": p, …}`` with all eight keys, rounded to 3 places."""
    return {e: round(float(v), 3) for e, v in zip(EMOTIONS, p, strict=True)}


def text_emotions(sentence_probs: np.ndarray) -> dict[str, float]:
    """A text's emotions from its sentences' (rows): the largest per emotion (0 for a text without
    sentences)."""
    P = np.asarray(sentence_probs, dtype=float).reshape(-1, len(EMOTIONS))
    return as_dict(P.max(axis=0) if len(P) else np.zeros(len(EMOTIONS)))


def present(emotions: dict[str, float], cut: float = PRESENT) -> list[str]:
    """The emotions at or above ``cut``, most likely first."""
    return [e for e, p in sorted(emotions.items(), key=lambda kv: -kv[1]) if p >= cut]


# -- XED: reading and the fixed split into training and held-out lines -------------------------------

def xed_heldout(text: str) -> bool:
    """True for the XED lines held out from training (about one in five), decided by a hash of the
    line's text alone: a line and its duplicates fall on the same side, whatever the file order."""
    return int(hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:8], 16) % 5 == 0


def xed_valence(emotions: tuple[str, ...] | list[str]) -> str | None:
    """A line's polarity from its emotions by Plutchik's valence (``POSITIVE``: joy, trust;
    ``NEGATIVE``: anger, disgust, fear, sadness; anticipation and surprise carry none), or None for a
    line with both sides or neither. XED's README reports pos/neg/neu evaluations but does not give
    the mapping, so this one is ours.

    >>> xed_valence(("joy", "surprise")), xed_valence(("joy", "anger")), xed_valence(("surprise",))
    ('positive', None, None)
    """
    sides = [side for side, emos in (("positive", POSITIVE), ("negative", NEGATIVE)) if set(emos) & set(emotions)]
    return sides[0] if len(sides) == 1 else None


def read_xed(path: Path) -> tuple[list[tuple[str, tuple[str, ...]]], int]:
    """(text, emotions) of an XED file (``TEXT<TAB>1, 5``; 1 anger … 8 trust) and the number of lines
    skipped: the projection files also hold alignment lines (file names, offsets) with no labels."""
    rows, skipped = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2 or not parts[0].strip() or not _LABELS.match(parts[1]):
                skipped += 1
                continue
            labels = sorted({EMOTIONS[int(x) - 1] for x in parts[1].split(",")}, key=EMOTIONS.index)
            rows.append((parts[0].strip(), tuple(labels)))
    return rows, skipped
