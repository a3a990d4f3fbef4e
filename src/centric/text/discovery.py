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
    generic: bool = False  # general praise/blame: counted, never a topic

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def discover(sentences: list[str], embeddings: np.ndarray, languages: list[str] | None = None,
             k: int | None = None, seed: int = 0, min_size: int = 3) -> list[Candidate]:
    """Cluster ``sentences`` (with their embeddings) into candidate factors, largest first; generic praise
    and blame set apart as one last candidate with ``generic=True`` (when there is any)."""
    return [c for c, _ in clusters(sentences, embeddings, languages, k, seed, min_size, generic=True, init="ward",
                                   merge=0.75)]


def _candidate(sentences, embeddings, languages, idx, w, centre, generic=False) -> Candidate:
    dist = np.linalg.norm(embeddings[idx] - centre, axis=1)
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
    terms = [t for t, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:6]]
    langs: Counter = Counter()
    for i in idx if languages else ():
        langs[languages[i]] += int(w[i])
    return Candidate(int(w[idx].sum()), terms, quotes, dict(langs), generic)


WARD_SAMPLE = 3000


def _merge(x: np.ndarray, labels: np.ndarray, k: int, threshold: float) -> np.ndarray:
    """Join the clusters whose centres have a cosine similarity of at least ``threshold`` (transitively);
    each joined cluster keeps its lowest label."""
    centres = np.vstack([x[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(x.shape[1])
                         for c in range(k)])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
    sim = centres @ centres.T
    root = list(range(k))

    def find(a: int) -> int:
        while root[a] != a:
            a = root[a]
        return a

    for a in range(k):
        for b in range(a + 1, k):
            if sim[a, b] >= threshold:
                ra, rb = find(a), find(b)
                root[max(ra, rb)] = min(ra, rb)
    return np.array([find(c) for c in labels])


def _ward_centres(x: np.ndarray, k: int) -> np.ndarray:
    """The centres of Ward's clustering into ``k`` of ``x`` (of an evenly spaced sample of at most
    ``WARD_SAMPLE`` rows: Ward's memory grows with the square of the rows)."""
    from sklearn.cluster import AgglomerativeClustering

    sample = x[np.unique(np.linspace(0, len(x) - 1, min(len(x), WARD_SAMPLE)).round().astype(int))]
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(sample).labels_
    return np.vstack([sample[labels == c].mean(axis=0) for c in range(k)])


def _mostly_generic(terms: list[str]) -> bool:
    """A cluster whose top terms are at least two thirds evaluative or empty words says nothing in
    particular (its sentences passed the sentence check with one incidental word)."""
    from .generic import evaluative

    return bool(terms) and 3 * sum(map(evaluative, terms)) >= 2 * len(terms)


def clusters(sentences: list[str], embeddings: np.ndarray, languages: list[str] | None = None,
             k: int | None = None, seed: int = 0, min_size: int = 3, n_init: int = 10,
             weights: np.ndarray | None = None, generic: bool = False,
             init: str = "k-means++", merge: float | None = None) -> list[tuple[Candidate, np.ndarray]]:
    """``discover``'s candidates, each with the indices of its sentences (largest first), so that what a
    cluster says can be traced back to the rows it comes from. ``n_init``: k-means runs (the best is kept);
    ``weights``: how many times each sentence occurs (distinct sentences clustered once, counted as often as
    they occur: the same clusters, quicker). ``generic``: set generic praise and blame apart
    (``centric.text.generic.is_generic``, and clusters whose top terms are mostly evaluative words) as one
    candidate with ``generic=True``, listed last. ``init="ward"``: k-means starts from the centres of
    Ward's agglomerative clustering of (at most ``WARD_SAMPLE`` evenly spaced of) the sentences instead of
    k-means++ with ``n_init`` seeded starts: no randomness, so the partition no longer depends on the seed
    (on real comments k-means++ gave partitions only 0.5–0.6 alike, by adjusted Rand index, from one seed
    to the next; see benchmarks/discovery.py). ``merge``: clusters whose centres (of the normalised
    embeddings) are at least this similar (cosine) are joined — k-means cuts a large topic in two when k is
    larger than the number of topics (30 sentences about parking among 45 others: two pure halves at 0.83,
    other pairs at most 0.61)."""
    from sklearn.cluster import KMeans

    from .generic import is_generic

    embeddings = np.asarray(embeddings)
    w = np.ones(len(sentences)) if weights is None else np.asarray(weights, dtype=float)
    apart = np.array([is_generic(s) for s in sentences], dtype=bool) if generic else np.zeros(len(sentences), bool)
    rest = np.flatnonzero(~apart)
    n = int(w[rest].sum())
    out = []
    if n >= min_size and len(rest) >= 2:
        k = k or max(2, min(12, round(np.sqrt(n / 2))))
        k = min(k, len(rest))
        if init == "ward":
            km = KMeans(n_clusters=k, init=_ward_centres(embeddings[rest], k), n_init=1, random_state=seed)
        else:
            km = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
        km.fit(embeddings[rest], sample_weight=w[rest])
        labels = km.labels_.copy()
        if merge is not None:
            labels = _merge(embeddings[rest], labels, k, merge)
        for c in range(k):
            idx = rest[labels == c]
            if w[idx].sum() < min_size:
                continue
            cand = _candidate(sentences, embeddings, languages, idx, w,
                              np.average(embeddings[idx], axis=0, weights=w[idx]))
            if generic and _mostly_generic(cand.terms):
                apart[idx] = True
                continue
            out.append((cand, idx))
    out.sort(key=lambda c: (-c[0].size, c[0].terms))
    idx = np.flatnonzero(apart)
    if len(idx):
        centre = np.average(embeddings[idx], axis=0, weights=w[idx])
        out.append((_candidate(sentences, embeddings, languages, idx, w, centre, generic=True), idx))
    return out


def store_sentences(store, taxonomy: str, since: str | None = None, brand: str | None = None,
                    limit: int = 20_000, seed: int = 0) -> tuple[list[str], list[str]]:
    """The sentences (≥ 3 words) of the store's texts analysed with ``taxonomy`` that carry no factor,
    with their languages: survey comments answered and feedback posted on or after ``since`` (a date),
    feedback about ``brand`` only when given. Sentences are split as the pipeline split them, so the
    ``mentions`` rows' sentence indices apply. Beyond ``limit`` sentences a sample is drawn with
    ``seed``, so a run stays quick and repeatable."""
    from .sentences import sentences_of

    parts, params = [], []
    if brand is None:  # survey answers are about our own brand
        parts.append("SELECT 'responses', r.response_id, r.comment, a.language FROM responses r JOIN text_analyses a "
                     "ON a.source = 'responses' AND a.text_id = r.response_id AND a.taxonomy = ?"
                     + (" WHERE r.responded_at >= CAST(? AS TIMESTAMP)" if since else ""))
        params += [taxonomy, since] if since else [taxonomy]
    where = [w for w, v in (("f.brand = ?", brand), ("f.posted_at >= CAST(? AS TIMESTAMP)", since)) if v is not None]
    parts.append("SELECT 'feedback', f.feedback_id, f.text, a.language FROM feedback f JOIN text_analyses a "
                 "ON a.source = 'feedback' AND a.text_id = f.feedback_id AND a.taxonomy = ?"
                 + (" WHERE " + " AND ".join(where) if where else ""))
    params += [taxonomy, *(v for v in (brand, since) if v is not None)]
    # in Python's order of code points, as DuckDB sorts texts (a PostgreSQL database's collation may sort otherwise)
    rows = sorted(store.execute(" UNION ALL ".join(parts), params).fetchall(), key=lambda r: (r[0], r[1]))
    with_factor = set(store.execute(
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
