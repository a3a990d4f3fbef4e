"""A survey form's fields checked before anything is stored: the field at fault, a reason code and a message."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from centric import settings
from centric.surveys import from_dict
from centric.surveys.answers import Answer, AnswerError, validate, validate_comment, validate_contact

LABEL = {"en": "Q", "pl": "P", "ru": "В", "it": "D"}


def _survey(kind="nps", questions=()):
    return from_dict({"slug": "s", "name": "S", "kind": kind, "branding": {"company": "Shop"},
                      "questions": list(questions)})


EXTRAS = _survey("csat", [
    {"id": "reason", "type": "choice", "label": LABEL, "required": True,
     "options": [{"id": "price", "label": LABEL}, {"id": "speed", "label": LABEL}]},
    {"id": "staff", "type": "rating", "label": LABEL, "scale": [1, 10]},
    {"id": "idea", "type": "text", "label": LABEL},
])


@pytest.mark.parametrize(("kind", "score", "expected"), [
    ("nps", "0", 0), ("nps", "10", 10), ("nps", " 7 ", 7), ("csat", "1", 1), ("csat", "5", 5), ("ces", "7", 7),
])
def test_scores_on_each_kinds_scale(kind, score, expected):
    assert validate(_survey(kind), {"score": score}).score == expected


@pytest.mark.parametrize(("kind", "fields", "field", "reason"), [
    ("nps", {}, "score", "missing"),
    ("nps", {"score": "  "}, "score", "missing"),
    ("nps", {"score": "11"}, "score", "out_of_range"),
    ("nps", {"score": "-1"}, "score", "out_of_range"),
    ("csat", {"score": "0"}, "score", "out_of_range"),
    ("csat", {"score": "6"}, "score", "out_of_range"),
    ("ces", {"score": "8"}, "score", "out_of_range"),
    ("nps", {"score": "7.5"}, "score", "not_whole"),
    ("nps", {"score": "seven"}, "score", "not_whole"),
    ("nps", {"score": "1e3"}, "score", "not_whole"),
    ("nps", {"score": "99999999999999999999"}, "score", "not_whole"),
    ("nps", {"score": "5", "is_admin": "1"}, "is_admin", "unknown_field"),
    ("nps", {"score": "5", "q_nothing": "x"}, "q_nothing", "unknown_field"),
    ("nps", {"score": "5", "comment": "a\x00b"}, "comment", "bad_character"),
])
def test_bad_fields_name_the_field_and_the_reason(kind, fields, field, reason):
    with pytest.raises(AnswerError) as e:
        validate(_survey(kind), fields)
    assert (e.value.field, e.value.reason) == (field, reason)
    assert str(e.value).startswith(f"{field}: ")


def test_the_comment_limit_counts_characters_with_line_breaks_as_one(monkeypatch):
    monkeypatch.setenv(settings.SETTINGS["survey_comment_max"].env, "10")
    s = _survey()
    assert validate(s, {"score": "3", "comment": "łódź\r\nźle"}).comment == "łódź\nźle"  # 9 characters
    with pytest.raises(AnswerError) as e:
        validate(s, {"score": "3", "comment": "x" * 11})
    assert (e.value.field, e.value.reason, e.value.message) == ("comment", "too_long", "11 characters; at most 10")


def test_the_default_comment_limit_is_5000():
    s = _survey()
    assert len(validate(s, {"score": "3", "comment": "y" * 5000}).comment) == 5000
    with pytest.raises(AnswerError, match="5,001 characters; at most 5,000"):
        validate(s, {"score": "3", "comment": "y" * 5001})


def test_score_only_comment_empty_and_comment_sent_are_told_apart():
    s = _survey()
    assert validate(s, {"score": "9"}) == Answer(9, None, {}, "en", False)
    assert validate(s, {"score": "9", "comment": "   "}) == Answer(9, None, {}, "en", True)


def test_extra_questions_by_their_ids():
    a = validate(EXTRAS, {"score": "2", "q_reason": "speed", "q_staff": "9", "q_idea": " Faster couriers "})
    assert a.extras == {"reason": "speed", "staff": "9", "idea": "Faster couriers"}
    assert validate(EXTRAS, {"score": "2", "q_reason": "price"}).extras == {"reason": "price"}


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"score": "2"}, "q_reason", "missing"),
    ({"score": "2", "q_reason": "colour"}, "q_reason", "not_an_option"),
    ({"score": "2", "q_reason": "price", "q_staff": "11"}, "q_staff", "out_of_range"),
    ({"score": "2", "q_reason": "price", "q_staff": "0"}, "q_staff", "out_of_range"),
    ({"score": "2", "q_reason": "price", "q_staff": "good"}, "q_staff", "not_whole"),
])
def test_extra_answers_refused(fields, field, reason):
    with pytest.raises(AnswerError) as e:
        validate(EXTRAS, fields)
    assert (e.value.field, e.value.reason) == (field, reason)


def test_the_forms_own_fields_are_taken_and_lang_picks_a_language_of_the_survey():
    s = _survey()
    fields = {"score": "4", "t": "123.abc", "website": "", "embed": "1", "lang": "ru"}
    assert validate(s, fields, "pl").language == "ru"
    assert validate(s, {"score": "4"}, "it").language == "it"
    assert validate(s, {"score": "4", "lang": "de"}, "pl").language == "en"  # no German texts: the default


def test_a_field_sent_twice_is_refused():
    form = FormData([("score", "10"), ("score", "0")])
    with pytest.raises(AnswerError) as e:
        validate(_survey(), form)
    assert (e.value.field, e.value.reason) == ("score", "repeated")


def test_comment_after_the_score_and_contact_wish():
    assert validate_comment({"comment": " It broke "}, "pl") == Answer(None, "It broke", {}, "pl", True)
    with pytest.raises(AnswerError) as e:
        validate_comment({"comment": ""})
    assert e.value.reason == "missing"
    with pytest.raises(AnswerError) as e:
        validate_comment({"comment": "x", "score": "1"})
    assert (e.value.field, e.value.reason) == ("score", "unknown_field")
    assert validate_contact({"channel": "phone", "time": "evening"}).extras == {"contact_me": "phone:evening"}
    assert validate_contact({"channel": "email"}).extras == {"contact_me": "email:any"}
    with pytest.raises(AnswerError) as e:
        validate_contact({"channel": "pigeon"})
    assert (e.value.field, e.value.reason) == ("channel", "not_an_option")
