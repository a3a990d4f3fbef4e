"""Units' employees: the list (:func:`employees`), looking one up by id or e-mail (:func:`find_employee`) and
erasing one's personal data everywhere (:func:`forget`, in :mod:`centric.employees.privacy`). See
docs/employees.md.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     len(employees(s))
0
"""

from __future__ import annotations

import pandas as pd

from ..errors import CentricError
from ..store import Store

__all__ = ["COLUMNS", "EmployeeErasure", "employees", "find_employee", "forget"]

COLUMNS = ["employee_id", "name", "email", "unit", "role", "language", "hired_at", "left_at", "erased"]


def employees(store: Store, unit: str | None = None) -> pd.DataFrame:
    """The employees (of ``unit``), ordered by unit and id, with ``erased``: whether their personal data was
    erased (no name and no e-mail left)."""
    e = store.table("employees")
    if unit is not None:
        e = e.filter(e.unit == unit)
    e = e.mutate(erased=e.name.isnull() & e.email.isnull())
    return e.select(*COLUMNS).order_by(["unit", "employee_id"]).execute()


def find_employee(con, who: str) -> tuple[str, str | None, str | None, str]:
    """(employee_id, name, email, unit) of the employee whose id or e-mail (any case) is ``who``. Raises
    CentricError naming what was looked up when nobody or several match."""
    key = (who or "").strip()
    if not key:
        raise CentricError("name the employee: their employee id or e-mail")
    rows = con.execute("SELECT employee_id, name, email, unit FROM employees WHERE employee_id = ? "
                       "OR lower(email) = lower(?) ORDER BY employee_id", [key, key]).fetchall()
    if not rows:
        raise CentricError(f"no employee with the id or e-mail {key!r}")
    if len(rows) > 1:
        raise CentricError(f"{key!r} names {len(rows)} employees ({', '.join(r[0] for r in rows)}); "
                           "give the employee id")
    return rows[0]


from .privacy import EmployeeErasure, forget  # noqa: E402  (privacy uses find_employee)
