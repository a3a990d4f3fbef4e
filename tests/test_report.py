"""The HTML report: content, languages, escaping, and (with Chromium) how a browser shows it."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from centric import ingest
from centric.report import LANGUAGES, build_report, write_report
from centric.report.i18n import LOCALE_DIR, Formatter, translations

SRC = Path(__file__).resolve().parents[1] / "src" / "centric" / "report"


def _msgids() -> set[str]:
    ids = set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', (SRC / "templates" / "report.html").read_text(encoding="utf-8")))
    for f in [*SRC.glob("*.py"), SRC / "templates" / "_section_feelings.html", SRC.parent / "feelings" / "present.py"]:
        ids |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', f.read_text(encoding="utf-8")))
    return ids


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_label_is_translated(lang):
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "centric.po", encoding="utf-8") as f:
        catalog = read_po(f)
    missing = [m for m in _msgids() if not (catalog.get(m) and catalog.get(m).string)]
    assert not missing, f"{lang}: untranslated {missing}"
    assert translations(lang).gettext("Complaints") != "Complaints"


def test_numbers_and_dates_follow_the_language():
    assert Formatter("en").num(1234.5, 1) == "1,234.5"
    assert Formatter("pl").num(1234.5, 1) == "1\u00a0234,5"
    assert Formatter("it").num(1234.5, 1) == "1.234,5"
    assert Formatter("ru").num(-22.35, 1) == "−22,4"
    assert Formatter("pl").period("2026-03") == "mar 26"
    assert Formatter("it").pct(12.5) == "12,5\u00a0%"
    day = dt.date(2026, 10, 31)
    assert [Formatter(lang).date(day) for lang in ("en", "pl", "ru", "it")] == [
        "Oct 31, 2026", "31 paź 2026", "31 окт. 2026", "31 ott 2026"]  # Russian without CLDR's closing "г."


def test_demo_report_kpis_match_the_metrics(demo_store):
    from centric.metrics import score
    from centric.report.data import collect

    d = collect(demo_store)
    html = build_report(demo_store, lang="en")
    nps = d.headline["nps"]["current"]
    value = f"{nps.value:+,.1f}".replace("-", "−")
    assert re.search(r'id="kpi-nps".*?<div class="value">' + re.escape(value), html, re.S)
    assert nps.n == score(demo_store, "nps", *_period_bounds(d)).n
    # the chart library is inlined once, and no address outside the file is referenced by a tag
    assert html.count("Plotly.newPlot") == 1 and "http" not in _visible(html).replace("http-equiv", "")
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', html)
    specs = json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S)
                       .group(1))
    assert {"chart-nps-trend", "chart-csat-trend", "chart-ces-trend", "chart-backlog"} <= set(specs)
    # the customers section says which purchase model was used and why, and what it makes of one-time buyers
    from centric.customers import scoring

    rows = scoring.latest(demo_store)
    lls = json.loads(rows["params"].iloc[0])["model_selection"]
    once = rows.loc[rows["frequency"] == 0, "p_alive"]
    assert lls["mbgnbd"] > lls["bgnbd"] and 0 < once.mean() < 1 and (once < 1).all()
    text = " ".join(_visible(html).split())
    assert (f"Log-likelihood: MBG/NBD {lls['mbgnbd']:,.1f}, BG/NBD {lls['bgnbd']:,.1f}".replace("-", "−")
            in text.replace("-", "−"))
    assert f"Customers who bought once: {len(once):,}, mean P(alive) {once.mean():.2f}." in text


def _visible(html: str) -> str:
    """The page without its scripts and styles: what a reader sees."""
    return re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)


def _period_bounds(d):
    from centric.report.data import headline_periods

    (c0, c1), _ = headline_periods(d.last, d.period)
    return c0, c1


def test_report_in_each_language_and_empty_store(store, demo_store, tmp_path):
    for lang, word in [("en", "Complaints"), ("pl", "Reklamacje"), ("ru", "Жалобы"), ("it", "Reclami")]:
        html = build_report(demo_store, lang=lang)
        assert f'<html lang="{lang}">' in html and word in html
    empty = _visible(build_report(store, lang="pl"))
    assert "Brak danych" in empty and "nan" not in empty.lower()


def test_customer_text_is_escaped(store, write):
    evil = '<script>alert(1)</script>'
    ingest("responses", write("r.csv", f"email,date,nps,channel\na@x.pl,2025-01-01,9,\"{evil}\"\n"
                                       f"b@x.pl,2025-01-02,3,\"{evil}\"\nc@x.pl,2025-01-03,x{evil},web\n"), store=store)
    html = build_report(store, lang="en")
    assert evil not in html  # not in the page, not in the chart data (where < is written \u003c)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the rejected value, escaped in data quality
    assert "\\u003cscript" in html or "&lt;script" in html.split('id="chart-specs"')[1]


BROWSER = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.mark.browser
@pytest.mark.skipif(not BROWSER and os.environ.get("CI") != "true", reason="Chromium is not installed here")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_in_headless_chromium(demo_store, tmp_path, lang):
    from playwright.sync_api import sync_playwright

    path = write_report(demo_store, tmp_path / f"report-{lang}.html", lang=lang)
    errors, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER or "/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("#chart-nps-trend .main-svg", timeout=20_000)
        kpi = page.locator("#kpi-nps .value").inner_text()
        n_charts = page.locator(".js-plotly-plot").count()
        n_svg_paths = page.locator("#chart-nps-trend .scatterlayer path").count()
        if lang == "en":
            page.screenshot(path=str(tmp_path / "report.png"))
        browser.close()
    assert errors == []
    assert requests == [path.resolve().as_uri()]
    assert re.fullmatch(r"[+−-]?\d+[.,]\d", kpi)
    assert n_charts >= 8 and n_svg_paths >= 2


def test_churn_by_segment_and_topics_use_the_headline_period(demo_store):
    """The demo's data end inside a quarter: the churn table and the topics' 'now' column show the
    headline's complete quarter, never the running one."""
    from centric.report.data import collect

    d = collect(demo_store)
    c0, c1 = _period_bounds(d)
    assert d.last < c1 + dt.timedelta(days=92) and d.current == f"{c0.year}-Q{(c0.month - 1) // 3 + 1}"
    assert {p.period for p in d.churn_by_segment} == {d.current}
    html = build_report(demo_store, lang="en")
    assert f"Period: {d.current}." in _visible(html)
    running = f"{d.last.year}-Q{(d.last.month - 1) // 3 + 1}"
    if running != d.current:  # the data end inside a quarter that is still running
        assert f"Share in {running}" not in _visible(html)
