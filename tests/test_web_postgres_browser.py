"""The dashboards and the user flows on a PostgreSQL store in a real browser (Debian's Chromium through Playwright,
as test_web_browser.py): their charts are drawn, nothing fails in the page, nothing is fetched from elsewhere.
Screenshots in /tmp/web-shots/pg-*.png."""

from __future__ import annotations

import pytest

from tests import test_web_browser as browser_tests
from tests.test_web_browser import PASSWORD, Watch, shot

from .test_web_postgres import pg_web  # noqa: F401 — the fixture

pytestmark = browser_tests.pytestmark  # the browser mark and the Chromium skip
server = browser_tests.server  # uvicorn over the store web_db names: here the PostgreSQL copy
browser = browser_tests.browser  # Chromium


@pytest.fixture
def web_db(pg_web):  # noqa: F811
    """The server's store: the small demo store copied into PostgreSQL."""
    return pg_web


def test_the_dashboards_and_flows_draw_their_charts_on_postgresql(server, browser):
    base, app = server
    from centric.web import auth

    assert app.state.hub.postgres
    app.state.hub.write(auth.add_user, "lead@example.com", "analyst", PASSWORD, name="Lea Analyst")
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    watch = Watch(page)
    page.goto(f"{base}/login?next=/dashboards")
    page.fill("input[name=email]", "lead@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/dashboards")
    for path, name in (("/dashboards", "pg-dashboards"), ("/flows?compare=nps", "pg-flows")):
        page.goto(base + path)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        assert page.locator(".js-plotly-plot").count() >= 2, path
        shot(page, name)
    watch.check(base)
    ctx.close()
