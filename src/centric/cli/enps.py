"""Employee NPS and pulse surveys: centric enps [--by …] [--json], enps pulse, enps compare [--kind …],
enps themes [--by …], enps invite, enps analyze, enps forget."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console

enps_app = typer.Typer(help="Employee NPS and pulse surveys: results with the reporting threshold, invitations, "
                            "comment themes, erasing an employee.", no_args_is_help=False)

BY_HELP = ("Break down by store, department, unit, region and/or period (repeat, or comma-separate). Without "
           "period: the latest period (or --period).")
SURVEY_HELP = "The employee survey (id or slug; default: the first eNPS survey, or pulse survey for enps pulse)."
THRESHOLD_HELP = "Reporting threshold for this run (3–10; default: the enps_threshold setting)."


def _groups(by: list[str]) -> list[str]:
    return [b.strip() for item in by for b in item.split(",") if b.strip()]


def _f(v, digits: int = 1) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


WHY = {"below_threshold": "hidden: fewer than {t} answers",
       "complementary": "hidden: would reveal a hidden group by subtraction",
       "no_answers": "no answers"}


@enps_app.callback(invoke_without_command=True)
def enps_cmd(
    ctx: typer.Context,
    by: list[str] = typer.Option([], "--by", help=BY_HELP),
    survey: str = typer.Option(None, "--survey", help=SURVEY_HELP),
    period: str = typer.Option(None, "--period", help="The period (2026-Q2, 2026-05); default: the latest."),
    threshold: int = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (value, n, interval, counts per group; a hidden "
                                 "group has no value and says why)."),
) -> None:
    """Print eNPS with n and its 95% interval, overall or by group, like centric metrics nps; a group below the
    reporting threshold carries no value and says why."""
    if ctx.invoked_subcommand is not None:
        return
    from ..enps import analysis

    try:
        with _open(read=True) as store:
            b = analysis.enps(store, _groups(by), survey, period, threshold)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(b.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    title = "eNPS" + (f" by {', '.join(b.by)}" if b.by else "") + (f", {b.period}" if b.period else "")
    t = Table(title=f"{title} (survey {escape(b.survey)}; groups under {b.threshold} answers hidden)")
    for col in b.by:
        t.add_column(col)
    for col in ("value", "95% interval", "n", "promoters/passives/detractors", "method"):
        t.add_column(col, justify="right" if col in ("value", "n") else "left")
    for c in b.rows:
        s = c.score
        if c.hidden:
            cells = ["—", WHY[c.hidden].format(t=b.threshold), "", "", ""]
        elif s is None or s.no_data:
            cells = ["no data", "", "0", "", ""]
        else:
            cells = [f"{s.value:,.1f} pts", f"{_f(s.low)} … {_f(s.high)}", f"{s.n:,}",
                     "/".join(f"{v:,}" for v in s.counts.values()), s.method]
        t.add_row(*[escape(str(c.group[k])) for k in b.by], *cells)
    console.print(t)


@enps_app.command("pulse")
def pulse_cmd(
    by: list[str] = typer.Option([], "--by", help=BY_HELP),
    survey: str = typer.Option(None, "--survey", help=SURVEY_HELP),
    period: str = typer.Option(None, "--period", help="The period (2026-05); default: the latest."),
    threshold: int = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print a pulse survey's ratings: mean with its 95% interval and the share answering 4–5, per question."""
    from ..enps import analysis

    try:
        with _open(read=True) as store:
            p = analysis.pulse(store, _groups(by), survey, period, threshold)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(p.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    t = Table(title=f"Pulse {escape(p.survey)}" + (f", {p.period}" if p.period else "")
              + f" (groups under {p.threshold} answers hidden)")
    for col in p.by:
        t.add_column(col)
    for col in ("question", "mean", "95% interval", "4–5", "n"):
        t.add_column(col, justify="left" if col in ("question", "95% interval") else "right")
    for r in p.rows:
        cells = ([escape(r.question), "—", WHY[r.hidden].format(t=p.threshold), "", ""] if r.hidden else
                 [escape(r.question), _f(r.mean, 2), f"{_f(r.low, 2)} … {_f(r.high, 2)}", f"{r.top_box:.0f} %",
                  f"{r.n:,}"])
        t.add_row(*[escape(str(r.group[k])) for k in p.by], *cells)
    console.print(t)


@enps_app.command("compare")
def compare_cmd(
    kind: str = typer.Option("store", "--kind", help="store: each store beside its customers' NPS and complaint "
                             "rate; department: each department beside the cases it owns (within SLA, time to "
                             "resolve, reopened, the customers' \"Was it solved?\" answers)."),
    survey: str = typer.Option(None, "--survey", help=SURVEY_HELP),
    period: str = typer.Option(None, "--period", help="The period; default: the latest."),
    threshold: int = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each store's eNPS beside its customers' NPS and complaints per 100 orders in the same period (or, with
    --kind department, each department's eNPS beside the cases it owns), and their correlation across the units
    (Pearson's r with its Fisher-z 95% interval, Spearman's rho)."""
    from ..enps import analysis, units

    if kind not in ("store", "department"):
        _fail(CentricError(f"--kind {kind!r}: store or department"))
    try:
        with _open(read=True) as store:
            c = (analysis.compare(store, survey, period, threshold) if kind == "store" else
                 units.compare_departments(store, survey, period, threshold))
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(c.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    if kind == "department":
        _print_departments(c)
        return
    t = Table(title=f"Stores, {c.period}: employees and customers")
    for col in ("store", "eNPS", "95% interval", "n", "customer NPS", "95% interval", "n", "complaints/100 orders"):
        t.add_column(col, justify="left" if col in ("store", "95% interval") else "right")
    for r in c.rows:
        e = ([_f(r.enps.value), f"{_f(r.enps.low)} … {_f(r.enps.high)}", f"{r.enps.n:,}"] if r.enps is not None else
             ["—", WHY.get(r.hidden or "", "").format(t=c.threshold), ""])
        n = r.nps
        t.add_row(escape(r.unit), *e, _f(n.value), f"{_f(n.low)} … {_f(n.high)}", f"{n.n:,}", _f(r.complaint_rate, 2))
    console.print(t)
    for k in (c.with_nps, c.with_complaints):
        _print_correlation(k, "stores")


def _print_correlation(k, what: str) -> None:
    if k.r is None:
        console.print(f"{k.x} ~ {k.y}: too few {what} with a visible eNPS for a correlation ({k.n})")
    else:
        ci = f" (95% interval {k.low:.2f} … {k.high:.2f})" if k.low is not None else \
            f" (too few {what} for an interval: it needs 4)"
        console.print(f"{k.x} ~ {k.y}: r = {k.r:.2f}{ci}, Spearman {k.spearman:.2f} (p {k.spearman_p:.3f}), "
                      f"{k.n} {what}")


def _print_departments(c) -> None:
    t = Table(title=f"Departments, {c.period}: employees and the customers of their cases")
    for col in ("department", "eNPS", "95% interval", "n", "cases", "within SLA", "median to resolve",
                "reopened", "asked", "solved", "CSAT 4–5", "CES"):
        t.add_column(col, justify="left" if col in ("department", "95% interval") else "right")

    def pct(v) -> str:
        return "—" if v is None else f"{v:.0f} %"

    for r in c.rows:
        e = ([_f(r.enps.value), f"{_f(r.enps.low)} … {_f(r.enps.high)}", f"{r.enps.n:,}"] if r.enps is not None else
             ["—", WHY.get(r.hidden or "", "").format(t=c.threshold), ""])
        res = "—" if r.resolution_median_h is None else f"{r.resolution_median_h:,.1f} h"
        t.add_row(escape(r.unit), *e, f"{r.cases:,}", pct(r.within_sla_pct), res, pct(r.reopened_pct),
                  f"{r.asked:,}", pct(r.solved_pct), pct(r.csat_pct), _f(r.ces_mean, 2))
    console.print(t)
    console.print("Cases opened in the period and routed to the department; solved, CSAT and CES: the customers' "
                  "answers to \"Was it solved?\" about them. No customer NPS is linked to a case's handling.")
    for k in c.correlations.values():
        _print_correlation(k, "departments")


@enps_app.command("themes")
def themes_cmd(
    by: str = typer.Option(None, "--by", help="Cut the themes by store, department or region (default: the "
                           "whole company)."),
    survey: str = typer.Option(None, "--survey", help=SURVEY_HELP),
    period: str = typer.Option(None, "--period", help="The period; default: the latest."),
    threshold: int = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    lang: str = typer.Option("en", "--lang", help="Language of the themes' names (en, pl, ru, it)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a hidden unit or theme has no count and says "
                                 "why)."),
) -> None:
    """Print the themes of the employees' comments (centric enps analyze finds them), over the company or by
    unit; a unit, or a theme in a unit, below the reporting threshold shows nothing, and enough more is hidden
    that the company's counts minus the units' shown reveal none of them."""
    from ..enps import analysis, units

    try:
        with _open(read=True) as store:
            th = (analysis.themes(store, survey, period, threshold, lang) if not by else
                  units.themes_by(store, by, survey, period, threshold, lang))
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(th.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    company = th if not by else th.company
    t = Table(title=f"Themes of the comments, {company.period} (themes under {company.threshold} comments hidden)")
    t.add_column("group" if not by else by)
    for x in company.themes:
        t.add_column(escape(x.name), justify="right")
    t.add_row("company", *[f"{x.comments:,} ({x.net:+.0f})" for x in company.themes])
    cell_why = {**WHY, "few_comments": "hidden: fewer than {t} comments"}
    if by:
        for g, _why in th.groups:
            cells = []
            for x in company.themes:
                c = th.cell(g, x.factor)
                cells.append(cell_why.get(c.hidden, "hidden").format(t=th.threshold) if c.hidden else
                             f"{c.comments:,} ({c.net:+.0f})")
            t.add_row(escape(str(g)) if g is not None else "(none)", *cells)
    console.print(t)
    console.print(f"{company.withheld:,} themes raised by fewer than {company.threshold} comments withheld; "
                  f"{company.waiting:,} comments not analysed yet" + (" (centric enps analyze)" if company.waiting
                                                                       else ""))


@enps_app.command("invite")
def invite_cmd(
    survey: str = typer.Argument(..., help="The employee survey (id or slug)."),
    unit: list[str] = typer.Option([], "--unit", help="Invite the employees of this store or department (repeat; "
                                   "default: every unit)."),
    employees: Path = typer.Option(None, "--employees", help="CSV file with a column employee_id or email "
                                   "(instead of --unit)."),
    period: str = typer.Option(None, "--period", help="The period the links are for (default: today's, by the "
                               "survey's period)."),
    out: Path = typer.Option(None, "--out", help="Write the links here (CSV: employee_id, email, language, unit, "
                             "period, link, expires_on) for a mail merge."),
    base_url: str = typer.Option(None, "--base-url", help="Address employees reach centric serve at (default: the "
                                 "survey_base_url setting)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say who would be invited and who skipped, and why."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the counts and every skip with its reason."),
) -> None:
    """Issue one signed single-use link per employee of the chosen units (leavers never), in the employee's
    language. The links know who was invited; the answers never know whose they are."""
    from ..enps import invitations
    from ..surveys import repo

    if employees is not None and unit:
        _fail(CentricError("give --unit or --employees FILE.csv, not both"))
    if not (out or dry_run):
        _fail(CentricError("give --out links.csv to write the links (or --dry-run)"))
    if out is not None and not out.resolve().parent.is_dir():
        _fail(CentricError(f"--out: folder {out.resolve().parent} does not exist"))
    try:
        with _open() as store:
            s = repo.require(store, survey)
            frame = invitations.read_employees_csv(employees) if employees is not None else None
            plan = invitations.plan(store, s, [u.strip() for u in unit if u.strip()] or None, frame, period=period)
            links = [] if dry_run else invitations.issue(store, plan, base_url=base_url)
            if out is not None and links:
                invitations.write_links(out, links)
    except CentricError as e:
        _fail(e)
    except OSError as e:
        _fail(CentricError(f"--out: cannot write {out}: {e.strerror or e}"))
    if as_json:
        print(json.dumps({"survey_id": s.survey_id, "period": plan.period, "dry_run": dry_run,
                          "invite": len(plan.invite), "skipped": plan.reasons(),
                          "skips": json.loads(plan.skipped.to_json(orient="records", force_ascii=False))},
                         ensure_ascii=False, indent=2))
        return
    verb = "would invite" if dry_run else "invited"
    skipped = ", ".join(f"{n:,} {invitations.REASONS[r]}" for r, n in plan.reasons().items())
    console.print(f"{verb} {len(plan.invite):,} employees to {s.survey_id} {escape(s.slug)} for {plan.period}"
                  + (f"; skipped {skipped}" if skipped else "") + (f"; links in {escape(str(out))}" if links else ""))


@enps_app.command("analyze")
def analyze_cmd() -> None:
    """Find the themes of employee comments not analysed yet (workplace factors; kept apart from customers'
    texts)."""
    from ..enps import analysis

    try:
        with _open() as store:
            n = analysis.analyze(store)
    except CentricError as e:
        _fail(e)
    console.print(f"{n:,} employee comments analysed")


@enps_app.command("forget")
def forget_cmd(who: str = typer.Argument(..., help="The employee's id or e-mail.")) -> None:
    """Erase an employee's personal data everywhere (as centric employees forget): name and e-mail, their
    invitations' link, customer-orientation assessments, ideas, votes, comments and their name in free texts
    (their anonymous answers stay: they were never linked to them)."""
    from ..employees import forget
    from .employees import _by, audited, print_erasure

    try:
        with _open() as store:
            e = forget(store, who, on_done=audited(f"cli:{_by()}"))
    except CentricError as e:
        _fail(e)
    console.print(f"employee {escape(e.employee_id)}: name and e-mail erased, {e.invitations:,} invitations unlinked, "
                  f"{e.assessments:,} customer-orientation assessments erased")
    print_erasure(e)
