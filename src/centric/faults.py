"""Fault injection for tests of atomicity: ``CENTRIC_FAULT=name:raise`` raises at checkpoint ``name``;
``CENTRIC_FAULT=name:exit`` ends the process at once there, as a kill would. Unset, it does nothing."""

from __future__ import annotations

import os


class InjectedFault(RuntimeError):
    pass


def checkpoint(name: str) -> None:
    spec = os.environ.get("CENTRIC_FAULT")
    if not spec:
        return
    where, _, how = spec.partition(":")
    if where != name:
        return
    if how == "exit":
        os._exit(137)
    raise InjectedFault(f"injected fault at {name}")
