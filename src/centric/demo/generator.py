"""The demo company: Voltaro, a home-appliance and electronics retailer in Poland and Italy.

Deterministic for a given seed. It writes ordinary export files, in the formats, encodings and
languages real exports come in (one deliberately messy), which ``build_demo`` then loads through the
public ingest path. What is planted, so that later analyses have something true to find:

- deliveries to the invoice address instead of the delivery address, growing in the last months
  (delivery: frequent, negative, strongly lowers NPS);
- complaints passed between departments, each agent starting from zero (returns and call centre);
- a strength: installation (rarely negative, raises NPS);
- two competitors, ElektroMax (good delivery, dear) and CasaTech (cheap, weaker product and staff);
- a fridge delivered four times to the invoice address, and a social-media complaint nobody answered.
- suspicious texts for the flags to find: templated fake reviews, a burst, an extortion-like complaint
  (``planted``); the honest comments are worded varied enough not to look templated (``phrases.Wording``).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import phrases as ph
from . import planted

START = dt.datetime(2024, 11, 1)
END = dt.datetime(2026, 10, 31, 23, 59)
GO_LIVE = dt.datetime(2026, 1, 1)  # the old helpdesk's export holds the complaints before; centric's loop the rest
DAYS = (END - START).days
OURS, COMPETITORS = "Voltaro", ("ElektroMax", "CasaTech")

NAMES = {
    "pl": (["Anna", "Katarzyna", "Maria", "Małgorzata", "Agnieszka", "Ewa", "Magdalena", "Joanna", "Marta", "Zofia"],
           ["Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Jakub", "Łukasz", "Wojciech"],
           ["Nowak", "Wójcik", "Kowalczyk", "Woźniak", "Mazur", "Krawczyk", "Zając", "Król", "Wieczorek", "Jabłoński"],
           ["Kowalsk", "Wiśniewsk", "Lewandowsk", "Kamińsk", "Zielińsk", "Szymańsk", "Dąbrowsk", "Kozłowsk"]),
    "it": (["Giulia", "Francesca", "Chiara", "Sara", "Martina", "Alessandra", "Elena", "Valentina"],
           ["Marco", "Luca", "Giuseppe", "Andrea", "Francesco", "Matteo", "Lorenzo", "Davide"],
           ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
            "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Fontana"], []),
    "ru": (["Olga", "Tatiana", "Natalia", "Irina", "Svetlana"], ["Ivan", "Sergei", "Dmitri", "Alexei", "Nikolai"],
           ["Petrov", "Ivanov", "Smirnov", "Kuznetsov", "Popov", "Sokolov"], []),
    "uk": (["Oksana", "Olena", "Iryna", "Natalia"], ["Andrii", "Oleksandr", "Taras", "Bohdan", "Mykola"],
           ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk"], []),
    "en": (["Emma", "Olivia", "Sophie", "Emily"], ["James", "Oliver", "Jack", "Harry", "Thomas"],
           ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson"], []),
}
CITIES = {"PL": ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Katowice", "Lublin"],
          "IT": ["Milano", "Roma", "Torino", "Napoli", "Bologna", "Firenze", "Verona"]}
STORES = {"PL": ["Voltaro Warszawa Arkadia", "Voltaro Kraków Bonarka", "Voltaro Łódź Manufaktura",
                 "Voltaro Wrocław Magnolia", "Voltaro Gdańsk Oliwa"],
          "IT": ["Voltaro Milano Città Studi", "Voltaro Roma Tiburtina", "Voltaro Torino Lingotto"]}
CATEGORIES = {  # name: (share, median PLN, installable, big)
    "fridges": (0.14, 2600, True, True), "washing_machines": (0.14, 1900, True, True),
    "dishwashers": (0.08, 2100, True, True), "ovens_hobs": (0.08, 2300, True, True),
    "tv": (0.16, 2800, False, True), "phones": (0.14, 2200, False, False),
    "small_appliances": (0.18, 350, False, False), "accessories": (0.08, 120, False, False),
}
CAT_PL = {"fridges": "lodówki", "washing_machines": "pralki", "dishwashers": "zmywarki", "ovens_hobs": "piekarniki",
          "tv": "telewizory", "phones": "telefony", "small_appliances": "AGD małe", "accessories": "akcesoria"}
CAT_IT = {"fridges": "frigoriferi", "washing_machines": "lavatrici", "dishwashers": "lavastoviglie",
          "ovens_hobs": "forni", "tv": "televisori", "phones": "telefoni", "small_appliances": "piccoli elettrodomestici",
          "accessories": "accessori"}
DEPARTMENTS = {"delivery": "delivery", "installation": "installation", "product_quality": "service",
               "price": "sales", "staff": "stores", "returns": "returns", "website": "e-commerce",
               "call_centre": "customer_service", "availability": "sales", "payment": "finance"}
AGENTS = ["a.nowak", "m.rossi", "k.wojcik", "g.bianchi", "p.mazur", "o.kovalenko", "j.krol", "l.conti"]

# P(negative experience) of each factor, and its effect on the 0-10 latent score (negative, positive).
P_NEG = {"delivery": 0.30, "installation": 0.06, "product_quality": 0.14, "price": 0.25, "staff": 0.10,
         "returns": 0.50, "website": 0.15, "call_centre": 0.45, "availability": 0.20, "payment": 0.08}
EFFECT = {"delivery": (-3.4, 0.5), "installation": (-2.0, 3.0), "product_quality": (-3.0, 0.7),
          "price": (-0.9, 0.4), "staff": (-1.4, 0.6), "returns": (-4.0, 0.8), "website": (-0.7, 0.2),
          "call_centre": (-2.8, 0.5), "availability": (-1.0, 0.2), "payment": (-1.0, 0.1)}
COMPETITOR_P_NEG = {
    "ElektroMax": {**P_NEG, "delivery": 0.07, "price": 0.45, "returns": 0.30, "call_centre": 0.30},
    "CasaTech": {**P_NEG, "delivery": 0.15, "price": 0.08, "product_quality": 0.30, "staff": 0.28, "installation": 0.25},
}
TOUCHPOINT_FACTORS = {
    "delivery": {"delivery": 0.9, "product_quality": 0.3, "price": 0.3, "availability": 0.15, "payment": 0.15},
    "installation": {"installation": 0.95, "product_quality": 0.35, "delivery": 0.15},
    "support": {"call_centre": 0.7, "returns": 0.8, "product_quality": 0.4},
}


def _ascii(s: str) -> str:
    s = s.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().replace(" ", "")


@dataclass
class Company:
    customers: pd.DataFrame
    orders: pd.DataFrame
    responses: pd.DataFrame
    feedback: pd.DataFrame
    events: pd.DataFrame
    cases: pd.DataFrame
    case_events: pd.DataFrame
    merges_planted: int = 0
    notes: dict = field(default_factory=dict)


class _Gen:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.words = ph.Wording(np.random.default_rng(seed + 303),  # the wording's own stream
                                {lang: [*n[0], *n[1]] for lang, n in NAMES.items()})

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    # -- text ---------------------------------------------------------------------------------------
    def comment(self, lang: str, experiences: dict[str, bool], overall_pos: bool) -> str:
        """A comment naming one or two of the experienced factors (True = positive). What it says is drawn
        from the company's stream; how it is worded from ``self.words``'s own."""
        if not experiences or self.chance(0.08):
            return self.words.short(self.pick(ph.SHORT[lang][0 if overall_pos else 1]))
        ranked = sorted(experiences, key=lambda f: (experiences[f] != overall_pos, self.rng.random()))
        chosen = ranked[: 1 + int(self.chance(0.45) and len(ranked) > 1)]
        parts = [self.pick(ph.P[lang][f][0 if experiences[f] else 1]) for f in chosen]
        same = len(parts) == 2 and experiences[chosen[0]] == experiences[chosen[1]]
        joiner = self.pick(ph.BUT[lang]) if len(parts) == 2 and not same else None
        end = self.pick([".", ".", "!", ""])
        opener = self.pick(ph.OPENERS[lang][0 if overall_pos else 1]) if self.chance(0.35) else None
        return self.words.compose(lang, parts, same, joiner, end, opener, overall_pos)

    def experience(self, factors: dict[str, float], p_neg: dict[str, float], when: dt.datetime,
                   boost: dict[str, float] | None = None) -> dict[str, bool]:
        exp = {}
        late = when > END - dt.timedelta(days=120)
        for f, p in factors.items():
            if self.chance(p):
                pn = p_neg[f] + (boost or {}).get(f, 0.0)
                if f == "delivery" and late:
                    pn += 0.15  # the invoice-address problem grows
                exp[f] = not self.chance(min(pn, 0.95))
        return exp

    def latent(self, exp: dict[str, bool]) -> float:
        score = 8.3 + sum(EFFECT[f][1] if pos else EFFECT[f][0] for f, pos in exp.items())
        return float(np.clip(score + self.rng.normal(0, 1.2), 0, 10))


def _phone(g: _Gen, country: str) -> str:
    if country == "IT":
        return f"3{g.rng.integers(20, 99)} {g.rng.integers(100, 999)} {g.rng.integers(1000, 9999)}"
    return f"{g.pick([5, 6, 7, 8])}{g.rng.integers(10, 99)} {g.rng.integers(100, 999)} {g.rng.integers(100, 999)}"


def generate(seed: int = 7, n_customers: int = 20_000) -> Company:
    g = _Gen(seed)
    rng = g.rng
    # -- customers ------------------------------------------------------------------------------------
    cust = []
    emails: set[str] = set()
    for i in range(n_customers):
        country = "PL" if rng.random() < 0.64 else "IT"
        r = rng.random()
        if country == "PL":
            lang = "pl" if r < 0.84 else "uk" if r < 0.92 else "ru" if r < 0.96 else "en"
        else:
            lang = "it" if r < 0.9 else "en" if r < 0.95 else "ru"
        female = rng.random() < 0.52
        fem, mal, last, last_adj = NAMES[lang]
        first = g.pick(fem if female else mal)
        if last_adj and rng.random() < 0.5:
            surname = g.pick(last_adj) + ("a" if female else "i")
        else:
            surname = g.pick(last)
        name = f"{first} {surname}"
        domain = g.pick(["gmail.com", "wp.pl", "onet.pl", "interia.pl"] if country == "PL"
                        else ["gmail.com", "libero.it", "virgilio.it", "yahoo.it"])
        email = f"{_ascii(first)}.{_ascii(surname)}{rng.integers(1, 999)}@{domain}"
        while email in emails:
            email = f"{_ascii(first)}.{_ascii(surname)}{rng.integers(1, 9999)}@{domain}"
        emails.add(email)
        cust.append({
            "idx": i, "crm_id": f"K{100000 + i}", "name": name, "email": email,
            "phone": _phone(g, country), "country": country, "language": lang,
            "city": g.pick(CITIES[country]),
            "segment": "vip" if rng.random() < 0.07 else "b2b" if rng.random() < 0.05 else "b2c",
            "handle": (f"{_ascii(first)}_{_ascii(surname)[:4]}{i}" if rng.random() < 0.15
                       else None),
            "lam": rng.gamma(1.3, 1.1) / 365.0,  # purchases per day while active
            "p_drop": rng.beta(1.2, 3.0),
            "acq": rng.uniform(0, DAYS * 0.85),
        })
    customers = pd.DataFrame(cust)

    # -- orders ---------------------------------------------------------------------------------------
    cats = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][0] for c in cats])
    # each customer's taste for dearer models (mean 1), from its own stream so the rest stays as it was
    taste = np.random.default_rng(seed + 2).gamma(5.0, 1 / 5.0, size=len(cust))
    orders = []
    for c in cust:
        t = c["acq"]
        n = 0
        while t < DAYS and n < 40:
            cat = cats[int(rng.choice(len(cats), p=shares / shares.sum()))]
            amount = float(np.round(rng.lognormal(np.log(CATEGORIES[cat][1]), 0.35) * taste[c["idx"]], 2))
            channel = "online" if rng.random() < 0.55 else "store" if rng.random() < 0.9 else "call_centre"
            when = START + dt.timedelta(days=float(t), hours=float(rng.uniform(8, 21)))
            orders.append({
                "order_id": f"{'W' if channel == 'online' else 'S'}{len(orders) + 500000}",
                "cidx": c["idx"], "ordered_at": when, "category": cat, "channel": channel,
                "amount": amount if c["country"] == "PL" else float(np.round(amount / 4.3, 2)),
                "currency": "PLN" if c["country"] == "PL" else "EUR",
                "store": g.pick(STORES[c["country"]]) if channel == "store" else None,
            })
            n += 1
            if rng.random() < c["p_drop"]:
                break
            t += rng.exponential(1 / c["lam"]) if c["lam"] > 0 else DAYS
    orders = pd.DataFrame(orders)

    # -- journeys, answers, cases ---------------------------------------------------------------------
    events, responses, feedback, cases, case_events = [], [], [], [], []

    def add_event(cidx, when, journey, stage, touchpoint, channel):
        events.append({"cidx": cidx, "occurred_at": when, "journey": journey, "stage": stage,
                       "touchpoint": touchpoint, "channel": channel})

    def open_case(cidx, when, factor, channel, summary, feedback_id=None, response_id=None, force=None):
        """A case of the old helpdesk: exported for complaints before GO_LIVE; drawn (so that the random
        stream, and with it the rest of the company, stays the same) but not exported otherwise — those
        signals reach the closed loop instead (centric.demo.service)."""
        keep = channel == "complaint_form" and when < GO_LIVE
        case_id = f"CS-{len(cases) + 10001}"
        dept = DEPARTMENTS.get(factor, "customer_service")
        hops = int(rng.poisson(1.6 if factor in ("returns", "call_centre") else 0.5))
        auto_only = rng.random() < 0.14
        t = when
        evs = [("opened", t, "system", dept, None)]
        if rng.random() < 0.7:
            evs.append(("auto_reply", t + dt.timedelta(minutes=2), "system", dept,
                        "Thank you for your feedback, we will learn from it."))
        t += dt.timedelta(hours=float(rng.uniform(0.5, 6)))
        owner = g.pick(AGENTS)
        evs.append(("assigned", t, "dispatcher", dept, None))
        for _ in range(hops):
            t += dt.timedelta(hours=float(rng.lognormal(np.log(30), 0.6)))
            dept = g.pick([d for d in sorted(set(DEPARTMENTS.values())) if d != dept])
            evs.append(("transferred", t, owner, dept, "passed on"))
            owner = g.pick(AGENTS)
            if rng.random() < 0.5:
                evs.append(("customer_contact", t + dt.timedelta(hours=5), "customer", dept, "customer chased"))
        resolved = closed_at = None
        status = "open"
        if force == "unanswered":
            auto_only = True
        if not auto_only:
            t += dt.timedelta(hours=float(rng.lognormal(np.log(18), 0.8)))
            evs.append(("agent_response", t, owner, dept, None))
            t += dt.timedelta(hours=float(rng.lognormal(np.log(90 + 60 * hops), 0.7)))
            if t < END:
                evs.append(("resolved", t, owner, dept, None))
                closed_at = t + dt.timedelta(hours=float(rng.uniform(1, 48)))
                if closed_at < END:
                    evs.append(("closed", closed_at, owner, dept, None))
                    status, resolved = "closed", bool(rng.random() < 0.8)
                    if rng.random() < 0.08 and closed_at + dt.timedelta(days=3) < END:
                        evs.append(("reopened", closed_at + dt.timedelta(days=3), "customer", dept, None))
                        status, closed_at, resolved = "in_progress", None, None
                else:
                    status, closed_at = "resolved", None
            else:
                status = "in_progress"
        if not keep:
            return None
        cases.append({"case_id": case_id, "cidx": cidx, "opened_at": when, "type": factor, "channel": channel,
                      "department": dept, "owner": None if force == "unanswered" else owner, "status": status,
                      "priority": "high" if factor in ("delivery", "returns") else "normal",
                      "due_at": when + dt.timedelta(hours=72 if factor in ("delivery", "returns") else 168),
                      "closed_at": closed_at, "resolved": resolved,
                      "root_cause": None, "summary": summary, "feedback_id": feedback_id,
                      "response_id": response_id})
        for kind, at, actor, d, note in evs:
            if at <= END:
                case_events.append({"case_id": case_id, "occurred_at": at, "kind": kind, "actor": actor,
                                    "department": d, "note": note})
        return case_id

    # what only shapes the journeys (failed payments, parcels, call-backs, abandoned checkouts) comes from its
    # own stream, so that orders, answers, texts and cases stay as they were
    jr = np.random.default_rng(seed + 101)

    def service_steps(cidx, when):
        """After a support contact: sometimes a call-back, then (mostly) the resolution."""
        t = when
        if jr.random() < 0.4:
            t = t + dt.timedelta(hours=float(jr.lognormal(np.log(20), 0.6)))
            if t < END:
                add_event(cidx, t, "service", "callback", "support", "phone")
        if jr.random() < 0.85:
            t = t + dt.timedelta(hours=float(jr.lognormal(np.log(30), 0.8)))
            if t < END:
                add_event(cidx, t, "service", "resolution", "support", "phone" if jr.random() < 0.6 else "email")

    installable = {c for c, v in CATEGORIES.items() if v[2]}
    big = {c for c, v in CATEGORIES.items() if v[3]}
    for o in orders.itertuples(index=False):
        c = cust[o.cidx]
        ch = "web" if o.channel == "online" else o.channel
        add_event(o.cidx, o.ordered_at - dt.timedelta(hours=float(rng.uniform(0.2, 72))), "purchase", "visit",
                  "website" if ch == "web" else "store", ch)
        if o.channel == "online":
            add_event(o.cidx, o.ordered_at - dt.timedelta(minutes=float(rng.uniform(2, 40))), "purchase", "cart",
                      "website", ch)
        add_event(o.cidx, o.ordered_at, "purchase", "order", "checkout", ch)
        paid = o.ordered_at + dt.timedelta(minutes=float(rng.uniform(1, 30)))
        if o.channel == "online" and jr.random() < 0.07:  # a declined card, paid on the next try
            add_event(o.cidx, o.ordered_at + (paid - o.ordered_at) * float(jr.uniform(0.1, 0.6)), "purchase",
                      "payment", "checkout", ch)
        add_event(o.cidx, paid, "purchase", "payment", "checkout", ch)
        late = o.ordered_at > END - dt.timedelta(days=120)
        delivered = o.ordered_at + dt.timedelta(days=float(rng.gamma(2.0, 1.6 if not late else 2.6)))
        if o.category in big and delivered < END:
            add_event(o.cidx, delivered, "purchase", "delivery", "delivery", "courier")
        elif o.channel == "store":  # small goods leave the shop with the customer
            add_event(o.cidx, paid + dt.timedelta(minutes=float(jr.uniform(2, 15))), "purchase", "delivery",
                      "store", "store")
        elif delivered < END:  # ordered online or by phone: a parcel
            add_event(o.cidx, delivered, "purchase", "delivery", "delivery", "parcel")
        installed = None
        if o.category in installable and rng.random() < 0.7:
            installed = delivered + dt.timedelta(days=float(rng.uniform(0.5, 4)))
            if installed < END:
                add_event(o.cidx, installed, "purchase", "installation", "installation", "field_service")
        # answers
        touch = [("delivery", delivered)]
        if installed is not None:
            touch.append(("installation", installed))
        if rng.random() < 0.16:
            touch.append(("support", delivered + dt.timedelta(days=float(rng.uniform(5, 60)))))
        for tp, when in touch:
            if when >= END:
                continue
            if tp == "support":
                add_event(o.cidx, when, "service", "support", "support", "phone")
                service_steps(o.cidx, when)
            if rng.random() > 0.30:
                continue
            factors = dict(TOUCHPOINT_FACTORS[tp])
            if tp == "delivery":
                factors.update({"staff": 0.3} if o.channel == "store" else {"website": 0.25})
            exp = g.experience(factors, P_NEG, when)
            lat = g.latent(exp)
            answered = when + dt.timedelta(hours=float(rng.uniform(2, 96)))
            if answered >= END:
                continue
            nps = int(np.clip(round(lat + rng.normal(0, 0.5)), 0, 10))
            csat = int(np.clip(round(1 + 4 * lat / 10 + rng.normal(0, 0.4)), 1, 5))
            ces = None
            if tp != "delivery":
                ces = int(np.clip(round(1 + 6 * lat / 10 + rng.normal(0, 0.6)), 1, 7))
            comment = g.comment(c["language"], exp, lat >= 7) if rng.random() < 0.62 else None
            rid = f"R{len(responses) + 700000}"
            responses.append({"response_id": rid, "cidx": o.cidx, "responded_at": answered,
                              "survey": f"post-{tp}", "touchpoint": tp,
                              "channel": "email" if rng.random() < 0.7 else "sms",
                              "nps": nps if tp != "installation" else (nps if rng.random() < 0.8 else None),
                              "csat": csat, "ces": ces, "comment": comment, "language": c["language"],
                              "store": o.store})
            if nps <= 4 and rng.random() < 0.35:
                neg = [f for f, pos in exp.items() if not pos] or ["call_centre"]
                open_case(o.cidx, answered + dt.timedelta(hours=1), neg[0], "survey",
                          "Detractor follow-up", response_id=rid)

    # -- complaints, reviews and social posts ---------------------------------------------------------
    for _ in range(int(n_customers * 0.04)):
        o = orders.iloc[int(rng.integers(len(orders)))]
        c = cust[int(o.cidx)]
        when = o.ordered_at + dt.timedelta(days=float(rng.uniform(3, 40)))
        if when >= END:
            continue
        factor = g.pick(["delivery", "delivery", "returns", "returns", "product_quality", "call_centre",
                         "installation", "payment", "availability"])
        text = g.comment(c["language"], {factor: False, **({"call_centre": False} if rng.random() < 0.3 else {})},
                         False)
        fid = f"F{len(feedback) + 300000}"
        feedback.append({"feedback_id": fid, "cidx": o.cidx, "source": "complaint", "brand": "ours",
                         "posted_at": when, "rating": None, "title": None, "text": text,
                         "language": c["language"], "url": None, "author": c["name"],
                         "channel": g.pick(["email", "web_form", "store"]), "handle": None, "store": o.store})
        open_case(o.cidx, when, factor, "complaint_form", text[:120], feedback_id=fid)

    for brand, n in ((OURS, int(n_customers * 0.09)), (COMPETITORS[0], int(n_customers * 0.05)),
                     (COMPETITORS[1], int(n_customers * 0.045))):
        p_neg = P_NEG if brand == OURS else COMPETITOR_P_NEG[brand]
        for _ in range(n):
            when = START + dt.timedelta(days=float(rng.uniform(0, DAYS)))
            lang = "pl" if rng.random() < 0.55 else "it" if rng.random() < 0.8 else g.pick(["ru", "en", "uk"])
            factors = {f: 0.22 for f in ph.FACTORS}
            factors.update({"delivery": 0.5, "price": 0.4, "product_quality": 0.45})
            exp = g.experience(factors, p_neg, when)
            lat = g.latent(exp)
            rating = int(np.clip(round(1 + 4 * lat / 10 + rng.normal(0, 0.3)), 1, 5))
            c = cust[int(rng.integers(n_customers))] if brand == OURS and rng.random() < 0.4 else None
            author = c["name"] if c else f"{g.pick(NAMES[lang][0])} {g.pick(NAMES[lang][2])[0]}."
            social = rng.random() < 0.3
            fid = f"F{len(feedback) + 300000}"
            feedback.append({
                "feedback_id": fid, "cidx": c["idx"] if c and (not social or c["handle"]) else None,
                "source": "social" if social else "review", "brand": "ours" if brand == OURS else brand,
                "posted_at": when, "rating": None if social else rating, "title": None,
                "text": g.comment(c["language"] if c else lang, exp, lat >= 7), "language": c["language"] if c else lang,
                "url": f"https://{'social.example' if social else 'reviews.example'}/{brand.lower()}/{fid.lower()}",
                "author": author, "channel": "social" if social else "review_site",
                "handle": (c["handle"] if c and c["handle"] else f"user{rng.integers(10000, 99999)}") if social else None,
            })
            if social and brand == OURS and lat < 4 and rng.random() < 0.5:
                open_case(feedback[-1]["cidx"], when + dt.timedelta(hours=2),
                          next((f for f, pos in exp.items() if not pos), "call_centre"), "social",
                          "Public complaint on social media", feedback_id=fid)

    # -- the two stories ------------------------------------------------------------------------------
    marta = customers[(customers.language == "pl")].iloc[0]
    fridge_at = END - dt.timedelta(days=75)
    orders = pd.concat([orders, pd.DataFrame([{
        "order_id": "W999001", "cidx": marta.idx, "ordered_at": fridge_at, "category": "fridges", "channel": "online",
        "amount": 3899.0, "currency": "PLN", "store": None}])], ignore_index=True)
    for k in range(4):
        add_event(marta.idx, fridge_at + dt.timedelta(days=3 + 6 * k), "purchase", "delivery", "delivery", "courier")
        add_event(marta.idx, fridge_at + dt.timedelta(days=3 + 6 * k, hours=3), "service", "support",
                  "support", "phone")
    fid = "F-FRIDGE-1"
    feedback.append({"feedback_id": fid, "cidx": marta.idx, "source": "complaint", "brand": "ours",
                     "posted_at": fridge_at + dt.timedelta(days=22), "rating": None, "title": "Lodówka — 4 dostawy",
                     "text": ph.FRIDGE_STORY, "language": "pl", "url": None, "author": marta["name"],
                     "channel": "email", "handle": None})
    # its case is opened by the closed loop and worked in centric.demo.service
    social_c = customers[(customers.language == "pl") & customers.handle.notna() & (customers.idx != marta.idx)].iloc[0]
    fid = "F-SOCIAL-1"
    feedback.append({"feedback_id": fid, "cidx": social_c.idx, "source": "social", "brand": "ours",
                     "posted_at": END - dt.timedelta(days=21), "rating": None, "title": None,
                     "text": ph.SOCIAL_STORY, "language": "pl", "url": "https://social.example/voltaro/f-social-1",
                     "author": social_c["name"], "channel": "social", "handle": social_c["handle"]})
    # nobody answers it: the closed loop opens its case, which breaches and escalates
    feedback += planted.suspicious(customers, orders, END, seed)  # fakes, a burst, an extortion-like complaint

    # abandoned visits and carts
    for _ in range(int(len(orders) * 0.35)):
        cidx = int(rng.integers(n_customers))
        when = START + dt.timedelta(days=float(rng.uniform(0, DAYS)))
        add_event(cidx, when, "purchase", "visit", "website", "web")
        if rng.random() < 0.45:
            add_event(cidx, when + dt.timedelta(minutes=float(rng.uniform(1, 20))), "purchase", "cart", "website", "web")

    # walk-ins who buy nothing, and checkouts given up after a declined payment (the order is cancelled)
    for _ in range(int(len(orders) * 0.10)):
        cidx = int(jr.integers(n_customers))
        add_event(cidx, START + dt.timedelta(days=float(jr.uniform(0, DAYS)), hours=float(jr.uniform(9, 20))),
                  "purchase", "visit", "store", "store")
    for _ in range(int(len(orders) * 0.04)):
        cidx = int(jr.integers(n_customers))
        when = START + dt.timedelta(days=float(jr.uniform(0, DAYS)))
        add_event(cidx, when, "purchase", "visit", "website", "web")
        when += dt.timedelta(minutes=float(jr.uniform(1, 20)))
        add_event(cidx, when, "purchase", "cart", "website", "web")
        when += dt.timedelta(minutes=float(jr.uniform(1, 10)))
        add_event(cidx, when, "purchase", "order", "checkout", "web")
        for _attempt in range(int(jr.integers(1, 4))):
            when += dt.timedelta(minutes=float(jr.uniform(0.5, 5)))
            add_event(cidx, when, "purchase", "payment", "checkout", "web")

    frames = [orders, pd.DataFrame(responses), pd.DataFrame(feedback), pd.DataFrame(events), pd.DataFrame(cases),
              pd.DataFrame(case_events)]
    for fr in frames:  # whole seconds, as exports have them
        for col in fr.columns:
            if col.endswith("_at"):
                fr[col] = pd.to_datetime(fr[col]).dt.floor("s")
    return Company(customers, *frames,
                   notes={"fridge_feedback": "F-FRIDGE-1", "social_feedback": "F-SOCIAL-1",
                          "fridge_customer": marta["name"]})


# -- writing the exports ------------------------------------------------------------------------------
def _fmt_pl_amount(x: float) -> str:
    s = f"{x:,.2f}".replace(",", " ").replace(".", ",")
    return s


def _fmt_it_amount(x: float) -> str:
    return f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def write_files(co: Company, out: Path, seed: int) -> list[tuple[str, str, dict]]:
    """Write the exports; return (table, file name, ingest values) in load order."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    cu = co.customers.set_index("idx")
    plan: list[tuple[str, str, dict]] = []

    # 1. the online shop's CRM (UTF-8 with BOM); 150 people registered twice, the second time by phone.
    shop = co.customers
    rows = [{"customer_id": r.crm_id, "name": r.name, "email": r.email, "country": r.country,
             "language": r.language, "city": r.city, "segment": r.segment} for r in shop.itertuples()]
    twice = shop[shop.country == "PL"].head(150)
    rows += [{"customer_id": f"K9{r.idx:05d}", "name": r.name, "email": None, "phone": r.phone,
              "country": r.country, "language": r.language, "city": r.city, "segment": r.segment}
             for r in twice.itertuples()]
    pd.DataFrame(rows).to_csv(out / "customers_shop.csv", index=False, encoding="utf-8-sig")
    plan.append(("customers", "customers_shop.csv", {}))

    # 2. the call centre's contact list (Windows-1250, semicolons, Polish headers): phone + e-mail
    cc = co.customers[(co.customers.country == "PL")]
    cc = pd.concat([cc[(rng.random(len(cc)) < 0.15) | (cc.language == "ru")], twice]).drop_duplicates("idx")
    pd.DataFrame({"Imię i nazwisko": cc.name, "Telefon": cc.phone, "E-mail": cc.email, "Miasto": cc.city}).to_csv(
        out / "klienci_infolinia.csv", sep=";", index=False, encoding="cp1250")
    plan.append(("customers", "klienci_infolinia.csv", {}))

    # 3. the app's accounts with social handles (JSON array)
    app = co.customers[co.customers.handle.notna()]
    (out / "app_accounts.json").write_text(json.dumps(
        [{"username": "@" + r.handle, "email": r.email, "language": r.language} for r in app.itertuples()],
        ensure_ascii=False, indent=1), encoding="utf-8")
    plan.append(("customers", "app_accounts.json", {}))

    # 4. orders: online (Parquet), Polish stores (cp1250, decimal commas), Italian stores (Latin-1)
    o = co.orders.copy()
    o["crm"] = o.cidx.map(cu.crm_id)
    online = o[o.channel != "store"]
    pd.DataFrame({"order_id": online.order_id, "customer_id": online.crm, "ordered_at": online.ordered_at,
                  "amount": online.amount, "currency": online.currency, "channel": online.channel,
                  "category": online.category}).to_parquet(out / "orders_online.parquet", index=False)
    plan.append(("orders", "orders_online.parquet", {}))
    st = o[o.channel == "store"]
    pl = st[st.currency == "PLN"]
    pd.DataFrame({
        "Nr zamówienia": pl.order_id, "E-mail": pl.cidx.map(cu.email),
        "Data": pl.ordered_at.dt.strftime("%d.%m.%Y %H:%M"), "Kwota": pl.amount.map(_fmt_pl_amount),
        "Waluta": "zł", "Sklep": pl.store, "Kategoria": pl.category.map(CAT_PL),
    }).to_csv(out / "zamowienia_sklepy.csv", sep=";", index=False, encoding="cp1250")
    plan.append(("orders", "zamowienia_sklepy.csv", {}))
    it = st[st.currency == "EUR"]
    pd.DataFrame({
        "Numero ordine": it.order_id, "Codice cliente": it.crm, "Data": it.ordered_at.dt.strftime("%d/%m/%Y"),
        "Importo": it.amount.map(_fmt_it_amount), "Valuta": "EUR", "Negozio": it.store,
        "Categoria": it.category.map(CAT_IT),
    }).to_csv(out / "ordini_negozi.csv", sep=";", index=False, encoding="latin-1")
    plan.append(("orders", "ordini_negozi.csv", {}))

    # 5. survey answers: the survey tool's Excel export (title rows above the header), Italian CSV,
    #    and a messy call-centre survey in Windows-1251 with some bad rows
    r = co.responses.copy()
    r["email"] = r.cidx.map(cu.email)
    r["phone"] = r.cidx.map(cu.phone)
    r["country"] = r.cidx.map(cu.country)
    xl = r[(r.country == "PL") & (r.language != "ru")]
    _write_survey_xlsx(xl, out / "survey_export.xlsx")
    plan.append(("responses", "survey_export.xlsx", {}))
    itr = r[r.country == "IT"]
    pd.DataFrame({
        "ID risposta": itr.response_id, "Data risposta": itr.responded_at.dt.strftime("%d/%m/%Y %H:%M"),
        "Indirizzo email": itr.email, "Sondaggio": itr.survey, "Punto di contatto": itr.touchpoint,
        "Canale": itr.channel, "Voto NPS": itr.nps.astype("Int64"), "Soddisfazione": itr.csat.astype("Int64"),
        "Facilità": itr.ces.astype("Int64"), "Commento": itr.comment, "Lingua": itr.language,
        "Negozio": itr.get("store"),
    }).to_csv(out / "risposte_it.csv", sep=";", index=False, encoding="utf-8")
    plan.append(("responses", "risposte_it.csv", {}))
    ru = r[(r.country == "PL") & (r.language == "ru")]
    _write_messy_ru(ru, out / "opros_podderzhka.csv")
    plan.append(("responses", "opros_podderzhka.csv", {}))

    # 6. feedback: complaints (CSV), reviews (JSON array), social posts (JSON lines)
    f = co.feedback.copy()
    f["email"] = f.cidx.map(lambda i: cu.email.get(i) if pd.notna(i) else None)
    comp = f[f.source == "complaint"]
    pd.DataFrame({"feedback_id": comp.feedback_id, "email": comp.email, "created_at": comp.posted_at.dt.strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"), "title": comp.title, "text": comp.text, "language": comp.language,
        "channel": comp.channel, "store": comp.get("store")}).to_csv(out / "complaints.csv", index=False, encoding="utf-8")
    plan.append(("feedback", "complaints.csv", {"source": "complaint"}))
    rev = f[f.source == "review"]
    (out / "reviews.json").write_text(json.dumps([{
        "review_id": x.feedback_id, "brand": x.brand, "author": x.author, "stars": x.rating,
        "text": x.text, "date": x.posted_at.strftime("%Y-%m-%d %H:%M"), "url": x.url, "lang": x.language,
    } for x in rev.itertuples()], ensure_ascii=False, indent=1), encoding="utf-8")
    plan.append(("feedback", "reviews.json", {"source": "review"}))
    soc = f[f.source == "social"]
    with open(out / "social_posts.jsonl", "w", encoding="utf-8") as fh:
        for x in soc.itertuples():
            fh.write(json.dumps({"post_id": x.feedback_id, "handle": x.handle, "brand": x.brand, "text": x.text,
                                 "created_at": x.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": x.url,
                                 "lang": x.language}, ensure_ascii=False) + "\n")
    plan.append(("feedback", "social_posts.jsonl", {"source": "social"}))

    # 7. journey events (Parquet), cases and case events (CSV)
    ev = co.events.copy()
    pd.DataFrame({"customer_id": ev.cidx.map(cu.crm_id), "occurred_at": ev.occurred_at, "journey": ev.journey,
                  "stage": ev.stage, "touchpoint": ev.touchpoint, "channel": ev.channel}).to_parquet(
        out / "events.parquet", index=False)
    plan.append(("events", "events.parquet", {}))
    cs = co.cases.copy() if len(co.cases) else pd.DataFrame(columns=[
        "case_id", "cidx", "opened_at", "type", "channel", "department", "owner", "status", "priority", "due_at",
        "closed_at", "resolved", "root_cause", "summary", "feedback_id", "response_id"])
    cs["email"] = cs.cidx.map(lambda i: cu.email.get(i) if pd.notna(i) else None)
    cs = cs.drop(columns=["cidx"])
    for col in ("opened_at", "due_at", "closed_at"):
        cs[col] = pd.to_datetime(cs[col]).dt.strftime("%Y-%m-%d %H:%M:%S")
    cs.to_csv(out / "cases.csv", index=False, encoding="utf-8")
    plan.append(("cases", "cases.csv", {}))
    ce = co.case_events.copy() if len(co.case_events) else pd.DataFrame(
        columns=["case_id", "occurred_at", "kind", "actor", "department", "note"])
    ce["occurred_at"] = pd.to_datetime(ce.occurred_at).dt.strftime("%Y-%m-%d %H:%M:%S")
    ce.to_csv(out / "case_events.csv", index=False, encoding="utf-8")
    plan.append(("case_events", "case_events.csv", {}))
    return plan


def _write_survey_xlsx(r: pd.DataFrame, path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Responses")
    ws.append(["Voltaro — customer survey export"])
    ws.append([f"Exported {END:%Y-%m-%d}", None, "all surveys"])
    ws.append([])
    ws.append(["Response ID", "Submitted at", "Email", "Survey", "Touchpoint", "Channel", "NPS", "CSAT", "CES",
               "Comment", "Language", "Store"])
    for x in r.itertuples():
        ws.append([x.response_id, x.responded_at.to_pydatetime(), x.email, x.survey, x.touchpoint, x.channel,
                   None if pd.isna(x.nps) else int(x.nps), None if pd.isna(x.csat) else int(x.csat),
                   None if pd.isna(x.ces) else int(x.ces), x.comment, x.language,
                   None if pd.isna(getattr(x, "store", None)) else x.store])
    wb.save(path)


def _write_messy_ru(r: pd.DataFrame, path: Path) -> None:
    """A hand-kept export: Russian headers, Windows-1251, day-first dates, phones in many shapes, and a
    few rows that must be rejected (score out of range, impossible date, broken quote, nothing at all)."""
    lines = ["дата;телефон;оценка nps;удовлетворенность;комментарий;точка контакта;язык"]
    bad_at = {5: "nps", 11: "date", 17: "quote", 23: "empty", 29: "word"}
    for i, x in enumerate(r.itertuples()):
        phone = x.phone if i % 3 else "+48 " + x.phone
        date = x.responded_at.strftime("%d.%m.%Y %H:%M")
        nps = "" if pd.isna(x.nps) else str(int(x.nps))
        csat = "" if pd.isna(x.csat) else str(int(x.csat))
        comment = ("" if pd.isna(x.comment) else x.comment).replace('"', "'").replace(";", ",")
        kind = bad_at.get(i)
        if kind == "nps":
            nps = "11"
        elif kind == "date":
            date = "31.02.2026"
        elif kind == "word":
            csat = "пять"
        if kind == "quote":
            lines.append(f'{date};{phone};{nps};{csat};"{comment};support;ru')
        elif kind == "empty":
            lines.append(f"{date};{phone};;;;support;ru")
        else:
            lines.append(f"{date};{phone};{nps};{csat};{comment};{x.touchpoint};ru")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
