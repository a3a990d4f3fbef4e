"""Placeholder answers: text that fills a comment field without giving an opinion — "did not answer",
"n/a", "none", "nothing", "-", "no comment" and their Polish, Russian and Italian equivalents, or only
a score repeated ("10", "9/10", "10 out of 10", "5 stars").

They stay in the store; ``centric analyze`` records them (flag ``placeholder``) and counts them, but
gives them no factor and no sentiment, so that "Did not answer" cannot become a negative mention of
communication.

>>> [placeholder(t) for t in ("Did not answer", "N/a.", "Nic.", "Ничего!", "9/10", "10 out of 10")]
['no answer', 'no answer', 'no answer', 'no answer', 'score only', 'score only']
>>> placeholder("Nothing to improve, the nurses were lovely.") is None
True
"""

from __future__ import annotations

import re
import unicodedata

# Whole answers (lower-case, punctuation and spacing removed at both ends, inner spacing collapsed).
PHRASES = {
    # English
    "did not answer", "didn't answer", "didnt answer", "not answered", "no answer", "no response", "n/a", "na",
    "n.a", "n.a.", "nil", "none", "nothing", "nothing at all", "nothing really", "nothing to add", "nothing to say",
    "nothing else", "nothing i can think of", "can't think of anything", "cant think of anything", "no comment",
    "no comments", "not applicable", "no", "nope", "not sure", "don't know", "dont know", "do not know", "no idea",
    "no opinion", "none at all", "not a thing",
    # Polish
    "nie dotyczy", "brak", "brak odpowiedzi", "brak uwag", "brak komentarza", "bez uwag", "bez komentarza",
    "nie mam uwag", "nie mam zdania", "nic", "nic do dodania", "nie wiem", "nie", "b/d", "n/d",
    "nie odpowiedział", "nie odpowiedziała", "nie udzielono odpowiedzi",
    # Russian
    "нет", "нет ответа", "ничего", "без комментариев", "нет комментариев", "не знаю", "затрудняюсь ответить",
    "неприменимо", "не применимо", "н/д", "н/а", "нет замечаний", "замечаний нет", "нечего добавить",
    "нечего сказать", "ответа нет", "не ответил", "не ответила",
    # Italian
    "niente", "nulla", "nessuno", "nessuna", "nessun commento", "nessuna risposta", "non risponde",
    "non ha risposto", "non so", "non saprei", "non applicabile", "n.d", "n.d.", "niente da dire",
    "niente da aggiungere", "nulla da dire", "nulla da aggiungere", "nessun suggerimento",
}
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.U)
# a number, optionally "/10", "out of 10", "na 10", "из 10", "su 10", "stars", "points" …
_SCORE = re.compile(
    r"^\d{1,2}([.,]\d)?\s*(/\s*\d{1,2}|(out of|of|na|z|из|su)\s*\d{1,2})?\s*"
    r"(stars?|points?|pts|gwiazd\w*|pkt|punkt\w*|звезд\w*|балл\w*|stell\w*|punt\w*)?$", re.I | re.U)


def placeholder(text: str | None) -> str | None:
    """Why ``text`` is a placeholder — ``"no answer"`` (a phrase that says nothing, or punctuation only)
    or ``"score only"`` — or None when it may carry an opinion."""
    t = " ".join(str(text or "").lower().split())
    if len(t) > 60:  # every placeholder is short; spare the regular expressions on long texts
        return None
    core = _EDGES.sub("", t)
    if not core:  # punctuation only ("-", "…", "?"); a symbol such as an emoji may be an opinion
        return "no answer" if all(unicodedata.category(c)[0] in "PZ" for c in t) else None
    if core in PHRASES or t in PHRASES:
        return "no answer"
    if _SCORE.match(core):
        return "score only"
    return None
