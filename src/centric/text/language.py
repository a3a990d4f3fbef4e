"""Language identification restricted to the languages centric supports, with script rules and the words
short answers are made of, so that one- and two-word answers ("Super!", "Дякую!", "Danke", "Trop cher") land right.

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
             "також", "зараз", "погано", "добре", "гарно", "швидко", "довго", "гаразд", "жахливо", "жахливий", "чудовий",
             "ввічливий", "дякуємо", "нічого", "ніколи", "кепсько", "це", "що", "як", "ні", "мені",
             "коли", "або", "цей", "ця", "можна", "тиждень", "гарна", "гарний", "гарне", "усе", "щиро",
             "чекав", "чекала", "чекали", "чекаю", "раджу", "вчасно", "брудно", "черга", "був", "була", "були",
             "поки"}
# words of short answers that are Russian and not Ukrainian: they keep a short answer Russian when the default is uk
_RU_WORDS = {"да", "нет", "спасибо", "хорошо", "очень", "плохо", "отлично", "ужасно", "быстро", "удобно", "ждал",
             "ждала", "понравилось", "советую", "вежливый", "грубый", "неделю", "всегда"}
# beginnings of Ukrainian words with no Russian counterpart written the same ("швидко", "сподобалось",
# "додзвонився", "зручно", "жахливе"), a Ukrainian noun's ending -ння ("обслуговування", "замовлення"; Russian
# writes -ние), and an apostrophe inside a word ("кур'єр", "п'ять"; Russian writes ъ)
_UK_STEMS = ("швидк", "сподоба", "додзвон", "передзвон", "зателефон", "зручн", "жахлив", "тижн", "звичайн", "замовл")
_UK_SHAPE = re.compile(r"\w{3,}ння\b|[а-яієїґ]['’ʼ][а-яієїґ]", re.I)
_PL = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")
# Words of short answers ("Danke", "Trop cher", "Polecam") that belong to one supported Latin-script language:
# frequent function words and the words of praise, blame, price, speed and service answers are made of. A word
# written the same in two of these languages is dropped from both (``_SHORT``), so a hit decides.
_SHORT_WORDS = {
    "en": "the and very too not never again thanks thank you good great bad awful slow fast late friendly rude "
          "staff service price cheap expensive waited waiting nice happy love all well done poor worst best "
          "excellent helpful quick easy no complaints i",
    "pl": "i bardzo za nie nigdy więcej dzięki dziękuję dobrze dobry dobra źle wolno szybko polecam drogo tanio cena "
          "obsługa miła miły wszystko jest jestem zadowolony zadowolona kurier czekałem czekałam tragedia "
          "fajnie spoko porażka masakra sprawnie",
    "it": "il lo la e molto troppo non mai più grazie mille buono buona ottimo ottima pessimo pessima lento lenta "
          "veloce caro cara prezzo servizio personale gentile tutto tutti bene male consiglio consegna ritardo ho "
          "sono contento contenta perfetto comodo aspettato no che schifo funziona",
    "de": "und sehr zu nicht nie wieder danke gut schlecht langsam schnell teuer billig preis guter gute service "
          "personal freundlich unfreundlich alles bestens zufrieden lieferung spät lange gewartet empfehlenswert "
          "empfehlen schrecklich einfach toll prima ich war ist katastrophe",
    "fr": "et très trop pas jamais plus merci beaucoup bien bon bonne mauvais lent lente rapide cher chère prix "
          "personnel aimable tout parfait nul nulle recommande livraison retard attente longue satisfait content "
          "contente je suis simple colis perdu non la il y",
    "es": "y muy demasiado no nunca más gracias muchas bien bueno buena buen malo mala lento lenta rápido caro cara "
          "precio servicio personal amable todo perfecto recomiendo entrega tarde esperé mucho contento contenta "
          "fácil fatal pésimo satisfecho satisfecha funciona la lo",
}
_COUNTS: dict[str, int] = {}
for _words in _SHORT_WORDS.values():
    for _w in set(_words.split()):
        _COUNTS[_w] = _COUNTS.get(_w, 0) + 1
_SHORT = {lang: {w for w in words.split() if _COUNTS[w] == 1} for lang, words in _SHORT_WORDS.items()}
_SHORT_MAX_WORDS = 4


_IDENTIFIERS: dict[tuple[str, ...], object] = {}


class LanguageDetector:
    """py3langid restricted to ``languages``; Cyrillic and Polish letters decide short texts."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED, default: str | None = None):
        """``default`` is the language of a text whose words do not tell it ("Ok", "👍"); None: the setting
        ``text_language`` (the company's main language, English unless set)."""
        from .. import settings

        self.languages = languages
        self.default = default or settings.get("text_language")
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
            words = re.findall(r"\w+", t.lower())
            if "uk" in self.languages and (_UK.search(t) or set(words) & _UK_WORDS or _UK_SHAPE.search(t)
                                           or any(w.startswith(_UK_STEMS) for w in words)):
                return "uk"  # і ї є ґ, and these words and shapes, are Ukrainian only
            if "ru" in self.languages:
                if _RU.search(t):
                    return "ru"  # ы э ъ ё are Russian only
                lang, prob = self._identifier().classify(t)
                # 0.8: none of 1,292 Russian lines without ы э ъ ё (XED's held-out fifth, SemEval-2016)
                # goes to Ukrainian at it; 0.7 sends one, 0.5 sends 45
                if lang == "uk" and prob > 0.8 and "uk" in self.languages:
                    return "uk"
                if self.default == "uk" and len(words) <= 2 and not set(words) & _RU_WORDS:
                    return "uk"  # "Нормально", "Дешево": written the same in both; the default decides
                return "ru"
        if _PL.search(t) and "pl" in self.languages:
            return "pl"
        words = re.findall(r"\w+", t.lower())
        if len(words) <= _SHORT_MAX_WORDS:
            hits = {lang: sum(w in _SHORT[lang] for w in words) for lang in self.languages if lang in _SHORT}
            best = max(hits.values(), default=0)
            if best and list(hits.values()).count(best) == 1:
                return max(hits, key=hits.get)  # one language's own words, and no other's as many
        lang, prob = self._identifier().classify(t)
        if len(t) < 12 and prob < 0.5:
            return self.default
        return lang
