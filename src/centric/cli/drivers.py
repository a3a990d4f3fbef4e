"""Key-driver analysis: centric drivers."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import (
    between,
    one_of,
)


def drivers_cmd(
    brand: str = typer.Option("ours", "--brand", help="Whose factors: ours, or a competitor's name."),
    period: str = typer.Option("month", "--period", help="Period of the trends and emerging issues: month or quarter.",
                               callback=one_of("month", "quarter")),
    outcome: str = typer.Option(None, "--outcome", help="What the key drivers explain: nps, csat, ces (survey "
                                "answers) or rating (reviews); default: the one with the most answers with an "
                                "analysed text; with fewer than 30 for each, factors are ranked by volume.",
                                callback=one_of("nps", "csat", "ces", "rating")),
    performance: str = typer.Option("net", "--performance", help="Matrix performance axis: net (net sentiment) or "
                                    "gap (net sentiment minus the other brands' mean)."),
    importance: str = typer.Option("relative_weight", "--importance", help="relative_weight or lmg.",
                                   callback=one_of("relative_weight", "lmg")),
    reps: int = typer.Option(200, "--reps", help="Bootstrap replicates for the intervals.", callback=between(0, 100_000)),
    cross_x: float = typer.Option(None, "--cross-importance", help="Importance crosshair (default: the mean)."),
    cross_y: float = typer.Option(None, "--cross-performance", help="Performance crosshair at this value "
                                  "(overrides --crosshair)."),
    crosshair: str = typer.Option(None, "--crosshair", help="Where the performance crosshair sits: neutral (net "
                                  "sentiment 0), competitors (their net sentiment on the same factors, never below "
                                  "neutral; the default when there are competitors' mentions) or relative (the mean "
                                  "of our own factors).", callback=one_of("neutral", "competitors", "relative")),
    as_json: bool = typer.Option(False, "--json", help="Print the whole analysis as JSON."),
) -> None:
    """What matters to customers and what to fix first: key drivers of NPS, CSAT, CES or ratings (or, with no
    score, factors by volume), perception, competitors, the action matrix (fix / promote / maintain / observe)
    and emerging issues. Needs `centric analyze`."""
    from ..drivers import drivers

    try:
        with _open() as store:
            d = drivers(store, brand=brand, outcome=outcome, period=period, performance=performance,
                        importance_by=importance, reps=reps, crosshair=(cross_x, cross_y), crosshair_at=crosshair)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    lo, hi = d.r2_interval
    for note in d.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if d.outcome:
        console.print(f"Key drivers of {d.outcome_name} for {escape(d.brand)}: {d.answers:,} answers, "
                      f"R² {d.r2:.3f} ({lo:.3f} … {hi:.3f})")
    else:
        console.print(f"Factors of {escape(d.brand)} ranked by volume (no outcome to explain): {d.texts:,} texts")
    with_complaints = bool(d.factors["complaints"].sum())
    scored = ["impact", "voice %"] if d.outcome else []  # by volume, importance is the share of voice
    t = Table("#", "factor", "importance % (95%)" if d.outcome else "share of voice % (95%)", "net sentiment (95%)",
              *scored, "n", *(["complaints"] if with_complaints else []), "quadrant")

    def with_ci(v, a, b, sign=""):
        if v != v:
            return "—"
        return f"{v:{sign}.1f}" + ("" if a != a or b != b else f" ({a:{sign}.0f}…{b:{sign}.0f})")

    for r in d.factors.itertuples():
        t.add_row(str(r.rank), escape(r.factor), with_ci(r.importance, r.importance_low, r.importance_high),
                  with_ci(r.net, r.net_low, r.net_high, "+"),
                  *([f"{r.impact:+.1f}", f"{r.share_of_voice:.1f}"] if d.outcome else []),
                  "0" if r.n != r.n else f"{int(r.n):,}", *([f"{r.complaints:,}"] if with_complaints else []),
                  (r.quadrant + ("?" if r.uncertain else "")) if isinstance(r.quadrant, str) else "—")
    console.print(t)
    cx, cy = d.crosshair
    figure = {"nps": "NPS", "csat": "CSAT (% satisfied, 4–5)", "ces": "CES (% easy, 5–7)", "rating": "mean rating"}
    console.print(f"{d.crosshair_note()}; importance crosshair at {cx:.1f} (the mean); '?': an interval straddles "
                  "a crosshair. " + (f"importance = share of R²; impact = {figure[d.outcome]} of all answers minus "
                                     "those without the factor" if d.outcome else
                                     "the matrix is volume (share of voice) × net sentiment"))
    for quad in ("fix", "promote", "maintain", "observe"):
        names = [f"{r.factor}{'?' if r.uncertain else ''}" for r in d.factors.itertuples() if r.quadrant == quad]
        console.print(f"  {quad:<9} {escape(', '.join(names)) or '—'}")
    if len(d.leaders) and d.leaders["runner_up"].notna().any():  # only with other brands to lead
        lt = Table("factor", "leader", "net sentiment", "runner-up", "significant lead")
        for r in d.leaders.itertuples():
            runner = r.runner_up if isinstance(r.runner_up, str) else "—"
            lt.add_row(escape(r.factor), escape(r.leader), f"{r.net:+.1f}", escape(runner),
                       "yes" if r.significant else "no")
        console.print(lt)
    if len(d.mystery):  # another scale: the checklist visits' factor scores, not the mentions' net sentiment
        mt = Table("factor", "competitor", "ours (n)", "theirs (n)", "ours − theirs (Welch 95%)",
                   title="Mystery shopping by factor (score 0–100)")

        def one(v, n):
            return "—" if v is None or v != v else f"{v:.1f} ({int(n)})"

        for r in d.mystery.itertuples():
            diff = "—" if r.diff is None or r.diff != r.diff else (
                f"{r.diff:+.1f}" + ("" if r.diff_low is None or r.diff_low != r.diff_low else
                                    f" ({r.diff_low:+.1f}…{r.diff_high:+.1f})") + (" *" if r.significant else ""))
            mt.add_row(escape(r.factor), escape(str(r.brand)), one(r.ours_mean, r.ours_n), one(r.mean, r.n), diff)
        console.print(mt)
    for r in d.alerts.itertuples():
        console.print(f"[red]emerging:[/red] {escape(r.factor)}: negative {r.negative_share:.1f}% in {r.period} "
                      f"against {r.previous_share:.1f}% in {r.previous} (p {r.p_value:.3g})")
