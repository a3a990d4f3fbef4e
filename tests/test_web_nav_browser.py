"""The grouped menu and the self-assessment form in a real browser (Debian's Chromium through Playwright, as
test_web_browser.py): an admin's menu is one row at 1366 px in all four languages; the "Inside" group opens by
keyboard and without script; on a phone it is nested in the menu; the employee's form /o/TOKEN on a phone, no
script. Screenshots in /tmp/web-shots/nav-*.png and self-*.png."""

from __future__ import annotations

from centric.report.i18n import translations
from tests import test_web_browser as browser_tests
from tests.test_web_browser import PASSWORD, Watch, shot

pytestmark = browser_tests.pytestmark  # the browser mark and the Chromium skip
server = browser_tests.server  # uvicorn over a copy of the demo store: (base URL, app)
browser = browser_tests.browser  # Chromium

INSIDE = ["/council", "/ideas", "/orientation", "/observations", "/mystery", "/enps"]


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login?next=/me")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/me")


def test_the_admins_menu(server, browser):
    base, app = server
    from centric.web import auth

    app.state.hub.write(auth.add_user, "root@example.com", "admin", PASSWORD, name="Ada Admin")
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    watch = Watch(page)
    _sign_in(page, base, "root@example.com")
    for lang in ("en", "pl", "ru", "it"):
        _ = translations(lang).gettext
        page.goto(f"{base}/orientation?lang={lang}")
        nav = page.locator("nav.nav-wide")
        box = nav.bounding_box()
        assert box["height"] < 48, f"{lang}: the menu wraps ({box['height']} px)"
        summary = nav.locator("details.nav-group > summary", has_text=_("Inside"))
        links = summary.locator("xpath=..").locator(".nav-group-items a")
        assert not links.first.is_visible()
        summary.focus()
        page.keyboard.press("Enter")  # opens by keyboard
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == INSIDE
        assert all(links.nth(i).is_visible() for i in range(links.count()))
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == INSIDE[0]
        shot(page, f"nav-1366-{lang}-open", full_page=False)
        page.keyboard.press("Escape")  # closes, the focus back on the group
        assert not links.first.is_visible()
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    page.mouse.click(1000, 600)  # a click elsewhere closes it
    assert not nav.locator(".nav-group-items a").first.is_visible()
    watch.check(base)
    ctx.close()

    # without script: the drop-down still opens and its link works
    bare = browser.new_context(viewport={"width": 1366, "height": 768}, java_script_enabled=False)
    page = bare.new_page()
    _sign_in(page, base, "root@example.com")
    page.goto(f"{base}/dashboards")
    page.locator("nav.nav-wide details.nav-group > summary", has_text="Inside").click()
    page.locator("nav.nav-wide a[href='/enps']").click()
    page.wait_for_url(f"{base}/enps")
    bare.close()

    # a phone: the group nested in the menu, nothing wider than the screen
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    _sign_in(page, base, "root@example.com")
    for lang in ("en", "pl"):
        page.goto(f"{base}/orientation?lang={lang}")
        assert not page.locator("nav.nav-wide").is_visible()
        page.locator("details.nav-narrow > summary").click()
        group = page.locator("details.nav-narrow details.nav-group").first
        assert group.get_attribute("open") is not None  # the page is inside it: open
        assert group.locator("a[href='/orientation']").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"nav-390-{lang}-open", full_page=False)
    phone.close()


def test_the_self_assessment_form_on_a_phone_without_script(server, browser):
    base, app = server
    import uuid

    from centric.orientation import invitations

    hub = app.state.hub
    unit = f"Sklep {uuid.uuid4().hex[:6]}"
    hub.writer.execute("INSERT INTO units (unit, kind, region, country) VALUES (?, 'store', 'R', 'PL')", [unit])
    hub.writer.execute("INSERT INTO employees (employee_id, name, unit, role, language) VALUES (?, 'Ola', ?, "
                           "'staff', 'pl')", [f"E-{unit}", unit])
    link = hub.write(lambda s: invitations.issue(s, invitations.plan(s, None, [unit]), base_url=base))[0]
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = ctx.new_page()
    page.goto(link.url)
    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "self-390-pl-form")
    page.locator("label[for='attitude-4']").click()
    page.locator("label[for='conflict_handling-3']").click()
    page.click("button[type=submit]")
    assert "zapisane" in page.locator("h1").inner_text()
    shot(page, "self-390-pl-thanks", full_page=False)
    row = hub.reader().execute("SELECT attitude, conflict_handling, communication FROM orientation_assessments "
                                   "WHERE employee_id = ? AND view = 'self'", [f"E-{unit}"]).fetchall()
    assert row == [(4, 3, None)]
    ctx.close()


def test_the_flows_stage_selector_shows_only_for_its_comparison(server, browser):
    """/flows: "Stage reached" matters only when comparing who reached a stage; with script it is hidden for the
    other comparisons and appears when that one is chosen (without script the form shows every field)."""
    base, app = server
    from centric.web import auth

    app.state.hub.write(auth.add_user, "ana@example.com", "analyst", PASSWORD, name="Ana Analyst")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    watch = Watch(page)
    _sign_in(page, base, "ana@example.com")
    page.goto(f"{base}/flows")
    stage = page.locator("label[data-shown-when='compare=reached']")
    assert stage.count() == 1
    assert not stage.is_visible()  # compare: nothing
    page.select_option("select[name=compare]", "reached")
    assert stage.is_visible()
    page.select_option("select[name=compare]", "nps")
    assert not stage.is_visible()
    page.goto(f"{base}/flows?compare=reached")
    assert stage.is_visible()
    assert page.locator("select[name=target]").is_visible()
    watch.check(base)
