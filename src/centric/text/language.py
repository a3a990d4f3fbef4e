"""Language identification restricted to the languages centric supports, with script rules that make
one-word answers ("Super!", "Дякую!") land right.

>>> LanguageDetector().detect("Długo czekałem")
'pl'
>>> LanguageDetector().detect("Все чудово, дякую")
'uk'
"""

from __future__ import annotations

import re

SUPPORTED = ("en", "pl", "ru", "it", "uk", "de", "fr", "es")
_UK = re.compile(r"[іїєґІЇЄҐ]")
_CYR = re.compile(r"[а-яёА-ЯЁ]")
_RU = re.compile(r"[ыэъёЫЭЪЁ]")
# frequent words that are Ukrainian and not Russian, for Ukrainian written without і ї є ґ
_UK_WORDS = {"дякую", "дуже", "чудово", "але", "проте", "ще", "чи", "який", "яка", "яке", "було", "вже", "від",
             "також", "зараз", "погано", "добре", "гарно", "швидко", "довго"}
_PL = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")


_IDENTIFIERS: dict[tuple[str, ...], object] = {}


class LanguageDetector:
    """py3langid restricted to ``languages``; Cyrillic and Polish letters decide short texts."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED, default: str = "en"):
        self.languages = languages
        self.default = default
        self._model = None

    def _identifier(self):
        if self._model is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            key = tuple(self.languages)  # loaded once per process and set of languages (seconds on 2 cores)
            if key not in _IDENTIFIERS:
                model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                model.set_languages(list(self.languages))
                _IDENTIFIERS[key] = model
            self._model = _IDENTIFIERS[key]
        return self._model

    def detect(self, text: str) -> str:
        t = text.strip()
        if not t:
            return self.default
        if _CYR.search(t) or _UK.search(t):
            if "uk" in self.languages and (_UK.search(t) or set(re.findall(r"\w+", t.lower())) & _UK_WORDS):
                return "uk"  # і ї є ґ, and these words, are Ukrainian only
            if "ru" in self.languages:
                if _RU.search(t):
                    return "ru"  # ы э ъ ё are Russian only
                lang, prob = self._identifier().classify(t)
                return "uk" if lang == "uk" and prob > 0.9 and "uk" in self.languages else "ru"
        if _PL.search(t) and "pl" in self.languages:
            return "pl"
        lang, prob = self._identifier().classify(t)
        if len(t) < 12 and prob < 0.9:
            return self.default
        return lang
