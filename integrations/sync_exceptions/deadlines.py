"""``due_at``: the next SLA deadline an exception stores, so the inbox can
order by it (contract 4.1). The value comes from the SLA clock
(``sla.clock.next_deadline``); this is the one place that writes it in bulk
(ingest writes it as it opens exceptions, staff actions as they move them)."""

from django.db import connection, transaction
from django.db.models import Q

from integrations.models import OPEN_STATUSES, SyncException
from integrations.sync_exceptions import money
from opsconsole.models import Tenant
from sla.clock import TenantClocks, next_deadline

REFRESH_CHUNK = 2000


def refresh_due(exception_ids) -> int:
    """Recompute ``due_at`` of ``exception_ids`` from their state, their
    tenant's objectives and business hours; returns the number of rows
    changed. Per chunk of 2,000 ids a constant number of queries: the
    exceptions (locked, in id order, inside a transaction), their tenants,
    the objectives of those tenants, and one UPDATE of the rows whose value
    changed."""
    ids = sorted({int(pk) for pk in exception_ids})
    changed = 0
    clocks = TenantClocks()
    tenants: dict[int, object] = {}
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        with transaction.atomic():
            rows = list(
                SyncException.objects.select_for_update(no_key=True)
                .filter(pk__in=chunk)
                .order_by("pk")
                .only("pk", "tenant_id", "status", "priority", "opened_at", "acknowledged_at", "resolved_at", "due_at")
            )
            wanted = {r.tenant_id for r in rows} - set(tenants)
            if wanted:
                tenants.update((t.pk, t) for t in Tenant.objects.filter(pk__in=wanted))
            clocks.load(tenants[pk] for pk in {r.tenant_id for r in rows})
            stale = []
            for row in rows:
                due = next_deadline(row, clocks, tenants[row.tenant_id])
                if due != row.due_at:
                    row.due_at = due
                    stale.append(row)
            if stale:
                _write_due(SyncException._meta.db_table, stale)
            changed += len(stale)
    return changed


def _write_due(table, rows):
    """One ``UPDATE … SET due_at = CASE id …`` for ``rows`` (a chunk): much
    cheaper to build than ``bulk_update``'s expressions."""
    ts = connection.ops.adapt_datetimefield_value
    # Typed, so that a CASE of NULLs alone is still a timestamp on PostgreSQL.
    then = "%s::timestamptz" if connection.vendor == "postgresql" else "%s"
    params = []
    for row in rows:
        params += [row.pk, ts(row.due_at) if row.due_at else None]
    params += [row.pk for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET due_at = (CASE id {' '.join([f'WHEN %s THEN {then}'] * len(rows))} END)"  # noqa: S608
            f" WHERE id IN ({', '.join(['%s'] * len(rows))})",
            params,
        )


def refresh_due_of_tenants(tenant_ids) -> int:
    """:func:`refresh_due` for every open or acknowledged exception of
    ``tenant_ids`` (after their plan, objectives or business hours changed),
    and for any closed one still holding a deadline."""
    tenant_ids = list(tenant_ids)
    if not tenant_ids:
        return 0
    ids = SyncException.objects.filter(
        Q(status__in=OPEN_STATUSES) | Q(due_at__isnull=False), tenant_id__in=tenant_ids
    ).values_list("pk", flat=True)
    changed = refresh_due(list(ids))
    # A calendar, zone or close that changed moves book-close deadlines too.
    money.refresh_of_tenants(tenant_ids)
    return changed
