"""What a person should know after a load, in one line each: what was assumed (the currency of
amounts without one), what the mapping's recoding did, and — when rows were rejected — the setting
that would have read them (``--default-country GB``, ``--currency GBP``, ``--day-first false``).

Each function looks at the staged or typed data of the load under way (see ``transform``) and returns
lines of text; none of them changes the store.
"""

from __future__ import annotations

from .. import schema
from .readers import STAGE, _q
from .transform import ERRORS, TYPED, ColumnPlan, _lit

# countries tried for phone numbers that the default country cannot read, most likely first
PHONE_COUNTRIES = ("GB", "US", "DE", "FR", "IT", "ES", "IE", "NL", "UA", "RU", "CZ", "AT", "CH", "BE", "SE",
                   "NO", "DK", "PT", "LT", "SK", "HU", "RO", "CA", "AU", "IN")
COUNTRY_CURRENCY = {"PL": "PLN", "GB": "GBP", "US": "USD", "CA": "CAD", "AU": "AUD", "IN": "INR", "CH": "CHF",
                    "UA": "UAH", "RU": "RUB", "CZ": "CZK", "SE": "SEK", "NO": "NOK", "DK": "DKK", "HU": "HUF",
                    "RO": "RON", **dict.fromkeys(("DE", "FR", "IT", "ES", "IE", "NL", "AT", "BE", "PT", "LT", "SK",
                                                  "FI", "GR"), "EUR")}
SAMPLE = 300


def _n(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def currency_facts(con, table: schema.Table, assigned: dict[str, str], consts: dict[str, str],
                   symbol: str | None) -> dict | None:
    """Before the stage goes: how many amounts took the currency setting, and how many a symbol
    written with them (``£ 12.50``). None when the table has no currency or the file names it for
    every row."""
    if symbol is None or "currency" in consts:
        return None
    amount = _q(assigned["amount"])
    has_amount = f"nullif(trim({amount}), '') IS NOT NULL"
    # only the amounts without a currency cell count, and only they are trimmed: in a CASE, the amount's
    # test runs on the rows whose currency cell is empty (of an AND, DuckDB may run the amount's test first, on every row)
    where = (f"CASE WHEN nullif(trim({_q(assigned['currency'])}), '') IS NULL THEN {has_amount} ELSE false END"
             if "currency" in assigned else has_amount)
    # the symbol is looked for only in those amounts (a filter, not FILTER: the aggregate's FILTER clause
    # would match the symbol's pattern against every amount)
    assumed, by_symbol = con.execute(
        f"""SELECT count(*) FILTER (WHERE s IS NULL), count(*) FILTER (WHERE s IS NOT NULL)
            FROM (SELECT {symbol} AS s FROM {STAGE} WHERE {where})"""
    ).fetchall()[0]
    return {"assumed": assumed, "by_symbol": by_symbol, "has_column": "currency" in assigned}


def currency_notes(facts: dict | None, opts: dict[str, str], origin: dict[str, str],
                   country: str | None) -> list[str]:
    if not facts:
        return []
    out = []
    if facts["by_symbol"]:
        out.append(f"currency: taken from the symbol written with the amount (£, €, zł …) for {_n(facts['by_symbol'], 'row')}")
    if facts["assumed"]:
        cur = opts["currency"]
        where = "their currency cell is empty" if facts["has_column"] else "the file has no currency column"
        how = {"given": "as given", "environment": "the CENTRIC_CURRENCY setting",
               "default": "the default currency"}[origin["currency"]]
        line = f"currency: {_n(facts['assumed'], 'amount')} without a currency were read as {cur} ({how}; {where})"
        if origin["currency"] != "given":
            guess = COUNTRY_CURRENCY.get(country or "")
            guess = guess if guess and guess != cur else "EUR" if cur != "EUR" else "USD"
            line += f"; if they are in another currency, load again with --currency {guess} --replace"
        out.append(line)
    return out


def recode_notes(plans: list[ColumnPlan], counts: dict[str, dict]) -> list[str]:
    """One line per recoded column: how many values were recoded, blanked, dropped."""
    out = []
    for p in plans:
        c = counts.get(p.name)
        if c is None:
            continue
        parts = []
        if c["recoded"]:
            how = f" ({p.rule.formula})" if p.rule.formula and not p.rule.recode else ""
            parts.append(f"{c['recoded']:,} recoded{how}")
        if c["blanked"]:
            parts.append(f"{c['blanked']:,} left empty as no answer ({', '.join(p.rule.missing)})")
        if c["dropped"]:
            commonest = ", ".join(f"{v!r} ×{n:,}" for v, n in c["dropped_values"])
            parts.append(f"{c['dropped']:,} not valid, left empty with the row kept: {commonest}")
        out.append(f"column '{p.label}' → {p.name}: " + ("; ".join(parts) if parts else "no value needed recoding"))
    return out


def date_notes(plans: list[ColumnPlan], facts: dict[str, dict], origin: dict[str, str]) -> list[str]:
    """For a date column whose values do not all read one way: which rows look the other way."""
    out = []
    for p in plans:
        f = facts.get(p.name) or {}
        if not f.get("against"):
            continue
        day_first = f["day_first"]
        n, m = ((f["only_month_first"], f["only_day_first"]) if day_first
                else (f["only_day_first"], f["only_month_first"]))
        way, other, flag = ("day", "month", "false") if day_first else ("month", "day", "true")
        rows = ", ".join(str(r) for r, _ in f["against"]) + (" …" if n > len(f["against"]) else "")
        why = "as --day-first says" if origin["day_first"] != "default" else (
            f"as {m:,} of its dates can only be {way}-first" if m else f"{way}-first by default")
        out.append(f"column '{p.label}': {n:,} dates look {other}-first (rows {rows}: {f['against'][0][1]!r}), "
                   f"but the column is read {way}-first ({why}), so those rows were rejected; if the file is "
                   f"{other}-first, use --day-first {flag}; dates that read both ways (01/02/2022) were read "
                   f"{way}-first")
    return out


def _phone_plan(plans: list[ColumnPlan]) -> ColumnPlan | None:
    return next((p for p in plans if p.name == "phone"), None)


def phone_country(con, plans: list[ColumnPlan], opts: dict[str, str]) -> tuple[str | None, int, int, int]:
    """(the country that reads most of the phone numbers the default country could not, numbers not
    read, numbers checked, numbers it reads); the country is None when none reads half of them."""
    import phonenumbers

    p = _phone_plan(plans)
    if p is None:
        return None, 0, 0, 0
    label = _lit(p.label)
    failed = con.execute(f"SELECT count(*) FROM {ERRORS} WHERE column_name = {label} "
                         "AND reason LIKE '% is not a phone number%'").fetchall()[0][0]
    if not failed:
        return None, 0, 0, 0
    values = [v for v, in con.execute(
        f"SELECT DISTINCT value FROM {ERRORS} WHERE column_name = {label} AND reason LIKE '% is not a phone number%' "
        f"ORDER BY value LIMIT {SAMPLE}").fetchall()]
    # numbers written with their international prefix say which country the file is from (a tie
    # between countries with the same national formats, such as GB and IN, goes to it)
    prior = stored_phone_country(con, plans)
    best, best_n, best_key = None, 0, (0, False)
    for country in PHONE_COUNTRIES:
        if country == opts["default_country"].upper():
            continue
        n = 0
        for v in values:
            try:
                n += phonenumbers.is_valid_number(phonenumbers.parse(v, country))
            except phonenumbers.NumberParseException:
                pass
        key = (n, country == prior)
        if n and key > best_key:
            best, best_n, best_key = country, n, key
    if best_n * 2 < len(values):
        return None, failed, len(values), best_n
    return best, failed, len(values), best_n


def stored_phone_country(con, plans: list[ColumnPlan]) -> str | None:
    """The country most stored phone numbers of this load belong to (from their international
    prefix), or None."""
    import phonenumbers

    if _phone_plan(plans) is None:
        return None
    counts: dict[str, int] = {}
    for v, in con.execute(f"SELECT phone FROM {TYPED} WHERE phone IS NOT NULL LIMIT {SAMPLE}").fetchall():
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(v))
        except phonenumbers.NumberParseException:
            continue
        counts[region] = counts.get(region, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


def phone_notes(found: tuple[str | None, int, int, int], opts: dict[str, str]) -> list[str]:
    country, failed, checked, fits = found
    if not failed:
        return []
    line = (f"phone: {_n(failed, 'number')} could not be read as numbers of {opts['default_country']} "
            "(the default_country setting, for numbers without +)")
    if country:
        line += (f"; {fits:,} of {checked:,} checked are valid numbers of {country}: load again with "
                 f"--default-country {country}")
    return [line]


def little_stored(result) -> list[str]:
    """When most rows were rejected: the commonest reason, and what in a mapping file would help."""
    if not result.partial or not result.top_reasons:
        return []
    reason, n = result.top_reasons[0]
    line = f"only {result.rows_stored:,} of {result.rows_read:,} rows were stored; the commonest problem ({n:,}): {reason}"
    if "is not one of" in reason:
        line += ("; a mapping file can recode such values (recode = { \"…\" = \"closed\" }) or keep the row "
                 "without them (unknown = \"drop\"): see docs/ingest.md")
    elif "must be a whole number from" in reason or "must be a number from" in reason:
        line += ("; a mapping file can recode a scale (formula = \"6 - x\") and leave no-answer codes empty "
                 "(missing = [6, 7]): see docs/ingest.md")
    return [line]
