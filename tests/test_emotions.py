"""Emotions: the shipped head, the text-level rule, XED's fixed split and known sentences per language."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from centric.text import Analyzer
from centric.text.emotions import (
    EMOTIONS,
    PRESENT,
    EmotionModel,
    present,
    read_xed,
    text_emotions,
    xed_heldout,
)

from .conftest import SHARED

XED = SHARED / "xed_emotions"
ROOT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer("retail", fast=True)


def test_head_shape_and_range():
    m = EmotionModel("use-v3")
    E = np.random.default_rng(0).normal(size=(5, 512)).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    P = m.proba(E)
    assert P.shape == (5, 8) and ((P >= 0) & (P <= 1)).all()
    assert m.proba(np.zeros((0, 512))).shape == (0, 8)
    # the same embeddings give the same probabilities, row by row as in a batch
    assert np.allclose(P[2:3], m.proba(E[2:3]), atol=1e-6)
    assert np.array_equal(P, m.proba(E))


def test_head_refuses_embeddings_of_another_size():
    # e5-small's 384 numbers fed to the USE head (512) would otherwise fail deep in a matrix product
    with pytest.raises(ValueError, match=r"emotions_use-v3\.npz reads 512 numbers per sentence .*\(2, 384\)"):
        EmotionModel("use-v3").proba(np.zeros((2, 384), dtype=np.float32))


def test_text_level_is_the_largest_over_sentences():
    P = np.zeros((3, 8))
    P[0, EMOTIONS.index("anger")] = 0.8
    P[1, EMOTIONS.index("anger")] = 0.3
    P[2, EMOTIONS.index("joy")] = 0.6
    got = text_emotions(P)
    assert list(got) == list(EMOTIONS)
    assert got["anger"] == 0.8 and got["joy"] == 0.6 and got["fear"] == 0.0
    assert present(got) == ["anger", "joy"]
    assert text_emotions(np.zeros((0, 8))) == dict.fromkeys(EMOTIONS, 0.0)


def test_read_xed_skips_alignment_lines(tmp_path):
    f = tmp_path / "x.tsv"
    f.write_text("You bastard!\t1, 3\nfile.xml.gz\tother.xml.gz\t1\t2\tDa\tDe\nWow.\t7\nbad\tnine\n", encoding="utf-8")
    rows, skipped = read_xed(f)
    assert rows == [("You bastard!", ("anger", "disgust")), ("Wow.", ("surprise",))]
    assert skipped == 2


def test_split_is_the_hash_of_the_line():
    for t in ("Then why are you hanging around here ?", "Ty sukinsynu!", "Я только что говорила с Джейн Дэвис."):
        assert xed_heldout(t) == (int(hashlib.sha256(t.encode()).hexdigest()[:8], 16) % 5 == 0)
    assert xed_heldout(" Ty sukinsynu! ") == xed_heldout("Ty sukinsynu!")


@pytest.mark.shared
def test_heldout_lines_never_train():
    if not XED.exists():
        pytest.skip(f"{XED} is absent")
    spec = importlib.util.spec_from_file_location("train_emotions", ROOT_DIR / "scripts" / "train_emotions.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    train = {hashlib.sha256(t.encode()).hexdigest() for _, t, _ in mod.xed_train(XED)}
    held, total = set(), 0
    for lang in mod.LANGS:
        rows, _ = read_xed(XED / f"{lang}.tsv")
        total += len(rows)
        held |= {hashlib.sha256(t.encode()).hexdigest() for t, _ in rows if xed_heldout(t)}
    assert train and held and not train & held
    assert 0.15 < len(held) / total < 0.25  # about a fifth


# sentences not in the training data (neither XED nor emotions_seed.tsv), one clear emotion each
KNOWN = [
    ("en", "I am furious, the shop refused my refund and the clerk laughed at me.", "anger"),
    ("en", "We are so happy with the new kitchen, it is beautiful!", "joy"),
    ("pl", "Jestem wściekły, sprzedawca mnie oszukał i jeszcze mnie wyśmiał.", "anger"),
    ("pl", "Jesteśmy bardzo szczęśliwi, wszystko było wspaniałe!", "joy"),
    ("ru", "Я в ярости, продавец обманул меня и ещё нахамил.", "anger"),
    ("ru", "Мы очень счастливы, всё было просто замечательно!", "joy"),
    ("it", "Sono furioso, il commesso mi ha truffato e mi ha pure insultato.", "anger"),
    ("it", "Siamo felicissimi, è stato tutto meraviglioso!", "joy"),
]


@pytest.mark.parametrize("lang,text,emotion", KNOWN)
def test_known_sentences(analyzer, lang, text, emotion):
    r = analyzer.analyze([{"id": 1, "text": text, "lang": lang}])[0]
    assert set(r.emotions) == set(EMOTIONS)
    assert r.emotions[emotion] >= PRESENT
    assert max(r.emotions, key=r.emotions.get) == emotion


def test_pipeline_output_and_determinism(analyzer):
    items = [{"id": 1, "text": "The package arrived on Tuesday. The courier was rude and I am furious!", "lang": "en"},
             {"id": 2, "text": "n/a", "lang": "en"}]
    a, b = analyzer.analyze(items), analyzer.analyze(items)
    r = a[0]
    assert len(r.sentence_emotions) == len(r.sentences) == 2
    assert all(list(s) == list(EMOTIONS) for s in r.sentence_emotions)
    # the text's emotion is the largest of its sentences'
    assert r.emotions == {e: max(s[e] for s in r.sentence_emotions) for e in EMOTIONS}
    assert r.sentence_emotions[1]["anger"] >= PRESENT > r.sentence_emotions[0]["anger"]
    assert r.to_dict()["sentence_emotions"] == r.sentence_emotions
    assert [x.emotions for x in a] == [x.emotions for x in b]
    assert a[1].emotions == {} and a[1].placeholder  # a placeholder answer is not analysed


# plain statements of fact from a review, not in the training data: no emotion at all (those marked
# xfail are a known gap, strict: the test fails once they pass, to be moved up)
GAP = "still given an emotion: the real no-opinion training sentences are Polish only (see docs/text.md)"
NEUTRAL = [
    ("en", "I ordered the fridge on Monday."),
    pytest.param("en", "The shop is next to the station.", marks=pytest.mark.xfail(strict=True, reason=GAP)),
    ("pl", "Zamówiłem lodówkę w poniedziałek."),  # anticipation until the short answers joined the training
    ("pl", "Sklep jest obok dworca."),
    pytest.param("ru", "Я заказал холодильник в понедельник.", marks=pytest.mark.xfail(strict=True, reason=GAP)),
    ("ru", "Магазин находится рядом с вокзалом."),  # the same
    ("it", "Ho ordinato il frigorifero lunedì."),
    pytest.param("it", "Il negozio è vicino alla stazione.", marks=pytest.mark.xfail(strict=True, reason=GAP)),
]


@pytest.mark.parametrize("lang,text", NEUTRAL)
def test_neutral_sentences_have_no_emotion(analyzer, lang, text):
    r = analyzer.analyze([{"id": 1, "text": text, "lang": lang}])[0]
    assert set(r.emotions) == set(EMOTIONS)
    assert present(r.emotions) == [], r.emotions


def test_neutral_sentences_are_not_trained_on():
    seed = (ROOT_DIR / "src/centric/text/data/emotions_seed.tsv").read_text(encoding="utf-8")
    for text in [p.values[1] if hasattr(p, "values") else p[1] for p in NEUTRAL] + [t for _, t, _ in KNOWN]:
        assert text not in seed
    trained = {line.split("\t")[-1].strip().lower() for line in seed.splitlines()}
    assert not {r["text"].lower() for r in _short_answers()} & trained


def _short_answers() -> list[dict[str, str]]:
    """tests/data/short_answers_emotions.tsv: everyday survey answers in the eight languages, written apart from
    the short answers of emotions_seed.tsv (other words, or the same words spelt otherwise): ``none`` — a lukewarm
    answer ("okay", "Jest ok.", "Нормально всё."); ``joy`` — praise; ``blame`` — a verdict of anger, disgust or
    sadness."""
    with open(ROOT_DIR / "tests/data/short_answers_emotions.tsv", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _right(kind: str, emotions: dict[str, float]) -> bool:
    on = set(present(emotions))
    if kind == "none":
        return not on
    if kind == "joy":
        return "joy" in on and max(emotions, key=emotions.get) == "joy"
    return bool(on & {"anger", "disgust", "sadness"}) and not on & {"joy", "trust"}


@pytest.mark.parametrize("mode", [{"fast": True}, {}], ids=["fast", "default"])
def test_short_answers(mode):
    """The answers a survey gets most — "Ok", "Super!", "Awful!" — in both modes: a lukewarm answer shows no
    emotion (before the short answers of emotions_seed.tsv, 23 and 22 of these 24 showed one: "okay" joy and trust,
    "Okay." anticipation, joy and trust; so this test fails on the models before them), praise shows joy first,
    blame a negative emotion and no joy or trust."""
    rows = _short_answers()
    res = Analyzer("retail", **mode).analyze([{"id": i, "text": r["text"], "lang": r["lang"]}
                                              for i, r in enumerate(rows)])
    wrong: dict[str, list[str]] = {}
    for r, x in zip(rows, res, strict=True):
        assert set(x.emotions) == set(EMOTIONS)
        if not _right(r["kind"], x.emotions):
            wrong.setdefault(r["kind"], []).append(r["text"])
    counts = {k: sum(r["kind"] == k for r in rows) for k in ("none", "joy", "blame")}
    assert counts == {"none": 24, "joy": 16, "blame": 16}
    # measured 2026-12-04: lukewarm 16 (fast) and 17 (default) of 24 right, praise 16 and 16 of 16, blame 14 and 12
    # of 16; the floors leave room for the last digits of another machine's arithmetic
    floors = {"none": 15, "joy": 14, "blame": 11}
    assert {k: n - len(wrong.get(k, [])) >= floors[k] for k, n in counts.items()} == dict.fromkeys(counts, True), wrong


def test_review_split_is_the_hash_of_the_sentence():
    import sys

    sys.path.insert(0, str(ROOT_DIR / "scripts"))
    from emotion_reviews import heldout

    for t in ("Pokój był czysty .", "Śniadanie w cenie .", "Recepcja czynna całą dobę ."):
        assert heldout(t) == (int(hashlib.sha256(t.encode()).hexdigest()[:8], 16) % 5 == 0)


@pytest.mark.shared
def test_heldout_review_sentences_never_train():
    import sys

    if not (SHARED / "polish_aste_pl").exists():
        pytest.skip(f"{SHARED / 'polish_aste_pl'} is absent")
    sys.path.insert(0, str(ROOT_DIR / "scripts"))
    from emotion_reviews import measured, neutral_training

    train = {t for _, t in neutral_training(SHARED)}
    held = {t for src, _, t, _ in measured(SHARED) if src == "Polish-ASTE"}
    assert len(train) > 1000 and len(held) > 200 and not train & held


@pytest.mark.parametrize("text,sentiment", [
    ("La lavatrice è arrivata con un'ammaccatura.", "negative"),
    ("The washing machine arrived dented and nobody called back.", "negative"),
    ("Pralka przyjechała porysowana i nikt nie oddzwonił.", "negative"),
    ("Стиральная машина приехала с вмятиной.", "negative"),
    ("Great service, the courier was lovely!", "positive"),
    ("Obsługa super, kurier bardzo miły.", "positive"),
])
def test_emotions_agree_with_the_sentence_polarity(text, sentiment):
    """Through the real pipeline: a negative review sentence gets no joy or trust, a positive one no anger,
    disgust, fear or sadness (the model alone gave "arrivata con un'ammaccatura" trust 0.82)."""
    from centric.text.emotions import NEGATIVE, POSITIVE
    from centric.text.pipeline import Analyzer

    r = Analyzer("retail").analyze([{"id": 1, "text": text}])[0]
    assert r.sentiment == sentiment
    contrary = POSITIVE if sentiment == "negative" else NEGATIVE
    assert all(r.emotions[e] < 0.5 for e in contrary), r.emotions


def test_the_default_mode_averages_the_three_heads():
    """Default mode: each sentence's emotions are the mean of the probabilities of the USE head, the e5 head and
    the head over both side by side (then the polarity agreement); --fast and the cascade read the USE head
    alone."""
    from centric.text.emotions import agree_with_polarity

    widths = []

    class Head:
        def __init__(self, p):
            self.p = np.array(p, dtype=float)

        def proba(self, E):
            widths.append(E.shape[1])
            return np.tile(self.p, (len(E), 1))

    a = Analyzer("retail")
    assert [(h.path.name, joint) for h, joint in a.polarity_emotions] == [
        ("emotions_e5-small.npz", False), ("emotions_use-v3+e5-small.npz", True)]
    assert Analyzer("retail", fast=True).polarity_emotions == []
    assert Analyzer("retail", gate=0.8).polarity_emotions == []
    a.emotion = Head([0.9, 0.2, 0.0, 0.0, 0.1, 0.0, 0.6, 0.0])
    a.polarity_emotions = [(Head([0.3, 0.4, 0.0, 0.0, 0.5, 0.0, 0.2, 0.0]), False),
                           (Head([0.6, 0.0, 0.3, 0.0, 0.3, 0.0, 0.4, 0.0]), True)]
    a.polarity_sentiment = Head([0.6, 0.3, 0.1])  # negative leaning: joy and trust are damped by 0.5
    (r,) = a.analyze([{"id": 1, "text": "The parcel came late.", "lang": "en"}])
    assert sorted(widths[-3:]) == [384, 512, 896]  # e5, USE, and both side by side
    mean = np.array([[0.6, 0.2, 0.1, 0.0, 0.3, 0.0, 0.4, 0.0]])
    want = agree_with_polarity(mean, np.array([[0.6, 0.3, 0.1]]))[0]
    assert r.sentence_emotions == [dict(zip(EMOTIONS, np.round(want, 3), strict=True))]
    assert r.emotions["anger"] == 0.6 and r.emotions["joy"] == 0.15 and r.emotions["disgust"] == 0.1
