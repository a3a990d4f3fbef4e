"""Personas and empathy maps: centric personas, centric empathy."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import _fail, _open, console


def _pct(v) -> str:
    return "—" if v is None or v != v else f"{v:.1f}%"


def personas_cmd(
    k: int = typer.Option(None, "--k", help="The number of personas (default: chosen from 3–8 by stability "
                          "under resampling and silhouette).", min=2, max=20),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same data and seed give the same personas."),
    as_json: bool = typer.Option(False, "--json", help="Print the personas, how k was chosen and the quotes' ids "
                                 "as JSON."),
) -> None:
    """Personas found in the data: segments of customers by what they do (orders, purchase rhythm, channels,
    categories, journeys) and what they say (scores, factors, emotions), each with a plain name from its
    distinguishing features, its size, shares of revenue and CLV, NPS, churn risk, channels, languages,
    pains, gains, most common path and three masked quotes."""
    from ..personas import personas

    try:
        with _open(read=True) as store:
            r = personas(store, k=k, seed=seed)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"{r.k} personas among {r.customers:,} customers with orders (seed {r.seed}); "
                  f"{r.not_enough:,} customers without orders are in the group “not enough data”.")
    console.print(f"[dim]{escape(r.selection.rule)}[/dim]")
    sel = Table("k", "stability (mean ARI)", "lowest ARI", "silhouette")
    for row in r.selection.table.itertuples():
        sel.add_row(("→ " if row.k == r.k else "") + str(row.k), f"{row.stability:.3f}", f"{row.stability_low:.3f}",
                    f"{row.silhouette:.3f}")
    console.print(sel)
    for p in r.personas:
        nps = "—" if p.nps.value is None else f"{p.nps.value:+.0f} ({p.nps.low:+.0f} … {p.nps.high:+.0f}, n={p.nps.n})"
        console.print(f"\n[bold]{p.number}. {escape(p.name())}[/bold] — {p.customers:,} customers ({p.share:.1f}%)")
        console.print(f"  revenue {_pct(p.revenue_share)} ({r.currency or '—'}), CLV {_pct(p.clv_share)}, NPS {nps}, "
                      f"P(alive) {'—' if p.p_alive is None else f'{p.p_alive:.2f}'}, likely lost {_pct(p.likely_lost)}")
        console.print("  channels: " + escape(", ".join(f"{c} {s:.0f}%" for c, s in p.channels) or "—")
                      + "; languages: " + escape(", ".join(f"{c} {s:.0f}%" for c, s in p.languages) or "—"))
        console.print("  pains: " + escape(", ".join(f"{x['factor']} ×{x['lift']:.1f}" for x in p.pains) or "—")
                      + "; gains: " + escape(", ".join(f"{x['factor']} ×{x['lift']:.1f}" for x in p.gains) or "—"))
        if p.path:
            console.print(f"  path: {escape(' → '.join(s for _, s in p.path))} ({_pct(p.path_share)})")
        for q in p.quotes:
            console.print(f"  “{escape(q['text'])}” [dim]({escape(q['source'])} {escape(q['text_id'])})[/dim]")


def empathy_cmd(
    persona: str = typer.Argument(None, help="The persona: its number or its name (see centric personas)."),
    segment: str = typer.Option(None, "--segment", help="The empathy map of a customer segment instead "
                                "(customers.segment)."),
    k: int = typer.Option(None, "--k", help="The number of personas, as for centric personas.", min=2, max=20),
    seed: int = typer.Option(0, "--seed", help="Random seed, as for centric personas."),
    as_json: bool = typer.Option(False, "--json", help="Print the map as JSON, every item with the ids of its rows."),
) -> None:
    """The empathy map of a persona or a segment: what they say (quotes), think (factors), do (orders and
    journeys), feel (emotions), their pains and gains — every item with the rows it comes from, and a cell
    with thin evidence (fewer than 5 customers or 10 texts) marked."""
    from ..personas import empathy_map, personas

    if (persona is None) == (segment is None):
        _fail(CentricError("name either a persona (number or name) or --segment S"))
    try:
        with _open(read=True) as store:
            r = personas(store, k=k, seed=seed)
            m = empathy_map(store, r, persona=persona, segment=segment)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(m.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"[bold]Empathy map: {escape(m.title)}[/bold] ({escape(m.group)}, {m.customers:,} customers)")
    for name, cell in m.cells.items():
        thin = " [yellow](thin evidence)[/yellow]" if cell.thin else ""
        console.print(f"\n[bold]{name}[/bold] — {cell.customers:,} customers, {cell.texts:,} texts{thin}")
        for it in cell.items:
            value = it.get("value")
            ev = it.get("evidence", {})
            refs = [f"{t['source']}:{t['text_id']}" for t in ev.get("texts", [])[:3]] or ev.get("customers", [])[:3]
            v = "" if value is None else f" {value}"
            console.print(f"  • {escape(str(it['label']))}{v} [dim]{escape(', '.join(refs))}[/dim]")
