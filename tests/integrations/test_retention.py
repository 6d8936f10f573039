"""Retention (contract section 1): runs, logs and failures older than a
tenant's retention_days are purged daily; exceptions are recounted."""

import hashlib
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django_q.models import Schedule
from django_q.tasks import async_task

from integrations.models import Failure, Run, RunLog, SyncException
from integrations.retention import purge_expired
from opsconsole.models import AuditEntry
from sla.models import Objective
from tests import factories as f

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_run(integration, started_at, run_id=None, logs=2):
    run = Run.objects.create(
        tenant=integration.tenant,
        integration=integration,
        run_id=run_id or f"run-{started_at:%Y%m%d%H%M}",
        status="partial",
        started_at=started_at,
        finished_at=started_at + timedelta(minutes=1),
        succeeded=10,
        failed=2,
    )
    for i in range(logs):
        RunLog.objects.create(run=run, at=started_at, level="info", message=f"line {i}", digest=f"{run.pk}-{i}")
    return run


def make_exception(integration, title="Project P-<n> is closed in the ERP"):
    return SyncException.objects.create(
        tenant=integration.tenant,
        integration=integration,
        key_hash=hashlib.sha256(title.encode()).hexdigest(),
        fingerprint="fp",
        grouped_by="error_code",
        title=title,
        entity="time_entry",
        error_code="ERP-4001",
    )


def fail(run, exception, record_id, entity="time_entry"):
    Failure.objects.create(
        run=run,
        tenant=run.tenant,
        integration=run.integration,
        exception=exception,
        entity=entity,
        record_id=record_id,
        message="Project P-77 is closed in the ERP",
        occurred_at=run.started_at + timedelta(seconds=30),
    )


def count(exception):
    """What ingest would have kept: occurrences, records, first and last seen."""
    failures = Failure.objects.filter(exception=exception)
    exception.occurrences = failures.count()
    exception.records = len(set(failures.values_list("entity", "record_id")))
    exception.first_seen = min(x.occurred_at for x in failures)
    exception.last_seen = max(x.occurred_at for x in failures)
    exception.save()


@pytest.fixture
def history(contoso, fabrikam, integration):
    """Contoso keeps 30 days; fabrikam the default 395. Runs 40, 31, 29 and 1 days old."""
    contoso.retention_days = 30
    contoso.save()
    runs = {age: make_run(integration, NOW - timedelta(days=age)) for age in (40, 31, 29, 1)}
    exception = make_exception(integration)
    fail(runs[40], exception, "TE-1")
    fail(runs[40], exception, "TE-2")
    fail(runs[31], exception, "TE-1")
    fail(runs[29], exception, "TE-1")
    fail(runs[29], exception, "TE-3", entity="expense")
    fail(runs[1], exception, "TE-3", entity="expense")
    count(exception)
    only_old = make_exception(integration, title="No mapping for cost center <str>")
    fail(runs[40], only_old, "TE-9")
    count(only_old)
    fab_integration = f.make_integration(fabrikam, "fab-flow")
    fab_run = make_run(fab_integration, NOW - timedelta(days=200))
    fail(fab_run, make_exception(fab_integration), "F-1")
    objective = Objective.objects.create(tenant=contoso, objective="run_success", target=99)
    return {"runs": runs, "exception": exception, "only_old": only_old, "fab_run": fab_run, "objective": objective}


@time_machine.travel(NOW, tick=False)
def test_it_purges_runs_logs_and_failures_older_than_the_tenants_retention(history):
    result = purge_expired(batch_size=2)

    runs = history["runs"]
    assert set(Run.objects.filter(tenant__slug="contoso").values_list("pk", flat=True)) == {runs[29].pk, runs[1].pk}
    assert not RunLog.objects.filter(run_id__in=[runs[40].pk, runs[31].pk]).exists()
    assert RunLog.objects.filter(run=runs[29]).count() == 2
    assert not Failure.objects.filter(run_id__in=[runs[40].pk, runs[31].pk]).exists()
    assert result == {"runs": 2, "logs": 4, "failures": 4, "exceptions_recounted": 2}
    # Fabrikam keeps 395 days: its 200-day-old run stays.
    assert Run.objects.filter(pk=history["fab_run"].pk).exists()
    # SLA configuration is not touched.
    assert Objective.objects.filter(pk=history["objective"].pk).exists()
    # The purge is in the audit log, for contoso only.
    [entry] = AuditEntry.objects.filter(action="retention.purge")
    assert (entry.actor, entry.tenant.slug) == ("system", "contoso")
    assert entry.data["runs"] == 2 and entry.data["retention_days"] == 30
    assert entry.summary.startswith("Purged 2 runs, 4 failures and 4 log lines started before 2026-10-27 12:00 UTC")


@time_machine.travel(NOW, tick=False)
def test_it_recounts_the_exceptions_that_lost_failures(history):
    purge_expired(batch_size=2)

    exception = SyncException.objects.get(pk=history["exception"].pk)
    assert exception.occurrences == 3
    assert exception.records == 2  # (time_entry, TE-1) and (expense, TE-3)
    assert exception.first_seen == history["runs"][29].started_at + timedelta(seconds=30)
    assert exception.last_seen == history["runs"][1].started_at + timedelta(seconds=30)

    # An exception whose failures are all gone is kept, with its history of when it was seen.
    only_old = SyncException.objects.get(pk=history["only_old"].pk)
    assert (only_old.occurrences, only_old.records) == (0, 0)
    assert only_old.first_seen == history["runs"][40].started_at + timedelta(seconds=30)


@time_machine.travel(NOW, tick=False)
def test_a_second_purge_finds_nothing(history):
    purge_expired()
    assert purge_expired() == {"runs": 0, "logs": 0, "failures": 0, "exceptions_recounted": 0}
    assert AuditEntry.objects.filter(action="retention.purge").count() == 1


def test_a_run_ages_out_as_days_pass(history):
    with time_machine.travel(NOW, tick=False):
        purge_expired()
    assert Run.objects.filter(pk=history["runs"][29].pk).exists()
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        purge_expired()
    assert not Run.objects.filter(pk=history["runs"][29].pk).exists()
    assert Run.objects.filter(pk=history["runs"][1].pk).exists()


@time_machine.travel(NOW, tick=False)
def test_ensure_schedules_creates_the_daily_purge_once(history):
    call_command("ensure_schedules", stdout=StringIO())
    out = StringIO()
    call_command("ensure_schedules", stdout=out)
    lines = out.getvalue().splitlines()
    assert "unchanged: retention.purge_expired" in lines
    assert all(line.startswith("unchanged: ") for line in lines)
    schedule = Schedule.objects.get(name="retention.purge_expired")
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.next_run == datetime(2026, 11, 27, 3, 17, tzinfo=UTC)
    # The scheduled function path is real: run it the way the cluster would.
    async_task(schedule.func, sync=True)
    assert not Run.objects.filter(pk=history["runs"][40].pk).exists()


def test_ensure_schedules_updates_a_changed_schedule_in_place(db):
    Schedule.objects.create(name="retention.purge_expired", func="old.path", schedule_type=Schedule.HOURLY)
    out = StringIO()
    call_command("ensure_schedules", stdout=out)
    assert "updated: retention.purge_expired" in out.getvalue()
    assert Schedule.objects.filter(name="retention.purge_expired").count() == 1
    schedule = Schedule.objects.get(name="retention.purge_expired")
    assert (schedule.func, schedule.schedule_type) == ("integrations.retention.purge_expired", Schedule.DAILY)


def test_a_purge_costs_the_same_few_statements_per_batch_of_runs(db, integration, django_assert_max_num_queries):
    from integrations.retention import purge_tenant

    exception = f.make_exception(integration)
    for n in range(12):
        run = make_run(integration, NOW - timedelta(days=400, minutes=n), run_id=f"old-{n}", logs=3)
        f.make_failure(exception, run=run, record_id=f"TE-{n}")
    # Six batches of two runs: seven statements each (a savepoint and its
    # release, pick, note exceptions, three deletes), three to find none
    # left, then the recount of the one exception (counts and money).
    with django_assert_max_num_queries(6 * 7 + 3 + 10):
        counts = purge_tenant(integration.tenant_id, NOW - timedelta(days=395), batch_size=2)
    assert counts == {"runs": 12, "logs": 36, "failures": 12, "exceptions_recounted": 1}
    assert not Run.objects.filter(integration=integration).exists()
