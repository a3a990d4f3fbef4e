"""The demo company's customer council: a dozen customers of every segment and both countries who answered the
surveys, with their consent; three meetings with agendas, attendance, minutes, decisions and actions (one of them
overdue); one member who withdrew their consent. Written through ``centric.council`` as the web app would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .. import council
from ..store import Store
from .generator import END

MEMBERS = 12
LEAD = "anna.lis@voltaro.example"
OWNERS = ("marco.ferri@voltaro.example", "ola.nowak@voltaro.example", "piotr.wrona@voltaro.example")
ROLES = ("chair",) + ("member",) * (MEMBERS - 1)
MEETINGS = (
    (170, "Deliveries and installation", "Voltaro, Warszawa", [
        ("Two-hour delivery slots", "Customers choose a two-hour slot instead of a whole day", "delivery"),
        ("Installation on the day of delivery", "One visit for delivery and installation", "installation"),
    ], "Members asked for a text message an hour before the courier arrives. Installation on the same day was "
       "welcomed for large appliances.",
       [(1, "Pilot two-hour slots in Warszawa and Milano", [("Brief the couriers on the slots", 0, 20, "done")]),
        (2, "Offer installation with delivery for washing machines", [
            ("Train two installers per store", 1, 45, "done")])]),
    (80, "Returns and the call centre", "online", [
        ("Free returns within 30 days", "Returns free of charge for members of the loyalty programme", "returns"),
        ("Call-back instead of waiting", "The call centre calls back within an hour", "call_centre"),
    ], "Members found the returns form too long. Several waited over twenty minutes on the phone.",
       [(1, "Shorten the returns form to one page", [("Redesign the returns form", 2, 50, "open")]),
        (2, "Introduce call-back at peak hours", [("Set up call-back in the telephone system", 1, 150, "in_progress"),
                                                  ("Report waiting times to the council", 0, 70, "dropped")])]),
    (10, "Prices and the new website", "Voltaro, Milano", [
        ("Price match against online shops", "Match the price of named online competitors", "price"),
        ("The new product pages", "Product pages with installation videos", "website"),
    ], "Price matching was welcomed if it is simple. The videos should show the connections at the back.",
       [(1, "Trial price matching for three months", [("Write the price-match rules", 2, 90, "open")]),
        (2, "Add installation videos to the ten most sold appliances", [
            ("Film the installation videos", 0, 150, "open")])]),
)


@dataclass(frozen=True)
class DemoCouncil:
    members: int
    former: int
    meetings: int
    decisions: int
    actions: int
    overdue: int


def add_council(store: Store, seed: int = 7) -> DemoCouncil:
    """Add the council to the demo store (after the surveys, whose answers make the members' scores)."""
    rng = np.random.default_rng(seed + 606)
    end = END.date()
    start = end - dt.timedelta(days=200)
    people = _candidates(store)
    if people.empty:
        return DemoCouncil(0, 0, 0, 0, 0, 0)
    chosen = []
    groups = list(people.groupby(["segment", "country"], sort=True))
    while len(chosen) < min(MEMBERS, len(people)):
        for _key, g in groups:
            left = g[~g["customer_id"].isin(chosen)]
            if len(left) and len(chosen) < MEMBERS:
                chosen.append(str(left.iloc[int(rng.integers(len(left)))]["customer_id"]))
    members = []
    for i, cid in enumerate(chosen):
        joined = start + dt.timedelta(days=int(rng.integers(0, 20)))
        consents = ["council", "contact"] + (["recording"] if rng.random() < 0.5 else [])
        members.append(council.add_member(
            store, cid, LEAD, consent=consents, consent_at=dt.datetime.combine(joined, dt.time(10)), joined_on=joined,
            role=ROLES[i], evidence=f"signed form F-{2026}-{i + 1:03d}"))
    decisions = actions = 0
    for days_before, title, place, agenda, minutes, decided in MEETINGS:
        day = end - dt.timedelta(days=days_before)
        mt = council.add_meeting(store, title, day, LEAD, place=place, agenda=agenda)
        for mid in members:
            m = council.get_member(store, mid)
            if m["left_on"] is not None and m["left_on"] < day:
                continue
            status = str(rng.choice(["present", "absent", "excused"], p=[0.75, 0.1, 0.15]))
            council.set_attendance(store, mt, mid, status)
        council.set_minutes(store, mt, minutes, LEAD)
        for item, text, todo in decided:
            d = council.add_decision(store, mt, item, text, LEAD)
            decisions += 1
            for what, owner, due_days, status in todo:
                a = council.add_action(store, mt, what, OWNERS[owner], day + dt.timedelta(days=due_days), LEAD,
                                       decision_id=d)
                actions += 1
                if status != "open":
                    council.set_action(store, a, status, OWNERS[owner],
                                       on=min(day + dt.timedelta(days=due_days - 3), end) if status != "in_progress"
                                       else None)
        if days_before == 80:  # after the second meeting one member withdrew their consent to take part
            council.withdraw_consent(store, members[-1], "council", LEAD,
                                     at=dt.datetime.combine(day + dt.timedelta(days=14), dt.time(9)))
    tracker = council.actions(store, as_of=end)
    r = council.roster(store, as_of=end)
    return DemoCouncil(len(r.current), len(r.former), len(MEETINGS), decisions, actions, tracker.counts()["overdue"])


def _candidates(store: Store):
    """Customers with a segment and a country who answered a survey, with their number of answers."""
    c = store.table("customers")
    r = store.table("responses")
    r = r.filter(r.customer_id.notnull() & r.nps.notnull())
    answered = r.group_by("customer_id").aggregate(n=r.count())
    q = c.filter(c.segment.notnull() & c.country.notnull()).join(answered, "customer_id")
    q = q.filter(q.n >= 2).select("customer_id", "segment", "country", "n").order_by("customer_id")
    return q.execute()
