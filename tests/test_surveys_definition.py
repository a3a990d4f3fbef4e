"""Survey definitions: TOML files and dicts, defaults per kind and language, errors naming file and key."""

from __future__ import annotations

import base64

import pytest

from centric.store import Store
from centric.surveys import SurveyError, from_dict, load_toml, repo
from centric.surveys.definition import default_texts

MINIMAL = """
slug = "after-delivery"
name = "After delivery"
kind = "nps"
touchpoint = "Delivery"

[branding]
company = "Kettle & Co"
"""

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def _write(tmp_path, text, name="survey.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_file_gets_default_texts_in_four_languages(tmp_path):
    s = load_toml(_write(tmp_path, MINIMAL))
    assert (s.slug, s.kind, s.touchpoint, s.scale, s.status) == ("after-delivery", "nps", "delivery", (0, 10), "active")
    assert s.languages == ("en", "pl", "ru", "it") and s.default_language == "en"
    assert s.text("en").question == "How likely are you to recommend Kettle & Co to a friend or colleague?"
    assert s.text("pl").question.startswith("Jak bardzo prawdopodobne jest, że polecisz Kettle & Co")
    assert s.text("ru").submit == "Отправить" and s.text("it").thanks == "Grazie per la tua risposta!"
    assert s.text("de") == s.text("en")  # a language the survey lacks: the default one
    assert s.branding.primary == "#1f5fa8" and s.branding.logo is None


def test_full_file_with_questions_logo_and_colours(tmp_path):
    (tmp_path / "logo.svg").write_bytes(SVG)
    s = load_toml(_write(tmp_path, MINIMAL.replace('kind = "nps"', 'kind = "csat"') + """
logo = "logo.svg"
primary = "#AA3300"

[texts.pl]
question = "Jak oceniasz dostawę {company}?"

[[questions]]
id = "speed"
type = "choice"
label = { en = "Was it on time?", pl = "Na czas?", ru = "Вовремя?", it = "In orario?" }
  [[questions.options]]
  id = "yes"
  label = { en = "Yes", pl = "Tak", ru = "Да", it = "Sì" }
  [[questions.options]]
  id = "no"
  label = { en = "No", pl = "Nie", ru = "Нет", it = "No" }

[[questions]]
id = "courier"
type = "rating"
scale = [1, 5]
label = { en = "The courier", pl = "Kurier", ru = "Курьер", it = "Il corriere" }
"""))
    assert s.kind == "csat" and s.scale == (1, 5)
    assert s.text("pl").question == "Jak oceniasz dostawę Kettle & Co?"
    assert s.text("en").question == "How satisfied are you with our service?"
    assert [q.id for q in s.questions] == ["speed", "courier"] and s.questions[0].field == "q_speed"
    assert s.questions[0].options[1].label("ru") == "Нет" and s.questions[1].scale == (1, 5)
    assert s.branding.primary == "#aa3300"
    assert s.branding.logo == "data:image/svg+xml;base64," + base64.b64encode(SVG).decode()
    # the dict form reads back the same survey (the store keeps it as JSON)
    assert from_dict(s.to_dict(), where="again") == s


@pytest.mark.parametrize("change, message", [
    (('slug = "after-delivery"', 'slug = "After Delivery"'), "survey.toml: slug: 'After Delivery' must be"),
    (('kind = "nps"', 'kind = "star"'), "survey.toml: kind: 'star' must be one of nps, csat, ces"),
    (('company = "Kettle & Co"', 'company = ""'), "survey.toml: branding.company: required"),
    (('name = "After delivery"', 'name = "After delivery"\ncolour = "red"'), "survey.toml: unknown key 'colour'"),
    (('[branding]', 'languages = ["en", "de"]\n[branding]'), "survey.toml: languages[2]: 'de' is not one of"),
    (('company = "Kettle & Co"', 'company = "K"\nprimary = "blue"'),
     "survey.toml: branding.primary: 'blue' is not a colour written #rrggbb"),
])
def test_errors_name_file_and_key(tmp_path, change, message):
    with pytest.raises(SurveyError) as e:
        load_toml(_write(tmp_path, MINIMAL.replace(*change)))
    assert str(e.value).startswith(message), str(e.value)


def _q(extra: str) -> str:
    return MINIMAL + '\n[[questions]]\nid = "a"\ntype = "text"\nlabel = { en = "A", pl = "A", ru = "A", it = "A" }\n' \
        + extra


@pytest.mark.parametrize("extra, message", [
    ('[[questions]]\nid = "b"\ntype = "choice"\nlabel = { en = "B", pl = "B", ru = "B", it = "B" }\n',
     "questions[2].options: a choice question needs 2 to 20 options"),
    ('[[questions]]\nid = "a"\ntype = "text"\nlabel = { en = "B", pl = "B", ru = "B", it = "B" }\n',
     "questions[2].id: 'a' is used by an earlier question"),
    ('[[questions]]\nid = "b"\ntype = "rating"\nscale = [5, 1]\nlabel = { en = "B", pl = "B", ru = "B", it = "B" }\n',
     "questions[2].scale: expected [lowest, highest]"),
    ('[[questions]]\nid = "b"\ntype = "text"\nlabel = { en = "B", pl = "B" }\n', "questions[2].label.ru: required"),
    ('[[questions]]\nid = "b"\ntype = "slider"\nlabel = { en = "B" }\n', "questions[2].type: 'slider' must be"),
])
def test_question_errors_name_the_question(tmp_path, extra, message):
    with pytest.raises(SurveyError) as e:
        load_toml(_write(tmp_path, _q(extra)))
    assert str(e.value).startswith("survey.toml: " + message), str(e.value)


def test_logo_checks(tmp_path):
    (tmp_path / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 200_001)
    (tmp_path / "fake.png").write_bytes(b"GIF89a....")
    for name, message in (("big.png", "'big.png' is 200,009 bytes; at most 200,000"), ("fake.png", "not a PNG, SVG or JPEG"),
                          ("missing.svg", "cannot read 'missing.svg'"),
                          ("../x.svg", "the logo must be a file in the survey file's folder")):
        with pytest.raises(SurveyError, match="survey.toml: branding.logo") as e:
            load_toml(_write(tmp_path, MINIMAL + f'logo = "{name}"\n'))
        assert message in str(e.value), str(e.value)


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(SurveyError, match=r"^survey.toml: not valid TOML"):
        load_toml(_write(tmp_path, 'slug = "x'))
    with pytest.raises(SurveyError, match="cannot read the file"):
        load_toml(tmp_path / "nope.toml")


def test_default_texts_differ_by_kind():
    assert default_texts("ces", "it", "K").low == "Per niente d'accordo"
    assert default_texts("csat", "ru", "K").question == "Насколько вы довольны нашим обслуживанием?"


def test_repo_add_get_list_status_update(tmp_path):
    s = load_toml(_write(tmp_path, MINIMAL))
    with Store.open(":memory:") as store:
        assert repo.add(store, s) == "SV001"
        with pytest.raises(SurveyError, match="slug 'after-delivery' exists already"):
            repo.add(store, s)
        second = from_dict({**s.to_dict(), "slug": "after-install", "kind": "ces"})
        assert repo.add(store, second) == "SV002"
        got = repo.get(store, "after-delivery")
        assert got.survey_id == "SV001" and got.status == "active" and got.created_at is not None
        assert repo.get(store, "sv002").kind == "ces" and repo.get(store, "nothing") is None
        assert [x.slug for x in repo.list_all(store)] == ["after-delivery", "after-install"]
        assert repo.set_status(store, "SV001", "paused").status == "paused"
        with pytest.raises(SurveyError, match="status 'gone' must be one of active, paused, closed"):
            repo.set_status(store, "SV001", "gone")
        import dataclasses
        renamed = dataclasses.replace(got, name="Delivery NPS")
        assert repo.update(store, renamed).name == "Delivery NPS"
        assert repo.get(store, "SV001").status == "paused"  # an update keeps the status
        with pytest.raises(SurveyError, match="belongs to survey SV002"):
            repo.update(store, dataclasses.replace(got, slug="after-install"))
        with pytest.raises(SurveyError, match=r"no survey 'x'; surveys: SV001 \(after-delivery\)"):
            repo.require(store, "x")


@pytest.mark.capability("tables", engines=("duckdb",))
def test_a_schema_6_store_gains_the_survey_tables_on_open(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store.open(path) as s:
        s.con.execute("INSERT INTO responses (response_id, responded_at, nps) VALUES ('r1', now(), 9)")
        for t in ("surveys", "survey_invitations", "survey_answers", "survey_flagged", "survey_refusals"):
            s.con.execute(f"DROP TABLE {t}")
        s.con.execute("UPDATE centric_meta SET value = '6' WHERE key = 'schema_version'")
    with Store.open(path) as s:
        assert s.schema_version >= 7 and s.count("responses") == 1
        assert s.count("surveys") == 0 and s.count("survey_invitations") == 0
