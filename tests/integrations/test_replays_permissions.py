"""Every role (and key) against every replay endpoint (contract section 2):
outside reach is 404, inside reach but not allowed by role is 403."""

import pytest

from integrations import replays
from integrations.models import Replay
from opsconsole.models import AuditEntry
from opsconsole.roles import Role
from tests import factories as f

CALLERS = [
    "partner_admin",
    "manager",
    "support",
    "customer_approver",
    "customer_viewer",
    "outsider",
    "ingest_key",
    "read_key",
    "other_tenant_ingest_key",
]

# caller -> expected status, per endpoint.
# Another tenant's key and another partner's user are out of reach of the
# exception and the replay: 404 before any scope or role check.
EXPECTED = {
    "request": dict(zip(CALLERS, [201, 201, 201, 403, 403, 404, 403, 403, 404], strict=True)),
    "discard": dict(zip(CALLERS, [200, 200, 200, 403, 403, 404, 403, 403, 404], strict=True)),
    "detail": dict(zip(CALLERS, [200, 200, 200, 200, 200, 404, 403, 200, 404], strict=True)),
    "approve": dict(zip(CALLERS, [200, 200, 403, 200, 403, 404, 403, 403, 404], strict=True)),
    "reject": dict(zip(CALLERS, [200, 200, 403, 200, 403, 404, 403, 403, 404], strict=True)),
    "cancel": dict(zip(CALLERS, [200, 200, 200, 403, 403, 404, 403, 403, 404], strict=True)),
    "claim": dict(zip(CALLERS, [403, 403, 403, 403, 403, 403, 200, 403, 400], strict=True)),
    "result": dict(zip(CALLERS, [403, 403, 403, 403, 403, 404, 200, 403, 404], strict=True)),
}


@pytest.fixture
def setup(northwind, contoso, globex):
    integration = f.make_integration(contoso, "time-expense-posting", approval_required=True)
    exception = f.make_exception_with_records(integration, ["TE-1", "TE-2"])
    requester = f.make_user(northwind, Role.SUPPORT, "requester@northwind.example")
    replay = replays.request_replay(requester, exception, records=["TE-1"])
    return {"exception": exception, "replay": replay, "globex": globex}


def states(exception):
    return sorted(exception.failures.values_list("record_id", "state"))


def client_for(caller, request, setup):
    if caller == "ingest_key":
        return f.client_with(f.make_key(setup["exception"].tenant, ["ingest"]))
    if caller == "read_key":
        return f.client_with(f.make_key(setup["exception"].tenant, ["read"]))
    if caller == "other_tenant_ingest_key":
        return f.client_with(f.make_key(setup["globex"], ["ingest"]))
    return f.client_with(f.make_token(request.getfixturevalue(caller)))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_permission_matrix(endpoint, caller, request, setup):
    client = client_for(caller, request, setup)
    exception, replay = setup["exception"], setup["replay"]
    if endpoint in ("claim", "result"):
        replays.approve(request.getfixturevalue("manager"), replay)
    replay.refresh_from_db()
    before = (AuditEntry.objects.count(), replay.status, states(exception))
    if endpoint == "request":
        response = client.post(f"/api/v1/exceptions/{exception.pk}/replay", {"records": ["TE-2"]}, format="json")
    elif endpoint == "discard":
        response = client.post(f"/api/v1/exceptions/{exception.pk}/discard", {"records": ["TE-2"]}, format="json")
    elif endpoint == "detail":
        response = client.get(f"/api/v1/replays/{replay.pk}")
    elif endpoint in ("approve", "reject", "cancel"):
        response = client.post(f"/api/v1/replays/{replay.pk}/{endpoint}", {"note": "n"}, format="json")
    elif endpoint == "claim":
        response = client.post("/api/v1/replays/claim", {"integration": "time-expense-posting"}, format="json")
    else:
        response = client.post(f"/api/v1/replays/{replay.pk}/result", {"status": "succeeded"}, format="json")
    expected = EXPECTED[endpoint][caller]
    assert response.status_code == expected, response.content
    if expected >= 400:
        # A refused request changes nothing.
        replay.refresh_from_db()
        assert (AuditEntry.objects.count(), replay.status, states(exception)) == before
        assert Replay.objects.count() == 1


MALFORMED = {"note": 5, "records": 5, "reason": 5, "patch": 5, "integration": 5, "status": 5}


REFUSED = [(e, c) for e, row in EXPECTED.items() if e != "detail" for c, code in row.items() if code in (403, 404)]


@pytest.mark.parametrize(("endpoint", "caller"), REFUSED)
def test_a_caller_without_the_right_gets_403_or_404_whatever_the_body(endpoint, caller, request, setup):
    """Order of answers: out of reach 404, then role 403, then a malformed
    body 400 (a customer viewer posting {"note": 5} learns nothing about
    the body's shape)."""
    expected = EXPECTED[endpoint][caller]
    client = client_for(caller, request, setup)
    exception, replay = setup["exception"], setup["replay"]
    path = {
        "request": f"/api/v1/exceptions/{exception.pk}/replay",
        "discard": f"/api/v1/exceptions/{exception.pk}/discard",
        "claim": "/api/v1/replays/claim",
    }.get(endpoint, f"/api/v1/replays/{replay.pk}/{endpoint}")
    response = client.post(path, MALFORMED, format="json")
    assert response.status_code == expected, response.content


def test_the_requester_posting_a_malformed_note_is_refused_as_the_requester(manager, setup):
    replay = replays.request_replay(manager, setup["exception"], records=["TE-2"])
    client = f.client_with(f.make_token(manager))
    response = client.post(f"/api/v1/replays/{replay.pk}/approve", {"note": 5}, format="json")
    assert response.status_code == 403
    assert "requested" in response.json()["detail"]
