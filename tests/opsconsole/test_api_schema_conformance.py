"""schemathesis against /api/schema/, every operation, in process: generated
requests (valid and invalid) as a staff user's token and as an ingest key
never answer 5xx, and every answer (errors included) has a status code, a
content type and a body that the schema documents.

The test database is this test's own: whatever schemathesis writes is rolled
back at the end. Examples are bounded so the whole run stays short."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories as f

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 10


@pytest.fixture
def api_schema(db):
    """The schema, read through the WSGI application. As Django's test
    client does, requests do not close the database connection, which holds
    this test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from opsconsole.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def callers(db, northwind, contoso, partner_admin):
    """A partner admin's token and an ingest key of contoso, with something to act on."""
    integration = f.make_integration(contoso, "time-expense-posting", approval_required=True)
    f.make_exception_with_records(integration, ["TE-1", "TE-2"])
    return {
        "staff": f.make_token(partner_admin),
        "ingest": f.make_key(contoso, ["ingest"]),
    }


def exercise(operation, tokens, mode, failures):
    """Up to MAX_EXAMPLES generated requests of ``mode`` for ``operation``,
    each sent with every token; the first failure of the operation is kept."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def run(case):
        for token in tokens:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, reported together below
        failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {str(exc)[:1500]}")


def test_every_operation_answers_what_the_schema_says(api_schema, callers):
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            exercise(operation, list(callers.values()), mode, failures)
    assert operations >= 26
    assert not failures, "\n\n".join(failures)
