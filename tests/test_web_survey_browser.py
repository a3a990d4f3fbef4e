"""The survey form in a real browser (Debian's Chromium through Playwright, against uvicorn over a copy of the
demo store): the demo company's survey after delivery in English, Polish, Russian and Italian, on a
phone-sized screen and a laptop, with scripts off; its accessibility (a label for every field, the scale a
fieldset with its legend, touch targets of 44 px, the button's contrast); nothing requested from another
site; answering with the e-mail's score, then the comment or "contact me"; the embedded form inside another
site's page while every other page refuses to be framed.

Skipped when /usr/bin/chromium is absent, unless CI=true. Screenshots: /tmp/web-shots/survey-*.png.
"""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path

import pytest

from centric.report.i18n import translations
from centric.surveys import repo
from tests import test_web_browser as browser_tests
from tests.test_web_browser import FLAGS, SHOTS, Watch
from tests.test_web_surveys import invite as survey_links

pytestmark = browser_tests.pytestmark  # the browser mark and the Chromium skip
server = browser_tests.server  # uvicorn over a copy of the demo store: (base URL, app)

SURVEY = "after-delivery"  # the demo company's NPS survey after delivery (Voltaro: logo and colours)
LANGS = ("en", "pl", "ru", "it")


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        yield b
        b.close()


def invite(app, n: int) -> list:
    """``n`` fresh links to the demo survey for customers who have none."""
    hub = app.state.hub
    ids = [r[0] for r in hub.reader().execute(
        "SELECT customer_id FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM survey_invitations "
        "WHERE customer_id IS NOT NULL) ORDER BY customer_id LIMIT ?", [n]).fetchall()]
    return survey_links(hub, SURVEY, ids)


def path_of(link) -> str:
    return "/s/" + link.url.rsplit("/", 1)[1]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"survey-{name}.png"), full_page=True)


def contrast(page, selector: str) -> float:
    """The WCAG contrast ratio of an element's text colour on its background colour."""
    return page.evaluate("""(sel) => {
        const el = document.querySelector(sel), cs = getComputedStyle(el);
        const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 :
            Math.pow((v + 0.055) / 1.055, 2.4); }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
        const [a, b] = [lum(rgb(cs.color)), lum(rgb(cs.backgroundColor))].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
    }""", selector)


def test_the_form_in_four_languages_on_a_phone_without_script(server, chromium):
    base, app = server
    links = invite(app, 4)
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False,
                                 device_scale_factor=1)
    for link, code in zip(links, LANGS, strict=True):
        page = phone.new_page()
        watch = Watch(page)
        responses: list = []
        page.on("response", lambda r, seen=responses: seen.append(r))
        page.goto(f"{base}{path_of(link)}?lang={code}")
        sizes = [len(r.body()) for r in responses]
        _ = translations(code).gettext
        assert page.locator("html").get_attribute("lang") == code
        survey = repo.get(app.state.hub.reader(), SURVEY)
        assert page.locator("fieldset#f-score > legend").inner_text() == survey.text(code).question
        assert page.locator(".sv-brand img.sv-logo").count() == 1  # the company's logo, from the definition
        # every field a person fills has a label; the scale's buttons are big enough for a thumb
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), textarea')]
            .filter(el => !el.labels || el.labels.length === 0).map(el => el.name)""")
        assert unlabelled == []
        for label in page.locator(".sv-choices label").all():
            box = label.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        assert contrast(page, ".sv-submit") >= 4.5
        assert sum(sizes) < 60_000, sizes  # page, stylesheets and the logo
        shot(page, f"phone-{code}")
        # answer it, scripts off: a score, an option, a comment
        page.click("label[for=score-8]")
        page.fill("textarea[name=comment]", {"en": "Quick delivery", "pl": "Szybka dostawa",
                                             "ru": "Быстрая доставка", "it": "Consegna veloce"}[code])
        page.click("button.sv-submit")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == survey.text(code).thanks
        shot(page, f"phone-thanks-{code}")
        watch.check(base)
        page.close()
    stored = app.state.hub.reader().execute(
        "SELECT language, nps, comment FROM responses WHERE response_id IN ({}) ORDER BY language".format(
            ", ".join(f"'SVR-{link.invitation_id}'" for link in links))).fetchall()
    assert stored == [("en", 8, "Quick delivery"), ("it", 8, "Consegna veloce"), ("pl", 8, "Szybka dostawa"),
                      ("ru", 8, "Быстрая доставка")]
    phone.close()


def test_the_score_from_the_email_then_contact_me_on_a_laptop(server, chromium):
    base, app = server
    (link,) = invite(app, 1)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    page.goto(f"{base}{path_of(link)}?score=3&lang=it")
    assert page.locator("#score-3").is_checked()
    shot(page, "laptop-it")
    page.click("button.sv-submit")
    page.wait_for_load_state()
    _ = translations("it").gettext
    assert page.locator("#contact-h").inner_text() == _("We are sorry it was not better.")
    assert page.locator("#comment-h").count() == 0  # the form had its comment box already
    shot(page, "laptop-thanks-low-it")
    page.click("label[for=time-evening]")
    page.click("#contact-h ~ form button.sv-submit")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _("Thank you. We will contact you.")
    shot(page, "laptop-contact-it")
    hub = app.state.hub
    assert hub.reader().execute("SELECT value FROM survey_answers WHERE response_id = ?",
                                    [f"SVR-{link.invitation_id}"]).fetchall() == [("phone:evening",)]
    # the link again: answered, and it says so kindly
    page.goto(f"{base}{path_of(link)}?lang=it")
    assert page.locator("h1").inner_text() == _("You have answered already — thank you!")
    # a bad score sent by hand: the message beside the field, in Italian
    other = invite(app, 1)[0]
    page.goto(f"{base}{path_of(other)}?lang=it")
    page.evaluate("document.querySelector('#score-10').value = '12'")
    page.click("label[for=score-10]")
    page.click("button.sv-submit")
    assert page.locator("#e-score").inner_text() == _("Choose a score from %(low)s to %(high)s.") % {
        "low": 0, "high": 10}
    watch.expected(422, f"{base}{path_of(other)}")
    shot(page, "laptop-refused-it")
    watch.check(base)


@pytest.fixture
def other_site(tmp_path):
    """Another site (another origin) whose page frames what it is given: (its URL, write(html))."""
    folder = tmp_path / "site"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(folder), **kw)

        def log_message(self, *a):
            pass

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def write(name: str, html: str) -> str:
        (Path(folder) / name).write_text(html, encoding="utf-8")
        return f"http://localhost:{port}/{name}"

    yield write
    httpd.shutdown()


def test_the_embedded_form_inside_a_shop_page(server, chromium, other_site):
    base, app = server
    shop = other_site("shop.html", f"""<!doctype html><html><body style="font-family:sans-serif;background:#eee">
        <h1>Our shop</h1><iframe id="survey" src="{base}/s/{SURVEY}?embed=1" title="Survey" width="100%"
        height="820" style="border:0;max-width:40rem"></iframe>
        <iframe id="login" src="{base}/login" title="Sign in" width="400" height="200"></iframe></body></html>""")
    page = chromium.new_page(viewport={"width": 1024, "height": 1100})
    page.goto(shop)
    survey = page.frame_locator("#survey")
    assert survey.locator("fieldset#f-score legend").count() == 1  # shown inside the shop's page
    assert survey.locator(".sv-top").count() == 0  # without the header
    login = page.frame_locator("#login")
    assert login.locator("input[name=email]").count() == 0  # any other page refuses to be framed
    shot(page, "embedded")
    survey.locator("label[for=score-9]").click()
    page.wait_for_timeout(3200)  # a person takes longer than survey_min_seconds
    survey.locator("button.sv-submit").click()
    survey.locator(".sv-done").wait_for()
    assert survey.locator(".sv-top").count() == 0
    shot(page, "embedded-thanks")
    hub = app.state.hub
    slug_answers = hub.reader().execute(
        "SELECT count(*) FROM responses WHERE survey = ? AND response_id LIKE 'SVA-%' AND nps = 9 "
        "AND responded_at > now() - INTERVAL '1 minutes'", [SURVEY]).fetchone()[0]
    assert slug_answers == 1
