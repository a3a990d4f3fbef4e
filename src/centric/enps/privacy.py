"""Erasing an employee's personal data: ``centric enps forget ID|EMAIL`` is ``centric employees forget``.

One implementation, :func:`centric.employees.forget` (see :mod:`centric.employees.privacy` for what it erases):
the employee's name and e-mail, their invitations' link to them, their customer-orientation assessments, their
ideas, votes and comments, their authorship of observation notes and their name in the company's free texts. Their
anonymous answers stay: they were never linked to them (see answers.py), so there is nothing to unlink. All in one
transaction.
"""

from __future__ import annotations

from ..employees.privacy import EmployeeErasure, forget
from ..store import Store


def forget_employee(store: Store, who: str) -> EmployeeErasure:
    """Erase the personal data of the employee with id or e-mail ``who`` (:func:`centric.employees.forget`)."""
    return forget(store, who)


__all__ = ["EmployeeErasure", "forget_employee"]
