"""The demo company's service team and its closed loop.

``run_loop`` configures the loop (the demo's routing table, with its people, and the bundled service-level
policy), places every signal in its case (``centric cases sync`` at the data's end), replays the team's
past work on those cases as case events, works the two stories through the workflow as a person would —
the fridge complaint passed from department to department until it sits with delivery, the public post
nobody answers — and runs ``centric cases tick``, which breaches and escalates what is late.

The replayed work is drawn at random, seeded: most cases get an answer within hours, some wait for the
customer, a few are passed on or reopened after a "no" to "Was it solved?", and some — the backlog — are
still open at the data's end, a few of them forgotten.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from ..cases import store_io
from ..cases.projection import project
from ..store import Store
from .generator import DEPARTMENTS, END

__all__ = ["DEMO_ROUTING", "LoopSummary", "run_loop"]

TEAM = {
    "delivery": (["a.nowak", "p.mazur", "d.lewandowski"], "m.lis"),
    "installation": (["t.kaminski", "f.russo"], "m.lis"),
    "service": (["k.wojcik", "s.greco", "b.zielinski"], "r.marino"),
    "sales": (["j.krol", "g.bianchi"], "e.ferrari"),
    "stores": (["l.conti", "h.dabrowska"], "e.ferrari"),
    "returns": (["o.kovalenko", "n.colombo"], "r.marino"),
    "e-commerce": (["w.szymanski"], "e.ferrari"),
    "customer_service": (["m.rossi", "z.wozniak", "a.ricci", "i.petrova"], "k.zielinska"),
    "finance": (["u.gallo"], "e.ferrari"),
    "triage": (["c.romano"], "k.zielinska"),
}
MANAGER = "k.zielinska"


def _routing_toml() -> str:
    lines = ['# The demo company\'s routing table: factor → department, and who works in each.',
             'default_department = "customer_service"', 'triage_department = "triage"',
             'proactive_department = "customer_service"', "", "[factors]"]
    lines += [f'{factor} = "{dept}"' for factor, dept in sorted(DEPARTMENTS.items())]
    lines += ['store = "stores"']
    for dept, (agents, lead) in TEAM.items():
        lines += ["", f'[departments."{dept}"]', "agents = [" + ", ".join(f'"{a}"' for a in agents) + "]",
                  f'lead = "{lead}"', f'manager = "{MANAGER}"']
    return "\n".join(lines) + "\n"


DEMO_ROUTING = _routing_toml()

INVOICE_ADDRESS = "delivered to the invoice address instead of the delivery address"
SUB_CAUSES = {
    "delivery": [INVOICE_ADDRESS, "courier late", "damaged in transport", "no delivery slot offered"],
    "installation": ["installer did not come", "wrong parts", "installation damaged the kitchen"],
    "product_quality": ["defect after weeks", "noisy unit", "dead on arrival"],
    "price": ["price changed at checkout", "promotion not applied"],
    "staff": ["unhelpful staff", "rude staff"],
    "returns": ["refund slow", "return refused"],
    "website": ["checkout error", "stock shown wrongly"],
    "call_centre": ["long wait on the line", "no call back", "each agent started from zero"],
    "availability": ["out of stock", "delivery date moved"],
    "payment": ["double charge", "instalment plan error"],
    "store": ["store closed early", "queue at the till"],
}
CAUSED_BY = {  # where the cause of a complaint about one factor often lies
    "delivery": ["website", "availability", "call_centre"], "installation": ["delivery", "call_centre"],
    "product_quality": ["delivery", "installation"], "returns": ["call_centre", "payment"],
    "call_centre": ["returns", "delivery"], "availability": ["website"], "payment": ["website"],
}
# the planted problem in the customers' words (every language of the demo's texts): a case opened by such a text is
# closed with the invoice address as its sub-cause, as the person who read it would record
_INVOICE_WORDS = re.compile(r"invoice address|adres z faktury|indirizzo di fatturazione|адрес из сч[её]та|"
                            r"адресу з рахунку", re.IGNORECASE)
ACTIONS = ["apologised and redelivered", "refund issued", "technician sent again", "voucher offered and process "
           "explained", "replacement unit sent", "fixed the address in the order system", "called the customer back"]


@dataclass(frozen=True)
class LoopSummary:
    opened: int
    joined: int
    imported: int
    worked: int
    open_at_end: int
    overdue_at_end: int
    escalated: int
    proactive: int
    fridge_case: str | None
    social_case: str | None


def run_loop(store: Store, seed: int = 7) -> LoopSummary:
    from ..cases import config
    from ..cases.escalation import tick
    from ..cases.sync import sync

    with store.transaction() as con:
        config.save(con, "routing", DEMO_ROUTING, "demo routing table", now=END)
    synced = sync(store, now=END, proactive=False)
    routing, policy = config.active(store)
    story = _story_cases(store)
    worked = replay_work(store, routing, seed, skip=set(story.values()))
    fridge, social = story.get("F-FRIDGE-1"), story.get("F-SOCIAL-1")
    if fridge:
        _fridge_story(store, fridge)
    if social:  # nobody answers: only the automatic acknowledgement of the old habit
        with store.transaction() as con:
            store_io.append_events(con, pd.DataFrame({"case_id": [social], "kind": ["auto_reply"], "actor": ["system"],
                                                      "occurred_at": [_opened(store, social) + dt.timedelta(minutes=1)],
                                                      "note": ["Thank you for your message, we will get back to you."]}))
    proactive = None
    if store.count("customer_scores"):
        from ..cases.proactive import proactive as run_proactive

        proactive = run_proactive(store, now=END, routing=routing)
    ticked = tick(store, now=END, routing=routing, policy=policy)
    c = store.table("cases")
    open_now = int(c.filter(c.origin == "signal", c.status.isin(["new", "assigned", "in_progress", "waiting"]))
                   .count().execute())
    k = store.table("case_clocks")
    overdue = int(k.filter(k.state == "breached", k.stopped_at.isnull()).case_id.nunique().execute())
    return LoopSummary(opened=synced.opened, joined=synced.joined, imported=synced.imported, worked=worked,
                       open_at_end=open_now, overdue_at_end=overdue, escalated=ticked.escalated,
                       proactive=0 if proactive is None else len(proactive.opened),
                       fridge_case=fridge, social_case=social)


def _story_cases(store: Store) -> dict[str, str]:
    s = store.table("case_signals")
    rows = s.filter(s.signal_id.isin(["F-FRIDGE-1", "F-SOCIAL-1"])).select("signal_id", "case_id").execute()
    return dict(zip(rows["signal_id"], rows["case_id"], strict=True))


def _opened(store: Store, case_id: str) -> dt.datetime:
    c = store.table("cases")
    return pd.Timestamp(c.filter(c.case_id == case_id).opened_at.execute().iloc[0]).to_pydatetime()


def _fridge_story(store: Store, case_id: str) -> None:
    """The complaint is acknowledged automatically, then passed on three times — nobody answers the
    customer, who calls twice more — until it sits with the delivery department."""
    from ..cases import workflow

    t0 = _opened(store, case_id)
    with store.transaction() as con:
        store_io.append_events(con, pd.DataFrame({"case_id": [case_id], "kind": ["auto_reply"], "actor": ["system"],
                                                  "occurred_at": [t0 + dt.timedelta(minutes=1)],
                                                  "note": ["Thank you for your complaint, we will learn from it."]}))
    c = store.table("cases")
    first = c.filter(c.case_id == case_id).department.execute().iloc[0]
    hops = [d for d in ("customer_service", "returns", "sales") if d != first][:2]
    steps = [
        (1, "transfer", hops[0], "not our department — the address has to be checked"),
        (4, "message", None, "the customer called again"),
        (6, "transfer", hops[1], "refund question — passed on"),
        (12, "message", None, "the customer called again and repeated the whole story"),
        (15, "transfer", "delivery", "redelivery to the delivery address — back to delivery"),
    ]
    for days, what, dept, note in steps:
        at = t0 + dt.timedelta(days=days)
        if what == "transfer":
            workflow.transfer(store, case_id, dept, actor="dispatcher", note=note, now=at)
        else:
            workflow.customer_message(store, case_id, note, now=at)


def replay_work(store: Store, routing, seed: int, skip: set[str] = frozenset()) -> int:
    """Draw and append the team's work on the loop's cases (all but ``skip``) up to the data's end, then
    project the cases' rows from their events and refresh their clocks. Returns how many cases were worked."""
    from ..cases.clocks import refresh_clocks

    rng = np.random.default_rng(seed + 1000)
    c = store.table("cases")
    cases = c.filter(c.origin == "signal").select("case_id", "opened_at", "type", "department", "owner") \
        .order_by("case_id").execute()
    cases = cases[~cases["case_id"].isin(skip)]
    invoice = _mentions_invoice_address(store, cases["case_id"])
    agents = {d: dep.agents for d, dep in routing.departments.items() if dep.agents}
    end = pd.Timestamp(END)
    rows: list[tuple] = []

    def add(cid, at, kind, actor, dept=None, target=None, note=None, data=None):
        if at <= end:
            rows.append((cid, at, kind, actor, dept, target, note, data))

    for cid, t0, factor, dept, owner in cases.itertuples(index=False):
        t = pd.Timestamp(t0)
        owner = owner or (agents.get(dept) or ("c.romano",))[0]
        if rng.random() < 0.3:
            add(cid, t + dt.timedelta(minutes=2), "auto_reply", "system", dept,
                note="Thank you for your feedback, we will get back to you.")
        if rng.random() < 0.02:  # forgotten: nobody ever picks it up
            continue
        if rng.random() < 0.08:  # stuck: everything takes many times longer
            hour = dt.timedelta(hours=float(rng.uniform(5, 15)))
        else:
            hour = dt.timedelta(hours=1)
        t += hour * float(rng.uniform(0.3, 8))
        add(cid, t, "started", owner, dept)
        for _ in range(int(rng.random() < 0.12) + int(rng.random() < 0.03)):
            t += hour * float(rng.lognormal(np.log(6), 0.7))
            new = str(rng.choice([d for d in agents if d != dept]))
            owner = str(rng.choice(agents[new]))
            add(cid, t, "transferred", "dispatcher", new, owner, "passed on")
            dept = new
        t += hour * float(rng.lognormal(np.log(4), 0.9))
        add(cid, t, "agent_response", owner, dept)
        if rng.random() < 0.35:
            add(cid, t + dt.timedelta(minutes=5), "waiting", owner, dept)
            t += hour * float(rng.lognormal(np.log(30), 0.7))
            add(cid, t, "customer_contact", "customer", dept)
            t += hour * float(rng.lognormal(np.log(5), 0.9))
            add(cid, t, "agent_response", owner, dept)
        for attempt in range(2):
            t += hour * float(rng.lognormal(np.log(30), 0.8))
            add(cid, t, "resolved", owner, dept)
            add(cid, t + dt.timedelta(seconds=1), "confirmation_sent", "system", dept)
            if rng.random() < 0.55:
                t += hour * float(rng.lognormal(np.log(20), 0.8))
                solved = attempt == 1 or rng.random() < 0.85
                answer = {"csat": int(rng.integers(4, 6) if solved else rng.integers(1, 3)),
                          "ces": int(rng.integers(5, 8) if solved else rng.integers(1, 4))}
                if not solved:
                    add(cid, t, "not_solved", "customer", dept, data=answer)
                    add(cid, t + dt.timedelta(seconds=1), "reopened", "customer", dept, data={"reason": "not solved"})
                    t += hour * float(rng.lognormal(np.log(4), 0.8))
                    add(cid, t, "agent_response", owner, dept)
                    continue
                add(cid, t, "confirmed", "customer", dept, data=answer)
            break
        t += hour * float(rng.uniform(2, 72))
        cause = factor if isinstance(factor, str) and factor in SUB_CAUSES else str(rng.choice(list(SUB_CAUSES)))
        if rng.random() < 0.3:  # the cause lies elsewhere: the address form, the line, the stock data …
            cause = str(rng.choice(CAUSED_BY.get(cause, list(SUB_CAUSES))))
        # the invoice address is recorded only where the customer's words say so: a quote under that cause reads
        # as the cause, not as a late courier
        sub_cause = str(rng.choice([s for s in SUB_CAUSES[cause] if s != INVOICE_ADDRESS]))
        if cid in invoice:  # the customer said where it went: the cause is known (the same draws either way)
            cause, sub_cause = "delivery", INVOICE_ADDRESS
        add(cid, t, "closed", owner, dept, data={"root_cause": cause, "sub_cause": sub_cause,
                                                   "action": str(rng.choice(ACTIONS))})
    ev = pd.DataFrame(rows, columns=["case_id", "occurred_at", "kind", "actor", "department", "target", "note", "data"])
    ev["target"] = ev["target"].where(ev["kind"] == "transferred", None)
    with store.transaction() as con:
        store_io.append_events(con, ev)
        all_events = store_io.load_events(store, cases["case_id"].tolist())
        changes = project(all_events)
        store_io.update_cases(con, changes)
        refresh_clocks(store, con, cases["case_id"].tolist(), now=END, routing=routing)
    return int(ev["case_id"].nunique())


def _mentions_invoice_address(store: Store, case_ids) -> set[str]:
    """The cases among ``case_ids`` whose signals (the texts that opened or joined them) say the goods went to
    the invoice address."""
    s, r, f = store.table("case_signals"), store.table("responses"), store.table("feedback")
    common = ibis.schema({"source": "string", "text_id": "string", "text": "string"})
    texts = (r.select(source=ibis.literal("responses"), text_id=r.response_id, text=r.comment).cast(common)
             .union(f.select(source=ibis.literal("feedback"), text_id=f.feedback_id, text=f.text).cast(common)))
    j = s.join(texts, [s.source_table == texts.source, s.signal_id == texts.text_id]).select("case_id", "text")
    df = j.filter(j.text.notnull()).execute()
    wanted = set(case_ids)
    return {c for c, t in zip(df["case_id"], df["text"], strict=True) if c in wanted and _INVOICE_WORDS.search(t)}
