"""Writing to the append-only audit log (contract 4.2)."""

from opsconsole.models import AuditEntry

SYSTEM = "system"


def actor_label(actor):
    """The audit ``actor`` string: a user's e-mail, ``key:<name>`` for an API
    key, or ``system`` (None or the string "system")."""
    if actor is None or actor == SYSTEM:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    label = getattr(actor, "actor_label", None)
    return label if label else SYSTEM


def record(actor, action, *, tenant=None, partner=None, obj=None, summary="", data=None, at=None):
    """Append one entry. ``obj`` gives object_type and object_id."""
    entry = AuditEntry(
        actor=actor_label(actor),
        action=action,
        tenant=tenant,
        partner=partner if partner is not None else getattr(tenant, "partner", None),
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary,
        data=data or {},
    )
    if at is not None:
        entry.at = at
    entry.save()
    return entry
