"""The customer-orientation checklist: six criteria, each rated on one scale of five anchored points.

The criteria are those the literature on customer orientation in retail names for the people who serve
customers: a calm and positive attitude, confident and friendly communication, knowledge of the products,
handling conflicts, clear speech and adapting to different customers. Their ids are the columns of
``orientation_assessments``; their names, descriptions and the scale's anchors are given here in English,
Polish, Russian and Italian.

>>> [c.id for c in CRITERIA][:3]
['attitude', 'communication', 'product_knowledge']
>>> criterion("conflict_handling").name("pl"), anchor(5, "it")
('Rozwiązywanie konfliktów', 'Sempre, un esempio per gli altri')
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import ORIENTATION_CRITERIA, ORIENTATION_VIEWS

__all__ = ["CRITERIA", "LANGUAGES", "SCALE", "VIEWS", "Criterion", "anchor", "criterion", "criterion_names"]

LANGUAGES = ("en", "pl", "ru", "it")
SCALE = (1, 2, 3, 4, 5)
VIEWS = ORIENTATION_VIEWS


@dataclass(frozen=True)
class Criterion:
    id: str
    names: dict[str, str]
    descriptions: dict[str, str]

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names["en"]

    def description(self, lang: str = "en") -> str:
        return self.descriptions.get(lang) or self.descriptions["en"]


def _c(cid: str, names: tuple[str, str, str, str], descriptions: tuple[str, str, str, str]) -> Criterion:
    return Criterion(cid, dict(zip(LANGUAGES, names, strict=True)), dict(zip(LANGUAGES, descriptions, strict=True)))


CRITERIA: tuple[Criterion, ...] = (
    _c("attitude",
       ("Calm and positive attitude", "Spokojna i pozytywna postawa", "Спокойный и позитивный настрой",
        "Atteggiamento calmo e positivo"),
       ("Stays calm and friendly under pressure; greets customers and shows they are welcome.",
        "Zachowuje spokój i życzliwość pod presją; wita klientów i pokazuje, że są mile widziani.",
        "Сохраняет спокойствие и доброжелательность под давлением; приветствует покупателей и показывает, что им рады.",
        "Resta calmo e cordiale anche sotto pressione; saluta i clienti e li fa sentire benvenuti.")),
    _c("communication",
       ("Confident, friendly communication", "Pewna siebie, życzliwa komunikacja", "Уверенное, дружелюбное общение",
        "Comunicazione sicura e cordiale"),
       ("Starts the conversation, listens, asks about needs and answers with confidence.",
        "Zaczyna rozmowę, słucha, pyta o potrzeby i odpowiada z pewnością.",
        "Начинает разговор, слушает, выясняет потребности и уверенно отвечает.",
        "Avvia la conversazione, ascolta, chiede le esigenze e risponde con sicurezza.")),
    _c("product_knowledge",
       ("Knowledge of the products", "Znajomość produktów", "Знание товара", "Conoscenza dei prodotti"),
       ("Knows the range, features, prices and services and can compare products honestly.",
        "Zna asortyment, funkcje, ceny i usługi; potrafi uczciwie porównać produkty.",
        "Знает ассортимент, характеристики, цены и услуги, может честно сравнить товары.",
        "Conosce assortimento, caratteristiche, prezzi e servizi e sa confrontare i prodotti con onestà.")),
    _c("conflict_handling",
       ("Handling conflicts", "Rozwiązywanie konfliktów", "Разрешение конфликтов", "Gestione dei conflitti"),
       ("Takes a complaint seriously, stays polite with an angry customer and finds a way forward.",
        "Traktuje reklamację poważnie, pozostaje uprzejmy wobec zdenerwowanego klienta i znajduje rozwiązanie.",
        "Серьёзно относится к жалобе, остаётся вежливым с рассерженным покупателем и находит решение.",
        "Prende sul serio un reclamo, resta cortese con un cliente arrabbiato e trova una soluzione.")),
    _c("clear_speech",
       ("Clear speech", "Wyraźna mowa", "Чёткая речь", "Chiarezza espositiva"),
       ("Speaks clearly, at a good pace, without jargon; checks that the customer understood.",
        "Mówi wyraźnie, w dobrym tempie, bez żargonu; sprawdza, czy klient zrozumiał.",
        "Говорит чётко, в нормальном темпе, без жаргона; проверяет, понял ли покупатель.",
        "Parla in modo chiaro, con il giusto ritmo, senza gergo; verifica che il cliente abbia capito.")),
    _c("adapting",
       ("Adapting to different customers", "Dopasowanie do różnych klientów", "Подход к разным покупателям",
        "Adattarsi ai diversi clienti"),
       ("Adjusts tone, pace and advice to the customer: the hurried, the undecided, the elderly, families.",
        "Dopasowuje ton, tempo i porady do klienta: spieszącego się, niezdecydowanego, starszego, rodziny z dziećmi.",
        "Подстраивает тон, темп и советы под покупателя: спешащего, сомневающегося, пожилого, семью с детьми.",
        "Adatta tono, ritmo e consigli al cliente: chi ha fretta, l'indeciso, l'anziano, le famiglie.")),
)
assert tuple(c.id for c in CRITERIA) == ORIENTATION_CRITERIA

_ANCHORS = {
    1: ("Rarely; needs to change", "Rzadko; wymaga zmiany", "Редко; нужно менять", "Raramente; deve cambiare"),
    2: ("Sometimes; often falls short", "Czasami; często poniżej oczekiwań", "Иногда; часто не дотягивает",
        "A volte; spesso non all'altezza"),
    3: ("Often; meets the basics", "Często; spełnia podstawy", "Часто; базовый уровень", "Spesso; soddisfa le basi"),
    4: ("Usually; reliable", "Zazwyczaj; można polegać", "Обычно; надёжно", "Di solito; affidabile"),
    5: ("Always, an example to others", "Zawsze, wzór dla innych", "Всегда, пример для других",
        "Sempre, un esempio per gli altri"),
}


def anchor(point: int, lang: str = "en") -> str:
    """The words of point ``point`` (1–5) of the scale: how often the employee shows the behaviour."""
    words = _ANCHORS[int(point)]
    return words[LANGUAGES.index(lang)] if lang in LANGUAGES else words[0]


def criterion(cid: str) -> Criterion:
    for c in CRITERIA:
        if c.id == cid:
            return c
    raise KeyError(cid)


def criterion_names(lang: str = "en") -> dict[str, str]:
    """Criterion id → its name in ``lang``."""
    return {c.id: c.name(lang) for c in CRITERIA}
