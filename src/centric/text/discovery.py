"""Discovery of factors nobody named: sentences that match no factor of the taxonomy are clustered
(k-means over their embeddings, fixed seed: the same input gives the same result), and each cluster is
proposed as a candidate factor with its top terms and three representative quotes (the distinct
sentences nearest its centre). Over the store (``store_sentences``) it runs on the sentences that
``centric analyze`` found no factor in, optionally since a date or for one brand. Clusters group by topic across languages, because the embedding space is shared.
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
    return [c for c, _ in clusters(sentences, embeddings, languages, k, seed, min_size)]


def clusters(sentences: list[str], embeddings: np.ndarray, languages: list[str] | None = None,
             k: int | None = None, seed: int = 0, min_size: int = 3, n_init: int = 10,
             weights: np.ndarray | None = None) -> list[tuple[Candidate, np.ndarray]]:
    """``discover``'s candidates, each with the indices of its sentences (largest first), so that what a
    cluster says can be traced back to the rows it comes from. ``n_init``: k-means runs (the best is kept);
    ``weights``: how many times each sentence occurs (distinct sentences clustered once, counted as often as
    they occur: the same clusters, quicker)."""
    from sklearn.cluster import KMeans

    w = np.ones(len(sentences)) if weights is None else np.asarray(weights, dtype=float)
    n = int(w.sum())
    if n < min_size:
        return []
    k = k or max(2, min(12, round(np.sqrt(n / 2))))
    k = min(k, len(sentences))
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(embeddings, sample_weight=w)
    out = []
    for c in range(k):
        idx = np.flatnonzero(km.labels_ == c)
        if w[idx].sum() < min_size:
            continue
        dist = np.linalg.norm(embeddings[idx] - km.cluster_centers_[c], axis=1)
        quotes: list[str] = []  # the three distinct sentences nearest the centre
        for i in idx[np.argsort(dist, kind="stable")]:
            if sentences[i].strip().lower() not in {q.strip().lower() for q in quotes}:
                quotes.append(sentences[i])
            if len(quotes) == 3:
                break
        words: Counter = Counter()
        for i in idx:
            for word in {x.lower() for x in _WORD.findall(sentences[i])} - STOPWORDS:
                words[word] += w[i]
        terms = [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:6]]
        langs: Counter = Counter()
        for i in idx if languages else ():
            langs[languages[i]] += int(w[i])
        out.append((Candidate(int(w[idx].sum()), terms, quotes, dict(langs)), idx))
    return sorted(out, key=lambda c: (-c[0].size, c[0].terms))


def store_sentences(store, taxonomy: str, since: str | None = None, brand: str | None = None,
                    limit: int = 20_000, seed: int = 0) -> tuple[list[str], list[str]]:
    """The sentences (≥ 3 words) of the store's texts analysed with ``taxonomy`` that carry no factor,
    with their languages: survey comments answered and feedback posted on or after ``since`` (a date),
    feedback about ``brand`` only when given. Sentences are split as the pipeline split them, so the
    ``mentions`` rows' sentence indices apply. Beyond ``limit`` sentences a sample is drawn with
    ``seed``, so a run stays quick and repeatable."""
    from .sentences import sentences_of

    rows = store.con.execute(
        """SELECT 'responses', r.response_id, r.comment, a.language FROM responses r JOIN text_analyses a
               ON a.source = 'responses' AND a.text_id = r.response_id AND a.taxonomy = $taxonomy
           WHERE $brand IS NULL  -- survey answers are about our own brand
             AND ($since IS NULL OR r.responded_at >= CAST($since AS TIMESTAMP))
           UNION ALL
           SELECT 'feedback', f.feedback_id, f.text, a.language FROM feedback f JOIN text_analyses a
               ON a.source = 'feedback' AND a.text_id = f.feedback_id AND a.taxonomy = $taxonomy
           WHERE ($brand IS NULL OR f.brand = $brand)
             AND ($since IS NULL OR f.posted_at >= CAST($since AS TIMESTAMP))
           ORDER BY 1, 2""", {"taxonomy": taxonomy, "brand": brand, "since": since}).fetchall()
    with_factor = set(store.con.execute(
        "SELECT DISTINCT source, text_id, sentence FROM mentions WHERE taxonomy = ?", [taxonomy]).fetchall())
    sentences, langs = [], []
    for source, tid, text, lang in rows:
        for i, s in enumerate(sentences_of(text or "")):
            if (source, tid, i) not in with_factor and len(s.split()) >= 3:
                sentences.append(s)
                langs.append(lang or "")
    if len(sentences) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(sentences), limit, replace=False))
        sentences, langs = [sentences[i] for i in keep], [langs[i] for i in keep]
    return sentences, langs
