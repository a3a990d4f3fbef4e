"""User flows: centric flows — directly-follows graph, variants, Sankey paths, loops and group
comparison, from an event-log file or a journey in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console, err
from .checks import between


def _log(path: Path | None, case: str | None, activity: str | None, time: str | None, journey: str | None,
         gap_days: float, day_first: bool, store_box: list) -> Any:
    from ..flows import journey_log, read_log

    if (path is None) == (journey is None):
        raise CentricError("give either an event-log file (with --case, --activity and --time) or --journey")
    if journey is not None:
        store = _open(read=True)
        store_box.append(store)
        return journey_log(store, journey, gap_days)
    missing = [o for o, v in (("--case", case), ("--activity", activity), ("--time", time)) if not v]
    if missing:
        raise CentricError(f"{path}: {', '.join(missing)} missing: name the columns of the case, the activity "
                           "and the time")
    return read_log(path, case, activity, time, day_first=day_first)


def flows_cmd(
    log_file: Path = typer.Argument(None, metavar="[LOG]", help="Event log: CSV/TSV (any delimiter and encoding "
                                    "centric ingest reads), Parquet, JSON or Excel; one row per event."),
    case: str = typer.Option(None, "--case", help="Column of the case (one process instance, e.g. an order)."),
    activity: str = typer.Option(None, "--activity", help="Column of the activity (the step)."),
    time: str = typer.Option(None, "--time", help="Column of the time; with an offset it is converted to UTC, "
                             "without one it is taken as UTC. Events at the same time keep the file's order."),
    journey: str = typer.Option(None, "--journey", help="Instead of a file: this journey of the store's events "
                                "(a case is a customer's journey instance, an activity a stage)."),
    gap_days: float = typer.Option(14.0, "--gap-days", help="With --journey: more days than this between two "
                                   "events of a customer start a new instance.", callback=between(0, 3650)),
    day_first: bool = typer.Option(True, "--day-first/--month-first", help="How to read 01/02/2024."),
    sankey_from: str = typer.Option(None, "--sankey-from", help="Add the paths from the first occurrence of "
                                    "this activity in each case (JSON key \"sankey\")."),
    backwards: bool = typer.Option(False, "--backwards", help="With --sankey-from: the paths that lead to it."),
    steps: int = typer.Option(4, "--steps", help="With --sankey-from: how many steps.", callback=between(1, 20)),
    top: int = typer.Option(5, "--top", help="With --sankey-from: activities shown a step; the rest are "
                            "grouped as \"other\".", callback=between(1, 50)),
    show_loops: bool = typer.Option(False, "--loops", help="Add the activities repeated within a case "
                                    "(JSON key \"loops\")."),
    compare_reached: str = typer.Option(None, "--compare-reached", help="Compare the cases that reach this "
                                        "activity with those that do not, edge by edge (JSON key \"comparison\")."),
    compare_nps: bool = typer.Option(False, "--compare-nps", help="With --journey: compare promoters' instances "
                                     "with detractors' (by each customer's latest NPS answer)."),
    as_json: bool = typer.Option(False, "--json", help="Print {cases, events, start, end, edges, variants} "
                                 "(and rejected, and what the options above add) as JSON."),
) -> None:
    """User flows: the directly-follows graph (edge counts and median seconds), the variants and how many
    cover 80% of the cases, and on request Sankey paths, loops and a comparison of two groups."""
    from ..flows import batch, compare_plan, loops_plan, mine, sankey_plan
    from ..flows.groups import nps_groups, reached

    stores: list = []
    try:
        log = _log(log_file, case, activity, time, journey, gap_days, day_first, stores)
        if compare_nps and journey is None:
            raise CentricError("--compare-nps needs --journey (the NPS answers are in the store)")
        ev = log.table
        g, v = mine(ev)
        plans: dict[str, Any] = {}
        if sankey_from is not None:
            plans["sankey"] = sankey_plan(ev, sankey_from, steps=steps, top=top, backwards=backwards)
        if show_loops:
            plans["loops"] = loops_plan(ev)
        if compare_reached is not None:
            a, b = reached(ev, compare_reached)
            plans["comparison"] = compare_plan(ev, a, b, f"reached {compare_reached}",
                                               f"did not reach {compare_reached}")
        elif compare_nps:
            a, b = nps_groups(stores[0], ev)
            plans["comparison"] = compare_plan(ev, a, b, "promoters", "detractors")
        # the options' analyses in one query (on PostgreSQL a journey's instances computed once for them all)
        extra: dict[str, Any] = dict(zip(plans, batch(*plans.values()), strict=True)) if plans else {}
    except CentricError as e:
        _fail(e)
    finally:
        for s in stores:
            s.close()
    if log.rejected.count:
        err.print(f"[yellow]rejected:[/yellow] {escape(log.rejected.message(log.source))}")
    if as_json:
        out: dict[str, Any] = {"cases": g.cases, "events": g.events, "start": g.start, "end": g.end,
                               "edges": [e.to_dict() for e in g.edges],
                               "variants": [x.to_dict() for x in v.variants], "rejected": log.rejected.count}
        if "sankey" in extra:
            s = extra["sankey"]
            out["sankey"] = {"from": s.anchor, "backwards": s.backwards, "cases": s.cases,
                             "nodes": [n.__dict__ for n in s.nodes], "links": [lk.__dict__ for lk in s.links]}
        if "loops" in extra:
            out["loops"] = [lp.to_dict() for lp in extra["loops"].loops]
        if "comparison" in extra:
            c = extra["comparison"]
            out["comparison"] = {"a": c.label_a, "b": c.label_b, "cases_a": c.cases_a, "cases_b": c.cases_b,
                                 "correction": c.correction, "edges": [e.__dict__ for e in c.edges]}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    _print(log.source, g, v, extra)


def _dur(s: float) -> str:
    if s < 120:
        return f"{s:,.0f} s"
    if s < 7200:
        return f"{s / 60:,.1f} min"
    if s < 172800:
        return f"{s / 3600:,.1f} h"
    return f"{s / 86400:,.1f} d"


def _print(source: str, g: Any, v: Any, extra: dict[str, Any], rows: int = 15) -> None:
    console.print(f"[bold]{escape(source)}[/bold]: {g.cases:,} cases, {g.events:,} events, "
                  f"{len(g.edges):,} edges, {len(v.variants):,} variants; {v.coverage(0.8):,} variants cover 80% "
                  "of the cases")
    console.print("starts: " + ", ".join(f"{escape(a)} {n:,}" for a, n in list(g.start.items())[:8]))
    console.print("ends: " + ", ".join(f"{escape(a)} {n:,}" for a, n in list(g.end.items())[:8]))
    t = Table(title="Most frequent steps (directly follows)")
    for col in ("from", "to", "cases", "median time"):
        t.add_column(col, justify="right" if col in ("cases", "median time") else "left")
    for e in g.edges[:rows]:
        t.add_row(escape(e.source), escape(e.target), f"{e.count:,}", _dur(e.median_seconds))
    console.print(t)
    t = Table(title="Most frequent variants")
    for col in ("#", "path", "cases", "cumulative"):
        t.add_column(col, justify="left" if col == "path" else "right")
    curve = v.curve()
    for i, x in enumerate(v.variants[:rows]):
        t.add_row(str(i + 1), escape(" → ".join(x.activities)), f"{x.cases:,}", f"{100 * curve[i]:.1f}%")
    console.print(t)
    if "sankey" in extra:
        s = extra["sankey"]
        way = "before" if s.backwards else "after"
        t = Table(title=f"Paths {way} {escape(s.anchor)} ({s.cases:,} cases)")
        for col in ("step", "from", "to", "cases"):
            t.add_column(col, justify="right" if col in ("step", "cases") else "left")
        for lk in s.links:
            t.add_row(str(lk.step + 1), escape(lk.source), escape(lk.target), f"{lk.cases:,}")
        console.print(t)
    if "loops" in extra:
        t = Table(title="Loops: activities repeated within a case")
        for col in ("activity", "self-loops", "returns", "cases"):
            t.add_column(col, justify="left" if col == "activity" else "right")
        for lp in extra["loops"].loops[:rows]:
            t.add_row(escape(lp.activity), f"{lp.self_loops:,}", f"{lp.returns:,}", f"{lp.cases:,}")
        console.print(t)
    if "comparison" in extra:
        c = extra["comparison"]
        t = Table(title=f"{escape(c.label_a)} ({c.cases_a:,}) vs {escape(c.label_b)} ({c.cases_b:,}): share of "
                        f"cases taking each step, p adjusted ({c.correction})")
        for col in ("from", "to", c.label_a, c.label_b, "difference", "p adj.", ""):
            t.add_column(escape(col), justify="left" if col in ("from", "to") else "right")
        for d in c.edges[:rows]:
            t.add_row(escape(d.source), escape(d.target), f"{100 * d.share_a:.1f}%", f"{100 * d.share_b:.1f}%",
                      f"{d.difference:+.1f} pp", f"{d.p_adjusted:.3g}", "significant" if d.significant else "")
        console.print(t)
