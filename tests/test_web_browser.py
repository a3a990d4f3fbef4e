"""The service team's pages in a real browser: Debian's Chromium driven by Playwright against uvicorn on a
free port, over a copy of the demo store. An agent signs in, opens the inbox, finds the fridge case (the
demo's story: the complaint passed from department to department), transfers it, closes it with a root
cause; then the pages in Polish, Russian and Italian, and on a phone-sized screen.

Skipped when /usr/bin/chromium is absent, unless CI=true (then it must run). Screenshots go to
/tmp/web-shots/*.png.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from centric.report.i18n import translations

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/web-shots")
PASSWORD = "a long browser password"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Chromium is not installed at /usr/bin/chromium (CI=true runs it anyway)"),
]


@pytest.fixture
def server(web_db):
    """uvicorn serving the app over a copy of the demo store on a free port: (base URL, app)."""
    import uvicorn

    from centric.web import create_app

    app = create_app(web_db, scheduler=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Watch:
    """A page's console errors and every URL it requested."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"{m.text} {m.location.get('url')}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        # a page's first computation (the dashboards') took over Playwright's default 30 s on a loaded host
        page.set_default_timeout(90_000)

    def expected(self, status: int, url: str) -> None:
        """The page showed a refusal on purpose (the browser logs every 4xx response as an error): drop it."""
        found = [e for e in self.errors if f"status of {status}" in e and e.endswith(url)]
        assert len(found) == 1, self.errors
        self.errors.remove(found[0])

    def check(self, base: str) -> None:
        assert not self.errors, self.errors
        foreign = [u for u in self.requests if not u.startswith(base + "/")]
        assert not foreign, foreign


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox.*"))


def test_an_agent_transfers_and_closes_the_fridge_case(server, browser):
    base, app = server
    from centric.web import auth

    hub = app.state.hub
    hub.write(auth.add_user, "ala@example.com", "agent", PASSWORD, departments=("delivery", "customer_service"),
              agent="a.nowak", name="Ala Nowak")
    s = hub.reader().table("case_signals")
    fridge = s.filter(s.signal_id == "F-FRIDGE-1").case_id.execute().iloc[0]

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    watch = Watch(page)
    sign_in(page, base, "ala@example.com")
    assert page.locator("h1").inner_text() == "Inbox"
    shot(page, "01-inbox")

    # the customer calls about the fridge: the agent searches for the case
    page.fill("input[name=q]", fridge)
    page.click("form.filters button[type=submit]")
    assert page.locator("a.case-link").all_inner_texts() == [fridge]
    page.click(f"a.case-link:text('{fridge}')")
    page.wait_for_url(f"{base}/cases/{fridge}")
    assert page.locator("#case-title").inner_text() == fridge
    assert page.locator(".case-head").get_by_text("passed from hand to hand").count() == 1
    text = page.locator("p.customer-text").first
    assert text.get_attribute("lang") == "pl" and "Lodówkę" in text.inner_text()
    assert page.locator("p.customer-text mark.hl").count() >= 1  # the sentence about the case's factor
    assert page.locator(".case-side .identities li").count() >= 1  # the customer's whole history beside it
    shot(page, "02-fridge-case")

    # transfer it to customer service, saying why
    page.click("summary:text('Transfer to another department')")
    page.select_option("select[name=department]", "customer_service")
    page.fill("textarea[name=reason]", "the customer asks for a call back about the call centre")
    page.click("button:text('Transfer')")
    page.wait_for_url(f"{base}/cases/{fridge}?done=transfer")
    assert page.locator(".notice.good").inner_text() == "Transferred to Customer service"
    assert "Customer service" in page.locator(".case-main dl.facts").first.inner_text()
    shot(page, "03-transferred")

    # close it: without a root cause the form says what is missing, beside the field
    page.click("summary:text('Resolve and close with the root cause')")
    page.fill("input[name=action]", "redelivered to the delivery address; called the customer back")
    page.click("button:text('Close the case')")
    assert page.locator("#err-root_cause").inner_text() == "Choose the root cause."
    watch.expected(422, f"{base}/cases/{fridge}/close")
    shot(page, "04-close-without-root-cause")
    page.select_option("select[name=root_cause]", "delivery")
    page.fill("input[name=sub_cause]", "wrong address used")
    page.click("button:text('Close the case')")
    page.wait_for_url(f"{base}/cases/{fridge}?done=close")
    assert page.locator(".notice.good").inner_text() == "Closed with root cause Delivery"
    assert page.locator(".case-head .badge.status").inner_text() == "Closed"
    assert page.locator(".events li").first.locator("strong").inner_text() == "Closed"
    shot(page, "05-closed")

    # the same pages in Polish, Russian and Italian
    for code in ("pl", "ru", "it"):
        _ = translations(code).gettext
        page.goto(f"{base}/inbox?lang={code}")
        assert page.locator("html").get_attribute("lang") == code
        assert page.locator("nav.tabs a").first.inner_text().startswith(_("My cases"))
        page.goto(f"{base}/cases/{fridge}?lang={code}")
        assert page.locator("h2").first.inner_text() == _("What the customer wrote")
        shot(page, f"06-case-{code}")
    for code in ("pl", "ru", "it"):
        anonymous = browser.new_page()
        w = Watch(anonymous)
        anonymous.goto(f"{base}/login?lang={code}")
        assert anonymous.locator("html").get_attribute("lang") == code
        assert anonymous.locator("h1").inner_text() == translations(code).gettext("Sign in")
        w.check(base)
        anonymous.close()

    # a phone-sized screen: the inbox as cards, the case in one column
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    w = Watch(phone)
    sign_in(phone, base, "ala@example.com")
    phone.goto(f"{base}/inbox?view=all")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "07-inbox-phone", full_page=False)
    phone.goto(f"{base}/cases/{fridge}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "08-case-phone", full_page=False)
    watch.check(base)
    w.check(base)
