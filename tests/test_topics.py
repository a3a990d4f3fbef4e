"""Topics of a source (what complaints, reviews, survey comments are about) and placeholder answers."""

from __future__ import annotations

import csv
import io
import json

import pytest

from centric.metrics.stats import adjust_p, nps_score, two_proportions
from centric.text.topics import topics

from .engines import db_of, executemany

LONG = ("The courier called to say he was outside but nobody was there and when I rang the depot they said the "
        "van had broken down somewhere on the ring road and the parcel would come tomorrow.")


def _complaints(store, write):
    """40 complaints in January 2025 and 40 in February about our brand, two placeholders in February, a
    review and a competitor's complaint, with the analysis stored as `centric analyze` would (retail):
    delivery in 10 January and 30 February texts (all negative; J0 twice), price in 4 + 4 texts
    (January 2 positive and 2 negative, February 4 negative); the other 32 texts carry no factor."""
    from centric import ingest

    rows = []
    texts = {}
    for month, prefix in (("01", "J"), ("02", "F")):
        for i in range(40):
            tid = f"{prefix}{i}"
            texts[tid] = f"Complaint {tid} about my order."
            rows.append([tid, "complaint", "ours", f"2025-{month}-{i % 28 + 1:02d}", texts[tid]])
    texts["J0"] = "The courier came a week [bold]late[/bold]. Nobody called me <script>alert(1)</script>."
    texts["J1"] = texts["J2"] = "Delivery was <b>late</b>."  # the same sentence twice: quoted once
    texts["J3"] = LONG
    texts["J10"] = "Prices are fair."
    for tid in ("J0", "J1", "J2", "J3", "J10"):
        rows[[r[0] for r in rows].index(tid)][4] = texts[tid]
    rows += [["P1", "complaint", "ours", "2025-02-10", "N/a"], ["P2", "complaint", "ours", "2025-02-11", "-"],
             ["R1", "review", "ours", "2025-01-05", "Slow delivery."],
             ["X1", "complaint", "Rival", "2025-01-05", "Their delivery was late."]]
    buf = io.StringIO()
    csv.writer(buf).writerows([["id", "source", "brand", "date", "text"], *rows])
    ingest("feedback", write("complaints.csv", buf.getvalue()), store=store)
    analyses, mentions = [], []

    def mention(tid, factor, sentiment, sentence=0, confidence=0.9, score=None):
        s = score if score is not None else {"positive": 0.6, "negative": -0.6, "neutral": 0.0}[sentiment]
        mentions.append(("feedback", tid, sentence, factor, sentiment, s, confidence, "retail", "en"))

    for r in rows:
        ph = r[4] in ("N/a", "-")
        flags = [{"flag": "placeholder", "reason": "…"}] if ph else []
        analyses.append(("feedback", r[0], "retail", "en", None if ph else "negative", None if ph else -0.5, "{}",
                         json.dumps(flags), "hand", "2025-03-01"))
    for i in range(10):
        mention(f"J{i}", "delivery", "negative", confidence={0: 0.99, 1: 0.9, 2: 0.9, 3: 0.95}.get(i, 0.5))
    mention("J0", "delivery", "negative", sentence=1, confidence=0.4)
    for i in range(30):
        mention(f"F{i}", "delivery", "negative", confidence=0.3)
    for i, s in zip(range(10, 14), ("positive", "positive", "negative", "negative"), strict=True):
        mention(f"J{i}", "price", s)
    for i in range(30, 34):
        mention(f"F{i}", "price", "negative")
    mention("R1", "delivery", "negative")
    mention("X1", "delivery", "negative")
    with store.transaction():
        executemany(store, "INSERT INTO text_analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", analyses)
        executemany(store, "INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", mentions)
    return texts


def test_topics_of_complaints_with_known_answers(store, write):
    _complaints(store, write)
    t = topics(store, source="complaint")
    assert (t.taxonomy, t.texts, t.placeholders, t.unclassified) == ("retail", 80, 2, 80 - 48)
    assert [x.factor for x in t.topics] == ["delivery", "price"]
    d, p = t.topics
    assert (d.name, d.texts, d.mentions, d.negative) == ("Delivery", 40, 41, 41)
    assert d.share == pytest.approx(50.0) and d.net == pytest.approx(-100.0)
    assert (p.texts, p.positive, p.negative) == (8, 2, 6)
    assert p.share == pytest.approx(10.0) and p.net == pytest.approx(-50.0)
    assert (p.net_low, p.net_high) == (nps_score(2, 0, 6).low, nps_score(2, 0, 6).high)
    # quotes: most confident first, one per text, a sentence quoted once, long ones cut on a word
    assert d.quotes[0] == "The courier came a week [bold]late[/bold]."
    assert d.quotes[1] == LONG[:159].rsplit(" ", 1)[0] + "…" and len(d.quotes[1]) <= 160
    assert d.quotes[2] == "Delivery was <b>late</b>."
    assert p.quotes == ("Complaint F30 about my order.", "Complaint F31 about my order.",
                        "Complaint F32 about my order.")  # negative prevails; ties by text id
    # the trend: shares and the changes tested, Holm-corrected over the 4 tests of the view
    assert t.periods == ("2025-01", "2025-02") and t.tests == 4 and t.correction == "holm"
    trend = {(r.factor, r.period): r for r in t.trend}
    feb = trend[("delivery", "2025-02")]
    assert (feb.texts, feb.period_texts, feb.share, feb.share_change) == (30, 40, 75.0, 50.0)
    raw = two_proportions(30, 40, 10, 40)[1]
    assert raw < 1e-5 and feb.share_p == pytest.approx(4 * raw) and feb.share_significant
    assert feb.net_change == 0 and not feb.net_significant
    assert trend[("delivery", "2025-01")].share_p is None  # nothing before it to compare with
    price = trend[("price", "2025-02")]
    assert price.share_change == 0 and price.share_p == 1.0 and not price.share_significant
    frame = t.to_frame()
    assert list(frame["factor"]) == ["delivery", "price"] and frame.loc[0, "texts"] == 40
    assert len(t.trend_frame()) == 4
    d2 = json.loads(json.dumps(t.to_dict()))
    assert d2["topics"][0]["quotes"][0].endswith("[bold]late[/bold].") and d2["tests"] == 4
    html = t._repr_html_()
    assert "Delivery" in html and "<script>" not in html


def test_topics_selection(store, write):
    _complaints(store, write)
    assert topics(store, source="review").topics[0].texts == 1
    everyone = topics(store, source="complaint", brand=None)
    assert everyone.texts == 81 and everyone.topics[0].texts == 41  # the competitor's complaint joins
    allsrc = topics(store)
    assert allsrc.texts == 81  # our complaints and our review
    feb = topics(store, source="complaint", since=__import__("datetime").date(2025, 2, 1))
    assert (feb.texts, feb.placeholders, feb.topics[0].texts, feb.tests) == (40, 2, 30, 0)
    q = topics(store, source="complaint", period="quarter")
    assert q.periods == ("2025-Q1",) and q.tests == 0
    assert topics(store, source="chat").texts == 0 and topics(store, source="chat").topics == ()
    with pytest.raises(Exception, match="unknown source 'complaints'"):
        topics(store, source="complaints")


def test_holm_known_values():
    # p = .01, .04, .03, .5 (m = 4): sorted .01·4 = .04, .03·3 = .09, .04·2 = .08 → .09 (monotone), .5
    assert [round(x, 4) for x in adjust_p([0.01, 0.04, 0.03, 0.5], "holm")] == [0.04, 0.09, 0.09, 0.5]
    assert adjust_p([]) == [] and adjust_p([0.2]) == [0.2] and adjust_p([0.6, 0.7]) == [1.0, 1.0]


def test_topics_command(store, write, tmp_path):
    from typer.testing import CliRunner

    from centric.cli import app

    _complaints(store, write)
    db = db_of(store)
    store.close()
    run = CliRunner().invoke
    res = run(app, ["--db", db, "text", "topics", "--source", "complaint", "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert [x["factor"] for x in got["topics"]] == ["delivery", "price"] and got["placeholders"] == 2
    res = run(app, ["--db", db, "text", "topics", "--source", "complaint"])
    assert res.exit_code == 0, res.output
    assert "Delivery" in res.output and "80 complaint texts" in res.output and "2 placeholder" in res.output
    assert "“The courier came a week [bold]late[/bold].”" in res.output  # shown as written, not as markup
    assert "Holm" in res.output and "▲" in res.output
    for bad, msg in ((["--source", "complaints"], "unknown source"), (["--period", "fortnight"], "unknown period"),
                     (["--since", "2025-13-01"], "not a date")):
        res = run(app, ["--db", db, "text", "topics", *bad])
        assert res.exit_code == 2 and msg in res.output, res.output


def test_report_shows_topics_and_placeholders(store, write):
    from centric.report import build_report

    _complaints(store, write)
    html = build_report(store, lang="en", period="month")
    assert 'id="topics"' in html and "Complaints" in html and "Reviews" in html
    section = html[html.index('<section id="topics">'):html.index('<section id="quality">')]
    assert "The courier came a week [bold]late[/bold]." in section
    assert "Delivery was &lt;b&gt;late&lt;/b&gt;." in section and "<b>late" not in section  # customer text escaped
    assert "+50.0 ▲" in section  # February's share of delivery complaints: 25% → 75%
    assert "2 placeholder answers" in html  # the data-quality note
    assert "No data yet" not in html  # complaints alone make a report
    pl = build_report(store, lang="pl", period="month")
    assert "Tematy" in pl and "Dostawa" in pl


@pytest.mark.parametrize("text, why", [
    ("Did not answer", "no answer"), ("N/a", "no answer"), ("n.a.", "no answer"), ("None.", "no answer"),
    ("Nothing!", "no answer"), ("nothing at all.", "no answer"), ("-", "no answer"), ("…", "no answer"),
    ("No comment", "no answer"), ("Nie dotyczy", "no answer"), ("Brak uwag.", "no answer"), ("Nic", "no answer"),
    ("Нет ответа", "no answer"), ("Без комментариев", "no answer"), ("Ничего.", "no answer"),
    ("Nessun commento", "no answer"), ("Niente", "no answer"), ("n/d", "no answer"),
    ("10", "score only"), ("9/10", "score only"), ("10 out of 10", "score only"), ("5 stars", "score only"),
    ("8 pkt", "score only"), ("10 баллов", "score only"), ("9 su 10", "score only"),
    ("Nothing to improve, the nurses were lovely.", None), ("Everything.", None), ("👍", None),
    ("10 days waiting for the engineer", None), ("No signal at home", None), ("Nic nie działa!", None),
])
def test_placeholder_answers(text, why):
    from centric.text.placeholders import placeholder

    assert placeholder(text) == why


def test_placeholders_are_kept_counted_and_not_analysed(store, write, tmp_path):
    from typer.testing import CliRunner

    from centric import ingest
    from centric.cli import app
    from centric.report.data import quality
    from centric.text.batch import analyze_store
    from centric.text.suspicious import flagged

    answers = ["Did not answer", "N/a", "10", "9/10", "Nic.", "Ничего", "Niente", "-",
               "The nurse explained everything clearly.", "The parking was a nightmare."]
    body = "".join(f"r{i}@x.pl,2025-01-{i + 1:02d},{5 if i < 8 else 9},{t}\n" for i, t in enumerate(answers))
    ingest("responses", write("r.csv", "email,date,nps,comment\n" + body), store=store)
    res = analyze_store(store, "healthcare", fast=True)
    assert (res.texts, res.placeholders, res.reclassified) == (10, 8, 0)
    rows = dict(store.execute("SELECT r.comment, a.sentiment FROM text_analyses a JOIN responses r "
                              "ON a.text_id = r.response_id").fetchall())
    assert len(rows) == 10 and all(rows[t] is None for t in answers[:8])  # kept, no sentiment
    assert rows[answers[8]] is not None
    factors = store.execute("SELECT DISTINCT r.comment FROM mentions m JOIN responses r "
                            "ON m.text_id = r.response_id").fetchall()
    assert sorted(c for (c,) in factors) == sorted(answers[8:])  # no factor on a placeholder
    assert store.count("responses") == 10 and quality(store)["placeholders"] == 8
    assert flagged(store) == []  # a placeholder is not suspicious
    # a store analysed before placeholders were recognised: "Did not answer" as negative communication
    (rid,) = store.execute("SELECT response_id FROM responses WHERE comment = 'Did not answer'").fetchone()
    with store.transaction():
        store.execute("UPDATE text_analyses SET sentiment = 'negative', score = -0.6, flags = '[]' "
                      "WHERE text_id = ?", [rid])
        store.execute("INSERT INTO mentions VALUES ('responses', ?, 0, 'communication', 'negative', -0.6, 0.7, "
                      "'healthcare', 'en')", [rid])
    db = db_of(store)
    store.close()
    out = CliRunner().invoke(app, ["--db", db, "analyze", "--taxonomy", "healthcare"])
    assert out.exit_code == 0, out.output
    assert ("8 placeholder answers (“did not answer”, “n/a”, “nothing”, only a score …) kept but not analysed as "
            "opinions, 1 of them analysed as opinions before") in " ".join(out.output.split())
    from centric.engines import open_store

    with open_store(db) as s:
        assert s.execute("SELECT count(*) FROM mentions WHERE text_id = ?", [rid]).fetchone()[0] == 0
        assert s.execute("SELECT sentiment FROM text_analyses WHERE text_id = ?", [rid]).fetchone()[0] is None


def test_russian_advocate_is_not_a_lawyer():
    from centric.report.i18n import translations

    ru, it = translations("ru").gettext, translations("it").gettext
    assert ru("advocate") == "сторонники бренда" and "адвокат" not in ru(
        "Loyal: bought again and still active; advocate: loyal and a promoter or a positive public reviewer. "
        "As of %(day)s.")
    assert it("cannot lose them") == "non possiamo perderli"  # "da non perdere" means "not to be missed"
    assert ru("Topics") == "Темы" and translations("pl").gettext("Topics") == "Tematy" and it("Topics") == "Argomenti"


def test_every_shipped_taxonomy_is_listed_in_help_and_docs():
    from pathlib import Path

    from typer.testing import CliRunner

    from centric.cli import app
    from centric.text.taxonomy import BUILTIN, builtin_names

    names = builtin_names()
    assert names == sorted(p.stem for p in BUILTIN.glob("*.toml")) and len(names) >= 6
    doc = (Path(__file__).resolve().parents[1] / "docs" / "text.md").read_text(encoding="utf-8")
    for cmd in (["analyze"], ["text", "analyze"], ["text", "discover"]):
        out = " ".join(CliRunner().invoke(app, [*cmd, "--help"], terminal_width=200).output.split())
        assert ", ".join(names) in out, cmd
    for n in names:
        assert f"`{n}`" in doc


@pytest.fixture(scope="module")
def analyzer():
    """analyzer(taxonomy): one fast analyser per taxonomy for the module."""
    from centric.text import Analyzer

    made: dict = {}
    return lambda name: made.setdefault(name, None) or made.__setitem__(name, Analyzer(name, fast=True)) or made[name]


@pytest.mark.parametrize("taxonomy, text, expected", [
    ("telecom", "Still no broadband after a month, and nobody can tell me when it will be live.", "orders"),
    ("telecom", "They cancelled my installation appointment twice without telling me.", "orders"),
    ("telecom", "I ordered on the 3rd and the line was only activated three weeks later.", "orders"),
    ("telecom", "The TV box keeps freezing and half of the channels are missing.", "tv"),
    ("banking", "I disputed the incorrect late payments on my credit report but Equifax verified them without any "
                "investigation.", "credit_reports"),
    ("banking", "There is an account on my credit report that is not mine.", "credit_reports"),
    ("banking", "A debt collector calls me every day about a debt I already paid and threatened to sue me.",
     "debt_collection"),
    ("banking", "They never sent me a written notice of the debt before passing it to a collection agency.",
     "debt_collection"),
])
def test_new_factors_catch_real_shaped_texts(analyzer, taxonomy, text, expected):
    (r,) = analyzer(taxonomy).analyze([{"id": 1, "text": text, "lang": "en"}])
    assert expected in {f["factor"] for f in r.factors}


def test_new_factors_stay_away_from_other_topics(analyzer):
    found = [{f["factor"] for f in r.factors} for r in analyzer("banking").analyze(
        [{"id": i, "text": t, "lang": "en"} for i, t in enumerate(
            ["The app crashes every time I try to log in.", "The branch adviser was very helpful.",
             "Hidden fees on my current account.", "They charged me an overdraft fee.",
             "The mortgage payment was applied late.", "Someone stole money from my account."])])]
    assert all(not ({"credit_reports", "debt_collection"} & f) for f in found), found


def test_a_taxonomy_lists_its_own_generic_sentences(tmp_path):
    from centric.errors import CentricError
    from centric.text import load_taxonomy

    body = 'name = "t"\n[[factors]]\nid = "fees"\nexamples.en = ["hidden fees"]\n'
    p = tmp_path / "t.toml"
    p.write_text('generic = ["I am filing this complaint"]\n' + body, encoding="utf-8")
    assert load_taxonomy(p).generic == ("I am filing this complaint",)
    assert "I am filing this complaint" in load_taxonomy("banking").generic and load_taxonomy("retail").generic == ()
    p.write_text('generic = "not a list"\n' + body, encoding="utf-8")
    with pytest.raises(CentricError, match="generic must be a list"):
        load_taxonomy(p)
