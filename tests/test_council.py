"""The customer council on a small store built by hand: roster (segment, value, tenure, consent), meetings,
attendance, decisions, the action tracker, the ``council`` filter and the members-against-everyone-else comparison,
each against figures worked out by hand; the roster import's rejected rows; erasure with ``customers forget``."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest

from centric import council
from centric.cases.store_io import insert_rows
from centric.council.compare import compare
from centric.council.importer import import_roster
from centric.errors import CentricError
from centric.ingest import ingest
from centric.metrics import complaints, nps
from centric.privacy import forget

from .conftest import rows

T = dt.datetime(2026, 3, 1)
LEAD = "lead@example.com"
# customer, name, e-mail, segment, country
PEOPLE = [("C0000001", "Anna Lis", "anna@x.pl", "vip", "PL"), ("C0000002", "Bruno Neri", "bruno@x.it", "b2c", "IT"),
          ("C0000003", "Celina Bąk", "celina@x.pl", "b2c", "PL"), ("C0000004", "Dario Villa", "dario@x.it", "b2b", "IT"),
          ("C0000005", "Ewa Kos", "ewa@x.pl", "b2c", "PL")]
# response, customer, nps, csat
ANSWERS = [("R1", "C0000001", 10, 5), ("R2", "C0000001", 9, 4), ("R3", "C0000002", 3, 2), ("R4", "C0000003", 10, 5),
           ("R5", "C0000004", 8, 4), ("R6", "C0000005", 0, 1), ("R7", None, 9, 5)]


@pytest.fixture
def small(store, write):
    """Members now: Anna and Bruno; Celina was one; Dario and Ewa never were; R7 is anonymous."""
    ingest("customers", write("c.csv", "customer_id,name,email,segment,country\n"
                              + "".join(f"{c},{n},{e},{s},{k}\n" for c, n, e, s, k in PEOPLE)), store=store)
    ids = {r[0]: r[1] for r in rows(store, "SELECT i.value, i.customer_id FROM identities i WHERE kind = 'email'")}
    cid = {p[0]: ids[p[2]] for p in PEOPLE}
    with store.transaction():
        insert_rows(store, "responses", pd.DataFrame(
            {"response_id": [a[0] for a in ANSWERS], "customer_id": [cid.get(a[1]) for a in ANSWERS],
             "nps": [a[2] for a in ANSWERS], "csat": [a[3] for a in ANSWERS],
             "responded_at": [T + dt.timedelta(days=i) for i in range(len(ANSWERS))]}))
        insert_rows(store, "orders", pd.DataFrame(
            {"order_id": ["O1", "O2", "O3"], "customer_id": [cid["C0000001"]] * 2 + [cid["C0000002"]],
             "ordered_at": [dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1), dt.datetime(2025, 3, 1)],
             "amount": [100.0, 50.0, 20.0], "currency": "PLN"}))
        insert_rows(store, "cases", pd.DataFrame(
            {"case_id": ["K1", "K2", "K3"], "customer_id": [cid["C0000001"], cid["C0000002"], cid["C0000004"]],
             "status": ["assigned", "closed", "new"], "type": "delivery", "opened_at": T, "origin": "signal"}))
        # mentions: Anna's answer R1 delivery +, delivery −, price +; Bruno's R3 delivery −; Dario's R5 delivery +
        insert_rows(store, "mentions", pd.DataFrame(
            {"source": "responses", "text_id": ["R1", "R1", "R1", "R3", "R5"], "sentence": [0, 1, 2, 0, 0],
             "factor": ["delivery", "delivery", "price", "delivery", "delivery"],
             "sentiment": ["positive", "negative", "positive", "negative", "positive"], "taxonomy": "retail"}))
    a = council.add_member(store, "anna@x.pl", LEAD, consent="council,recording", joined_on="2026-01-10",
                           role="chair", notes="Prefers calls after 18:00", evidence="form F-1 signed by Anna Lis")
    b = council.add_member(store, "bruno@x.it", LEAD, joined_on="2026-01-10")
    c = council.add_member(store, cid["C0000003"], LEAD, joined_on="2026-01-10")
    council.leave(store, c, LEAD, on="2026-02-01")
    store.ids = {"anna": a, "bruno": b, "celina": c, **cid}
    return store


def test_roster_has_segment_value_tenure_and_consent(small):
    r = council.roster(small, as_of=dt.date(2026, 3, 1))
    f = r.to_frame().set_index("member_id")
    anna = f.loc[small.ids["anna"]]
    assert (anna["segment"], anna["country"], anna["status"]) == ("vip", "PL", "member")
    assert anna["revenue"] == pytest.approx(150.0) and anna["currency"] == "PLN"
    assert anna["first_order"] == dt.date(2026, 1, 1) and anna["tenure_days"] == 59  # 1 January → 1 March
    assert anna["consents"] == "council, recording" and anna["role"] == "chair"
    assert f.loc[small.ids["bruno"]]["tenure_days"] == 365  # 1 March 2025 → 1 March 2026
    assert math.isnan(f.loc[small.ids["celina"]]["revenue"])  # no orders
    assert list(r.current.index) == [0, 1] and len(r.former) == 1
    assert f.loc[small.ids["celina"]]["status"] == "former"
    # as of a day before Celina left she was a member
    assert len(council.roster(small, as_of=dt.date(2026, 1, 31)).current) == 3


def test_joining_is_checked(small):
    with pytest.raises(CentricError, match=r"consent: a member needs the consent to take part"):
        council.add_member(small, "dario@x.it", LEAD, consent="contact")
    with pytest.raises(CentricError, match=r"customer: C\d+ is a member already \(CM0001\)"):
        council.add_member(small, "anna@x.pl", LEAD)
    with pytest.raises(CentricError, match=r"customer: no customer is known by 'nobody@x.pl'"):
        council.add_member(small, "nobody@x.pl", LEAD)
    with pytest.raises(CentricError, match=r"consent date: 2026-02-02 is after the day they join \(2026-02-01\)"):
        council.add_member(small, "dario@x.it", LEAD, consent_at="2026-02-02", joined_on="2026-02-01")
    with pytest.raises(CentricError, match=r"joined: '31\.02\.2026' is not a date"):
        council.add_member(small, "dario@x.it", LEAD, joined_on="31.02.2026")
    # Celina left and may join again: a second membership
    again = council.add_member(small, small.ids["C0000003"], LEAD, joined_on="2026-02-20")
    assert again == "CM0004" and len(council.roster(small, as_of=dt.date(2026, 3, 1)).current) == 3


def test_withdrawing_the_consent_ends_the_membership_and_removes_notes(small):
    mt = council.add_meeting(small, "Returns", "2026-02-10", LEAD, agenda=["Free returns"])
    council.set_attendance(small, mt, small.ids["anna"], "excused", note="travelling")
    assert not council.withdraw_consent(small, small.ids["anna"], "contact", LEAD)  # never given
    assert council.withdraw_consent(small, small.ids["anna"], "recording", LEAD)
    m = council.get_member(small, small.ids["anna"])
    assert m["left_on"] is None and m["notes"] == "Prefers calls after 18:00"  # recording only: still a member
    assert council.withdraw_consent(small, small.ids["anna"], "council", LEAD, at=dt.datetime(2026, 2, 20, 9))
    m = council.get_member(small, small.ids["anna"])
    assert (m["left_on"], m["left_reason"], m["notes"]) == (dt.date(2026, 2, 20), "consent_withdrawn", None)
    assert rows(small, "SELECT status, note FROM council_attendance") == [("excused", None)]
    assert rows(small, "SELECT purpose, withdrawn_at IS NOT NULL FROM council_consents WHERE member_id = ? "
                       "ORDER BY purpose", [small.ids["anna"]]) == [("council", True), ("recording", True)]


def test_meeting_attendance_decisions_and_actions(small):
    mt = council.add_meeting(small, "Deliveries", "2026-02-15", LEAD, place="Kraków",
                             agenda=[("Two-hour slots", "Customers pick a two-hour slot", "delivery"), "Any other"])
    assert council.add_agenda_item(small, mt, "Installation") == 3
    council.set_attendance(small, mt, small.ids["anna"], "present")
    council.set_attendance(small, mt, small.ids["bruno"], "absent")
    council.set_attendance(small, mt, small.ids["bruno"], "excused")  # corrected: replaces the first
    with pytest.raises(CentricError, match=r"was not on the council on 2026-02-15"):
        council.set_attendance(small, mt, small.ids["celina"], "present")  # she left on 1 February
    with pytest.raises(CentricError, match=r"attendance: 'late' is not one of present, absent, excused"):
        council.set_attendance(small, mt, small.ids["anna"], "late")
    d = council.add_decision(small, mt, 1, "Pilot the slots in Kraków", LEAD)
    with pytest.raises(CentricError, match=r"item: meeting MT0001 has no agenda item 7"):
        council.add_decision(small, mt, 7, "x", LEAD)
    a1 = council.add_action(small, mt, "Brief couriers", "Ops@Example.com", "2026-03-01", LEAD, decision_id=d)
    a2 = council.add_action(small, mt, "Print leaflets", "ops@example.com", "2026-04-01", LEAD)
    a3 = council.add_action(small, mt, "Ask the IT team", "it@example.com", "2026-02-20", LEAD)
    with pytest.raises(CentricError, match=r"owner: 'x@example.com' is not a user of the web app"):
        council.add_action(small, mt, "x", "x@example.com", "2026-03-01", LEAD, owners=["ops@example.com"])
    council.set_action(small, a3, "done", LEAD, on="2026-02-25")  # done late: not overdue
    council.set_action(small, a2, "in_progress", LEAD)
    got = council.get_meeting(small, mt, as_of=dt.date(2026, 3, 10))
    assert list(got.agenda["title"]) == ["Two-hour slots", "Any other", "Installation"]
    assert got.counts == {"present": 1, "absent": 0, "excused": 1, "not recorded": 0}
    assert list(got.decisions["item"]) == [1]
    t = council.actions(small, as_of=dt.date(2026, 3, 10))
    assert list(t.table["action_id"]) == [a1, a2, a3]  # open ones first, by due day
    assert list(t.table["overdue"]) == [True, False, False] and t.table["days_overdue"].iloc[0] == 9
    assert t.table["owner"].iloc[0] == "ops@example.com" and t.table["decision"].iloc[0] == "Pilot the slots in Kraków"
    assert t.counts() == {"open": 1, "in_progress": 1, "done": 1, "dropped": 0, "overdue": 1}
    assert list(council.actions(small, as_of=dt.date(2026, 4, 2), overdue=True).table["action_id"]) == [a1, a2]
    m = council.meetings(small, as_of=dt.date(2026, 3, 10)).iloc[0]
    assert (m["items"], m["present"], m["excused"], m["decisions"], m["actions"], m["actions_open"]) == (3, 1, 1, 1, 3, 2)


def value(store, **where):
    s = nps(store, where=where).rows[0][1]
    return s.value, s.n


def test_the_council_filter(small):
    # members now: Anna 10, 9 and Bruno 3 → 2 promoters, 1 detractor of 3
    assert value(small, council=["member"]) == (pytest.approx(100 / 3), 3)
    assert value(small, council=["former"]) == (pytest.approx(100.0), 1)  # Celina: 10
    assert value(small, council=["(none)"]) == (pytest.approx(0.0), 3)  # Dario 8, Ewa 0, anonymous 9
    assert value(small, council=["former", "(none)"]) == (pytest.approx(25.0), 4)
    assert value(small, council=["member"], segment=["vip"]) == (pytest.approx(100.0), 2)
    assert complaints(small, (), where={"council": ["member"]}, with_backlog=False).total.n == 2  # K1, K2
    with pytest.raises(CentricError, match=r"council: 'yes' is not one of member, former, \(none\)"):
        nps(small, where={"council": ["yes"]})


def test_members_against_everyone_else(small):
    c = compare(small, correction="none")
    members, others, change = c.scores["nps"]
    assert (members.value, members.n) == (pytest.approx(100 / 3), 3)
    assert (others.value, others.n) == (pytest.approx(25.0), 4)  # Celina 10, Dario 8, Ewa 0, anonymous 9
    assert change.delta == pytest.approx(100 / 3 - 25.0)
    z = change.delta / math.sqrt(members.se ** 2 + others.se ** 2)
    assert change.z == pytest.approx(z) and change.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    m, o, _ = c.scores["csat"]  # top-2-box: members 5, 4, 2 → 2 of 3; others 5, 4, 1, 5 → 3 of 4
    assert (m.value, m.n, o.value, o.n) == (pytest.approx(200 / 3), 3, pytest.approx(75.0), 4)
    assert c.scores["ces"][0].n == 0 and c.scores["ces"][2] is None  # no CES answers: nothing to test
    f = c.factors.set_index("factor")
    # members: delivery +, −, − → net −33.3 of 3; price + → +100 of 1; others: Dario's delivery + → +100 of 1
    assert f.loc["delivery", "members_n"] == 3 and f.loc["delivery", "members_net"] == pytest.approx(-100 / 3)
    assert f.loc["delivery", "others_n"] == 1 and f.loc["delivery", "others_net"] == pytest.approx(100.0)
    assert f.loc["price", "members_net"] == pytest.approx(100.0) and f.loc["price", "others_n"] == 0
    assert list(c.factors["factor"]) == ["delivery", "price"]  # the members' most mentioned first
    assert list(c.cases["case_id"]) == ["K1"] and c.members == 2  # Bruno's K2 is closed, Dario is no member


def test_forget_erases_the_member_and_keeps_the_council_history(small):
    mt = council.add_meeting(small, "Deliveries", "2026-02-15", LEAD, agenda=["Slots for Anna Lis's street"])
    council.set_attendance(small, mt, small.ids["anna"], "present", note="came with her daughter")
    council.set_minutes(small, mt, "LIS  Anna asked for slots; write to anna@x.pl. Bruno agreed.", LEAD)
    d = council.add_decision(small, mt, 1, "Slots as Anna Lis proposed", LEAD)
    council.add_action(small, mt, "Call anna@x.pl back", "ops@example.com", "2026-03-01", LEAD, decision_id=d)
    forget(small, "anna@x.pl")
    member = rows(small, "SELECT customer_id, notes, role, left_on IS NOT NULL, left_reason FROM council_members "
                         "WHERE member_id = ?", [small.ids["anna"]])
    assert member == [(None, None, "chair", True, "erased")]
    assert rows(small, "SELECT customer_id, evidence, purpose, withdrawn_at IS NOT NULL FROM council_consents "
                       "WHERE member_id = ? ORDER BY purpose", [small.ids["anna"]]) == [
        (None, None, "council", True), (None, None, "recording", True)]
    assert rows(small, "SELECT status, note FROM council_attendance WHERE member_id = ?", [small.ids["anna"]]) == [
        ("present", None)]
    assert rows(small, "SELECT minutes FROM council_meetings") == [
        ("[erased] asked for slots; write to [erased]. Bruno agreed.",)]
    assert rows(small, "SELECT title FROM council_agenda") == [("Slots for [erased]'s street",)]
    assert rows(small, "SELECT text FROM council_decisions") == [("Slots as [erased] proposed",)]
    assert rows(small, "SELECT what FROM council_actions") == [("Call [erased] back",)]
    # the filter still works with an erased (unlinked) member: Anna's answers are anonymous now
    assert value(small, council=["member"]) == (pytest.approx(-100.0), 1)  # Bruno's 3
    assert value(small, council=["(none)"]) == (pytest.approx(40.0), 5)  # 10, 9, 8, 0, 9: 3 promoters, 1 detractor
    # the council's history stays: three memberships, one now (the erased one ended today)
    r = council.roster(small)
    assert len(r) == 3 and list(r.current["member_id"]) == [small.ids["bruno"]]
    assert council.get_meeting(small, mt).counts["present"] == 1


def test_import_keeps_rejected_rows_with_file_row_and_column(small, write):
    path = write("rada.csv", "e-mail;zgoda;joined;rola\n"
                             "dario@x.it;council,contact;05.02.2026;member\n"
                             "nobody@x.pl;council;2026-02-05;member\n"
                             "ewa@x.pl;council;2026-02-31;member\n"
                             "ewa@x.pl;contact;2026-02-05;member\n"
                             "anna@x.pl;council;2026-02-05;member\n"
                             "dario@x.it;council;2026-02-06;member\n")
    r = import_roster(small, path, LEAD, name="rada.csv")
    assert r.rows_read == 6 and r.added == ["CM0004"] and r.duplicate == 2  # Anna a member; Dario listed twice
    got = [(x.row, x.column, x.value, x.reason.split(" (")[0]) for x in r.rejected]
    assert got == [(3, "e-mail", "nobody@x.pl", "no customer is known by 'nobody@x.pl'"),
                   (4, "joined", "2026-02-31", "'2026-02-31' is not a date"),
                   (5, "zgoda", "contact", "a member needs the consent to take part in the council")]
    assert rows(small, "SELECT source, row_number, column_name FROM rejected_rows WHERE table_name = "
                       "'council_members' ORDER BY 2") == [("rada.csv", 3, "e-mail"), ("rada.csv", 4, "joined"),
                                                            ("rada.csv", 5, "zgoda")]
    assert rows(small, "SELECT rows_read, rows_stored, rows_rejected, rows_duplicate FROM ingest_runs WHERE "
                       "table_name = 'council_members'") == [(6, 1, 3, 2)]
    f = council.roster(small, as_of=dt.date(2026, 3, 1)).to_frame().set_index("member_id")
    assert f.loc["CM0004", "joined_on"] == dt.date(2026, 2, 5) and f.loc["CM0004", "consents"] == "council, contact"
    again = import_roster(small, path, LEAD, name="rada.csv")
    assert again.added == [] and again.duplicate == 3  # importing the same file again adds nothing


def test_import_without_a_customer_column_is_refused(small, write):
    with pytest.raises(CentricError, match=r"r\.csv: no column names the customer"):
        import_roster(small, write("r.csv", "name,role\nAnna,chair\n"), LEAD, name="r.csv")


def test_the_command_line(tmp_path, write):
    from typer.testing import CliRunner

    from centric.cli import app

    db = tmp_path / "c.duckdb"

    def run(*args):
        return CliRunner().invoke(app, ["--db", str(db), *args], catch_exceptions=False)

    assert run("ingest", "customers", str(write("c.csv", "name,email,segment\nAnna Lis,anna@x.pl,vip\n"
                                                          "Bruno Neri,bruno@x.it,b2c\n"))).exit_code == 0
    added = run("council", "add", "anna@x.pl", "--consent", "council,contact", "--joined", "2026-01-10",
                "--role", "[bold]chair[/bold]")
    assert added.exit_code == 0 and "added CM0001" in added.output
    again = run("council", "add", "anna@x.pl")
    assert again.exit_code == 2 and "error: customer: C0000001 is a member already (CM0001)" in again.output
    no = run("council", "add", "bruno@x.it", "--consent", "contact")
    assert no.exit_code == 2 and "needs the consent to take part" in no.output
    shown = run("council", "members")
    assert shown.exit_code == 0 and "CM0001" in shown.output and "bold" in shown.output  # Rich markup escaped
    got = json.loads(run("council", "members", "--json").output)
    assert [(m["member_id"], m["segment"], m["joined_on"], m["role"]) for m in got] == [
        ("CM0001", "vip", "2026-01-10", "[bold]chair[/bold]")]
    imported = run("council", "import", str(write("r.csv", "customer,joined\nbruno@x.it,2026-02-01\nzed@x.pl,"
                                                              "2026-02-01\n")), "--json")
    r = json.loads(imported.output)
    assert r["added"] == ["CM0002"] and [(x["row"], x["column"]) for x in r["rejected"]] == [(3, "customer")]
    assert run("council", "leave", "CM0002", "--on", "2026-03-01", "--consent-withdrawn").exit_code == 0
    assert [m["member_id"] for m in json.loads(run("council", "members", "--json").output)] == ["CM0001"]
    assert run("council", "actions", "--json").output.strip() == "[]"
    assert json.loads(run("council", "compare", "--json").output)["members"] == 1
