"""Review sentences with what is known of their opinion, for the emotion model's neutral training lines
and for measuring how often it finds an emotion where a review states none (or the contrary one).

    review_sentences(shared) → [(source, lang, text, opinion, trainable)]

``opinion`` is ``"none"`` (the annotators marked no opinion at all), ``"positive"`` or ``"negative"``
(every opinion marked in the sentence has that polarity); sentences with mixed or neutral-only
opinions are left out. ``trainable`` says whether the set's licence lets it feed a shipped model:
- SemEval-2016 Task 5 restaurants (EN, RU) and laptops (EN): sentences with no ``Opinion`` are
  "none". Research data without a licence for redistribution: measured only, never trained on;
- ABSITA 2018 hotels (IT): research data, measured only (it has almost no sentence without an
  opinion, so it gives the contrary-emotion figure only);
- Polish-ASTE (PolEmo hotel sentences; CC BY 4.0): ``z_zero`` is "none", ``z_plus_m``/``z_minus_m``
  positive/negative. Trainable, but a fixed fifth (``heldout``) is kept for measuring.
"""

from __future__ import annotations

import csv
import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

ABSITA_ASPECTS = ("cleanliness", "comfort", "amenities", "staff", "value", "wifi", "location", "other")


def heldout(text: str) -> bool:
    """The same rule as XED's split: a sentence is held out when the SHA-256 of its text, as a number
    from its first 8 hex digits, is divisible by 5 (duplicates fall on the same side)."""
    return int(hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:8], 16) % 5 == 0


def _semeval(path: Path, source: str, lang: str) -> list[tuple[str, str, str, str, bool]]:
    out = []
    for s in ET.parse(path).getroot().iter("sentence"):
        text = (s.findtext("text") or "").strip()
        pols = {op.get("polarity") for op in s.iter("Opinion")}
        if not text or s.get("OutOfScope") == "TRUE":
            continue
        opinion = "none" if not pols else pols.pop() if len(pols) == 1 else None
        if opinion in ("none", "positive", "negative"):
            out.append((source, lang, text, opinion, False))
    return out


def _absita(path: Path) -> list[tuple[str, str, str, str, bool]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter=";"):
            pos = any(r[f"{a}_positive"] == "1" for a in ABSITA_ASPECTS)
            neg = any(r[f"{a}_negative"] == "1" for a in ABSITA_ASPECTS)
            opinion = "none" if not (pos or neg) else "positive" if not neg else "negative" if not pos else None
            if opinion and r["sentence"].strip():
                out.append(("ABSITA 2018", "it", r["sentence"].strip(), opinion, False))
    return out


def _polish_aste(path: Path) -> list[tuple[str, str, str, str, bool]]:
    out = []
    labels = {"z_zero": "none", "z_plus_m": "positive", "z_minus_m": "negative"}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            text = json.loads(line)["text"]
            if "__label__" not in text:
                raise SystemExit(f"{path} line {n}, field 'text': no __label__ at its end")
            body, label = text.rsplit("__label__", 1)
            if label.strip() in labels and body.strip():
                out.append(("Polish-ASTE", "pl", body.strip(), labels[label.strip()], True))
    return out


def review_sentences(shared: Path) -> list[tuple[str, str, str, str, bool]]:
    s16 = shared / "semeval2016_task5_absa"
    return (_semeval(s16 / "restaurants_train_english.xml", "SemEval-2016", "en")
            + _semeval(s16 / "laptops_train_english.xml", "SemEval-2016", "en")
            + _semeval(s16 / "restaurants_train_russian.xml", "SemEval-2016", "ru")
            + _absita(shared / "absita2018_it" / "absita_2018_training.csv")
            + _polish_aste(shared / "polish_aste_pl" / "hotels_dataset" / "main_all.jsonl"))


def measured(shared: Path) -> list[tuple[str, str, str, str]]:
    """(source, lang, text, opinion) of the sentences to measure on: all of a set never trained on,
    the held-out fifth of a trainable one (each distinct text once)."""
    seen, out = set(), []
    for src, lang, text, op, trainable in review_sentences(shared):
        if (not trainable or heldout(text)) and (lang, text) not in seen:
            seen.add((lang, text))
            out.append((src, lang, text, op))
    return out


def neutral_training(shared: Path) -> list[tuple[str, str]]:
    """(lang, text) of the no-opinion sentences that may train the shipped model, outside the held-out
    fifth."""
    return sorted({(lang, text) for _, lang, text, op, trainable in review_sentences(shared)
                   if trainable and op == "none" and not heldout(text)})
