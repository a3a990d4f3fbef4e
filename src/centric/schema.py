"""The data model of centric: every table, column, type and allowed value, defined once.

Everything else derives from here: the store's DDL (``ddl()``), the ingest's column recognition
and validation (``Column.aliases``, ``Column.allowed``, ``Column.range``) and the documentation in
``docs/data-model.md`` (``markdown()``; a test fails when the file and this module disagree).

The table names and the columns ``amount``, ``text`` and ``language`` are a public interface:
people query the store with SQL.

Customer identity: ``customer_id`` is centric's own id (``C0000001`` …). The ids, e-mails, phone
numbers, handles and loyalty cards found in source files are *identities* that resolve to a
customer (see ``IDENTITY_INPUTS`` and ``docs/data-model.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 11

# Logical types and their DuckDB storage types.
SQL_TYPES = {
    "text": "VARCHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "number": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "enum": "VARCHAR",
    "json": "VARCHAR",
}

IDENTITY_KINDS = ("crm_id", "email", "phone", "handle", "loyalty_card")
FEEDBACK_SOURCES = (
    "review", "social", "complaint", "chat", "email", "survey_comment", "mystery_shopper", "observation",
)
# texts the company writes itself (mystery shoppers' visit notes, managers' store observation notes): analysed like
# the others, kept out of the customers' factor analysis (centric drivers, the 5 whys, the alerts on factors)
COMPANY_SOURCES = ("mystery_shopper", "observation")
# new → assigned → in_progress ⇄ waiting (for the customer) → resolved → closed; "open" is a state of
# cases imported from a helpdesk export (opened, not yet assigned or worked).
CASE_STATUSES = ("new", "open", "assigned", "in_progress", "waiting", "resolved", "closed")
CASE_PRIORITIES = ("low", "normal", "high", "urgent")
CASE_EVENT_KINDS = (
    "opened", "assigned", "transferred", "customer_contact", "agent_response", "auto_reply",
    "escalated", "resolved", "reopened", "closed", "note",
    # written by the closed loop (centric.cases); see docs/cases.md
    "signal", "started", "waiting", "priority", "confirmation_sent", "confirmed", "not_solved", "sla_breached",
)
CASE_ORIGINS = ("import", "signal", "proactive", "manual", "mystery")
CASE_CLOCKS = ("first_response", "next_response", "resolution", "confirmation")
CLOCK_STATES = ("on_track", "at_risk", "breached", "paused", "met")
SIGNAL_KINDS = ("complaint", "survey", "review", "social", "proactive", "mystery")
RUN_STATUSES = ("stored", "duplicate_file", "replaced")
# new → under_review → planned → done, or declined (see centric.ideas)
IDEA_STATUSES = ("new", "under_review", "planned", "done", "declined")
IDEA_AUTHORS = ("customer", "employee")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``kind`` refines how ingest parses the value: ``email``, ``phone``, ``handle``, ``currency``,
    ``country``, ``language`` or ``key`` (a row's identifier; derived from the row's content when a
    file has none). ``aliases`` are the column names recognised in source files (English, Polish,
    Russian, Italian); matching ignores case, spaces, dashes and underscores.
    """

    name: str
    type: str
    doc: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None
    kind: str | None = None
    aliases: tuple[str, ...] = ()
    ingested: bool = True  # False: set by centric, never read from a file
    since: int = 1  # the schema version that added the column (to a table that existed before)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    def describe_allowed(self) -> str:
        if self.allowed:
            return ", ".join(self.allowed)
        if self.range:
            lo, hi = self.range
            return f"{lo:g}–{hi:g}"
        return {
            "email": "a valid e-mail address, stored lower-cased",
            "phone": "stored in E.164 (+48…), national numbers get the default country",
            "handle": "lower-cased, without a leading @",
            "currency": "ISO 4217 code, upper-case",
            "country": "ISO 3166 alpha-2 code, upper-case",
            "language": "ISO 639-1 code, lower-case",
            "key": "unique; derived from the row's content when the file has no id",
        }.get(self.kind or "", "")


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: str | None = None  # the column that identifies a row; duplicates are skipped on load
    ingestable: bool = True
    customer_ref: str = "none"  # "required", "optional" or "none": identity inputs resolve to customer_id
    one_of: tuple[str, ...] = ()  # at least one of these must be present in each row
    since: int = 1  # the schema version that added the table

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


DATE_ALIASES = ("date", "datetime", "timestamp", "time", "data", "дата", "дата и время", "czas", "data i godzina")
CHANNEL = Column(
    "channel", "text", "Channel: online, store, call_centre, app, social, email, chat … (lower-cased).",
    aliases=("channel", "kanał", "kanal", "канал", "canale", "kanał sprzedaży", "sales channel"),
)
TOUCHPOINT = Column(
    "touchpoint", "text", "Touchpoint, e.g. delivery, installation, support, checkout (lower-cased).",
    aliases=("touchpoint", "touch point", "punkt styku", "punkt kontaktu", "точка контакта", "точка касания",
             "punto di contatto", "touchpoint name"),
)
LANGUAGE = Column(
    "language", "text", "Language of the text (ISO 639-1), detected when not given.", kind="language",
    aliases=("language", "lang", "język", "jezyk", "язык", "lingua", "locale"),
)
STORE = Column(
    "store", "text", "Store (unit) the answer or text concerns, as named in `units` and `orders.store`.",
    aliases=("store", "shop", "outlet", "sklep", "salon", "магазин", "negozio", "punto vendita"), since=9,
)
CUSTOMER_ID = Column(
    "customer_id", "text", "centric's customer id, resolved from the identities in the row.",
    ingested=False,
)
CUSTOMER_KEY = Column(
    "customer_key", "integer", "The number in `customer_id` (C0000042 → 42), kept beside it so that queries "
    "join answers to customers on an integer (`customer_key_sql`); NULL when there is no customer. Set by "
    "centric, never read from a file.", ingested=False, since=11,
)


def customer_key_sql(column: str = '"customer_id"') -> str:
    """SQL, the same on DuckDB and PostgreSQL, for the integer key of the customer id in ``column``: the number
    of a canonical id as identity resolution writes it (``printf('C%07d', n)``: C and at least seven digits,
    without a leading zero beyond seven; at most nine digits, so that it fits an INTEGER), NULL for any other
    text. Two different ids never get one key."""
    c = column
    return (f"CASE WHEN length({c}) BETWEEN 8 AND 10 AND substr({c}, 1, 1) = 'C' "
            f"AND ltrim(substr({c}, 2), '0123456789') = '' AND (length({c}) = 8 OR substr({c}, 2, 1) <> '0') "
            f"THEN CAST(substr({c}, 2) AS INTEGER) END")


@dataclass(frozen=True)
class Backfill:
    """A column added by a schema version, filled in the rows that existed before: ``value`` (SQL over the row's
    columns) where ``where`` holds; the other rows keep theirs (NULL, in a column just added)."""

    table: str
    column: str
    value: str
    where: str

    def sql(self) -> str:
        """The UPDATE that fills it in a table (a DuckDB store's migration)."""
        return f'UPDATE "{self.table}" SET "{self.column}" = {self.value} WHERE {self.where}'

    def projection(self, otherwise: str = "NULL") -> str:
        """The column as a SELECT over the table's old rows computes it (a lake's migration, streamed);
        ``otherwise``: the rows' value where ``where`` does not hold."""
        return f"CASE WHEN {self.where} THEN {self.value} ELSE {otherwise} END"


# what is filled after a version's tables and columns are added (existing rows filled in). PostgreSQL's store
# skips it (``centric.engines.postgres``): it never reads the customer keys (``customer_keys.ENGINES``), and
# filling them would rewrite every answer under the migration's lock; a NULL key is never wrong.
BACKFILLS: dict[int, list[Backfill]] = {
    11: [Backfill(t, "customer_key", customer_key_sql(), '"customer_id" IS NOT NULL')
         for t in ("customers", "responses")],
}

# Identity inputs: source columns that identify a customer. They are stored in `identities`,
# not in the row itself, and resolve to `customer_id`.
IDENTITY_INPUTS: dict[str, Column] = {
    "crm_id": Column(
        "crm_id", "text", "The customer's id in the source system (CRM, shop, loyalty programme).",
        aliases=("customer_id", "customer_ref", "customer", "client_id", "client", "crm_id", "crm id",
                 "customer number", "customer_no", "id klienta", "id_klienta", "nr klienta", "numer klienta",
                 "klient id", "id клиента", "идентификатор клиента", "номер клиента", "код клиента",
                 "id cliente", "codice cliente", "cliente id", "id_cliente", "codice_cliente"),
    ),
    "email": Column(
        "email", "text", "E-mail address.", kind="email",
        aliases=("email", "e-mail", "e_mail", "mail", "email address", "e-mail address", "adres e-mail",
                 "adres email", "adres mailowy", "электронная почта", "эл. почта", "эл почта", "почта",
                 "email клиента", "indirizzo email", "indirizzo e-mail", "posta elettronica"),
    ),
    "phone": Column(
        "phone", "text", "Phone number.", kind="phone",
        aliases=("phone", "phone number", "phone_number", "telephone", "tel", "tel.", "mobile", "msisdn",
                 "telefon", "nr telefonu", "numer telefonu", "телефон", "номер телефона", "моб. телефон",
                 "telefono", "numero di telefono", "cellulare", "numero telefono"),
    ),
    "handle": Column(
        "handle", "text", "Social-media handle or username.", kind="handle",
        aliases=("handle", "social handle", "social_handle", "username", "user name", "author_handle",
                 "nick", "nickname", "login", "profil", "ник", "никнейм", "аккаунт", "nome utente",
                 "account"),
    ),
    "loyalty_card": Column(
        "loyalty_card", "text", "Loyalty-card number.",
        aliases=("loyalty_card", "loyalty card", "card", "card number", "card_number", "karta",
                 "karta lojalnościowa", "nr karty", "numer karty", "карта", "карта лояльности", "номер карты",
                 "carta fedeltà", "carta fedelta", "numero carta"),
    ),
}

TABLES: dict[str, Table] = {}


def _add(t: Table) -> None:
    TABLES[t.name] = t


_add(Table(
    "customers",
    "One row per person. Created by ingesting a customers file, or by any row whose identities are new.",
    (
        Column("customer_id", "text", "centric's customer id (C0000001 …).", required=True, ingested=False),
        Column("name", "text", "Full name.", aliases=("name", "full name", "full_name", "customer name",
               "customer_name", "imię i nazwisko", "imie i nazwisko", "nazwa klienta", "nazwisko",
               "имя", "фио", "ф.и.о.", "имя клиента", "nome", "nome e cognome", "nominativo", "cliente")),
        Column("segment", "text", "Customer segment (free text, e.g. b2c, b2b, vip).",
               aliases=("segment", "сегмент", "segmento", "customer segment", "segment klienta")),
        Column("country", "text", "Country (ISO 3166 alpha-2).", kind="country",
               aliases=("country", "kraj", "страна", "paese", "nazione", "country code")),
        Column("language", "text", "Preferred language (ISO 639-1).", kind="language",
               aliases=LANGUAGE.aliases),
        Column("city", "text", "City.", aliases=("city", "town", "miasto", "miejscowość", "город", "città",
                                                  "citta", "comune")),
        Column("first_seen_at", "timestamp", "When centric first saw this customer (UTC).", ingested=False),
        Column("updated_at", "timestamp", "Last change of this row (UTC).", ingested=False),
        CUSTOMER_KEY,
    ),
    key="customer_id",
    customer_ref="required",
))

_add(Table(
    "identities",
    "Every identity seen, normalised, with the customer it resolves to. Records sharing any identity "
    "belong to one customer (transitively).",
    (
        Column("kind", "enum", "What the value is.", required=True, allowed=IDENTITY_KINDS),
        Column("value", "text", "Normalised value (e-mail lower-cased, phone E.164, handle without @).",
               required=True),
        Column("customer_id", "text", "The customer this identity belongs to.", required=True),
        Column("first_seen_at", "timestamp", "When it was first seen (UTC).", required=True),
        Column("run_id", "bigint", "The ingest run that first brought it."),
    ),
    ingestable=False,
))

_add(Table(
    "customer_merges",
    "Customers merged because a record linked their identities; the merged id no longer exists.",
    (
        Column("merged_customer_id", "text", "The id that was merged away.", required=True),
        Column("into_customer_id", "text", "The id that remains.", required=True),
        Column("reason", "text", "The identities that linked the two, and where they were seen.",
               required=True),
        Column("run_id", "bigint", "The ingest run that caused the merge."),
        Column("merged_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
))

_add(Table(
    "erasures",
    "Customers whose personal data was erased (`centric customers forget`); no personal data is kept here.",
    (
        Column("customer_id", "text", "The erased customer's former id.", required=True),
        Column("erased_at", "timestamp", "When (UTC).", required=True),
        Column("identities_removed", "bigint", "Identities deleted.", required=True),
        Column("rows_anonymised", "bigint", "Rows unlinked from the customer, their free text removed.",
               required=True),
        Column("rejected_rows_removed", "bigint", "Rejected rows that held one of the identities.", required=True),
    ),
    ingestable=False,
))

_add(Table(
    "orders",
    "Orders and other purchase transactions.",
    (
        Column("order_id", "text", "Order number; derived from the row when absent.", required=True,
               kind="key", aliases=("order_id", "id", "order", "order number", "order_no", "order no",
                                    "transaction_id", "transaction", "receipt", "nr zamówienia",
                                    "numer zamówienia", "zamówienie", "nr zamowienia", "номер заказа",
                                    "заказ", "№ заказа", "id ordine", "numero ordine", "ordine")),
        CUSTOMER_ID,
        Column("ordered_at", "timestamp", "When the order was placed (UTC).", required=True,
               aliases=("ordered_at", "order_date", "order date", "purchase_date", "purchased_at",
                        "data zamówienia", "data zamowienia", "дата заказа", "data ordine",
                        "data acquisto") + DATE_ALIASES),
        Column("amount", "number", "Order value, in `currency`.", required=True,
               aliases=("amount", "total", "value", "order value", "revenue", "price", "kwota", "wartość",
                        "wartosc", "suma", "сумма", "стоимость", "итого", "importo", "totale", "valore")),
        Column("currency", "text", "Currency (ISO 4217); the `currency` setting when absent.", kind="currency",
               aliases=("currency", "waluta", "валюта", "valuta")),
        CHANNEL,
        Column("store", "text", "Store or shop where it was bought.",
               aliases=("store", "shop", "outlet", "sklep", "salon", "магазин", "negozio", "punto vendita")),
        Column("category", "text", "Product category.",
               aliases=("category", "product category", "kategoria", "категория", "categoria")),
    ),
    key="order_id",
    customer_ref="required",
))

_add(Table(
    "responses",
    "Survey answers: NPS, CSAT and CES scores with an optional comment.",
    (
        Column("response_id", "text", "Answer id; derived from the row when absent.", required=True,
               kind="key", aliases=("response_id", "id", "response", "answer_id", "id odpowiedzi", "id ответа",
                                    "id risposta")),
        CUSTOMER_ID,
        Column("survey", "text", "Survey name, e.g. post-delivery.",
               aliases=("survey", "survey name", "ankieta", "badanie", "опрос", "анкета", "sondaggio",
                        "questionario")),
        Column("responded_at", "timestamp", "When the answer was given (UTC).", required=True,
               aliases=("responded_at", "response date", "customer response date", "answered_at", "submitted_at",
                        "survey date", "data odpowiedzi",
                        "дата ответа", "data risposta") + DATE_ALIASES),
        CHANNEL,
        TOUCHPOINT,
        Column("nps", "integer", "Likelihood to recommend, 0–10.", range=(0, 10),
               aliases=("nps", "nps score", "nps_score", "recommend", "likelihood to recommend",
                        "ltr", "ocena nps", "polecenie", "оценка nps", "nps оценка", "voto nps",
                        "punteggio nps", "raccomandazione")),
        Column("csat", "integer", "Satisfaction, 1–5.", range=(1, 5),
               aliases=("csat", "satisfaction", "csat score", "zadowolenie", "ocena zadowolenia",
                        "удовлетворенность", "удовлетворённость", "soddisfazione")),
        Column("ces", "integer", "Customer effort (CES 2.0): 'the company made it easy for me', 1–7.",
               range=(1, 7), aliases=("ces", "effort", "customer effort", "ces score", "łatwość",
                                      "latwosc", "wysiłek", "усилие", "легкость", "лёгкость", "facilità",
                                      "facilita", "sforzo")),
        Column("comment", "text", "Free-text comment (personal data).",
               aliases=("comment", "comments", "verbatim", "open answer", "feedback", "text", "komentarz", "uwagi",
                        "opinia", "комментарий", "отзыв", "commento", "note", "commenti")),
        LANGUAGE,
        STORE,
        CUSTOMER_KEY,
    ),
    key="response_id",
    customer_ref="optional",
    one_of=("nps", "csat", "ces", "comment"),
))

_add(Table(
    "feedback",
    "Texts about us or a named competitor: reviews, social posts, complaints, chats, e-mails, "
    "survey comments, mystery-shopper reports, observation notes.",
    (
        Column("feedback_id", "text", "Id in the source; derived from the row when absent.", required=True,
               kind="key", aliases=("feedback_id", "id", "review_id", "post_id", "message_id", "id opinii",
                                    "id отзыва", "id recensione")),
        CUSTOMER_ID,
        Column("source", "enum", "What kind of text it is.", required=True, allowed=FEEDBACK_SOURCES,
               aliases=("source", "type", "kind", "źródło", "zrodlo", "typ", "источник", "тип", "fonte",
                        "tipo")),
        Column("brand", "text", "`ours`, or the competitor's name.",
               aliases=("brand", "company", "marka", "firma", "бренд", "компания", "marca", "azienda")),
        Column("posted_at", "timestamp", "When it was written (UTC).", required=True,
               aliases=("posted_at", "created_at", "published", "review date", "data publikacji",
                        "дата публикации", "data pubblicazione") + DATE_ALIASES),
        Column("rating", "number", "Star rating or score given with the text (0–10; usually 1–5).",
               range=(0, 10), aliases=("rating", "stars", "score", "ocena", "gwiazdki", "оценка", "рейтинг",
                                       "звезды", "voto", "stelle", "valutazione")),
        Column("title", "text", "Title of the review or post.",
               aliases=("title", "subject", "tytuł", "tytul", "temat", "заголовок", "тема", "titolo",
                        "oggetto")),
        Column("text", "text", "The text itself (personal data; escaped wherever shown).", required=True,
               aliases=("text", "body", "content", "message", "review", "post", "treść", "tresc",
                        "wiadomość", "текст", "сообщение", "testo", "messaggio", "recensione", "contenuto")),
        LANGUAGE,
        Column("url", "text", "Where it was published.", aliases=("url", "link", "ссылка", "collegamento")),
        Column("author", "text", "Author's name or handle as shown in the source.",
               aliases=("author", "autor", "автор", "autore")),
        CHANNEL,
        TOUCHPOINT,
        STORE,
    ),
    key="feedback_id",
    customer_ref="optional",
))

_add(Table(
    "events",
    "Customer-journey events: one step of one customer in one journey.",
    (
        Column("event_id", "text", "Event id; derived from the row when absent.", required=True, kind="key",
               aliases=("event_id", "id", "id zdarzenia", "id события", "id evento")),
        CUSTOMER_ID,
        Column("occurred_at", "timestamp", "When it happened (UTC).", required=True,
               aliases=("occurred_at", "event_time", "event time", "czas zdarzenia", "время события",
                        "ora evento") + DATE_ALIASES),
        Column("journey", "text", "Journey name, e.g. purchase, service.", required=True,
               aliases=("journey", "ścieżka", "sciezka", "proces", "путь", "сценарий", "percorso", "processo")),
        Column("stage", "text", "Stage, e.g. visit, cart, order, payment, delivery, installation, support.",
               required=True, aliases=("stage", "step", "activity", "etap", "krok", "этап", "шаг", "fase",
                                       "passo", "attività")),
        TOUCHPOINT,
        CHANNEL,
    ),
    key="event_id",
    customer_ref="required",
))

_add(Table(
    "cases",
    "Complaints, tickets and every other matter that needs a person: the closed loop.",
    (
        Column("case_id", "text", "Case or ticket number.", required=True, kind="key",
               aliases=("case_id", "case", "ticket", "ticket_id", "ticket number", "complaint_id",
                        "zgłoszenie", "nr zgłoszenia", "numer zgłoszenia", "reklamacja", "обращение",
                        "номер обращения", "жалоба", "pratica", "numero pratica", "reclamo")),
        CUSTOMER_ID,
        Column("opened_at", "timestamp", "When it was opened (UTC).", required=True,
               aliases=("opened_at", "created_at", "created", "data zgłoszenia", "data otwarcia",
                        "дата обращения", "дата создания", "data apertura") + DATE_ALIASES),
        Column("type", "text", "Complaint type or factor (e.g. delivery, installation).",
               aliases=("type", "category", "reason", "typ", "kategoria", "powód", "тип", "категория",
                        "причина", "tipo", "categoria", "motivo")),
        CHANNEL,
        Column("department", "text", "Department responsible now.",
               aliases=("department", "team", "dział", "dzial", "отдел", "подразделение", "reparto",
                        "dipartimento", "ufficio")),
        Column("owner", "text", "Person responsible now.",
               aliases=("owner", "assignee", "agent", "opiekun", "właściciel", "ответственный",
                        "исполнитель", "responsabile", "assegnatario")),
        Column("status", "enum", "Where the case stands.", allowed=CASE_STATUSES,
               aliases=("status", "stan", "статус", "stato")),
        Column("priority", "enum", "Priority.", allowed=CASE_PRIORITIES,
               aliases=("priority", "priorytet", "приоритет", "priorità", "priorita")),
        Column("due_at", "timestamp", "Service-level due time (UTC).",
               aliases=("due_at", "due", "deadline", "sla", "termin", "срок", "scadenza")),
        Column("closed_at", "timestamp", "When it was closed (UTC).",
               aliases=("closed_at", "closed", "data zamknięcia", "дата закрытия", "data chiusura")),
        Column("resolved", "boolean", "Was the customer's problem actually solved?",
               aliases=("resolved", "solved", "rozwiązane", "rozwiazane", "решено", "risolto")),
        Column("root_cause", "text", "Root cause recorded at closing.",
               aliases=("root_cause", "root cause", "przyczyna", "первопричина", "causa")),
        Column("summary", "text", "What it is about (personal data).",
               aliases=("summary", "description", "opis", "описание", "descrizione", "text", "treść")),
        Column("feedback_id", "text", "The feedback text that started it, if any."),
        Column("response_id", "text", "The survey answer that started it, if any."),
        Column("origin", "enum", "How the case began: import (a helpdesk export; also when empty), signal "
               "(opened by `centric cases sync`), proactive (a customer gone quiet), manual.",
               allowed=CASE_ORIGINS, ingested=False, since=5),
        Column("author", "text", "The author or handle the case is about when the customer is unknown "
               "(personal data).", ingested=False, since=5),
        Column("country", "text", "Country of the customer or the row that opened the case (routing scope).",
               kind="country", ingested=False, since=5),
        Column("store", "text", "Store the matter concerns (routing scope).", ingested=False, since=5),
        Column("language", "text", "The customer's language, for messages to them.", kind="language",
               ingested=False, since=5),
        Column("escalation_level", "integer", "Highest escalation level applied (0: none).", ingested=False,
               since=5),
        Column("escalated_to", "text", "Who the last escalation went to.", ingested=False, since=5),
        Column("reopen_count", "integer", "How many times the case was reopened.", ingested=False, since=5),
        Column("transfers", "integer", "Transfers to another department; more than one: passed from hand to "
               "hand.", ingested=False, since=5),
        Column("linked_case_id", "text", "The earlier case this one follows (the same matter after the grace "
               "period).", ingested=False, since=5),
        Column("root_sub_cause", "text", "Sub-cause recorded at closing.", ingested=False, since=5),
        Column("root_cause_note", "text", "Root cause in the owner's words (personal data possible).",
               ingested=False, since=5),
        Column("action_taken", "text", "What was done about it, recorded at closing.", ingested=False, since=5),
        Column("resolved_at", "timestamp", "Last resolution (UTC).", ingested=False, since=5),
        Column("updated_at", "timestamp", "Last change (UTC).", ingested=False, since=5),
    ),
    key="case_id",
    customer_ref="optional",
))

_add(Table(
    "case_events",
    "Everything that happened to a case: assignment, transfers, responses, escalation, closing.",
    (
        Column("case_event_id", "text", "Event id; derived from the row when absent.", required=True,
               kind="key", aliases=("case_event_id", "id", "event_id")),
        Column("case_id", "text", "The case.", required=True,
               aliases=("case_id", "case", "ticket", "ticket_id", "nr zgłoszenia", "номер обращения",
                        "pratica")),
        Column("occurred_at", "timestamp", "When (UTC).", required=True,
               aliases=("occurred_at", "event_time", "time") + DATE_ALIASES),
        Column("kind", "enum", "What happened.", required=True, allowed=CASE_EVENT_KINDS,
               aliases=("kind", "event", "activity", "action", "zdarzenie", "czynność", "событие",
                        "действие", "evento", "azione")),
        Column("actor", "text", "Who did it (agent, system, customer).",
               aliases=("actor", "agent", "user", "resource", "wykonawca", "исполнитель", "operatore")),
        Column("department", "text", "Department involved.",
               aliases=("department", "team", "dział", "отдел", "reparto")),
        Column("note", "text", "Free text (personal data).",
               aliases=("note", "comment", "notatka", "komentarz", "примечание", "комментарий", "nota")),
        Column("target", "text", "Who the event hands the case to: the new owner (assigned, transferred), "
               "the escalation's target.", ingested=False, since=5),
        Column("level", "integer", "Escalation level (escalated).", ingested=False, since=5),
        Column("clock", "enum", "The service-level clock concerned (sla_breached).", allowed=CASE_CLOCKS,
               ingested=False, since=5),
        Column("data", "json", "Details: the root cause and action (closed), the customer's answer (confirmed, "
               "not_solved), the signal (signal), the old and new value (priority).", ingested=False, since=5),
    ),
    key="case_event_id",
))

_add(Table(
    "case_signals",
    "Every row that opened a case or joined one (`centric cases sync`): each signal belongs to exactly one case, "
    "so running the loop again creates nothing new.",
    (
        Column("source_table", "enum", "Where the signal is.", required=True,
               allowed=("feedback", "responses", "customer_scores", "mystery_visits")),
        Column("signal_id", "text", "feedback_id, response_id, the customer id and scoring time of a proactive "
               "contact, or a mystery-shopping visit_id.", required=True),
        Column("case_id", "text", "The case it belongs to.", required=True),
        Column("customer_id", "text", "The customer (empty when unknown)."),
        Column("kind", "enum", "What kind of signal.", required=True, allowed=SIGNAL_KINDS),
        Column("factor", "text", "The factor it is about (empty: the triage queue decides)."),
        Column("signal_at", "timestamp", "When the customer gave it (UTC).", required=True),
        Column("action", "enum", "What it did to the case.", required=True,
               allowed=("opened", "joined", "reopened", "imported")),
        Column("attached_at", "timestamp", "When the loop attached it (UTC).", required=True),
    ),
    ingestable=False,
    since=5,
))

_add(Table(
    "case_clocks",
    "The four service-level clocks of each case, as of the last `centric cases sync` or `tick`: due time in "
    "business time, the moment it is at risk (80% elapsed) and its state.",
    (
        Column("case_id", "text", "The case.", required=True),
        Column("clock", "enum", "first_response, next_response (after the customer's last message), resolution, "
               "confirmation (the customer's answer to \"Was it solved?\").", required=True, allowed=CASE_CLOCKS),
        Column("started_at", "timestamp", "When the clock started (UTC).", required=True),
        Column("target_minutes", "integer", "Business minutes allowed.", required=True),
        Column("calendar", "text", "The business calendar it counts on.", required=True),
        Column("due_at", "timestamp", "When it falls due (UTC); while paused, as if the pause ended now."),
        Column("at_risk_at", "timestamp", "When 80% of the time has elapsed (UTC)."),
        Column("stopped_at", "timestamp", "When it stopped (UTC); empty while it runs."),
        Column("state", "enum", "on_track, at_risk, breached, paused (waiting for the customer) or met.",
               required=True, allowed=CLOCK_STATES),
        Column("computed_at", "timestamp", "When the row was computed (UTC); a tick rewrites only the rows of "
               "cases whose clocks changed.", required=True),
    ),
    ingestable=False,
    since=5,
))

_add(Table(
    "case_tokens",
    "One-time \"Was it solved?\" links sent on resolution; only a hash of each token is kept.",
    (
        Column("token_hash", "text", "SHA-256 of the token.", required=True),
        Column("case_id", "text", "The case.", required=True),
        Column("language", "text", "Language of the question.", kind="language"),
        Column("created_at", "timestamp", "When it was made (UTC).", required=True),
        Column("expires_at", "timestamp", "When it stops working (UTC).", required=True),
        Column("used_at", "timestamp", "When the customer answered (UTC)."),
    ),
    ingestable=False,
    since=5,
))

_add(Table(
    "case_config",
    "The routing table and service-level policy files in use (`centric cases config`); the latest of each "
    "applies, earlier ones are kept.",
    (
        Column("name", "enum", "Which file.", required=True, allowed=("routing", "sla")),
        Column("text", "text", "The file's TOML text.", required=True),
        Column("source", "text", "Where it was loaded from.", required=True),
        Column("loaded_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
    since=5,
))

_add(Table(
    "ingest_runs",
    "One row per file or DataFrame loaded.",
    (
        Column("run_id", "bigint", "Run number.", required=True),
        Column("table_name", "text", "Target table.", required=True),
        Column("source", "text", "File path or DataFrame name.", required=True),
        Column("content_hash", "text", "SHA-256 of the file's bytes (of the frame's content for frames).",
               required=True),
        Column("format", "text", "csv, excel, json, jsonl, parquet or frame."),
        Column("encoding", "text", "Detected text encoding."),
        Column("delimiter", "text", "Detected CSV delimiter."),
        Column("status", "enum", "stored; duplicate_file when the same content was loaded before; replaced when "
               "a later `centric ingest --replace` of the same file took its place (its rows were removed).",
               required=True, allowed=RUN_STATUSES),
        Column("rows_read", "bigint", "Data rows read.", required=True),
        Column("rows_stored", "bigint", "Rows stored.", required=True),
        Column("rows_rejected", "bigint", "Rows rejected (see rejected_rows).", required=True),
        Column("rows_duplicate", "bigint", "Rows already in the store.", required=True),
        Column("started_at", "timestamp", "Start (UTC).", required=True),
        Column("finished_at", "timestamp", "End (UTC).", required=True),
    ),
    ingestable=False,
))

_add(Table(
    "ingest_rows",
    "The key of every row an ingest run stored, so that `centric ingest --replace` can take a file's rows back.",
    (
        Column("run_id", "bigint", "The ingest run.", required=True),
        Column("table_name", "text", "Table of the row.", required=True),
        Column("key", "text", "The row's key (`order_id`, `response_id` …).", required=True),
    ),
    ingestable=False,
    since=4,
))

_add(Table(
    "rejected_rows",
    "Every rejected row, kept with its reason: one row per problem found.",
    (
        Column("run_id", "bigint", "The ingest run.", required=True),
        Column("table_name", "text", "Target table.", required=True),
        Column("source", "text", "File path or DataFrame name.", required=True),
        Column("row_number", "bigint", "Row in the file as a spreadsheet counts it (the header is row 1); "
               "for JSON, the record's position; for JSON lines, the line.", required=True),
        Column("column_name", "text", "Column in the file (empty when the whole row is at fault)."),
        Column("value", "text", "The offending value, as read (cut to 200 characters)."),
        Column("reason", "text", "Why it was rejected.", required=True),
        Column("record", "json", "The whole row as read, as JSON."),
    ),
    ingestable=False,
))


_add(Table(
    "text_analyses",
    "One row per text analysed by `centric analyze` (survey comments and feedback texts), so that only new "
    "texts are analysed next time.",
    (
        Column("source", "enum", "Where the text is.", required=True, allowed=("responses", "feedback")),
        Column("text_id", "text", "response_id or feedback_id.", required=True),
        Column("taxonomy", "text", "Taxonomy used.", required=True),
        Column("language", "text", "Detected (or given) language.", kind="language"),
        Column("sentiment", "enum", "Overall sentiment; empty for a placeholder answer.",
               allowed=("positive", "neutral", "negative")),
        Column("score", "number", "Overall sentiment score, −1 to 1.", range=(-1, 1)),
        Column("emotions", "json", "Probability of each of Plutchik's eight emotions (anger, anticipation, disgust, "
               "fear, joy, sadness, surprise, trust), the largest over the text's sentences; present at 0.5 or "
               "more; {} for a placeholder answer."),
        Column("flags", "json", "Flags with reasons (never deletes anything): near_duplicate, burst, extortion, and "
               "placeholder for an answer that gives no opinion (no mentions, no sentiment)."),
        Column("model", "text", "Models and versions that produced the result."),
        Column("analyzed_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
    since=2,
))

_add(Table(
    "mentions",
    "One row per text × sentence × factor found by `centric analyze`.",
    (
        Column("source", "enum", "Where the text is.", required=True, allowed=("responses", "feedback")),
        Column("text_id", "text", "response_id or feedback_id.", required=True),
        Column("sentence", "integer", "Sentence index in the text, from 0.", required=True),
        Column("factor", "text", "Factor id of the taxonomy.", required=True),
        Column("sentiment", "enum", "Polarity towards the factor.", required=True,
               allowed=("positive", "neutral", "negative")),
        Column("score", "number", "Sentiment score, −1 to 1.", range=(-1, 1)),
        Column("confidence", "number", "Probability that the sentence is about the factor.", range=(0, 1)),
        Column("taxonomy", "text", "Taxonomy used.", required=True),
        Column("language", "text", "Language of the text.", kind="language"),
    ),
    ingestable=False,
    since=2,
))

_add(Table(
    "customer_scores",
    "Purchase-rhythm scores per customer from `centric customers score` (BG/NBD + Gamma-Gamma); every "
    "scoring adds rows, so a fall in P(alive) since the last scoring can be seen.",
    (
        Column("customer_id", "text", "The customer.", required=True),
        Column("scored_at", "timestamp", "When the scoring ran (UTC); one value per scoring.", required=True),
        Column("as_of", "date", "The day the scores describe (end of the observation).", required=True),
        Column("frequency", "integer", "Repeat purchase days up to `as_of`.", required=True),
        Column("recency_days", "number", "Days from the first to the last purchase.", required=True),
        Column("age_days", "number", "Days from the first purchase to `as_of` (T).", required=True),
        Column("monetary_value", "number", "Mean spend of the repeat purchase days.", required=True),
        Column("p_alive", "number", "Probability that the customer still buys (BG/NBD).", required=True,
               range=(0, 1)),
        Column("expected_purchases", "number", "Expected purchases within `horizon_days`.", required=True),
        Column("expected_spend", "number", "Expected spend per purchase (Gamma-Gamma).", required=True),
        Column("clv", "number", "Discounted value of the next `horizon_days` (expected purchases × spend).",
               required=True),
        Column("horizon_days", "integer", "Horizon of `expected_purchases` and `clv`.", required=True),
        Column("currency", "text", "Currency of the values.", kind="currency"),
        Column("model", "text", "Models and their version, e.g. `bgnbd+gammagamma/1`.", required=True),
        Column("params", "json", "Fitted parameters and settings.", required=True),
    ),
    ingestable=False,
    since=3,
))


# -- the web app (`centric serve`): people, sessions, tokens, the audit log, webhooks ------------------
WEB_ROLES = ("admin", "analyst", "agent", "shopper")
WEBHOOK_EVENTS = ("case.created", "case.breached", "case.closed")

_add(Table(
    "users",
    "People who sign in to the web app (`centric users`). Only an argon2 hash of each password is kept.",
    (
        Column("user_id", "text", "User id (U0001 …).", required=True),
        Column("email", "text", "Sign-in e-mail, lower-cased; unique.", required=True, kind="email"),
        Column("name", "text", "Name shown in the app."),
        Column("role", "enum", "What the person may do: admin (everything), analyst (reads everything), agent "
               "(works the cases of their departments), shopper (enters mystery-shopping visits and sees their own).",
               required=True, allowed=WEB_ROLES),
        Column("agent", "text", "The person's name in the routing table and as a case owner.", required=True),
        Column("departments", "json", "Departments whose cases an agent sees, as a JSON list."),
        Column("language", "text", "Language of the pages (en, pl, ru, it); empty: the browser's.", kind="language"),
        Column("password_hash", "text", "argon2 hash of the password.", required=True),
        Column("created_at", "timestamp", "When added (UTC).", required=True),
        Column("updated_at", "timestamp", "Last change (UTC).", required=True),
        Column("disabled_at", "timestamp", "When disabled (UTC); a disabled user cannot sign in."),
    ),
    key="user_id",
    ingestable=False,
    since=6,
))

_add(Table(
    "web_sessions",
    "Signed-in browser sessions; only a SHA-256 hash of each session id is kept.",
    (
        Column("session_hash", "text", "SHA-256 of the session id.", required=True),
        Column("user_id", "text", "The user.", required=True),
        Column("csrf_token", "text", "The session's token for forms.", required=True),
        Column("created_at", "timestamp", "Sign-in time (UTC).", required=True),
        Column("last_seen_at", "timestamp", "Last request (UTC).", required=True),
        Column("expires_at", "timestamp", "End of the session's absolute lifetime (UTC).", required=True),
        Column("ip", "text", "Address the session signed in from."),
        Column("user_agent", "text", "Browser that signed in."),
    ),
    key="session_hash",
    ingestable=False,
    since=6,
))

_add(Table(
    "api_tokens",
    "Bearer tokens of the JSON API (`centric tokens`); only a SHA-256 hash of each token is kept.",
    (
        Column("token_id", "text", "Token id (T0001 …).", required=True),
        Column("name", "text", "Name of the token; unique among tokens not revoked.", required=True),
        Column("role", "enum", "What the token may do (as a user's role).", required=True, allowed=WEB_ROLES),
        Column("departments", "json", "Departments of an agent token, as a JSON list."),
        Column("token_hash", "text", "SHA-256 of the token.", required=True),
        Column("created_at", "timestamp", "When made (UTC).", required=True),
        Column("last_used_at", "timestamp", "Last use (UTC)."),
        Column("revoked_at", "timestamp", "When revoked (UTC); a revoked token is refused."),
    ),
    key="token_id",
    ingestable=False,
    since=6,
))

_add(Table(
    "audit_log",
    "Every action taken in the web app, the API and the user commands: who, what, on which object. Never "
    "customer text: ids, counts and field names only.",
    (
        Column("audit_id", "bigint", "Entry number.", required=True),
        Column("at", "timestamp", "When (UTC).", required=True),
        Column("actor", "text", "Who: a user's e-mail, token:NAME, or system.", required=True),
        Column("role", "text", "The actor's role."),
        Column("action", "text", "What, dotted: case.transfer, user.add, login.failed, customer.forget …",
               required=True),
        Column("object_type", "text", "Kind of object acted on (case, customer, user …)."),
        Column("object_id", "text", "Its id."),
        Column("detail", "json", "Details: ids, counts and field names (never customer text)."),
        Column("ip", "text", "Address of the request."),
    ),
    key="audit_id",
    ingestable=False,
    since=6,
))

_add(Table(
    "webhooks",
    "Outgoing webhooks (`centric webhooks`): where case events are posted, signed with HMAC.",
    (
        Column("webhook_id", "text", "Webhook id (W001 …).", required=True),
        Column("url", "text", "Where to post.", required=True),
        Column("secret", "text", "Key of the HMAC signature.", required=True),
        Column("events", "json", "Events posted, as a JSON list of " + ", ".join(WEBHOOK_EVENTS) + ".",
               required=True),
        Column("created_at", "timestamp", "When added (UTC).", required=True),
        Column("disabled_at", "timestamp", "When removed (UTC)."),
    ),
    key="webhook_id",
    ingestable=False,
    since=6,
))

_add(Table(
    "webhook_deliveries",
    "Each event to post to each webhook, with its attempts (retried with backoff until delivered).",
    (
        Column("delivery_id", "text", "Delivery id.", required=True),
        Column("webhook_id", "text", "The webhook.", required=True),
        Column("event", "enum", "The event.", required=True, allowed=WEBHOOK_EVENTS),
        Column("case_id", "text", "The case.", required=True),
        Column("case_event_id", "text", "The case event that caused it."),
        Column("payload", "json", "The JSON body posted.", required=True),
        Column("attempts", "integer", "Attempts so far.", required=True),
        Column("next_attempt_at", "timestamp", "When to try next (UTC); empty once delivered or given up."),
        Column("delivered_at", "timestamp", "When the receiver answered 2xx (UTC)."),
        Column("last_status", "integer", "HTTP status of the last attempt."),
        Column("last_error", "text", "Error of the last attempt."),
        Column("created_at", "timestamp", "When queued (UTC).", required=True),
    ),
    key="delivery_id",
    ingestable=False,
    since=6,
))


# -- surveys collected by centric itself (`centric surveys`, the public form of `centric serve`) -------
SURVEY_KINDS = ("nps", "csat", "ces")
SURVEY_STATUSES = ("active", "paused", "closed")

_add(Table(
    "surveys",
    "Surveys centric collects itself (`centric surveys add`, the web app): their answers go to `responses` with "
    "`survey` = the slug.",
    (
        Column("survey_id", "text", "Survey id (SV001 …).", required=True),
        Column("slug", "text", "Short name in links (`/s/SLUG`), lower-case letters, digits and dashes; unique.",
               required=True),
        Column("name", "text", "Name shown in the app and the report.", required=True),
        Column("kind", "enum", "The main question.", required=True, allowed=SURVEY_KINDS),
        Column("touchpoint", "text", "Touchpoint it asks about (delivery, installation, support …)."),
        Column("channel", "text", "Channel written to the answers (`web` when empty)."),
        Column("status", "enum", "Only an active survey takes answers and invitations.", required=True,
               allowed=SURVEY_STATUSES),
        Column("definition", "json", "The whole survey: texts per language, extra questions, branding.",
               required=True),
        Column("anonymous", "boolean", "Whether the open link `/s/SLUG` takes answers.", required=True),
        Column("created_at", "timestamp", "When added (UTC).", required=True),
        Column("updated_at", "timestamp", "Last change (UTC).", required=True),
    ),
    key="survey_id",
    ingestable=False,
    since=7,
))

_add(Table(
    "survey_invitations",
    "One signed single-use link per customer and survey (`centric surveys invite`); the token in the link "
    "encodes `invitation_id`.",
    (
        Column("invitation_id", "bigint", "Invitation number (the link's token encodes it).", required=True),
        Column("survey_id", "text", "The survey.", required=True),
        Column("customer_id", "text", "The customer invited (empty once the customer is erased)."),
        Column("email", "text", "Where it was (or would be) sent (empty once the customer is erased).", kind="email"),
        Column("language", "text", "Language of the form and the e-mail.", required=True, kind="language"),
        Column("created_at", "timestamp", "When issued (UTC).", required=True),
        Column("expires_at", "timestamp", "After this the link takes no answer (UTC).", required=True),
        Column("sent_at", "timestamp", "When e-mailed by centric (UTC)."),
        Column("reminded_at", "timestamp", "When the one reminder was e-mailed (UTC)."),
        Column("answered_at", "timestamp", "When answered (UTC); set once."),
        Column("response_id", "text", "The answer in `responses`."),
        Column("opened_at", "timestamp", "First time the form was opened (informational; opening uses nothing up)."),
    ),
    key="invitation_id",
    ingestable=False,
    since=7,
))

_add(Table(
    "survey_answers",
    "Answers to a survey's extra questions (one row per answer × question).",
    (
        Column("response_id", "text", "The answer in `responses`.", required=True),
        Column("survey_id", "text", "The survey.", required=True),
        Column("question_id", "text", "The question's id in the survey's definition.", required=True),
        Column("value", "text", "The answer (an option's id, a rating, or text).", required=True),
        Column("answered_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
    since=7,
))

_add(Table(
    "survey_flagged",
    "Answers through an anonymous link that looked automated: kept aside (not in `responses`, not in any "
    "metric) until released or discarded.",
    (
        Column("flag_id", "text", "Id of the flagged answer.", required=True),
        Column("survey_id", "text", "The survey.", required=True),
        Column("received_at", "timestamp", "When received (UTC).", required=True),
        Column("fields", "json", "What was sent: score, comment, extra answers, language.", required=True),
        Column("reasons", "json", "Why it was flagged, as a JSON list: honeypot, too_fast, rate_limited, "
               "bad_timestamp.", required=True),
        Column("ip_hash", "text", "Keyed SHA-256 of the sender's address (never the address)."),
        Column("released_at", "timestamp", "When released into `responses` (UTC)."),
        Column("released_by", "text", "Who released (or discarded) it."),
        Column("response_id", "text", "The answer in `responses` once released."),
    ),
    key="flag_id",
    ingestable=False,
    since=7,
))

_add(Table(
    "survey_refusals",
    "Count of refused survey submissions per survey, day and reason (bad score, forged link, expired …).",
    (
        Column("survey_id", "text", "The survey (empty when the link was forged)."),
        Column("day", "date", "Day (UTC).", required=True),
        Column("reason", "text", "Reason code.", required=True),
        Column("count", "bigint", "Refusals.", required=True),
    ),
    ingestable=False,
    since=7,
))


# -- 5-whys trees saved by analysts (`centric.whys.saved`, the web app's /whys pages) --------------------
_add(Table(
    "whys_trees",
    "5-whys trees saved in the web app: computed from the data (`centric whys`), then edited by an analyst "
    "(nodes renamed, annotated, added or removed, leaves marked root cause or expected).",
    (
        Column("tree_id", "text", "Tree id (Y0001 …).", required=True),
        Column("title", "text", "Its name.", required=True),
        Column("factor", "text", "The factor it explains (the problem).", required=True),
        Column("period", "text", "The period it was computed over (e.g. 2025-Q3; empty: all the data)."),
        Column("tree", "json", "The tree: nodes with their labels, counts, shares, significance, verdicts, notes "
               "and evidence ids (quotes masked).", required=True),
        Column("author", "text", "Who saved it first.", required=True),
        Column("updated_by", "text", "Who changed it last.", required=True),
        Column("created_at", "timestamp", "When saved first (UTC).", required=True),
        Column("updated_at", "timestamp", "Last change (UTC).", required=True),
    ),
    key="tree_id",
    ingestable=False,
    since=8,
))

_add(Table(
    "whys_links",
    "Which saved 5-whys tree explains which case.",
    (
        Column("tree_id", "text", "The tree.", required=True),
        Column("case_id", "text", "The case it explains.", required=True),
        Column("linked_by", "text", "Who attached it.", required=True),
        Column("linked_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
    since=8,
))


# -- units and employees: the company's own side (stores, departments, the people in them) -----------------
UNIT_KINDS = ("store", "department")
EMPLOYEE_ROLES = ("staff", "manager")
_add(Table(
    "units",
    "The company's stores and departments: what employee surveys, staff assessments, mystery shopping and "
    "observation notes are reported by. A store's `unit` is its name as in `orders.store`, `responses.store`, "
    "`feedback.store` and `cases.store`; a department's as in `cases.department`.",
    (
        Column("unit", "text", "The unit's name.", required=True, kind="key",
               aliases=("unit", "store", "shop", "department", "name", "jednostka", "sklep", "dział",
                        "подразделение", "магазин", "unità", "negozio", "reparto")),
        Column("kind", "enum", "Store or department.", required=True, allowed=UNIT_KINDS,
               aliases=("kind", "type", "rodzaj", "typ", "тип", "tipo")),
        Column("region", "text", "Region a store belongs to (for reporting by region).",
               aliases=("region", "area", "województwo", "регион", "regione", "zona")),
        Column("country", "text", "Country (ISO 3166 alpha-2).", kind="country",
               aliases=("country", "kraj", "страна", "paese")),
        Column("manager", "text", "The web user (`centric users`) who manages the unit: cases about the unit "
               "go to them.", aliases=("manager", "kierownik", "руководитель", "responsabile")),
    ),
    key="unit",
    since=9,
))

_add(Table(
    "employees",
    "The company's employees (personal data): who is invited to employee surveys and whose customer orientation "
    "managers assess. Employee survey answers never carry the employee (see docs/employees.md).",
    (
        Column("employee_id", "text", "Employee id (from the HR system).", required=True, kind="key",
               aliases=("employee_id", "employee", "id", "staff_id", "personnel number", "id pracownika",
                        "nr ewidencyjny",
                        "табельный номер", "matricola")),
        Column("name", "text", "Full name (personal data).",
               aliases=("name", "full name", "imię i nazwisko", "фио", "nome e cognome", "nominativo")),
        Column("email", "text", "Work e-mail (personal data; where invitations go).", kind="email",
               aliases=("email", "e-mail", "mail", "adres e-mail", "почта", "indirizzo email")),
        Column("unit", "text", "The store or department (`units.unit`).", required=True,
               aliases=("unit", "store", "department", "jednostka", "dział", "sklep", "подразделение", "reparto",
                        "negozio")),
        Column("role", "enum", "Staff or manager.", allowed=EMPLOYEE_ROLES,
               aliases=("role", "position", "stanowisko", "rola", "должность", "ruolo")),
        Column("language", "text", "Language invitations are written in (ISO 639-1).", kind="language",
               aliases=("language", "lang", "język", "язык", "lingua")),
        Column("hired_at", "date", "Start date.", aliases=("hired_at", "start date", "data zatrudnienia",
                                                           "дата приема", "data assunzione")),
        Column("left_at", "date", "Leaving date (empty while employed).",
               aliases=("left_at", "end date", "data zwolnienia", "дата увольнения", "data cessazione")),
    ),
    key="employee_id",
    since=9,
))


# -- council --
COUNCIL_LEFT = ("left", "consent_withdrawn", "erased")
COUNCIL_ATTENDANCE = ("present", "absent", "excused")
COUNCIL_ACTION_STATUSES = ("open", "in_progress", "done", "dropped")

_add(Table(
    "council_members",
    "The customer council's roster (`centric council`, the web app's /council pages): one row per membership; "
    "a customer who leaves and joins again has two. Segment, value and tenure are read from the customer's rows.",
    (
        Column("member_id", "text", "Membership id (CM0001 …).", required=True),
        Column("customer_id", "text", "The customer (empty once their data was erased)."),
        Column("role", "text", "Their role on the council (e.g. member, chair)."),
        Column("notes", "text", "Notes about the member (personal data)."),
        Column("joined_on", "date", "When they joined.", required=True),
        Column("left_on", "date", "When they left (empty: a member now)."),
        Column("left_reason", "enum", "Why they left.", allowed=COUNCIL_LEFT),
        Column("added_by", "text", "Who added them.", required=True),
        Column("updated_at", "timestamp", "Last change (UTC).", required=True),
    ),
    key="member_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "council_consents",
    "What each council member consented to, when, and when they withdrew it. Withdrawing the consent to "
    "take part ends the membership and removes the member's personal notes.",
    (
        Column("consent_id", "text", "Consent id (CC0001 …).", required=True),
        Column("member_id", "text", "The membership.", required=True),
        Column("customer_id", "text", "The customer (empty once their data was erased)."),
        Column("purpose", "text", "What was consented to (e.g. council, contact, recording).", required=True),
        Column("given_at", "timestamp", "When it was given (UTC).", required=True),
        Column("withdrawn_at", "timestamp", "When it was withdrawn (UTC)."),
        Column("evidence", "text", "Where the consent is recorded, e.g. a signed form's reference (personal "
               "data: erased with the customer)."),
        Column("recorded_by", "text", "Who recorded it.", required=True),
    ),
    key="consent_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "council_meetings",
    "Meetings of the customer council.",
    (
        Column("meeting_id", "text", "Meeting id (MT0001 …).", required=True),
        Column("title", "text", "Its name.", required=True),
        Column("held_on", "date", "The day it is (or was) held.", required=True),
        Column("place", "text", "Where (a store, an office, online)."),
        Column("minutes", "text", "The minutes."),
        Column("created_by", "text", "Who planned it.", required=True),
        Column("updated_at", "timestamp", "Last change (UTC).", required=True),
    ),
    key="meeting_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "council_agenda",
    "A meeting's agenda items: each the change the council is consulted on.",
    (
        Column("meeting_id", "text", "The meeting.", required=True),
        Column("item", "integer", "Item number within the meeting, from 1.", required=True),
        Column("title", "text", "What is discussed.", required=True),
        Column("change", "text", "The change the council is consulted on (e.g. a new delivery policy)."),
        Column("factor", "text", "The factor it concerns (a factor id of the taxonomy)."),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "council_attendance",
    "Who attended each meeting: present, absent or excused.",
    (
        Column("meeting_id", "text", "The meeting.", required=True),
        Column("member_id", "text", "The membership.", required=True),
        Column("status", "enum", "Attendance.", required=True, allowed=COUNCIL_ATTENDANCE),
        Column("note", "text", "A note (personal data: erased with the customer)."),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "council_decisions",
    "What the council decided, each on an agenda item.",
    (
        Column("decision_id", "text", "Decision id (DC0001 …).", required=True),
        Column("meeting_id", "text", "The meeting.", required=True),
        Column("item", "integer", "The agenda item it decides."),
        Column("text", "text", "What was decided.", required=True),
        Column("recorded_by", "text", "Who recorded it.", required=True),
        Column("recorded_at", "timestamp", "When (UTC).", required=True),
    ),
    key="decision_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "council_actions",
    "The council's action tracker: what is to be done, by whom (a web app user), by when.",
    (
        Column("action_id", "text", "Action id (AC0001 …).", required=True),
        Column("meeting_id", "text", "The meeting it came from.", required=True),
        Column("decision_id", "text", "The decision it carries out."),
        Column("what", "text", "What is to be done.", required=True),
        Column("owner", "text", "Who does it (a web app user's e-mail).", required=True),
        Column("due_on", "date", "When it is due.", required=True),
        Column("status", "enum", "Where it stands.", required=True, allowed=COUNCIL_ACTION_STATUSES),
        Column("done_on", "date", "When it was done or dropped."),
        Column("updated_by", "text", "Who changed it last.", required=True),
        Column("updated_at", "timestamp", "Last change (UTC).", required=True),
    ),
    key="action_id",
    ingestable=False,
    since=9,
))


# -- ideas --
_add(Table(
    "ideas",
    "The suggestion box (`centric.ideas`): ideas of customers and employees, submitted in the web app, on the "
    "public idea page or imported (`centric ideas import`, `centric ingest ideas`). An idea merged into "
    "another keeps its row and points to it (`merged_into`).",
    (
        Column("idea_id", "text", "Idea id (I000001 … for ideas submitted in centric; derived from the row's "
               "content when a file has none).", required=True, kind="key",
               aliases=("idea_id", "idea id", "suggestion_id", "id pomysłu", "pomysł id", "id идеи", "id idea")),
        CUSTOMER_ID,
        Column("created_at", "timestamp", "When it was submitted (UTC).", required=True,
               aliases=("created_at", "submitted_at", "submitted", "data zgłoszenia", "дата подачи",
                        "data invio") + DATE_ALIASES),
        Column("title", "text", "Short title (personal data possible).",
               aliases=("title", "subject", "tytuł", "temat", "заголовок", "тема", "titolo", "oggetto")),
        Column("text", "text", "The idea in the author's words (personal data possible).", required=True,
               aliases=("text", "idea", "suggestion", "description", "pomysł", "sugestia", "opis", "treść",
                        "идея", "предложение", "описание", "текст", "suggerimento", "proposta",
                        "descrizione", "testo")),
        Column("author_kind", "enum", "Who proposed it: customer (also when empty) or employee.",
               allowed=IDEA_AUTHORS, aliases=("author_kind", "author type", "autor typ", "тип автора",
                                              "tipo autore")),
        Column("author_name", "text", "The author's name as given (personal data).",
               aliases=("author_name", "author", "name", "autor", "imię i nazwisko", "автор", "имя", "autore",
                        "nome")),
        LANGUAGE,
        Column("factor", "text", "The factor of the taxonomy it addresses (suggested by the text pipeline when "
               "empty; editable).", aliases=("factor", "czynnik", "фактор", "fattore")),
        Column("status", "enum", "Where it stands: new (also when empty), under_review, planned, done, declined.",
               allowed=IDEA_STATUSES, aliases=("status", "stan", "статус", "stato")),
        Column("votes", "integer", "Votes counted elsewhere (an export's vote count); centric's own votes are in "
               "`idea_votes`.", range=(0, 10_000_000), aliases=("votes", "głosy", "glosy", "голоса", "voti")),
        Column("author_email", "text", "E-mail the author gave on the public idea page (personal data).",
               kind="email", ingested=False),
        Column("user_id", "text", "The employee's web user, when submitted in the web app.", ingested=False),
        Column("source", "text", "web, public, import or demo.", ingested=False),
        Column("factor_source", "text", "suggested (by the text pipeline), set (by a person) or import.",
               ingested=False),
        Column("answer", "text", "The last answer given with a status change.", ingested=False),
        Column("answered_at", "timestamp", "First status change with an answer (UTC).", ingested=False),
        Column("merged_into", "text", "The idea this one was merged into.", ingested=False),
        Column("flags", "json", "Why a public submission looked automated (honeypot, too_fast, bad_timestamp, "
               "rate_limited), as a JSON list: kept aside, not listed or counted until released.", ingested=False),
        Column("ip_hash", "text", "Keyed SHA-256 of a public sender's address (never the address).", ingested=False),
        Column("updated_at", "timestamp", "Last change (UTC).", ingested=False),
    ),
    key="idea_id",
    customer_ref="optional",
    since=9,
))

_add(Table(
    "idea_votes",
    "One vote per person and idea (the store refuses a second): employees' votes in the web app.",
    (
        Column("idea_id", "text", "The idea.", required=True),
        Column("voter", "text", "Who voted: user:U0001 or customer:C0000042 (erased: a random token).",
               required=True),
        Column("voter_kind", "enum", "employee or customer.", allowed=IDEA_AUTHORS, required=True),
        Column("voted_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "idea_comments",
    "Comments on ideas.",
    (
        Column("comment_id", "text", "Comment id.", required=True),
        Column("idea_id", "text", "The idea.", required=True),
        Column("author", "text", "Who wrote it (a user's e-mail, or a customer id).", required=True),
        Column("author_kind", "enum", "employee or customer.", allowed=IDEA_AUTHORS, required=True),
        Column("customer_id", "text", "The customer who wrote it (empty for employees or once erased)."),
        Column("text", "text", "The comment (personal data possible).", required=True),
        Column("created_at", "timestamp", "When (UTC).", required=True),
    ),
    key="comment_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "idea_status_changes",
    "Every status change of an idea, with the answer the author was given and how it reached them.",
    (
        Column("idea_id", "text", "The idea.", required=True),
        Column("from_status", "text", "Status before.", required=True),
        Column("to_status", "enum", "Status after.", allowed=IDEA_STATUSES, required=True),
        Column("answer", "text", "The answer to the author.", required=True),
        Column("changed_by", "text", "Who changed it.", required=True),
        Column("changed_at", "timestamp", "When (UTC).", required=True),
        Column("notified", "text", "emailed, or why not: no_mail_server, no_address, mail_failed (the answer is "
               "always on the idea's page)."),
        Column("notified_to", "text", "The address it was e-mailed to, masked (a…@example.com)."),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "idea_rewards",
    "Rewards given for ideas.",
    (
        Column("reward_id", "text", "Reward id.", required=True),
        Column("idea_id", "text", "The idea.", required=True),
        Column("what", "text", "What was given (a voucher, points, a day off …).", required=True),
        Column("amount", "number", "How much (points or money; empty when not counted)."),
        Column("unit", "text", "points, or a currency code."),
        Column("recipient", "text", "To whom (personal data).", required=True),
        Column("given_by", "text", "Who recorded it.", required=True),
        Column("given_at", "timestamp", "When (UTC).", required=True),
    ),
    key="reward_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "idea_merges",
    "Ideas merged into another: its voters joined (each person counted once), its comments moved.",
    (
        Column("merged_id", "text", "The idea merged away.", required=True),
        Column("into_id", "text", "The idea that stays.", required=True),
        Column("similarity", "number", "How alike the texts were (Jaccard of character 5-grams, 0–1)."),
        Column("votes_moved", "integer", "Voters of the merged idea who had not voted for the other.", required=True),
        Column("comments_moved", "integer", "Comments moved.", required=True),
        Column("merged_by", "text", "Who merged them.", required=True),
        Column("merged_at", "timestamp", "When (UTC).", required=True),
    ),
    ingestable=False,
    since=9,
))


# -- orientation --
ORIENTATION_CRITERIA = ("attitude", "communication", "product_knowledge", "conflict_handling", "clear_speech",
                        "adapting")
ORIENTATION_VIEWS = ("manager", "self")
_add(Table(
    "orientation_assessments",
    "Staff customer-orientation: a manager's assessment of one employee, or the employee's own (self view), "
    "one rating per criterion on the scale 1–5 (see docs/orientation.md); personal data of the employee, "
    "erased with them (`centric.orientation.forget_employee`).",
    (
        Column("assessment_id", "text", "Assessment id; derived from the row when absent.", required=True,
               kind="key", aliases=("assessment_id", "id", "assessment", "id oceny", "id оценки", "id valutazione")),
        Column("employee_id", "text", "The employee assessed (`employees.employee_id`).", required=True,
               aliases=("employee_id", "employee", "staff_id", "id pracownika", "nr ewidencyjny", "pracownik",
                        "табельный номер", "сотрудник", "matricola", "dipendente")),
        Column("assessed_at", "timestamp", "When the assessment was made (UTC).", required=True,
               aliases=("assessed_at", "assessment date", "data oceny", "дата оценки", "data valutazione")
               + DATE_ALIASES),
        Column("view", "enum", "Whose view: the manager's, or the employee's own (self-assessment).", required=True,
               allowed=ORIENTATION_VIEWS, aliases=("view", "perspective", "widok", "perspektywa", "вид", "взгляд",
                                                   "punto di vista", "prospettiva")),
        Column("assessor", "text", "Who filled it in: the manager's web login (for a self view entered on the "
               "employee's behalf, the manager who entered it; for one sent by the employee's own link, the "
               "employee's id).",
               aliases=("assessor", "manager", "oceniający", "oceniajacy", "kierownik", "оценщик", "руководитель",
                        "valutatore", "responsabile")),
        Column("unit", "text", "The employee's unit when assessed; empty: their unit in `employees`.",
               aliases=("unit", "store", "jednostka", "sklep", "подразделение", "магазин", "unità", "negozio")),
        Column("attitude", "integer", "Calm and positive attitude, 1–5.", range=(1, 5),
               aliases=("attitude", "calm and positive attitude", "postawa", "spokojna i pozytywna postawa",
                        "настрой", "спокойный позитивный настрой", "atteggiamento", "atteggiamento calmo e positivo")),
        Column("communication", "integer", "Confident, friendly communication, 1–5.", range=(1, 5),
               aliases=("communication", "friendly communication", "komunikacja", "życzliwa komunikacja",
                        "общение", "дружелюбное общение", "comunicazione", "comunicazione cordiale")),
        Column("product_knowledge", "integer", "Knowledge of the products, 1–5.", range=(1, 5),
               aliases=("product_knowledge", "product knowledge", "knowledge", "znajomość produktów",
                        "wiedza o produktach", "знание товара", "знание продукции", "conoscenza dei prodotti",
                        "conoscenza prodotti")),
        Column("conflict_handling", "integer", "Handling conflicts, 1–5.", range=(1, 5),
               aliases=("conflict_handling", "conflicts", "handling conflicts", "rozwiązywanie konfliktów",
                        "konflikty", "разрешение конфликтов", "конфликты", "gestione dei conflitti", "conflitti")),
        Column("clear_speech", "integer", "Clear speech, 1–5.", range=(1, 5),
               aliases=("clear_speech", "speech", "clear speech", "wyraźna mowa", "dykcja", "чёткая речь",
                        "четкая речь", "речь", "chiarezza espositiva", "dizione")),
        Column("adapting", "integer", "Adapting to different customers, 1–5.", range=(1, 5),
               aliases=("adapting", "adaptability", "adapting to customers", "dopasowanie do klienta",
                        "elastyczność", "адаптация к клиенту", "гибкость", "adattamento al cliente", "flessibilità")),
        Column("comment", "text", "Free-text comment (personal data of the employee).",
               aliases=("comment", "comments", "note", "komentarz", "uwagi", "комментарий", "commento")),
    ),
    key="assessment_id",
    one_of=ORIENTATION_CRITERIA,
    since=9,
))


# -- mystery shopping: checklist templates, visits, their answers and attachments --------------------------
MYSTERY_ANSWERS = ("yes", "no", "na")
_add(Table(
    "mystery_templates",
    "Mystery-shopping checklists (`centric mystery template add`): sections of items with weights, critical "
    "(knock-out) items, whether \"not applicable\" is allowed, and the factor each item measures. Each change "
    "is a new version; a visit keeps the version it was scored on.",
    (
        Column("template_id", "text", "The template's id (lower-case letters, digits and dashes).", required=True),
        Column("version", "integer", "Version, from 1.", required=True),
        Column("name", "text", "Name shown in the app and the report.", required=True),
        Column("definition", "json", "Sections and items (ids, texts per language, weight, critical, na, "
               "factor), as loaded.", required=True),
        Column("content_hash", "text", "SHA-256 of the definition (the same file again adds no version).",
               required=True),
        Column("source", "text", "Where it was loaded from."),
        Column("created_at", "timestamp", "When added (UTC).", required=True),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "mystery_visits",
    "One mystery-shopping visit: a store (ours or a competitor's) scored on a template version. `score` = "
    "passed weight / applicable weight × 100, and 0 when a critical item failed (`raw_score` keeps the "
    "weighted share then).",
    (
        Column("visit_id", "text", "Visit id: generated by the form that entered it (a resent visit is stored "
               "once) or taken from the imported file.", required=True),
        Column("template_id", "text", "The template.", required=True),
        Column("template_version", "integer", "The template's version the visit was scored on.", required=True),
        Column("store", "text", "The store visited (`units.unit` for ours; the competitor's store as named).",
               required=True),
        Column("brand", "text", "`ours`, or the competitor's name (as in `feedback.brand`).", required=True),
        Column("shopper", "text", "Who visited: the web user's name (`users.agent`) or the name in the import."),
        Column("visited_at", "timestamp", "When (UTC).", required=True),
        Column("passed_weight", "number", "Sum of the weights of the items passed.", required=True),
        Column("applicable_weight", "number", "Sum of the weights of the items answered yes or no.",
               required=True),
        Column("raw_score", "number", "passed / applicable × 100 (empty when nothing applied).", range=(0, 100)),
        Column("score", "number", "The visit's score: `raw_score`, or 0 when a critical item failed.",
               range=(0, 100)),
        Column("failed_critical", "boolean", "Whether a critical item was answered no.", required=True),
        Column("notes", "text", "The shopper's notes (may name staff: personal data; escaped wherever shown)."),
        Column("case_id", "text", "The case opened for the store's manager by a failed critical item."),
        Column("entered_by", "text", "Who entered it (a user's e-mail, or import:FILE)."),
        Column("created_at", "timestamp", "When stored (UTC).", required=True),
    ),
    key="visit_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "mystery_answers",
    "One answer per visit × checklist item, with the item's weight, critical flag and factor as scored.",
    (
        Column("visit_id", "text", "The visit.", required=True),
        Column("item_id", "text", "The item's id in the template.", required=True),
        Column("section_id", "text", "The item's section.", required=True),
        Column("answer", "enum", "yes (passed), no (failed) or na (not applicable: not scored).", required=True,
               allowed=MYSTERY_ANSWERS),
        Column("weight", "number", "The item's weight.", required=True),
        Column("critical", "boolean", "A knock-out item: answered no, the visit fails.", required=True),
        Column("factor", "text", "The factor of the taxonomy the item measures.", required=True),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "mystery_attachments",
    "Photos and receipts attached to a visit (JPEG, PNG or PDF, checked by their bytes), served only to those "
    "who may read the visit.",
    (
        Column("attachment_id", "text", "Attachment id.", required=True),
        Column("visit_id", "text", "The visit.", required=True),
        Column("media_type", "text", "image/jpeg, image/png or application/pdf (from the bytes, not the name).",
               required=True),
        Column("size", "bigint", "Size in bytes.", required=True),
        Column("sha256", "text", "SHA-256 of the bytes.", required=True),
        Column("content", "text", "The bytes, base64-encoded (personal data possible: faces, names).",
               required=True),
        Column("created_at", "timestamp", "When stored (UTC).", required=True),
    ),
    key="attachment_id",
    ingestable=False,
    since=9,
))


_add(Table(
    "orientation_invitations",
    "One signed single-use link per employee and period for the self-assessment of customer orientation "
    "(`centric orientation invite`): the employee fills in their own view at `/o/TOKEN` (see docs/orientation.md). "
    "Unlike an employee survey's link it is not anonymous: the answer is the employee's self view.",
    (
        Column("invitation_id", "bigint", "A random number (the link's token encodes it).", required=True),
        Column("period", "text", "The period the self-assessment is for (2026-Q2, 2026-05).", required=True),
        Column("employee_id", "text", "The employee invited.", required=True),
        Column("unit", "text", "The employee's store or department when invited.", required=True),
        Column("language", "text", "Language of the form.", required=True, kind="language"),
        Column("expires_on", "date", "The last day the link takes an answer.", required=True),
        Column("used", "boolean", "Whether the link was answered.", required=True),
        Column("assessment_id", "text", "The self view the link stored (`orientation_assessments`)."),
    ),
    key="invitation_id",
    ingestable=False,
    since=10,
))

# -- enps --
_add(Table(
    "employee_invitations",
    "One signed single-use link per employee and employee survey (`centric enps invite`). It knows who was "
    "invited and whether the link was used, never which answer it gave: no key, no time finer than the survey's "
    "period is shared with `employee_answers` (see docs/enps.md).",
    (
        Column("invitation_id", "bigint", "A random number (the link's token encodes it).", required=True),
        Column("survey_id", "text", "The employee survey.", required=True),
        Column("period", "text", "The survey's period the link is for (2026-Q2, 2026-05).", required=True),
        Column("employee_id", "text", "The employee invited (empty once the employee is erased)."),
        Column("email", "text", "Where the link goes (empty once the employee is erased).", kind="email"),
        Column("unit", "text", "The employee's store or department when invited.", required=True),
        Column("language", "text", "Language of the form and the message.", required=True, kind="language"),
        Column("expires_on", "date", "The last day the link takes an answer.", required=True),
        Column("used", "boolean", "Whether the link was answered (no time is kept).", required=True),
    ),
    key="invitation_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "employee_answers",
    "Anonymous answers to employee surveys (eNPS and pulse): the score, the comment and the unit and period, "
    "nothing else. Ids are random; rows are kept in random order, not in the order they came (see "
    "docs/enps.md).",
    (
        Column("answer_id", "text", "A random id (not sequential, not a time).", required=True),
        Column("survey_id", "text", "The employee survey.", required=True),
        Column("period", "text", "The survey's period (2026-Q2, 2026-05).", required=True),
        Column("unit", "text", "The store or department.", required=True),
        Column("score", "integer", "The main question: eNPS 0–10, or a pulse's 1–5."),
        Column("comment", "text", "The comment (untrusted text, never analysed with the customers' texts)."),
    ),
    key="answer_id",
    ingestable=False,
    since=9,
))

_add(Table(
    "employee_ratings",
    "Answers to an employee survey's extra questions (pulse ratings), one row per answer × question.",
    (
        Column("answer_id", "text", "The answer in `employee_answers`.", required=True),
        Column("question_id", "text", "The question's id in the survey's definition.", required=True),
        Column("value", "text", "The answer (a rating, an option's id or text).", required=True),
    ),
    ingestable=False,
    since=9,
))

_add(Table(
    "employee_themes",
    "The factors (themes) the text pipeline finds in employee comments, with the workplace taxonomy "
    "(`centric enps analyze`); kept apart from `mentions`, which are about customers.",
    (
        Column("answer_id", "text", "The answer in `employee_answers`.", required=True),
        Column("factor", "text", "The workplace factor (workload, pay, management …).", required=True),
        Column("sentiment", "enum", "The factor's sentiment in the comment.",
               allowed=("positive", "neutral", "negative")),
    ),
    ingestable=False,
    since=9,
))


LOOKUPS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "identities": ("customer_id",),
    "customer_merges": ("into_customer_id",),
    "customer_scores": ("customer_id",),
    "orders": ("customer_id",),
    "responses": ("customer_id", "response_id"),
    "feedback": ("customer_id", "feedback_id"),
    "events": ("customer_id",),
    "cases": ("case_id", "customer_id"),
    "case_events": ("case_id",),
    "case_signals": ("case_id",),
    "case_clocks": ("case_id",),
    "text_analyses": ("text_id",),
    "mentions": ("text_id",),
    "survey_invitations": ("invitation_id",),
    "mystery_visits": ("visit_id",),
}
"""The columns the web app looks one customer's or one case's rows up by. ``centric serve`` (and ``centric
demo``) index them (:func:`lookup_ddl`): without an index, finding one customer's rows reads the whole table
(milliseconds per table, a page reads a dozen); ingest adds none, as an index would slow a large load."""


def lookup_ddl() -> list[str]:
    """CREATE INDEX statements for :data:`LOOKUPS` (idempotent)."""
    return [f'CREATE INDEX IF NOT EXISTS "lookup_{t}_{c}" ON "{t}" ("{c}")'
            for t, cols in LOOKUPS.items() for c in cols]


def ddl(version: int | None = None, types: dict[str, str] | None = None, backfill: bool = True) -> list[str]:
    """CREATE TABLE statements for every table (or for those added in schema ``version``). Keys are
    kept unique by ingest rather than by an index: an index on a million text keys would double a
    load's time and memory. ``types`` maps the logical types to another engine's (default: DuckDB's
    ``SQL_TYPES``); ``backfill``: with the statements that fill a version's new columns in existing rows
    (``BACKFILLS``)."""
    types = types or SQL_TYPES
    statements = []
    for t in TABLES.values():
        if version is not None and t.since < version:  # columns added to a table that existed before
            statements += [f'ALTER TABLE "{t.name}" ADD COLUMN IF NOT EXISTS "{c.name}" {types[c.type]}'
                           for c in t.columns if c.since == version]
        if version is not None and t.since != version:
            continue
        cols = []
        for c in t.columns:
            col = f'"{c.name}" {types[c.type]}'
            if c.required and not (c.name == "customer_id" and t.customer_ref != "required"):
                col += " NOT NULL"
            cols.append(col)
        statements.append(f'CREATE TABLE IF NOT EXISTS "{t.name}" (\n  ' + ",\n  ".join(cols) + "\n)")
    return statements + ([b.sql() for b in BACKFILLS.get(version, [])] if backfill else [])


def markdown() -> str:
    """The data model as Markdown; docs/data-model.md is exactly this text."""
    out = [
        "# Data model",
        "",
        "<!-- Generated from src/centric/schema.py by `centric schema --markdown`; a test fails when they "
        "differ. -->",
        "",
        f"Schema version {SCHEMA_VERSION}. One store (a DuckDB file by default) holds these tables. "
        "Times are stored in UTC. The table names and the columns `amount`, `text` and `language` are a "
        "public interface: query them with SQL.",
        "",
        "## Customers and identities",
        "",
        "`customer_id` is centric's own id. Source files identify customers by any of these *identity "
        "columns*; each value is normalised and stored in `identities`. Records that share any identity "
        "resolve to one customer, transitively: the shop's e-mail, the call centre's phone number and a "
        "social handle seen together in one record become one customer with one timeline. When a record "
        "links two existing customers they are merged and the merge is kept in `customer_merges`. "
        "Feedback about a competitor attaches to a customer only when its identity is already known.",
        "",
        "| identity column | kind | recognised names (examples) |",
        "|---|---|---|",
    ]
    for kind, c in IDENTITY_INPUTS.items():
        out.append(f"| `{c.name}` | {kind} ({c.describe_allowed() or c.doc}) | {', '.join(c.aliases[:6])} |")
    out += [""]
    for t in TABLES.values():
        out += [f"## `{t.name}`", "", t.doc, ""]
        facts = []
        if t.key:
            facts.append(f"Key: `{t.key}`.")
        if t.ingestable:
            facts.append("Loaded with `centric ingest " + t.name + " FILE`.")
            if t.customer_ref == "required":
                facts.append("Each row needs at least one identity column.")
            elif t.customer_ref == "optional":
                facts.append("Identity columns are optional (anonymous rows are kept).")
        else:
            facts.append("Written by centric itself.")
        if t.one_of:
            facts.append("Each row needs at least one of " + ", ".join(f"`{c}`" for c in t.one_of) + ".")
        if t.name in LOOKUPS:
            facts.append("Indexed by `centric serve` on " + ", ".join(f"`{c}`" for c in LOOKUPS[t.name]) + ".")
        out += [" ".join(facts), ""]
        out += ["| column | type | required | allowed values | description |", "|---|---|---|---|---|"]
        for c in t.columns:
            req = "yes" if c.required else "no"
            out.append(f"| `{c.name}` | {c.type} | {req} | {c.describe_allowed()} | {c.doc} |")
        out.append("")
    return "\n".join(out)
