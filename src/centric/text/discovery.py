"""Discovery of factors nobody named: sentences that match no factor of the taxonomy are clustered
(k-means over their embeddings, fixed seed: the same input gives the same result), and each cluster is
proposed as a candidate factor with its top terms and three representative quotes (the sentences
nearest its centre). Clusters group by topic across languages, because the embedding space is shared.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"\w{3,}", re.U)
STOPWORDS = set("""the and was were for with this that very but not have has had are our you all they them
there their from just too out what when will would could really also been more than then into about
jest był była było były nie się jak ale już tak dla przez bardzo tylko który która które jego jej
это был была было были как так уже для очень только что который которая они она его ещё или
che era sono per con non una uno gli alla della del nel molto anche come più questo questa erano""".split())


@dataclass(frozen=True)
class Candidate:
    size: int
    terms: list[str]
    quotes: list[str]
    languages: dict[str, int]

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def discover(sentences: list[str], embeddings: np.ndarray, languages: list[str] | None = None,
             k: int | None = None, seed: int = 0, min_size: int = 3) -> list[Candidate]:
    """Cluster ``sentences`` (with their embeddings) into candidate factors, largest first."""
    from sklearn.cluster import KMeans

    n = len(sentences)
    if n < min_size:
        return []
    k = k or max(2, min(12, round(np.sqrt(n / 2))))
    k = min(k, n)
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(embeddings)
    out = []
    for c in range(k):
        idx = np.flatnonzero(km.labels_ == c)
        if len(idx) < min_size:
            continue
        dist = np.linalg.norm(embeddings[idx] - km.cluster_centers_[c], axis=1)
        quotes = [sentences[i] for i in idx[np.argsort(dist, kind="stable")][:3]]
        words = Counter(w for i in idx for w in {w.lower() for w in _WORD.findall(sentences[i])}
                        if w.lower() not in STOPWORDS)
        terms = [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:6]]
        langs = Counter(languages[i] for i in idx) if languages else Counter()
        out.append(Candidate(len(idx), terms, quotes, dict(langs)))
    return sorted(out, key=lambda c: (-c.size, c.terms))
