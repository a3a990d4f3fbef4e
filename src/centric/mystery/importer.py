"""Import existing mystery-shopping exports (CSV in any delimiter and encoding, Excel, JSON, Parquet) through the
ingest's readers and its discipline: every rejected row is kept in ``rejected_rows`` with the file, row, column
and reason; the same file again adds nothing; the import is one transaction with the cases it opens (a failure
half-way changes nothing; on PostgreSQL it runs in a scratch store, see :func:`import_scope`).

Two shapes are recognised:

- **wide**: one row per visit, one column per checklist item (named by the item's id or its text in any of the
  template's languages), besides ``store``, ``date`` and optionally ``visit_id``, ``shopper``, ``brand``,
  ``notes`` and ``template``;
- **long**: one row per visit × item, with columns ``item`` and ``answer`` besides the visit's columns; the rows
  of one visit share its ``visit_id`` (or, without one, its store, date and shopper).

Answers are yes / no / n.a. in English, Polish, Russian or Italian (tak, nie, nie dotyczy, да, нет, sì …). A
visit without an id gets one derived from its store, date, shopper and template, so that a re-exported file does
not store it twice. A visit to one of our stores must name a store of ``units``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..engines.scratch import portable
from ..errors import IngestError
from ..ingest.readers import Reject, drop_stage, read_source
from ..store import Store
from .template import Template, get_template
from .visits import OURS, VisitError, check_visit_id, normalise_answer, visit_rows, write_visits

__all__ = ["ImportResult", "import_visits"]

ALIASES = {
    "visit_id": ("visit_id", "visit", "id", "visit id", "id wizyty", "wizyta", "id визита", "визит", "id visita",
                 "visita"),
    "store": ("store", "shop", "outlet", "sklep", "salon", "магазин", "negozio", "punto vendita", "unit"),
    "date": ("date", "visited_at", "visit date", "datetime", "data", "data wizyty", "дата", "дата визита",
             "data visita"),
    "shopper": ("shopper", "auditor", "mystery shopper", "kontroler", "audytor", "tajemniczy klient", "тайный покупатель",
                "аудитор", "cliente misterioso", "valutatore"),
    "brand": ("brand", "company", "marka", "firma", "бренд", "компания", "marca", "azienda"),
    "notes": ("notes", "note", "comment", "comments", "uwagi", "notatki", "komentarz", "примечания", "комментарий",
              "commenti", "commento"),
    "template": ("template", "checklist", "szablon", "lista kontrolna", "шаблон", "чек-лист", "modello"),
    "item": ("item", "question", "pytanie", "punkt", "вопрос", "пункт", "domanda", "voce"),
    "answer": ("answer", "result", "odpowiedź", "odpowiedz", "wynik", "ответ", "результат", "risposta", "esito"),
}


def _norm(s: str) -> str:
    return " ".join(str(s).strip().lower().replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True)
class ImportResult:
    source: str
    run_id: int | None
    shape: str
    rows_read: int
    visits_stored: int
    visits_duplicate: int
    rows_rejected: int
    duplicate_file: bool
    cases_opened: int
    rejected: list[dict]

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _parse_date(v: str) -> dt.datetime | None:
    v = (v or "").strip()
    if not v:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
                "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(v, fmt)
        except ValueError:
            continue
    return None


def _columns(columns: list[str], template: Template) -> tuple[dict[str, str], dict[str, str]]:
    """(role → file column) for the visit's columns and (file column → item id) for the items."""
    roles, items = {}, {}
    names = {}
    for i in template.items:
        for label in (i.id, i.text, *i.texts.values()):
            names[_norm(label)] = i.id
    for c in columns:
        n = _norm(c)
        role = next((r for r, al in ALIASES.items() if n in {_norm(a) for a in al}), None)
        if n in names and (role is None or role not in ("item", "answer")):
            items[c] = names[n]
        elif role and role not in roles:
            roles[role] = c
    return roles, items


def import_scope(pg, *args, **kwargs) -> tuple[list[str], list[str], dict[str, str]]:
    """What :func:`import_visits` reads on PostgreSQL (it runs in a scratch store there, one transaction with the
    cases it opens): every visit (those stored already are skipped), the ingest runs (a file seen before), the
    shoppers' notes, and what :func:`centric.mystery.cases.open_cases` reads."""
    from .cases import cases_scope

    tables, append, filters = cases_scope(pg, visits="")
    return ([*tables, "ingest_runs", "feedback"], [*append, "ingest_rows", "rejected_rows"],
            {**filters, "feedback": "source = 'mystery_shopper'"})


@portable(import_scope)
def import_visits(store: Store, path: str | Path, template_id: str | None = None, brand: str | None = None,
                  entered_by: str | None = None, sheet: str | None = None) -> ImportResult:
    """Import the visits of the file at ``path`` (see the module); ``template_id``: the template of rows without
    a ``template`` column (its latest version); ``brand``: the brand of rows without one (default ours)."""
    label = str(path)
    staged = read_source(store.con, path, known_names={_norm(a) for al in ALIASES.values() for a in al}, sheet=sheet)
    try:
        df = store.con.execute("SELECT * FROM _centric_stage ORDER BY __row").fetchdf()
    finally:
        drop_stage(store.con)
        staged.remove_temp_files()
    cols = [c for c in df.columns if c != "__row"]
    seen = store.con.execute("SELECT run_id FROM ingest_runs WHERE table_name = 'mystery_visits' AND content_hash = ? "
                             "AND status = 'stored'", [staged.content_hash]).fetchone()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if seen:
        with store.transaction() as con:
            run_id = _run(con, staged, "duplicate_file", 0, 0, 0, started)
        return ImportResult(label, run_id, "", staged.rows_read, 0, 0, 0, True, 0, [])
    templates: dict[str, Template] = {}

    def template_of(tid: str | None) -> Template:
        tid = (tid or template_id or "").strip()
        if not tid:
            raise VisitError("template: the file has no template column; give --template")
        if tid not in templates:
            templates[tid] = get_template(store, tid)
        return templates[tid]

    first = template_of(None if template_id else _first(df, cols, "template"))
    roles, items = _columns(cols, first)
    for need in ("store", "date"):
        if need not in roles:
            raise IngestError(f"{label}: no {need} column (columns found: {', '.join(cols)})")
    long = "item" in roles and "answer" in roles
    if not long and not items:
        raise IngestError(f"{label}: neither item columns (named by the items' ids or texts of template "
                          f"{first.id!r}) nor item and answer columns")
    rejects: list[Reject] = list(staged.rejects)
    units = {r[0] for r in store.con.execute("SELECT unit FROM units WHERE kind = 'store'").fetchall()}
    existing = {r[0] for r in store.con.execute("SELECT visit_id FROM mystery_visits").fetchall()}

    def record(r) -> str:
        return json.dumps({c: r[c] for c in cols}, ensure_ascii=False, default=str)

    def cell(r, role):
        c = roles.get(role)
        v = r[c] if c else None
        return None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip() or None

    # group the rows into visits: (key) → {rows, fields, answers}
    visits: dict[str, dict] = {}
    for r in df.to_dict(orient="records"):
        row_no = int(r["__row"])
        try:
            t = template_of(cell(r, "template"))
        except VisitError as e:
            rejects.append(Reject(row_no, str(e), roles.get("template"), cell(r, "template"), record(r)))
            continue
        when = _parse_date(cell(r, "date") or "")
        if when is None:
            rejects.append(Reject(row_no, "not a date (2025-03-31, 31.03.2025 or 31/03/2025, time optional)",
                                  roles["date"], cell(r, "date"), record(r)))
            continue
        store_name, b = cell(r, "store"), cell(r, "brand") or brand or OURS
        if not store_name:
            rejects.append(Reject(row_no, "no store", roles["store"], None, record(r)))
            continue
        if b.lower() == OURS and store_name not in units:
            rejects.append(Reject(row_no, f"store {store_name!r} is not a store of units (centric ingest units FILE)",
                                  roles["store"], store_name, record(r)))
            continue
        vid = cell(r, "visit_id")
        key = vid or "|".join([store_name, when.isoformat(), cell(r, "shopper") or "", t.id])
        v = visits.setdefault(key, {"rows": [], "vid": vid, "store": store_name, "when": when, "brand": b,
                                    "shopper": cell(r, "shopper"), "notes": cell(r, "notes"), "t": t, "answers": {},
                                    "bad": False, "record": record(r)})
        v["rows"].append(row_no)
        pairs = [(cell(r, "item"), cell(r, "answer"), roles["answer"])] if long else \
            [(iid, None if pd.isna(r[c]) else r[c], c) for c, iid in items.items()]
        for item, raw, col in pairs:
            iid = item if not long else _item_id(t, item)
            if iid is None:
                rejects.append(Reject(row_no, f"template {t.id!r} has no item {item!r}", roles["item"], item, record(r)))
                v["bad"] = True
                continue
            a = normalise_answer(raw)
            if a is None:
                rejects.append(Reject(row_no, "not an answer (yes, no or n.a.)" if raw not in (None, "") else
                                      "no answer", col, None if raw is None else str(raw), record(r)))
                v["bad"] = True
                continue
            v["answers"][iid] = a
    good_v, good_a, dup, stored_keys = [], [], 0, []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for key, v in visits.items():
        if v["bad"]:
            continue
        vid = v["vid"] or "imp-" + hashlib.sha256(key.encode()).hexdigest()[:24]
        try:
            vid = check_visit_id(vid)
            row, ans = visit_rows(v["t"], vid, v["store"], v["when"], v["answers"], v["shopper"], v["brand"],
                                  v["notes"], entered_by or f"import:{Path(label).name}", now)
        except VisitError as e:
            for n in v["rows"]:
                rejects.append(Reject(n, str(e), None, None, v["record"]))
            continue
        if vid in existing or vid in stored_keys:
            dup += 1
            continue
        stored_keys.append(vid)
        good_v.append(row)
        good_a.append(ans)
    rejected_rows = len({r.row for r in rejects})
    with store.transaction() as con:
        run_id = _run(con, staged, "stored", len(good_v), rejected_rows, dup, started)
        if good_v:
            write_visits(con, pd.DataFrame(good_v), pd.concat(good_a, ignore_index=True))
            con.executemany("INSERT INTO ingest_rows VALUES (?, 'mystery_visits', ?)", [[run_id, k] for k in stored_keys])
        for rj in rejects:
            con.execute("INSERT INTO rejected_rows VALUES (?, 'mystery_visits', ?, ?, ?, ?, ?, ?)",
                        [run_id, label, rj.row, rj.column, None if rj.value is None else str(rj.value)[:200],
                         rj.reason, rj.record])
        opened = 0
        if any(r["failed_critical"] and str(r["brand"]).lower() == OURS for r in good_v):
            from .cases import open_cases_in

            opened = len(open_cases_in(store, con))  # in the import's transaction: no visit without its case
    return ImportResult(label, run_id, "long" if long else "wide", staged.rows_read, len(good_v), dup, rejected_rows,
                        False, opened,
                        [{"row": r.row, "column": r.column, "value": r.value, "reason": r.reason} for r in rejects])


def _first(df: pd.DataFrame, cols: list[str], role: str) -> str | None:
    names = {_norm(a) for a in ALIASES[role]}
    for c in cols:
        if _norm(c) in names:
            vals = df[c].dropna()
            return str(vals.iloc[0]) if len(vals) else None
    return None


def _item_id(t: Template, item: str | None) -> str | None:
    if not item:
        return None
    n = _norm(item)
    for i in t.items:
        if n in {_norm(x) for x in (i.id, i.text, *i.texts.values())}:
            return i.id
    return None


def _run(con, staged, status: str, stored: int, rejected: int, dup: int, started: dt.datetime) -> int:
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchall()[0][0]
    con.execute("INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, "mystery_visits", staged.source, staged.content_hash, staged.format, staged.encoding,
                 staged.delimiter, status, staged.rows_read, stored, rejected, dup, started,
                 dt.datetime.now(dt.UTC).replace(tzinfo=None)])
    return int(run_id)
