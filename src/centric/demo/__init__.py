"""The bundled demo company (see ``generator``): ``build_demo`` writes its export files and loads them
through the public ingest path, exactly as a user would."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..customers.scoring import score
from ..errors import CentricError, IngestError
from ..ingest import ingest
from ..mystery.cases import open_cases
from ..report import write_report
from ..store import Store
from ..text.batch import analyze_store
from .council import add_council
from .enps import add_employee_surveys
from .generator import END, generate, write_files
from .ideas import add_ideas
from .mystery import add_mystery
from .orientation import add_orientation
from .service import run_loop
from .surveys import add_surveys
from .workplace import write_workplace

__all__ = ["build_demo", "generate", "write_files"]

MIN_CUSTOMERS = 10  # fewer leave the generator without a customer in some country or channel




def build_demo(folder: Path, seed: int = 7, n_customers: int = 20_000, db: str | None = None,
               console: Console | None = None, lang: str = "en") -> tuple[Table, Path]:
    """Generate the demo into ``folder``/files, load it into a fresh store (``folder``/centric.duckdb
    unless ``db`` is given), write ``folder``/report.html in ``lang``; return a summary table and the
    report's path."""
    if n_customers < MIN_CUSTOMERS:
        raise CentricError(f"the demo needs at least {MIN_CUSTOMERS} customers, got {n_customers}")
    console = console or Console()
    folder = Path(folder)
    files = folder / "files"
    db_path = Path(db) if db else folder / "centric.duckdb"
    t0 = time.perf_counter()
    console.print(f"Generating the demo company (seed {seed}, {n_customers:,} customers) …")
    company = generate(seed=seed, n_customers=n_customers)
    plan = write_files(company, files, seed)
    plan += write_workplace(files, seed)
    console.print(f"Wrote {len(plan)} export files to {escape(str(files))}")
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    with Store.open(db_path) as store:
        for table, name, values in plan:
            try:
                res = ingest(table, files / name, store=store, values=values, name=name)[0]
            except IngestError as e:  # a small company may leave an export without rows
                console.print(f"  {escape(name):<26} → {table:<12} skipped: {escape(str(e))}")
                continue
            how = ", ".join(x for x in (res.format, res.encoding) if x)
            console.print(f"  {escape(name):<26} → {table:<12} ({how}): stored {res.rows_stored:>7,}, "
                          f"rejected {res.rows_rejected:>3}, duplicate {res.rows_duplicate:>4}"
                          + (f", {res.customers_merged} customers merged" if res.customers_merged else ""))
        sv = add_surveys(store, seed=seed)
        rate = f" ({100 * sv.answers / sv.invitations:.0f}%)" if sv.invitations else ""
        console.print(f"  surveys: {sv.surveys} (centric surveys list), {sv.invitations:,} invitations, "
                      f"{sv.answers:,} answered{rate}, {sv.flagged} anonymous answers flagged")
        cc = add_council(store, seed=seed)
        console.print(f"  customer council: {cc.members} members ({cc.former} left), {cc.meetings} meetings, "
                      f"{cc.decisions} decisions, {cc.actions} actions ({cc.overdue} overdue) (centric council members)")
        ideas = add_ideas(store, seed=seed + 505)
        console.print(f"  ideas: {ideas.ideas} ({ideas.customers} from customers, {ideas.employees} from employees; "
                      f"centric ideas list), {ideas.votes} employees' votes, {ideas.answered} answered, {ideas.merged} "
                      f"near-duplicate merged, {ideas.rewards} rewards")
        inside = add_orientation(store, files, seed)
        console.print(f"  staff orientation: {inside.assessments:,} assessments ({inside.self_assessments:,} self); "
                      f"{inside.notes:,} store observation notes")
        # the visits before the text step, so that the shoppers' notes are analysed with the other texts; their
        # failed visit's case after the loop, so that it goes to the demo's store manager
        ms = add_mystery(store, seed, open_case=False)
        console.print("Analysing the comments and reviews (text pipeline) …")
        # the fast path (USE judges polarity too; as centric analyze --fast): about six times as fast as the
        # cascade on the demo's varied wording, which keeps the whole demo within three minutes on 2 cores;
        # a few points of polarity accuracy less (benchmarks/README.md). centric analyze defaults to e5.
        texts = analyze_store(store, "retail", fast=True)
        console.print(f"  {texts.texts:,} texts, {texts.mentions:,} factor mentions")
        staff = add_employee_surveys(store, seed=seed)
        console.print(f"  employee surveys: {staff.invitations:,} employee invitations, {staff.answers:,} anonymous "
                      f"answers, {staff.comments:,} comments; {staff.hidden_units} units below the reporting "
                      "threshold in the last quarter (centric enps --by unit)")
        try:
            scores = score(store)
            console.print(f"  purchase rhythm and lifetime value scored for {scores.customers:,} customers")
        except CentricError as e:  # too few repeat buyers in a small company
            console.print(f"  purchase rhythm not scored: {escape(str(e))}")
        loop = run_loop(store, seed=seed)
        console.print(f"  closed loop: {loop.opened:,} cases opened from the signals ({loop.joined:,} more signals "
                      f"joined one, {loop.imported:,} were the old helpdesk's); at the data's end {loop.open_at_end:,} "
                      f"are open, {loop.overdue_at_end:,} overdue, {loop.escalated:,} escalations; {loop.proactive:,} "
                      "proactive calls to customers gone quiet")
        ms_cases = open_cases(store, now=END)["case_id"].tolist()
        ms_notes = store.con.execute("SELECT count(*) FROM feedback WHERE source = 'mystery_shopper'").fetchone()[0]
        console.print(f"  mystery shopping: {ms.visits} visits to our stores, {ms.competitor_visits} to competitors', "
                      f"{ms_notes} with notes (analysed), {ms.calibration_pairs} calibration pairs, {ms.failed} failed "
                      f"critical item (case {', '.join(ms_cases) or 'none'})")
        summary = summarize(store)
        report = write_report(store, folder / "report.html", lang=lang, title="Voltaro (demo)")
    console.print(f"Store: {escape(str(db_path))} — done in {time.perf_counter() - t0:.1f} s")
    console.print("Explore it: centric --db " + escape(str(db_path)) + " status | metrics nps --by month | rejected"
                  + " | cases list --overdue" + (f" | cases show {loop.fridge_case}" if loop.fridge_case else ""))
    return summary, report.resolve()


def summarize(store: Store) -> Table:
    """Customers, orders, answers, feedback by language and last quarter's NPS, read through Ibis."""
    import ibis

    t = Table(title="The demo company, Voltaro", show_header=True)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("customers", f"{store.count('customers'):,}")
    t.add_row("customers merged across channels", f"{store.count('customer_merges'):,}")
    orders = store.table("orders")
    for cur, n, total in orders.group_by("currency").agg(n=orders.count(), total=orders.amount.sum()) \
            .order_by("currency").execute().itertuples(index=False):
        t.add_row(f"orders in {cur}", f"{n:,} ({total:,.0f} {cur})")
    t.add_row("survey answers", f"{store.count('responses'):,}")
    fb = store.table("feedback")
    by_lang = fb.group_by(fb.language).agg(n=fb.count()).order_by(ibis.desc("n")).execute()
    t.add_row("feedback texts by language", ", ".join(  # a text without a language (a shopper's note): "unknown"
        f"{r.language if isinstance(r.language, str) and r.language else 'unknown'} {r.n:,}"
        for r in by_lang.itertuples()))
    c = store.table("cases")
    t.add_row("cases (complaints, tickets)", f"{store.count('cases'):,} ({int(c.filter(c.origin == 'signal').count().execute()):,} "
              "opened by the closed loop)")
    t.add_row("journey events", f"{store.count('events'):,}")
    t.add_row("rows rejected (see centric rejected)", f"{store.count('rejected_rows'):,}")
    from ..metrics import score
    from ..metrics.periods import headline_periods

    (q_start, q_end), _ = headline_periods(END, "quarter")
    s = score(store, "nps", q_start, q_end)
    quarter = f"{q_start.year} Q{(q_start.month - 1) // 3 + 1}"
    t.add_row(f"NPS, last full quarter ({quarter})",
              "no data" if s.no_data else f"{s.value:+.1f} ({s.low:+.1f} … {s.high:+.1f}, n = {s.n:,})")
    return t
