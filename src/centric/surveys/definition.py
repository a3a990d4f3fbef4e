"""Survey definitions from a TOML file (``centric surveys add FILE.toml``) or a dict (the web app's form).

Every error is a ``SurveyError`` naming the file and the key, e.g. ``survey.toml: questions[2].options: …``.
Texts not given are filled with defaults per kind and language (``{company}`` in a text is the company's
name). A logo is a PNG, SVG or JPEG file next to the TOML file (at most 200 KB), kept in the definition as a
``data:`` URI so the form needs no file and makes no request elsewhere.

A minimal file::

    slug = "after-delivery"
    name = "After delivery"
    kind = "nps"
    touchpoint = "delivery"

    [branding]
    company = "Kettle & Co"
"""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import (
    AUDIENCES,
    KINDS,
    LANGUAGES,
    PERIODS,
    QUESTION_TYPES,
    TEXT_FIELDS,
    Branding,
    Option,
    Question,
    Survey,
    SurveyError,
    SurveyTexts,
)

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 200_000
MAX_QUESTIONS = 10
MAX_OPTIONS = 20
MAX_TEXT = 1000  # longest text of a definition (a title, a label …), in characters
KEYS = {"slug", "name", "kind", "touchpoint", "channel", "anonymous", "default_language", "languages", "texts",
        "branding", "questions", "audience", "period"}

# Default texts: (kind-independent, then per kind) in each language. "{company}" is the company's name.
_COMMON = {
    "en": {"title": "{company}: how did we do?", "intro": "It takes less than a minute.",
           "comment": "What is the main reason for your score?", "submit": "Send",
           "thanks": "Thank you for your answer!", "email_subject": "{company} would like your opinion",
           "email_intro": "Hello, could you answer one question? Choose a score below: it opens the form with "
                          "your score filled in.",
           "reminder_subject": "Reminder: {company} would like your opinion"},
    "pl": {"title": "{company}: jak nam poszło?", "intro": "To zajmie mniej niż minutę.",
           "comment": "Co jest głównym powodem Twojej oceny?", "submit": "Wyślij",
           "thanks": "Dziękujemy za odpowiedź!", "email_subject": "{company} prosi o Twoją opinię",
           "email_intro": "Dzień dobry, czy możesz odpowiedzieć na jedno pytanie? Wybierz ocenę poniżej: otworzy "
                          "się formularz z zaznaczoną oceną.",
           "reminder_subject": "Przypomnienie: {company} prosi o Twoją opinię"},
    "ru": {"title": "{company}: как мы справились?", "intro": "Это займёт меньше минуты.",
           "comment": "Какова главная причина вашей оценки?", "submit": "Отправить",
           "thanks": "Спасибо за ваш ответ!", "email_subject": "{company} хочет узнать ваше мнение",
           "email_intro": "Здравствуйте! Ответьте, пожалуйста, на один вопрос. Выберите оценку ниже: откроется "
                          "форма, где она уже будет отмечена.",
           "reminder_subject": "Напоминание: {company} хочет узнать ваше мнение"},
    "it": {"title": "{company}: come siamo andati?", "intro": "Ci vorrà meno di un minuto.",
           "comment": "Qual è il motivo principale del tuo voto?", "submit": "Invia",
           "thanks": "Grazie per la tua risposta!", "email_subject": "{company} vorrebbe la tua opinione",
           "email_intro": "Buongiorno, puoi rispondere a una domanda? Scegli un voto qui sotto: si aprirà il "
                          "modulo con il voto già selezionato.",
           "reminder_subject": "Promemoria: {company} vorrebbe la tua opinione"},
}
_BY_KIND = {
    "nps": {
        "en": ("How likely are you to recommend {company} to a friend or colleague?", "Not at all likely",
               "Extremely likely"),
        "pl": ("Jak bardzo prawdopodobne jest, że polecisz {company} znajomemu lub współpracownikowi?",
               "Zupełnie nieprawdopodobne", "Bardzo prawdopodobne"),
        "ru": ("Насколько вероятно, что вы порекомендуете {company} другу или коллеге?", "Совсем маловероятно",
               "Очень вероятно"),
        "it": ("Quanto è probabile che tu consigli {company} a un amico o a un collega?", "Per niente probabile",
               "Estremamente probabile"),
    },
    "csat": {
        "en": ("How satisfied are you with our service?", "Very dissatisfied", "Very satisfied"),
        "pl": ("Jak oceniasz swoje zadowolenie z naszej obsługi?", "Bardzo źle", "Bardzo dobrze"),
        "ru": ("Насколько вы довольны нашим обслуживанием?", "Очень плохо", "Отлично"),
        "it": ("Qual è il tuo livello di soddisfazione per il nostro servizio?", "Pessimo", "Ottimo"),
    },
    "ces": {
        "en": ("How much do you agree: it was easy to get my issue handled.", "Strongly disagree",
               "Strongly agree"),
        "pl": ("Na ile zgadzasz się ze stwierdzeniem: „Załatwienie mojej sprawy było łatwe”?",
               "Zdecydowanie się nie zgadzam", "Zdecydowanie się zgadzam"),
        "ru": ("Насколько вы согласны с утверждением: «Решить мой вопрос было легко»?",
               "Полностью не согласен(-на)", "Полностью согласен(-на)"),
        "it": ("Quanto sei d'accordo con l'affermazione: «È stato facile risolvere la mia richiesta»?",
               "Per niente d'accordo", "Completamente d'accordo"),
    },
}

# Employee surveys (audience = "employees"): eNPS (kind nps) and a pulse (kind csat: its main question 1–5).
_EMPLOYEES = {
    "en": {"title": "{company}: your workplace", "intro": "Anonymous: nobody sees who answered what, and a group "
           "of fewer than a few colleagues is never shown.", "comment": "Anything you would like to tell us?",
           "email_subject": "{company}: a short anonymous survey", "reminder_subject": "Reminder: {company}'s "
           "anonymous survey", "email_intro": "Hello, please answer our short anonymous survey. Your answer "
           "is never linked to you."},
    "pl": {"title": "{company}: Twoje miejsce pracy", "intro": "Anonimowo: nikt nie widzi, kto co odpowiedział, "
           "a grupa mniejsza niż kilka osób nigdy nie jest pokazywana.", "comment": "Czy chcesz nam coś "
           "przekazać?", "email_subject": "{company}: krótka anonimowa ankieta", "reminder_subject": "Przypomnienie: "
           "anonimowa ankieta {company}", "email_intro": "Dzień dobry, prosimy o wypełnienie krótkiej anonimowej "
           "ankiety. Twoja odpowiedź nigdy nie jest łączona z Tobą."},
    "ru": {"title": "{company}: ваше место работы", "intro": "Анонимно: никто не видит, кто что ответил, а группа "
           "меньше нескольких человек никогда не показывается.", "comment": "Хотите что-нибудь нам сказать?",
           "email_subject": "{company}: короткий анонимный опрос", "reminder_subject": "Напоминание: анонимный "
           "опрос {company}", "email_intro": "Здравствуйте! Ответьте, пожалуйста, на короткий анонимный опрос. "
           "Ваш ответ никогда не связывается с вами."},
    "it": {"title": "{company}: il tuo posto di lavoro", "intro": "Anonimo: nessuno vede chi ha risposto cosa, e "
           "un gruppo di pochi colleghi non viene mai mostrato.", "comment": "Vuoi dirci qualcosa?",
           "email_subject": "{company}: un breve sondaggio anonimo", "reminder_subject": "Promemoria: il "
           "sondaggio anonimo di {company}", "email_intro": "Buongiorno, ti chiediamo di rispondere al nostro "
           "breve sondaggio anonimo. La tua risposta non viene mai collegata a te."},
}
_EMPLOYEES_BY_KIND = {
    "nps": {
        "en": ("How likely are you to recommend {company} as a place to work?", "Not at all likely",
               "Extremely likely"),
        "pl": ("Jak bardzo prawdopodobne jest, że polecisz {company} jako miejsce pracy?",
               "Zupełnie nieprawdopodobne", "Bardzo prawdopodobne"),
        "ru": ("Насколько вероятно, что вы порекомендуете {company} как место работы?", "Совсем маловероятно",
               "Очень вероятно"),
        "it": ("Quanto è probabile che tu consigli {company} come posto di lavoro?", "Per niente probabile",
               "Estremamente probabile"),
    },
    "csat": {
        "en": ("How do you feel about your work this period?", "Very bad", "Very good"),
        "pl": ("Jak się czujesz w pracy w tym okresie?", "Bardzo źle", "Bardzo dobrze"),
        "ru": ("Как вы себя чувствуете на работе в этот период?", "Очень плохо", "Очень хорошо"),
        "it": ("Come ti senti al lavoro in questo periodo?", "Molto male", "Molto bene"),
    },
}


def default_texts(kind: str, language: str, company: str, audience: str = "customers") -> SurveyTexts:
    """The default texts of a ``kind`` survey in ``language``, with the company's name filled in (``audience``
    employees: an employee survey's)."""
    if audience == "employees":
        question, low, high = _EMPLOYEES_BY_KIND[kind][language]
        values = {**_COMMON[language], **_EMPLOYEES[language], "question": question, "low": low, "high": high}
        return SurveyTexts(**{k: values[k].replace("{company}", company) for k in TEXT_FIELDS})
    question, low, high = _BY_KIND[kind][language]
    values = {**_COMMON[language], "question": question, "low": low, "high": high}
    return SurveyTexts(**{k: values[k].replace("{company}", company) for k in TEXT_FIELDS})


def load_toml(path: str | Path) -> Survey:
    """The survey defined in the TOML file ``path`` (a logo is read relative to the file's folder)."""
    p = Path(path)
    where = p.name
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise SurveyError(f"{path}: cannot read the file ({e.strerror or e})") from e
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise SurveyError(f"{where}: not UTF-8 text (byte {e.start})") from e
    except tomllib.TOMLDecodeError as e:
        raise SurveyError(f"{where}: not valid TOML: {e}") from e
    return from_dict(data, where=where, base=p.resolve().parent)


def from_dict(d: Mapping[str, Any], where: str = "survey", base: Path | None = None) -> Survey:
    """A checked ``Survey`` from a dict shaped like the TOML file (or ``Survey.to_dict()``). ``where`` names the
    source in errors; ``base`` is the folder a logo file is read from (none: the logo must be a data: URI)."""
    if not isinstance(d, Mapping):
        raise SurveyError(f"{where}: expected a table of settings, got {type(d).__name__}")
    unknown = sorted(set(d) - KEYS)
    if unknown:
        raise SurveyError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(KEYS))}")

    slug = _text(d, "slug", where, required=True, limit=40)
    if not SLUG.match(slug):
        raise SurveyError(f"{where}: slug: {slug!r} must be 1–40 lower-case letters, digits and dashes "
                          "(not starting or ending with a dash), e.g. after-delivery")
    name = _text(d, "name", where, required=True, limit=200)
    kind = _text(d, "kind", where, required=True).lower()
    if kind not in KINDS:
        raise SurveyError(f"{where}: kind: {kind!r} must be one of {', '.join(KINDS)}")
    touchpoint = _text(d, "touchpoint", where, limit=100).lower() or None
    channel = _text(d, "channel", where, limit=100).lower() or None
    anonymous = d.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise SurveyError(f"{where}: anonymous: expected true or false, got {anonymous!r}")
    audience, period = _audience(d, where, kind, anonymous)

    languages = d.get("languages", list(LANGUAGES))
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
        raise SurveyError(f"{where}: languages: expected a list such as [\"en\", \"pl\"]")
    languages = [x.strip().lower() for x in languages]
    for i, lang in enumerate(languages):
        if lang not in LANGUAGES:
            raise SurveyError(f"{where}: languages[{i + 1}]: {lang!r} is not one of {', '.join(LANGUAGES)}")
    if len(set(languages)) != len(languages):
        raise SurveyError(f"{where}: languages: a language is listed twice")
    default_language = _text(d, "default_language", where).lower() or languages[0]
    if default_language not in languages:
        raise SurveyError(f"{where}: default_language: {default_language!r} is not among the survey's "
                          f"languages ({', '.join(languages)})")

    branding = _branding(d.get("branding", {}), where, base)
    texts = _texts(d.get("texts", {}), where, kind, languages, branding.company, audience)
    questions = _questions(d.get("questions", []), where, languages)
    return Survey(slug=slug, name=name, kind=kind, texts=texts, touchpoint=touchpoint, channel=channel,
                  questions=questions, branding=branding, default_language=default_language, anonymous=anonymous,
                  audience=audience, period=period)


def _audience(d: Mapping, where: str, kind: str, anonymous: bool) -> tuple[str, str | None]:
    """``audience`` (customers or employees) and, for employees, ``period`` (month or quarter). An employee
    survey is eNPS (kind nps) or a pulse (kind csat) and is answered through employee links only."""
    audience = _text(d, "audience", where).lower() or "customers"
    if audience not in AUDIENCES:
        raise SurveyError(f"{where}: audience: {audience!r} must be one of {', '.join(AUDIENCES)}")
    period = _text(d, "period", where).lower()
    if audience == "customers":
        if period:
            raise SurveyError(f"{where}: period: only an employee survey (audience = \"employees\") has a period")
        return audience, None
    if kind not in _EMPLOYEES_BY_KIND:
        raise SurveyError(f"{where}: kind: an employee survey is nps (eNPS) or csat (a pulse, 1–5), not {kind!r}")
    if anonymous:
        raise SurveyError(f"{where}: anonymous: an employee survey takes answers through employee links only "
                          "(its answers are anonymous anyway); remove anonymous = true")
    period = period or "quarter"
    if period not in PERIODS:
        raise SurveyError(f"{where}: period: {period!r} must be one of {', '.join(PERIODS)}")
    return audience, period


def _text(d: Mapping, key: str, where: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    v = d.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise SurveyError(f"{where}: {key}: required")
        return ""
    if not isinstance(v, str):
        raise SurveyError(f"{where}: {key}: expected text, got {v!r}")
    v = v.strip()
    if len(v) > limit:
        raise SurveyError(f"{where}: {key}: at most {limit} characters, got {len(v)}")
    return v


def _table(v: Any, where: str, key: str) -> Mapping:
    if not isinstance(v, Mapping):
        raise SurveyError(f"{where}: {key}: expected a table, got {v!r}")
    return v


def _branding(v: Any, where: str, base: Path | None) -> Branding:
    b = _table(v, where, "branding")
    known = {"company", "logo", "primary", "background", "text"}
    unknown = sorted(set(b) - known)
    if unknown:
        raise SurveyError(f"{where}: branding.{unknown[0]}: unknown key; known: {', '.join(sorted(known))}")
    company = _named_text(b, "company", "branding.company", where, required=True, limit=100)
    colours = {}
    for key, default in (("primary", Branding.primary), ("background", Branding.background),
                         ("text", Branding.text)):
        c = b.get(key, default)
        if not isinstance(c, str) or not COLOUR.match(c):
            raise SurveyError(f"{where}: branding.{key}: {c!r} is not a colour written #rrggbb, e.g. #1f5fa8")
        colours[key] = c.lower()
    logo = b.get("logo")
    if logo is not None:
        logo = _logo(logo, where, base)
    return Branding(company=company, logo=logo, **colours)


_LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _logo(v: Any, where: str, base: Path | None) -> str:
    key = f"{where}: branding.logo"
    if not isinstance(v, str) or not v.strip():
        raise SurveyError(f"{key}: expected the name of a PNG, SVG or JPEG file next to the survey file")
    v = v.strip()
    if v.startswith("data:"):
        m = re.match(r"^data:(image/(?:png|jpeg|svg\+xml));base64,([A-Za-z0-9+/=]+)$", v)
        if not m:
            raise SurveyError(f"{key}: a data: URI must be a base64 PNG, SVG or JPEG image")
        try:
            content = base64.b64decode(m.group(2), validate=True)
        except ValueError as e:
            raise SurveyError(f"{key}: the data: URI is not valid base64") from e
        return _logo_uri(content, key, declared=m.group(1))
    if base is None:
        raise SurveyError(f"{key}: {v!r}: a logo file needs a survey file beside it (give a data: URI here)")
    p = (base / v).resolve()
    if p.parent != base.resolve():
        raise SurveyError(f"{key}: {v!r}: the logo must be a file in the survey file's folder")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise SurveyError(f"{key}: cannot read {v!r} ({e.strerror or e})") from e
    if size > LOGO_MAX_BYTES:
        raise SurveyError(f"{key}: {v!r} is {size:,} bytes; at most {LOGO_MAX_BYTES:,}")
    return _logo_uri(p.read_bytes(), f"{key}: {v!r}")


def _logo_uri(content: bytes, key: str, declared: str | None = None) -> str:
    if len(content) > LOGO_MAX_BYTES:
        raise SurveyError(f"{key}: the logo is {len(content):,} bytes; at most {LOGO_MAX_BYTES:,}")
    mime = next((t for t, magic in _LOGO_TYPES.items() if content.startswith(magic)), None)
    if mime is None:
        head = content[:2000].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if (head.startswith(b"<svg") or head.startswith(b"<?xml")) and b"<svg" in head:
            mime = "image/svg+xml"
    if mime is None:
        raise SurveyError(f"{key}: not a PNG, SVG or JPEG image")
    if declared is not None and declared != mime:
        raise SurveyError(f"{key}: the data: URI says {declared} but holds {mime}")
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _texts(v: Any, where: str, kind: str, languages: list[str], company: str,
           audience: str = "customers") -> dict[str, SurveyTexts]:
    given = _table(v, where, "texts")
    for lang in given:
        if lang not in languages:
            raise SurveyError(f"{where}: texts.{lang}: not one of the survey's languages ({', '.join(languages)})")
    out = {}
    for lang in languages:
        t = _table(given.get(lang, {}), where, f"texts.{lang}")
        unknown = sorted(set(t) - set(TEXT_FIELDS))
        if unknown:
            raise SurveyError(f"{where}: texts.{lang}.{unknown[0]}: unknown text; known: {', '.join(TEXT_FIELDS)}")
        values = {k: _named_text(t, k, f"texts.{lang}.{k}", where) for k in TEXT_FIELDS}
        defaults = default_texts(kind, lang, company, audience)
        out[lang] = SurveyTexts(**{k: values[k].replace("{company}", company) if values[k] else getattr(defaults, k)
                                   for k in TEXT_FIELDS})
    return out


def _named_text(t: Mapping, key: str, name: str, where: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    """``t[key]`` as text, errors naming it ``name``."""
    return _text({name: t.get(key)}, name, where, required=required, limit=limit)


def _labels(v: Any, where: str, name: str, languages: list[str]) -> dict[str, str]:
    """A label in each of the survey's languages: a table {en = …, pl = …} (or one text for a survey in one
    language)."""
    if isinstance(v, str) and len(languages) == 1:
        v = {languages[0]: v}
    if not isinstance(v, Mapping):
        raise SurveyError(f"{where}: {name}: expected a table with a text per language "
                          f"({', '.join(languages)}), e.g. {{ en = \"…\", pl = \"…\" }}")
    for lang in v:
        if lang not in languages:
            raise SurveyError(f"{where}: {name}.{lang}: not one of the survey's languages ({', '.join(languages)})")
    return {lang: _named_text(v, lang, f"{name}.{lang}", where, required=True) for lang in languages}


def _questions(v: Any, where: str, languages: list[str]) -> tuple[Question, ...]:
    if not isinstance(v, list):
        raise SurveyError(f"{where}: questions: expected a list of tables ([[questions]])")
    if len(v) > MAX_QUESTIONS:
        raise SurveyError(f"{where}: questions: at most {MAX_QUESTIONS} extra questions, got {len(v)}")
    out: list[Question] = []
    for i, raw in enumerate(v, start=1):
        name = f"questions[{i}]"
        q = _table(raw, where, name)
        unknown = sorted(set(q) - {"id", "type", "label", "options", "scale", "required"})
        if unknown:
            raise SurveyError(f"{where}: {name}.{unknown[0]}: unknown key; known: id, type, label, options, "
                              "scale, required")
        qid = _named_text(q, "id", f"{name}.id", where, required=True)
        if not QUESTION_ID.match(qid):
            raise SurveyError(f"{where}: {name}.id: {qid!r} must start with a letter and hold only lower-case "
                              "letters, digits and _ (at most 30)")
        if any(o.id == qid for o in out):
            raise SurveyError(f"{where}: {name}.id: {qid!r} is used by an earlier question")
        qtype = _named_text(q, "type", f"{name}.type", where, required=True)
        if qtype not in QUESTION_TYPES:
            raise SurveyError(f"{where}: {name}.type: {qtype!r} must be one of {', '.join(QUESTION_TYPES)}")
        required = q.get("required", False)
        if not isinstance(required, bool):
            raise SurveyError(f"{where}: {name}.required: expected true or false, got {required!r}")
        labels = _labels(q.get("label"), where, f"{name}.label", languages)
        options: tuple[Option, ...] = ()
        scale = None
        if qtype == "choice":
            options = _options(q.get("options"), where, name, languages)
        elif "options" in q:
            raise SurveyError(f"{where}: {name}.options: only a choice question has options")
        if qtype == "rating":
            scale = _scale(q.get("scale", [1, 5]), where, f"{name}.scale")
        elif "scale" in q:
            raise SurveyError(f"{where}: {name}.scale: only a rating question has a scale")
        out.append(Question(id=qid, type=qtype, labels=labels, options=options, scale=scale, required=required))
    return tuple(out)


def _options(v: Any, where: str, name: str, languages: list[str]) -> tuple[Option, ...]:
    if not isinstance(v, list) or not 2 <= len(v) <= MAX_OPTIONS:
        raise SurveyError(f"{where}: {name}.options: a choice question needs 2 to {MAX_OPTIONS} options "
                          "([[questions.options]] with id and label)")
    out: list[Option] = []
    for j, raw in enumerate(v, start=1):
        oname = f"{name}.options[{j}]"
        o = _table(raw, where, oname)
        unknown = sorted(set(o) - {"id", "label"})
        if unknown:
            raise SurveyError(f"{where}: {oname}.{unknown[0]}: unknown key; known: id, label")
        oid = _named_text(o, "id", f"{oname}.id", where, required=True)
        if not QUESTION_ID.match(oid):
            raise SurveyError(f"{where}: {oname}.id: {oid!r} must start with a letter and hold only lower-case "
                              "letters, digits and _ (at most 30)")
        if any(x.id == oid for x in out):
            raise SurveyError(f"{where}: {oname}.id: {oid!r} is used by an earlier option")
        out.append(Option(id=oid, labels=_labels(o.get("label"), where, f"{oname}.label", languages)))
    return tuple(out)


def _scale(v: Any, where: str, name: str) -> tuple[int, int]:
    ok = (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
          and 0 <= v[0] < v[1] <= 10)
    if not ok:
        raise SurveyError(f"{where}: {name}: expected [lowest, highest], whole numbers from 0 to 10, e.g. [1, 5]")
    return (v[0], v[1])


__all__ = ["default_texts", "from_dict", "load_toml"]
