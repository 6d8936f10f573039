"""Retention (contract section 1): runs, their logs and their failures older
than a tenant's ``retention_days`` (by the run's started_at) are deleted daily.

Deletion goes in bounded batches, each its own transaction, so a large purge
never holds long locks. Exceptions that lose failures get their counts
recalculated from what remains. Exceptions themselves, their openings,
replays, the audit log and everything in the sla app (closed months' figures,
issued reports) are kept.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import Failure, Run, RunLog
from integrations.sync_exceptions.counts import recount
from opsconsole import audit
from opsconsole.lib.time_params import iso_z
from opsconsole.models import Tenant

BATCH_SIZE = 2000


def purge_expired(now=None, batch_size=BATCH_SIZE):
    """django-q2 task (scheduled daily by ``ensure_schedules``): purge every
    tenant, write a ``retention.purge`` audit entry for each tenant that lost
    runs, and return the totals deleted."""
    now = now or timezone.now()
    totals = {"runs": 0, "logs": 0, "failures": 0, "exceptions_recounted": 0}
    for tenant in Tenant.objects.select_related("partner").order_by("pk"):
        cutoff = now - timedelta(days=tenant.retention_days)
        result = purge_tenant(tenant.pk, cutoff, batch_size=batch_size)
        for key, value in result.items():
            totals[key] += value
        if result["runs"]:
            audit.record(
                None,
                "retention.purge",
                tenant=tenant,
                summary=(
                    f"Purged {result['runs']} runs, {result['failures']} failures and {result['logs']} log lines "
                    f"started before {cutoff:%Y-%m-%d %H:%M} UTC ({tenant.retention_days} days' retention)"
                ),
                data={**result, "cutoff": iso_z(cutoff), "retention_days": tenant.retention_days},
            )
    return totals


def purge_tenant(tenant_id, cutoff, *, batch_size=BATCH_SIZE):
    """Delete the tenant's runs that started before ``cutoff``, with their
    logs and failures.

    1. Failures of those runs, a batch at a time, noting their exceptions.
    2. Logs of those runs, a batch at a time.
    3. The runs themselves (now childless), a batch at a time.
    4. Recount the exceptions that lost failures.
    """
    old_runs = Run.objects.filter(tenant_id=tenant_id, started_at__lt=cutoff)
    counts = {"runs": 0, "logs": 0, "failures": 0, "exceptions_recounted": 0}
    affected = set()
    while True:
        with transaction.atomic():
            rows = list(
                Failure.objects.filter(run__in=old_runs.values("pk")).values_list("pk", "exception_id")[:batch_size]
            )
            if not rows:
                break
            Failure.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        affected.update(exception_id for _, exception_id in rows)
        counts["failures"] += len(rows)
    while True:
        with transaction.atomic():
            ids = list(RunLog.objects.filter(run__in=old_runs.values("pk")).values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            RunLog.objects.filter(pk__in=ids).delete()
        counts["logs"] += len(ids)
    while True:
        with transaction.atomic():
            ids = list(old_runs.order_by("started_at").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            Run.objects.filter(pk__in=ids).delete()
        counts["runs"] += len(ids)
    affected = sorted(affected)
    for i in range(0, len(affected), batch_size):
        recount(affected[i : i + batch_size])
    counts["exceptions_recounted"] = len(affected)
    return counts
