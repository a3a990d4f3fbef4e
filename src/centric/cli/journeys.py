"""The customer journey map: centric journeys map."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import between, bound, bounds

journeys_app = typer.Typer(help="Customer journeys drawn from the data: the journey map.", no_args_is_help=True)


def _final(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        journey, sep, stage = v.partition("=")
        if not sep or not journey.strip() or not stage.strip():
            raise typer.BadParameter(f"{v!r}: write JOURNEY=STAGE, e.g. purchase=delivery", param_hint="--final")
        out[journey.strip()] = stage.strip()
    return out


def _hours(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v / 24:.1f} d" if v >= 48 else f"{v:.1f} h" if v >= 1 else f"{v * 60:.0f} min"


def _score(s, sign: str = "") -> str:
    if s.value is None:
        return "—"
    return f"{s.value:{sign}.1f} ({s.low:{sign}.0f}…{s.high:{sign}.0f}) n={s.n:,}"


@journeys_app.command("map")
def map_cmd(
    journey: str = typer.Option(None, "--journey", help="Only this journey (e.g. purchase, service)."),
    final: list[str] = typer.Option([], "--final", help="The final stage of a journey, JOURNEY=STAGE (repeat); "
                                    "default: the latest stage that at least half of the instances getting beyond "
                                    "the first stage reach."),
    gap_days: float = typer.Option(14.0, "--gap-days", help="Days without events that end a journey instance.",
                                   callback=between(0.01, 3650)),
    from_: str = typer.Option(None, "--from", help="First day included (2025-01-01, 2025-01 or 2025).",
                              callback=bound()),
    to: str = typer.Option(None, "--to", help="First day excluded.", callback=bound()),
    as_json: bool = typer.Option(False, "--json", help="Print the whole map as JSON, with the ids of its evidence."),
) -> None:
    """The customer journey map: each journey's stages in order (optional ones marked) × its touchpoints,
    with the funnel (it never grows), conversion, drop-off, time in and between stages, NPS, CSAT and CES
    at each touchpoint with 95% intervals, the net sentiment of what customers say there, open cases and
    real quotes (personal data masked); pain points and moments of truth marked."""
    from ..journeys import journey_map

    finals = _final(final)
    start, end = bounds(from_, to)
    try:
        with _open(read=True) as store:
            maps = journey_map(store, journey=journey, final=finals or None, gap_days=gap_days, start=start, end=end)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps([m.to_dict() for m in maps], ensure_ascii=False, indent=2, default=str))
        return
    if not maps:
        console.print("No journey events with a customer in the selection (load events: centric ingest events FILE).")
        return
    for m in maps:
        console.print(f"\n[bold]Journey “{escape(m.journey)}”[/bold]: {m.instances:,} instances of "
                      f"{m.customers:,} customers; final stage {escape(m.final_stage)}")
        t = Table("#", "stage", "", "entered", "funnel", "customers", "conversion", "drop-off", "time in (median/p90)",
                  "since previous (median/p90)")
        for s in m.stages:
            kind = "optional" + (", after the final" if s.after_final else "") if s.optional else "required"
            conv = f"{s.conversion_pct:.1f} %" if s.conversion_pct is not None else (
                f"{s.share_pct:.1f} % take it" if s.share_pct is not None else "—")
            t.add_row(str(s.order), escape(s.stage), kind, f"{s.entered:,}", f"{s.reached:,}", f"{s.customers:,}",
                      conv, f"{s.drop_off_pct:.1f} %" if s.drop_off_pct is not None else "—",
                      f"{_hours(s.in_median_hours)} / {_hours(s.in_p90_hours)}",
                      f"{_hours(s.between_median_hours)} / {_hours(s.between_p90_hours)}"
                      + (f" from {escape(s.previous)}" if s.previous else ""))
        console.print(t)
        t = Table("touchpoint", "stages", "NPS (95%)", "CSAT % (95%)", "CES % (95%)", "net sentiment (95%)",
                  "open cases", "")
        for tp in m.touchpoints:
            marks = [x for x, on in (("PAIN POINT", tp.pain), ("MOMENT OF TRUTH", tp.moment_of_truth)) if on]
            stages = ", ".join(c.stage for c in m.cells if c.touchpoint == tp.touchpoint)
            t.add_row(escape(tp.touchpoint), escape(stages), _score(tp.nps, "+"), _score(tp.csat), _score(tp.ces),
                      _score(tp.sentiment, "+"), f"{tp.open_cases:,}", " ".join(marks))
        console.print(t)
        for tp in m.touchpoints:
            if tp.pain_reason:
                console.print(f"[red]pain point[/red] {escape(tp.touchpoint)}: {escape(tp.pain_reason)}")
            if tp.moment_of_truth:
                console.print(f"[green]moment of truth[/green] {escape(tp.touchpoint)}: {100 * tp.weight:.1f} % of "
                              f"the likelihood to recommend explained ({100 * tp.weight_low:.1f}…"
                              f"{100 * tp.weight_high:.1f}), of R² {100 * (m.r_squared or 0):.1f} % over "
                              f"{m.kda_customers:,} customers")
            for q in tp.quotes:
                console.print(f"  [dim]{escape(tp.touchpoint)} · {q.polarity} · {escape(q.source)} {escape(q.id)}:[/dim]"
                              f" “{escape(q.text)}”")
    console.print("\n[dim]" + escape(" ".join(maps[0].rules.values())) + "[/dim]")
