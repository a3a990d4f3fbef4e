import time
from tests.conftest import csrf_of
def test_smoke(web_client, login):
    c = web_client
    login(c, role="admin", email="boss@example.com")
    for path in ["/dashboards", "/dashboards?preset=90d&segment=b2c", "/alerts", "/settings", "/users", "/audit",
                 "/dashboards/factor/delivery", "/dashboards/factor/delivery?partial=1", "/customers/C0000001/forget"]:
        t = time.time(); r = c.get(path); dt = time.time() - t
        print(path, r.status_code, len(r.text), f"{dt:.2f}s")
        if r.status_code != 200:
            print(r.text[:3000])
    t = time.time(); r = c.get("/dashboards"); print("cached", time.time() - t)
    open("/tmp/dash.html", "w").write(c.get("/dashboards").text)
    open("/tmp/alerts.html", "w").write(c.get("/alerts").text)
