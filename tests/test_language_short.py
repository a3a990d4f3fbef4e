"""Language of short answers in the eight supported languages ("Danke", "Trop cher", "Polecam"): the detector
against plain py3langid restricted to the same languages (the independent baseline), on two sets written by hand —
one used while choosing the short-answer words, one written after them and never used to change a word. (The
model's confidence below which a text under 12 characters falls back to the default language was lowered from 0.9
to 0.5 with both sets in view: 0.3 and 0 did worse on the first.) Ukrainian written without і ї є ґ stays weak
(6 of 8 in the second set): the model cannot tell it from Russian in two words."""

from collections import Counter
from pathlib import Path

import pytest

from centric.text.language import SUPPORTED, LanguageDetector

DATA = Path(__file__).parent / "data"


def _rows(name):
    rows = [line.rstrip("\n").split("\t") for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line]
    assert {lang for lang, _ in rows} == set(SUPPORTED)
    return rows


def _accuracy(rows, detect):
    ok, n = Counter(), Counter()
    for lang, text in rows:
        n[lang] += 1
        ok[lang] += detect(text) == lang
    return {lang: ok[lang] / n[lang] for lang in n}, sum(ok.values()) / sum(n.values())


def _baseline():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    model.set_languages(list(SUPPORTED))
    return lambda text: model.classify(text)[0]


@pytest.mark.parametrize("name,per_language,overall", [
    ("short_answers.tsv", 0.9, 0.95),          # the set the words were chosen on
    ("short_answers_heldout.tsv", 0.6, 0.85),  # never used to choose them
])
def test_short_answers_in_eight_languages(name, per_language, overall):
    rows = _rows(name)
    ours, ours_all = _accuracy(rows, LanguageDetector().detect)
    base, base_all = _accuracy(rows, _baseline())
    assert ours_all >= overall, ours
    assert min(ours.values()) >= per_language, ours
    assert ours_all > base_all, (ours_all, base_all)


def test_a_word_of_two_languages_decides_nothing():
    d = LanguageDetector()
    assert d.detect("Danke") == "de" and d.detect("Grazie mille") == "it" and d.detect("Merci beaucoup") == "fr"
    assert d.detect("Polecam") == "pl" and d.detect("Muchas gracias") == "es"
    # "personal" is German and Spanish: the short-answer words leave it to the model, which does not say Spanish
    # for an English sentence around it
    assert d.detect("personal service was great") == "en"
