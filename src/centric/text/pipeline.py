"""The text pipeline: language → sentences → factors → sentiment per factor → overall sentiment,
emotions (Plutchik's eight, per sentence and per text: see ``emotions``) and flags.

Factors are matched per clause when a sentence contrasts two things ("delivery was fast but the
installer was rude"), else per sentence, and also on the parts of an enumeration ("great food,
friendly staff and a lovely terrace"), which would otherwise dilute one another; the polarity of a factor is that of the clause it was found
in when the sentence has a contrast word, else that of the whole sentence (which measured better);
optionally (``factor_polarity``) averaged with a reading of that piece by e5 with the factor named.
When the factors of a text are known in advance (``"factors": [...]`` in the input), each gets a
polarity from the part of the text that speaks most about it. A placeholder answer ("did not answer",
"n/a", "nothing", only a score: see ``placeholders``) gets no factor and no sentiment, only the flag
``placeholder`` with its reason.

>>> r = analyze([{"id": 1, "text": "The food was delicious but the waiter was rude."}], taxonomy="restaurants")[0]
>>> sorted((f["factor"], f["sentiment"]) for f in r.factors)
[('food', 'positive'), ('service', 'negative')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .embed import E5Embedder, USEEmbedder
from .emotions import EMOTIONS, EmotionModel, agree_with_polarity, as_dict, text_emotions
from .factors import FactorMatcher
from .language import LanguageDetector
from .placeholders import placeholder
from .routing import Router, for_matching, route
from .sentences import fragments, has_contrast, sentences_of, split_clauses
from .sentiment import FACTOR_MODEL, LABELS, SentimentModel, factor_prompt
from .taxonomy import Taxonomy, load_taxonomy

_EXTORTION = re.compile(
    r"(refund|compensat|money back|voucher|zwrot|odszkodow|rekompens|верните|компенсац|возврат|rimbors|risarci)"
    r".{0,80}?(or|otherwise|else|albo|bo inaczej|w przeciwnym|или|иначе|а то|oppure|altrimenti)\b.{0,80}?"
    r"(post|review|everywhere|social|media|press|lawyer|court|wszędzie|opinie|internet|prasa|sąd|адвокат|суд|"
    r"везде|отзыв|соцсет|ovunque|recension|social|avvocato|tribunale|giornal)",
    re.I | re.S,
)


PLACEHOLDER = "placeholder"
# finds the flag in ``text_analyses.flags`` (JSON written by json.dumps) with portable SQL: flags LIKE …
PLACEHOLDER_LIKE = '%"flag": "placeholder"%'
_PLACEHOLDER_REASON = {"no answer": "a placeholder answer that gives no opinion (such as “did not answer”, “n/a”, "
                                    "“nothing”); kept, not analysed",
                       "score only": "only a score, repeated in the comment field; kept, not analysed"}


def placeholder_flag(why: str) -> dict[str, str]:
    """The flag of a placeholder answer (``why`` from ``placeholders.placeholder``)."""
    return {"flag": PLACEHOLDER, "reason": _PLACEHOLDER_REASON[why]}


@dataclass
class TextResult:
    id: Any
    lang: str
    sentences: list[str]
    factors: list[dict[str, Any]]
    sentiment: str | None  # None for a placeholder answer, which is no opinion
    score: float | None
    emotions: dict[str, float] = field(default_factory=dict)  # the eight emotions; {} for a placeholder
    flags: list[dict[str, str]] = field(default_factory=list)
    sentence_emotions: list[dict[str, float]] = field(default_factory=list)  # one per sentence
    # the text's one factor (``routing``): {"factor", "confidence", "score", "sentences"}, None when it names none
    top_factor: dict[str, Any] | None = None
    # the factor model's probabilities per sentence (sentences × the taxonomy's factors), best over the
    # sentence's clauses and parts; not part of ``to_dict``
    factor_probs: np.ndarray | None = field(default=None, repr=False)

    @property
    def placeholder(self) -> bool:
        return any(f.get("flag") == PLACEHOLDER for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "lang": self.lang, "sentiment": self.sentiment,
                "score": None if self.score is None else round(self.score, 4),
                "sentences": self.sentences, "factors": self.factors, "top_factor": self.top_factor,
                "emotions": self.emotions, "sentence_emotions": self.sentence_emotions, "flags": self.flags}


def _label(score: float, margin: float = 0.05) -> str:
    """A factor's polarity from P(positive) − P(negative); 0.05 measured best on the development sets."""
    return "positive" if score > margin else "negative" if score < -margin else "neutral"


class Analyzer:
    """The pipeline with its stages; each can be swapped (any object with the same methods)."""

    def __init__(self, taxonomy: Taxonomy | str, embedder=None, matcher: FactorMatcher | None = None,
                 sentiment: SentimentModel | None = None, language: LanguageDetector | None = None,
                 polarity_embedder=None, fast: bool = False, gate: float | None = None,
                 factor_polarity: bool = False):
        """``embedder`` finds factors (default: USE); ``polarity_embedder`` judges polarity (default:
        multilingual-e5: slower, but 3–9 points better at sentiment than USE on the benchmarks);
        ``fast=True`` judges polarity on the factor embeddings instead. ``gate`` (e.g. 0.8) is the
        cascade in between: the USE head decides where its most likely class has at least that
        probability in a language the factor embedder knows, e5 the rest — every Ukrainian sentence with
        USE (see benchmarks/text_speed.py for the trade-off).
        ``factor_polarity=True`` (default mode only) makes each factor's polarity the mean of the
        piece's own sentiment and a head over e5 with the factor named in its input ("what does the
        reviewer think about the food? passage: …"): +1.1 points EN, +1.2 RU, −1.4 IT on the
        benchmarks for one more e5 pass per factor and piece (about half the speed), so it is off by
        default (benchmarks/README.md)."""
        self.taxonomy = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
        self.embedder = embedder or USEEmbedder()
        self.matcher = (matcher or FactorMatcher()).fit(self.taxonomy, self.embedder)
        self.router = Router().fit(self.taxonomy)
        self.polarity_embedder = None if fast else (polarity_embedder or E5Embedder())
        self.sentiment = sentiment or SentimentModel(self.embedder.name)
        self.polarity_sentiment = None if fast else SentimentModel(self.polarity_embedder.name)
        self.language = language or LanguageDetector()
        self.gate = gate
        self.factor_sentiment = (SentimentModel(path=FACTOR_MODEL) if factor_polarity and not fast
                                 and gate is None else None)
        self._factor_names = {f.id: f.name("en").lower() for f in self.taxonomy.factors}
        # emotions from the embeddings every sentence already has: the factor embedder's head, averaged in the
        # default mode with the heads over the polarity embedder's and over both side by side, where they ship
        # (no extra encoder pass)
        self.emotion = EmotionModel(self.embedder.name)
        self.polarity_emotions: list[tuple[EmotionModel, bool]] = []  # (head, reads [factor; polarity] embeddings)
        if self.polarity_embedder is not None and gate is None:
            for head, joint in ((EmotionModel(self.polarity_embedder.name), False),
                                (EmotionModel(f"{self.embedder.name}+{self.polarity_embedder.name}"), True)):
                if head.path.exists():
                    self.polarity_emotions.append((head, joint))

    def analyze(self, items: list[dict[str, Any]]) -> list[TextResult]:
        ids = self.taxonomy.ids
        # 1. language, sentences, units (clauses of contrast sentences, else the sentence), and the
        #    parts of enumerations inside each unit (for factor matching only)
        plan = []
        texts: dict[str, int] = {}
        polar: dict[int, None] = {}  # the pieces whose polarity is needed: sentences and clauses
        # the cascade leaves the pieces of a language the factor embedder does not know to e5 (Ukrainian for USE)
        known = getattr(self.embedder, "languages", None)
        foreign: set[int] = set()

        def slot(t: str, polarity: bool = False) -> int:
            if t not in texts:
                texts[t] = len(texts)
            if polarity:
                polar[texts[t]] = None
            return texts[t]

        for item in items:
            text = str(item.get("text") or "")
            lang = item.get("lang") or self.language.detect(text)
            sentences = sentences_of(text)
            if why := placeholder(text):
                plan.append((item, lang, sentences, why))
                continue
            units = []
            for si, s in enumerate(sentences):
                contrast = has_contrast(s, lang)
                parts = split_clauses(s, lang) if contrast else [s]
                units.append((si, slot(s, True), [(slot(p, contrast), [slot(f) for f in fragments(p, lang)], contrast)
                                                   for p in parts]))
                if known is not None and lang not in known:
                    foreign.update(texts[x] for x in (s, *parts))
            plan.append((item, lang, sentences, units))
        # 2. one batch of embeddings and factor probabilities for every distinct piece; sentiment for
        #    the sentences and clauses
        pieces = list(texts)
        E = self.embedder.encode([for_matching(p) for p in pieces])  # masks such as XX/XX/XXXX left out
        P = self.matcher.predict_proba(E)
        P3 = np.zeros((len(pieces), 3))
        idx = np.fromiter(polar, dtype=int, count=len(polar))
        if len(idx) == 0:
            pass
        elif self.polarity_embedder is None:
            P3[idx] = self.sentiment.proba(E[idx])
        elif self.gate is None:  # measured: the e5 head alone beats the mean of both heads on every set
            E2 = self.polarity_embedder.encode([pieces[i] for i in idx])
            P3[idx] = self.polarity_sentiment.proba(E2)
        else:
            P3[idx] = self.sentiment.proba(E[idx])
            unsure = idx[(P3[idx].max(axis=1) < self.gate) | np.isin(idx, list(foreign))]
            if len(unsure):
                P3[unsure] = self.polarity_sentiment.proba(self.polarity_embedder.encode([pieces[i] for i in unsure]))
        S = P3[:, 2] - P3[:, 0]
        # emotions of every sentence (the sentences are among the polarity pieces ``idx``)
        PE = np.zeros((len(pieces), len(EMOTIONS)))
        if len(idx):
            heads = [self.emotion.proba(E[idx])]
            heads += [head.proba(np.hstack([E[idx], E2]) if joint else E2) for head, joint in self.polarity_emotions]
            PE[idx] = agree_with_polarity(np.mean(heads, axis=0), P3[idx])
        out = []
        pending: list[tuple[dict[str, Any], str, int]] = []  # (factor entry, factor, piece) judged below
        # the words of the factors' phrases in every analysed text, in one call (one per text cost 0.4 ms)
        analysed = [str(item.get("text") or "") for item, _, _, units in plan if not isinstance(units, str)]
        W = self.router.words(analysed) if analysed else np.zeros((0, len(self.router.ids_)))
        k = 0
        for item, lang, sentences, units in plan:
            if isinstance(units, str):  # a placeholder: no factor, no sentiment
                out.append(TextResult(item.get("id"), lang, sentences, [], None, None, {}, [placeholder_flag(units)]))
                continue
            found: dict[tuple[str, int], dict[str, Any]] = {}
            best: dict[str, tuple[float, int, int]] = {}  # factor -> (prob, piece, sentence)
            sentence_scores, sentence_probs, sentence_emotions = [], [], []
            per_sentence = np.zeros((len(units), len(ids)))
            for si, s_slot, parts in units:
                sentence_scores.append(float(S[s_slot]))
                sentence_emotions.append(PE[s_slot])
                sentence_probs.append(P3[s_slot])
                for p_slot, f_slots, contrast in parts:
                    pol_slot = p_slot if contrast else s_slot
                    probs = P[[p_slot, *f_slots]].max(axis=0)
                    per_sentence[si] = np.maximum(per_sentence[si], probs)
                    for fi, fid in enumerate(ids):
                        prob = float(probs[fi])
                        if prob > best.get(fid, (-1.0,))[0]:
                            best[fid] = (prob, pol_slot, si)
                        if prob >= self.matcher.threshold and (fid, si) not in found:
                            found[(fid, si)] = self._mention(fid, si, prob, pol_slot, S, pending)
            wanted = [f for f in (item.get("factors") or []) if f in ids]
            for fid in wanted:
                if not any(k[0] == fid for k in found) and fid in best:
                    prob, pol_slot, si = best[fid]
                    found[(fid, si)] = self._mention(fid, si, prob, pol_slot, S, pending)
            overall = float(np.mean(sentence_scores)) if sentence_scores else 0.0
            # the text's sentiment: the most likely class of the sentences' mean probabilities
            label = LABELS[int(np.argmax(np.mean(sentence_probs, axis=0)))] if sentence_probs else "neutral"
            text = str(item.get("text") or "")
            top = route(per_sentence, self.router.ids_, W[k], self.router.floor, self.router.weight)
            k += 1
            out.append(TextResult(item.get("id"), lang, sentences,
                                  sorted(found.values(), key=lambda f: (f["sentence"], f["factor"])),
                                  label, overall, text_emotions(np.array(sentence_emotions)), flags(text),
                                  [as_dict(p) for p in sentence_emotions], top, per_sentence))
        if pending:  # one batch of e5 passes with the factor named, for every distinct (factor, piece)
            pairs = list(dict.fromkeys((fid, slot) for _, fid, slot in pending))
            PF = self.factor_sentiment.proba(self.polarity_embedder.encode(
                [factor_prompt(self._factor_names[fid], pieces[slot]) for fid, slot in pairs]))
            # the mean with the piece's own sentiment: the head with the factor named alone was better in
            # English (+0.7) but lost 9 points in Italian and read short clear praise as negative
            PF = (PF + P3[[slot for _, slot in pairs]]) / 2
            score = dict(zip(pairs, (PF[:, 2] - PF[:, 0]).tolist(), strict=True))
            for entry, fid, slot in pending:
                sc = score[(fid, slot)]
                entry["sentiment"], entry["score"] = _label(sc), round(sc, 4)
        return out

    def _mention(self, fid: str, si: int, prob: float, pol_slot: int, S: np.ndarray,
                 pending: list[tuple[dict[str, Any], str, int]]) -> dict[str, Any]:
        """A factor found in sentence ``si``, its polarity read from piece ``pol_slot`` (now, or in the
        batch that names the factor when ``factor_sentiment`` is on)."""
        sc = float(S[pol_slot])
        entry = {"factor": fid, "sentiment": _label(sc), "score": round(sc, 4), "sentence": si,
                 "confidence": round(prob, 4)}
        if self.factor_sentiment is not None:
            pending.append((entry, fid, pol_slot))
        return entry


def unmatched(analyzer: Analyzer, results: list[TextResult]) -> tuple[list[str], list[str]]:
    """The sentences of ``results`` that carry no factor, with their languages."""
    sentences, langs = [], []
    for r in results:
        with_factor = {f["sentence"] for f in r.factors if f.get("confidence", 1) >= analyzer.matcher.threshold}
        for i, s in enumerate(r.sentences):
            if i not in with_factor and len(s.split()) >= 3:
                sentences.append(s)
                langs.append(r.lang)
    return sentences, langs


def flags(text: str) -> list[dict[str, str]]:
    """Flags on one text (the store-level flags — near-duplicates across authors, bursts — need the
    other texts and are raised by ``centric analyze``)."""
    out = []
    if _EXTORTION.search(text):
        out.append({"flag": "extortion", "reason": "demands compensation in exchange for not publishing or going further"})
    return out


_cache: dict[str, Analyzer] = {}


def analyze(items: list[dict[str, Any]] | list[str], taxonomy: Taxonomy | str = "retail",
            lang: str | None = None) -> list[TextResult]:
    """Analyse texts (strings, or dicts with ``id``, ``text`` and optional ``lang`` and ``factors``)."""
    key = taxonomy if isinstance(taxonomy, str) else taxonomy.name
    if key not in _cache:
        _cache[key] = Analyzer(taxonomy)
    norm = [{"id": i, "text": t} if isinstance(t, str) else dict(t) for i, t in enumerate(items)]
    if lang:
        for d in norm:
            d.setdefault("lang", lang)
    return _cache[key].analyze(norm)
