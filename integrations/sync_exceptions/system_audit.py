"""Audit entries of the ``system`` actor for the bulk exception writes."""

from opsconsole.models import AuditEntry, Tenant


def audit(entries, now):
    """One ``system`` audit entry per (tenant id, exception id, action,
    summary, data): per opening or resolution, never per failure."""
    if not entries:
        return
    partner_of = dict(Tenant.objects.filter(pk__in={e[0] for e in entries}).values_list("pk", "partner_id"))
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=now,
                actor="system",
                action=action,
                tenant_id=tenant_id,
                partner_id=partner_of.get(tenant_id),
                object_type="syncexception",
                object_id=str(exc_id),
                summary=summary,
                data=data,
            )
            for tenant_id, exc_id, action, summary, data in entries
        ]
    )
