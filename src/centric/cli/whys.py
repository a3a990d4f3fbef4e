"""The 5-whys tree of a problem: centric whys."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.tree import Tree

from ..errors import CentricError
from ._common import _fail, _open, console
from .checks import between, one_of

_CHILD_UNIT = {"drop": "factors", "factor": "sentences", "problem": "sentences", "says": "texts", "where": "cases", "department": "cases"}
VERDICT_STYLE = {"root cause": "bold red", "open": "yellow", "expected": "dim"}


def whys_cmd(
    factor: str = typer.Option(None, "--factor", help="The factor to explain (a factor id, e.g. delivery); default: "
                               "the first factor in the action matrix's \"fix\" quadrant (centric drivers)."),
    period: str = typer.Option(None, "--period", help="Only texts written in this period: a year (2025), a quarter "
                               "(2025-Q3) or a month (2025-07); default: all the data."),
    subtopics: int = typer.Option(None, "--subtopics", help="How many sub-topics to look for in the negative "
                                  "sentences (default: √(n/2), 2 to 6).", callback=between(2, 20)),
    embedder: str = typer.Option("tfidf", "--embedder", help="How sentences are compared for the sub-topics: tfidf "
                                 "(character n-grams; quick, one language at a time) or use (the multilingual "
                                 "sentence encoder; groups the same complaint across languages, slower).",
                                 callback=one_of("tfidf", "use")),
    min_cases: int = typer.Option(5, "--min-cases", help="A recorded root cause needs at least this many cases to be "
                                  "marked root cause.", callback=between(1, 1_000_000)),
    min_share: float = typer.Option(25.0, "--min-share", help="… and at least this % of its parent's cases.",
                                    callback=between(0, 100)),
    quotes: bool = typer.Option(True, "--quotes/--no-quotes", help="Show a quote under each node."),
    as_json: bool = typer.Option(False, "--json", help="Print the tree as JSON (every node with its evidence ids)."),
    metric: str = typer.Option(None, "--metric", help="Explain a drop of this metric instead of a factor: nps, csat "
                               "or ces, from --compare to --period (which it needs).",
                               callback=one_of("nps", "csat", "ces")),
    segment: str = typer.Option(None, "--segment", help="With --metric: the customer segment whose drop to explain "
                                "(as centric metrics --by segment shows them); default: all answers."),
    compare: str = typer.Option(None, "--compare", help="With --metric: the earlier period (default: the one just "
                                "before --period)."),
) -> None:
    """Why is a factor in "fix"? Its 5-whys tree, computed from the data: what customers say about it (sub-topics of
    its negative sentences) → where in the journey → which department's cases carry it → the root causes recorded
    when they were closed. Each node with its share of its parent, its baseline and significance (Holm-corrected);
    leaves marked root cause, expected or open. Needs `centric analyze`.

    With --metric (and --period, optionally --segment and --compare): why did the metric fall? The drop with its
    interval → the factors the segment's comments blame more often than before (Holm-corrected, with each one's
    impact in points) → for those that grew significantly, the factor's own tree as above."""
    from ..whys import whys
    from ..whys.tree import period_bounds

    try:
        if metric is not None and factor is not None:
            raise CentricError("give either --factor or --metric (a factor's tree, or a metric's drop), not both")
        if metric is None and (segment or compare):
            raise CentricError("--segment and --compare go with --metric (the drop of a metric for a segment)")
        start, end = period_bounds(period)
        with _open(read=True) as store:
            names = _names(store)
            if factor is None and metric is None:
                factor = _top_fix(store)
            enc = None
            if embedder == "use":
                from ..text.embed import USEEmbedder

                enc = USEEmbedder()
            if metric is not None:
                tree = _drop(store, metric, period, segment, compare, names, k=subtopics, embedder=enc,
                             min_cases=min_cases, min_share=min_share)
            else:
                tree = whys(store, factor, start, end, k=subtopics, embedder=enc, min_cases=min_cases,
                            min_share=min_share, names=names)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps({"period": period, **tree.to_dict()}, ensure_ascii=False, indent=2, default=str))
        return
    change = tree.settings.get("change")
    if change:
        console.print(f"change {change['delta']:+.1f} (95% interval {change['low']:+.1f} … {change['high']:+.1f}), "
                      f"p {change['p']:.2g}; impact: points of the metric each factor's growing blame cost")
    console.print(render(tree, quotes))
    for note in tree.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    console.print("[dim]share: of the parent; base: the same value's share among the rest (sub-topics: an even "
                  "split); * significant above it (one-sided, Holm-corrected p < 0.05); --json for the evidence "
                  "ids[/dim]")


def _drop(store, metric: str, period: str | None, segment: str | None, compare: str | None, names, **options):
    from ..whys import whys_drop

    if not period:
        raise CentricError("--metric needs --period: the period the metric fell in (e.g. 2026-Q3)")
    where = {"segment": [segment]} if segment else None
    return whys_drop(store, metric, period, where=where, compare=compare, names=names, **options)


def _names(store) -> dict[str, str]:
    from ..text.taxonomy import active_taxonomy

    try:
        return {f.id: f.name("en") for f in active_taxonomy(store).factors}
    except CentricError:
        return {}


def _top_fix(store) -> str:
    from ..drivers import drivers
    from ..whys import top_fix

    found = top_fix(drivers(store, reps=0))
    if found is None:
        raise CentricError("no factor is in the \"fix\" quadrant of centric drivers: name one with --factor")
    return found


def _line(node) -> str:
    share = "" if node.share is None else f" {node.share:.0f}%"
    base = "" if node.baseline is None else f", base {node.baseline:.0f}%"
    star = "*" if node.significant else ""
    impact = "" if node.impact is None else f", impact {node.impact:+.1f} pts"
    p = "" if node.p is None else f", p {node.p:.2g}"
    verdict = f" [{VERDICT_STYLE.get(node.verdict, '')}]⟵ {node.verdict}[/]" if node.verdict else ""
    return (f"[bold]{escape(node.label)}[/bold] [dim]({node.level})[/dim]{share}{star} "
            f"[dim](n {node.n:,} {node.unit}{base}{p}{impact})[/dim]{verdict}")


def render(tree, quotes: bool = True) -> Tree:
    """The tree as a Rich tree (labels and quotes escaped)."""

    def add(branch, node):
        here = branch.add(_line(node))
        if quotes and node.quotes:
            here.add(f"[italic dim]“{escape(node.quotes[0])}”[/italic dim]")
        for c in node.children:
            add(here, c)
        if node.other:
            here.add(f"[dim]other: {node.other:,} {_CHILD_UNIT.get(node.level, '')}[/dim]")

    root = Tree(_line(tree.root))
    if quotes and tree.root.quotes:
        root.add(f"[italic dim]“{escape(tree.root.quotes[0])}”[/italic dim]")
    for c in tree.root.children:
        add(root, c)
    return root
