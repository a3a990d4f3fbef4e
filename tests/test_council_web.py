"""The council's pages on the small demo store: the dashboards' Council filter gives the members' NPS that the
comparison gives; the demo's council is there with its overdue action. (An analyst running a meeting — a member
added, attendance, a decision and an action closed, each audited — is tested on DuckDB and PostgreSQL alike in
tests/test_web_postgres_writes.py.)"""

from __future__ import annotations

import datetime as dt
import re

from centric import council
from centric.council.compare import compare


def test_the_dashboards_council_filter_matches_the_comparison(web_client, login):
    from centric.metrics import score
    from centric.metrics.periods import headline_periods
    from centric.report.data import _bounds

    login(web_client, role="analyst")
    store = web_client.app.state.hub.reader()
    assert compare(store).scores["nps"][0].n > 0  # the demo's council answered surveys
    page = web_client.get("/dashboards")
    assert re.search(r'<select name="council">', page.text)
    (c0, c1), _ = headline_periods(_bounds(store, None, None)[1], "quarter")
    members = score(store, "nps", c0, c1, where={"council": ["member"]})
    everyone = score(store, "nps", c0, c1)
    filtered = web_client.get("/dashboards?council=member").text
    assert f"n = {members.n}" in filtered and f"n = {everyone.n:,}" not in filtered


def test_the_demo_council(demo_store):
    r = council.roster(demo_store, as_of=dt.date(2026, 10, 31))
    assert len(r.current) == 11 and len(r.former) == 1 and r.current["segment"].nunique() == 3
    assert set(r.current["country"]) == {"PL", "IT"}
    assert (r.former["left_reason"] == "consent_withdrawn").all() and (r.former["consents"] == "").all()
    t = council.actions(demo_store, as_of=dt.date(2026, 10, 31))
    assert t.counts()["overdue"] == 1 and len(council.meetings(demo_store)) == 3
