"""Every string the pages show is in the Polish, Russian and Italian catalogues (the report's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from centric.web import deps, i18n
from centric.web.permissions import ROLES

TEMPLATES = Path(i18n.__file__).parent / "templates"
LOCALE = Path(__file__).resolve().parents[1] / "src" / "centric" / "report" / "locale"


def _strings() -> set[str]:
    found = set(ROLES) | {label for _, label, _ in deps.NAV}
    for f in TEMPLATES.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        found |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)+)"\s*[,)]', text))
        found |= set(re.findall(r"_\(\s*'((?:[^'\\]|\\.)+)'\s*[,)]", text))
    return found


@pytest.mark.parametrize("lang", ["pl", "ru", "it"])
def test_every_page_string_is_translated(lang):
    with open(LOCALE / lang / "LC_MESSAGES" / "centric.po", encoding="utf-8") as f:
        catalog = read_po(f, locale=lang)
    missing = sorted(s for s in _strings() if not (catalog.get(s) and catalog.get(s).string))
    assert not missing, f"{lang}: not translated: {missing}"


def test_pages_speak_the_language(web_client, login):
    assert "Zaloguj się" in web_client.get("/login?lang=pl").text
    assert "Accedi" in web_client.get("/login?lang=it").text
    login(web_client, role="agent", language="ru")
    me = web_client.get("/me")
    assert '<html lang="ru">' in me.text and "Мой профиль" in me.text and "сотрудник" in me.text
