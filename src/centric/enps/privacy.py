"""Erasing an employee's personal data: ``centric enps forget ID|EMAIL``.

The employee's name and e-mail in ``employees`` are emptied, and their invitations lose the employee and the
e-mail (the invitation keeps its unit and period, which are not personal), and their managers' customer-orientation
assessments are erased (``centric.orientation``). Their anonymous answers stay: they were never linked to them (see
answers.py), so there is nothing to unlink. All in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CentricError
from ..orientation.records import erase_assessments
from ..store import Store


@dataclass(frozen=True)
class EmployeeErasure:
    employee_id: str
    invitations: int
    assessments: int = 0


def forget_employee(store: Store, who: str) -> EmployeeErasure:
    """Erase the name and e-mail of the employee with id or e-mail ``who`` and unlink their invitations."""
    key = (who or "").strip()
    if not key:
        raise CentricError("name the employee: their employee id or e-mail")
    with store.transaction() as con:
        rows = con.execute("SELECT employee_id FROM employees WHERE employee_id = ? OR lower(email) = lower(?)",
                           [key, key]).fetchall()
        if not rows:
            raise CentricError(f"no employee with the id or e-mail {key!r}")
        if len(rows) > 1:
            raise CentricError(f"{key!r} names {len(rows)} employees; give the employee id")
        employee_id = rows[0][0]
        con.execute("UPDATE employees SET name = NULL, email = NULL WHERE employee_id = ?", [employee_id])
        n = con.execute("UPDATE employee_invitations SET employee_id = NULL, email = NULL WHERE employee_id = ? "
                        "RETURNING 1", [employee_id]).fetchall()
        assessed = erase_assessments(con, employee_id)
    return EmployeeErasure(employee_id, len(n), assessed)


__all__ = ["EmployeeErasure", "forget_employee"]
