"""Mystery shopping: checklist templates with sections, weights, critical (knock-out) items and "not
applicable"; visits scored per visit, store and region with intervals and trends; inter-shopper calibration;
a failed critical item opens a case for the store's manager; visits to competitors' stores compared by factor.

>>> from centric import Store  # doctest: +SKIP
>>> from centric.mystery import scores  # doctest: +SKIP
>>> scores(store, by="region").to_frame()  # doctest: +SKIP
"""

from .calibration import Calibration, agreement, calibration, kappa
from .cases import open_cases
from .scores import ScoreTable, factor_scores, mean_interval, scores, summarise, welch
from .template import Template, TemplateError, add_template, get_template, list_templates, parse_template
from .visits import VisitError, check_attachment, record_visit, score_visit, visit, visits_frame

__all__ = [
    "Calibration", "ScoreTable", "Template", "TemplateError", "VisitError", "add_template", "agreement", "calibration",
    "check_attachment", "factor_scores", "get_template", "kappa", "list_templates", "mean_interval", "open_cases",
    "parse_template", "record_visit", "score_visit", "scores", "summarise", "visit", "visits_frame", "welch",
]
