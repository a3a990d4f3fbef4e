"""The JSON API's bodies and answers (pydantic), as the OpenAPI document at /openapi.json describes them.

Case objects are those of :func:`centric.cases.views.case_json` (docs/cases.md, "Case objects (JSON)");
the models name their main fields and allow the rest, so a field added there shows here too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssignEvent", "CaseDetail", "CaseEventBody", "CaseList", "CaseObject", "CaseOutcome", "CloseBody", "CommentEvent",
    "Error", "NoteEvent", "PostedRow", "PostResult", "RejectedResult", "RejectedRow", "Row", "StatusEvent",
    "TransferEvent",
]

CONTROL = r"[\x00-\x1f\x7f]"
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""Names (departments, owners, root causes, ids) hold no control characters."""

Value = str | int | float | bool | None
Row = dict[str, Value]
"""One row as a file would have it: column names as ingest recognises them (English, Polish, Russian,
Italian aliases), values as text or numbers."""

FEEDBACK_EXAMPLE = {
    "email": "anna.kowalska@example.com", "source": "complaint", "created_at": "2026-11-02T09:30:00",
    "channel": "email", "text": "The courier brought the fridge to the invoice address again, fourth time.",
}
RESPONSE_EXAMPLE = {
    "email": "anna.kowalska@example.com", "survey": "post-delivery", "answered_at": "2026-11-02", "nps": 3,
    "comment": "Delivery was late and nobody called.",
}


class Error(BaseModel):
    """Every error: ``detail`` says what is wrong (for a body that does not validate, where)."""

    detail: Any = Field(examples=["there is no case 'CX-0000999'"])


class PostedRow(BaseModel):
    index: int = Field(description="Position of the row in the posted list, from 0.")
    id: str = Field(description="The row's key (feedback_id / response_id): the one given, or derived from the "
                    "row's content as for a file.")
    customer_id: str | None = Field(description="The customer the row was joined to (null: a competitor's review "
                                    "or a row without an identity).")
    duplicate: bool = Field(description="True when the same row was stored before (by an earlier post or file, or "
                            "earlier in this list): nothing new was stored for it.")


class RejectedRow(BaseModel):
    index: int = Field(description="Position of the row in the posted list, from 0.")
    column: str | None = Field(description="The column at fault (null when the whole row is).")
    value: str | None = None
    reason: str


class PostResult(BaseModel):
    """201: every row stored (or stored before)."""

    table: str
    source: str = Field(description="The source name the rows are kept under: api:TABLE:TOKEN:TIME.")
    run_id: int | None
    stored: list[PostedRow]
    ignored_columns: list[str] = []
    notes: list[str] = []
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "table": "feedback", "source": "api:feedback:shop:2026-11-02T09:31:07Z", "run_id": 12,
        "stored": [{"index": 0, "id": "h2f1b499f3c36e758", "customer_id": "C0000042", "duplicate": False}],
        "ignored_columns": [], "notes": []}]})


class RejectedResult(PostResult):
    """422: some rows were rejected. The others are stored; the rejected rows are kept with their reasons
    (``centric rejected --run RUN_ID``)."""

    detail: str
    rejected: list[RejectedRow]
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "detail": "1 of 2 rows rejected (kept in rejected_rows, run 13); the others are stored",
        "table": "responses", "source": "api:responses:shop:2026-11-02T09:32:00Z", "run_id": 13,
        "stored": [{"index": 1, "id": "h4efcb5a67b75885d", "customer_id": "C0000042", "duplicate": False}],
        "rejected": [{"index": 0, "column": "nps", "value": "11",
                      "reason": "nps must be a whole number from 0 to 10, got '11'"}],
        "ignored_columns": [], "notes": []}]})


class CaseObject(BaseModel):
    """A case (centric.cases.views.case_json): its clocks' due times in ``due``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "CX-0000042", "customer_id": "C0000042", "department": "delivery", "owner": "a.nowak",
        "status": "assigned", "priority": "high", "factor": "delivery", "origin": "signal",
        "opened_at": "2026-11-02T09:31:10Z",
        "due": {"first_response": "2026-11-02T13:31:10Z", "next_response": None,
                "resolution": "2026-11-04T09:31:10Z", "confirmation": None}}]})

    id: str
    customer_id: str | None = None
    department: str | None = None
    owner: str | None = None
    status: str
    priority: str | None = None
    factor: str | None = None
    opened_at: str | None = None
    due: dict[str, str | None] = {}


class CaseDetail(CaseObject):
    """A case with its clocks in full (``clocks`` and ``clock_states``: their states as at the request), root cause,
    action, summary and events (oldest first)."""

    clocks: dict[str, Any] = {}
    root_cause: dict[str, Any] = {}
    action: str | None = None
    summary: str | None = None
    events: list[dict[str, Any]] = []


class CommentEvent(BaseModel):
    """A message to the customer (stops the response clocks)."""

    kind: Literal["comment"]
    text: str = Field(min_length=1, max_length=20_000)


class NoteEvent(BaseModel):
    """An internal note (the customer does not see it)."""

    kind: Literal["note"]
    text: str = Field(min_length=1, max_length=20_000)


class AssignEvent(BaseModel):
    """Give the case to a person (the name they have in the routing table)."""

    kind: Literal["assign"]
    owner: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)


class TransferEvent(BaseModel):
    """Pass the case to another department (and person)."""

    kind: Literal["transfer"]
    department: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    owner: str | None = Field(default=None, max_length=200, pattern=NAME_PATTERN)
    note: str | None = Field(default=None, max_length=20_000)


class StatusEvent(BaseModel):
    """Move the case: in_progress (start work), waiting (for the customer), resolved, or reopened (with
    the reason in ``note``). Closing has its own endpoint (it needs the root cause)."""

    kind: Literal["status"]
    status: Literal["in_progress", "waiting", "resolved", "reopened"]
    note: str | None = Field(default=None, max_length=20_000)


CaseEventBody = Annotated[CommentEvent | NoteEvent | AssignEvent | TransferEvent | StatusEvent,
                          Field(discriminator="kind")]


class CloseBody(BaseModel):
    """Close a resolved case: the root cause (a factor of the taxonomy, or ``other``) and the action taken."""

    root_cause: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN, examples=["delivery"])
    action: str = Field(min_length=1, max_length=20_000, examples=["courier company changed for the region"])
    sub_cause: str | None = Field(default=None, max_length=200, pattern=NAME_PATTERN)
    note: str | None = Field(default=None, max_length=20_000)


class CaseOutcome(BaseModel):
    """What the action did, and the case as it is now (``case_id`` differs from the case acted on when a
    case past its grace period was brought back as a new, linked case: ``linked_from``)."""

    case_id: str
    status: str
    action: str
    linked_from: str | None = None
    token: str | None = Field(default=None, description="resolved: the customer's one-time 'Was it solved?' "
                              "token, shown this once.")
    case: CaseDetail | None = Field(description="The case as it is now; null when the action took it out of the "
                                    "token's departments.")


class CaseList(BaseModel):
    """A page of cases, the most urgent first."""

    cases: list[CaseObject]
    limit: int
    offset: int
