"""``create_app(db)``: the web app — the hub, security headers, the one error handler, static files, the
pages' and the API's routers, and (``scheduler=True``) the background scheduler for the app's lifetime."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import sys
import threading
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from .. import __version__
from . import auth, errors, public, solved
from . import scheduler as background
from .api import v1
from .hub import Hub
from .pages import admin, alerts, cases, customers, dashboards, journeys, personas, surveys, whys
from .pages import auth as auth_pages
from .pages import council as council_pages
from .pages import employees as employees_pages
from .pages import enps as enps_pages
from .pages import flows as flows_pages
from .pages import ideas as ideas_pages
from .pages import mystery as mystery_pages
from .pages import observations as observations_pages
from .pages import orientation as orientation_pages
from .security import HeadAsGet, LoginThrottle, RateLimiter, SecurityHeaders

log = logging.getLogger("centric.web")
STATIC = Path(__file__).parent / "static"
PAGE_ROUTERS = (public, solved, auth_pages, cases, customers, dashboards, alerts, admin, surveys, whys,
                flows_pages, personas, journeys, council_pages, ideas_pages, orientation_pages,
                observations_pages, mystery_pages, enps_pages, employees_pages)  # public first: the survey answers' route is matched before the others


@functools.cache
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


def plotly_js() -> Response:
    """Plotly's script from the installed package (no CDN; works offline)."""
    return Response(_plotly_js(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


def _warm(hub: Hub, pace=lambda: None) -> None:
    """Load what the first pages need (the catalogues, the analytics' imports, the case pages' prepared
    queries) while the server starts, so that the first people do not wait for it; ``pace`` is called between
    two pieces."""
    from . import i18n

    for lang in i18n.LANGUAGES:
        i18n.templates(lang).get_template("base.html")
        pace()
    from ..customers import loyalty  # noqa: F401  the case page's loyalty phase (imports SciPy)

    pace()
    cases.warm(hub.reader(), stop=lambda: pace() or hub.closed)


def _start_up(app: FastAPI, hub: Hub, scheduler: bool) -> None:
    """What a started server does before it calls itself ready (``/healthz`` says ``"ready": true``), one
    thing after the other while pages are already served: index the columns pages look rows up by (once per
    store: a second or two on the demo store), warm the templates and the case pages' queries, and, for a
    served app, compute the unfiltered dashboards and wait for the scheduler's first round."""
    background.lower_priority()  # pages are served meanwhile, and come first
    pacer = background.Pacer(hub)  # while survey answers stream in, each piece is followed by a pause
    try:
        with hub.busy():  # the hub's close waits for this thread to leave its reads
            hub.write(lambda store: store.index_lookups())
            pacer.pace()
            _warm(hub, pacer.pace)
        if scheduler:
            from . import i18n
            from .pages import dashboards

            for lang in i18n.LANGUAGES:  # one language at a time, computed in the dashboards' worker: its time
                t0 = time.perf_counter()   # (not this thread's CPU) says how long to give way after it
                dashboards.warm(hub, (lang,)).result()
                pacer.paused += background.give_way(hub, time.perf_counter() - t0)
            running = background.running()
            if running is not None:
                running.wait_rounds(1, 600)
    except Exception as e:  # noqa: BLE001 — the pages work without what failed: said, not fatal
        if hub.closed:  # the app stopped first (its close interrupted the reads under way)
            return
        log.error("start-up work failed: %s", type(e).__name__)
    pacer.pace()
    _freeze(f"start-up work done (gave way to survey answers {pacer.paused:.2f} s)")
    app.state.ready.set()


SWITCH_INTERVAL = 0.001
"""The interpreter's switch interval in the web app (Python's default is 5 ms): a background thread running
Python (the text pipeline, the case sync) hands the interpreter to a waiting request's thread after at most this
long, so an answer waits less behind it (survey_load.py, steady 60 s at 1,000 answers a second: p99 166 ms
against 215–245 with 5 ms; benchmarks/README.md)."""


def _freeze(when: str) -> None:
    """Collect the garbage, then keep every object left out of the collector's later full collections: what the
    server made so far lives as long as it does, and a full collection stops every thread (the slowest pages'
    extra hundred milliseconds under load). Done once before the server takes requests (the imports, the
    models) so that the second, when the start-up work is done, has only what was made since to go through."""
    t0, c0 = time.perf_counter(), time.thread_time()
    gc.collect()
    gc.freeze()
    log.info("%s: garbage collected in %.2f s (CPU %.2f s), %d objects kept out of later collections", when,
             time.perf_counter() - t0, time.thread_time() - c0, gc.get_freeze_count())


def create_app(db: str, scheduler: bool = False) -> FastAPI:
    """The web app over the store ``db``. ``scheduler``: run the background scheduler (analysis of new
    texts, case sync and tick, webhooks) while the app runs, and compute the unfiltered dashboards at start."""
    hub = Hub(str(db))
    sys.setswitchinterval(SWITCH_INTERVAL)
    from ..surveys.intake import Intake

    # survey answers: stored exactly once, in batches, before their page is sent
    intake = Intake(hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if scheduler:  # texts waiting (a server stopped mid-stream): their models loaded before the first request
            background.start(hub, prepare=True)
        intake.wait_started()  # the open invitations read
        if scheduler:
            _freeze("start-up, before taking requests")
        threading.Thread(target=_start_up, args=(app, hub, scheduler), name="centric-start-up", daemon=True).start()
        try:
            yield
        finally:
            if scheduler:
                background.stop()
            if intake is not None:
                intake.close()  # stores what is queued; before the hub, whose connection it shares
            hub.close()

    # no OpenTelemetry: the app exports none, and FastAPI's check for its providers ran on every request
    app = FastAPI(title="centric", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.hub = hub
    app.state.ready = threading.Event()
    app.state.intake = intake
    app.state.secret = hub.write(auth.web_secret)
    app.state.login_throttle = LoginThrottle()
    app.state.public_limit = RateLimiter(120, 60)  # requests per address per minute to the public pages
    errors.install(app)
    if hub.postgres:  # the pages that do not run on PostgreSQL yet answer so (before any of their code runs)
        from .portable import Unported

        app.add_middleware(Unported)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    app.add_api_route("/static/plotly.min.js", plotly_js, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.router.routes[:0] = public.ROUTES  # the survey answers' route first, without FastAPI's wrapping
    for module in PAGE_ROUTERS:
        app.include_router(module.router, include_in_schema=False)
    app.include_router(v1.router)
    return app


DB_VARIABLE = "CENTRIC_DB"
SCHEDULER_VARIABLE = "CENTRIC_SERVE_SCHEDULER"


def from_environment() -> FastAPI:
    """The app of one of ``centric serve --workers N``'s worker processes: the store named by ``CENTRIC_DB``,
    the background scheduler unless ``CENTRIC_SERVE_SCHEDULER=0`` (on PostgreSQL every worker starts one, and
    one of them at a time is elected to run its rounds, see :mod:`centric.web.scheduler`)."""
    import os

    return create_app(os.environ[DB_VARIABLE], scheduler=os.environ.get(SCHEDULER_VARIABLE, "1") != "0")
