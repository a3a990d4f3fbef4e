"""What the demo company's customers write, by language, factor and polarity.

Comments are assembled from these pieces (an opener, one or two factor phrases joined by a word that
fits their polarities) and put into words by ``Wording``: one of a phrase's wordings, a sentence of
context (a product, when, for whom) or a closing one, connectors, order, punctuation, case and an
occasional typo — so that honest customers who had the same experience do not write the same text
(which the near-duplicate flag would take for a campaign). The factor ids are those of the ``retail``
taxonomy.
"""

from __future__ import annotations

FACTORS = ("delivery", "installation", "product_quality", "price", "staff", "returns", "website",
           "call_centre", "availability", "payment")

Phrase = str | tuple[str, ...]  # one wording, or several of the same opinion
P: dict[str, dict[str, tuple[list[Phrase], list[Phrase]]]] = {
    "pl": {
        "delivery": (
            [("dostawa była szybka i punktualna", "dostawa szybko i na czas", "przywieźli szybko, co do godziny"), ("kurier przyjechał dokładnie o umówionej porze", "kurier był punktualnie, tak jak się umówiliśmy", "pan kurier zjawił się o ustalonej godzinie"),
             ("przesyłka dotarła już następnego dnia", "paczka była u mnie na drugi dzień", "zamówienie przyszło już następnego dnia rano"), "kierowcy wnieśli lodówkę na trzecie piętro bez problemu"],
            [("kurier przywiózł towar pod adres z faktury zamiast pod adres dostawy", "towar pojechał na adres z faktury, a nie na adres dostawy", "dostawa trafiła pod adres do faktury zamiast tam, gdzie mieszkam"),
             ("dostawa spóźniła się o cały tydzień", "na dostawę czekałem tydzień dłużej niż obiecano", "przesyłka przyszła z tygodniowym opóźnieniem"), ("trzy razy czekałem w domu na kuriera, który nie przyjechał", "brałem wolne trzy razy, a kurier ani razu nie dojechał", "kurier trzykrotnie nie przyjechał w umówionym dniu"),
             ("pralka przyjechała z wgniecioną obudową", "sprzęt dojechał uszkodzony, obudowa wgnieciona", "po rozpakowaniu okazało się, że obudowa jest wgnieciona"), ("nikt nie uprzedził mnie o zmianie terminu dostawy", "termin dostawy zmienili bez słowa", "o przesunięciu dostawy dowiedziałam się dopiero od kuriera")],
        ),
        "installation": (
            [("monter był fachowcem i wszystko dokładnie wyjaśnił", "instalator znał się na rzeczy i pokazał, jak wszystko działa", "fachowy montażysta, wszystko wytłumaczył"), ("montaż zmywarki poszedł sprawnie", "zmywarkę zamontowano szybko i porządnie", "montaż sprzętu przebiegł bez żadnych problemów"),
             ("instalator posprzątał po sobie, pełen profesjonalizm", "po montażu ekipa zostawiła porządek", "monter posprzątał i zabrał stare opakowania"), ("podłączenie płyty poszło szybko i bez problemów", "płytę podłączyli w pół godziny", "podłączenie sprzętu bez najmniejszych kłopotów")],
            [("montażysta się spóźnił i zostawił bałagan", "monter przyszedł spóźniony i nie posprzątał"), "instalacja trwała trzy wizyty",
             "monter nie miał potrzebnych części"],
        ),
        "product_quality": (
            [("pralka działa cicho i świetnie pierze", "pralka jest cichutka i dobrze pierze"), "telewizor ma znakomity obraz", "sprzęt solidnie wykonany"],
            [("lodówka zaczęła przeciekać po miesiącu", "po kilku tygodniach spod lodówki zaczęła cieknąć woda"), ("odkurzacz zepsuł się po dwóch tygodniach", "odkurzacz przestał działać po dwóch tygodniach"),
             "ekran ma martwe piksele"],
        ),
        "price": (
            ["ceny bardzo konkurencyjne", "dobra cena w promocji", "taniej niż w innych sklepach"],
            [("za drogo w porównaniu z konkurencją", "u konkurencji ten sam model był sporo tańszy"), "cena wzrosła w dniu zamówienia", "koszt dostawy przesadzony"],
        ),
        "staff": (
            ["sprzedawca w salonie doradził bardzo rzeczowo", "obsługa w sklepie miła i pomocna",
             "pani przy kasie była bardzo uprzejma"],
            ["sprzedawca był niemiły i nie znał produktów", "w sklepie nikt nie chciał mi pomóc",
             "obsługa zignorowała moje pytania"],
        ),
        "returns": (
            ["zwrot pieniędzy dostałem w trzy dni", "reklamację rozpatrzono szybko i uczciwie"],
            [("reklamacja krąży między działami od miesiąca", "od miesiąca moja reklamacja wędruje od działu do działu"), ("na skargę dostałem tylko automatyczne podziękowanie", "na moją skargę przyszła tylko automatyczna formułka z podziękowaniem"),
             ("każdy dział odsyła mnie do innego", "jeden dział odsyła mnie do drugiego i tak w kółko"), ("od sześciu tygodni czekam na zwrot pieniędzy", "pieniądze miały wrócić dawno, a czekam już sześć tygodni")],
        ),
        "website": (
            ["strona internetowa jest przejrzysta", "aplikacja działa bez zarzutu", "łatwo znalazłem to, czego szukałem"],
            ["strona zawiesiła się przy zamówieniu", "aplikacja wylogowuje mnie co chwilę",
             "filtry w sklepie internetowym nie działają"],
        ),
        "call_centre": (
            ["konsultantka na infolinii od razu rozwiązała problem", "infolinia odebrała po minucie"],
            [("na infolinii każdy konsultant zaczynał od zera", "każdemu konsultantowi musiałem tłumaczyć wszystko od początku"), ("czekałem na połączenie 40 minut", "na infolinii wisiałem ponad pół godziny"),
             ("infolinia obiecała oddzwonić i nikt nie oddzwonił", "obiecali oddzwonić, nikt się nie odezwał")],
        ),
        "availability": (
            ["produkt był od ręki dostępny w magazynie", "wszystko było na stanie"],
            ["produkt był niedostępny przez miesiąc", "po zamówieniu okazało się, że towaru nie ma"],
        ),
        "payment": (
            ["płatność BLIK błyskawiczna", "raty załatwione w pięć minut"],
            ["płatność kartą została pobrana dwa razy", "system płatności odrzucał moją kartę"],
        ),
    },
    "it": {
        "delivery": (
            [("la consegna è stata veloce e puntuale", "consegna rapida e nei tempi", "hanno consegnato presto e all'ora giusta"), ("il corriere è arrivato all'orario concordato", "il corriere è stato puntualissimo", "il corriere si è presentato proprio all'ora stabilita"),
             ("il pacco è arrivato il giorno dopo", "il pacco era da me già il giorno successivo", "ordine arrivato in ventiquattro ore"), "i fattorini hanno portato il frigo al terzo piano senza problemi"],
            [("il corriere ha consegnato all'indirizzo di fatturazione invece che a quello di consegna", "la merce è finita all'indirizzo della fattura e non a quello di consegna", "hanno portato tutto all'indirizzo di fatturazione anziché a casa mia"),
             ("la consegna è arrivata con una settimana di ritardo", "la consegna ha tardato di una settimana intera", "ho ricevuto l'ordine una settimana dopo la data promessa"), ("ho aspettato a casa tre volte il corriere", "sono rimasto a casa tre giorni ad aspettare il corriere, mai arrivato"),
             ("la lavatrice è arrivata ammaccata", "l'elettrodomestico è arrivato con un'ammaccatura sul fianco")],
        ),
        "installation": (
            [("il tecnico è stato molto professionale", "il tecnico è stato bravissimo e preciso", "tecnico competente, ha spiegato tutto"), ("l'installazione della lavastoviglie è stata rapida", "montaggio fatto in poco tempo e a regola d'arte"),
             ("il montatore ha lasciato tutto pulito", "dopo l'installazione hanno lasciato tutto in ordine")],
            ["il tecnico è arrivato in ritardo e ha lasciato sporco", "l'installazione ha richiesto tre visite",
             "il montatore non aveva i pezzi necessari"],
        ),
        "product_quality": (
            ["la lavatrice è silenziosa e lava benissimo", "il televisore ha un'immagine splendida",
             "prodotto solido e ben fatto"],
            [("il frigorifero perde acqua dopo un mese", "dopo qualche settimana il frigo ha cominciato a perdere acqua"), "l'aspirapolvere si è rotto dopo due settimane",
             "lo schermo ha pixel difettosi"],
        ),
        "price": (
            ["prezzi molto convenienti", "ottimo prezzo in promozione", "più economico che altrove"],
            [("troppo caro rispetto alla concorrenza", "altrove lo stesso modello costava molto meno"), "il prezzo è aumentato il giorno dell'ordine",
             "spese di consegna esagerate"],
        ),
        "staff": (
            ["il commesso in negozio mi ha consigliato benissimo", "personale gentile e disponibile",
             "la cassiera è stata molto cortese"],
            ["il commesso era scortese e non conosceva i prodotti", "in negozio nessuno voleva aiutarmi",
             "il personale ha ignorato le mie domande"],
        ),
        "returns": (
            ["il rimborso è arrivato in tre giorni", "il reclamo è stato gestito in modo rapido e corretto"],
            [("il reclamo rimbalza da un reparto all'altro da un mese", "da un mese il mio reclamo passa da un ufficio all'altro"),
             ("al mio reclamo hanno risposto solo con un ringraziamento automatico", "al reclamo è arrivata solo una risposta automatica di ringraziamento"),
             ("aspetto il rimborso da sei settimane", "il rimborso non è ancora arrivato dopo sei settimane")],
        ),
        "website": (
            ["il sito è chiaro e facile da usare", "l'app funziona perfettamente"],
            ["il sito si è bloccato durante l'ordine", "l'app mi disconnette continuamente"],
        ),
        "call_centre": (
            ["l'operatrice del call center ha risolto subito il problema", "al numero verde hanno risposto in un minuto"],
            [("al call center ogni operatore ricominciava da capo", "a ogni chiamata ho dovuto rispiegare tutto da zero"), "ho aspettato in linea 40 minuti",
             ("avevano promesso di richiamarmi e nessuno l'ha fatto", "dovevano richiamarmi, sto ancora aspettando")],
        ),
        "availability": (
            ["il prodotto era subito disponibile", "tutto era disponibile in magazzino"],
            ["il prodotto non era disponibile per un mese", "dopo l'ordine mi hanno detto che non c'era"],
        ),
        "payment": (
            ["pagamento semplice e veloce", "il finanziamento è stato approvato in cinque minuti"],
            ["il pagamento con carta è stato addebitato due volte", "il sistema rifiutava la mia carta"],
        ),
    },
    "ru": {
        "delivery": (
            [("доставка была быстрой и точной", "привезли быстро и вовремя"), "курьер приехал точно в оговорённое время",
             "заказ привезли уже на следующий день"],
            [("курьер привёз товар на адрес из счёта вместо адреса доставки", "заказ отвезли на адрес из счёта, а не на адрес доставки"), "доставка опоздала на неделю",
             "три раза ждал курьера дома, а он не приехал", "стиральную машину привезли с вмятиной"],
        ),
        "installation": (
            ["мастер по установке был профессионалом", "установка посудомойки прошла быстро",
             "монтажник убрал за собой"],
            ["монтажник опоздал и оставил грязь", "установка заняла три визита", "у мастера не было нужных деталей"],
        ),
        "product_quality": (
            ["стиральная машина тихая и отлично стирает", "у телевизора прекрасная картинка",
             "техника качественная и надёжная"],
            ["холодильник потёк через месяц", "пылесос сломался через две недели", "на экране битые пиксели"],
        ),
        "price": (
            ["цены очень выгодные", "хорошая цена по акции", "дешевле, чем в других магазинах"],
            ["слишком дорого по сравнению с конкурентами", "цена выросла в день заказа", "доставка неоправданно дорогая"],
        ),
        "staff": (
            ["продавец в магазине толково проконсультировал", "персонал вежливый и внимательный"],
            ["продавец был грубым и не знал товар", "в магазине никто не хотел помочь"],
        ),
        "returns": (
            ["деньги вернули за три дня", "претензию рассмотрели быстро и честно"],
            ["жалобу месяц пересылают из отдела в отдел", "на жалобу пришло только автоматическое спасибо",
             "шесть недель жду возврата денег"],
        ),
        "website": (
            ["сайт удобный и понятный", "приложение работает без сбоев"],
            ["сайт завис при оформлении заказа", "приложение постоянно выкидывает из аккаунта"],
        ),
        "call_centre": (
            ["оператор горячей линии сразу решил вопрос", "на горячей линии ответили через минуту"],
            ["на горячей линии каждый оператор начинал всё с нуля", "ждал ответа оператора 40 минут",
             "обещали перезвонить и никто не перезвонил"],
        ),
        "availability": (
            ["товар был в наличии", "всё нужное было на складе"],
            ["товара не было в наличии целый месяц", "после заказа оказалось, что товара нет"],
        ),
        "payment": (
            ["оплата прошла быстро", "рассрочку оформили за пять минут"],
            ["с карты списали деньги дважды", "система оплаты отклоняла мою карту"],
        ),
    },
    "en": {
        "delivery": (
            [("delivery was fast and on time", "quick delivery, right on schedule"), "the driver arrived exactly when promised",
             "the parcel came the very next day", "the crew carried the fridge up three floors without fuss"],
            [("the courier delivered to the invoice address instead of the delivery address", "it went to my billing address instead of the delivery address"),
             "delivery was a week late", "I waited at home three times and the courier never came",
             "the washing machine arrived dented"],
        ),
        "installation": (
            ["the installer was a real professional", "installation of the dishwasher was quick",
             "the fitter cleaned up after himself"],
            ["the installer was late and left a mess", "installation took three visits",
             "the fitter did not have the right parts"],
        ),
        "product_quality": (
            ["the washing machine is quiet and washes very well", "the TV has a superb picture", "solid, well-built product"],
            ["the fridge started leaking after a month", "the vacuum cleaner broke after two weeks",
             "the screen has dead pixels"],
        ),
        "price": (
            ["prices are very competitive", "great price in the sale", "cheaper than elsewhere"],
            ["too expensive compared with other shops", "the price went up on the day I ordered",
             "delivery charges are excessive"],
        ),
        "staff": (
            ["the sales assistant gave really good advice", "staff in the store were friendly and helpful"],
            ["the sales assistant was rude and knew nothing about the products",
             "nobody in the store wanted to help me"],
        ),
        "returns": (
            ["I got my refund in three days", "the complaint was handled quickly and fairly"],
            ["my complaint has been passed between departments for a month",
             "my complaint got nothing but an automatic thank-you", "I have been waiting six weeks for a refund"],
        ),
        "website": (
            ["the website is clear and easy to use", "the app works flawlessly"],
            ["the website froze at checkout", "the app keeps logging me out"],
        ),
        "call_centre": (
            ["the call centre agent solved it straight away", "the hotline answered within a minute"],
            ["every call centre agent started from zero", "I was on hold for 40 minutes",
             "they promised to call back and nobody did"],
        ),
        "availability": (
            ["the product was in stock", "everything I needed was available"],
            ["the product was out of stock for a month", "after I ordered they told me it was not available"],
        ),
        "payment": (
            ["payment was quick and simple", "the instalment plan took five minutes"],
            ["my card was charged twice", "the payment system kept rejecting my card"],
        ),
    },
    "uk": {
        "delivery": (
            ["доставка була швидкою", "кур'єр приїхав вчасно"],
            ["кур'єр привіз товар на адресу з рахунку замість адреси доставки", "доставка запізнилася на тиждень"],
        ),
        "installation": (
            ["майстер з встановлення був професіоналом", "встановлення пройшло швидко"],
            ["монтажник запізнився і залишив безлад", "встановлення зайняло три візити"],
        ),
        "product_quality": (
            ["пральна машина тиха і добре пере", "техніка якісна"],
            ["холодильник почав протікати через місяць", "пилосос зламався за два тижні"],
        ),
        "price": (["ціни вигідні", "дешевше, ніж деінде"], ["занадто дорого", "доставка надто дорога"]),
        "staff": (["продавець добре порадив", "персонал привітний"], ["продавець був грубий", "ніхто не хотів допомогти"]),
        "returns": (
            ["гроші повернули за три дні"],
            ["скаргу місяць пересилають між відділами", "на скаргу прийшла лише автоматична подяка"],
        ),
        "website": (["сайт зручний", "застосунок працює добре"], ["сайт завис під час замовлення"]),
        "call_centre": (
            ["оператор одразу вирішив питання"],
            ["на гарячій лінії кожен оператор починав з нуля", "чекав на лінії 40 хвилин"],
        ),
        "availability": (["товар був у наявності"], ["товару не було місяць"]),
        "payment": (["оплата пройшла швидко"], ["з картки списали гроші двічі"]),
    },
}

OPENERS = {
    "pl": (["Ogólnie jestem zadowolony.", "Polecam!", "Bardzo dobre doświadczenie."],
           ["Niestety, duże rozczarowanie.", "Nie polecam.", "Jestem bardzo niezadowolona."]),
    "it": (["Nel complesso sono soddisfatto.", "Consiglio!", "Ottima esperienza."],
           ["Purtroppo una grande delusione.", "Non lo consiglio.", "Sono molto insoddisfatta."]),
    "ru": (["В целом доволен.", "Рекомендую!", "Отличный опыт."],
           ["К сожалению, большое разочарование.", "Не рекомендую.", "Очень недовольна."]),
    "en": (["Overall I am happy.", "Recommended!", "Great experience."],
           ["Sadly, a big disappointment.", "Would not recommend.", "Very unhappy."]),
    "uk": (["Загалом задоволений.", "Рекомендую!"], ["На жаль, розчарування.", "Не рекомендую."]),
}
SHORT = {
    "pl": (["Super!", "Wszystko ok", "Polecam", "Bez zarzutu"], ["Długo czekałem", "Porażka", "Słabo"]),
    "it": (["Tutto perfetto", "Ottimo!", "Bravi"], ["Pessimo", "Ho aspettato troppo", "Deludente"]),
    "ru": (["Всё отлично", "Супер!", "Спасибо"], ["Ужасно", "Долго ждал", "Плохо"]),
    "en": (["Great", "All good", "Perfect!"], ["Terrible", "Waited too long", "Poor"]),
    "uk": (["Все чудово", "Дякую!"], ["Жахливо", "Довго чекав"]),
}
AND = {"pl": "i", "it": "e", "ru": "и", "en": "and", "uk": "і"}
BUT = {"pl": ["ale", "jednak"], "it": ["ma", "però"], "ru": ["но", "однако"], "en": ["but", "however"],
       "uk": ["але", "проте"]}

# The two stories the demo must tell (see PRODUCT.md).
FRIDGE_STORY = (
    "Lodówkę dostarczano CZTERY razy pod adres z faktury zamiast pod adres dostawy. Za każdym razem "
    "dzwoniłam na infolinię i każdy konsultant zaczynał od zera, bo działy nie przekazują sobie informacji. "
    "Na reklamację dostałam automatyczne „dziękujemy, wyciągniemy wnioski”. Żądam kontaktu od osoby, która "
    "naprawdę się tym zajmie."
)
SOCIAL_STORY = (
    "@Voltaro trzeci tydzień czekam na odpowiedź w sprawie zepsutej zmywarki. Piszę tu publicznie, bo na "
    "infolinii nikt nie pomógł. Czy ktoś tu w ogóle czyta wiadomości?"
)

# -- wording: what makes two customers' comments on the same experience read differently ----------------
# A signature (a first name, sometimes a town) or a closing sentence after the opinion. Sentences that
# mention a product or a purchase were tried and left out: the factor model reads product quality or
# the call centre ("a phone") into a quarter of them, which would put factors into comments that do not
# name them.
TOWNS = {  # "from <town>"
    "pl": ["z Warszawy", "z Krakowa", "z Łodzi", "z Wrocławia", "z Poznania", "z Gdańska", "z Katowic", "z Lublina",
           "ze Szczecina", "z Białegostoku", "z Torunia", "z Rzeszowa", "spod Kielc", "z Opola"],
    "it": ["da Milano", "da Roma", "da Torino", "da Napoli", "da Bologna", "da Firenze", "da Verona", "da Bari",
           "da Padova", "da Brescia", "da Monza", "da Bergamo"],
    "ru": ["из Варшавы", "из Кракова", "из Лодзи", "из Вроцлава", "из Гданьска", "из Познани"],
    "en": ["from Warsaw", "from Kraków", "from Milan", "from Rome", "from Gdańsk", "from Turin"],
    "uk": ["з Варшави", "з Кракова", "з Вроцлава", "з Познані", "з Гданська"],
}
SIGN = {  # (after praise, after blame): {n} a first name, {t} a town; no warm greeting under a complaint
    "pl": (["Pozdrawiam, {n}", "{n} {t}", "Pozdrawiam serdecznie, {n} {t}", "{n}, stała klientka",
            "Pozdrowienia {t}, {n}", "— {n}"], ["{n} {t}", "— {n}", "{n}, klientka od lat", "{n}"]),
    "it": (["Saluti, {n}", "{n} {t}", "Un saluto {t}, {n}", "Cordiali saluti, {n}", "— {n}"],
           ["{n} {t}", "— {n}", "{n}, cliente da anni", "{n}"]),
    "ru": (["С уважением, {n}", "{n} {t}", "Привет {t}, {n}", "— {n}"], ["{n} {t}", "— {n}", "{n}"]),
    "en": (["Regards, {n}", "{n} {t}", "Cheers, {n}", "Best wishes {t}, {n}", "— {n}"], ["{n} {t}", "— {n}", "{n}"]),
    "uk": (["З повагою, {n}", "{n} {t}", "— {n}"], ["{n} {t}", "— {n}", "{n}"]),
}
CLOSERS = {  # (positive, negative)
    "pl": (["Dziękuję!", "Dziękuję, oby tak dalej.", "Pięć gwiazdek.", "Polecam znajomym.", "Będę polecać."],
           ["Szkoda nerwów.", "Więcej tu nie kupię.", "Mam nadzieję, że ktoś to przeczyta.", "Tak się nie robi.",
            "Jestem rozczarowana."]),
    "it": (["Grazie!", "Ci tornerò sicuramente.", "Cinque stelle.", "Lo consiglierò agli amici.", "Continuate così."],
           ["Che peccato.", "Non comprerò più qui.", "Spero che qualcuno legga.", "Così non va.",
            "Sono delusa."]),
    "ru": (["Спасибо!", "Пять звёзд.", "Посоветую друзьям."], ["Жаль потраченных нервов.", "Надеюсь, кто-то это прочитает."]),
    "en": (["Thank you!", "Five stars."], ["What a waste of time.", "Won't buy here again.", "I hope someone reads this."]),
    "uk": (["Дякую!", "Обов'язково повернуся."], ["Більше тут не куплю."]),
}
LEADS = {  # (positive, negative): words that lead into an opinion without naming anything
    "pl": (["Muszę przyznać, że", "Szczerze mówiąc,", "Tym razem", "Jak zawsze", "Co ważne,", "Miło, że",
            "Tak jak w opisie,", "Bez dwóch zdań"],
           ["Niestety", "Niestety tym razem", "Szczerze mówiąc,", "No cóż,", "Niestety znowu", "Muszę napisać, że",
            "Niestety muszę przyznać, że", "Cóż,"]),
    "it": (["Devo dire che", "Sinceramente", "Questa volta", "Come sempre", "Per fortuna", "Senza dubbio"],
           ["Purtroppo", "Purtroppo questa volta", "Sinceramente", "Beh,", "Purtroppo di nuovo", "Devo dire che"]),
    "ru": (["Должен сказать, что", "Честно говоря,", "В этот раз", "Как всегда,", "Приятно, что"],
           ["К сожалению,", "Увы,", "Честно говоря,", "Опять", "Должна сказать, что"]),
    "en": (["I must say", "Honestly,", "This time", "As always,", "Happily,"],
           ["Unfortunately", "Sadly", "Honestly,", "Once again", "I have to say"]),
    "uk": (["Мушу сказати, що", "Чесно кажучи,", "Як завжди,"], ["На жаль,", "Чесно кажучи,", "Знову"]),
}
ALSO = {"pl": ["Do tego", "Poza tym", "A także", "Dodatkowo"], "it": ["Inoltre", "E poi", "Anche"],
        "ru": ["Кроме того", "А ещё", "Также"], "en": ["Also", "Plus", "On top of that"], "uk": ["Крім того", "А ще"]}


class Wording:
    """Puts a comment into words: picks among a phrase's wordings, adds a closing sentence or a signature
    after the opinion, varies connectors, order, punctuation and case, and now and then
    makes a typo. Draws only from its own generator, so the generator that decides what customers
    experience, and everything drawn after a comment, stays the same whatever the wording."""

    def __init__(self, rng, names: dict[str, list[str]] | None = None):
        self.rng = rng
        self.names = names or {}  # first names by language, for signatures

    def _pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def _one(self, phrase):
        return self._pick(phrase) if isinstance(phrase, tuple) else phrase

    def short(self, text) -> str:
        return self._one(text)

    def compose(self, lang: str, parts: list, same: bool, joiner: str | None, end: str, opener,
                positive: bool) -> str:
        """``parts``: one or two factor phrases (a phrase or a tuple of its wordings); ``same``: whether two
        parts share their polarity; ``joiner``: the contrast word between parts of opposite polarity;
        ``end``: the punctuation; ``opener``: an opening sentence (or wordings) or None."""
        rng = self.rng
        words = [self._one(x) for x in parts]
        if rng.random() < 0.5:
            words[0] = self._pick(LEADS[lang][0 if positive else 1]) + " " + words[0]
        if len(words) == 2:
            if same and rng.random() < 0.3:
                words.reverse()
            if not same:
                body = f"{words[0]}, {joiner} {words[1]}"
            elif rng.random() < 0.4:  # two sentences
                body = f"{words[0]}. {self._pick(ALSO[lang])} {words[1]}"
            else:
                body = f"{words[0]} {AND[lang]} {words[1]}" if rng.random() < 0.7 else f"{words[0]}, {words[1]}"
        else:
            body = words[0]
        body = body[0].upper() + body[1:] + end
        sentences = [body]
        if opener is not None:
            sentences.insert(0, self._one(opener))
        if rng.random() < 0.35:
            sentences.append(self._pick(CLOSERS[lang][0 if positive else 1]))
        if rng.random() < 0.55 and self.names.get(lang):
            sign = self._pick(SIGN[lang][0 if positive else 1])
            sentences.append(sign.format(n=self._pick(self.names[lang]), t=self._pick(TOWNS[lang])))
        text = " ".join(s if s[-1] in ".!?" else s + "." for s in sentences[:-1]) + " " + sentences[-1] \
            if len(sentences) > 1 else sentences[0]
        if rng.random() < 0.12:
            text = self.typo(text)
        if rng.random() < 0.05:
            text = text.lower()
        return text

    def typo(self, text: str) -> str:
        """One slip of the fingers inside a word: two letters swapped, one dropped or one doubled."""
        spots = [i for i in range(1, len(text) - 2) if text[i].isalpha() and text[i + 1].isalpha()]
        if not spots:
            return text
        i = self._pick(spots)
        kind = int(self.rng.integers(3))
        if kind == 0:
            return text[:i] + text[i + 1] + text[i] + text[i + 2:]
        return text[:i] + text[i + 1:] if kind == 1 else text[:i] + text[i] + text[i:]
