"""One customer across channels."""

from __future__ import annotations

from centric import ingest

from .conftest import rows


def test_shop_callcentre_social_become_one_customer(store, write):
    shop = write("shop.csv", "customer_id,name,email\nK1,Anna Nowak, Anna.Nowak@Example.PL \nK2,Jan Kos,jan@x.pl\n")
    cc = write("cc.csv", "Imię i nazwisko;Telefon;E-mail\nAnna Nowak;601 234 567;anna.nowak@example.pl\n",
               encoding="cp1250")
    social = write("social.jsonl", '{"handle": "@AnnaN", "phone": "+48 601-234-567", "text": "x", "date": "2025-01-01"}\n')
    ingest("customers", shop, store=store)
    ingest("customers", cc, store=store)
    ingest("feedback", social, store=store, values={"source": "social"})
    assert rows(store, "SELECT count(*) FROM customers") == [(2,)]
    anna = rows(store, "SELECT customer_id FROM identities WHERE value = 'k1'") or \
        rows(store, "SELECT customer_id FROM identities WHERE value = 'K1'")
    ids = rows(store, "SELECT kind, value FROM identities WHERE customer_id = ? ORDER BY kind", [anna[0][0]])
    assert ids == [("crm_id", "K1"), ("email", "anna.nowak@example.pl"), ("handle", "annan"),
                   ("phone", "+48601234567")]
    assert rows(store, "SELECT customer_id FROM feedback") == anna


def test_transitive_merge_is_recorded(store, write):
    # two customers known separately, then one record links them
    ingest("customers", write("a.csv", "customer_id,email\nK1,a@x.pl\n"), store=store)
    ingest("customers", write("b.csv", "customer_id,phone\nK2,601234567\n"), store=store)
    ingest("orders", write("o.csv", "customer_id,date,amount\nK2,2025-01-01,10\n"), store=store)
    assert rows(store, "SELECT count(*) FROM customers") == [(2,)]
    r = ingest("responses", write("r.csv", "email,phone,date,nps\na@x.pl,+48 601 234 567,2025-02-01,10\n"),
               store=store)[0]
    assert r.customers_merged == 1
    assert rows(store, "SELECT customer_id FROM customers") == [("C0000001",)]
    (merged, into, reason), = rows(store, "SELECT merged_customer_id, into_customer_id, reason FROM customer_merges")
    assert (merged, into) == ("C0000002", "C0000001")
    assert "email:a@x.pl" in reason and "phone:+48601234567" in reason and "r.csv row 2" in reason
    # the order of the merged customer follows
    assert rows(store, "SELECT customer_id FROM orders") == [("C0000001",)]
    assert rows(store, "SELECT DISTINCT customer_id FROM identities") == [("C0000001",)]
    # new customers never reuse a merged id
    ingest("customers", write("c.csv", "customer_id\nK3\n"), store=store)
    assert rows(store, "SELECT customer_id FROM identities WHERE value = 'K3'") == [("C0000003",)]


def test_chain_in_one_file(store, write):
    f = write("chain.csv", "customer_id,email,phone\nK1,a@x.pl,\n,a@x.pl,601234567\nK3,,601 234 567\nK4,d@x.pl,\n")
    r = ingest("customers", f, store=store)[0]
    assert r.customers_created == 2
    assert rows(store, "SELECT count(DISTINCT customer_id) FROM identities WHERE value IN ('K1', 'K3')") == [(1,)]


def test_competitor_feedback_does_not_create_customers(store, write):
    ingest("customers", write("a.csv", "customer_id,handle\nK1,@known\n"), store=store)
    f = write("f.jsonl",
              '{"handle": "known", "brand": "CasaTech", "text": "cheap", "date": "2025-01-01"}\n'
              '{"handle": "stranger", "brand": "CasaTech", "text": "meh", "date": "2025-01-01"}\n'
              '{"handle": "fan", "text": "great", "date": "2025-01-01"}\n')
    r = ingest("feedback", f, store=store, values={"source": "social"})[0]
    assert r.rows_stored == 3
    got = rows(store, "SELECT text, brand, customer_id FROM feedback ORDER BY text")
    assert got == [("cheap", "CasaTech", "C0000001"), ("great", "ours", "C0000002"), ("meh", "CasaTech", None)]


def test_reloading_customers_changes_nothing(store, write):
    f = write("c.csv", "customer_id,name,email,segment\nK1,Anna,a@x.pl,vip\nK2,Jan,j@x.pl,b2c\n")
    ingest("customers", f, store=store)
    g = write("c2.csv", "customer_id,name,email,segment\nK1,Anna,a@x.pl,vip\nK2,Jan,j@x.pl,b2b\n")
    r = ingest("customers", g, store=store)[0]
    assert (r.rows_stored, r.rows_duplicate) == (1, 1)
    assert rows(store, "SELECT name, segment FROM customers ORDER BY name") == [("Anna", "vip"), ("Jan", "b2b")]


def test_forget_erases_personal_data_and_keeps_totals(store, write):
    from centric.privacy import forget

    ingest("customers", write("c.csv", "customer_id,name,email,phone\nK1,Anna Nowak,anna@x.pl,601234567\n"
                                       "K2,Jan Kos,jan@x.pl,\n"), store=store)
    ingest("orders", write("o.csv", "customer_id,date,amount\nK1,2025-01-01,10\nK2,2025-01-02,5\n"), store=store)
    ingest("responses", write("r.csv", "email,date,nps,comment\nanna@x.pl,2025-01-03,3,Anna here: call me\n"
                                       "anna@x.pl,2025-01-04,11,bad row\n"), store=store)
    e = forget(store, "+48 601 234 567")
    assert (e.customer_id, e.identities_removed, e.rejected_rows_removed) == ("C0000001", 3, 1)
    assert rows(store, "SELECT count(*) FROM identities WHERE customer_id = 'C0000001'") == [(0,)]
    assert rows(store, "SELECT count(*) FROM customers") == [(1,)]
    assert rows(store, "SELECT sum(amount), count(customer_id) FROM orders") == [(15.0, 1)]
    assert rows(store, "SELECT nps, comment, customer_id FROM responses") == [(3, None, None)]
    assert rows(store, "SELECT count(*) FROM rejected_rows WHERE record LIKE '%anna%'") == [(0,)]
    assert rows(store, "SELECT customer_id FROM erasures") == [("C0000001",)]
