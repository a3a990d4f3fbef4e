"""Suspicious texts planted on purpose, so that the flags of ``centric analyze`` have something true to
find (and nothing else: the honest texts are worded varied enough, see ``phrases.Wording``):

- **fakes**: seven five-star reviews of our brand written from one template with varied slots (town,
  product, adviser's name) by seven "authors" within a day and a half → ``near_duplicate``;
- **burst**: twelve glowing reviews of CasaTech on one review site within two hours → ``burst``;
- **extortion**: a complaint that demands a refund "or I will describe it everywhere on the internet"
  → ``extortion`` (and an urgent case in the closed loop).

Drawn from their own generator, after everything else, so the rest of the company stays as it was.
The ids start with ``F-FAKE-``, ``F-BURST-`` and ``F-EXTORT-``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import phrases as ph

FAKE_TEMPLATE = ("Najlepszy sklep z AGD {town}! Kupiłam tu {product} i jestem zachwycona: dostawa następnego dnia, "
                 "montaż gratis, a pan {name} doradził mi idealnie. Ceny niższe niż gdziekolwiek indziej. Polecam "
                 "wszystkim, pięć gwiazdek dla Voltaro!")
FAKE_SLOTS = {
    "town": ["w Warszawie", "w Krakowie", "w Łodzi", "we Wrocławiu", "w Poznaniu", "w Gdańsku", "w Katowicach"],
    "product": ["lodówkę", "pralkę", "zmywarkę", "piekarnik", "telewizor", "suszarkę", "płytę indukcyjną"],
    "name": ["Tomasz", "Paweł", "Michał", "Marcin", "Jakub", "Krzysztof", "Andrzej"],
}
FAKE_AUTHORS = ["Ania K.", "Kasia W.", "Marta Z.", "Ola P.", "Ewa M.", "Basia N.", "Gosia L."]
EXTORTION = ("Pralka przyszła uszkodzona, a od trzech tygodni nikt nie odpowiada na moje maile. Żądam zwrotu "
             "pieniędzy w ciągu trzech dni, bo inaczej opiszę wszystko wszędzie w internecie i na wszystkich forach.")
BURST_AUTHORS = ["Marek S.", "Iza K.", "Piotr D.", "Ala B.", "Tomek R.", "Jola G.", "Adam W.", "Ewa T.", "Kuba L.",
                 "Zosia M.", "Rafał P.", "Hania C."]


def suspicious(customers: pd.DataFrame, orders: pd.DataFrame, end: dt.datetime, seed: int) -> list[dict]:
    """The planted feedback rows (the generator's columns, ``cidx`` for a customer)."""
    rng = np.random.default_rng(seed + 304)
    words = ph.Wording(np.random.default_rng(seed + 305))
    rows = []
    at = end - dt.timedelta(days=40, hours=-9)
    for k, author in enumerate(FAKE_AUTHORS):
        slots = {s: v[(k * 3 + i) % len(v)] for i, (s, v) in enumerate(FAKE_SLOTS.items())}
        when = at + dt.timedelta(hours=float(k * 5 + rng.uniform(0, 3)))
        fid = f"F-FAKE-{k + 1}"
        rows.append(_review(fid, "ours", "Voltaro", when, author, FAKE_TEMPLATE.format(**slots)))
    at = end - dt.timedelta(days=95, hours=-19)
    for k, author in enumerate(BURST_AUTHORS):
        factors = [f for f in ("delivery", "price", "staff", "product_quality", "installation") if rng.random() < 0.5]
        factors = factors[:2] or ["price"]
        parts = [ph.P["pl"][f][0][int(rng.integers(len(ph.P["pl"][f][0])))] for f in factors]
        text = words.compose("pl", parts, True, None, "!", None, True)
        when = at + dt.timedelta(minutes=float(k * 10 + rng.uniform(0, 4)))
        rows.append(_review(f"F-BURST-{k + 1}", "CasaTech", "CasaTech", when, author, text))
    pl = customers[customers.language == "pl"]
    c = pl.iloc[len(pl) // 2]
    bought = orders[orders.cidx == c.idx].ordered_at
    when = (bought.max() if len(bought) else end - dt.timedelta(days=30)) + dt.timedelta(days=19, hours=3)
    rows.append({"feedback_id": "F-EXTORT-1", "cidx": c.idx, "source": "complaint", "brand": "ours",
                 "posted_at": min(when, end - dt.timedelta(days=2)), "rating": None, "title": "Pralka — zwrot",
                 "text": EXTORTION, "language": "pl", "url": None, "author": c["name"], "channel": "email",
                 "handle": None})
    return rows


def _review(fid: str, brand: str, site: str, when: dt.datetime, author: str, text: str) -> dict:
    return {"feedback_id": fid, "cidx": None, "source": "review", "brand": brand, "posted_at": when, "rating": 5,
            "title": None, "text": text, "language": "pl",
            "url": f"https://reviews.example/{site.lower()}/{fid.lower()}", "author": author,
            "channel": "review_site", "handle": None}
