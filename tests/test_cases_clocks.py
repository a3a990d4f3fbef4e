"""The four service-level clocks, breaches, escalation and tick, against hand-computed answers.

The office calendar is open Monday to Friday 09:00–17:00 UTC, so business minutes are easy to count by hand;
2 March 2026 is a Monday."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from centric import Store
from centric.cases import store_io
from centric.cases.calendar import parse_calendar
from centric.cases.clocks import ClockError, compute_clocks, refresh_clocks, target_for
from centric.cases.escalation import escalations, tick
from centric.cases.model import Department, EscalationLevel, Policy, Routing, Target

WEEK = "\n".join(f'{d} = ["09:00-17:00"]' for d in ("mon", "tue", "wed", "thu", "fri"))
OFFICE = parse_calendar(f'timezone = "UTC"\n[hours]\n{WEEK}\n')
EVENING = parse_calendar('timezone = "UTC"\n[hours]\n' + "\n".join(
    f'{d} = ["12:00-20:00"]' for d in ("mon", "tue", "wed", "thu", "fri")))
ALWAYS = parse_calendar('timezone = "UTC"\n[hours]\n' + "\n".join(
    f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")))

POLICY = Policy(
    calendars={"office": OFFICE, "evening": EVENING, "always": ALWAYS},
    targets=(
        Target(first_response=120, next_response=60, resolution=960, confirmation=480),
        Target(first_response=60, next_response=120, resolution=2880, confirmation=10080, channel="social",
               calendar="always"),
        Target(first_response=30, next_response=30, resolution=480, confirmation=10080, priority="urgent",
               channel="social", calendar="always"),
    ),
    escalation={
        None: (EscalationLevel(0, "lead"), EscalationLevel(480, "manager")),
        "urgent": (EscalationLevel(0, "lead"), EscalationLevel(60, "manager"), EscalationLevel(240, "d.director")),
    },
    default_calendar="office",
)
ROUTING = Routing(routes=(), departments={
    "delivery": Department("delivery", agents=("a.nowak",), lead="m.lis", manager="k.zielinska"),
    "night": Department("night", agents=("p.mazur",), lead="j.krol", calendar="evening"),
    "triage": Department("triage"),
})

T = pd.Timestamp
MON = "2026-03-02"
TUE = "2026-03-03"
WED = "2026-03-04"


def at(day: str, hm: str) -> pd.Timestamp:
    return T(f"{day} {hm}")


def case(case_id, opened, *, channel="email", priority="normal", department="delivery", status="in_progress",
         origin="signal", **more) -> dict:
    return {"case_id": case_id, "opened_at": opened, "channel": channel, "priority": priority,
            "department": department, "status": status, "origin": origin, **more}


def frames(cases: list[dict], events: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = pd.DataFrame(events, columns=["case_id", "occurred_at", "kind"])
    ev["case_event_id"] = [f"{c}:{i:05d}" for i, c in enumerate(ev["case_id"])]
    ev = ev.sort_values(["case_id", "occurred_at", "case_event_id"]).reset_index(drop=True)
    return pd.DataFrame(cases), ev


def clocks_of(cases, events, now) -> dict[tuple[str, str], dict]:
    c, e = frames(cases, events)
    out = compute_clocks(c, e, POLICY, ROUTING, now)
    return {(r["case_id"], r["clock"]): r for r in out.to_dict("records")}


def check(row: dict, started, due, stopped, state, risk=None, minutes=None) -> None:
    assert row["started_at"] == started
    assert row["due_at"] == due
    assert (pd.isna(row["stopped_at"]) and stopped is None) or row["stopped_at"] == stopped
    assert row["state"] == state
    if risk is not None:
        assert row["at_risk_at"] == risk
    if minutes is not None:
        assert row["target_minutes"] == minutes


# --- the clocks --------------------------------------------------------------------------------------------------

def test_first_response_stops_at_a_person_not_at_an_auto_reply():
    c = clocks_of(
        [case("A", at(MON, "10:00")), case("B", at(MON, "16:00")), case("C", at(MON, "16:00"))],
        [("A", at(MON, "10:00"), "opened"), ("A", at(MON, "10:01"), "auto_reply"),
         ("A", at(MON, "10:30"), "note"), ("A", at(MON, "11:30"), "agent_response"),
         ("B", at(MON, "16:00"), "opened"), ("B", at(MON, "16:01"), "auto_reply"),
         ("B", at(TUE, "10:30"), "agent_response"),
         ("C", at(MON, "16:00"), "opened"), ("C", at(MON, "16:01"), "auto_reply")],
        now=dt.datetime(2026, 3, 3, 9, 30))
    # 120 business minutes from 10:00 → 12:00; 80 % (96 min) → 11:36; answered at 11:30
    check(c["A", "first_response"], at(MON, "10:00"), at(MON, "12:00"), at(MON, "11:30"), "met",
          risk=at(MON, "11:36"), minutes=120)
    # Monday 16:00–17:00 and Tuesday 09:00–10:00; answered at 10:30 — late. Tuesday 10:30 is after now: ignored
    check(c["B", "first_response"], at(MON, "16:00"), at(TUE, "10:00"), None, "on_track", risk=at(TUE, "09:36"))
    # only an automatic reply: still running; at Tue 09:30 it is on track (at risk from 09:36)
    check(c["C", "first_response"], at(MON, "16:00"), at(TUE, "10:00"), None, "on_track")
    later = [case("B", at(MON, "16:00")), case("C", at(MON, "16:00"))], [
        ("B", at(MON, "16:00"), "opened"), ("B", at(MON, "16:01"), "auto_reply"), ("B", at(TUE, "10:30"), "agent_response"),
        ("C", at(MON, "16:00"), "opened"), ("C", at(MON, "16:01"), "auto_reply")]
    c = clocks_of(*later, now=dt.datetime(2026, 3, 3, 9, 40))
    check(c["B", "first_response"], at(MON, "16:00"), at(TUE, "10:00"), None, "at_risk")
    c = clocks_of(*later, now=dt.datetime(2026, 3, 3, 12, 0))
    check(c["B", "first_response"], at(MON, "16:00"), at(TUE, "10:00"), at(TUE, "10:30"), "breached")
    check(c["C", "first_response"], at(MON, "16:00"), at(TUE, "10:00"), None, "breached")
    assert ("C", "next_response") not in c and ("C", "confirmation") not in c


def test_waiting_pauses_every_clock_and_a_paused_clock_is_due_as_if_the_pause_ended_now():
    events = [("W", at(MON, "10:00"), "opened"), ("W", at(MON, "10:30"), "waiting")]
    c = clocks_of([case("W", at(MON, "10:00"), status="waiting")], events, now=dt.datetime(2026, 3, 2, 14, 0))
    # 30 minutes ran before the pause; the other 90 from now (14:00) → 15:30
    check(c["W", "first_response"], at(MON, "10:00"), at(MON, "15:30"), None, "paused")
    c = clocks_of([case("W", at(MON, "10:00"))], events + [("W", at(MON, "15:00"), "customer_contact")],
                  now=dt.datetime(2026, 3, 2, 15, 30))
    # paused 10:30–15:00: 30 + 90 minutes → 16:30; at risk after 96 minutes → 16:06
    check(c["W", "first_response"], at(MON, "10:00"), at(MON, "16:30"), None, "on_track", risk=at(MON, "16:06"))
    # resolution, 960 minutes: Monday 30 + 120, Tuesday 480, Wednesday 330 → 14:30
    check(c["W", "resolution"], at(MON, "10:00"), at(WED, "14:30"), None, "on_track")


def test_next_response_starts_at_the_oldest_unanswered_message_after_an_answer():
    base = [("N", at(MON, "10:00"), "opened"), ("N", at(MON, "10:05"), "customer_contact"),  # before any answer
            ("N", at(MON, "10:30"), "agent_response"), ("N", at(MON, "11:00"), "customer_contact"),
            ("N", at(MON, "11:20"), "signal"), ("N", at(MON, "11:40"), "auto_reply")]
    c = clocks_of([case("N", at(MON, "10:00"))], base, now=dt.datetime(2026, 3, 2, 11, 50))
    # the chaser at 11:20 does not restart the clock; the auto-reply does not stop it: 60 minutes from 11:00
    check(c["N", "next_response"], at(MON, "11:00"), at(MON, "12:00"), None, "at_risk", risk=at(MON, "11:48"))
    check(c["N", "first_response"], at(MON, "10:00"), at(MON, "12:00"), at(MON, "10:30"), "met")
    c = clocks_of([case("N", at(MON, "10:00"))], base + [("N", at(MON, "12:30"), "agent_response")],
                  now=dt.datetime(2026, 3, 2, 13, 0))
    check(c["N", "next_response"], at(MON, "11:00"), at(MON, "12:00"), at(MON, "12:30"), "breached")
    c = clocks_of([case("N", at(MON, "10:00"))],
                  base + [("N", at(MON, "12:30"), "agent_response"), ("N", at(MON, "16:30"), "customer_contact")],
                  now=dt.datetime(2026, 3, 2, 16, 45))
    # the latest cycle: Monday 16:30–17:00 and Tuesday 09:00–09:30
    check(c["N", "next_response"], at(MON, "16:30"), at(TUE, "09:30"), None, "on_track")
    # a customer who never wrote after the first answer has no next-response clock
    c = clocks_of([case("Q", at(MON, "10:00"))],
                  [("Q", at(MON, "10:00"), "opened"), ("Q", at(MON, "10:05"), "customer_contact"),
                   ("Q", at(MON, "10:30"), "agent_response")], now=dt.datetime(2026, 3, 2, 13, 0))
    assert ("Q", "next_response") not in c


def test_reopening_continues_resolution_with_the_gap_as_a_pause_and_confirmation_follows_the_last_resolution():
    events = [("R", at(MON, "10:00"), "opened"), ("R", at(MON, "10:10"), "agent_response"),
              ("R", at(MON, "12:00"), "resolved"), ("R", at(MON, "12:00"), "confirmation_sent"),
              ("R", at(TUE, "10:00"), "not_solved"), ("R", at(TUE, "10:00"), "reopened"),
              ("R", at(TUE, "13:00"), "resolved"), ("R", at(WED, "10:00"), "confirmed")]
    c = clocks_of([case("R", at(MON, "10:00"), status="resolved")], events, now=dt.datetime(2026, 3, 4, 12, 0))
    # Monday 10–12 (120) and from Tuesday 10:00 on (gap paused): Tuesday 420, Wednesday 420 → Wed 16:00
    check(c["R", "resolution"], at(MON, "10:00"), at(WED, "16:00"), at(TUE, "13:00"), "met", minutes=960)
    # confirmation from the last resolution: Tuesday 13–17 (240) + Wednesday 09–13 → Wed 13:00
    check(c["R", "confirmation"], at(TUE, "13:00"), at(WED, "13:00"), at(WED, "10:00"), "met", minutes=480)
    # before the second resolution: the resolution clock runs again, paused over the gap
    c = clocks_of([case("R", at(MON, "10:00"))], events[:6], now=dt.datetime(2026, 3, 3, 11, 0))
    check(c["R", "resolution"], at(MON, "10:00"), at(WED, "16:00"), None, "on_track")
    # the first confirmation ended at the "no"
    check(c["R", "confirmation"], at(MON, "12:00"), at(TUE, "12:00"), at(TUE, "10:00"), "met")


def test_confirmation_breached_and_closing_stops_the_response_clocks():
    c = clocks_of(
        [case("E", at(MON, "10:00"), status="resolved"), case("X", at(MON, "10:00"), status="closed")],
        [("E", at(MON, "10:00"), "opened"), ("E", at(MON, "10:05"), "agent_response"),
         ("E", at(MON, "11:00"), "resolved"),
         ("X", at(MON, "10:00"), "opened"), ("X", at(TUE, "12:00"), "closed")],
        now=dt.datetime(2026, 3, 4, 15, 0))
    check(c["E", "resolution"], at(MON, "10:00"), at(WED, "10:00"), at(MON, "11:00"), "met")  # 420 + 480 + 60
    # Monday 11–17 (360) + Tuesday 09–11
    check(c["E", "confirmation"], at(MON, "11:00"), at(TUE, "11:00"), None, "breached")
    # closed without an answer: the first response stopped when the case closed, 1 h late
    check(c["X", "first_response"], at(MON, "10:00"), at(MON, "12:00"), at(TUE, "12:00"), "breached")
    check(c["X", "resolution"], at(MON, "10:00"), at(WED, "10:00"), at(TUE, "12:00"), "met")
    assert ("X", "confirmation") not in c


def test_targets_and_calendars_come_from_the_most_specific_match():
    assert target_for(POLICY, "urgent", "social").first_response == 30
    assert target_for(POLICY, "normal", "social").first_response == 60
    assert target_for(POLICY, "urgent", "email").first_response == 120
    c = clocks_of(
        [case("S", at(MON, "22:00"), channel="social"), case("V", at(MON, "10:00"), department="night"),
         case("U", at(MON, "22:00"), channel="social", priority="urgent", department="night")],
        [("S", at(MON, "22:00"), "opened"), ("V", at(MON, "10:00"), "opened"), ("U", at(MON, "22:00"), "opened")],
        now=dt.datetime(2026, 3, 2, 22, 10))
    # social: the "always" calendar of its target, 60 minutes at night
    assert c["S", "first_response"]["calendar"] == "always"
    check(c["S", "first_response"], at(MON, "22:00"), at(MON, "23:00"), None, "on_track", minutes=60)
    # the department's calendar (12:00–20:00) when the target names none: 120 minutes from 12:00
    assert c["V", "first_response"]["calendar"] == "evening"
    check(c["V", "first_response"], at(MON, "10:00"), at(MON, "14:00"), None, "breached")
    # the target's calendar wins over the department's
    assert c["U", "first_response"]["calendar"] == "always"
    check(c["U", "first_response"], at(MON, "22:00"), at(MON, "22:30"), None, "on_track", risk=at(MON, "22:24"))


def test_imported_cases_get_clocks_only_from_their_events():
    c = clocks_of(
        [case("I", at(MON, "10:00"), status="closed", origin="import", closed_at=at(MON, "12:30")),
         case("J", at(MON, "10:00"), status="open", origin=None)],
        [("I", at(MON, "10:00"), "opened"), ("I", at(MON, "10:40"), "agent_response")],
        now=dt.datetime(2026, 3, 6, 12, 0))
    check(c["I", "first_response"], at(MON, "10:00"), at(MON, "12:00"), at(MON, "10:40"), "met")
    # its row says closed at 12:30 though no event does: the resolution stopped then
    check(c["I", "resolution"], at(MON, "10:00"), at(WED, "10:00"), at(MON, "12:30"), "met")
    assert not any(k[0] == "J" for k in c)


def test_an_unknown_calendar_is_an_error_naming_it():
    policy = Policy({"office": OFFICE}, (Target(1, 1, 1, 1, calendar="nowhere"),), {}, "office", "sla.toml")
    c, e = frames([case("A", at(MON, "10:00"))], [("A", at(MON, "10:00"), "opened")])
    with pytest.raises(ClockError, match="sla.toml: calendar 'nowhere' is not defined"):
        compute_clocks(c, e, policy, ROUTING, dt.datetime(2026, 3, 2, 11))


# --- escalation and tick -------------------------------------------------------------------------------------------

@pytest.fixture
def loop():
    s = Store.open(":memory:")
    yield s
    s.close()


def put(store: Store, cases: list[dict], events: list[tuple]) -> None:
    with store.transaction() as con:
        store_io.insert_rows(con, "cases", pd.DataFrame(cases))
        store_io.append_events(con, pd.DataFrame(events, columns=["case_id", "occurred_at", "kind"]))


def events_of(store: Store, kind: str) -> pd.DataFrame:
    e = store_io.load_events(store)
    return e[e["kind"] == kind].reset_index(drop=True)


def run(store: Store, day: str, hm: str):
    return tick(store, now=at(day, hm).to_pydatetime(), routing=ROUTING, policy=POLICY)


def test_every_level_once_across_ticks_and_a_late_tick_records_each_level_it_crossed(loop):
    put(loop, [case("U", at(MON, "10:00"), channel="social", priority="urgent", status="assigned")],
        [("U", at(MON, "10:00"), "opened"), ("U", at(MON, "10:01"), "auto_reply")])
    r = run(loop, MON, "10:20")  # due 10:30 on the always calendar
    assert (r.breaches, r.escalations, r.clocks) == (0, {}, 2)
    r = run(loop, MON, "10:30")
    assert (r.breaches, r.escalations) == (1, {1: 1})
    assert run(loop, MON, "10:45").escalations == {}
    r = run(loop, MON, "14:31")  # 241 minutes past due: manager (60) and director (240) at once
    assert (r.breaches, r.escalations) == (0, {2: 1, 3: 1})
    r = run(loop, MON, "19:00")  # the resolution (480 minutes) fell due at 18:00: a breach, no level left
    assert (r.breaches, r.escalations) == (1, {})
    esc = events_of(loop, "escalated")
    assert list(esc["level"]) == [1, 2, 3]
    assert list(esc["target"]) == ["m.lis", "k.zielinska", "d.director"]
    assert list(esc["occurred_at"]) == [at(MON, "10:30"), at(MON, "14:31"), at(MON, "14:31")]
    assert list(esc["clock"]) == ["first_response"] * 3
    assert esc["note"][1].startswith("level 2: first_response 4 h 01 min past due, to k.zielinska")
    br = events_of(loop, "sla_breached")
    assert list(zip(br["clock"], br["occurred_at"], strict=True)) == [
        ("first_response", at(MON, "10:30")), ("resolution", at(MON, "18:00"))]
    row = store_io.load_cases(loop).iloc[0]
    assert (row["escalation_level"], row["escalated_to"], row["updated_at"]) == (3, "d.director", at(MON, "19:00"))


def test_lead_and_manager_come_from_the_department_and_a_missing_lead_is_noted(loop):
    put(loop, [case("D", at(MON, "10:00")), case("G", at(MON, "10:00"), department="triage"),
               case("P", at(MON, "10:00"), priority=None)],
        [("D", at(MON, "10:00"), "opened"), ("G", at(MON, "10:00"), "opened"), ("P", at(MON, "10:00"), "opened")])
    r = run(loop, TUE, "09:00")  # due Monday 12:00; 21 h past due: lead, and manager (480 minutes)
    assert (r.breaches, r.escalations, r.escalated) == (3, {1: 3, 2: 3}, 6)
    esc = events_of(loop, "escalated").set_index(["case_id", "level"])
    assert esc.loc[("D", 1), "target"] == "m.lis" and esc.loc[("D", 2), "target"] == "k.zielinska"
    assert esc.loc[("P", 2), "target"] == "k.zielinska"  # no priority: the levels for any priority
    assert esc.loc[("D", 2), "note"] == "level 2: first_response 21 h 00 min past due, to k.zielinska"
    assert pd.isna(esc.loc[("G", 1), "target"])
    assert "department triage has no lead in the routing table" in esc.loc[("G", 1), "note"]
    assert esc.loc[("D", 1), "department"] == "delivery"
    breaches = events_of(loop, "sla_breached").set_index("case_id")
    assert breaches.loc["G", "department"] == "triage" and breaches.loc["D", "clock"] == "first_response"
    cases = store_io.load_cases(loop).set_index("case_id")
    assert cases.loc["D", "escalated_to"] == "k.zielinska" and cases.loc["G", "escalation_level"] == 2


def test_no_escalation_on_resolved_or_closed_cases(loop):
    put(loop, [case("A", at(MON, "10:00")), case("Z", at(MON, "10:00"), status="closed"),
               case("Y", at(MON, "10:00"), status="resolved")],
        [("A", at(MON, "10:00"), "opened"), ("Z", at(MON, "10:00"), "opened"),
         ("Y", at(MON, "10:00"), "opened"), ("Y", at(MON, "10:30"), "agent_response"),
         ("Y", at(MON, "11:00"), "resolved")])
    assert run(loop, MON, "12:30").escalations == {1: 1}  # A only; Y's confirmation runs but Y is resolved
    with loop.transaction() as con:
        store_io.append_events(con, pd.DataFrame({"case_id": ["A"], "occurred_at": [at(MON, "13:00")],
                                                  "kind": ["closed"]}))
        store_io.update_cases(con, pd.DataFrame({"case_id": ["A"], "status": ["closed"]}))
    r = run(loop, WED, "12:00")  # A would be far past its manager level, but it is closed
    assert r.escalations == {}
    assert list(events_of(loop, "escalated")["case_id"]) == ["A"]
    # the pure function says the same for a closed case whose clock still runs
    cases, events = frames([case("Z", at(MON, "10:00"), status="closed")], [("Z", at(MON, "10:00"), "opened")])
    clocks = compute_clocks(cases.assign(status="open"), events, POLICY, ROUTING, dt.datetime(2026, 3, 4))
    new = escalations(cases, clocks, events, POLICY, ROUTING, dt.datetime(2026, 3, 4))
    assert set(new["kind"]) == {"sla_breached"}


def test_each_next_response_cycle_is_breached_once(loop):
    put(loop, [case("N", at(MON, "10:00"))],
        [("N", at(MON, "10:00"), "opened"), ("N", at(MON, "10:10"), "agent_response"),
         ("N", at(MON, "11:00"), "customer_contact"), ("N", at(MON, "13:00"), "agent_response"),
         ("N", at(MON, "14:00"), "customer_contact")])
    r = run(loop, MON, "15:30")
    assert r.breaches == 2  # the cycle from 11:00 (stopped late at 13:00) and the one from 14:00 (due 15:00)
    assert run(loop, MON, "16:00").breaches == 0
    br = events_of(loop, "sla_breached")
    assert list(br["occurred_at"]) == [at(MON, "12:00"), at(MON, "15:00")]


def test_tick_is_idempotent_and_refreshes_clocks(loop):
    put(loop, [case("A", at(MON, "10:00")), case("B", at(MON, "10:00"), channel="social")],
        [("A", at(MON, "10:00"), "opened"), ("B", at(MON, "10:00"), "opened"), ("B", at(MON, "10:20"), "waiting")])
    first = run(loop, TUE, "12:00")
    events_after_first = store_io.load_events(loop)
    clocks_after_first = loop.con.execute("SELECT * FROM case_clocks ORDER BY case_id, clock").df()
    cases_after_first = store_io.load_cases(loop)
    second = run(loop, TUE, "12:00")
    assert first.breaches == 1 and first.escalations == {1: 1, 2: 1}
    assert (second.breaches, second.escalations, second.clocks) == (0, {}, first.clocks)
    pd.testing.assert_frame_equal(store_io.load_events(loop), events_after_first)
    pd.testing.assert_frame_equal(loop.con.execute("SELECT * FROM case_clocks ORDER BY case_id, clock").df(),
                                  clocks_after_first)
    pd.testing.assert_frame_equal(store_io.load_cases(loop), cases_after_first)
    states = dict(zip(clocks_after_first["case_id"] + "/" + clocks_after_first["clock"],
                      clocks_after_first["state"], strict=True))
    assert states == {"A/first_response": "breached", "A/resolution": "on_track",
                      "B/first_response": "paused", "B/resolution": "paused"}


def test_refresh_replaces_the_rows_of_the_cases_named(loop):
    put(loop, [case("A", at(MON, "10:00")), case("B", at(MON, "10:00"))],
        [("A", at(MON, "10:00"), "opened"), ("B", at(MON, "10:00"), "opened")])
    with loop.transaction() as con:
        refresh_clocks(loop, con, now=dt.datetime(2026, 3, 2, 11), routing=ROUTING, policy=POLICY)
    with loop.transaction() as con:
        store_io.append_events(con, pd.DataFrame({"case_id": ["A"], "occurred_at": [at(MON, "11:30")],
                                                  "kind": ["agent_response"]}))
        out = refresh_clocks(loop, con, ["A"], now=dt.datetime(2026, 3, 2, 12), routing=ROUTING, policy=POLICY)
    assert list(out["case_id"]) == ["A", "A"]
    rows = loop.con.execute("SELECT case_id, clock, state, computed_at FROM case_clocks ORDER BY 1, 2").fetchall()
    assert rows == [("A", "first_response", "met", dt.datetime(2026, 3, 2, 12)),
                    ("A", "resolution", "on_track", dt.datetime(2026, 3, 2, 12)),
                    ("B", "first_response", "on_track", dt.datetime(2026, 3, 2, 11)),
                    ("B", "resolution", "on_track", dt.datetime(2026, 3, 2, 11))]


def test_tick_without_configuration_uses_the_bundled_defaults(loop):
    put(loop, [case("A", at(MON, "10:00"), department="delivery")], [("A", at(MON, "10:00"), "opened")])
    r = tick(loop, now=dt.datetime(2026, 3, 2, 16, 30))
    # the default office calendar opens 08:00–18:00 in Warsaw (UTC+1 in March): 360 minutes from 11:00 local
    # are due at 17:00 local, 16:00 UTC; the bundled routing names no lead, so the escalation has no target
    clocks = loop.con.execute("SELECT clock, calendar, due_at, state FROM case_clocks ORDER BY clock").fetchall()
    assert clocks[0] == ("first_response", "office", dt.datetime(2026, 3, 2, 16), "breached")
    assert (r.breaches, r.escalations) == (1, {1: 1})
    esc = events_of(loop, "escalated").iloc[0]
    assert pd.isna(esc["target"]) and "department delivery has no lead" in esc["note"]


def test_an_imported_history_gets_its_clocks_but_no_new_events(loop):
    put(loop, [case("H", at(MON, "10:00"), status="closed", origin="import", closed_at=at(TUE, "16:00")),
               case("K", at(MON, "10:00"), status="closed", origin="import"),
               case("J", at(MON, "10:00"), status="open", origin=None)],
        [("H", at(MON, "10:00"), "opened"), ("H", at(MON, "15:00"), "agent_response"),
         ("J", at(MON, "10:00"), "opened")])
    r = run(loop, WED, "12:00")
    # H: answered 3 h late (due 12:00), closed within its resolution time; K has no events, so no clocks;
    # J, still open in the export and long past due, gets its clocks — but the export's cases stay as they
    # are: no breach or escalation events are written to them
    assert (r.clocks, r.breaches, r.escalations) == (4, 0, {})
    rows = loop.con.execute("SELECT case_id, clock, stopped_at, state FROM case_clocks ORDER BY 2").fetchall()
    assert [r for r in rows if r[0] == "H"] == [("H", "first_response", dt.datetime(2026, 3, 2, 15), "breached"),
                                                ("H", "resolution", dt.datetime(2026, 3, 3, 16), "met")]
    assert {r[3] for r in rows if r[0] == "J"} == {"breached"}
    assert run(loop, WED, "13:00").clocks == 2  # H's clocks are final: not computed again; J's still run
    assert len(events_of(loop, "sla_breached")) == 0 and len(events_of(loop, "escalated")) == 0


# --- the vectorised clocks against a plain case-by-case reference -----------------------------------------------

STOPS, WAIT_ENDS = {"resolved", "closed"}, {"customer_contact", "signal", "started", "agent_response", "resolved",
                                            "closed", "reopened"}


def reference_clocks(case_row: dict, events: list[tuple], now: pd.Timestamp) -> dict[str, tuple]:
    """One case's clocks, walked event by event: clock → (start, stop or None, due, at_risk, state)."""
    opened = case_row["opened_at"]
    ev = [(t, k) for t, k in events if opened <= t <= now]
    if not ev:
        return {}
    last_reopen = max((i for i, (_, k) in enumerate(ev) if k == "reopened"), default=-1)
    final_i = next((i for i, (_, k) in enumerate(ev) if i > last_reopen and k in STOPS), None)
    final_t = ev[final_i][0] if final_i is not None else None
    if final_t is None and case_row["status"] in ("closed", "resolved"):
        final_t = min(case_row["closed_at"], now) if pd.notna(case_row.get("closed_at")) else ev[-1][0]
    waits, paused_now = [], False
    for i, (t, k) in enumerate(ev):
        if k == "waiting":
            end = next((u for u, kk in ev[i + 1:] if kk in WAIT_ENDS), None)
            paused_now |= end is None
            waits.append((t, end if end is not None else now))
    gaps, prev = [], -1
    for i, (t, k) in enumerate(ev):
        if k == "reopened":
            stop = next((u for u, kk in ev[prev + 1:i] if kk in STOPS), None)
            if stop is not None:
                gaps.append((stop, t))
            prev = i
    first_agent = next((t for t, k in ev if k == "agent_response"), None)
    clocks = {"first_response": (opened, min(x for x in (first_agent, final_t) if x is not None)
                                 if first_agent is not None or final_t is not None else None),
              "resolution": (opened, final_t)}
    answered, waiting_since, cycle = False, None, None
    for i, (t, k) in enumerate(ev):
        if (final_i is not None and i >= final_i) or (final_i is None and final_t is not None and t >= final_t):
            break
        if k == "agent_response":
            if waiting_since is not None:
                cycle = (waiting_since, t)
            answered, waiting_since = True, None
        elif k in ("customer_contact", "signal") and answered and waiting_since is None:
            waiting_since = t
            cycle = (t, None)
    if cycle is not None:
        clocks["next_response"] = (cycle[0], cycle[1] if cycle[1] is not None else final_t)
    last_res = max((i for i, (_, k) in enumerate(ev) if k == "resolved"), default=None)
    if last_res is not None:
        end = next((t for t, k in ev[last_res + 1:] if k in ("confirmed", "not_solved", "closed", "reopened")),
                   None)
        clocks["confirmation"] = (ev[last_res][0], end)
    target = target_for(POLICY, case_row["priority"], case_row["channel"])
    dept = ROUTING.departments.get(case_row["department"])
    calendar = POLICY.calendars[target.calendar or (dept.calendar if dept else None) or POLICY.default_calendar]
    out = {}
    for name, (start, stop) in clocks.items():
        if stop is not None:
            stop = max(stop, start)
        pauses = waits + (gaps if name != "confirmation" else [])
        end = stop if stop is not None else now
        pauses = [(a.tz_localize("UTC"), min(b, end).tz_localize("UTC")) for a, b in pauses if min(b, end) > a]
        minutes = target.minutes(name)
        due = due_one(calendar, start, minutes, pauses)
        risk = due_one(calendar, start, -(-minutes * 4 // 5), pauses)
        if stop is not None:
            state = "met" if stop <= due else "breached"
        elif paused_now:
            state = "paused"
        else:
            state = "breached" if now >= due else "at_risk" if now >= risk else "on_track"
        out[name] = (start, stop, due, risk, state)
    return out


def due_one(calendar, start: pd.Timestamp, minutes: int, pauses) -> pd.Timestamp:
    from centric.cases.sla import due

    return pd.Timestamp(due(calendar, start.tz_localize("UTC"), minutes, pauses)).tz_localize(None)


def test_vectorised_clocks_match_a_case_by_case_reference():
    import random

    rng = random.Random(12)
    kinds = ["agent_response", "customer_contact", "signal", "auto_reply", "note", "waiting", "started", "resolved",
             "reopened", "closed", "confirmed", "not_solved", "assigned"]
    weights = [5, 4, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1]
    cases, events = [], []
    for n in range(400):
        cid = f"C{n:04d}"
        opened = at(MON, "06:00") + pd.Timedelta(minutes=rng.randrange(0, 4 * 1440))
        status = rng.choice(["new", "in_progress", "waiting", "resolved", "closed"])
        cases.append(case(cid, opened, channel=rng.choice(["email", "social", "phone"]),
                          priority=rng.choice(["normal", "urgent", None]),
                          department=rng.choice(["delivery", "night", "triage", None]), status=status,
                          closed_at=opened + pd.Timedelta(hours=rng.randrange(1, 90)) if rng.random() < 0.5 else None))
        if rng.random() < 0.05:
            continue  # no events at all
        t = opened
        events.append((cid, t, "opened"))
        for _ in range(rng.randrange(0, 12)):
            t = t + pd.Timedelta(minutes=rng.choice([0, 5, 30, 90, 400, 1500]))
            events.append((cid, t, rng.choices(kinds, weights)[0]))
        if rng.random() < 0.1:
            events.append((cid, opened - pd.Timedelta(hours=1), "note"))  # before the opening: ignored
    now = at(WED, "15:00") + pd.Timedelta(days=2)
    c, e = frames(cases, events)
    got = compute_clocks(c, e, POLICY, ROUTING, now.to_pydatetime())
    got = {(r["case_id"], r["clock"]): r for r in got.to_dict("records")}
    expected = {}
    for row in cases:
        evs = sorted(((t, i, k) for i, (cid, t, k) in enumerate(events) if cid == row["case_id"]))
        for name, value in reference_clocks(row, [(t, k) for t, _, k in evs], now).items():
            expected[row["case_id"], name] = value
    assert set(got) == set(expected)
    assert {k for k, _ in got} and {name for _, name in got} == {"first_response", "next_response", "resolution",
                                                                  "confirmation"}
    for key, (start, stop, due, risk, state) in expected.items():
        r = got[key]
        assert (r["started_at"], None if pd.isna(r["stopped_at"]) else r["stopped_at"], r["due_at"],
                r["at_risk_at"], r["state"]) == (start, stop, due, risk, state), key
    assert len({v[4] for v in expected.values()}) == 5  # every state occurs


def test_tick_rewrites_only_the_cases_whose_clocks_changed_and_leaves_the_table_as_a_full_refresh_would(loop):
    # between the ticks at 10:30 and 11:50: A falls at risk (first response due 12:00, at risk from 11:36);
    # B waits for the customer (paused: due as if the pause ended now, so its due time moves); C gets a
    # customer message after its answer (a new next_response row); D is answered (its first response stops);
    # E, answered at 10:05 and with its resolution due the next day, stays as it was
    put(loop, [case(c, at(MON, "10:00")) for c in "ABCDE"],
        [(c, at(MON, "10:00"), "opened") for c in "ABCDE"]
        + [("B", at(MON, "10:05"), "waiting"), ("C", at(MON, "10:10"), "agent_response"),
           ("E", at(MON, "10:05"), "agent_response")])
    run(loop, MON, "10:30")
    with loop.transaction() as con:
        store_io.append_events(con, pd.DataFrame({"case_id": ["C", "D"], "kind": ["customer_contact", "agent_response"],
                                                  "occurred_at": [at(MON, "11:00"), at(MON, "11:10")]}))
    run(loop, MON, "11:50")
    got = loop.con.execute("SELECT * FROM case_clocks ORDER BY case_id, clock").df()
    stamped = {f"{c}/{k}": t.strftime("%H:%M") for c, k, t in zip(got["case_id"], got["clock"], got["computed_at"],
                                                                   strict=True)}
    # a case with a row changed has all its rows rewritten; E's rows are those of the first tick
    assert stamped == {"A/first_response": "11:50", "A/resolution": "11:50",
                       "B/first_response": "11:50", "B/resolution": "11:50",
                       "C/first_response": "11:50", "C/next_response": "11:50", "C/resolution": "11:50",
                       "D/first_response": "11:50", "D/resolution": "11:50",
                       "E/first_response": "10:30", "E/resolution": "10:30"}
    states = dict(zip(got["case_id"] + "/" + got["clock"], got["state"], strict=True))
    assert (states["A/first_response"], states["D/first_response"], states["E/resolution"]) == \
        ("at_risk", "met", "on_track")
    with loop.transaction() as con:
        refresh_clocks(loop, con, now=dt.datetime(2026, 3, 2, 11, 50), routing=ROUTING, policy=POLICY)
    full = loop.con.execute("SELECT * FROM case_clocks ORDER BY case_id, clock").df()
    pd.testing.assert_frame_equal(got.drop(columns="computed_at"), full.drop(columns="computed_at"))


def test_a_backlog_larger_than_a_slice_is_ticked_in_slices_with_the_same_outcome(monkeypatch):
    # the same cases ticked three times in two stores: in one the whole backlog at once, in the other two
    # cases at a time (SLICE lowered): the events (ids included), cases, clocks and results must be equal
    from centric.cases import clocks as clocks_module
    from centric.cases import escalation

    cases = [case("U", at(MON, "10:00"), channel="social", priority="urgent", status="assigned"),
             case("D", at(MON, "10:00")), case("G", at(MON, "10:00"), department="triage"),
             case("P", at(MON, "10:00"), priority=None), case("Z", at(MON, "10:00"), status="closed"),
             case("Y", at(MON, "10:00"), status="resolved"), case("C", at(MON, "10:00"))]
    events = [(c["case_id"], at(MON, "10:00"), "opened") for c in cases] + [
        ("U", at(MON, "10:01"), "auto_reply"), ("Y", at(MON, "10:30"), "agent_response"),
        ("Y", at(MON, "11:00"), "resolved"), ("C", at(MON, "10:10"), "agent_response")]
    stores = [Store.open(":memory:"), Store.open(":memory:")]
    results, reads = [], []
    real = clocks_module._refresh

    def counted(store, con, case_ids, *a, **k):
        reads.append(None if case_ids is None else sorted(case_ids))
        return real(store, con, case_ids, *a, **k)

    monkeypatch.setattr(escalation, "_refresh", counted)
    try:
        for i, s in enumerate(stores):
            put(s, cases, events)
            monkeypatch.setattr(escalation, "SLICE", 200_000 if i == 0 else 2)
            results.append([run(s, *when) for when in ((MON, "10:30"), (MON, "14:31"), (TUE, "09:00"))])
        # the whole backlog is one read per tick; in slices, two cases a read in the order of their ids: at the
        # first tick the closed Z too (events but no clocks yet), then the six not closed
        assert reads[:3] == [None, None, None]
        assert reads[3:] == [["C", "D"], ["G", "P"], ["U", "Y"], ["Z"]] + [["C", "D"], ["G", "P"], ["U", "Y"]] * 2
        assert results[0] == results[1] and results[0][2].escalated > 0 and results[0][0].breaches > 0
        for table, order in (("case_events", "case_event_id"), ("cases", "case_id"), ("case_clocks", "case_id, clock")):
            a, b = (s.con.execute(f"SELECT * FROM {table} ORDER BY {order}").df() for s in stores)
            pd.testing.assert_frame_equal(a, b)
    finally:
        for s in stores:
            s.close()
