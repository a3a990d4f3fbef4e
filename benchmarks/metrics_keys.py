"""What integer customer keys would bring to the metrics query: NPS + CSAT + CES by month × segment × channel
over the answers of ``metrics.py``, joined to the customers three ways, the results compared group by group.

    python benchmarks/metrics_keys.py [--answers 10000000] [--customers 200000] [--rounds 3]

The store is ``metrics.py``'s, with one answer in a hundred made anonymous (no customer). Scratch copies of the
answers and the customers get an integer ``customer_key`` (1 … number of customers, in the order of the text
ids), and the same Ibis aggregates as ``centric.metrics`` (``survey.aggregations``) run over:

- text: a LEFT JOIN on the text ``customer_id`` (what centric does today);
- int left: a LEFT JOIN on ``customer_key``;
- int inner + keyless: an INNER JOIN on ``customer_key`` for the answers that have one, aggregated, and the
  answers without one aggregated apart (segment ``(none)``), the two sets of sums added — the same result as
  the LEFT JOIN when every key of an answer is a customer's (a foreign key), which the store would guarantee.

DuckDB runs an inner join on a small range of integers as a "perfect hash join" (an array lookup) and a
left join as an ordinary hash join; that is the difference measured. CPU seconds (user + system, all
threads) are printed beside wall seconds: steadier when other work shares the cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from metrics import make_store  # noqa: E402


def prepare(con) -> None:
    con.raw_sql("UPDATE responses SET customer_id = NULL WHERE hash(response_id) % 100 = 0")
    con.raw_sql("""CREATE TABLE customers_k AS SELECT row_number() OVER (ORDER BY customer_id)::INTEGER AS customer_key,
                   customer_id, segment FROM customers""")
    con.raw_sql("""CREATE TABLE responses_k AS SELECT r.*, k.customer_key FROM responses r
                   LEFT JOIN customers_k k ON k.customer_id = r.customer_id ORDER BY r.response_id""")


def queries(con) -> dict:
    import ibis

    from centric.metrics.survey import aggregations, period_key

    metrics = ["nps", "csat", "ces"]
    r, c = con.table("responses_k"), con.table("customers_k")

    def grouped(t):
        t = t.filter(ibis.or_(*[t[m].notnull() for m in metrics]))
        keys = {"month": period_key("month", t.responded_at), "segment": t.segment.fill_null("(none)"),
                "channel": t.channel.fill_null("(none)")}
        return t.group_by(**keys).aggregate(**aggregations(t, metrics))

    def left(key):
        cc = c.select(key, "segment")
        return grouped(r.left_join(cc, r[key] == cc[key]))

    cc = c.select("customer_key", "segment")
    keyed = r.filter(r.customer_key.notnull())
    parts = grouped(keyed.inner_join(cc, "customer_key")).union(
        grouped(r.filter(r.customer_key.isnull()).mutate(segment=ibis.null("string"))), distinct=False)
    sums = [n for n in parts.columns if n not in ("month", "segment", "channel")]
    both = parts.group_by("month", "segment", "channel").aggregate(**{n: parts[n].sum() for n in sums})
    return {"text (today)": left("customer_id"), "int left": left("customer_key"), "int inner + keyless": both}


def main() -> None:
    import ibis

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "keys.duckdb"
        make_store(db, args.answers, args.customers)
        con = ibis.duckdb.connect(str(db))
        prepare(con)
        qs = queries(con)
        results, times = {}, {name: [] for name in qs}
        for _ in range(args.rounds):
            for name, q in qs.items():
                t, cpu = time.perf_counter(), time.process_time()
                out = q.to_pyarrow()
                times[name].append((time.perf_counter() - t, time.process_time() - cpu))
                rows = sorted(zip(*out.to_pydict().values(), strict=True))
                results.setdefault(name, rows)
                assert rows == results[name]
        ref = results["text (today)"]
        print(f"{'join':<22} {'groups':>6}  equal  wall s (each round)   CPU s (each round)")
        for name, ts in times.items():
            print(f"{name:<22} {len(results[name]):>6}  {'yes' if results[name] == ref else 'NO':>5}  "
                  f"{' '.join(f'{w:.2f}' for w, _ in ts):<20}  {' '.join(f'{c:.2f}' for _, c in ts)}")


if __name__ == "__main__":
    main()
