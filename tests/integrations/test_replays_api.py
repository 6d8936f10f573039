"""Requesting, approving, rejecting, cancelling replays; results; discard;
auto-resolve; the audit trail (contract 3.4, 4.1, 4.3)."""

import uuid

import pytest

from integrations.models import Failure, Replay, ReplayStatus, SyncException
from opsconsole.models import AuditEntry
from opsconsole.roles import Role
from tests import factories as f

DOC_KEYS = {
    "id",
    "tenant",
    "integration",
    "exception",
    "status",
    "attempt",
    "reason",
    "requested_by",
    "approved_by",
    "created_at",
    "records",
}
RECORD_KEYS = {"entity", "record_id", "operation", "payload", "patch", "error_code", "message", "idempotency_key"}


@pytest.fixture
def exception(integration):
    return f.make_exception_with_records(integration, ["TE-1001", "TE-1002", "TE-1003"])


@pytest.fixture
def approval_integration(contoso):
    return f.make_integration(contoso, "billing-sync", approval_required=True)


@pytest.fixture
def approval_exception(approval_integration):
    return f.make_exception_with_records(approval_integration, ["INV-1", "INV-2"])


def states(exception):
    return dict(Failure.objects.filter(exception=exception).values_list("record_id", "state"))


def request(client, exception, **body):
    return client.post(f"/api/v1/exceptions/{exception.pk}/replay", body, format="json")


# -- requesting -----------------------------------------------------------------


def test_support_requests_a_replay_of_every_record_and_gets_the_document(as_user, support, exception):
    response = request(as_user(support), exception, reason="Project reopened")
    assert response.status_code == 201, response.content
    doc = response.json()
    assert DOC_KEYS <= set(doc)
    assert doc["status"] == "queued"
    assert doc["tenant"] == "contoso" and doc["integration"] == "time-expense-posting"
    assert doc["exception"] == exception.pk and doc["attempt"] == 1
    assert doc["requested_by"] == "ana@northwind.example" and doc["approved_by"] is None
    assert doc["reason"] == "Project reopened"
    assert doc["created_at"].endswith("Z")
    assert sorted(r["record_id"] for r in doc["records"]) == ["TE-1001", "TE-1002", "TE-1003"]
    record = doc["records"][0]
    assert set(record) == RECORD_KEYS
    assert record["payload"] == {"employee": "E-17", "hours": 7.5, "project": "P-77"}
    assert record["error_code"] == exception.error_code and record["operation"] == "create"
    assert len({r["idempotency_key"] for r in doc["records"]}) == 3
    assert set(states(exception).values()) == {"replay_requested"}
    entry = AuditEntry.objects.get(action="replay.request")
    assert entry.actor == "ana@northwind.example" and entry.object_id == doc["id"]


def test_it_replays_the_latest_failure_of_each_record(as_user, support, exception):
    newer = f.make_failure(exception, record_id="TE-1001", payload={"hours": 8}, operation="update", error_code="ERP-9")
    doc = request(as_user(support), exception, records=["TE-1001"]).json()
    assert len(doc["records"]) == 1
    assert doc["records"][0]["payload"] == {"hours": 8}
    assert doc["records"][0]["operation"] == "update" and doc["records"][0]["error_code"] == "ERP-9"
    newer.refresh_from_db()
    assert newer.state == "replay_requested"
    assert states(exception)["TE-1002"] == "failed"


def test_a_patch_is_handed_over_with_its_record(as_user, manager, exception):
    response = request(
        as_user(manager), exception, records=["TE-1001", "TE-1002"], patch={"TE-1001": {"project": "P-78"}}
    )
    assert response.status_code == 201
    patches = {r["record_id"]: r["patch"] for r in response.json()["records"]}
    assert patches == {"TE-1001": {"project": "P-78"}, "TE-1002": None}


def test_an_unknown_record_is_a_400_naming_it_and_changes_nothing(as_user, support, exception):
    response = request(as_user(support), exception, records=["TE-1001", "TE-404"])
    assert response.status_code == 400
    assert "TE-404" in response.json()["records"][0]
    assert not Replay.objects.exists()
    assert set(states(exception).values()) == {"failed"}


def test_a_patch_for_a_record_not_replayed_is_a_400(as_user, support, exception):
    response = request(as_user(support), exception, records=["TE-1001"], patch={"TE-1002": {"x": 1}})
    assert response.status_code == 400
    assert "TE-1002" in response.json()["patch"][0]
    assert not Replay.objects.exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"records": "TE-1001"}, "records"),
        ({"records": [1]}, "records"),
        ({"reason": 5}, "reason"),
        ({"reason": "a\u0000b"}, "reason"),
        ({"patch": ["x"]}, "patch"),
        ({"patch": {"TE-1001": 3}}, "patch"),
    ],
)
def test_malformed_requests_are_400_naming_the_field(as_user, support, exception, body, field):
    response = request(as_user(support), exception, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Replay.objects.exists()


def test_nothing_left_to_replay_is_a_409(as_user, support, exception):
    client = as_user(support)
    assert request(client, exception).status_code == 201
    response = request(client, exception)
    assert response.status_code == 409
    assert "Nothing to replay" in response.json()["detail"]
    assert Replay.objects.count() == 1


def test_a_record_already_in_an_unfinished_replay_is_a_409(as_user, support, exception):
    client = as_user(support)
    request(client, exception, records=["TE-1001"])
    response = request(client, exception, records=["TE-1001", "TE-1002"])
    assert response.status_code == 409
    assert "TE-1001" in response.json()["detail"]
    # Absent records: the ones not yet taken.
    doc = request(client, exception).json()
    assert sorted(r["record_id"] for r in doc["records"]) == ["TE-1002", "TE-1003"]


def test_an_integration_needing_approval_starts_pending(as_user, support, approval_exception):
    response = request(as_user(support), approval_exception)
    assert response.status_code == 201
    assert response.json()["status"] == "pending_approval"
    assert AuditEntry.objects.filter(action="alert.replay.pending_approval").count() == 1


@pytest.mark.parametrize("role", ["customer_approver", "customer_viewer"])
def test_customers_may_not_request_a_replay(request_fixture, as_user, exception, role):
    user = request_fixture(role)
    response = request(as_user(user), exception)
    assert response.status_code == 403
    assert not Replay.objects.exists()


def test_an_exception_outside_reach_is_a_404(as_user, outsider, exception, northwind, fabrikam):
    assert request(as_user(outsider), exception).status_code == 404
    other_customer = f.make_user(northwind, Role.CUSTOMER_APPROVER, tenants=[fabrikam])
    assert request(as_user(other_customer), exception).status_code == 404
    assert request(as_user(outsider), SyncException(pk=999999)).status_code == 404


def test_keys_may_not_request_replays(exception, ingest_key, read_key):
    assert request(f.client_with(ingest_key), exception).status_code == 403
    assert request(f.client_with(read_key), exception).status_code == 403
    assert not Replay.objects.exists()


@pytest.fixture
def request_fixture(request):
    return lambda name: request.getfixturevalue(name)


# -- approving, rejecting, cancelling -------------------------------------------------------


@pytest.fixture
def pending(as_user, support, approval_exception):
    doc = request(as_user(support), approval_exception, reason="Invoice fixed").json()
    return Replay.objects.get(pk=doc["id"])


def decide(client, replay, action, note="ok"):
    return client.post(f"/api/v1/replays/{replay.pk}/{action}", {"note": note}, format="json")


@pytest.mark.parametrize("role", ["partner_admin", "manager", "customer_approver"])
def test_approvers_approve_a_pending_replay(request_fixture, as_user, pending, role):
    approver = request_fixture(role)
    response = decide(as_user(approver), pending, "approve", "Looks right")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "queued"
    assert response.json()["approved_by"] == approver.email
    pending.refresh_from_db()
    assert pending.status == ReplayStatus.QUEUED and pending.queued_at is not None
    assert pending.decision_note == "Looks right"
    entry = AuditEntry.objects.get(action="replay.approve")
    assert entry.actor == approver.email and entry.data["note"] == "Looks right"


@pytest.mark.parametrize("role", ["support", "customer_viewer"])
def test_support_and_viewers_may_not_approve(request_fixture, as_user, pending, role):
    response = decide(as_user(request_fixture(role)), pending, "approve")
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == ReplayStatus.PENDING_APPROVAL


def test_nobody_approves_their_own_request(as_user, manager, approval_exception):
    client = as_user(manager)
    doc = request(client, approval_exception).json()
    replay = Replay.objects.get(pk=doc["id"])
    assert decide(client, replay, "approve").status_code == 403
    assert decide(client, replay, "reject").status_code == 403
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.PENDING_APPROVAL


def test_a_deleted_requester_is_still_the_requester(as_user, northwind, manager, partner_admin, approval_exception):
    """The requester's account is removed (apply_config --prune) and created
    again with the same e-mail: it still may not approve its own request,
    and the replay still names who asked."""
    requester = f.make_user(northwind, Role.MANAGER, "lee@northwind.example")
    replay = Replay.objects.get(pk=request(as_user(requester), approval_exception).json()["id"])
    requester.delete()
    again = f.make_user(northwind, Role.MANAGER, "Lee@Northwind.example")
    response = decide(as_user(again), replay, "approve")
    assert response.status_code == 403
    assert "requested" in response.json()["detail"]
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.PENDING_APPROVAL and replay.requested_by is None
    doc = as_user(manager).get(f"/api/v1/replays/{replay.pk}").json()
    assert doc["requested_by"] == "lee@northwind.example"
    assert decide(as_user(partner_admin), replay, "approve").status_code == 200
    partner_admin.delete()
    assert as_user(manager).get(f"/api/v1/replays/{replay.pk}").json()["approved_by"] == partner_admin.email


def test_a_customer_approver_of_another_tenant_gets_404(as_user, northwind, fabrikam, pending, outsider):
    other = f.make_user(northwind, Role.CUSTOMER_APPROVER, tenants=[fabrikam])
    assert decide(as_user(other), pending, "approve").status_code == 404
    assert decide(as_user(outsider), pending, "approve").status_code == 404
    assert f.client_with(None).post(f"/api/v1/replays/{uuid.uuid4()}/approve").status_code == 401


def test_approving_twice_is_a_409(as_user, manager, partner_admin, pending):
    assert decide(as_user(manager), pending, "approve").status_code == 200
    assert decide(as_user(partner_admin), pending, "approve").status_code == 409
    assert decide(as_user(partner_admin), pending, "reject").status_code == 409
    pending.refresh_from_db()
    assert pending.approved_by == manager


def test_rejecting_returns_the_records_to_failed(as_user, customer_approver, pending, approval_exception):
    response = decide(as_user(customer_approver), pending, "reject", "Wrong invoice")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert set(states(approval_exception).values()) == {"failed"}
    assert AuditEntry.objects.filter(action="replay.reject", actor="cfo@contoso.example").count() == 1
    # The records may be requested again.
    assert decide(as_user(customer_approver), pending, "approve").status_code == 409


def test_staff_cancel_before_dispatch_only(as_user, support, manager, exception, worker):
    client = as_user(support)
    replay_id = request(client, exception, records=["TE-1001"]).json()["id"]
    replay = Replay.objects.get(pk=replay_id)
    assert decide(client, replay, "cancel").status_code == 200
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.CANCELLED
    assert states(exception)["TE-1001"] == "failed"
    assert AuditEntry.objects.filter(action="replay.cancel").count() == 1
    assert decide(client, replay, "cancel").status_code == 409

    second = request(client, exception, records=["TE-1002"]).json()["id"]
    claimed = worker.post("/api/v1/replays/claim", {"integration": "time-expense-posting"}, format="json")
    assert claimed.json()["id"] == second
    response = decide(as_user(manager), Replay.objects.get(pk=second), "cancel")
    assert response.status_code == 409
    assert Replay.objects.get(pk=second).status == ReplayStatus.DISPATCHED


def test_customers_may_not_cancel(as_user, customer_approver, pending):
    assert decide(as_user(customer_approver), pending, "cancel").status_code == 403
    pending.refresh_from_db()
    assert pending.status == ReplayStatus.PENDING_APPROVAL


def test_a_decision_with_a_bad_note_is_a_400_and_changes_nothing(as_user, manager, pending):
    response = as_user(manager).post(f"/api/v1/replays/{pending.pk}/approve", {"note": ["x"]}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    pending.refresh_from_db()
    assert pending.status == ReplayStatus.PENDING_APPROVAL


def test_an_empty_body_is_accepted_for_actions(as_user, manager, pending):
    response = as_user(manager).post(f"/api/v1/replays/{pending.pk}/approve", content_type="application/json")
    assert response.status_code == 200


# -- reading -------------------------------------------------------------------------------


def test_list_and_detail_are_scoped_and_filtered(as_user, support, manager, outsider, exception, pending, read_key):
    queued = request(as_user(support), exception, records=["TE-1001"]).json()
    client = as_user(manager)
    body = client.get("/api/v1/replays?tenant=contoso").json()
    assert body["count"] == 2 and {"next", "previous", "results"} <= set(body)
    body = client.get("/api/v1/replays?tenant=contoso&status=pending_approval").json()
    assert [r["id"] for r in body["results"]] == [str(pending.pk)]
    assert client.get("/api/v1/replays?status=bogus").status_code == 400
    assert client.get("/api/v1/replays?tenant=nope").status_code == 404
    assert client.get(f"/api/v1/replays/{queued['id']}").json()["records"][0]["record_id"] == "TE-1001"

    assert as_user(outsider).get("/api/v1/replays").json()["count"] == 0
    assert as_user(outsider).get("/api/v1/replays?tenant=contoso").status_code == 404
    assert as_user(outsider).get(f"/api/v1/replays/{queued['id']}").status_code == 404

    reader = f.client_with(read_key)
    assert reader.get(f"/api/v1/replays/{queued['id']}").status_code == 200
    assert reader.get("/api/v1/replays").json()["count"] == 2
    assert reader.post(f"/api/v1/replays/{pending.pk}/approve").status_code == 403


# -- results -------------------------------------------------------------------------------


@pytest.fixture
def claimed(as_user, support, exception, worker):
    request(as_user(support), exception)
    doc = worker.post("/api/v1/replays/claim", {"integration": "time-expense-posting"}, format="json").json()
    return Replay.objects.get(pk=doc["id"])


def post_result(client, replay, body):
    return client.post(f"/api/v1/replays/{replay.pk}/result", body, format="json")


def test_a_succeeded_result_remediates_and_resolves_the_exception(worker, claimed, exception):
    f.make_run(exception.integration, run_id="replay-run-1", trigger="replay")
    response = post_result(worker, claimed, {"status": "succeeded", "run_id": "replay-run-1"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "succeeded"
    assert set(states(exception).values()) == {"replayed"}
    exception.refresh_from_db()
    assert exception.status == "resolved" and exception.resolved_at is not None
    assert exception.openings.get().resolved_at is not None
    entry = AuditEntry.objects.get(action="exception.resolve")
    assert entry.actor == "system" and "every record is remediated" in entry.summary
    assert AuditEntry.objects.filter(action="replay.result").count() == 1
    assert claimed.runs.get().run_id == "replay-run-1"


def test_a_partial_result_remediates_only_what_succeeded(worker, claimed, exception):
    body = {
        "status": "partial",
        "records": [
            {"entity": "time_entry", "record_id": "TE-1001", "status": "succeeded", "message": "posted"},
            {"entity": "time_entry", "record_id": "TE-1002", "status": "failed", "message": "still closed"},
        ],
    }
    assert post_result(worker, claimed, body).status_code == 200
    assert states(exception) == {"TE-1001": "replayed", "TE-1002": "replay_failed", "TE-1003": "replay_failed"}
    exception.refresh_from_db()
    assert exception.status == "open"
    record = claimed.records.get(record_id="TE-1002")
    assert record.state == "failed" and record.result_message == "still closed"


def test_the_same_result_again_is_a_200_changing_nothing(worker, claimed):
    body = {"status": "failed", "records": [{"entity": "time_entry", "record_id": "TE-1001", "status": "failed"}]}
    assert post_result(worker, claimed, body).status_code == 200
    audit_count = AuditEntry.objects.count()
    again = post_result(worker, claimed, body)
    assert again.status_code == 200 and again.json()["status"] == "failed"
    assert AuditEntry.objects.count() == audit_count
    different = post_result(worker, claimed, {"status": "succeeded"})
    assert different.status_code == 409
    claimed.refresh_from_db()
    assert claimed.status == ReplayStatus.FAILED


def test_a_record_not_in_the_replay_is_a_400_naming_it(worker, claimed, exception):
    body = {"status": "succeeded", "records": [{"entity": "time_entry", "record_id": "TE-9999", "status": "succeeded"}]}
    response = post_result(worker, claimed, body)
    assert response.status_code == 400
    assert "TE-9999" in str(response.json()["records"])
    claimed.refresh_from_db()
    assert claimed.status == ReplayStatus.DISPATCHED
    assert set(states(exception).values()) == {"replay_requested"}


@pytest.mark.parametrize(
    "body,field",
    [
        ({"status": "done"}, "status"),
        ({}, "status"),
        ({"status": "succeeded", "records": [{"entity": "time_entry", "status": "succeeded"}]}, "records"),
        ({"status": "succeeded", "run_id": 7}, "run_id"),
    ],
)
def test_malformed_results_are_400(worker, claimed, body, field):
    response = post_result(worker, claimed, body)
    assert response.status_code == 400 and field in response.json()
    claimed.refresh_from_db()
    assert claimed.status == ReplayStatus.DISPATCHED


def test_a_result_is_accepted_while_queued_and_refused_when_pending_or_cancelled(
    as_user, support, worker, exception, pending
):
    replay_id = request(as_user(support), exception, records=["TE-1001"]).json()["id"]
    replay = Replay.objects.get(pk=replay_id)
    assert post_result(worker, replay, {"status": "succeeded"}).status_code == 200
    assert post_result(worker, pending, {"status": "succeeded"}).status_code == 409


def test_results_and_claims_need_an_ingest_key_of_the_tenant(claimed, as_user, manager, read_key, globex):
    assert post_result(as_user(manager), claimed, {"status": "succeeded"}).status_code == 403
    assert post_result(f.client_with(read_key), claimed, {"status": "succeeded"}).status_code == 403
    other = f.client_with(f.make_key(globex, ["ingest"]))
    assert post_result(other, claimed, {"status": "succeeded"}).status_code == 404
    assert post_result(other, Replay(pk=uuid.uuid4()), {"status": "succeeded"}).status_code == 404
    claimed.refresh_from_db()
    assert claimed.status == ReplayStatus.DISPATCHED


def test_a_late_result_from_an_earlier_lease_counts(worker, claimed, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    time_machine.move_to(timezone.now() + timedelta(seconds=301))
    again = worker.post("/api/v1/replays/claim", {"integration": "time-expense-posting"}, format="json").json()
    assert again["id"] == str(claimed.pk) and again["attempt"] == 2
    assert post_result(worker, claimed, {"status": "succeeded"}).status_code == 200


# -- discard -------------------------------------------------------------------------------


def test_discarding_every_left_record_resolves_the_exception(as_user, support, worker, exception):
    client = as_user(support)
    request(client, exception, records=["TE-1001"])
    claimed = worker.post("/api/v1/replays/claim", {"integration": "time-expense-posting"}, format="json").json()
    post_result(worker, Replay(pk=claimed["id"]), {"status": "succeeded"})
    exception.refresh_from_db()
    assert exception.status == "open"

    response = client.post(
        f"/api/v1/exceptions/{exception.pk}/discard", {"records": ["TE-1002"], "note": "dup"}, format="json"
    )
    assert response.status_code == 200
    assert states(exception) == {"TE-1001": "replayed", "TE-1002": "discarded", "TE-1003": "failed"}
    response = client.post(f"/api/v1/exceptions/{exception.pk}/discard", {"note": "rest"}, format="json")
    assert response.status_code == 200
    assert response.json()["discarded"] == ["TE-1003"] and response.json()["status"] == "resolved"
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert AuditEntry.objects.filter(action="exception.discard").count() == 2
    assert AuditEntry.objects.filter(action="exception.resolve", actor="system").count() == 1


def test_discard_refuses_unknown_records_and_customers(as_user, support, customer_approver, exception):
    response = as_user(support).post(f"/api/v1/exceptions/{exception.pk}/discard", {"records": ["NOPE"]}, format="json")
    assert response.status_code == 400 and "NOPE" in response.json()["records"][0]
    assert (
        as_user(customer_approver).post(f"/api/v1/exceptions/{exception.pk}/discard", {}, format="json").status_code
        == 403
    )
    assert set(states(exception).values()) == {"failed"}


def test_a_record_in_an_unfinished_replay_cannot_be_discarded(as_user, support, exception):
    client = as_user(support)
    request(client, exception, records=["TE-1001"])
    response = client.post(f"/api/v1/exceptions/{exception.pk}/discard", {"records": ["TE-1001"]}, format="json")
    assert response.status_code == 409
    assert states(exception)["TE-1001"] == "replay_requested"


def test_hostile_query_parameters_are_4xx_never_500(as_user, manager, exception):
    client = as_user(manager)
    for query in ("tenant=%00", "status=%00", "integration=%00", "exception=%00", "exception=99999999999999999999"):
        response = client.get(f"/api/v1/replays?{query}")
        assert response.status_code in (200, 400, 404), query
    assert client.post("/api/v1/exceptions/99999999999999999999/replay").status_code == 404
