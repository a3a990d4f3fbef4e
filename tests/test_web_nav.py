"""The menu: the pages inside the company and in the field under one "Inside" entry, the administration under
another, each link shown by its own permission; a <details> drop-down that works without script."""

from __future__ import annotations

import re

INSIDE = ["/council", "/ideas", "/orientation", "/observations", "/mystery", "/enps"]


def _wide(html: str) -> str:
    return re.search(r'<nav class="nav-wide".*?</nav>', html, re.S).group(0)


def _group(nav: str, label: str) -> list[str]:
    m = re.search(r'<details class="nav-group"[^>]*>\s*<summary[^>]*>' + re.escape(label) + r"</summary>(.*?)</details>",
                  nav, re.S)
    return re.findall(r'href="([^"]+)"', m.group(1)) if m else []


def test_an_admin_sees_the_groups_in_every_language(web_client, login):
    from centric.report.i18n import translations

    login(web_client, role="admin")
    for lang in ("en", "pl", "ru", "it"):
        _ = translations(lang).gettext
        nav = _wide(web_client.get(f"/orientation?lang={lang}").text)
        assert _group(nav, _("Inside")) == INSIDE, lang
        assert _group(nav, _("Administration")) == ["/settings", "/users", "/audit", "/employees"]
        top = re.sub(r"<details.*?</details>", "", nav, flags=re.S)
        assert not set(re.findall(r'href="([^"]+)"', top)) & set(INSIDE)  # nowhere else in the menu
        assert re.search(r'<summary class="current">' + re.escape(_("Inside")), nav)  # the page is inside it
        assert 'aria-current="page">' + _("Staff orientation") in nav


def test_each_link_by_its_own_permission(web_client, login):
    login(web_client, role="analyst")
    nav = _wide(web_client.get("/dashboards").text)
    inside = _group(nav, "Inside")
    assert "/enps" in inside and "/orientation" in inside and "/council" in inside
    assert _group(nav, "Administration") == []  # none of its pages: no group at all
    assert "Administration" not in nav
    web_client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                             web_client.get("/me").text).group(1)})
    login(web_client, role="agent", departments=("delivery",))
    nav = _wide(web_client.get("/inbox").text)
    inside = _group(nav, "Inside")
    assert "/enps" not in nav and "/settings" not in nav and "Administration" not in nav
    assert inside and set(inside) < set(INSIDE) and inside == [p for p in INSIDE if p in inside]
    for path in re.findall(r'href="([^"]+)"', nav):  # every link shown opens
        assert web_client.get(path).status_code == 200, path
