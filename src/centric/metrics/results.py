"""Small frozen result objects that the CLI, the report, the web app and notebooks all use.

In a notebook each result shows itself as a small table (n and 95% intervals included) and gives a
tidy pandas DataFrame with ``to_frame()``:

>>> Score("nps", 20.0, 50, 1.5, 38.5, "wald").to_frame()[["metric", "value", "low", "high", "n"]]
  metric  value  low  high   n
0    nps   20.0  1.5  38.5  50
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

MAX_HTML_ROWS = 50


class Tabular:
    """A result that is a table: ``to_frame()`` (tidy, one row per group) and ``_repr_html_`` (escaped,
    for notebooks). Subclasses give ``to_frame`` and may give a title and a display form."""

    def to_frame(self) -> pd.DataFrame:
        raise NotImplementedError

    def _title(self) -> str:
        return type(self).__name__

    def _display(self) -> pd.DataFrame:
        return self.to_frame()

    def _repr_html_(self) -> str:
        return html_table(self._display(), self._title())


def html_table(df: pd.DataFrame, title: str, note: str = "") -> str:
    """A small HTML table with a caption; every value and name escaped, numbers rounded, at most
    ``MAX_HTML_ROWS`` rows (and how many more)."""
    shown = df.head(MAX_HTML_ROWS)
    more = len(df) - len(shown)
    body = shown.to_html(index=False, escape=True, na_rep="—", border=0,
                         float_format=lambda v: f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}")
    tail = f"<p>… {more:,} more rows (to_frame() has all)</p>" if more > 0 else ""
    caption = f"<p><b>{html.escape(title)}</b>{html.escape(note)}</p>"
    return f'<div class="centric-result">{caption}{body}{tail}</div>'


def interval(low: float | None, high: float | None) -> str:
    """'low … high' for display, '—' when unknown."""
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)) or (
            isinstance(high, float) and math.isnan(high)):
        return "—"
    return f"{low:,.1f} … {high:,.1f}"


def results(func: Callable[..., list]) -> Callable[..., Results]:
    """Make a function that returns a list of results return ``Results`` (a list that is a table)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Results:
        return Results(func(*args, **kwargs))

    return wrapper


class Results(list, Tabular):
    """A list of results (one per period, journey …) that is also a table."""

    def to_frame(self) -> pd.DataFrame:
        frames = [r.to_frame() for r in self]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _title(self) -> str:
        return f"{type(self[0]).__name__} × {len(self)}" if self else "no results"

    def _display(self) -> pd.DataFrame:
        frames = [r._display() for r in self]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


@dataclass(frozen=True)
class Score(Tabular):
    """One metric over one set of answers: the value, n, a 95% interval and the counts behind it.

    ``value`` is None when there is no data (n = 0): shown as "no data", never as NaN.
    ``method`` names the interval: wald, adjusted-wald (NPS, small n), wilson (shares), t (means).
    """

    metric: str
    value: float | None
    n: int
    low: float | None
    high: float | None
    method: str
    counts: dict[str, int] = field(default_factory=dict)
    se: float | None = None
    mean: float | None = None
    mean_low: float | None = None
    mean_high: float | None = None

    @property
    def no_data(self) -> bool:
        return self.value is None

    def to_dict(self) -> dict[str, Any]:
        d = {k: _clean(v) for k, v in asdict(self).items() if k != "se"}
        d["interval"] = [d.pop("low"), d.pop("high")]
        if self.mean is None:
            for k in ("mean", "mean_low", "mean_high"):
                d.pop(k)
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row: metric, value, low, high, n, method, (mean and its interval), and the counts."""
        row = {"metric": self.metric, "value": self.value, "low": self.low, "high": self.high, "n": self.n,
               "method": self.method}
        if self.mean is not None:
            row.update(mean=self.mean, mean_low=self.mean_low, mean_high=self.mean_high)
        row.update({k: v for k, v in self.counts.items() if k not in row})
        return pd.DataFrame([row])

    def _display(self) -> pd.DataFrame:
        return pd.DataFrame([self._cells()])

    def _cells(self) -> dict[str, Any]:
        cells: dict[str, Any] = {self.metric.upper(): "no data" if self.value is None else round(self.value, 1),
                                 "95% interval": interval(self.low, self.high), "n": self.n}
        if self.mean is not None:
            cells.update({"mean": round(self.mean, 2), "mean 95%": interval(self.mean_low, self.mean_high)})
        return cells

    def _title(self) -> str:
        return f"{self.metric.upper()} ({self.method} interval)"


@dataclass(frozen=True)
class Change(Tabular):
    """The change of a metric between two consecutive periods, with its z-test.

    When several changes are shown together (month by month, per group), ``p_adjusted`` is the p-value
    adjusted across the ``family`` of them by ``correction`` (holm or bh, see ``stats.adjust_p``), and
    ``significant`` means ``p_adjusted`` < 0.05; with ``correction`` "none" it is the p-value alone."""

    metric: str
    from_period: str
    to_period: str
    delta: float
    z: float
    p_value: float
    significant: bool
    p_adjusted: float | None = None
    correction: str = "none"
    family: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(self)])


@dataclass(frozen=True)
class Breakdown(Tabular):
    """A metric by groups: each row is (group values, Score); ``changes`` holds the change between
    consecutive periods within each group when the breakdown includes a period column."""

    metric: str
    by: tuple[str, ...]
    rows: list[tuple[dict[str, Any], Score]]
    changes: list[tuple[dict[str, Any], Change]] = field(default_factory=list)
    correction: str = "none"  # how the changes' p-values were adjusted for their number (holm, bh, none)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "metric": self.metric,
            "by": list(self.by),
            "groups": [{**{k: str(v) for k, v in g.items()}, **s.to_dict()} for g, s in self.rows],
            "changes": [{**{k: str(v) for k, v in g.items()}, **c.to_dict()} for g, c in self.changes],
        }
        if self.changes:
            d["significance"] = {"alpha": 0.05, "correction": self.correction, "tests": len(self.changes)}
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row per group: the group's columns, then the score (``Score.to_frame``); with a period,
        ``change``, ``p_value``, ``p_adjusted`` (for the number of changes shown, by ``correction``) and
        ``significant`` of the change from the group's previous period."""
        frames = []
        changes = {tuple(g.items()): c for g, c in self.changes}
        for g, sc in self.rows:
            f = sc.to_frame()
            for i, (k, v) in enumerate(g.items()):
                f.insert(i, k, [v])
            if self.changes:
                c = changes.get(tuple(g.items()))
                f["change"], f["p_value"] = (c.delta, c.p_value) if c else (None, None)
                f["p_adjusted"] = c.p_adjusted if c else None
                f["significant"] = bool(c.significant) if c else None
            frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=[*self.by, "metric", "value", "low", "high", "n", "method"])

    def _display(self) -> pd.DataFrame:
        changes = {tuple(g.items()): c for g, c in self.changes}
        rows = []
        for g, sc in self.rows:
            row = {**{k: str(v) for k, v in g.items()}, **sc._cells()}
            c = changes.get(tuple(g.items()))
            if self.changes:
                row["change"] = "" if c is None else f"{c.delta:+.1f}{' *' if c.significant else ''}"
            rows.append(row)
        return pd.DataFrame(rows)

    def _title(self) -> str:
        by = f" by {', '.join(self.by)}" if self.by else ""
        star = ""
        if any(c.significant for _, c in self.changes):
            how = "" if self.correction == "none" else f", {self.correction}-corrected for {len(self.changes)} tests"
            star = f" (* a significant change, p < 0.05{how})"
        return f"{self.metric.upper()}{by}{star}"
