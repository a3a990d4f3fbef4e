"""From text columns to typed, validated rows — in SQL, inside DuckDB, so that a million rows never
pass through Python one by one.

``build_typed`` turns the staging table into ``_centric_typed`` (one typed column per centric column,
plus the raw text beside it) and ``_centric_errors`` (one row per problem: row, column, value,
reason). European conventions are understood: ``1 234,56``, ``1.234,56``, ``1,234.56``, currency
symbols; dates such as ``2025-12-31``, ``31.12.2025``, ``31/12/2025`` and ``12/31/2025`` (decided
per column, see the ``day_first`` setting), with or without a time and an offset; everything is
stored in UTC.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import duckdb

from .. import schema
from .readers import STAGE, _q
from .recode import ColumnRule, rule_sql

TYPED = "_centric_typed"
ERRORS = "_centric_errors"

_CURRENCY_WORDS = r"(?i)(pln|zł|zl|eur|usd|gbp|chf|rub|uah|руб\.?|грн\.?|€|\$|£|₽|₴)"

MACROS = [
    rf"""CREATE OR REPLACE TEMP MACRO centric_num_clean(s) AS
        regexp_replace(regexp_replace(trim(s), '{_CURRENCY_WORDS}', '', 'g'), '[\s\x{{00A0}}\x{{202F}}'']', '', 'g')""",
    r"""CREATE OR REPLACE TEMP MACRO centric_num_c(c, comma_dec) AS (CASE
        WHEN regexp_full_match(c, '[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+') THEN TRY_CAST(c AS DOUBLE)
        WHEN NOT regexp_full_match(c, '[+-]?[0-9][0-9.,]*|[+-]?[.,][0-9]+') THEN NULL
        WHEN contains(c, ',') AND contains(c, '.') THEN CASE
            WHEN strpos(reverse(c), ',') < strpos(reverse(c), '.') THEN CASE
                WHEN regexp_full_match(c, '[+-]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]+')
                THEN TRY_CAST(replace(replace(c, '.', ''), ',', '.') AS DOUBLE) END
            ELSE CASE
                WHEN regexp_full_match(c, '[+-]?[0-9]{1,3}(,[0-9]{3})+\.[0-9]+')
                THEN TRY_CAST(replace(c, ',', '') AS DOUBLE) END
            END
        WHEN contains(c, ',') THEN CASE
            WHEN regexp_full_match(c, '[+-]?[0-9]{1,3}(,[0-9]{3}){2,}') THEN TRY_CAST(replace(c, ',', '') AS DOUBLE)
            WHEN regexp_full_match(c, '[+-]?[0-9]{1,3},[0-9]{3}') AND NOT comma_dec
                THEN TRY_CAST(replace(c, ',', '') AS DOUBLE)
            WHEN regexp_full_match(c, '[+-]?[0-9]*,[0-9]+') THEN TRY_CAST(replace(c, ',', '.') AS DOUBLE)
            END
        WHEN contains(c, '.') THEN CASE
            WHEN regexp_full_match(c, '[+-]?[0-9]{1,3}(\.[0-9]{3}){2,}') THEN TRY_CAST(replace(c, '.', '') AS DOUBLE)
            WHEN regexp_full_match(c, '[+-]?[0-9]{1,3}\.[0-9]{3}') AND comma_dec
                THEN TRY_CAST(replace(c, '.', '') AS DOUBLE)
            WHEN regexp_full_match(c, '[+-]?[0-9]*\.[0-9]+') THEN TRY_CAST(c AS DOUBLE)
            END
        ELSE TRY_CAST(c AS DOUBLE) END)""",
    r"""CREATE OR REPLACE TEMP MACRO centric_num(s, comma_dec) AS (CASE
        WHEN regexp_full_match(s, '-?[0-9]+(\.[0-9]+)?') AND NOT (comma_dec AND contains(s, '.'))
        THEN TRY_CAST(s AS DOUBLE)
        ELSE centric_num_c(centric_num_clean(s), comma_dec) END)""",
    r"""CREATE OR REPLACE TEMP MACRO centric_ts_norm(s) AS
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(trim(s),
            '^([0-9]{4}-[0-9]{2}-[0-9]{2})T', '\1 '),
            '\s*(Z|UTC|GMT)$', '+00:00', 'i'),
            '([0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)\s*([+-][0-9]{2})$', '\1\4:00'),
            '([0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)\s+([+-][0-9]{2}:?[0-9]{2})$', '\1\4')""",
]

_AWARE = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?[+-][0-9]{2}:?[0-9]{2}$"
_TIMES = ["", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f"]
_ISO = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?"


def _date_formats(day_first: bool) -> list[str]:
    slash = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    slash2 = "%d/%m/%y" if day_first else "%m/%d/%y"
    return ["%Y-%m-%d", "%d.%m.%Y", slash, "%d-%m-%Y", "%Y/%m/%d", "%Y.%m.%d", "%d.%m.%y", slash2]


def _fmt_list(day_first: bool, aware: bool) -> str:
    fmts = [d + t + ("%z" if aware else "") for d in _date_formats(day_first) for t in _TIMES if t or not aware]
    return "[" + ", ".join(f"'{f}'" for f in fmts) + "]"


def timestamp_sql(raw: str, day_first: bool, tz: str) -> str:
    n = f"centric_ts_norm({raw})"
    iso = f"TRY_CAST({raw} AS TIMESTAMP)"
    naive = f"try_strptime({n}, {_fmt_list(day_first, False)})"
    if tz.upper() != "UTC":
        naive = f"timezone('UTC', timezone('{tz}', {naive}))"
        iso = f"timezone('UTC', timezone('{tz}', {iso}))"
    aware = f"timezone('UTC', try_strptime({n}, {_fmt_list(day_first, True)}))"
    return (f"(CASE WHEN regexp_full_match({raw}, '{_ISO}') THEN {iso} "
            f"WHEN regexp_matches({n}, '{_AWARE}') THEN {aware} ELSE {naive} END)")


SYNONYMS: dict[str, dict[str, str]] = {
    "source": {
        **dict.fromkeys(["reviews", "opinion", "opinia", "opinie", "recenzja", "отзыв", "recensione",
                         "recensioni"], "review"),
        **dict.fromkeys(["post", "social_media", "facebook", "twitter", "x", "instagram", "tweet",
                         "tiktok", "media_społecznościowe", "соцсети", "социальные_сети", "соцсеть"], "social"),
        **dict.fromkeys(["skarga", "reklamacja", "жалоба", "претензия", "reclamo", "lamentela",
                         "complaints"], "complaint"),
        **dict.fromkeys(["czat", "чат", "live_chat"], "chat"),
        **dict.fromkeys(["e-mail", "mail", "письмо", "posta_elettronica"], "email"),
        **dict.fromkeys(["survey", "ankieta", "опрос", "sondaggio", "survey_comments"], "survey_comment"),
        **dict.fromkeys(["mystery_shopping", "tajemniczy_klient", "тайный_покупатель",
                         "cliente_misterioso"], "mystery_shopper"),
        **dict.fromkeys(["observation_note", "obserwacja", "наблюдение", "osservazione"], "observation"),
    },
    "status": {
        **dict.fromkeys(["new", "nowe", "nowy", "otwarte", "открыто", "открыт", "новое", "новый", "aperto",
                         "aperta", "nuovo"], "open"),
        **dict.fromkeys(["in_progress", "w_toku", "w_trakcie", "в_работе", "in_lavorazione"], "in_progress"),
        **dict.fromkeys(["pending", "oczekuje", "ожидание", "in_attesa"], "waiting"),
        **dict.fromkeys(["solved", "done", "rozwiązane", "rozwiazane", "решено", "решён", "risolto"], "resolved"),
        **dict.fromkeys(["zamknięte", "zamkniete", "закрыто", "закрыт", "chiuso", "chiusa"], "closed"),
    },
    "priority": {
        **dict.fromkeys(["niski", "низкий", "bassa"], "low"),
        **dict.fromkeys(["medium", "normalny", "średni", "sredni", "средний", "обычный", "media",
                         "normale"], "normal"),
        **dict.fromkeys(["wysoki", "высокий", "alta"], "high"),
        **dict.fromkeys(["critical", "pilny", "krytyczny", "срочный", "критический", "urgente"], "urgent"),
    },
    "kind": {
        **dict.fromkeys(["created", "open", "new"], "opened"),
        **dict.fromkeys(["assign", "assignment"], "assigned"),
        **dict.fromkeys(["transfer", "forwarded", "handover"], "transferred"),
        **dict.fromkeys(["reply", "response", "answer", "answered"], "agent_response"),
        **dict.fromkeys(["auto-reply", "autoreply", "automatic_reply", "auto_response"], "auto_reply"),
        **dict.fromkeys(["escalation", "escalate"], "escalated"),
        **dict.fromkeys(["resolve", "solved"], "resolved"),
        **dict.fromkeys(["reopen"], "reopened"),
        **dict.fromkeys(["close"], "closed"),
        **dict.fromkeys(["comment"], "note"),
    },
}

COUNTRIES = {
    **dict.fromkeys(["polska", "poland", "польша", "polonia"], "PL"),
    **dict.fromkeys(["italia", "italy", "włochy", "wlochy", "италия"], "IT"),
    **dict.fromkeys(["russia", "rosja", "россия", "russia"], "RU"),
    **dict.fromkeys(["ukraine", "ukraina", "украина", "ucraina"], "UA"),
    **dict.fromkeys(["germany", "niemcy", "германия", "germania", "deutschland"], "DE"),
    **dict.fromkeys(["france", "francja", "франция", "francia"], "FR"),
    **dict.fromkeys(["spain", "hiszpania", "испания", "spagna", "españa"], "ES"),
    **dict.fromkeys(["united kingdom", "uk", "great britain", "wielka brytania", "великобритания",
                     "regno unito"], "GB"),
}
LANGUAGES = {
    **dict.fromkeys(["polish", "polski", "польский", "polacco"], "pl"),
    **dict.fromkeys(["italian", "włoski", "wloski", "итальянский", "italiano"], "it"),
    **dict.fromkeys(["russian", "rosyjski", "русский", "russo"], "ru"),
    **dict.fromkeys(["english", "angielski", "английский", "inglese"], "en"),
    **dict.fromkeys(["ukrainian", "ukraiński", "ukrainski", "украинский", "українська", "ucraino"], "uk"),
    **dict.fromkeys(["german", "niemiecki", "немецкий", "tedesco", "deutsch"], "de"),
    **dict.fromkeys(["french", "francuski", "французский", "francese"], "fr"),
    **dict.fromkeys(["spanish", "hiszpański", "испанский", "spagnolo", "español"], "es"),
}
CURRENCIES = {"zł": "PLN", "zl": "PLN", "€": "EUR", "$": "USD", "£": "GBP", "₽": "RUB", "руб": "RUB",
              "руб.": "RUB", "₴": "UAH", "грн": "UAH", "грн.": "UAH"}
TRUE = ["true", "t", "yes", "y", "1", "tak", "да", "sì", "si", "vero"]
FALSE = ["false", "f", "no", "n", "0", "nie", "нет", "falso"]


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _map_sql(expr: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return expr
    keys = ", ".join(_lit(k) for k in mapping)
    vals = ", ".join(_lit(v) for v in mapping.values())
    return f"coalesce(map_extract_value(MAP([{keys}], [{vals}]), {expr}), {expr})"


@functools.lru_cache(maxsize=200_000)
def normalize_phone(raw: str | None, country: str | None) -> str | None:
    """A phone number in E.164, or None when it is not a possible number.

    >>> normalize_phone("601 234 567", "PL")
    '+48601234567'
    >>> normalize_phone("0048 601-234-567", "IT")
    '+48601234567'
    """
    import phonenumbers

    if raw is None or not raw.strip():
        return None
    s = raw.strip()
    if s.startswith("00"):
        s = "+" + s[2:]
    try:
        num = phonenumbers.parse(s, (country or "PL").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HANDLE_URL = re.compile(r"^(https?://)?(www\.)?[a-z0-9.-]+\.[a-z]+/")


def identity_lookups(who: str, default_country: str | None = None) -> list[tuple[str, str]]:
    """The identities (kind, normalised value) that ``who`` may be, normalised as ingest normalises each
    kind (see ``parse_sql``): a crm id as written, an e-mail lower-cased (without ``mailto:``), a phone in
    E.164 (a national number read as one of ``default_country``), a handle lower-cased without a leading
    @ or profile address, a card upper-cased without spaces or dashes.

    >>> identity_lookups(" @AnnaN ")
    [('crm_id', '@AnnaN'), ('handle', 'annan'), ('loyalty_card', '@ANNAN')]
    >>> identity_lookups("601 234 567", "PL")[1]
    ('phone', '+48601234567')
    """
    raw = (who or "").strip()
    if not raw:
        return []
    out = [("crm_id", raw)]
    email = re.sub(r"(?i)^mailto:", "", raw).lower()
    if _EMAIL.fullmatch(email):
        out.append(("email", email))
    phone = normalize_phone(raw, default_country)
    if phone:
        out.append(("phone", phone))
    handle = _HANDLE_URL.sub("", raw.lower()).lstrip("@")
    if handle:
        out.append(("handle", handle))
    card = re.sub(r"[\s-]+", "", raw).upper()
    if card:
        out.append(("loyalty_card", card))
    return out


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    for m in MACROS:
        con.execute(m)
    try:
        con.create_function("centric_phone", normalize_phone, ["VARCHAR", "VARCHAR"], "VARCHAR",
                            null_handling="special", side_effects=False)
    except duckdb.Error:
        pass  # already registered on this connection


@dataclass
class ColumnPlan:
    name: str  # centric column
    column: schema.Column
    raw: str  # SQL expression of the raw text
    label: str  # what a person calls it: the file's column name
    rule: ColumnRule | None = None  # recoding asked for by the mapping file

    @property
    def drops_unknown(self) -> bool:
        return self.rule is not None and self.rule.unknown == "drop"


# slashed dates that can only be read one way: the first number over 12 (day first), or the second
_ONLY_DAY_FIRST = "^(1[3-9]|2[0-9]|3[01])/(0?[1-9]|1[0-2])/"
_ONLY_MONTH_FIRST = "^(0?[1-9]|1[0-2])/(1[3-9]|2[0-9]|3[01])/"


def _decide_comma_decimal(con, raw: str) -> bool:
    if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {STAGE} WHERE contains({raw}, ',') LIMIT 1)"
                       ).fetchall()[0][0]:
        return False  # no comma anywhere: nothing can be a decimal comma
    comma, dot = con.execute(
        f"""SELECT
            count(*) FILTER (WHERE regexp_matches(c, ',[0-9]{{1,2}}$|,[0-9]{{4,}}$')
                             OR (contains(c, '.') AND strpos(reverse(c), ',') < strpos(reverse(c), '.'))),
            count(*) FILTER (WHERE regexp_matches(c, '\\.[0-9]{{1,2}}$|\\.[0-9]{{4,}}$')
                             OR (contains(c, ',') AND strpos(reverse(c), '.') < strpos(reverse(c), ',')))
        FROM (SELECT centric_num_clean({raw}) AS c FROM {STAGE} WHERE {raw} IS NOT NULL)"""
    ).fetchall()[0]
    return comma > dot


def _decide_day_first(con, raw: str, setting: str) -> dict:
    """Day first or month first, and the evidence: how many values can only be read one way, the
    first rows (and a value) that contradict the choice."""
    if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {STAGE} WHERE contains({raw}, '/') LIMIT 1)"
                       ).fetchall()[0][0]:
        return {"day_first": setting != "false", "only_day_first": 0, "only_month_first": 0, "against": []}
    df, mf = con.execute(
        f"""SELECT count(*) FILTER (WHERE regexp_matches(v, '{_ONLY_DAY_FIRST}')),
                  count(*) FILTER (WHERE regexp_matches(v, '{_ONLY_MONTH_FIRST}'))
        FROM (SELECT trim({raw}) AS v FROM {STAGE} WHERE {raw} IS NOT NULL)"""
    ).fetchall()[0]
    # auto: the reading more values allow; day first (European) on a tie
    day_first = setting == "true" if setting in ("true", "false") else not mf > df
    against = con.execute(
        f"""SELECT __row, trim({raw}) FROM {STAGE}
            WHERE regexp_matches(trim({raw}), '{_ONLY_MONTH_FIRST if day_first else _ONLY_DAY_FIRST}')
            ORDER BY __row LIMIT 5"""
    ).fetchall() if (mf if day_first else df) else []
    return {"day_first": day_first, "only_day_first": df, "only_month_first": mf, "against": against}


def decide(con, plan: ColumnPlan, opts: dict[str, str]) -> dict:
    """Column-level choices made by looking at all of a column's values."""
    if plan.column.type in ("integer", "number"):
        return {"comma_dec": _decide_comma_decimal(con, plan.raw)}
    if plan.column.type == "timestamp":
        return _decide_day_first(con, plan.raw, opts["day_first"])
    return {}


def parse_sql(plan: ColumnPlan, raw: str, opts: dict[str, str], decided: dict[str, bool]) -> tuple[str, str]:
    """(typed SQL expression of ``raw``, reason SQL expression used when the raw text is not empty but
    the typed value is NULL)."""
    c = plan.column
    v = f"left({raw}, 80)"
    text = f"nullif(trim({raw}), '')"
    quoted = f"'''' || {v} || ''''"
    if c.type in ("integer", "number"):
        num = f"centric_num({raw}, {'true' if decided['comma_dec'] else 'false'})"
        if c.range:
            lo, hi = c.range
            ok = f"{num} BETWEEN {lo} AND {hi}" + (f" AND {num} = floor({num})" if c.type == "integer" else "")
            typed = f"CASE WHEN {ok} THEN CAST({num} AS {c.sql_type}) END"
            whole = "a whole number" if c.type == "integer" else "a number"
            reason = (f"CASE WHEN {num} IS NULL THEN {quoted} || ' is not a number' ELSE "
                      f"'{c.name} must be {whole} from {lo:g} to {hi:g}, got ' || {quoted} END")
        else:
            typed = num
            reason = f"{quoted} || ' is not a number'"
        return typed, reason
    if c.type == "timestamp":
        day_first = decided["day_first"]
        typed = timestamp_sql(raw, day_first, opts["timezone"])
        example = "31.12.2025 or 31/12/2025" if day_first else "12.31.2025 or 12/31/2025"
        reason = f"{quoted} || ' is not a date (expected e.g. 2025-12-31, {example}, optionally with a time)'"
        other, read, fix = (("month", "day", "false") if day_first else ("day", "month", "true"))
        wrong_way = _ONLY_MONTH_FIRST if day_first else _ONLY_DAY_FIRST
        reason = (f"CASE WHEN regexp_matches(trim({raw}), '{wrong_way}') THEN {quoted} || ' looks {other}-first, "
                  f"but this column is read {read}-first (see --day-first {fix})' ELSE {reason} END")
        return typed, reason
    if c.type == "boolean":
        lv = f"lower(trim({raw}))"
        typed = (f"CASE WHEN {lv} IN ({', '.join(map(_lit, TRUE))}) THEN true "
                 f"WHEN {lv} IN ({', '.join(map(_lit, FALSE))}) THEN false END")
        return typed, f"{quoted} || ' is not yes or no'"
    if c.type == "enum":
        norm = f"regexp_replace(lower(trim({raw})), '[\\s-]+', '_', 'g')"
        mapped = _map_sql(norm, SYNONYMS.get(c.name, {}))
        allowed = ", ".join(_lit(a) for a in c.allowed or ())
        typed = f"CASE WHEN {mapped} IN ({allowed}) THEN {mapped} END"
        return typed, f"{quoted} || ' is not one of: {', '.join(c.allowed or ())}'"
    kind = c.kind or c.name
    if kind == "email":
        e = f"lower(regexp_replace(trim({raw}), '^mailto:', '', 'i'))"
        typed = f"CASE WHEN regexp_full_match({e}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN {e} END"
        return typed, f"{quoted} || ' is not an e-mail address'"
    if kind == "phone":
        country = opts["default_country"].upper()
        return (f"centric_phone({raw}, {_lit(country)})",
                f"{quoted} || ' is not a phone number (without + or 00 it is read as a number of {country}: "
                f"see --default-country)'")
    if kind == "handle":
        h = (f"ltrim(regexp_replace(lower(trim({raw})), "
             f"'^(https?://)?(www\\.)?[a-z0-9.-]+\\.[a-z]+/', ''), '@')")
        return f"nullif({h}, '')", f"{quoted} || ' is not a handle'"
    if kind == "loyalty_card":
        return f"nullif(upper(regexp_replace(trim({raw}), '[\\s-]+', '', 'g')), '')", "'empty card number'"
    if kind == "currency":
        u = _map_sql(f"lower(trim({raw}))", CURRENCIES)
        typed = (f"CASE WHEN regexp_full_match({raw}, '[A-Z]{{3}}') THEN {raw} "
                 f"WHEN regexp_full_match(upper({u}), '[A-Z]{{3}}') THEN upper({u}) END")
        return typed, f"{quoted} || ' is not a currency code (such as PLN, EUR, USD)'"
    if kind == "country":
        u = _map_sql(f"lower(trim({raw}))", {k: v.lower() for k, v in COUNTRIES.items()})
        typed = f"CASE WHEN regexp_full_match({u}, '[a-z]{{2}}') THEN upper({u}) END"
        return typed, f"{quoted} || ' is not a country code (such as PL, IT)'"
    if kind == "language":
        u = _map_sql(f"regexp_replace(lower(trim({raw})), '^([a-z]{{2}})[-_][a-z]{{2}}$', '\\1')", LANGUAGES)
        typed = f"CASE WHEN regexp_full_match({u}, '[a-z]{{2}}') THEN {u} END"
        return typed, f"{quoted} || ' is not a language code (such as pl, en, ru, it)'"
    if c.name in ("channel", "touchpoint"):
        return f"nullif(replace(lower(trim({raw})), ' ', '_'), '')", "'empty'"
    return text, "'empty'"


_IDENTIFIER = re.compile(r'"(?:[^"]|"")*"')


def build_typed(con, table: schema.Table, plans: list[ColumnPlan], opts: dict[str, str],
                source_columns: list[str]) -> dict[str, dict]:
    """Create TYPED (``__row``, the typed columns, ``__bad``, and for recoded columns ``__miss_C``,
    ``__rec_C``, ``__drop_C``) in one pass over the stage, then ERRORS (one row per problem: row, column,
    value as in the file, reason, the row as JSON) for the bad rows only. Returns per column what was
    decided about it (see ``decide``)."""
    inner = ["__row"]
    layer: list[str] = []  # recoded text, computed once below the typed columns (a macro repeated over
    flags: list[str] = []  # a long expression would grow the query beyond what DuckDB binds quickly)
    conds, whys = [], []
    facts: dict[str, dict] = {}
    absent: dict[str, str] = {}  # column -> SQL (over TYPED's inner query) "the row has no value here"
    for p in plans:
        raw_col = _q("__raw_" + p.name)
        raw = shown = p.raw
        if p.rule is not None and p.rule.changes_values:
            text, missing, recoded = rule_sql(p.rule, p.raw, _decide_comma_decimal(con, p.raw))
            facts[p.name] = decide(con, ColumnPlan(p.name, p.column, text, p.label), opts)
            names = [_q(f"__{k}_{p.name}") for k in ("rc", "orig", "miss", "rec")]
            layer += [f"{e} AS {n}" for e, n in zip((text, p.raw, missing, recoded), names, strict=True)]
            raw, shown = names[0], names[1]
            inner += names[1:]
            flags += names[2:]
        else:
            facts[p.name] = decide(con, p, opts)
            if not _IDENTIFIER.fullmatch(p.raw):
                # an expression (a default for empty cells) computed once in the layer: repeated in the
                # parse, it would be hoisted out of its lazy coalesce and evaluated for every row
                raw = _q(f"__in_{p.name}")
                layer.append(f"{p.raw} AS {raw}")
        decided = facts[p.name]
        shown = shown if shown != p.raw else raw_col
        typed, _ = parse_sql(p, raw, opts, decided)
        _, reason = parse_sql(p, raw_col, opts, decided)
        if shown != raw_col:
            reason = (f"CASE WHEN {shown} IS DISTINCT FROM {raw_col} THEN {reason} || ' (recoded from '''"
                      f" || left({shown}, 80) || ''')' ELSE {reason} END")
        empty_col = _q("__empty_" + p.name)
        inner += [f"{typed} AS {_q(p.name)}", f"{raw} AS {raw_col}", f"nullif(trim({raw}), '') IS NULL AS {empty_col}"]
        empty = empty_col  # decided once, below: the raw text is not trimmed again for every condition
        invalid = f"(NOT ({empty}) AND {_q(p.name)} IS NULL)"
        absent[p.name] = empty
        if p.drops_unknown:  # keep the row, leave the field empty, and say so in the summary
            flags.append(f"CASE WHEN {invalid} THEN left({shown}, 80) END AS {_q('__drop_' + p.name)}")
            absent[p.name] = f"{_q(p.name)} IS NULL"
            invalid = "false"
        cond = invalid
        why = f"CASE WHEN {invalid} THEN {reason}"
        if p.column.required and p.column.kind != "key":
            cond += f" OR ({empty})"
            why += f" WHEN {empty} THEN 'required value is empty'"
        conds.append(cond)
        whys.append((_lit(p.label), shown, f"{why} END"))
    present = {p.name for p in plans}
    ids = [k for k in schema.IDENTITY_INPUTS if k in present]
    if table.customer_ref == "required" and ids:
        cond = "(" + " AND ".join(absent[k] for k in ids) + ")"
        conds.append(cond)
        whys.append(("NULL", "NULL", f"CASE WHEN {cond} THEN 'no customer identity (customer id, e-mail, phone, "
                                     "handle or loyalty card)' END"))
    one_of = [k for k in table.one_of if k in present]
    if one_of:
        cond = "(" + " AND ".join(absent[k] for k in one_of) + ")"
        conds.append(cond)
        blanked = [p.name for p in plans if p.name in one_of and p.rule is not None and p.rule.missing]
        why = f"the row has none of: {', '.join(one_of)}" + (
            f" ({', '.join(blanked)} held a no-answer code or nothing)" if blanked else "")
        whys.append(("NULL", "NULL", f"CASE WHEN {cond} THEN {_lit(why)} END"))
    typed_cols = ", ".join([_q(p.name) for p in plans] + flags)
    source = f"(SELECT *, {', '.join(layer)} FROM {STAGE})" if layer else STAGE
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {TYPED} AS
            SELECT __row, {typed_cols}, coalesce({' OR '.join(conds) or 'false'}, false) AS __bad
            FROM (SELECT {', '.join(inner)} FROM {source})"""
    )
    if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {TYPED} WHERE __bad LIMIT 1)").fetchall()[0][0]:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ERRORS} (__row BIGINT, column_name VARCHAR, value VARCHAR, "
                    "reason VARCHAR, __record VARCHAR)")
        return facts
    record = ", ".join(f"{_lit(c)}, {_q(c)}" for c in source_columns)
    why_cols = ", ".join(f"{w} AS __why{i}, {raw} AS __val{i}" for i, (_, raw, w) in enumerate(whys))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _centric_bad AS
            SELECT __row, {why_cols}, __record FROM (
                SELECT {', '.join(inner)}, CAST(json_object({record}) AS VARCHAR) AS __record FROM {source}
                WHERE __row IN (SELECT __row FROM {TYPED} WHERE __bad))"""
    )
    parts = [f"SELECT __row, {label} AS column_name, left(CAST(__val{i} AS VARCHAR), 200) AS value, "
             f"__why{i} AS reason, __record FROM _centric_bad WHERE __why{i} IS NOT NULL"
             for i, (label, _, _) in enumerate(whys)]
    union = " UNION ALL ".join(parts) or "SELECT NULL::BIGINT, NULL, NULL, NULL, NULL WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ERRORS} AS "
                f"SELECT __row, column_name, value, reason, __record FROM ({union}) ORDER BY __row")
    return facts


def recode_counts(con, plans: list[ColumnPlan]) -> dict[str, dict]:
    """Per recoded column: values blanked as no answer, values recoded, values dropped (with the
    commonest ones), counted over TYPED."""
    out: dict[str, dict] = {}
    for p in plans:
        if p.rule is None:
            continue
        c = {"blanked": 0, "recoded": 0, "dropped": 0, "dropped_values": []}
        if p.rule.changes_values:
            c["blanked"], c["recoded"] = con.execute(
                f"SELECT count(*) FILTER (WHERE {_q('__miss_' + p.name)}), "
                f"count(*) FILTER (WHERE {_q('__rec_' + p.name)}) FROM {TYPED}").fetchall()[0]
        if p.drops_unknown:
            top = con.execute(
                f"SELECT {_q('__drop_' + p.name)}, count(*) FROM {TYPED} WHERE {_q('__drop_' + p.name)} IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3").fetchall()
            c["dropped"] = con.execute(
                f"SELECT count({_q('__drop_' + p.name)}) FROM {TYPED}").fetchall()[0][0]
            c["dropped_values"] = [(v, n) for v, n in top]
        out[p.name] = c
    return out
