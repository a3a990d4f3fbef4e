"""Factor matching: which factors a sentence (or clause) is about.

A light one-vs-rest logistic regression over sentence embeddings, trained when the matcher is fitted
on the taxonomy's own example phrases (in every language the taxonomy has), against a set of generic
sentences that name no factor (``GENERIC``, plus the taxonomy's own ``generic`` list: sentences typical
of its texts that name none of its factors, such as the procedure around a formal complaint). Because the embedding space is shared across languages, examples in
English also teach Polish, Russian and Italian. Editing the taxonomy's examples retrains it.
"""

from __future__ import annotations

import numpy as np

from .taxonomy import Taxonomy

GENERIC = [
    "we went there last saturday", "I have been a customer for years", "we were a group of six", "my wife ordered",
    "I will write again next week", "it was my first visit", "we came back after a month", "thank you",
    "nothing special to add", "it happened in march", "we arrived at seven", "my friend recommended it",
    "I bought it for my mother", "the order number is in the email", "see the photos", "we were there on holiday",
    "byliśmy tam w sobotę", "to była moja pierwsza wizyta", "dziękuję", "kupiłem to dla mamy",
    "мы были там в субботу", "это был мой первый визит", "спасибо", "купил для мамы",
    "siamo stati lì sabato", "era la mia prima visita", "grazie", "l'ho comprato per mia madre",
    # praise and blame of the whole place, which names no factor
    "great place", "highly recommended", "we will definitely be back", "never again", "the worst experience ever",
    "a real gem", "loved it", "I would not recommend it to anyone", "one of my favourites", "avoid at all costs",
    "overall a good experience", "five stars", "what a disappointment", "the best in town",
    "świetne miejsce", "polecam", "na pewno wrócimy", "nigdy więcej", "omijać szerokim łukiem", "ogólnie dobrze",
    "отличное место", "рекомендую", "обязательно вернёмся", "больше никогда", "худшее место", "в целом хорошо",
    "posto fantastico", "consigliatissimo", "torneremo sicuramente", "mai più", "esperienza deludente",
    "nel complesso bene",
    # "what could we improve?" — "nothing": the commonest survey answer names no factor
    "nothing", "nothing to improve", "nothing really, all good", "I can't think of anything", "no comment", "n/a",
    "nic", "nic do poprawy", "nie mam uwag", "ничего", "нечего добавить", "замечаний нет", "niente",
    "nulla da migliorare", "nessun suggerimento",
]


class FactorMatcher:
    """fit(taxonomy, embedder) → predict_proba(embeddings) → (n, factors) probabilities. A factor is
    matched above ``threshold`` (0.45 with the parts of enumerations matched too: between precision and
    recall, the best factor F1 across the development sets)."""

    def __init__(self, threshold: float = 0.45, C: float = 4.0):
        self.threshold = threshold
        self.C = C

    def fit(self, taxonomy: Taxonomy, embedder) -> FactorMatcher:
        from sklearn.linear_model import LogisticRegression

        texts, labels = [], []
        for i, f in enumerate(taxonomy.factors):
            ex = f.all_examples()
            texts += ex
            labels += [i] * len(ex)
        X = embedder.encode(texts)
        G = embedder.encode(GENERIC + list(taxonomy.generic))
        self.factor_ids_ = taxonomy.ids
        self.models_ = []
        y = np.array(labels)
        for i in range(len(taxonomy.factors)):
            target = np.concatenate([(y == i).astype(int), np.zeros(len(G), dtype=int)])
            m = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
            m.fit(np.vstack([X, G]), target)
            self.models_.append(m)
        return self

    def predict_proba(self, E: np.ndarray) -> np.ndarray:
        if not hasattr(self, "models_"):
            raise RuntimeError("FactorMatcher is not fitted: call fit(taxonomy, embedder) first")
        if len(E) == 0:
            return np.zeros((0, len(self.models_)))
        return np.column_stack([m.predict_proba(E)[:, 1] for m in self.models_])
