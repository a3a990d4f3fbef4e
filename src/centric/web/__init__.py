"""centric's web app (``centric serve``): a thin layer over the core.

    hub.py          Hub: the one writer and per-thread readers
    auth.py         passwords (argon2), users, sessions, API tokens
    permissions.py  Actor, allowed(), case_scope()
    audit.py        record()
    security.py     headers and CSP, CSRF comparison, rate limiters
    i18n.py         the page language and the Jinja environments
    deps.py         FastAPI dependencies: hub, reader, actor, require(action), render
    errors.py       the one error handler
    app.py          create_app(db)
    pages/          server-rendered pages;  api/  the JSON API under /api/v1
"""

from __future__ import annotations


def create_app(db: str, scheduler: bool = False):
    """The web app over the store ``db`` (see ``centric.web.app.create_app``)."""
    from .app import create_app as _create

    return _create(db, scheduler=scheduler)


__all__ = ["create_app"]
