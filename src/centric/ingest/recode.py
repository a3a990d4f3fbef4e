"""Recoding a column's values on the way in, as a mapping file asks for it.

Each rule belongs to one source column (``[columns."FFT answer"]`` in the mapping file) and is applied,
in SQL, to the text of each cell before it is parsed:

1. ``missing``: codes that mean "no answer" (``[6, 7]`` for "other" and "don't know") leave the field
   empty; the row and its other fields are kept;
2. ``recode``: a table of value → value (``"Closed with explanation" = "closed"``); a listed value is
   taken as it is;
3. ``formula``: arithmetic over the number ``x`` in the cell (``6 - x`` turns a 1 = very good … 5 = very
   poor scale into 5 … 1), for values the table does not list;
4. ``unknown``: what happens when the result is still not a valid value: ``reject`` the row (the
   default) or ``drop`` the field and keep the row.

Formulas are parsed here, never evaluated by Python: numbers, ``x``, ``+ - * /`` and parentheses.

>>> formula_sql("6 - x", "v")
'(6.0 - v)'
>>> formula_sql("(x - 1) / 4 * 100", "v")
'((((v - 1.0)) / nullif(4.0, 0)) * 100.0)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UNKNOWN_POLICIES = ("reject", "drop")
MAX_FORMULA = 200
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|(x)|([-+*/()]))", re.IGNORECASE)


class FormulaError(ValueError):
    pass


@dataclass
class ColumnRule:
    """How one source column's values are recoded (see the module docstring)."""

    source: str  # the source column
    to: str  # the centric column
    recode: dict[str, str] = field(default_factory=dict)  # lower-cased, trimmed value -> new value
    formula: str | None = None
    missing: list[str] = field(default_factory=list)  # lower-cased, trimmed codes
    unknown: str = "reject"
    written: dict[str, str] = field(default_factory=dict)  # recode key -> as the mapping file wrote it

    @property
    def changes_values(self) -> bool:
        return bool(self.recode or self.formula or self.missing)


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            at = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise FormulaError(f"unexpected {text[pos:].strip()[:10]!r} at position {at}; "
                               "use x, numbers, + - * / and parentheses")
        out.append(m.group(1) or (m.group(2) or "").lower() or m.group(3))
        pos = m.end()
    return out


def formula_sql(text: str, x: str) -> str:
    """The SQL expression of formula ``text`` with ``x`` standing for the SQL expression ``x`` (a
    DOUBLE). Raises FormulaError with what is wrong."""
    if len(text) > MAX_FORMULA:
        raise FormulaError(f"longer than {MAX_FORMULA} characters")
    toks = _tokens(text)
    if not toks:
        raise FormulaError("empty")
    if "x" not in toks:
        raise FormulaError("does not use x (the cell's value); for a constant use [values]")
    pos = 0
    depth = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        t = toks[pos]
        pos += 1
        return t

    def expr() -> str:
        left = term()
        while peek() in ("+", "-"):
            op = take()
            left = f"({left} {op} {term()})"
        return left

    def term() -> str:
        left = factor()
        while peek() in ("*", "/"):
            op = take()
            right = factor()
            if op == "/":
                if re.fullmatch(r"-?0(\.0+)?", right.strip("()")):
                    raise FormulaError("divides by zero")
                left = f"({left} / nullif({right}, 0))"
            else:
                left = f"({left} * {right})"
        return left

    def factor() -> str:
        nonlocal depth
        t = peek()
        if t is None:
            raise FormulaError("ends too early")
        take()
        if t == "x":
            return x
        if t == "-":
            return f"(-{factor()})"
        if t == "(":
            depth += 1
            if depth > 20:
                raise FormulaError("too many nested parentheses")
            inner = expr()
            if peek() != ")":
                raise FormulaError("a parenthesis is not closed")
            take()
            depth -= 1
            return f"({inner})"
        if t[0].isdigit() or t[0] == ".":
            return repr(float(t))
        raise FormulaError(f"unexpected {t!r}")

    out = expr()
    if pos != len(toks):
        raise FormulaError(f"unexpected {toks[pos]!r} after a complete expression")
    return out


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _number_literal(code: str) -> float | None:
    try:
        return float(code)
    except ValueError:
        return None


def _matches(text: str, num: str, code: str) -> str:
    """SQL: the cell (its trimmed lower-cased ``text`` and its ``num``ber) is ``code``."""
    n = _number_literal(code)
    return f"({text} = {_lit(code)}" + (f" OR {num} = {n!r})" if n is not None else ")")


def rule_sql(rule: ColumnRule, raw: str, comma_dec: bool) -> tuple[str, str, str]:
    """(recoded text, SQL of "this cell is a no-answer code", SQL of "this cell was recoded") for the
    raw text expression ``raw``."""
    text = f"lower(trim({raw}))"
    num = f"centric_num({raw}, {'true' if comma_dec else 'false'})"
    missing = " OR ".join(_matches(text, num, c) for c in rule.missing) or "false"
    listed = " OR ".join(_matches(text, num, k) for k in rule.recode) or "false"
    cases = [f"WHEN {missing} THEN NULL"]
    cases += [f"WHEN {_matches(text, num, k)} THEN {_lit(v)}" for k, v in rule.recode.items()]
    recoded = listed
    if rule.formula:
        value = formula_sql(rule.formula, num)
        shown = (f"CASE WHEN {value} = floor({value}) AND abs({value}) < 1e15 "
                 f"THEN CAST(CAST({value} AS BIGINT) AS VARCHAR) ELSE CAST({value} AS VARCHAR) END")
        cases.append(f"WHEN {num} IS NOT NULL THEN {shown}")
        recoded = f"({listed} OR {num} IS NOT NULL)"
    return (f"(CASE {' '.join(cases)} ELSE {raw} END)", f"coalesce({missing}, false)",
            f"coalesce(NOT ({missing}) AND {recoded}, false)")
