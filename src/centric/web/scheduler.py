"""The background scheduler (placeholder: does nothing yet)."""

from __future__ import annotations


def start(hub) -> None:
    """Start the background work for ``hub``'s store."""


def stop() -> None:
    """Stop it and wait for it to finish."""
