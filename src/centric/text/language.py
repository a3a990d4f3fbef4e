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
_PL = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")


class LanguageDetector:
    """py3langid restricted to ``languages``; Cyrillic and Polish letters decide short texts."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED, default: str = "en"):
        self.languages = languages
        self.default = default
        self._model = None

    def _identifier(self):
        if self._model is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            self._model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            self._model.set_languages(list(self.languages))
        return self._model

    def detect(self, text: str) -> str:
        t = text.strip()
        if not t:
            return self.default
        if _CYR.search(t) or _UK.search(t):
            if _UK.search(t) and "uk" in self.languages:
                return "uk"
            if "ru" in self.languages and not _UK.search(t):
                lang, _ = self._identifier().classify(t)
                return lang if lang in ("ru", "uk") else "ru"
        if _PL.search(t) and "pl" in self.languages:
            return "pl"
        lang, prob = self._identifier().classify(t)
        if len(t) < 12 and prob < 0.9:
            return self.default
        return lang
