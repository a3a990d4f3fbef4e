"""centric analyze on a Spark lake: the text pipeline as a Spark batch job (mapInPandas over the new texts) gives
the same text_analyses and mentions as on the DuckDB store the lake was copied from; a second run analyses
nothing; the drivers computed from them are the same on both.

Rows are compared order-independently, without the time of the analysis; the scores to 1e-6: each text goes through
the same pipeline function on both engines, but in other batches (a partition's), and the embeddings (float32)
of a text differ by up to ~3e-7 with the batch it is encoded in — as on DuckDB with another ``batch``."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from centric import ingest
from centric.cli import app
from centric.engines.lake import lake_scratch
from centric.store import Store

from .engines import DUCKDB, SPARK, all_rows, lake_rows
from .spark import url

runner = CliRunner()

EN = ["The delivery was a week late and nobody answered the phone.", "Staff were rude and the refund took a month.",
      "Great prices, quick checkout.", "The parcel arrived broken and support ignored me.",
      "Friendly staff, but the queue at the till was very long.", "n/a", "Shipping was fast, the packaging nice.",
      "The app keeps crashing when I pay.", "Prices went up again, too expensive now."]
PL = ["Kurier był punktualny.", "Obsługa była niemiła, a zwrot trwał miesiąc.", "Paczka przyszła uszkodzona.",
      "Świetne ceny i szybka dostawa.", "Długo czekałem na infolinii.", "brak", "Aplikacja ciągle się zawiesza.",
      "Miła obsługa w sklepie."]
IT = ["La consegna è arrivata in ritardo di una settimana.", "Il personale era scortese.",
      "Prezzi ottimi, pagamento veloce.", "Il pacco è arrivato rotto.", "Il rimborso ha richiesto un mese.",
      "Servizio clienti gentile e veloce."]


def _csv(texts: list[str]) -> str:
    lines = ["email,date,nps,comment"]
    for i, t in enumerate(texts):
        lines.append(f'c{i}@x.pl,2025-01-{1 + i % 28:02d},{i % 11},"{t}"')
    return "\n".join(lines) + "\n"


FEEDBACK = "".join(json.dumps({"id": f"F{i}", "text": t, "date": f"2025-02-{1 + i:02d}"}, ensure_ascii=False) + "\n"
                   for i, t in enumerate(["Refund me or I will post it everywhere.", *EN[:3], *PL[:2], *IT[:2]]))


def duck_rows(path, table: str) -> list[tuple]:
    with Store.open(path, read_only=True) as s:
        return all_rows(s, table)


def same_rows(a: list[tuple], b: list[tuple], drop_last: bool = False) -> None:
    """Equal as multisets; floats to 1e-6."""
    def norm(rows):
        return sorted((r[:-1] if drop_last else r for r in rows), key=lambda r: repr(r[:2]) + repr(r[2:]))

    a, b = norm(a), norm(b)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) or isinstance(v, float):
                assert math.isclose(u, v, rel_tol=0, abs_tol=1e-6), (x, y)
            else:
                assert u == v, (x, y)


@pytest.mark.capability("analyze", engines=(DUCKDB, SPARK))
def test_analyze_on_a_lake_gives_the_same_analyses_as_on_duckdb(tmp_path, write, spark_session):
    duck = tmp_path / "d.duckdb"
    with Store.open(duck) as s:
        ingest("responses", write("r.csv", _csv(EN + PL + IT)), store=s)
        ingest("feedback", write("f.jsonl", FEEDBACK), store=s, values={"source": "review"})
    lake = tmp_path / "lake"
    spark = url(lake)
    r = runner.invoke(app, ["--db", str(duck), "store", "copy", "--to", spark], catch_exceptions=False)
    assert r.exit_code == 0, r.output

    a = runner.invoke(app, ["--db", str(duck), "analyze", "--fast", "--no-cases"], catch_exceptions=False)
    b = runner.invoke(app, ["--db", spark, "analyze", "--fast"], catch_exceptions=False)
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    texts = len(EN + PL + IT) + len(FEEDBACK.splitlines())
    assert f"{texts} texts analysed" in a.output and f"{texts} texts analysed" in b.output
    assert "cases: not synced (centric cases is not available on Spark)" in b.output
    analyses = lake_rows(lake, "text_analyses")
    assert len(analyses) == texts and len(lake_rows(lake, "mentions")) > texts // 2
    same_rows(duck_rows(duck, "text_analyses"), analyses, drop_last=True)  # without the time of the analysis
    same_rows(duck_rows(duck, "mentions"), lake_rows(lake, "mentions"))
    flags = {r[1]: json.loads(r[7]) for r in analyses}
    assert any(f["flag"] == "extortion" for f in flags["F0"])
    assert sum(any(f["flag"] == "placeholder" for f in fs) for fs in flags.values()) == 2  # "n/a", "brak"

    # a second run analyses nothing and writes nothing
    files = sorted(p.name for p in lake.rglob("*.parquet"))
    again = runner.invoke(app, ["--db", spark, "analyze", "--fast", "--no-cases"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert f"0 texts analysed, 0 factor mentions stored ({texts} analysed before)" in again.output
    assert sorted(p.name for p in lake.rglob("*.parquet")) == files

    # a placeholder analysed as an opinion by an earlier version (a mention of it): turned into a placeholder on
    # both engines, its mention removed — on the lake the mentions are then read and rewritten whole
    placeholder = next(r for r in analyses if r[4] is None)
    opinion = ("UPDATE text_analyses SET sentiment = 'negative', score = -0.5, flags = '[]' WHERE text_id = ?",
               "INSERT INTO mentions VALUES (?, ?, 0, 'delivery', 'negative', -0.5, 0.9, 'retail', 'en')")
    with Store.open(duck) as s:
        s.con.execute(opinion[0], [placeholder[1]])
        s.con.execute(opinion[1], list(placeholder[:2]))
    with lake_scratch(spark, tables=["text_analyses", "mentions"]) as s:
        s.store.con.execute(opinion[0], [placeholder[1]])
        s.store.con.execute(opinion[1], list(placeholder[:2]))
    assert len(lake_rows(lake, "mentions")) == len(duck_rows(duck, "mentions"))
    for db in (str(duck), spark):
        r = runner.invoke(app, ["--db", db, "analyze", "--fast", "--no-cases"], catch_exceptions=False)
        assert r.exit_code == 0 and "1 of them analysed as opinions before" in r.output, r.output
    same_rows(duck_rows(duck, "text_analyses"), lake_rows(lake, "text_analyses"), drop_last=True)
    same_rows(duck_rows(duck, "mentions"), lake_rows(lake, "mentions"))
    assert not [m for m in lake_rows(lake, "mentions") if m[1] == placeholder[1]]

    # the drivers from the analyses: the same on both
    da = runner.invoke(app, ["--db", str(duck), "drivers", "--json"], catch_exceptions=False)
    db = runner.invoke(app, ["--db", spark, "drivers", "--json"], catch_exceptions=False)
    assert da.exit_code == 0 and db.exit_code == 0, (da.output, db.output)
    a_json, b_json = json.loads(da.output), json.loads(db.output)
    assert a_json and _close(a_json, b_json)


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b
