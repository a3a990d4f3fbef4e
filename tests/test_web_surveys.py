"""The survey pages: the public form of an invitation and of an anonymous link (scanner fetches, partial
answers, bad input, forged links, bots flagged and released, embedding, the brand's stylesheet), and the
signed-in pages (list, survey page, the survey form with errors per field, status changes, flagged answers),
with an XSS corpus of comments shown back escaped."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from centric.surveys import from_dict, invitations, repo, tokens
from centric.surveys import secret as survey_secret
from centric.web import public
from tests.conftest import csrf_of

SLUG = "web-test-delivery"
XSS_SLUG = "web-test-xss"
DEFINITION = {
    "slug": SLUG, "name": "After delivery", "kind": "nps", "touchpoint": "delivery", "anonymous": True,
    "branding": {"company": "Domix", "primary": "#0b7a5a"},
    "questions": [{"id": "on_time", "type": "choice", "required": False,
                   "label": {"en": "Was it on time?", "pl": "Czy na czas?", "ru": "Вовремя?", "it": "In orario?"},
                   "options": [{"id": "yes", "label": {"en": "Yes", "pl": "Tak", "ru": "Да", "it": "Sì"}},
                               {"id": "no", "label": {"en": "No", "pl": "Nie", "ru": "Нет", "it": "No"}}]}],
}


def customers_of(store, n: int) -> list[str]:
    return [r[0] for r in store.execute(
        "SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM responses "
        "WHERE customer_id IS NOT NULL) ORDER BY customer_id LIMIT ?", [n]).fetchall()]


def add_survey(hub, definition=DEFINITION, n: int = 3, languages=None) -> tuple[str, list]:
    """Store the survey and invite ``n`` demo customers (through the invitations' own path); (id, links)."""
    survey_id = hub.write(repo.add, from_dict(definition))
    links = invite(hub, survey_id, customers_of(hub.reader(), n))
    if languages:  # the customers' languages, as their invitations carry them
        for link, lang in zip(links, languages, strict=False):
            hub.write(_set, "UPDATE survey_invitations SET language = ? WHERE invitation_id = ?",
                      [lang, link.invitation_id])
    return survey_id, links


def invite(hub, survey: str, customer_ids: list[str]) -> list:
    """Links of ``survey`` (id or slug) for these customers, issued as ``centric surveys invite`` issues them."""
    def issue(store):
        plan = invitations.plan(store, repo.get(store, survey), customers=pd.DataFrame({"customer_id": customer_ids}),
                                interval_days=0)
        return invitations.issue(store, plan, base_url="http://testserver")

    links = hub.write(issue)
    assert len(links) == len(customer_ids)
    return links


def _set(store, sql: str, params: list) -> None:
    with store.transaction():
        store.execute(sql, params)


def token_of(link) -> str:
    return link.url.rsplit("/", 1)[1]


def invitation(hub, link) -> dict:
    return repo.invitation(hub.reader(), link.invitation_id)


def answers_of(hub, slug: str = SLUG) -> list[tuple]:
    return hub.reader().execute(
        "SELECT response_id, customer_id, nps, comment, language FROM responses WHERE survey = ? ORDER BY 1",
        [slug]).fetchall()


@pytest.fixture
def surveyed(web_client):
    """The web client, with the survey stored and three customers invited (languages en, pl, it)."""
    survey_id, links = add_survey(web_client.app.state.hub, languages=["en", "pl", "it"])
    web_client.survey_id, web_client.links = survey_id, links
    return web_client


# -- the form: opening a link uses nothing up ------------------------------------------------------------------

def test_a_scanner_fetching_a_link_100_times_uses_nothing_up(surveyed):
    hub, link = surveyed.app.state.hub, surveyed.links[0]
    url = f"/s/{token_of(link)}"
    first = surveyed.get(url)
    assert first.status_code == 200
    opened = invitation(hub, link)["opened_at"]
    assert opened is not None
    for _ in range(99):
        r = surveyed.get(url)
        assert r.status_code == 200 and 'name="score"' in r.text
    row = invitation(hub, link)
    assert row["answered_at"] is None and row["response_id"] is None
    assert row["opened_at"] == opened  # the first open only
    assert answers_of(hub) == []


def test_the_form_needs_no_script_and_asks_nothing_of_another_site(surveyed):
    r = surveyed.get(f"/s/{token_of(surveyed.links[0])}")
    html = r.text
    assert "<script" not in html  # answering needs no script
    assert "plotly" not in html.lower()
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert url.startswith(("/", "#", "data:")), url  # nothing from another host
    # the scale is a fieldset with its legend; each score a labelled radio button; the comment a labelled box
    assert re.search(r'<fieldset class="sv-scale sv-nps" id="f-score">\s*<legend>How likely', html)
    for n in range(11):
        assert f'<input type="radio" name="score" value="{n}" id="score-{n}"' in html
        assert f'<label for="score-{n}">{n}</label>' in html
    assert '<label for="comment">' in html and '<textarea name="comment" id="comment"' in html
    assert 'maxlength="5000"' in html
    assert "set-cookie" not in r.headers  # no cookie on a public page
    assert r.headers["cache-control"] == "no-store"
    assert len(html) < 8000


def test_the_score_from_the_email_is_preselected(surveyed):
    url = f"/s/{token_of(surveyed.links[0])}"
    assert re.search(r'value="9" id="score-9" checked', surveyed.get(url + "?score=9").text)
    for bad in ("11", "-1", "x", "9.5"):
        assert " checked" not in surveyed.get(url + f"?score={bad}").text


def test_the_customer_gets_their_language(surveyed):
    en, pl, it = surveyed.links
    r = surveyed.get(f"/s/{token_of(pl)}")
    assert '<html lang="pl">' in r.text and "Czy na czas?" in r.text
    assert "Jak bardzo prawdopodobne jest, że polecisz Domix" in r.text
    assert '<html lang="it">' in surveyed.get(f"/s/{token_of(it)}").text
    r = surveyed.get(f"/s/{token_of(pl)}?lang=ru")  # the switch
    assert '<html lang="ru">' in r.text and "Вовремя?" in r.text
    assert 'name="lang" value="ru"' in r.text
    assert '<html lang="en">' in surveyed.get(f"/s/{token_of(en)}").text


def test_forged_tampered_and_unknown_links_are_404(surveyed):
    hub = surveyed.app.state.hub
    good = token_of(surveyed.links[0])
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    unknown = tokens.make(hub.write(survey_secret), 999_999)  # genuine signature, no such invitation
    for key in (tampered, good[:-3], unknown, "x" * 32, "no-such-survey"):
        r = surveyed.get(f"/s/{key}")
        assert r.status_code == 404 and "This link does not work" in r.text, key
        assert "<script" not in r.text


def test_expired_closed_and_paused_links_say_so(surveyed):
    hub = surveyed.app.state.hub
    first, second, _ = surveyed.links
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    hub.write(_set, "UPDATE survey_invitations SET expires_at = ? WHERE invitation_id = ?", [past, first.invitation_id])
    r = surveyed.get(f"/s/{token_of(first)}")
    assert r.status_code == 410 and "This link has expired" in r.text
    hub.write(repo.set_status, surveyed.survey_id, "paused")
    public.state(_request(surveyed)).forget()
    r = surveyed.get(f"/s/{token_of(second)}")
    assert r.status_code == 503 and "Ta ankieta jest wstrzymana" in r.text  # the invitation's language
    hub.write(repo.set_status, surveyed.survey_id, "closed")
    public.state(_request(surveyed)).forget()
    r = surveyed.get(f"/s/{token_of(second)}")
    assert r.status_code == 410 and "Ta ankieta jest zamknięta" in r.text
    assert surveyed.get(f"/s/{SLUG}").status_code == 410


def _request(client):
    """An object with ``.app`` (what ``public.state`` reads)."""
    class R:
        app = client.app
    return R()


# -- embedding and branding -----------------------------------------------------------------------------------

def test_only_the_embedded_form_may_be_framed_by_the_configured_sites(surveyed, monkeypatch):
    plain = surveyed.get(f"/s/{SLUG}")
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert plain.headers["x-frame-options"] == "DENY"
    assert 'class="sv-top"' in plain.text
    monkeypatch.setenv("CENTRIC_SURVEY_EMBED_ORIGINS", "https://shop.example.com https://www.shop.example.com")
    client = TestClient(surveyed.app)
    surveyed.app.state.survey_public = None  # read the setting again
    r = client.get(f"/s/{SLUG}?embed=1")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors https://shop.example.com https://www.shop.example.com;" in csp
    assert "x-frame-options" not in r.headers
    assert "x-centric-frame-ancestors" not in r.headers
    assert 'class="sv-top"' not in r.text and 'name="embed" value="1"' in r.text
    assert f'action="/s/{SLUG}?embed=1"' in r.text
    # every other page keeps refusing to be framed
    for url in ("/login", f"/s/{SLUG}/style.css", "/s/nothing-here?embed=0"):
        assert "frame-ancestors 'none'" in client.get(url).headers["content-security-policy"], url


def test_a_bad_embed_origins_setting_is_refused(monkeypatch):
    from centric import settings
    from centric.errors import SettingError

    monkeypatch.setenv("CENTRIC_SURVEY_EMBED_ORIGINS", "https://shop.example.com; script-src *")
    with pytest.raises(SettingError, match="is not an origin"):
        settings.get("survey_embed_origins")


def test_the_brand_stylesheet(surveyed):
    r = surveyed.get(f"/s/{SLUG}/style.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    # white text on the dark green button (contrast 5.4:1), the background and text colours as defined
    assert r.text == (":root { --brand: #0b7a5a; --brand-text: #ffffff; --brand-bg: #ffffff; "
                      "--brand-ink: #1a1a1a; }\n")
    assert surveyed.get("/s/nope/style.css").status_code == 404
    assert public._text_on("#ffd400") == "#111111"  # yellow: dark text


# -- bots: the checks themselves -------------------------------------------------------------------------------

def test_bot_checks_name_every_reason(surveyed, monkeypatch):
    monkeypatch.setenv("CENTRIC_SURVEY_RATE_PER_HOUR", "2")
    st = public.PublicState(surveyed.app.state.hub)
    t0 = 1_000_000.0
    stamp = st.stamp("SV001", now=t0)
    assert st.stamp_age("SV001", stamp, now=t0 + 5) == pytest.approx(5.0)
    assert st.stamp_age("SV002", stamp, now=t0 + 5) is None  # another survey's stamp
    assert st.stamp_age("SV001", stamp[:-1] + "0", now=t0 + 5) is None or stamp.endswith("0")
    assert st.stamp_age("SV001", "", now=t0) is None
    ok = {"t": stamp, "website": ""}
    assert public.bot_reasons(st, "SV001", ok, "ip-a", now=t0 + 10) == []
    assert public.bot_reasons(st, "SV001", {**ok, "website": "http://spam"}, "ip-b", now=t0 + 10) == ["honeypot"]
    assert public.bot_reasons(st, "SV001", ok, "ip-c", now=t0 + 1) == ["too_fast"]  # under 3 s
    assert public.bot_reasons(st, "SV001", {"t": "123.abc"}, "ip-d", now=t0 + 10) == ["bad_timestamp"]
    # the address's third answer within the hour (the limit here: 2)
    assert public.bot_reasons(st, "SV001", ok, "ip-a", now=t0 + 10) == []
    assert public.bot_reasons(st, "SV001", ok, "ip-a", now=t0 + 10) == ["rate_limited"]
    assert st.ip_hash("203.0.113.5") != st.ip_hash("203.0.113.6") and "203.0.113.5" not in st.ip_hash("203.0.113.5")


def test_the_anonymous_form_carries_a_stamp_and_a_hidden_trap(surveyed):
    r = surveyed.get(f"/s/{SLUG}")
    assert r.status_code == 200
    stamp = re.search(r'name="t" value="([^"]+)"', r.text).group(1)
    st = public.state(_request(surveyed))
    assert 0 <= st.stamp_age(st.survey(SLUG).survey_id, stamp) < 5
    trap = re.search(r'<div class="sv-trap" aria-hidden="true">.*?</div>', r.text, re.S).group(0)
    assert 'name="website"' in trap and 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    # a survey without an anonymous link has no /s/SLUG form
    hub = surveyed.app.state.hub
    hub.write(repo.add, from_dict({**DEFINITION, "slug": "invited-only", "anonymous": False}))
    assert surveyed.get("/s/invited-only").status_code == 404


# -- signed-in pages -----------------------------------------------------------------------------------------

def test_the_survey_form_shows_a_definition_error_beside_its_field_and_saves_nothing(web_client, login):
    login(web_client, role="admin")
    page = web_client.get("/surveys/new")
    assert page.status_code == 200
    token = csrf_of(page.text)
    fields = {"csrf_token": token, "name": "After support", "slug": "web-test-support", "kind": "csat",
              "touchpoint": "support", "languages": ["en", "pl"], "default_language": "en",
              "branding.company": "Domix", "branding.primary": "#0b7a5a", "branding.background": "#ffffff",
              "branding.text": "#1a1a1a", "questions[1].id": "Speed!", "questions[1].type": "rating",
              "questions[1].label.en": "How fast?", "questions[1].label.pl": "Jak szybko?"}
    r = web_client.post("/surveys/new", data=fields)
    assert r.status_code == 422
    assert "questions[1].id: &#39;Speed!&#39; must start with a letter" in r.text
    # the message stands beside the question's id field, which is marked invalid
    field = re.search(r'<label id="f-questions-1-id">.*?</label>', r.text, re.S).group(0)
    assert 'aria-invalid="true"' in field and "must start with a letter" in field
    assert 'value="How fast?"' in r.text  # what was typed is kept
    assert repo.get(web_client.app.state.hub.reader(), "web-test-support") is None
    fields["questions[1].id"] = "speed"
    fields["questions[1].scale"] = "1-5"
    r = web_client.post("/surveys/new", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    survey = repo.get(web_client.app.state.hub.reader(), "web-test-support")
    assert r.headers["location"] == f"/surveys/{survey.survey_id}?changed=saved"
    assert survey.kind == "csat" and survey.languages == ("en", "pl") and survey.questions[0].scale == (1, 5)
    assert survey.text("pl").question.startswith("Jak bardzo jesteś zadowolony") or survey.text("pl").question
    audit = web_client.app.state.hub.reader().execute(
        "SELECT action, object_id FROM audit_log WHERE action LIKE 'survey.%'").fetchall()
    assert audit == [("survey.add", survey.survey_id)]


def test_a_bad_colour_is_named(web_client, login):
    login(web_client, role="admin")
    token = csrf_of(web_client.get("/surveys/new").text)
    r = web_client.post("/surveys/new", data={
        "csrf_token": token, "name": "X", "slug": "x", "kind": "nps", "languages": ["en"],
        "branding.company": "Domix", "branding.primary": "green"})
    assert r.status_code == 422
    field = re.search(r'<label id="f-branding-primary">.*?</label>', r.text, re.S).group(0)
    assert "branding.primary: &#39;green&#39; is not a colour written #rrggbb" in field


def test_pause_close_and_resume_are_audited_and_reach_the_form(surveyed, login):
    login(surveyed, role="admin")
    hub = surveyed.app.state.hub
    page = surveyed.get(f"/surveys/{surveyed.survey_id}")
    assert page.status_code == 200
    token = csrf_of(page.text)
    url = f"/s/{token_of(surveyed.links[0])}"
    assert surveyed.get(url).status_code == 200
    r = surveyed.post(f"/surveys/{surveyed.survey_id}/status", data={"csrf_token": token, "action": "pause"},
                      follow_redirects=False)
    assert r.status_code == 303 and repo.get(hub.reader(), SLUG).status == "paused"
    assert surveyed.get(url).status_code == 503  # at once, not after the cache's seconds
    surveyed.post(f"/surveys/{surveyed.survey_id}/status", data={"csrf_token": token, "action": "resume"})
    assert surveyed.get(url).status_code == 200
    surveyed.post(f"/surveys/{surveyed.survey_id}/status", data={"csrf_token": token, "action": "close"})
    assert surveyed.get(url).status_code == 410
    r = surveyed.post(f"/surveys/{surveyed.survey_id}/status", data={"csrf_token": token, "action": "delete"})
    assert r.status_code == 422
    actions = [a for (a,) in hub.reader().execute(
        "SELECT action FROM audit_log WHERE object_id = ? ORDER BY audit_id", [surveyed.survey_id]).fetchall()]
    assert actions == ["survey.pause", "survey.resume", "survey.close"]


def test_agents_see_no_survey_pages_and_analysts_cannot_change_them(surveyed, login):
    agent = TestClient(surveyed.app)
    login(agent, role="agent")
    assert agent.get("/surveys").status_code == 403
    assert "/surveys" not in agent.get("/me").text
    analyst = TestClient(surveyed.app)
    login(analyst, role="analyst")
    page = analyst.get("/surveys")
    assert page.status_code == 200 and 'href="/surveys"' in page.text  # the menu link
    assert "/surveys/new" not in page.text
    detail = analyst.get(f"/surveys/{surveyed.survey_id}")
    assert detail.status_code == 200 and "/status" not in detail.text
    assert analyst.get("/surveys/new").status_code == 403


def test_the_error_field_of_a_definition_message():
    anchors = ["slug", "questions[2]", "questions[2].options", "questions[2].label", "questions[2].label.pl",
               "branding.primary", "questions"]
    assert public is not None
    from centric.web.pages.surveys import error_field

    assert error_field("survey form: questions[2].options[1].label.pl: required", anchors) == "questions[2].options"
    assert error_field("survey form: questions[2].label.pl: required", anchors) == "questions[2].label.pl"
    assert error_field("survey form: branding.primary: 'x' is not a colour", anchors) == "branding.primary"
    assert error_field("survey form: questions: at most 10", anchors) == "questions"
    assert error_field("survey form: unknown key 'x'; known keys: …", anchors) is None


# -- helpers other tests use (the authorisation matrix, the XSS walk) -----------------------------------------

def add_flagged(client, survey_id: str) -> str:
    """A flagged answer of the (anonymous) survey, sent as a bot would (the honeypot filled); its id."""
    hub = client.app.state.hub
    survey = repo.get(hub.reader(), survey_id)
    r = TestClient(client.app).post(f"/s/{survey.slug}", data={"score": "10", "website": "http://spam.example"})
    assert r.status_code == 200, r.text[:500]
    row = hub.reader().execute("SELECT flag_id FROM survey_flagged WHERE survey_id = ? ORDER BY received_at DESC "
                                   "LIMIT 1", [survey_id]).fetchone()
    assert row, "the bot's answer was not kept aside"
    return row[0]


def xss_survey(client, payloads: list[str]) -> tuple[str, list[str]]:
    """A survey whose name, company and texts are payloads, answered through its links with the payloads as
    comments (and one anonymous answer kept aside with one); (its id, the keys of its public pages)."""
    hub = client.app.state.hub
    definition = {**DEFINITION, "slug": XSS_SLUG, "name": payloads[0],
                  "branding": {"company": payloads[1], "primary": "#0b7a5a"},
                  "texts": {"en": {"intro": payloads[3], "thanks": payloads[5]}}}
    survey_id, links = add_survey(hub, definition, n=len(payloads))
    browser = TestClient(client.app)
    for link, payload in zip(links, payloads, strict=True):
        r = browser.post(f"/s/{token_of(link)}", data={"score": "3", "comment": payload})
        assert r.status_code == 200, r.text[:500]
    browser.post(f"/s/{XSS_SLUG}", data={"score": "1", "comment": payloads[9], "website": payloads[2]})
    return survey_id, [XSS_SLUG, token_of(links[0])]


# -- answers ---------------------------------------------------------------------------------------------------

def refusals(hub) -> dict:
    return {(s, r): n for s, r, n in hub.reader().execute(
        "SELECT survey_id, reason, sum(count) FROM survey_refusals GROUP BY 1, 2").fetchall()}


def test_a_score_alone_is_kept_and_the_comment_follows_once(surveyed):
    hub, link = surveyed.app.state.hub, surveyed.links[0]
    token = token_of(link)
    r = surveyed.post(f"/s/{token}", data={"score": "9"})  # one click in the e-mail: no comment field
    assert r.status_code == 200
    assert "Thank you for your answer!" in r.text
    assert f'action="/s/{token}/comment"' in r.text and "Would you like to tell us more?" in r.text
    assert f"/s/{token}/contact" not in r.text  # a 9 is no reason to call
    assert answers_of(hub) == [(f"SVR-{link.invitation_id}", link.customer_id, 9, None, "en")]
    row = invitation(hub, link)
    assert row["answered_at"] is not None and row["response_id"] == f"SVR-{link.invitation_id}"
    r = surveyed.post(f"/s/{token}/comment", data={"comment": "   "})
    assert r.status_code == 422 and 'id="e-comment" role="alert">Write your comment first.</p>' in r.text
    r = surveyed.post(f"/s/{token}/comment", data={"comment": "  The driver called before coming.  "})
    assert r.status_code == 200 and "Thank you for your comment." in r.text
    assert answers_of(hub)[0][3] == "The driver called before coming."
    r = surveyed.post(f"/s/{token}/comment", data={"comment": "Changed my mind"})
    assert r.status_code == 409 and "You have answered already" in r.text
    assert answers_of(hub)[0][3] == "The driver called before coming."


def test_a_second_submit_of_a_link_stores_nothing(surveyed):
    hub, link = surveyed.app.state.hub, surveyed.links[1]
    url = f"/s/{token_of(link)}"
    assert surveyed.post(url, data={"score": "7", "comment": "Ok", "q_on_time": "yes", "lang": "pl"}).status_code == 200
    r = surveyed.post(url, data={"score": "0", "comment": "again"})
    assert r.status_code == 409 and "Już otrzymaliśmy Twoją odpowiedź" in r.text  # the invitation's language
    assert answers_of(hub) == [(f"SVR-{link.invitation_id}", link.customer_id, 7, "Ok", "pl")]
    extras = hub.reader().execute("SELECT question_id, value FROM survey_answers WHERE survey_id = ?",
                                      [surveyed.survey_id]).fetchall()
    assert extras == [("on_time", "yes")]
    # the GET of an answered link: the friendly page, 200
    r = surveyed.get(url)
    assert r.status_code == 200 and "Już otrzymaliśmy Twoją odpowiedź" in r.text and 'name="score"' not in r.text


def test_parallel_submits_of_one_link_store_one_answer(surveyed):
    from concurrent.futures import ThreadPoolExecutor

    hub, link = surveyed.app.state.hub, surveyed.links[0]
    url = f"/s/{token_of(link)}"
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: TestClient(surveyed.app).post(url, data={"score": str(i % 11)}).status_code,
                              range(48)))
    assert sorted(set(codes)) == [200, 409] and codes.count(200) == 1
    assert len(answers_of(hub)) == 1


@pytest.mark.parametrize(("fields", "field", "reason", "message"), [
    ({"score": "11"}, "score", "out_of_range", "Choose a score from 0 to 10."),
    ({"score": "nine"}, "score", "not_whole", "Choose a score from 0 to 10."),
    ({"comment": "no score"}, "score", "missing", "Choose a score from 0 to 10."),
    ({"score": "5", "q_on_time": "maybe"}, "q_on_time", "not_an_option", "Choose one of the options shown."),
    ({"score": "5", "coupon": "FREE"}, "coupon", "unknown_field",
     "The form sent something it does not ask for (coupon). Reload the page and answer again."),
    ({"score": "5", "comment": "x" * 5001}, "comment", "too_long",
     "This text has 5,001 characters; at most 5000 fit. Please shorten it."),
])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_stored(surveyed, fields, field, reason, message):
    hub, link = surveyed.app.state.hub, surveyed.links[0]
    r = surveyed.post(f"/s/{token_of(link)}", data=fields)
    assert r.status_code == 422
    assert f'<a href="#f-{field}">{message}</a>' in r.text  # the summary, linking to the field
    if field != "coupon":
        assert f'id="e-{field}">{message}</p>' in r.text  # and the message beside the field, marked invalid
        assert f'id="f-{field}" aria-invalid="true" aria-describedby="e-{field}"' in r.text \
            or f'aria-invalid="true" aria-describedby="e-{field}"' in r.text
    assert answers_of(hub) == [] and invitation(hub, link)["answered_at"] is None
    if "comment" in fields and len(fields["comment"]) < 100:
        assert f'>{fields["comment"]}</textarea>' in r.text  # what was typed is kept
    assert refusals(hub) == {(surveyed.survey_id, reason): 1}
    # the same link then takes a good answer
    assert surveyed.post(f"/s/{token_of(link)}", data={"score": "8"}).status_code == 200


def test_a_refusal_is_told_in_the_customers_language(surveyed):
    r = surveyed.post(f"/s/{token_of(surveyed.links[1])}", data={"score": "12", "lang": "pl"})
    assert r.status_code == 422 and "Wybierz ocenę od 0 do 10." in r.text


def test_forged_expired_closed_and_paused_posts_store_nothing(surveyed):
    hub = surveyed.app.state.hub
    first, second, third = surveyed.links
    good = token_of(first)
    r = surveyed.post(f"/s/{good[:-2]}xx", data={"score": "9"})
    assert r.status_code == 404 and "This link does not work" in r.text
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
    hub.write(_set, "UPDATE survey_invitations SET expires_at = ? WHERE invitation_id = ?", [past, first.invitation_id])
    assert surveyed.post(f"/s/{good}", data={"score": "9"}).status_code == 410
    hub.write(repo.set_status, surveyed.survey_id, "paused")
    r = surveyed.post(f"/s/{token_of(second)}", data={"score": "9"})
    assert r.status_code == 503 and "Ta ankieta jest wstrzymana" in r.text  # the invitation's language
    hub.write(repo.set_status, surveyed.survey_id, "closed")
    assert surveyed.post(f"/s/{token_of(third)}", data={"score": "9"}).status_code == 410
    assert answers_of(hub) == []
    counted = refusals(hub)
    assert counted[(None, "forged_link")] == 1
    assert counted[(surveyed.survey_id, "expired")] == 1 and counted[(surveyed.survey_id, "paused")] == 1
    assert counted[(surveyed.survey_id, "closed")] == 1


def test_after_a_low_score_the_customer_can_ask_to_be_contacted(surveyed):
    hub, link = surveyed.app.state.hub, surveyed.links[0]
    token = token_of(link)
    r = surveyed.post(f"/s/{token}", data={"score": "2", "comment": "Broken on arrival"})
    assert r.status_code == 200 and f'action="/s/{token}/contact"' in r.text
    assert "/comment" not in r.text  # the comment came with the score
    assert 'name="channel" value="phone"' in r.text and 'name="time" value="evening"' in r.text
    r = surveyed.post(f"/s/{token}/contact", data={"channel": "fax"})
    assert r.status_code == 422 and "Choose one of the options shown." in r.text
    r = surveyed.post(f"/s/{token}/contact", data={"channel": "phone", "time": "evening"})
    assert r.status_code == 200 and "We will contact you" in r.text
    rows = hub.reader().execute("SELECT response_id, question_id, value FROM survey_answers WHERE survey_id = ?",
                                    [surveyed.survey_id]).fetchall()
    assert rows == [(f"SVR-{link.invitation_id}", "contact_me", "phone:evening")]
    assert surveyed.post(f"/s/{token}/contact", data={"channel": "email"}).status_code == 409


def test_after_a_low_score_alone_the_comment_keeps_the_offer_to_be_contacted(surveyed):
    token = token_of(surveyed.links[0])
    r = surveyed.post(f"/s/{token}", data={"score": "1"})
    assert f'action="/s/{token}/comment?low=1"' in r.text and f'action="/s/{token}/contact"' in r.text
    r = surveyed.post(f"/s/{token}/comment?low=1", data={"comment": "Scratched door"})
    assert r.status_code == 200 and "Thank you for your comment." in r.text
    assert f'action="/s/{token}/contact"' in r.text and "/comment" not in r.text
    r = surveyed.post(f"/s/{token}/contact", data={"channel": "email"})
    assert r.status_code == 200 and "/contact" not in r.text


def _human_stamp(client, seconds_ago: float = 30) -> str:
    import time

    st = public.state(_request(client))
    return st.stamp(st.survey(SLUG).survey_id, now=time.time() - seconds_ago)


def test_anonymous_answers_bots_are_kept_aside_and_can_be_released(surveyed, login):
    hub = surveyed.app.state.hub
    human = surveyed.post(f"/s/{SLUG}", data={"score": "10", "comment": "Great", "t": _human_stamp(surveyed),
                                              "website": ""})
    bot = surveyed.post(f"/s/{SLUG}", data={"score": "10", "comment": "Buy followers", "website": "http://x.example",
                                            "t": _human_stamp(surveyed, 0.2)})
    assert human.status_code == bot.status_code == 200
    strip = re.compile(r'name="t" value="[^"]*"')
    assert strip.sub("", human.text) == strip.sub("", bot.text)  # a bot learns nothing
    stored = hub.reader().execute("SELECT customer_id, nps, comment FROM responses WHERE survey = ?",
                                      [SLUG]).fetchall()
    assert stored == [(None, 10, "Great")]
    flags = hub.reader().execute("SELECT flag_id, reasons, ip_hash FROM survey_flagged WHERE survey_id = ?",
                                     [surveyed.survey_id]).fetchall()
    assert len(flags) == 1 and sorted(eval(flags[0][1])) == ["honeypot", "too_fast"]
    assert flags[0][2] and "testclient" not in flags[0][2]
    login(surveyed, role="admin")
    page = surveyed.get("/surveys/flagged")
    assert "Buy followers" in page.text and "hidden field filled" in page.text and "sent too fast" in page.text
    token = csrf_of(page.text)
    r = surveyed.post(f"/surveys/flagged/{flags[0][0]}/release", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/surveys/flagged?done=released"
    assert sorted(c for (c,) in hub.reader().execute(
        "SELECT comment FROM responses WHERE survey = ?", [SLUG]).fetchall()) == ["Buy followers", "Great"]
    again = surveyed.post(f"/surveys/flagged/{flags[0][0]}/release", data={"csrf_token": token},
                          follow_redirects=False)
    assert again.headers["location"] == "/surveys/flagged?done=handled"
    assert len(answers_of(hub)) == 2
    assert "Buy followers" not in surveyed.get("/surveys/flagged").text
    audit = hub.reader().execute("SELECT action, object_id FROM audit_log WHERE action LIKE 'survey.%'").fetchall()
    assert audit == [("survey.release", flags[0][0])]


def test_a_discarded_answer_stays_out(surveyed, login):
    hub = surveyed.app.state.hub
    surveyed.post(f"/s/{SLUG}", data={"score": "0", "comment": "spam spam"})  # no stamp at all
    (flag_id, reasons), = hub.reader().execute("SELECT flag_id, reasons FROM survey_flagged WHERE survey_id = ?",
                                                   [surveyed.survey_id]).fetchall()
    assert "bad_timestamp" in reasons
    login(surveyed, role="admin")
    token = csrf_of(surveyed.get("/surveys/flagged").text)
    r = surveyed.post(f"/surveys/flagged/{flag_id}/discard", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"] == "/surveys/flagged?done=discarded"
    assert answers_of(hub) == []
    (by,), = hub.reader().execute("SELECT released_by FROM survey_flagged WHERE flag_id = ?", [flag_id]).fetchall()
    assert by.startswith("discarded: ")
    assert surveyed.post(f"/surveys/flagged/{flag_id}/release", data={"csrf_token": token},
                         follow_redirects=False).headers["location"] == "/surveys/flagged?done=handled"
    assert answers_of(hub) == []


def test_more_answers_from_one_address_than_the_hourly_limit_are_kept_aside(surveyed, monkeypatch):
    monkeypatch.setenv("CENTRIC_SURVEY_RATE_PER_HOUR", "3")
    surveyed.app.state.survey_public = None
    hub = surveyed.app.state.hub
    for i in range(5):
        r = surveyed.post(f"/s/{SLUG}", data={"score": str(i), "t": _human_stamp(surveyed)})
        assert r.status_code == 200
    assert len(answers_of(hub)) == 3
    reasons = [r for (r,) in hub.reader().execute("SELECT reasons FROM survey_flagged WHERE survey_id = ?",
                                                      [surveyed.survey_id]).fetchall()]
    assert reasons == ['["rate_limited"]'] * 2


def test_the_embedded_form_answers_inside_the_frame(surveyed):
    r = surveyed.post(f"/s/{SLUG}?embed=1", data={"score": "9", "t": _human_stamp(surveyed), "embed": "1"})
    assert r.status_code == 200 and "frame-ancestors *" in r.headers["content-security-policy"]
    assert 'class="sv-top"' not in r.text


# -- what customers wrote, shown back on the signed-in pages --------------------------------------------------

def test_an_xss_corpus_of_comments_is_shown_as_text(surveyed, login):
    from tests.test_web_xss import PAYLOADS, RAW, Markup

    survey_id, _ = xss_survey(surveyed, PAYLOADS)
    login(surveyed, role="admin")
    for url in ("/surveys", f"/surveys/{survey_id}", "/surveys/flagged", f"/surveys/{survey_id}/edit"):
        r = surveyed.get(url)
        assert r.status_code == 200, url
        assert not [raw for raw in RAW if raw in r.text], url
        parser = Markup()
        parser.feed(r.text)
        assert parser.bad == [], (url, parser.bad)
    page = surveyed.get(f"/surveys/{survey_id}").text
    assert "&lt;svg/onload=alert(5)&gt;" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/script&gt;&lt;script&gt;alert(6)&lt;/script&gt;" in surveyed.get("/surveys/flagged").text
    # the public pages too: the company and texts are the payloads
    anonymous = TestClient(surveyed.app).get("/s/" + repo.get(surveyed.app.state.hub.reader(), survey_id).slug)
    assert not [raw for raw in RAW if raw in anonymous.text]
