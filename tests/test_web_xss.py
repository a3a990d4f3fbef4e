"""Customer text is untrusted: a corpus of script payloads goes in as complaint texts, titles, authors, links,
customer names, handles and a user's name — through ``centric.ingest``, as any file would, and through
``POST /api/v1/feedback``, as a program would — and every page an
admin can reach (every GET page route, its objects' detail pages, the links found on them, the lists searched
for a payload) must show them as text, never as markup.

The walk is generic over the app's routes, so pages added later are covered; a route whose path parameter has
no value here fails the test.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from centric import ingest
from centric.engines import open_store
from centric.web import auth, deps
from tests.conftest import WEB_PASSWORD, login_csrf

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><script>alert(2)</script>",
    "xss{{7*7}}xss",
    "'-alert(1)-'\"",
    "\u202e<script>alert(3)</script>\u202c",
    "\uff1cscript\uff1ealert(4)\uff1c/script\uff1e",
    "<svg/onload=alert(5)>",
    "</script><script>alert(6)</script>",
    "<a href=\"javascript:alert(7)\">click</a>",
]
# what must never appear in a page: the payloads' markup, unescaped, or a template that ran
RAW = ("<script>alert", "<img src=x", "<svg/onload", "<a href=\"javascript:", "xss49xss")
MAX_PAGES = 300


class Markup(HTMLParser):
    """Collects what would run: event-handler attributes, javascript: links, scripts that are not ours."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k.startswith("on"):
                self.bad.append(f"<{tag} {k}=…>")
            if k in ("href", "src", "action", "formaction", "data", "xlink:href") and v is not None:
                if re.sub(r"[\s\x00-\x1f]", "", v).lower().startswith(("javascript:", "data:text/html", "vbscript:")):
                    self.bad.append(f"<{tag} {k}={v[:40]!r}>")
                if k == "href" and tag == "a":
                    self.links.append(v)
        if tag == "script":
            a = dict(attrs)
            if not ((a.get("src") or "").startswith("/static/") or a.get("type") == "application/json"):
                self.bad.append("<script> not from /static")


@pytest.fixture
def xss_client(web_db):
    """The demo store with the payloads ingested and posted (complaints analysed and placed in cases), an admin
    whose name and case-owner name are payloads, signed in."""
    from rich.console import Console  # noqa: F401  (the text pipeline prints nothing here)

    from centric.cases.sync import sync
    from centric.text.batch import analyze_store

    n = len(PAYLOADS)
    with open_store(web_db) as store:
        ingest("customers", pd.DataFrame({
            "crm_id": [f"XSS-{i}" for i in range(n)],
            "email": [f"xss{i}@example.com" for i in range(n)],
            "name": PAYLOADS,
            "segment": PAYLOADS,
            "city": PAYLOADS,
        }), store=store, name="xss-customers.csv")
        ingest("feedback", pd.DataFrame({
            "feedback_id": [f"XSS-F{i}" for i in range(n)],
            "email": [f"xss{i}@example.com" for i in range(n)],
            "handle": [f"@xss{i}{p}" for i, p in enumerate(PAYLOADS)],
            "posted_at": ["2026-10-30 10:00"] * n,
            "title": PAYLOADS,
            "text": [f"The fridge delivery was late and the courier was rude {p}" for p in PAYLOADS],
            "author": PAYLOADS,
            "url": ["javascript:alert(8)"] * n,
            "channel": ["online"] * n,
            "touchpoint": ["delivery"] * n,
        }), store=store, values={"source": "complaint"}, name="xss-feedback.csv")
        analyze_store(store, "retail", fast=True)
        sync(store)
        cases = [r[0] for r in store.execute(
            "SELECT DISTINCT case_id FROM case_signals WHERE signal_id LIKE 'XSS-F%' ORDER BY 1").fetchall()]
        customers = [r[0] for r in store.execute(
            "SELECT DISTINCT customer_id FROM identities WHERE value LIKE 'xss%@example.com' ORDER BY 1").fetchall()]
    assert len(cases) >= 1 and len(customers) == n

    from centric.web import create_app

    app = create_app(web_db)
    with TestClient(app) as client:
        hub = app.state.hub
        # the same payloads through the API, as a program would post them (analysed and placed in cases)
        token, _ = hub.write(auth.add_token, "xss-feed", "agent", ["delivery"])
        posted = client.post("/api/v1/feedback", headers={"Authorization": f"Bearer {token}"}, json=[
            {"feedback_id": f"XSS-API{i}", "email": f"xss-api{i}@example.com", "source": "complaint",
             "posted_at": "2026-10-30T11:00:00", "text": f"The courier broke the washing machine {p}", "title": p,
             "author": p, "url": p, "channel": "email"} for i, p in enumerate(PAYLOADS)])
        assert posted.status_code == 201, posted.text
        hub.write(analyze_store, "retail", fast=True)
        hub.write(sync)
        api_cases = [r[0] for r in hub.reader().execute(
            "SELECT DISTINCT case_id FROM case_signals WHERE signal_id LIKE 'XSS-API%' ORDER BY 1").fetchall()]
        api_customers = [r[0] for r in hub.reader().execute(
            "SELECT DISTINCT customer_id FROM identities WHERE value LIKE 'xss-api%@example.com' ORDER BY 1"
        ).fetchall()]
        assert api_cases and len(api_customers) == len(PAYLOADS)
        cases, customers = cases + api_cases, customers + api_customers
        hub.write(auth.add_user, "xss-admin@example.com", "admin", WEB_PASSWORD, name=PAYLOADS[1],
                  agent=PAYLOADS[0])
        user = hub.write(auth.add_user, "xss-agent@example.com", "agent", WEB_PASSWORD, ["delivery"],
                         name=PAYLOADS[0], agent=PAYLOADS[1])
        page = client.get("/login")
        r = client.post("/login", data={"email": "xss-admin@example.com", "password": WEB_PASSWORD,
                                        "csrf_token": login_csrf(page.text), "next": "/me"}, follow_redirects=False)
        assert r.status_code == 303
        # a survey whose name and company are payloads, its answers' comments the payloads (the public form)
        from tests.test_web_surveys import XSS_SLUG, xss_survey

        survey_id, keys = xss_survey(client, PAYLOADS)
        # a saved 5-whys tree whose title, labels, notes and quotes are payloads
        from centric.whys import Node, WhysTree, saved

        tree = WhysTree("delivery", Node("0", "problem", PAYLOADS[0], note=PAYLOADS[1], quotes=[PAYLOADS[3]],
                                         evidence={"cases": [PAYLOADS[2]]},
                                         children=[Node("0.0", "cause", PAYLOADS[4], verdict="root cause")]))
        tree_id = hub.write(saved.save, tree, PAYLOADS[1], PAYLOADS[0])
        # ideas whose titles, texts, authors, comments, answers and rewards are payloads; one a near-duplicate
        from centric.ideas import box

        ideas = [hub.write(box.submit, f"{p} deliver on saturdays please", "customer", p, author_name=p,
                           author_email=f"xss-idea{i}@example.com", factor="delivery") for i, p in enumerate(PAYLOADS)]
        hub.write(box.comment, ideas[0], PAYLOADS[2], PAYLOADS[3], "customer")
        hub.write(box.change_status, ideas[0], "under_review", PAYLOADS[4], PAYLOADS[0])
        hub.write(box.reward, ideas[0], PAYLOADS[1], PAYLOADS[2], PAYLOADS[3], 5, PAYLOADS[4][:20])
        flagged = hub.write(box.submit, PAYLOADS[3], "customer", PAYLOADS[4], flags=["honeypot"])
        # a case resolved by an agent named with a payload: the customer's "Was it solved?" page
        from centric.cases import workflow

        solved_token = hub.write(workflow.resolve, cases[0], PAYLOADS[0], note=PAYLOADS[1])
        # a customer council whose member (a customer named with a payload), notes, meeting, agenda, minutes,
        # decision and action are payloads
        from centric import council

        member = hub.write(council.add_member, customers[0], PAYLOADS[0], role=PAYLOADS[2], notes=PAYLOADS[3],
                           joined_on="2026-09-01", evidence=PAYLOADS[4])
        meeting = hub.write(council.add_meeting, PAYLOADS[5], "2026-10-01", PAYLOADS[0], place=PAYLOADS[6],
                            agenda=[(PAYLOADS[7], PAYLOADS[8], None)])
        hub.write(council.set_attendance, meeting, member, "excused", note=PAYLOADS[9])
        hub.write(council.set_minutes, meeting, PAYLOADS[10], PAYLOADS[0])
        decision = hub.write(council.add_decision, meeting, 1, PAYLOADS[1], PAYLOADS[0])
        hub.write(council.add_action, meeting, PAYLOADS[3], "xss@example.com", "2026-10-05", PAYLOADS[0],
                  decision_id=decision)
        # a mystery-shopping visit to a store named with a payload, by a shopper named with one, with payload notes
        from tests.test_mystery_web import add_visit

        visit_id = add_visit(hub, manager=PAYLOADS[1], store_name=PAYLOADS[0], shopper=PAYLOADS[4], visit_id="MX-XSS",
                             notes=PAYLOADS[3])
        # an employee named with a payload in the payload-named store, with a self-assessment link
        from centric.ingest.records import ingest_records
        from centric.orientation import invitations as self_links

        hub.write(ingest_records, "employees", [{"employee_id": "E-XSS", "name": PAYLOADS[2], "unit": PAYLOADS[0],
                                                 "email": "xss-employee@example.com", "role": "staff"}], "xss-hr")
        links = hub.write(lambda st: self_links.issue(st, self_links.plan(st, units=[PAYLOADS[0]])))
        assert [lk.employee_id for lk in links] == ["E-XSS"]
        client.objects = {"case_id": cases, "customer_id": customers, "user_id": [user["user_id"]],
                          "factor": ["delivery"], "survey_id": [survey_id], "key": keys, "slug": [XSS_SLUG],
                          "tree_id": [tree_id], "journey": ["purchase"],
                          "token": [solved_token, links[0].url.rsplit("/", 1)[1]], "number": [1], "meeting_id": [meeting], "idea_id": [*ideas, flagged],
                          "visit_id": [visit_id], "attachment_id": [visit_id + "-1"], "employee_id": ["E-XSS"]}
        yield client


def _urls(client) -> list[str]:
    """Every GET page route, its path parameters filled with the payload objects, and each list searched."""
    urls = []
    for method, path, _ in deps.routes(client.app):
        if method != "GET" or path.startswith(("/static", "/api/", "/openapi")) or path == "/healthz":
            continue
        names = re.findall(r"\{([^}:]+)(?::[^}]*)?\}", path)
        if not names:
            urls += [path, f"{path}?q={PAYLOADS[0]}&view={PAYLOADS[1]}&status={PAYLOADS[4]}"]
            continue
        for name in names:
            assert name in client.objects, f"no payload object for {{{name}}} of {path} (tests/test_web_xss.py)"
        for i in range(max(len(client.objects[n]) for n in names)):
            url = path
            for name in names:
                values = client.objects[name]
                url = re.sub(r"\{" + name + r"(?::[^}]*)?\}", str(values[i % len(values)]), url)
            urls.append(url)
    return urls


def _check(url: str, response) -> list[str]:
    problems = []
    if response.status_code >= 500:
        problems.append(f"{url}: server error {response.status_code}")
    if "html" not in response.headers.get("content-type", ""):
        return problems
    text = response.text
    problems += [f"{url}: raw {raw!r}" for raw in RAW if raw in text]
    parser = Markup()
    parser.feed(text)
    problems += [f"{url}: {b}" for b in parser.bad]
    return problems


def _kind(url: str) -> str:
    """A found link's kind: its path with ids and query left out (/cases/CX-1?x=1 → /cases/{id})."""
    return re.sub(r"/[^/?]*\d[^/?]*", "/{id}", urlsplit(url).path)


def test_no_payload_runs_on_any_page(xss_client):
    seen: set[str] = set()
    queue = _urls(xss_client)  # every one of them is visited; links found on the pages: a few of each kind
    required = len(queue)
    per_kind: dict[str, int] = {}
    problems: list[str] = []
    showing = set()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = xss_client.get(url, follow_redirects=True)
        problems += _check(url, r)
        if "html" not in r.headers.get("content-type", ""):
            continue
        if "&lt;svg/onload=alert(5)&gt;" in r.text:  # a customer's payload (not the admin's own name)
            showing.add(_kind(url))
        parser = Markup()
        parser.feed(r.text)
        for link in parser.links:
            parts = urlsplit(link)
            if (parts.scheme or parts.netloc or not link.startswith("/") or link in seen
                    or link.startswith(("/static", "/logout", "/api/"))):
                continue
            kind = _kind(link)
            if per_kind.get(kind, 0) < 5:
                per_kind[kind] = per_kind.get(kind, 0) + 1
                queue.append(link)
    assert not problems, "\n".join(problems[:50])
    assert len(seen) >= required, f"the walk stopped after {len(seen)} of the {required} pages it must visit"
    # the payloads reached the pages that show customers' words: the walk checked something
    assert {"/cases/{id}", "/customers/{id}", "/ideas/{id}"} <= showing, showing
