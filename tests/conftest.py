from __future__ import annotations

import os
from pathlib import Path

import pytest

from centric import Store

# the engines' fixtures (a test that takes ``engine`` runs on each engine its capability marker names)
from .engines import demo_db, demo_engines, demo_on, engine, engine_store, engines_of, generate  # noqa: F401

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


STORE_OPTION, STORE_ENV = "--store-engine", "CENTRIC_TEST_STORE"
STORE_ENGINES = ("duckdb", "postgresql")


def store_engine(config) -> str:
    """The engine of the ``store`` fixture: ``--store-engine``, else ``CENTRIC_TEST_STORE``, else duckdb."""
    name = config.getoption(STORE_OPTION) or os.environ.get(STORE_ENV) or "duckdb"
    if name not in STORE_ENGINES:
        raise pytest.UsageError(f"{STORE_ENV}={name!r}: use one of {', '.join(STORE_ENGINES)}")
    return name


@pytest.fixture
def store(request, tmp_path):
    """A new, empty store: a DuckDB file, or with ``--store-engine postgresql`` (``CENTRIC_TEST_STORE=postgresql``)
    a new database on the session's PostgreSQL server (dropped after the test), for the tests marked ``store`` (the
    tests that compare engines keep theirs on DuckDB). Read it with ``rows``."""
    if store_engine(request.config) == "postgresql" and request.node.get_closest_marker("store"):
        from centric.engines.postgres import PgStore

        s = PgStore.open(request.getfixturevalue("pg_url"))
    else:
        s = Store.open(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture
def write(tmp_path):
    """write(name, text_or_bytes, encoding='utf-8') -> path"""

    def _write(name: str, content, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return p

    return _write


def rows(store: Store, sql: str, params=None):
    """The rows of a query with ``?`` placeholders, on a store of either engine (``Store.execute``)."""
    return store.execute(sql, params or []).fetchall()


def db_of(store) -> str:
    """What ``--db`` takes for ``store``: its URL on PostgreSQL (``path`` hides the password), else its path; open
    it again with ``centric.engines.open_store``."""
    return getattr(store, "url", None) or str(store.path)


@pytest.fixture(scope="session")
def demo_duckdb(tmp_path_factory):
    """A small demo company in DuckDB, built once through the public path (``centric demo``'s ``build_demo``)."""
    from rich.console import Console

    from centric.demo import build_demo

    folder = tmp_path_factory.mktemp("demo")
    build_demo(folder, seed=3, n_customers=1500, console=Console(quiet=True))
    s = Store.open(folder / "centric.duckdb")
    yield s
    s.close()


def _on_postgres(request) -> bool:
    """The test's store fixtures are on PostgreSQL: ``--store-engine postgresql`` and the test is marked ``store``."""
    return store_engine(request.config) == "postgresql" and request.node.get_closest_marker("store") is not None


@pytest.fixture(scope="session")
def demo_template(demo_duckdb, pg_server, tmp_path_factory) -> str:
    """The name of a PostgreSQL template database holding the small demo store, copied once from its DuckDB
    file with ``centric store copy``; nobody connects to it, each copy is ``CREATE DATABASE … TEMPLATE``."""
    import shutil

    from .engines import run

    demo_duckdb.con.execute("CHECKPOINT")
    path = tmp_path_factory.mktemp("demo-pg") / "demo.duckdb"  # a file of its own: the command opens it read-only
    shutil.copyfile(demo_duckdb.path, path)
    name = pg_server.create_database()
    r = run("store", "copy", "--to", pg_server.url(name), db=path)
    assert r.exit_code == 0, r.output
    pg_server.make_template(name)
    return name


@pytest.fixture(scope="session")
def demo_postgres(demo_template, pg_server):
    """The small demo store in a PostgreSQL database of its own, made from the template, for the session."""
    from centric.engines.postgres import PgStore

    s = PgStore.open(pg_server.url(pg_server.create_database(template=demo_template)))
    yield s
    s.close()


@pytest.fixture
def demo_store(request):
    """The small demo company, built once per session: a DuckDB store, or with ``--store-engine postgresql`` for
    the tests marked ``store`` a PostgreSQL copy of it (``demo_template``). Read it with ``rows``."""
    return request.getfixturevalue("demo_postgres" if _on_postgres(request) else "demo_duckdb")


# -- the web app ---------------------------------------------------------------------------------------------
WEB_PASSWORD = "correct horse battery staple"


@pytest.fixture
def web_db(request, tmp_path):
    """The ``--db`` of a private copy of the small demo store (each test may write to its own): a DuckDB file, or
    with ``--store-engine postgresql`` for the tests marked ``store`` the URL of a new database made from the
    template ``demo_template`` (dropped after the test)."""
    if _on_postgres(request):
        server, template = request.getfixturevalue("pg_server"), request.getfixturevalue("demo_template")
        name = server.create_database(template=template)
        yield server.url(name)
        server.drop_database(name)
        return
    import shutil

    demo = request.getfixturevalue("demo_duckdb")
    demo.con.execute("CHECKPOINT")
    path = tmp_path / "web.duckdb"
    shutil.copyfile(demo.path, path)
    yield str(path)


@pytest.fixture
def web_client(web_db):
    """A TestClient over ``create_app(web_db, scheduler=False)``; ``web_client.app.state.hub`` is its hub.
    Another browser on the same app: ``TestClient(web_client.app)``."""
    from fastapi.testclient import TestClient

    from centric.web import create_app

    app = create_app(web_db, scheduler=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no form with a CSRF token"
    return m.group(1)


def login_csrf(html: str) -> str:
    """The CSRF token of the sign-in form."""
    import re

    m = re.search(r'<form method="post" action="/login"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                  html)
    assert m, "the page has no sign-in form"
    return m.group(1)


_user_numbers: dict[int, int] = {}


@pytest.fixture
def login():
    """``login(client, role="agent", departments=("delivery",), email=None, **user_fields)``: adds a user
    of that role (password ``WEB_PASSWORD``) to the client's app, signs the client in through the form and
    returns the user's e-mail."""
    from centric.web import auth

    def _login(client, role: str = "agent", departments=("delivery",), email: str | None = None, **fields) -> str:
        hub = client.app.state.hub
        if email is None:
            n = _user_numbers[id(hub)] = _user_numbers.get(id(hub), 0) + 1
            email = f"{role}{n}@example.com"
        if auth.get_user(hub.reader(), email=email) is None:
            hub.write(auth.add_user, email, role, WEB_PASSWORD,
                      departments=departments if role == "agent" else (), **fields)
        page = client.get("/login")
        r = client.post("/login", data={"email": email, "password": WEB_PASSWORD, "csrf_token": login_csrf(page.text),
                                        "next": "/me"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/me", (r.status_code, r.text[:500])
        return email

    return _login


# -- PostgreSQL ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the session (see tests/pg.py); skipped when its binaries are absent,
    unless CENTRIC_REQUIRE_POSTGRES=1."""
    from .pg import start_server

    yield from start_server()


@pytest.fixture
def pg_url(pg_server):
    """The URL of a new, empty database on the session's server (dropped after the test)."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


# -- Spark ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def spark_session():
    """One local[2] Spark for the session (see tests/spark.py); skipped when pyspark or Java is absent, unless
    CENTRIC_REQUIRE_SPARK=1."""
    from .spark import start_session

    yield from start_session()


# -- the engines (tests/engines.py): the capabilities the tests declare, for docs/deploy.md's table ----------

CAPABILITIES_OPTION = "--engine-capabilities"


def pytest_addoption(parser):
    parser.addoption(STORE_OPTION, choices=STORE_ENGINES, default=None,
                     help=f"the engine of the tests' store fixture (default: ${STORE_ENV}, else duckdb); with "
                          "postgresql, run only the tests marked store: -m store")
    parser.addoption(CAPABILITIES_OPTION, metavar="PATH", default=None,
                     help="write the capabilities × engines that the collected tests declare (and, after a run, "
                          "whether they passed) to PATH as JSON, for scripts/engine_table.py")


def pytest_generate_tests(metafunc):
    generate(metafunc)


# the fixtures whose store may be on either engine (demo_store and web_db follow --store-engine like store)
_STORES = ("store", "demo_store", "web_db")
# tests that compare engines themselves: their ``store`` is the DuckDB side of the comparison
_COMPARING = ("engine", "pg_server", "spark_session")


def pytest_collection_modifyitems(config, items):
    """Mark ``store`` the tests whose store fixtures may be on either engine (they take ``store``, ``demo_store`` or
    ``web_db`` — ``web_client`` takes it — and compare no engines themselves); on PostgreSQL, skip the
    ``duckdb_only`` ones among them with their reason."""
    postgres = store_engine(config) == "postgresql"
    for item in items:
        names = getattr(item, "fixturenames", ())
        if not any(n in names for n in _STORES) or any(n in names for n in _COMPARING):
            continue
        item.add_marker(pytest.mark.store)
        only = item.get_closest_marker("duckdb_only")
        if postgres and only:
            item.add_marker(pytest.mark.skip(reason=f"DuckDB only: {only.kwargs.get('reason', '')}"))


def pytest_collection_finish(session):
    """Every capability marker names a known capability; with the option, remember what the selected tests declare."""
    declared = {item.nodeid: engines_of(item) for item in session.items}
    if session.config.getoption(CAPABILITIES_OPTION):
        session.config._engine_items = {k: v for k, v in declared.items() if v}
        session.config._engine_outcomes = {}


_CONFIG: list = []


def pytest_configure(config):
    _CONFIG[:] = [config]


def pytest_runtest_logreport(report):
    """A test's outcome: failed or skipped in any phase, else passed by its call."""
    outcomes = getattr(_CONFIG[0], "_engine_outcomes", None) if _CONFIG else None
    if outcomes is None:
        return
    if (report.when == "call" or report.outcome != "passed") and outcomes.get(report.nodeid) in (None, "passed"):
        outcomes[report.nodeid] = report.outcome


def pytest_sessionfinish(session):
    import json

    config = session.config
    path = config.getoption(CAPABILITIES_OPTION)
    if not path or not hasattr(config, "_engine_items"):
        return
    collect_only = config.getoption("collectonly")
    found: dict[str, dict[str, str]] = {}
    # a cell: failed if any of its tests failed, else passed if any passed, else skipped (collected: not run)
    rank = {"collected": 0, "skipped": 1, "passed": 2, "failed": 3}
    for nodeid, pairs in config._engine_items.items():
        state = "collected" if collect_only else config._engine_outcomes.get(nodeid, "skipped")
        for name, engine_name in pairs:
            cell = found.setdefault(name, {})
            if rank[state] >= rank.get(cell.get(engine_name, "collected"), 0):
                cell[engine_name] = state
    Path(path).write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
