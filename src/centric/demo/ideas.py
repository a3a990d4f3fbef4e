"""The demo company's suggestion box: ideas of customers (in their own language: Polish, Italian, Russian, English)
and of employees, employees' votes and the vote counts of the old suggestion box (customers'), statuses with
answers in the author's language, two rewards, and three near-duplicates — one already merged by the analyst (its
voters counted once), two left for the detector to propose. Each idea's factor was set by the analyst when it
was triaged (the factor matcher suggests it for new ideas: centric ideas import, the Ideas page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..ideas import box
from ..store import Store
from .generator import END

# factor → the idea in each language; the first sentence is its title
CUSTOMER_IDEAS: list[tuple[str, dict[str, str]]] = [
    ("delivery", {
        "pl": "Dostawy w soboty. Pracuję od poniedziałku do piątku i nigdy nie ma mnie w domu, gdy przyjeżdża kurier.",
        "it": "Consegne anche il sabato. Lavoro dal lunedì al venerdì e non sono mai a casa quando arriva il corriere.",
        "ru": "Доставка по субботам. Я работаю с понедельника по пятницу и никогда не бываю дома, когда приезжает курьер.",
        "en": "Saturday deliveries. I work Monday to Friday and I am never at home when the courier comes."}),
    ("delivery", {
        "pl": "SMS pół godziny przed przyjazdem kuriera. Okno dostawy 8–18 to cały dzień wolnego.",
        "it": "Un SMS mezz'ora prima dell'arrivo del corriere. Una finestra di consegna 8–18 è un giorno di ferie.",
        "ru": "СМС за полчаса до приезда курьера. Окно доставки с 8 до 18 — это целый выходной.",
        "en": "A text message half an hour before the courier arrives. A delivery window of 8 to 6 costs me a day off."}),
    ("installation", {
        "pl": "Montaż pralki w dniu dostawy. Teraz czekam na instalatora jeszcze tydzień po dostawie.",
        "it": "Installazione della lavatrice il giorno stesso della consegna. Ora aspetto il tecnico una settimana.",
        "ru": "Установка стиральной машины в день доставки. Сейчас мастера приходится ждать ещё неделю.",
        "en": "Install the washing machine on the day it is delivered. Now I wait another week for the installer."}),
    ("returns", {
        "pl": "Zwrot w dowolnym sklepie sieci. Kupiłem w Krakowie, mieszkam w Katowicach i muszę jechać z powrotem.",
        "it": "Reso in qualsiasi negozio della catena. Ho comprato a Milano, vivo a Bergamo e devo tornare là.",
        "ru": "Возврат в любом магазине сети. Купил в одном городе, живу в другом и должен ехать обратно.",
        "en": "Returns in any of your stores. I bought in one city, I live in another and must drive back."}),
    ("website", {
        "pl": "Pokazujcie na stronie stan magazynu w każdym sklepie. Dwa razy pojechałem po towar, którego nie było.",
        "it": "Mostrate sul sito la disponibilità in ogni negozio. Due volte sono andato per un prodotto che non c'era.",
        "ru": "Показывайте на сайте наличие в каждом магазине. Дважды ездил за товаром, которого не было.",
        "en": "Show each store's stock on the website. Twice I drove to a store for something it did not have."}),
    ("price", {
        "pl": "Gwarancja najniższej ceny. Jeśli w internecie jest taniej, wyrównajcie różnicę przy kasie.",
        "it": "Garanzia del prezzo più basso. Se online costa meno, rimborsate la differenza alla cassa.",
        "ru": "Гарантия лучшей цены. Если в интернете дешевле, верните разницу на кассе.",
        "en": "A lowest-price promise. If it is cheaper online, refund the difference at the till."}),
    ("call_centre", {
        "pl": "Oddzwonienie zamiast czekania na linii. Czekałem 25 minut przy muzyczce.",
        "it": "Richiamata invece dell'attesa in linea. Ho aspettato 25 minuti con la musichetta.",
        "ru": "Обратный звонок вместо ожидания на линии. Я ждал 25 минут под музыку.",
        "en": "A call-back instead of waiting on the line. I waited 25 minutes listening to music."}),
    ("payment", {
        "pl": "Raty zero procent przy zakupie online. W sklepie są, w internecie nie.",
        "it": "Rate a tasso zero anche online. In negozio ci sono, sul sito no.",
        "ru": "Беспроцентная рассрочка при покупке онлайн. В магазине есть, а на сайте нет.",
        "en": "Interest-free instalments online too. The stores offer them, the website does not."}),
    ("store", {
        "pl": "Kącik dla dzieci w dużych sklepach. Z dwójką dzieci nie da się spokojnie wybrać lodówki.",
        "it": "Un angolo bimbi nei negozi grandi. Con due bambini non si riesce a scegliere un frigorifero.",
        "ru": "Детский уголок в больших магазинах. С двумя детьми невозможно спокойно выбрать холодильник.",
        "en": "A children's corner in the large stores. With two kids you cannot choose a fridge in peace."}),
    ("availability", {
        "pl": "Powiadomienie e-mailem, gdy produkt wróci do sprzedaży. Sprawdzam stronę codziennie od miesiąca.",
        "it": "Un avviso via e-mail quando il prodotto torna disponibile. Controllo il sito ogni giorno da un mese.",
        "ru": "Уведомление по почте, когда товар снова появится. Месяц проверяю сайт каждый день.",
        "en": "An e-mail when a sold-out product is back. I have checked the website every day for a month."}),
    ("staff", {
        "pl": "Niech sprzedawca dokończy zamówienie online na moim koncie. Doradził świetnie, ale towar był tylko w sieci.",
        "it": "Il commesso potrebbe completare l'ordine online sul mio account. Ottimo consiglio, ma il prodotto era solo online.",
        "ru": "Пусть продавец оформит онлайн-заказ на мой аккаунт. Консультация была отличной, но товар был только онлайн.",
        "en": "Let the sales assistant finish the online order on my account. Great advice, but the item was online only."}),
    ("product_quality", {
        "pl": "Publikujcie, jak często psują się poszczególne marki. Chcę wybierać trwałe sprzęty.",
        "it": "Pubblicate quanto spesso si guastano le varie marche. Voglio scegliere elettrodomestici che durano.",
        "ru": "Публикуйте, как часто ломаются разные марки. Хочу выбирать надёжную технику.",
        "en": "Publish how often each brand breaks down. I want to choose appliances that last."}),
]
EMPLOYEE_IDEAS: list[tuple[str, dict[str, str]]] = [
    ("delivery", {
        "pl": "Adres dostawy w aplikacji kierowcy zamiast wydruku faktury. Kierowcy jadą pod adres z faktury, a klient czeka gdzie indziej.",
        "it": "L'indirizzo di consegna nell'app dell'autista invece della fattura stampata. Gli autisti vanno all'indirizzo di fatturazione.",
        "en": "The delivery address in the drivers' app instead of the printed invoice. Drivers go to the invoice address."}),
    ("call_centre", {
        "pl": "Historia klienta widoczna dla infolinii. Klienci za każdym razem opowiadają wszystko od nowa.",
        "it": "La storia del cliente visibile al call center. I clienti raccontano tutto da capo ogni volta.",
        "en": "The customer's history visible to the call centre. Customers tell the whole story again every time."}),
    ("returns", {
        "pl": "Stanowisko zwrotów przy wejściu. Klienci ze zwrotem przechodzą przez cały sklep z ciężkim kartonem.",
        "it": "Il banco resi vicino all'ingresso. I clienti attraversano il negozio con scatoloni pesanti.",
        "en": "The returns desk by the entrance. Customers carry heavy boxes through the whole store."}),
    ("availability", {
        "pl": "Codzienna synchronizacja stanów magazynu z tabletami w sklepie. Obiecujemy towar, którego już nie ma.",
        "it": "Sincronizzazione quotidiana delle scorte con i tablet del negozio. Promettiamo prodotti già esauriti.",
        "en": "Sync the warehouse stock with the store tablets every day. We promise items that are gone."}),
    ("staff", {
        "pl": "Comiesięczne szkolenie z nowych produktów. Klienci pytają o modele, których nikt z nas nie widział.",
        "it": "Formazione mensile sui nuovi prodotti. I clienti chiedono di modelli che nessuno di noi ha visto.",
        "en": "Monthly training on new products. Customers ask about models none of us has seen."}),
    ("installation", {
        "pl": "Instalatorzy wożą zapasowe węże i złączki. Połowa powtórnych wizyt to brak jednej części.",
        "it": "I tecnici portino tubi e raccordi di ricambio. Metà delle seconde visite è per un pezzo mancante.",
        "en": "Installers carry spare hoses and connectors. Half of the second visits are for one missing part."}),
]
# near-duplicates: (index in CUSTOMER_IDEAS or EMPLOYEE_IDEAS, kind, language, the reworded text)
DUPLICATES = [
    (0, "customer", "pl", "Dostawy w soboty! Pracuję od poniedziałku do piątku i nigdy nie ma mnie w domu, kiedy przyjeżdża kurier."),
    (6, "customer", "it", "Richiamata al posto dell'attesa in linea. Ho aspettato 25 minuti con la musichetta, basta."),
    (1, "employee", "pl", "Historia klienta widoczna dla infolinii, proszę. Klienci za każdym razem opowiadają wszystko od nowa."),
]
ANSWERS = {
    "under_review": {"pl": "Dziękujemy! Analizujemy pomysł z zespołem, którego dotyczy.",
                     "it": "Grazie! Stiamo valutando l'idea con il team interessato.",
                     "ru": "Спасибо! Мы изучаем идею вместе с командой, которой она касается.",
                     "en": "Thank you! We are looking into it with the team concerned."},
    "planned": {"pl": "Dobry pomysł: wprowadzimy go w przyszłym kwartale.",
                "it": "Ottima idea: la introdurremo il prossimo trimestre.",
                "ru": "Хорошая идея: мы внедрим её в следующем квартале.",
                "en": "A good idea: we plan it for next quarter."},
    "done": {"pl": "Zrobione: działa już we wszystkich sklepach. Dziękujemy!",
             "it": "Fatto: è già attivo in tutti i negozi. Grazie!",
             "ru": "Сделано: уже работает во всех магазинах. Спасибо!",
             "en": "Done: it works in every store now. Thank you!"},
    "declined": {"pl": "Dziękujemy, ale na razie nie możemy tego zrobić ze względu na koszty; wrócimy do tego.",
                 "it": "Grazie, ma per ora non possiamo farlo per i costi; ci torneremo.",
                 "ru": "Спасибо, но пока мы не можем этого сделать из-за затрат; мы к этому вернёмся.",
                 "en": "Thank you, but we cannot do it now because of the cost; we will come back to it."},
}
PATHS = {"under_review": ("under_review",), "planned": ("under_review", "planned"),
         "done": ("under_review", "planned", "done"), "declined": ("declined",)}
EMPLOYEES = 40  # staff who vote
DAYS = 240  # ideas over the data's last eight months


@dataclass(frozen=True)
class DemoIdeas:
    ideas: int
    customers: int
    employees: int
    votes: int
    answered: int
    merged: int
    rewards: int


def _authors(store: Store, rng: np.random.Generator, lang: str, n: int) -> list[tuple[str, str | None]]:
    """(customer id, name) of ``n`` customers who wrote in ``lang`` (feedback texts), at random."""
    rows = store.con.execute("SELECT DISTINCT f.customer_id, c.name FROM feedback f JOIN customers c ON "
                             "c.customer_id = f.customer_id WHERE f.language = ? ORDER BY 1", [lang]).fetchall()
    if len(rows) < n:  # few customers wrote in it: any customer (the shop serves them in it)
        rows += store.con.execute("SELECT customer_id, name FROM customers ORDER BY customer_id LIMIT ?",
                                  [4 * n]).fetchall()
    if not rows:
        return []
    pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    return [rows[int(i)] for i in pick]


def add_ideas(store: Store, seed: int = 7) -> DemoIdeas:
    """Add the demo's ideas, votes, answers, rewards and one merge (see the module docstring)."""
    rng = np.random.default_rng(seed)
    end = END if isinstance(END, dt.datetime) else dt.datetime.combine(END, dt.time())
    planned: list[dict] = []
    for i, (factor, texts) in enumerate(CUSTOMER_IDEAS):
        # Polish and Italian customers (most of them) propose every idea; Russian and English speakers a third each
        for lang in ("pl", "it", "ru" if i % 3 == 0 else "en" if i % 3 == 1 else None):
            if lang is not None:
                planned.append({"kind": "customer", "factor": factor, "lang": lang, "text": texts[lang], "theme": i,
                                "pop": float(rng.gamma(2.0, 6.0))})
    for i, (factor, texts) in enumerate(EMPLOYEE_IDEAS):
        lang = ("pl", "it", "en")[int(rng.choice(3, p=[0.55, 0.35, 0.10]))]
        lang = next((x for j, k, x, _ in DUPLICATES if (j, k) == (i, "employee")), lang)
        planned.append({"kind": "employee", "factor": factor, "lang": lang, "text": texts[lang], "theme": i,
                        "pop": float(rng.gamma(2.0, 3.0))})
    for i, kind, lang, text in DUPLICATES:
        factor = (CUSTOMER_IDEAS if kind == "customer" else EMPLOYEE_IDEAS)[i][0]
        planned.append({"kind": kind, "factor": factor, "lang": lang, "text": text, "theme": -1, "dup_of": (i, kind, lang),
                        "pop": float(rng.gamma(2.0, 3.0))})
    authors: dict[str, list] = {lang: _authors(store, rng, lang, 40) for lang in ("pl", "it", "ru", "en")}
    staff_names = ["Anna Nowak", "Marco Bianchi", "Piotr Zieliński", "Giulia Ricci", "Kasia Wójcik", "Luca Greco"]
    ids: dict[tuple, str] = {}
    counts = {"customer": 0, "employee": 0}
    votes = answered = 0
    for p in planned:
        at = end - dt.timedelta(days=float(rng.uniform(5, DAYS)))
        if p["kind"] == "customer":
            cid, name = authors[p["lang"]].pop() if authors[p["lang"]] else (None, None)
            extra = {"customer_id": cid, "author_name": name, "votes": int(rng.poisson(p["pop"]))}
        else:
            extra = {"author_name": staff_names[int(rng.integers(len(staff_names)))], "votes": None}
        title, _, _ = p["text"].partition(". ")
        idea_id = box.submit(store, p["text"], p["kind"], title.rstrip("!.") or None,
                             customer_id=extra.get("customer_id"), author_name=extra["author_name"], language=p["lang"],
                             factor=p["factor"], factor_source="set", source="demo", at=at)
        if extra["votes"]:  # the customers' votes counted by the old suggestion box
            with store.transaction() as con:
                con.execute("UPDATE ideas SET votes = ? WHERE idea_id = ?", [extra["votes"], idea_id])
        counts[p["kind"]] += 1
        p["id"] = idea_id
        if "dup_of" not in p:
            ids[p["theme"], p["kind"], p["lang"]] = idea_id
        staff = rng.choice(EMPLOYEES, size=min(EMPLOYEES, int(rng.poisson(p["pop"] / 2))), replace=False)
        for k, e in enumerate(sorted(int(x) for x in staff)):
            votes += box.vote(store, idea_id, f"user:DEMO-E{e + 1:02d}", at=at + dt.timedelta(hours=3 + 7 * k))
        # an answer for most ideas older than a month, a few days to weeks after they came
        if "dup_of" not in p and (end - at).days > 30 and rng.random() < 0.7:
            final = str(rng.choice(list(PATHS), p=[0.35, 0.3, 0.2, 0.15]))
            when = at
            for step in PATHS[final]:
                when = when + dt.timedelta(days=float(rng.exponential(9.0)) + 1)
                if when >= end:
                    break
                box.change_status(store, idea_id, step, ANSWERS[step][p["lang"]], "analyst@voltaro.example", at=when)
            answered += 1
    # the first near-duplicate was merged by the analyst; the others wait for the detector's proposal
    first = next(p for p in planned if "dup_of" in p)
    i, kind, lang = first["dup_of"]
    original = ids.get((i, kind, lang))
    merged = 0
    if original:
        box.merge(store, first["id"], original, "analyst@voltaro.example", at=end - dt.timedelta(days=2))
        merged = 1
    rewards = 0
    done = store.con.execute("SELECT idea_id, author_name, author_kind FROM ideas WHERE source = 'demo' AND "
                             "status = 'done' ORDER BY idea_id").fetchall()
    for idea_id, name, kind in done[:2]:
        if kind == "employee":
            box.reward(store, idea_id, "Gift voucher", name or "—", "hr@voltaro.example", 200, "PLN", at=end)
        else:
            box.reward(store, idea_id, "Loyalty points", name or "—", "analyst@voltaro.example", 500, "points", at=end)
        rewards += 1
    return DemoIdeas(len(planned), counts["customer"], counts["employee"], votes, answered, merged, rewards)
