"""What the demo company's customers write, by language, factor and polarity.

Comments are assembled from these pieces (an opener, one or two factor phrases joined by a word that
fits their polarities, sometimes a closer), so wording varies and no factor has a single template.
The factor ids are those of the ``retail`` taxonomy.
"""

from __future__ import annotations

FACTORS = ("delivery", "installation", "product_quality", "price", "staff", "returns", "website",
           "call_centre", "availability", "payment")

P: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "pl": {
        "delivery": (
            ["dostawa była szybka i punktualna", "kurier przyjechał dokładnie o umówionej porze",
             "przesyłka dotarła już następnego dnia", "kierowcy wnieśli lodówkę na trzecie piętro bez problemu"],
            ["kurier przywiózł towar pod adres z faktury zamiast pod adres dostawy",
             "dostawa spóźniła się o cały tydzień", "trzy razy czekałem w domu na kuriera, który nie przyjechał",
             "pralka przyjechała z wgniecioną obudową", "nikt nie uprzedził mnie o zmianie terminu dostawy"],
        ),
        "installation": (
            ["monter był fachowcem i wszystko dokładnie wyjaśnił", "montaż zmywarki poszedł sprawnie",
             "instalator posprzątał po sobie, pełen profesjonalizm", "podłączenie płyty poszło szybko i bez problemów"],
            ["montażysta się spóźnił i zostawił bałagan", "instalacja trwała trzy wizyty",
             "monter nie miał potrzebnych części"],
        ),
        "product_quality": (
            ["pralka działa cicho i świetnie pierze", "telewizor ma znakomity obraz", "sprzęt solidnie wykonany"],
            ["lodówka zaczęła przeciekać po miesiącu", "odkurzacz zepsuł się po dwóch tygodniach",
             "ekran ma martwe piksele"],
        ),
        "price": (
            ["ceny bardzo konkurencyjne", "dobra cena w promocji", "taniej niż w innych sklepach"],
            ["za drogo w porównaniu z konkurencją", "cena wzrosła w dniu zamówienia", "koszt dostawy przesadzony"],
        ),
        "staff": (
            ["sprzedawca w salonie doradził bardzo rzeczowo", "obsługa w sklepie miła i pomocna",
             "pani przy kasie była bardzo uprzejma"],
            ["sprzedawca był niemiły i nie znał produktów", "w sklepie nikt nie chciał mi pomóc",
             "obsługa zignorowała moje pytania"],
        ),
        "returns": (
            ["zwrot pieniędzy dostałem w trzy dni", "reklamację rozpatrzono szybko i uczciwie"],
            ["reklamacja krąży między działami od miesiąca", "na skargę dostałem tylko automatyczne podziękowanie",
             "każdy dział odsyła mnie do innego", "od sześciu tygodni czekam na zwrot pieniędzy"],
        ),
        "website": (
            ["strona internetowa jest przejrzysta", "aplikacja działa bez zarzutu", "łatwo znalazłem to, czego szukałem"],
            ["strona zawiesiła się przy zamówieniu", "aplikacja wylogowuje mnie co chwilę",
             "filtry w sklepie internetowym nie działają"],
        ),
        "call_centre": (
            ["konsultantka na infolinii od razu rozwiązała problem", "infolinia odebrała po minucie"],
            ["na infolinii każdy konsultant zaczynał od zera", "czekałem na połączenie 40 minut",
             "infolinia obiecała oddzwonić i nikt nie oddzwonił"],
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
            ["la consegna è stata veloce e puntuale", "il corriere è arrivato all'orario concordato",
             "il pacco è arrivato il giorno dopo", "i fattorini hanno portato il frigo al terzo piano senza problemi"],
            ["il corriere ha consegnato all'indirizzo di fatturazione invece che a quello di consegna",
             "la consegna è arrivata con una settimana di ritardo", "ho aspettato a casa tre volte il corriere",
             "la lavatrice è arrivata ammaccata"],
        ),
        "installation": (
            ["il tecnico è stato molto professionale", "l'installazione della lavastoviglie è stata rapida",
             "il montatore ha lasciato tutto pulito"],
            ["il tecnico è arrivato in ritardo e ha lasciato sporco", "l'installazione ha richiesto tre visite",
             "il montatore non aveva i pezzi necessari"],
        ),
        "product_quality": (
            ["la lavatrice è silenziosa e lava benissimo", "il televisore ha un'immagine splendida",
             "prodotto solido e ben fatto"],
            ["il frigorifero perde acqua dopo un mese", "l'aspirapolvere si è rotto dopo due settimane",
             "lo schermo ha pixel difettosi"],
        ),
        "price": (
            ["prezzi molto convenienti", "ottimo prezzo in promozione", "più economico che altrove"],
            ["troppo caro rispetto alla concorrenza", "il prezzo è aumentato il giorno dell'ordine",
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
            ["il reclamo rimbalza da un reparto all'altro da un mese",
             "al mio reclamo hanno risposto solo con un ringraziamento automatico",
             "aspetto il rimborso da sei settimane"],
        ),
        "website": (
            ["il sito è chiaro e facile da usare", "l'app funziona perfettamente"],
            ["il sito si è bloccato durante l'ordine", "l'app mi disconnette continuamente"],
        ),
        "call_centre": (
            ["l'operatrice del call center ha risolto subito il problema", "al numero verde hanno risposto in un minuto"],
            ["al call center ogni operatore ricominciava da capo", "ho aspettato in linea 40 minuti",
             "avevano promesso di richiamarmi e nessuno l'ha fatto"],
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
            ["доставка была быстрой и точной", "курьер приехал точно в оговорённое время",
             "заказ привезли уже на следующий день"],
            ["курьер привёз товар на адрес из счёта вместо адреса доставки", "доставка опоздала на неделю",
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
            ["delivery was fast and on time", "the driver arrived exactly when promised",
             "the parcel came the very next day", "the crew carried the fridge up three floors without fuss"],
            ["the courier delivered to the invoice address instead of the delivery address",
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
