"""Staff customer-orientation: managers' assessments of their teams (and the employees' own view) on six criteria,
scored by unit and quarter with 95% intervals, the self-vs-manager gap, and the units set next to their customers'
scores. See docs/orientation.md.

>>> from centric import Store
>>> with Store.open(":memory:") as s:
...     scores(s, by="unit").table.empty
True
"""

from .analysis import (
                      BY,
                      METHOD,
                      Correlation,
                      Gap,
                      OrientationScores,
                      UnitsVsCustomers,
                      assessments_frame,
                      correlation,
                      gap,
                      gap_table,
                      group_scores,
                      long_frame,
                      names,
                      scores,
                      units_vs_customers,
)
from .criteria import CRITERIA, SCALE, VIEWS, Criterion, anchor, criterion, criterion_names
from .records import (
                      employee_unit,
                      forget_employee,
                      import_assessments,
                      managed_units,
                      record_assessment,
                      team,
)

__all__ = ["BY", "CRITERIA", "METHOD", "SCALE", "VIEWS", "Correlation", "Criterion", "Gap", "OrientationScores",
           "UnitsVsCustomers", "anchor", "assessments_frame", "correlation", "criterion", "criterion_names",
           "employee_unit", "forget_employee", "gap", "gap_table", "group_scores", "import_assessments", "long_frame",
           "managed_units", "names", "record_assessment", "scores", "team", "units_vs_customers"]
