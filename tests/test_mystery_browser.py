"""The mystery-shopping form in a real browser (Debian's Chromium driven by Playwright against uvicorn): a shopper on
a phone-sized screen opens the form, loses the connection, fills it in and submits it — the visit waits on the
phone —, the connection comes back and the visit arrives, once; the form also opens again without a connection
(the service worker's copy). Then the pages in English and Polish.

Skipped when /usr/bin/chromium is absent, unless CI=true. Screenshots go to /tmp/web-shots/mystery-*.png.
"""

from __future__ import annotations

import re
import time

from tests.test_web_browser import PASSWORD, Watch, browser, pytestmark, server, shot  # noqa: F401  (fixtures)

PHONE = {"width": 390, "height": 844}


def _sign_in(page, base: str, email: str, lands: str, then: str = "/") -> None:
    page.goto(base + "/login?next=" + then)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(lands))


def _fill(page) -> str:
    for radio in page.locator("input[type=radio][value=yes]").all():
        radio.check()
    page.locator("input[name=a_price_label][value=no]").check()  # the critical item fails: a case too
    page.fill("textarea[name=notes]", "Price at the till above the label.")
    return page.locator("input[name=visit_id]").input_value()


def _visits(hub, visit_id: str) -> int:
    return hub.reader().execute("SELECT count(*) FROM mystery_visits WHERE visit_id = ?", [visit_id]).fetchone()[0]


def test_a_visit_entered_offline_arrives_once_when_back_online(server, browser):  # noqa: F811
    base, app = server
    from centric.web import auth

    hub = app.state.hub
    hub.write(auth.add_user, "kasia@example.com", "shopper", PASSWORD, agent="shopper.kasia")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    watch = Watch(page)
    _sign_in(page, base, "kasia@example.com", r".*/mystery/new$")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # installed, the form kept
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "mystery-01-form-phone", full_page=False)

    context.set_offline(True)
    visit_id = _fill(page)
    page.click("form[data-mystery-form] button[type=submit]")
    page.wait_for_selector("#mystery-queue:not([hidden])")
    assert "1" in page.inner_text("#mystery-queue")
    assert not page.locator("#mystery-status").is_hidden()
    shot(page, "mystery-02-queued-offline", full_page=False)
    assert _visits(hub, visit_id) == 0
    assert page.locator("input[name=visit_id]").input_value() != visit_id  # the next visit gets its own id

    # without a connection the form opens again from the service worker's copy
    page.reload()
    assert page.locator("form[data-mystery-form]").count() == 1

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    deadline = time.monotonic() + 20
    while _visits(hub, visit_id) == 0:
        assert time.monotonic() < deadline, "the queued visit did not arrive"
        time.sleep(0.2)
    page.wait_for_function("() => document.getElementById('mystery-queue').textContent.indexOf('Sent') >= 0")
    # sending again (another 'online' event, a reload) adds nothing: the outbox is empty, and the id is stored once
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.reload()
    time.sleep(1)
    assert _visits(hub, visit_id) == 1
    case = hub.reader().execute("SELECT case_id FROM mystery_visits WHERE visit_id = ?", [visit_id]).fetchone()[0]
    assert case, "the failed critical item opened no case"

    # online: submitting goes straight to the stored visit's page
    second = _fill(page)
    page.click("form[data-mystery-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/mystery/visits/.*saved=1"))
    assert _visits(hub, second) == 1
    shot(page, "mystery-03-visit-phone")
    # what the browser logs while it has no connection is expected: the outbox tried to send
    watch.errors = [e for e in watch.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e]
    watch.check(base)
    context.close()


def test_the_pages_in_english_and_polish(server, browser):  # noqa: F811
    base, app = server
    from centric.web import auth

    app.state.hub.write(auth.add_user, "ana@example.com", "analyst", PASSWORD)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    _sign_in(page, base, "ana@example.com", r".*/mystery$", then="/mystery")
    for lang, title in (("en", "Mystery shopping"), ("pl", "Tajemniczy klient")):
        page.goto(f"{base}/mystery?lang={lang}")
        assert title in page.inner_text("h1")
        page.wait_for_selector("#chart-mystery-trend .main-svg")
        shot(page, f"mystery-04-scores-{lang}")
        page.goto(f"{base}/mystery/calibration?lang={lang}")
        shot(page, f"mystery-05-calibration-{lang}")
        page.goto(f"{base}/mystery/visits/MS-0001?lang={lang}")
        shot(page, f"mystery-06-visit-{lang}")
    watch.check(base)
