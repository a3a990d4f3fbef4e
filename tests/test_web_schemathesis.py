"""schemathesis against the OpenAPI document of the app, in-process (ASGI), with an admin's bearer token: every
/api/v1 operation, a bounded number of generated requests each, no server error and answers that match the
document.

The operations are walked here rather than with ``schema.parametrize()``: the app needs a store made by a
fixture, and schemathesis' lazy fixture loader does not run under this pytest."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from centric.web import auth, create_app

EXAMPLES = 25  # per operation: nine operations in about a minute
OPERATIONS = 9


@pytest.fixture
def api_app(web_db):
    app = create_app(web_db, scheduler=False)
    token, _ = app.state.hub.write(auth.add_token, "fuzz", "admin")
    app.state.test_headers = {"Authorization": f"Bearer {token}"}
    yield app
    app.state.hub.close()


def test_no_operation_gives_a_server_error_or_breaks_its_schema(api_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) == OPERATIONS and all(op.path.startswith("/api/v1/") for op in operations)
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=api_app.state.test_headers,
                                   checks=[not_a_server_error, response_schema_conformance])

        run()
