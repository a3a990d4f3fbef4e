"""One registry of settings. Each has a name, a default, help text and an environment variable;
the CLI flags, ``centric settings`` and the docs are built from it.

Resolution order: explicit value (CLI flag or function argument) > environment variable > default.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SettingError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    choices: tuple[str, ...] | None = None
    check: Callable[[str], str | None] | None = None  # a value -> why it is not valid, or None

    @property
    def env(self) -> str:
        return "CENTRIC_" + self.name.upper()


def _path(v: str) -> str | None:
    if not v.strip():
        return ("an empty path would open a store in memory, and everything loaded would vanish; "
                "give a file such as centric.duckdb (or ':memory:' on purpose)")
    return None


def _country(v: str) -> str | None:
    import phonenumbers

    if v not in phonenumbers.SUPPORTED_REGIONS:
        return "expected a country code (ISO 3166 alpha-2, upper case) such as PL, GB, IT or US"
    return None


@functools.cache
def _timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _timezone(v: str) -> str | None:
    if v not in _timezones():
        return "expected a time-zone name such as UTC, Europe/Warsaw or America/New_York"
    return None


def _origins(v: str) -> str | None:
    parts = v.split()
    if not parts:
        return "expected * or one or more origins such as https://shop.example.com, separated by spaces"
    for p in parts:
        if p == "*" or p == "'self'":
            continue
        scheme, sep, host = p.partition("://")
        if scheme not in ("http", "https") or not sep or not host or any(c in host for c in "/;,'\"?#"):
            return f"{p!r} is not an origin; expected * or addresses such as https://shop.example.com"
    return None


def _currency(v: str) -> str | None:
    from babel.numbers import list_currencies

    if v not in list_currencies():
        return "expected a currency code (ISO 4217, upper case) such as PLN, EUR, GBP or USD"
    return None


def _whole_positive(v: str) -> str | None:
    try:
        ok = int(str(v).replace("_", "").strip()) > 0
    except ValueError:
        ok = False
    return None if ok else "expected a whole number above 0"


def _whole_non_negative(v: str) -> str | None:
    try:
        ok = int(str(v).replace("_", "").strip()) >= 0
    except ValueError:
        ok = False
    return None if ok else "expected a whole number, 0 or more"


def _positive(v: str) -> str | None:
    try:
        ok = 0 < float(v) < float("inf")
    except ValueError:
        ok = False
    return None if ok else "expected a number greater than 0"


def _whole_in(lo: int, hi: int) -> Callable[[str], str | None]:
    def check(v: str) -> str | None:
        try:
            ok = lo <= int(str(v).strip()) <= hi
        except ValueError:
            ok = False
        return None if ok else f"expected a whole number from {lo} to {hi}"
    return check


def _number_in(lo: float, hi: float) -> Callable[[str], str | None]:
    def check(v: str) -> str | None:
        try:
            ok = lo <= float(v) <= hi
        except ValueError:
            ok = False
        return None if ok else f"expected a number from {lo:g} to {hi:g}"
    return check


def _date_or_empty(v: str) -> str | None:
    import datetime as dt

    if not v.strip():
        return None
    try:
        dt.date.fromisoformat(v.strip()[:10])
    except ValueError:
        return "expected a date such as 2026-01-01, or nothing"
    return None


def _url(v: str) -> str | None:
    if not v.strip().startswith(("http://", "https://")) or len(v.strip()) < 10 or " " in v.strip():
        return "expected an address such as https://survey.example.com (http:// or https://)"
    return None


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("db", "centric.duckdb", "Path of the store (a DuckDB file), created when missing; or a PostgreSQL database "
                "postgresql://USER:PASSWORD@HOST:PORT/DB; or spark:MASTER?warehouse=PATH, Spark on MASTER (local[2], "
                "spark://host:7077) over the lake of Parquet tables at PATH, for the analyses (see docs/deploy.md).",
                check=_path),
        Setting("default_country", "PL",
                "Country (ISO alpha-2) assumed for phone numbers written without an international prefix.",
                check=_country),
        Setting("day_first", "auto",
                "How to read dates like 03/04/2025: 'auto' decides per column (day first unless more of its "
                "values can only be month first, such as 12/31/2025), 'true' or 'false'.",
                choices=("auto", "true", "false")),
        Setting("timezone", "UTC",
                "Time zone of times written without an offset; every time is stored in UTC.", check=_timezone),
        Setting("currency", "PLN", "Currency (ISO 4217) assumed for amounts without one.", check=_currency),
        Setting("sla_hours", "48", "Service-level target for resolving a case, in hours, where a case has no due time.",
                check=_positive),
        Setting("cases_window_days", "14",
                "A signal joins the open case of the same customer and factor opened (or reopened) within this many "
                "days; later it opens a new case.", check=_whole_positive),
        Setting("cases_grace_days", "7",
                "A customer message or a \"no\" to \"Was it solved?\" within this many days of a case's resolution "
                "reopens it; later it opens a new case linked to the old one.", check=_whole_positive),
        Setting("cases_nps_max", "6", "A survey answer with NPS at most this opens a case (detractors: 0–6).",
                check=_whole_in(0, 10)),
        Setting("cases_csat_max", "2", "A survey answer with CSAT (1–5) at most this opens a case.",
                check=_whole_in(0, 5)),
        Setting("cases_ces_max", "3", "A survey answer with CES (1–7) at most this opens a case.",
                check=_whole_in(0, 7)),
        Setting("cases_rating_max", "2",
                "A review or post about our brand rated at most this opens a case (besides those the text pipeline "
                "judges negative).", check=_number_in(0, 10)),
        Setting("cases_since", "",
                "Signals before this date (YYYY-MM-DD, UTC) are history and open no case; empty: every signal.",
                check=_date_or_empty),
        Setting("max_file_mb", "1024",
                "Largest file ingest reads, in MB (for an .xlsx workbook: its unpacked sheets and texts); "
                "a larger file is refused before it is read.", check=_whole_positive),
        Setting("max_rows", "10000000",
                "Most rows one file may hold (lines of a CSV, rows of a sheet, records of JSON, blank ones "
                "not counted); reading stops with an error past it and nothing of the file is stored.",
                check=_whole_positive),
        Setting("max_columns", "1000",
                "Most columns one file may have (empty columns right of a sheet's table not counted); a "
                "wider file is refused once its header is read, before its rows.", check=_whole_positive),
        Setting("cases_token_days", "30",
                "Days the customer's one-time 'Was it solved?' link answers after the case is resolved.",
                check=_whole_positive),
        Setting("proactive_min_days", "30",
                "Days after a proactive contact of a customer before the next one may be opened (a customer "
                "with an open case of any kind is not contacted either).", check=_whole_non_negative),
        Setting("proactive_daily_cap", "20",
                "Most proactive-contact cases given to one agent per calendar day (UTC), counting those "
                "already given that day; the customers beyond it wait for the next run.", check=_whole_positive),
        Setting("survey_embed_origins", "*",
                "Sites that may show the survey form inside their own pages (an embedded /s/... ?embed=1 form): "
                "a space-separated list of origins such as https://shop.example.com, or * for any site. Every "
                "other page refuses to be framed.", check=_origins),
        Setting("web_session_hours", "12",
                "Hours a web app session lasts: it ends this long after signing in, or after this long without a "
                "request, whichever comes first.", check=_whole_positive),
        Setting("web_secret", "",
                "Key that signs the web app's cookies; empty: one is generated and kept in the store.",),
        Setting("serve_tick_seconds", "60",
                "How often centric serve's background work runs (analyse new texts, place signals in cases, "
                "escalate overdue cases, deliver webhooks), in seconds; posting rows through the API starts it "
                "at once.", check=_whole_positive),
        Setting("serve_db_threads", "1",
                "Threads the store's engine gives one query in centric serve: 1 (the default) answers many people's "
                "small queries side by side instead of spreading each over every core; 0 uses every core.",
                check=_whole_in(0, 64)),
        Setting("survey_base_url", "http://127.0.0.1:8000",
                "Address of centric serve as customers reach it; invitation links are SURVEY_BASE_URL/s/TOKEN.",
                check=_url),
        Setting("survey_link_days", "30", "Days an invitation's link takes an answer (and a comment after a score).",
                check=_whole_positive),
        Setting("survey_min_interval_days", "30",
                "Days after a customer's last invitation or answer (to any survey) before they are invited again.",
                check=_whole_non_negative),
        Setting("survey_reminder_days", "5",
                "Days after an e-mailed invitation before centric surveys remind sends the one reminder.",
                check=_whole_positive),
        Setting("survey_comment_max", "5000", "Longest comment (and text answer) a survey form takes, in characters.",
                check=_whole_positive),
        Setting("survey_min_seconds", "3",
                "An anonymous answer sent sooner than this many seconds after the form was shown is flagged.",
                check=_whole_non_negative),
        Setting("survey_rate_per_hour", "20",
                "Anonymous answers from one address in an hour beyond which further ones are flagged.",
                check=_whole_positive),
        Setting("survey_secret", "",
                "Key that signs survey links; empty: one is generated and kept in the store. Changing it "
                "invalidates every link issued."),
        Setting("smtp_host", "", "Mail server for centric surveys invite --send and remind; empty: no sending."),
        Setting("smtp_port", "587", "Port of the mail server.", check=_whole_in(1, 65535)),
        Setting("smtp_user", "",
                "User name at the mail server (empty: no sign-in); the password is read from the environment "
                "variable CENTRIC_SMTP_PASSWORD only."),
        Setting("smtp_from", "", "Sender address of survey e-mails (required for sending)."),
        Setting("smtp_starttls", "true", "Whether to switch the connection to TLS (STARTTLS) before signing in.",
                choices=("true", "false")),
        Setting("duplicate_min_words", "8",
                "Near-duplicate texts are looked for only among texts of at least this many distinct words: "
                "short, common texts (\"Fast delivery, thank you\") repeat across honest authors.",
                check=_whole_positive),
        Setting("duplicate_window_days", "14",
                "Near-duplicate texts by different authors are flagged when they were written within this many "
                "days of one another (a campaign), or whatever their dates when they are long (see "
                "duplicate_long_words).", check=_whole_positive),
        Setting("duplicate_long_words", "30",
                "A text of at least this many distinct words repeated by different authors is flagged whatever "
                "their dates: by chance no two people write so much the same.", check=_whole_positive),
        Setting("text_language", "en",
                "Language of a text whose words do not tell it (\"Ok\", \"Super!\", \"👍\") when its file has no "
                "language column: the company's main language.",
                choices=("en", "pl", "ru", "it", "uk", "de", "fr", "es")),
        Setting("enps_threshold", "5",
                "Employee surveys: a cut (unit, period, comments, a theme) with fewer answers than this shows "
                "nothing (anonymity); a whole number from 3 to 10.", check=_whole_in(3, 10)),
    )
}


def get(name: str, value: str | None = None) -> str:
    """The effective value of setting ``name``: ``value`` if given, else its environment variable,
    else its default. Raises SettingError for an unknown name or an invalid value (outside its choices,
    or failing its check), naming where the value came from."""
    if name not in SETTINGS:
        raise SettingError(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}")
    s = SETTINGS[name]
    where = "" if value is not None or s.env not in os.environ else f" (from the environment variable {s.env})"
    v = value if value is not None else os.environ.get(s.env, s.default)
    if s.choices and v not in s.choices:
        raise SettingError(f"setting {name}{where} must be one of {', '.join(s.choices)}, got {v!r}")
    why = s.check(v) if s.check else None
    if why:
        raise SettingError(f"setting {name}{where}: {v!r} is not valid; {why}")
    return v


def get_int(name: str, value: str | int | None = None) -> int:
    """``get(name, value)`` as a whole number (its check decides which are valid)."""
    return int(str(get(name, None if value is None else str(value))).replace("_", "").strip())


def get_positive_int(name: str, value: str | int | None = None) -> int:
    """``get(name, value)`` as a whole number above zero; SettingError otherwise."""
    raw = get(name, None if value is None else str(value))
    try:
        n = int(str(raw).replace("_", "").strip())
    except ValueError:
        n = 0
    if n < 1:
        raise SettingError(f"setting {name} ({SETTINGS[name].env}) must be a whole number above 0, got {raw!r}")
    return n


def effective() -> list[tuple[Setting, str, str | None]]:
    """Every setting with the value in effect and None, or — when its environment variable holds an invalid
    value — that value quoted and the error (for the settings listings of the CLI and the web app)."""
    out: list[tuple[Setting, str, str | None]] = []
    for s in SETTINGS.values():
        try:
            out.append((s, get(s.name), None))
        except SettingError as e:
            out.append((s, f"{os.environ.get(s.env)!r} (invalid)", str(e)))
    return out
