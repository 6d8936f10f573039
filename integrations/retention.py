"""Retention (contract section 1): runs, their logs and their failures older
than a tenant's ``retention_days`` (by the run's started_at) are deleted daily.

Deletion goes in bounded batches, each its own transaction, so a large purge
never holds long locks. Exceptions that lose failures get their counts
recalculated from what remains. Exceptions themselves, their openings,
replays, the audit log and everything in the sla app (closed months' figures,
issued reports) are kept.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from integrations.sync_exceptions.counts import recount
from integrations.tables import FAILURE, LOG, RUN, in_
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
    logs and failures, oldest first, ``batch_size`` runs to a transaction:

    1. pick the batch's runs by the (tenant, started_at) index, locked where
       the database can lock rows (a re-post of one of them waits, then
       finds it gone and stores it anew);
    2. delete their failures, noting the exceptions they belonged to, their
       log lines and the runs themselves, each by the run ids (the unique
       keys on (run, ...) serve those lookups);
    3. at the end, recount the exceptions that lost failures (counts, open
       amount and book close, by the exceptions writer).

    Plain statements rather than the ORM's delete: nothing else points at a
    run, so collecting related objects per batch only cost time (at 20
    million runs, ten times this function's speed).
    """
    ts = connection.ops.adapt_datetimefield_value
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    counts = {"runs": 0, "logs": 0, "failures": 0, "exceptions_recounted": 0}
    affected = set()
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {RUN} WHERE tenant_id = %s AND started_at < %s "  # noqa: S608
                f"ORDER BY started_at LIMIT %s{lock}",
                [tenant_id, ts(cutoff), batch_size],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            run_in, params = in_("run_id", ids, "bigint")
            cursor.execute(f"SELECT DISTINCT exception_id FROM {FAILURE} WHERE {run_in}", params)  # noqa: S608
            affected.update(row[0] for row in cursor.fetchall())
            cursor.execute(f"DELETE FROM {FAILURE} WHERE {run_in}", params)  # noqa: S608
            counts["failures"] += cursor.rowcount
            cursor.execute(f"DELETE FROM {LOG} WHERE {run_in}", params)  # noqa: S608
            counts["logs"] += cursor.rowcount
            id_in, params = in_("id", ids, "bigint")
            cursor.execute(f"DELETE FROM {RUN} WHERE {id_in}", params)  # noqa: S608
            counts["runs"] += cursor.rowcount
    affected = sorted(affected)
    for i in range(0, len(affected), batch_size):
        recount(affected[i : i + batch_size])
    counts["exceptions_recounted"] = len(affected)
    return counts
