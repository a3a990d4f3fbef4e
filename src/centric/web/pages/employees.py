"""Employees (admins only, ``employee.forget``): the list by unit, and erasing one employee's personal data
everywhere (:func:`centric.employees.forget`) once the admin has typed the employee's id. The erasure and its
audit entry (``employee.forget``, ids and counts only) are one transaction. Anyone else gets 403, as on the other
admin pages; an unknown employee is a 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from ...errors import CentricError
from .. import deps
from ..deps import render, require
from ..permissions import Actor

router = APIRouter()

TITLE = "Erase an employee"


@router.get("/employees", include_in_schema=False)
def employees_page(request: Request, actor: Actor = Depends(require("employee.forget"))) -> Response:
    from ...employees import employees

    store = deps.reader(request)
    units = [u for (u,) in store.execute("SELECT DISTINCT unit FROM employees ORDER BY unit").fetchall()]
    unit = request.query_params.get("unit") or None
    if unit is not None and unit not in units:
        raise HTTPException(404, "there is no such unit")
    df = employees(store, unit)
    rows = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    return render(request, "employees.html", {"title": "Employees", "rows": rows, "units": units, "unit": unit})


def _employee(request: Request, employee_id: str) -> dict:
    row = deps.reader(request).execute(
        "SELECT employee_id, unit, role, name IS NULL AND email IS NULL FROM employees WHERE employee_id = ?",
        [employee_id]).fetchone()
    if row is None:
        raise HTTPException(404, "there is no such employee")
    return dict(zip(("employee_id", "unit", "role", "erased"), row, strict=True))


@router.get("/employees/{employee_id}/forget", include_in_schema=False)
def forget_form(request: Request, employee_id: str, actor: Actor = Depends(require("employee.forget"))) -> Response:
    employee = _employee(request, employee_id)
    return render(request, "employees_forget.html", {"title": TITLE, "employee": employee,
                                                     "error": "erased" if employee["erased"] else None, "erased": None})


@router.post("/employees/{employee_id}/forget", include_in_schema=False)
def forget(request: Request, employee_id: str, confirm: str = Form(""),
           actor: Actor = Depends(require("employee.forget"))) -> Response:
    from ...cli.employees import audited
    from ...employees import forget as erase

    employee = _employee(request, employee_id)
    if confirm.strip() != employee_id:
        return render(request, "employees_forget.html", {"title": TITLE, "employee": employee, "error": "confirm",
                                                         "erased": None}, status=422)
    try:
        erased = deps.hub(request).write(erase, employee_id, audited(actor.name, actor.role, deps.client_ip(request)))
    except CentricError:
        return render(request, "employees_forget.html", {"title": TITLE, "employee": employee, "error": "erased",
                                                         "erased": None}, status=409)
    return render(request, "employees_forget.html", {"title": TITLE, "employee": employee, "error": None,
                                                     "erased": erased})
