"""The workflow of one case, the "Was it solved?" tokens, the case objects and `centric cases`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from centric import Store
from centric.cases import store_io
from centric.cases import workflow as wf
from centric.cases.tokens import labels
from centric.cases.views import list_cases, show_case
from centric.cli import app
from centric.errors import CaseError

from .engines import DUCK_PG
from .engines import sql_rows as rows

T0 = dt.datetime(2026, 10, 5, 9, 0)  # a Monday, 11:00 in Warsaw: the office calendar is open
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def open_case(store: Store, case_id: str = "CX-0000001", status: str = "new", owner: str | None = None,
              department: str = "delivery", at: dt.datetime = T0, **cols) -> str:
    """A case as the loop opens one: its row and its `opened` event."""
    if getattr(store, "engine", "duckdb") == "postgresql":  # written as on DuckDB, published in one transaction
        from centric.engines.scratch import scratch

        with scratch(store, ["cases", "case_events"]) as s:
            return open_case(s.store, case_id, status, owner, department, at, **cols)
    row = {"case_id": case_id, "customer_id": "C0000001", "opened_at": at, "type": "delivery", "channel": "email",
           "department": department, "owner": owner, "status": status, "priority": "normal", "origin": "signal",
           "transfers": 0, "reopen_count": 0, "escalation_level": 0, **cols}
    with store.transaction() as con:
        store_io.insert_rows(con, "cases", pd.DataFrame([row]))
        events = [{"case_id": case_id, "occurred_at": at, "kind": "opened", "actor": "system",
                   "department": department}]
        if owner:
            events.append({**events[0], "kind": "assigned", "target": owner})
        store_io.append_events(con, pd.DataFrame(events))
    return case_id


def kinds(store: Store, case_id: str) -> list[str]:
    return list(store_io.load_events(store, [case_id])["kind"])


def case(store: Store, case_id: str) -> dict:
    return store_io.load_cases(store, [case_id]).iloc[0].to_dict()


def resolved_case(store: Store, case_id: str = "CX-0000001", at: dt.datetime = T0 + 2 * H) -> tuple[str, str]:
    open_case(store, case_id)
    wf.start(store, case_id, "a.nowak", now=at - H)
    return case_id, wf.resolve(store, case_id, "a.nowak", now=at)


@pytest.fixture
def case_store(engine):
    """An empty store on each engine the test's marker names, for the workflow's known answers."""
    return engine.new_store()


on_every_engine = pytest.mark.capability("cases", engines=DUCK_PG)


# -- transitions -------------------------------------------------------------------------------------------

@on_every_engine
def test_the_workflow_moves_a_case_through_its_statuses_and_refuses_what_it_does_not_allow(case_store):
    cid = open_case(case_store)
    assert wf.assign(case_store, cid, "a.nowak", "m.lis", now=T0 + H).status == "assigned"
    assert wf.start(case_store, cid, "a.nowak", now=T0 + 2 * H).status == "in_progress"
    with pytest.raises(CaseError, match="is already in_progress"):
        wf.start(case_store, cid, "a.nowak", now=T0 + 2 * H)
    with pytest.raises(CaseError, match=r"is in_progress and cannot become closed .*resolve it first"):
        wf.close(case_store, cid, "a.nowak", "delivery", "redelivered", now=T0 + 3 * H)
    assert wf.wait(case_store, cid, "a.nowak", now=T0 + 3 * H).status == "waiting"
    # the customer answers: the case is worked on again
    assert wf.customer_message(case_store, cid, "The parcel is still not here", now=T0 + 4 * H).status == "in_progress"
    wf.resolve(case_store, cid, "a.nowak", now=T0 + 5 * H)
    with pytest.raises(CaseError, match="is resolved and cannot be assigned; reopen it first"):
        wf.assign(case_store, cid, "p.mazur", "m.lis", now=T0 + 6 * H)
    # work does not start again on a resolved case unseen: reopening it counts
    with pytest.raises(CaseError, match="is resolved and cannot be started; reopen it first"):
        wf.start(case_store, cid, "a.nowak", now=T0 + 6 * H)
    with pytest.raises(CaseError, match=r"is resolved and cannot become waiting .*reopen it first"):
        wf.wait(case_store, cid, "a.nowak", now=T0 + 6 * H)
    assert kinds(case_store, cid) == ["opened", "assigned", "started", "waiting", "customer_contact", "resolved",
                                 "confirmation_sent"]
    row = case(case_store, cid)
    assert (row["status"], row["owner"], row["resolved_at"], row["updated_at"]) == (
        "resolved", "a.nowak", T0 + 5 * H, T0 + 5 * H)
    with pytest.raises(CaseError, match="there is no case 'CX-9'"):
        wf.note(case_store, "CX-9", "x", "a.nowak")


@on_every_engine
def test_a_comment_stops_the_first_response_clock_and_waiting_pauses_the_clocks(case_store):
    cid = open_case(case_store)
    wf.note(case_store, cid, "internal: check the courier", "a.nowak", now=T0 + H)  # a note stops nothing
    clock = rows(case_store, "SELECT stopped_at FROM case_clocks WHERE case_id = ? AND clock = 'first_response'", [cid])
    assert clock == [(None,)]
    wf.comment(case_store, cid, "We are on it", "a.nowak", now=T0 + 2 * H)
    clock = rows(case_store, "SELECT stopped_at, state FROM case_clocks WHERE case_id = ? AND clock = 'first_response'",
                 [cid])
    assert clock == [(T0 + 2 * H, "met")]
    wf.wait(case_store, cid, "a.nowak", now=T0 + 3 * H)
    states = dict(rows(case_store, "SELECT clock, state FROM case_clocks WHERE case_id = ?", [cid]))
    assert states["resolution"] == "paused"


@on_every_engine
def test_start_on_an_unowned_case_makes_the_actor_its_owner(case_store):
    cid = open_case(case_store)
    wf.start(case_store, cid, "p.mazur", now=T0 + H)
    assert case(case_store, cid)["owner"] == "p.mazur"
    assert kinds(case_store, cid) == ["opened", "assigned", "started"]


# -- closing -----------------------------------------------------------------------------------------------

@on_every_engine
def test_close_is_refused_without_root_cause_or_action_or_with_a_cause_outside_the_taxonomy(case_store):
    cid, _ = resolved_case(case_store)
    with pytest.raises(CaseError, match="cannot be closed without a root cause and the action taken"):
        wf.close(case_store, cid, "a.nowak", None, None)
    with pytest.raises(CaseError, match=r"cannot be closed without a root cause; the root cause is one of: "
                                        r"delivery, .*, other"):
        wf.close(case_store, cid, "a.nowak", " ", "redelivered")
    with pytest.raises(CaseError, match="cannot be closed without the action taken$"):
        wf.close(case_store, cid, "a.nowak", "delivery", "")
    with pytest.raises(CaseError, match="root cause 'weather' is not a factor of the taxonomy"):
        wf.close(case_store, cid, "a.nowak", "weather", "apologised")
    assert case(case_store, cid)["status"] == "resolved" and "closed" not in kinds(case_store, cid)
    out = wf.close(case_store, cid, "a.nowak", "delivery", "redelivered to the right address", sub_cause="wrong address",
                   note="the courier used the invoice address", now=T0 + 5 * H)
    assert out.status == "closed"
    row = case(case_store, cid)
    assert (row["root_cause"], row["root_sub_cause"], row["root_cause_note"], row["action_taken"],
            row["closed_at"]) == ("delivery", "wrong address", "the courier used the invoice address",
                                  "redelivered to the right address", T0 + 5 * H)
    data = json.loads(rows(case_store, "SELECT data FROM case_events WHERE kind = 'closed'")[0][0])
    assert data == {"root_cause": "delivery", "sub_cause": "wrong address",
                    "note": "the courier used the invoice address", "action": "redelivered to the right address"}


def test_root_causes_come_from_the_taxonomy_the_texts_were_analysed_with(store):
    cid, _ = resolved_case(store)
    with store.transaction():
        store_io.insert_rows(store, "text_analyses", pd.DataFrame([{
            "source": "feedback", "text_id": "F1", "taxonomy": "restaurants", "analyzed_at": T0}]))
    assert wf.root_causes(store) == ["food", "drinks", "service", "price", "ambience", "location", "other"]
    with pytest.raises(CaseError, match="root cause 'delivery' is not a factor"):
        wf.close(store, cid, "a.nowak", "delivery", "x")
    assert wf.close(store, cid, "a.nowak", "other", "refunded", now=T0 + 5 * H).status == "closed"


# -- transfers ---------------------------------------------------------------------------------------------

@on_every_engine
def test_transfers_are_counted_and_more_than_one_flags_the_case(case_store):
    cid = open_case(case_store, owner="a.nowak", status="assigned")
    wf.transfer(case_store, cid, "customer_service", "a.nowak", note="a billing matter", now=T0 + H)
    obj = list_cases(case_store)[0]
    assert (obj["department"], obj["owner"], obj["status"], obj["transfers"], obj["passed_hand_to_hand"]) == (
        "customer_service", None, "new", 1, False)
    wf.transfer(case_store, cid, "delivery", "b.kowal", owner="p.mazur", now=T0 + 2 * H)
    obj = list_cases(case_store)[0]
    assert (obj["department"], obj["owner"], obj["status"], obj["transfers"], obj["passed_hand_to_hand"]) == (
        "delivery", "p.mazur", "assigned", 2, True)
    ev = store_io.load_events(case_store, [cid])
    moved = ev[ev.kind == "transferred"]
    assert list(moved.department) == ["customer_service", "delivery"]
    assert list(moved.note.fillna("")) == ["a billing matter", ""]
    with pytest.raises(CaseError, match="already with department delivery"):
        wf.transfer(case_store, cid, "delivery", "b.kowal")
    with pytest.raises(CaseError, match="there is no department 'delivry'; departments: .*delivery"):
        wf.transfer(case_store, cid, "delivry", "b.kowal")


# -- reopening ---------------------------------------------------------------------------------------------

@on_every_engine
def test_reopen_within_the_grace_period_brings_the_case_back(case_store):
    cid, _ = resolved_case(case_store)
    wf.close(case_store, cid, "a.nowak", "delivery", "redelivered", now=T0 + 3 * H)
    # the grace period counts from the resolution (T0 + 2h): exactly 7 days later is still within it
    out = wf.reopen(case_store, cid, "m.lis", "delivered to the wrong address again", now=T0 + 2 * H + 7 * D)
    assert (out.case_id, out.status, out.action, out.linked_from) == (cid, "in_progress", "reopened", None)
    row = case(case_store, cid)
    assert (row["reopen_count"], row["status"], pd.isna(row["closed_at"]), row["resolved_at"]) == (
        1, "in_progress", True, T0 + 2 * H)
    data = json.loads(rows(case_store, "SELECT data FROM case_events WHERE kind = 'reopened'")[0][0])
    assert data == {"reason": "delivered to the wrong address again"}
    with pytest.raises(CaseError, match="only a resolved or closed case can be reopened"):
        wf.reopen(case_store, cid, "m.lis", "again")


@on_every_engine
def test_after_the_grace_period_a_new_case_is_opened_and_linked(case_store, monkeypatch):
    cid, _ = resolved_case(case_store)  # resolved at T0 + 2h
    monkeypatch.setenv("CENTRIC_CASES_GRACE_DAYS", "3")
    out = wf.reopen(case_store, cid, "m.lis", "the fridge is broken again", now=T0 + 2 * H + 3 * D + H)
    assert out.linked_from == cid and out.case_id == "CX-0000002" and out.status == "assigned"
    assert "past its grace period: new case CX-0000002 opened, linked to it" in out.message
    old, new = case(case_store, cid), case(case_store, "CX-0000002")
    assert (old["status"], old["reopen_count"]) == ("resolved", 0)
    assert (new["linked_case_id"], new["customer_id"], new["type"], new["department"], new["owner"],
            new["origin"], new["opened_at"]) == (cid, "C0000001", "delivery", "delivery", "a.nowak", "manual",
                                                 T0 + 2 * H + 3 * D + H)
    assert kinds(case_store, "CX-0000002") == ["opened", "assigned"]
    assert kinds(case_store, cid)[-1] == "note"
    assert list_cases(case_store, status="assigned")[0]["linked_case_id"] == cid


@on_every_engine
def test_a_customer_message_reopens_within_the_grace_period_and_links_a_new_case_after_it(case_store):
    cid, _ = resolved_case(case_store)
    assert wf.customer_message(case_store, cid, "Still broken", now=T0 + 2 * D).action == "reopened"
    assert kinds(case_store, cid)[-2:] == ["customer_contact", "reopened"]
    wf.resolve(case_store, cid, "a.nowak", now=T0 + 3 * D)
    out = wf.customer_message(case_store, cid, "Broken once more", now=T0 + 3 * D + 8 * D)
    assert out.linked_from == cid
    assert kinds(case_store, out.case_id) == ["opened", "assigned", "customer_contact"]
    assert case(case_store, cid)["reopen_count"] == 1


@on_every_engine
def test_the_rows_agree_with_the_projection_of_the_events(case_store):
    from centric.cases.projection import COLUMNS, project

    a = open_case(case_store, "CX-0000001")
    b = open_case(case_store, "CX-0000002", owner="p.mazur", status="assigned")
    wf.comment(case_store, a, "We are looking into it", "a.nowak", now=T0 + H)
    wf.transfer(case_store, a, "customer_service", "a.nowak", now=T0 + 2 * H)
    wf.transfer(case_store, a, "delivery", "m.lis", owner="a.nowak", now=T0 + 3 * H)
    wf.wait(case_store, a, "a.nowak", now=T0 + 4 * H)
    wf.comment(case_store, a, "Any news?", "a.nowak", now=T0 + 5 * H)
    wf.customer_message(case_store, a, "Here is the photo", now=T0 + 6 * H)
    token = wf.resolve(case_store, a, "a.nowak", now=T0 + 7 * H)
    wf.answer(case_store, token, False, now=T0 + D)
    wf.resolve(case_store, a, "a.nowak", now=T0 + 2 * D)
    wf.close(case_store, a, "a.nowak", "delivery", "redelivered", sub_cause="address", note="courier", now=T0 + 3 * D)
    wf.start(case_store, b, "p.mazur", now=T0 + H)
    wf.resolve(case_store, b, "p.mazur", now=T0 + 2 * H)
    wf.customer_message(case_store, b, "Broken again", now=T0 + 20 * D)  # a new linked case
    got = store_io.load_cases(case_store)[COLUMNS].sort_values("case_id").reset_index(drop=True)
    want = project(store_io.load_events(case_store)).sort_values("case_id").reset_index(drop=True)
    assert len(got) == 3
    pd.testing.assert_frame_equal(got.astype(object).where(got.notna(), None),
                                  want.astype(object).where(want.notna(), None), check_dtype=False)


# -- "Was it solved?" --------------------------------------------------------------------------------------

@on_every_engine
def test_the_token_answers_once_and_only_its_hash_is_kept(case_store):
    cid, token = resolved_case(case_store)
    stored = rows(case_store, "SELECT token_hash, case_id, expires_at, used_at FROM case_tokens")
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(), cid, T0 + 2 * H + 30 * D, None)]
    assert token not in json.dumps([str(v) for r in rows(case_store, "SELECT * FROM case_tokens") for v in r])
    out = wf.answer(case_store, token, True, csat=4, ces=6, comment="Thank you", now=T0 + D)
    assert (out.case_id, out.action) == (cid, "confirmed")
    assert rows(case_store, "SELECT customer_id, survey, csat, ces, comment, language FROM responses") == [
        ("C0000001", "case-confirmation", 4, 6, "Thank you", "en")]
    assert rows(case_store, "SELECT source_table, case_id, action FROM case_signals") == [("responses", cid, "joined")]
    data = json.loads(rows(case_store, "SELECT data FROM case_events WHERE kind = 'confirmed'")[0][0])
    assert (data["solved"], data["csat"], data["ces"]) == (True, 4, 6)
    assert rows(case_store, "SELECT state FROM case_clocks WHERE clock = 'confirmation'") == [("met",)]
    with pytest.raises(CaseError, match="already used"):
        wf.answer(case_store, token, False, now=T0 + D + H)
    with pytest.raises(CaseError, match="not known"):
        wf.answer(case_store, "no-such-token", True)
    assert case_store.count("responses") == 1


@on_every_engine
def test_an_expired_token_is_refused(case_store, monkeypatch):
    monkeypatch.setenv("CENTRIC_CASES_TOKEN_DAYS", "2")
    _, token = resolved_case(case_store)
    with pytest.raises(CaseError, match="this link expired on 2026-10-07 11:00 UTC"):
        wf.answer(case_store, token, True, now=T0 + 2 * H + 2 * D)


@on_every_engine
def test_scores_out_of_range_are_refused_before_the_token_is_spent(case_store):
    _, token = resolved_case(case_store)
    with pytest.raises(CaseError, match="csat must be a whole number from 1 to 5, got 6"):
        wf.answer(case_store, token, True, csat=6)
    with pytest.raises(CaseError, match="ces must be a whole number from 1 to 7, got 0"):
        wf.answer(case_store, token, True, ces=0)
    assert wf.answer(case_store, token, True, csat=5, now=T0 + D).action == "confirmed"


@on_every_engine
def test_no_reopens_the_case_and_a_new_resolution_retires_the_old_link(case_store):
    cid, token = resolved_case(case_store)
    out = wf.answer(case_store, token, False, csat=1, comment="Nothing changed", now=T0 + D)
    assert (out.case_id, out.status, out.action) == (cid, "in_progress", "reopened")
    assert kinds(case_store, cid)[-2:] == ["not_solved", "reopened"]
    assert case(case_store, cid)["reopen_count"] == 1
    second = wf.resolve(case_store, cid, "a.nowak", now=T0 + 2 * D)
    assert second != token and rows(case_store, "SELECT count(*) FROM case_tokens WHERE case_id = ?", [cid]) == [(2,)]
    assert wf.answer(case_store, second, True, now=T0 + 3 * D).action == "confirmed"


@on_every_engine
def test_no_after_the_grace_period_opens_a_linked_case(case_store):
    cid, token = resolved_case(case_store)
    out = wf.answer(case_store, token, False, now=T0 + 10 * D)
    assert out.linked_from == cid and case(case_store, out.case_id)["linked_case_id"] == cid
    assert kinds(case_store, cid)[-2:] == ["not_solved", "note"]


def test_the_question_is_asked_in_the_customers_language():
    assert labels("pl")["question"] == "Czy Twoja sprawa została rozwiązana?"
    assert labels("it-IT")["no"] == "No, non è stato risolto"
    assert labels("ru")["yes"] == "Да, решён"
    assert labels("de") == labels("en") and labels(None)["question"] == "Has your problem been solved?"


# -- case objects ------------------------------------------------------------------------------------------

def test_case_objects_carry_clocks_signals_and_the_overdue_filter(store):
    late = open_case(store, "CX-0000001", feedback_id="F00042")
    on_time = open_case(store, "CX-0000002", at=T0 + 9 * D)
    with store.transaction():
        store_io.insert_rows(store, "case_signals", pd.DataFrame([{
            "source_table": "feedback", "signal_id": "F00050", "case_id": late, "customer_id": "C0000001",
            "kind": "complaint", "factor": "delivery", "signal_at": T0 + D, "action": "joined", "attached_at": T0 + D}]))
    wf.note(store, late, "looking", "a.nowak", now=T0 + 9 * D + H)  # first response 9 days late
    wf.comment(store, on_time, "Sorry, we are on it", "a.nowak", now=T0 + 9 * D + H)
    objs = {o["id"]: o for o in list_cases(store)}
    first = objs[late]
    assert first["signals"] == [{"table": "feedback", "id": "F00042", "kind": None, "at": None},
                                {"table": "feedback", "id": "F00050", "kind": "complaint",
                                 "at": "2026-10-06T09:00:00Z"}]
    assert first["clock_states"]["first_response"] == "breached" and first["clock_states"]["next_response"] is None
    assert first["due"]["first_response"].endswith("Z") and first["due"]["next_response"] is None
    assert objs[on_time]["clock_states"]["first_response"] == "met"
    assert first["opened_at"] == "2026-10-05T09:00:00Z" and first["factor"] == "delivery"
    assert [o["id"] for o in list_cases(store, overdue=True)] == [late]
    assert [o["id"] for o in list_cases(store, owner="a.nowak")] == []
    assert [o["id"] for o in list_cases(store, department="delivery", limit=1)] == [late]  # the oldest first
    imported = open_case(store, "CS-1", origin=None, status=None, at=T0 - D)  # as a helpdesk export leaves one
    assert [(o["id"], o["status"], o["origin"]) for o in list_cases(store, status="open")] == [
        (imported, "open", "import")]
    shown = show_case(store, late)
    assert [e["kind"] for e in shown["events"]] == ["opened", "note"]
    assert shown["events"][1]["note"] == "looking" and shown["root_cause"]["cause"] is None
    assert shown["clocks"]["first_response"]["state"] == "breached"


# -- the command line --------------------------------------------------------------------------------------

def cli(db, *args):
    return CliRunner().invoke(app, ["--db", str(db), "cases", *args], catch_exceptions=False)


def test_cli_round_trip(tmp_path):
    db = tmp_path / "c.duckdb"
    with Store.open(db) as s:
        open_case(s, "CX-0000001", customer_id="C0000009")
        open_case(s, "CX-0000002", priority="urgent")
    res = cli(db, "assign", "CX-0000001", "a.nowak", "--actor", "m.lis", "--now", "2026-10-05T12:00+02:00")
    assert res.exit_code == 0 and "case CX-0000001: assigned, now assigned" in res.output
    listed = json.loads(cli(db, "list", "--json").output)
    assert [c["id"] for c in listed] == ["CX-0000002", "CX-0000001"]  # urgent first
    assert {"id", "customer_id", "department", "owner", "status", "priority", "factor", "opened_at", "due",
            "escalation_level", "transfers", "signals"} <= set(listed[1])
    assert (listed[1]["customer_id"], listed[1]["owner"], listed[1]["status"]) == ("C0000009", "a.nowak", "assigned")
    assert set(listed[1]["due"]) == {"first_response", "next_response", "resolution", "confirmation"}
    res = cli(db, "resolve", "CX-0000001", "--now", "2026-10-05T13:00Z")
    assert res.exit_code == 0 and "/solved/" in res.output
    token = res.output.split("/solved/")[1].split()[0]
    res = cli(db, "close", "CX-0000001", "--action", "refund")
    assert res.exit_code == 2 and "error: case CX-0000001 cannot be closed without a root cause" in res.output
    res = cli(db, "answer", f"/solved/{token}", "--not-solved", "--csat", "2", "--now", "2026-10-06T09:00")
    assert res.exit_code == 0 and "reopened" in res.output
    res = cli(db, "comment", "CX-0000001", "[b]sorry[/b]", "--now", "2026-10-06T10:00")
    shown = cli(db, "show", "CX-0000001")
    assert "[b]sorry[/b]" in shown.output  # customer-facing text is shown as written
    data = json.loads(cli(db, "show", "CX-0000001", "--json").output)
    assert [e["kind"] for e in data["events"]] == ["opened", "assigned", "resolved", "confirmation_sent",
                                                   "not_solved", "reopened", "agent_response"]
    assert data["events"][1]["at"] == "2026-10-05T10:00:00Z" and data["reopen_count"] == 1
    table = cli(db, "list", "--status", "in_progress")
    assert "CX-0000001" in table.output and "CX-0000002" not in table.output and "1 cases" in table.output
    assert cli(db, "list", "--status", "later").exit_code == 2
    assert cli(db, "show", "CX-0000404").exit_code == 2


def test_cli_config_makes_files_active_and_names_the_line_of_a_bad_one(tmp_path):
    db = tmp_path / "c.duckdb"
    Store.open(db).close()
    bad = tmp_path / "routing.toml"
    bad.write_text('default_department = "service"\ntriage_department = 7\n', encoding="utf-8")
    res = cli(db, "config", "--routing", str(bad))
    assert res.exit_code == 2 and "routing.toml line 2, key 'triage_department'" in res.output
    bad.write_text('default_department = "service"\n', encoding="utf-8")
    res = cli(db, "config", "--routing", str(bad), "--show")
    assert res.exit_code == 0 and f"routing: {bad}" in res.output.replace("\n", "")
    assert cli(db, "config", "--sla", str(tmp_path / "none.toml")).exit_code == 2


def test_cli_tick_records_the_breaches_once(tmp_path):
    db = tmp_path / "c.duckdb"
    with Store.open(db) as s:
        open_case(s)  # nobody answers: ten days later its first-response and resolution clocks are breached
    first = json.loads(cli(db, "tick", "--json", "--now", "2026-10-15T09:00Z").output)
    assert (first["now"], first["breaches"]) == ("2026-10-15T09:00:00Z", 2)
    assert json.loads(cli(db, "tick", "--json", "--now", "2026-10-15T09:00Z").output)["breaches"] == 0
    res = cli(db, "list", "--overdue", "--json")
    assert [c["id"] for c in json.loads(res.output)] == ["CX-0000001"]
