"""Text analytics: centric analyze and the text sub-app."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import CentricError
from ._common import TAXONOMY_HELP, _day_option, _fail, _open, console, run_loop
from .checks import (
    at_least,
    between,
    day,
    input_file,
    output_file,
)

text_app = typer.Typer(help="Text analytics: factors, sentiment per factor, emotions, flags.", no_args_is_help=True)


def analyze_cmd(
    taxonomy: str = typer.Option("retail", "--taxonomy", help=TAXONOMY_HELP),
    fast: bool = typer.Option(False, "--fast", help="Judge polarity on the factor embeddings (several times "
                              "faster, 3–9 points less accurate)."),
    gate: float = typer.Option(None, "--gate", help="Cascade: the fast model decides where it is at least this "
                               "sure (e.g. 0.8), the accurate one the rest (two to three times as fast).",
                               callback=between(0, 1, low_open=True)),
    cases: bool = typer.Option(True, "--cases/--no-cases", help="Afterwards, open cases for the complaints, "
                               "unhappy answers and negative posts analysed (centric cases sync)."),
) -> None:
    """Analyse every comment and feedback text not analysed yet into mentions."""
    from rich.progress import Progress

    from ..text.batch import analyze_store

    with _open() as store:
        try:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("analysing texts", total=None)
                result = analyze_store(store, taxonomy, fast=fast, gate=gate,
                                       progress=lambda done, total: bar.update(task, completed=done, total=total))
        except CentricError as e:
            store.close()
            _fail(e)
        console.print(f"{result.texts:,} texts analysed, {result.mentions:,} factor mentions stored "
                      f"({result.skipped:,} analysed before)")
        if result.placeholders:
            again = f", {result.reclassified:,} of them analysed as opinions before" if result.reclassified else ""
            console.print(f"{result.placeholders:,} placeholder answers (“did not answer”, “n/a”, “nothing”, only a "
                          f"score …) kept but not analysed as opinions{again}")
        if cases:
            if getattr(store, "engine", "duckdb") == "spark":  # cases do not run on Spark
                console.print("cases: not synced (centric cases is not available on Spark)")
            else:
                run_loop(store)


@text_app.command("analyze")
def text_analyze(
    input: Path = typer.Argument(..., help='JSON lines: {"id": …, "text": …, "lang"?: …, "factors"?: [ID, …]}.',
                                 callback=input_file()),
    taxonomy: str = typer.Option("retail", "--taxonomy", help=TAXONOMY_HELP),
    out: Path = typer.Option(..., "--out", help="Where to write the results (JSON lines).", callback=output_file()),
) -> None:
    """Analyse texts from a JSON-lines file into a JSON-lines file."""
    from ..text import Analyzer

    try:
        items = []
        with open(input, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CentricError(f"{input} line {n}: not valid JSON ({e.msg})") from e
                if not isinstance(rec, dict) or "text" not in rec:
                    raise CentricError(f'{input} line {n}: expected an object with "id" and "text"')
                items.append(rec)
        analyzer = Analyzer(taxonomy)
        with open(out, "w", encoding="utf-8") as f:
            for i in range(0, len(items), 512):
                for r in analyzer.analyze(items[i:i + 512]):
                    d = r.to_dict()
                    f.write(json.dumps({k: d[k] for k in ("id", "lang", "sentiment", "score", "factors", "top_factor",
                                                          "emotions", "sentence_emotions", "flags")},
                                       ensure_ascii=False) + "\n")
    except FileNotFoundError as e:
        _fail(CentricError(f"{e.filename}: no such file"))
    except CentricError as e:
        _fail(e)
    console.print(f"{len(items):,} texts analysed → {escape(str(out))}")


@text_app.command("flagged")
def text_flagged(
    flag: str = typer.Option(None, "--flag", help="Only this flag: near_duplicate, burst or extortion."),
    limit: int = typer.Option(100, "--limit", help="At most this many rows.", callback=at_least(1)),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the texts `centric analyze` flagged as suspicious, with the reason (nothing is deleted)."""
    from ..text.suspicious import FLAGS, flagged

    if flag and flag not in FLAGS:
        _fail(CentricError(f"--flag: {flag!r} is not one of {', '.join(FLAGS)}"))
    try:
        with _open(read=True) as store:
            rows = flagged(store, flag=flag, limit=limit)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("No flagged texts (run `centric analyze` first).")
        return
    t = Table("when", "source", "id", "brand", "author", "flag", "reason", "text")
    for r in rows:
        t.add_row(*(escape(str(r[k] if r[k] is not None else "")) for k in
                    ("at", "source", "id", "brand", "author", "flag", "reason", "excerpt")))
    console.print(t)


@text_app.command("topics")
def text_topics(
    source: str = typer.Option(None, "--source", help="Only this kind of text: survey (survey comments), "
                               "complaint, review, social, chat, email, mystery_shopper or observation; "
                               "default: all."),
    brand: str = typer.Option("ours", "--brand", help="Texts about this brand: ours, a competitor's name, or all."),
    period: str = typer.Option("month", "--period", help="Period of the trend: week, month, quarter or year."),
    since: str = typer.Option(None, "--since", help="Texts written on or after this date (YYYY-MM-DD)."),
    taxonomy: str = typer.Option(None, "--taxonomy", help="The taxonomy they were analysed with (default: the "
                                 "one that analysed most of them)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole view as JSON."),
) -> None:
    """What the texts are about: per factor the texts that raise it and their share, net sentiment,
    the trend by period (changes tested, Holm-corrected) and typical quotes. Needs `centric analyze`."""
    from ..text.topics import topics

    try:
        day = _day_option(since, "--since")
        with _open() as store:
            t = topics(store, source=source, brand=None if brand == "all" else brand, period=period, since=day,
                       taxonomy=taxonomy)
    except CentricError as e:
        _fail(e)
    if as_json:
        print(json.dumps(t.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    what = f"{source} texts" if source else "texts"
    if not t.texts and not t.placeholders:
        console.print(f"No analysed {what}{' about ' + escape(brand) if brand != 'all' else ''}"
                      f"{' since ' + str(day) if day else ''}: run `centric analyze` first, or widen the selection.")
        return
    console.print(f"Topics of {t.texts:,} {escape(what)} about {escape(brand)} (taxonomy {escape(t.taxonomy or '')}"
                  f"{', since ' + str(day) if day else ''}): {t.placeholders:,} placeholder answers not analysed, "
                  f"{t.unclassified:,} texts with no factor")
    shown = t.periods[-6:]
    cells = {(r.factor, r.period): r for r in t.trend}
    span = f"{shown[0]} → {shown[-1]}" if len(shown) > 1 else (shown[0] if shown else "")
    tab = Table("factor", "texts", "share %", "net sentiment (95%)", f"share % by {t.period}, {span}")
    for x in t.topics:
        net = "—" if x.net is None else f"{x.net:+.1f} ({x.net_low:+.0f}…{x.net_high:+.0f})"
        trend = []
        for p in shown:
            c = cells.get((x.factor, p))
            arrow = "" if c is None or not c.share_significant else "▲" if c.share_change > 0 else "▼"
            trend.append("—" if c is None or c.share is None else f"{c.share:.0f}{arrow}")
        tab.add_row(escape(x.name), f"{x.texts:,}", f"{x.share:.1f}", net, " ".join(trend))
    console.print(tab)
    console.print(f"share: % of the {t.texts:,} analysed texts (a text may raise several factors); net sentiment: "
                  f"% positive − % negative mentions; ▲▼: the change of the share from the {t.period} before is "
                  f"significant after Holm's correction over the {t.tests:,} changes tested (p < 0.05; periods with "
                  f"fewer than {t.min_texts} texts are not tested); --json for every period and the p-values")
    for x in t.topics:
        for q in x.quotes[:2]:
            console.print(f"  {escape(x.name)}: “{escape(q)}”")


@text_app.command("feelings")
def text_feelings(
    brand: str = typer.Option("ours", "--brand", help="Texts about this brand: ours or a competitor's name."),
    since: str = typer.Option(None, "--since", help="Texts written on or after this date (YYYY-MM-DD)."),
    until: str = typer.Option(None, "--until", help="Texts written before this date (YYYY-MM-DD)."),
    segment: str = typer.Option(None, "--segment", help="Only the texts of this customer segment."),
    min_texts: int = typer.Option(10, "--min-texts", help="Groups with fewer texts show their count only.",
                                  callback=at_least(1)),
    as_json: bool = typer.Option(False, "--json", help="Print every share as JSON (0–1; null under --min-texts)."),
) -> None:
    """How customers feel: the share of the texts that show each of Plutchik's eight emotions (probability 0.5 or
    more), over all texts, by the factor a text mentions (and of the texts judging it negatively), and by the
    customer's segment. The same texts as the factor analysis (the company's own notes left out). Needs
    `centric analyze`."""
    import datetime as dt

    import pandas as pd

    from ..feelings import EMOTIONS, feelings
    from ..feelings.present import STANDS_OUT

    try:
        start, end = _day_option(since, "--since"), _day_option(until, "--until")
        with _open() as store:
            fe = feelings(store, brand=brand, where={"segment": [segment]} if segment else None,
                          start=dt.datetime.combine(start, dt.time()) if start else None,
                          end=dt.datetime.combine(end, dt.time()) if end else None, min_texts=min_texts)
    except CentricError as e:
        _fail(e)

    def clean(frame: pd.DataFrame) -> list[dict]:
        return [{k: (None if not isinstance(v, str) and v is not None and pd.isna(v) else
                     v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in frame.to_dict("records")]

    if as_json:
        print(json.dumps({"texts": fe.texts, "overall": fe.overall, "by_factor": clean(fe.by_factor),
                          "by_segment": clean(fe.by_segment), "min_texts": min_texts}, ensure_ascii=False, indent=2))
        return
    if fe.empty:
        console.print(f"No analysed texts with emotions about {escape(brand)} in this selection: run `centric "
                      "analyze` first, or widen the selection.")
        return

    def pct(v) -> str:
        return "—" if v is None or pd.isna(v) else f"{100 * float(v):.0f}"

    def table(first: str, rows, name, count: str, prefix: str = "") -> Table:
        tab = Table(first, "texts", *(e[:4] for e in EMOTIONS))  # anticipation, surprise … fit 80 columns
        tab.add_row("all texts", f"{fe.texts:,}", *(pct(fe.overall[e]) for e in EMOTIONS), style="bold")
        for _i, r in rows.iterrows():
            lift = fe.lift(r, prefix)
            cells = [f"[bold]{pct(r[prefix + e])}[/bold]" if lift[e] is not None and lift[e] >= STANDS_OUT
                     else pct(r[prefix + e]) for e in EMOTIONS]
            tab.add_row(escape(name(r)), f"{int(r[count]):,}", *cells)
        return tab

    console.print(f"Emotions in {fe.texts:,} texts about {escape(brand)}: % of the texts showing each (bold: "
                  f"{STANDS_OUT:.0f} points or more above all texts; — under {min_texts} texts; "
                  f"{', '.join(f'{e[:4]} = {e}' for e in EMOTIONS if len(e) > 4)})")
    console.print(table("factor mentioned", fe.by_factor, lambda r: r["factor"], "texts"))
    neg = fe.by_factor[fe.by_factor["negative_texts"] > 0].sort_values("negative_texts", ascending=False)
    if len(neg):
        console.print(table("factor judged negatively", neg, lambda r: r["factor"], "negative_texts", "negative:"))
    console.print(table("segment", fe.by_segment, lambda r: ("(no known customer)" if not r["customer"] else
                                                            "(no segment)" if r["segment"] is None else
                                                            str(r["segment"])), "texts"))


@text_app.command("discover")
def text_discover(
    input: Path = typer.Argument(None, help='JSON lines with "id" and "text" (as for text analyze); without it, '
                                 "the store's texts analysed by `centric analyze`.", callback=input_file()),
    taxonomy: str = typer.Option("retail", "--taxonomy", help=TAXONOMY_HELP),
    clusters: int = typer.Option(None, "--clusters", help="Number of clusters (default: from the data).",
                                 callback=between(2, 1000)),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same input and seed give the same result.",
                             callback=between(0, 2**32 - 1)),
    since: str = typer.Option(None, "--since", help="Store only: texts written on or after this date (YYYY-MM-DD).",
                              callback=day()),
    brand: str = typer.Option(None, "--brand", help="Store only: reviews and posts about this brand."),
    out: Path = typer.Option(None, "--out", help="Write the candidates as JSON here.", callback=output_file()),
) -> None:
    """Propose factors nobody named: clusters of sentences that match no factor."""
    from ..text import Analyzer
    from ..text.discovery import discover, store_sentences
    from ..text.embed import USEEmbedder
    from ..text.pipeline import unmatched

    try:
        if input is None:
            day = _day_option(since, "--since")
            with _open() as store:
                sentences, langs = store_sentences(store, taxonomy, since=day and day.isoformat(), brand=brand,
                                                   seed=seed)
            if not sentences:
                console.print("No unmatched sentences: run `centric analyze` first, or widen --since / --brand.")
                return
            embedder = USEEmbedder()
        else:
            items = [json.loads(line) for line in open(input, encoding="utf-8") if line.strip()]
            analyzer = Analyzer(taxonomy, fast=True)
            sentences, langs = unmatched(analyzer, analyzer.analyze(items))
            embedder = analyzer.embedder
        found = discover(sentences, embedder.encode(sentences), langs, k=clusters, seed=seed)
    except (OSError, json.JSONDecodeError) as e:
        _fail(CentricError(f"{input}: {e}"))
    except CentricError as e:
        _fail(e)
    if out:
        out.write_text(json.dumps([c.to_dict() for c in found], ensure_ascii=False, indent=2), encoding="utf-8")
    topics = [c for c in found if not c.generic]
    for i, c in enumerate(topics, start=1):
        console.print(f"[bold]{i}. {escape(', '.join(c.terms))}[/bold] — {c.size} sentences "
                      f"({escape(', '.join(f'{k} {v}' for k, v in c.languages.items()))})")
        for q in c.quotes:
            console.print(f"   “{escape(q[:160])}”")
    for c in found:
        if c.generic:
            console.print(f"[bold]General praise/blame (not a topic)[/bold] — {c.size} sentences that judge without "
                          f"naming anything ({escape(', '.join(f'{k} {v}' for k, v in c.languages.items()))})")
            for q in c.quotes:
                console.print(f"   “{escape(q[:160])}”")
    rest = len(sentences) - sum(c.size for c in found)
    if rest:
        console.print(f"{rest} sentences in clusters too small to propose (fewer than 3 sentences).")
