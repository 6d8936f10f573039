"""Exception states driven by ingest (contract 4.1): openings, regressions,
ignored exceptions, routing, recoveries and auto-resolution."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import ExceptionOpening, Failure, FailureState, RoutingRule, SyncException
from integrations.sync_exceptions.resolution import resolve_if_remediated
from opsconsole.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def fail(record_id, **kw):
    kw.setdefault("error_code", "ERP-4001")
    kw.setdefault("error_class", "validation")
    return f.failure_doc(record_id, **kw)


def resolve(exception, at=None):
    at = at or timezone.now()
    SyncException.objects.filter(pk=exception.pk).update(status="resolved", resolved_at=at, acknowledged_at=at)
    ExceptionOpening.objects.filter(exception=exception, closed_at__isnull=True).update(resolved_at=at)


def test_a_new_exception_is_open_with_one_opening_and_one_audit_entry(post_run, frozen_now):
    post_run(f.run_doc("r1", failures=[fail("A"), fail("B")]))

    exception = SyncException.objects.get()
    assert exception.status == "open"
    assert exception.priority == "P3"  # no routing rule matched
    assert abs((exception.opened_at - timezone.now()).total_seconds()) < 5  # receipt, not occurred_at
    opening = exception.openings.get()
    assert (opening.priority, opening.regressed, opening.opened_at) == ("P3", False, exception.opened_at)
    entries = AuditEntry.objects.filter(action="exception.opened")
    assert [(e.actor, e.object_id) for e in entries] == [("system", str(exception.pk))]


def test_the_first_matching_routing_rule_sets_priority_assignee_and_runbook(post_run, contoso, support):
    RoutingRule.objects.create(tenant=contoso, position=1, match={"error_class": "mapping"}, priority="P1")
    RoutingRule.objects.create(
        tenant=contoso,
        position=2,
        match={"integration": "time-expense-posting", "error_class": "validation"},
        priority="P2",
        assign=support,
        runbook="Check that the project is open in NetSuite, then replay.",
    )
    RoutingRule.objects.create(tenant=contoso, position=3, match={}, priority="P4")

    post_run(f.run_doc(failures=[fail("A"), fail("B", error_code="X9", error_class="auth")]))

    routed = SyncException.objects.get(error_code="ERP-4001")
    assert (routed.priority, routed.assignee, routed.runbook) == (
        "P2",
        support,
        "Check that the project is open in NetSuite, then replay.",
    )
    assert routed.openings.get().priority == "P2"
    assert SyncException.objects.get(error_code="X9").priority == "P4"


def test_an_exception_shows_the_runbook_of_the_rule_that_routed_it_or_none(post_run, contoso, support, client):
    RoutingRule.objects.create(
        tenant=contoso,
        position=1,
        match={"integration": "time-expense-posting", "error_class": "validation"},
        runbook="Check that the project is open in NetSuite, then replay.",
    )
    RoutingRule.objects.create(tenant=contoso, position=2, match={"error_class": "auth"}, priority="P1")
    post_run(
        f.run_doc(
            failures=[
                fail("A"),
                fail("B", error_code="X9", error_class="auth"),
                fail("C", error_code="M1", error_class="mapping"),
            ]
        )
    )
    # Rules changed later do not change what routed an exception.
    RoutingRule.objects.filter(position=1).update(runbook="Something else entirely.")
    client.force_login(support)

    routed = SyncException.objects.get(error_code="ERP-4001")
    assert routed.routed_by == "rule 1: error_class = validation, integration = time-expense-posting"
    html = client.get(f"/exceptions/{routed.pk}/").content.decode()
    assert "Routed by rule 1: error_class = validation, integration = time-expense-posting" in html
    assert "Check that the project is open in NetSuite" in html and "Something else" not in html

    auth = SyncException.objects.get(error_code="X9")
    html = client.get(f"/exceptions/{auth.pk}/").content.decode()
    assert "Routed by rule 2: error_class = auth" in html and "Check that the project" not in html
    assert "No runbook" in html

    unrouted = SyncException.objects.get(error_code="M1")
    assert unrouted.routed_by == "" and unrouted.runbook == ""
    html = client.get(f"/exceptions/{unrouted.pk}/").content.decode()
    assert "no routing rule matched this exception" in html and "Check that the project" not in html


def test_a_new_failure_reopens_a_resolved_exception_as_a_regression(post_run, frozen_now):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    exception = SyncException.objects.get()
    resolve(exception)
    frozen_now.shift(dt.timedelta(minutes=30))

    post_run(f.run_doc("r2", failures=[fail("B")]))

    exception.refresh_from_db()
    assert exception.status == "open"
    assert exception.regressed is True
    assert exception.resolved_at is None and exception.acknowledged_at is None
    assert abs((exception.opened_at - timezone.now()).total_seconds()) < 5
    first, second = exception.openings.order_by("opened_at")
    assert first.closed_at is not None and first.resolved_at is not None
    assert second.regressed is True and second.closed_at is None and second.opened_at == exception.opened_at
    assert AuditEntry.objects.filter(action="exception.regressed", object_id=str(exception.pk)).count() == 1
    assert (exception.occurrences, exception.records) == (2, 2)


def test_the_same_record_failing_again_in_a_new_run_is_a_regression(post_run):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    resolve(SyncException.objects.get())

    post_run(f.run_doc("r2", failures=[fail("A")]))

    assert SyncException.objects.get().status == "open"


def test_reposting_the_same_failure_never_reopens(post_run):
    doc = f.run_doc("r1", failures=[fail("A")])
    post_run(doc)
    exception = SyncException.objects.get()
    resolve(exception)

    assert post_run(doc).status_code == 200

    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert exception.openings.count() == 1
    assert exception.occurrences == 1


def test_an_ignored_exception_counts_new_failures_without_reopening(post_run):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    SyncException.objects.update(status="ignored")

    post_run(f.run_doc("r2", failures=[fail("B")]))

    exception = SyncException.objects.get()
    assert exception.status == "ignored"
    assert exception.occurrences == 2
    assert exception.openings.count() == 1


def test_an_ignored_exception_stays_ignored_before_its_until(post_run, frozen_now):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    SyncException.objects.update(status="ignored", ignored_until=timezone.now() + dt.timedelta(days=1))

    post_run(f.run_doc("r2", failures=[fail("B")]))

    assert SyncException.objects.get().status == "ignored"


def test_once_its_until_has_passed_the_next_failure_reopens_it_without_regression(post_run, frozen_now):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    SyncException.objects.update(status="ignored", ignored_until=timezone.now() + dt.timedelta(hours=1))
    ExceptionOpening.objects.update(ignored_at=timezone.now(), acknowledged_at=timezone.now())
    frozen_now.shift(dt.timedelta(hours=2))

    post_run(f.run_doc("r2", failures=[fail("B")]))

    exception = SyncException.objects.get()
    assert exception.status == "open"
    assert exception.regressed is False
    assert exception.ignored_until is None
    assert exception.openings.count() == 2
    assert exception.openings.filter(closed_at__isnull=True).get().regressed is False
    assert AuditEntry.objects.filter(action="exception.reopened").count() == 1


def test_recovered_records_are_marked_and_a_fully_remediated_exception_resolves_itself(post_run):
    post_run(f.run_doc("r1", failures=[fail("A"), fail("B")]))
    exception = SyncException.objects.get()

    post_run(f.run_doc("r2", recovered=[{"entity": "time_entry", "record_id": "A"}]))

    exception.refresh_from_db()
    assert exception.status == "open"  # B still fails
    assert Failure.objects.get(record_id="A").state == FailureState.RECOVERED

    post_run(f.run_doc("r3", recovered=[{"entity": "time_entry", "record_id": "B"}]))

    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert exception.resolved_at is not None
    assert exception.openings.get().resolved_at is not None
    entry = AuditEntry.objects.get(action="exception.resolve")
    assert entry.actor == "system"
    assert "recovered" in entry.summary


def test_recovery_touches_only_failing_states_of_that_integration(post_run, contoso):
    f.make_integration(contoso, "billing-sync")
    post_run(f.run_doc("r1", failures=[fail("A"), fail("B"), fail("C")]))
    post_run(f.run_doc("o1", integration="billing-sync", failures=[fail("A")]))
    Failure.objects.filter(record_id="B").update(state=FailureState.REPLAY_REQUESTED)
    Failure.objects.filter(record_id="C").update(state=FailureState.DISCARDED)

    post_run(
        f.run_doc(
            "r2",
            recovered=[{"entity": "time_entry", "record_id": "A"}, {"entity": "time_entry", "record_id": "B"}],
        )
    )

    states = {(x.integration.slug, x.record_id): x.state for x in Failure.objects.select_related("integration")}
    assert states == {
        ("time-expense-posting", "A"): "recovered",
        ("time-expense-posting", "B"): "recovered",
        ("time-expense-posting", "C"): "discarded",
        ("billing-sync", "A"): "failed",
    }
    assert SyncException.objects.get(integration__slug="time-expense-posting").status == "resolved"


def test_a_record_failing_again_in_the_run_that_recovers_it_stays_failed(post_run):
    post_run(f.run_doc("r1", failures=[fail("A")]))
    post_run(f.run_doc("r2", failures=[fail("A")], recovered=[{"entity": "time_entry", "record_id": "A"}]))

    states = dict(Failure.objects.values_list("run__run_id", "state"))
    assert states == {"r1": "recovered", "r2": "failed"}
    assert SyncException.objects.get().status == "open"


def test_resolve_if_remediated_leaves_exceptions_with_failing_records(post_run):
    post_run(f.run_doc("r1", failures=[fail("A"), fail("B", error_code="E2")]))
    a = SyncException.objects.get(error_code="ERP-4001")
    b = SyncException.objects.get(error_code="E2")
    Failure.objects.filter(record_id="A").update(state=FailureState.REPLAYED)

    resolved = resolve_if_remediated([a.pk, b.pk], "every record was replayed")

    assert resolved == [a.pk]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == ("resolved", "open")
    assert resolve_if_remediated([a.pk], "again") == []  # already resolved: no second entry
    assert AuditEntry.objects.filter(action="exception.resolve").count() == 1


def test_recount_exceptions_follows_deleted_failures(post_run):
    from integrations.sync_exceptions.counts import recount as recount_exceptions

    post_run(f.run_doc("r1", failures=[fail("A"), fail("B")]))
    post_run(f.run_doc("r2", failures=[fail("A")]))
    exception = SyncException.objects.get()
    assert (exception.occurrences, exception.records) == (3, 2)
    Failure.objects.filter(record_id="B").delete()

    recount_exceptions([exception.pk])

    exception.refresh_from_db()
    assert (exception.occurrences, exception.records) == (2, 1)
