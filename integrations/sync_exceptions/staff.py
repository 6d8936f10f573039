"""Staff actions on an exception (contract 4.1): acknowledge, assign,
comment, resolve, ignore and reopen (``at`` dates an action in the past, for
the demo's history). Each is one transaction that locks the
exception row, checks the transition, updates the exception and its current
opening (what the acknowledge and resolve objectives count, contract 4.4) and
writes the audit log. The API and the HTML pages both call these.

States: open -> acknowledged -> resolved; ignored from open or acknowledged;
resolved or ignored -> open again by ``reopen`` (a new opening, not a
regression). Anything else raises :class:`integrations.errors.IllegalTransition`
(the API answers 409).
"""

from django.db import transaction
from django.utils import timezone

from integrations.errors import IllegalTransition, InvalidAssignee
from integrations.models import (
    OPEN_STATUSES,
    Comment,
    ExceptionOpening,
    ExceptionStatus,
    SyncException,
)
from opsconsole import audit
from opsconsole.lib.time_params import iso_z
from opsconsole.models import User
from opsconsole.roles import PARTNER_WIDE
from sla.clock import TenantClocks, next_deadline

MAX_NOTE = 10_000
AUDIT_NOTE = 500  # the audit summary quotes the start of a note; its data keeps it whole


def _lock(exception):
    return (
        SyncException.objects.select_for_update(no_key=True)
        .select_related("tenant", "tenant__partner")
        .get(pk=exception.pk)
    )


def current_opening(exception, now=None):
    """The opening the exception is in (the latest); one is created from the
    exception's own fields when it has none yet."""
    opening = exception.openings.filter(closed_at__isnull=True).order_by("-opened_at", "-id").first()
    if opening is None:
        opening = ExceptionOpening.objects.create(
            exception=exception,
            tenant_id=exception.tenant_id,
            priority=exception.priority,
            opened_at=exception.opened_at,
            regressed=exception.regressed,
            acknowledged_at=exception.acknowledged_at,
            resolved_at=exception.resolved_at,
        )
    return opening


def _record(actor, action, exception, summary, data=None, at=None):
    audit.record(
        actor,
        f"exception.{action}",
        tenant=exception.tenant,
        obj=exception,
        summary=summary,
        data={"exception": exception.pk, "status": exception.status, **(data or {})},
        at=at,
    )


def _short(text):
    return text if len(text) <= AUDIT_NOTE else text[:AUDIT_NOTE] + "…"


def acknowledge(exception, actor, *, at=None):
    now = at or timezone.now()
    with transaction.atomic():
        exc = _lock(exception)
        if exc.status != ExceptionStatus.OPEN:
            raise IllegalTransition(f"Only an open exception can be acknowledged; this one is {exc.status}.")
        exc.status = ExceptionStatus.ACKNOWLEDGED
        exc.acknowledged_at = now
        exc.due_at = next_deadline(exc, TenantClocks())  # now the resolve deadline
        exc.save(update_fields=["status", "acknowledged_at", "due_at"])
        opening = current_opening(exc)
        if opening.acknowledged_at is None:
            opening.acknowledged_at = now
            opening.save(update_fields=["acknowledged_at"])
        _record(actor, "acknowledge", exc, f"Acknowledged #{exc.pk}", at=at)
    return exc


def assign(exception, actor, assignee_email, *, at=None):
    """``assignee_email`` None unassigns. The assignee must be an active
    partner-wide user (admin, manager, support) of the exception's partner."""
    with transaction.atomic():
        exc = _lock(exception)
        assignee = None
        if assignee_email:
            assignee = User.objects.filter(
                email__iexact=assignee_email.strip(),
                partner_id=exc.tenant.partner_id,
                role__in=PARTNER_WIDE,
                is_active=True,
            ).first()
            if assignee is None:
                raise InvalidAssignee(f"'{assignee_email}' is not a staff user of this partner.")
        previous = exc.assignee.email if exc.assignee_id else None
        exc.assignee = assignee
        exc.save(update_fields=["assignee"])
        new = assignee.email if assignee else None
        summary = f"Assigned #{exc.pk} to {new}" if new else f"Unassigned #{exc.pk}"
        _record(actor, "assign", exc, summary, {"assignee": new, "previous": previous}, at=at)
    return exc


def comment(exception, actor, body, *, at=None):
    now = at or timezone.now()
    with transaction.atomic():
        exc = _lock(exception)
        note = Comment.objects.create(exception=exc, author=actor, body=body, created=now)
        _record(actor, "comment", exc, _short(body), {"comment": note.pk}, at=at)
    return note


def resolve(exception, actor, note="", *, at=None):
    now = at or timezone.now()
    with transaction.atomic():
        exc = _lock(exception)
        if exc.status == ExceptionStatus.RESOLVED:
            raise IllegalTransition("This exception is already resolved.")
        exc.status = ExceptionStatus.RESOLVED
        exc.resolved_at = now
        exc.ignored_until = None
        exc.due_at = None  # no clock runs once resolved
        fields = ["status", "resolved_at", "ignored_until", "due_at"]
        if exc.acknowledged_at is None or exc.acknowledged_at < exc.opened_at:
            exc.acknowledged_at = now  # resolving also acknowledges
            fields.append("acknowledged_at")
        exc.save(update_fields=fields)
        opening = current_opening(exc)
        opening.acknowledged_at = opening.acknowledged_at or now
        opening.resolved_at = now
        opening.save(update_fields=["acknowledged_at", "resolved_at"])
        summary = f"Resolved #{exc.pk}" + (f": {_short(note)}" if note else "")
        _record(actor, "resolve", exc, summary, {"note": note}, at=at)
    return exc


def ignore(exception, actor, note="", until=None, *, at=None):
    now = at or timezone.now()
    with transaction.atomic():
        exc = _lock(exception)
        if exc.status not in OPEN_STATUSES:
            raise IllegalTransition(f"Only an open or acknowledged exception can be ignored; this one is {exc.status}.")
        exc.status = ExceptionStatus.IGNORED
        exc.ignored_until = until
        exc.due_at = None  # ignored openings are left out of the objectives
        fields = ["status", "ignored_until", "due_at"]
        if exc.acknowledged_at is None or exc.acknowledged_at < exc.opened_at:
            exc.acknowledged_at = now  # ignoring also acknowledges
            fields.append("acknowledged_at")
        exc.save(update_fields=fields)
        opening = current_opening(exc)
        opening.acknowledged_at = opening.acknowledged_at or now
        opening.ignored_at = now
        opening.save(update_fields=["acknowledged_at", "ignored_at"])
        when = f" until {iso_z(until)}" if until else ""
        _record(
            actor,
            "ignore",
            exc,
            f"Ignored #{exc.pk}{when}" + (f": {_short(note)}" if note else ""),
            {"note": note, "until": iso_z(until)},
            at=at,
        )
    return exc


def reopen(exception, actor, note=""):
    """A staff reopening starts a new opening (not a regression)."""
    now = timezone.now()
    with transaction.atomic():
        exc = _lock(exception)
        if exc.status in OPEN_STATUSES:
            raise IllegalTransition(f"Only a resolved or ignored exception can be reopened; this one is {exc.status}.")
        current_opening(exc)
        exc.openings.filter(closed_at__isnull=True).update(closed_at=now)
        previous = exc.status
        exc.status = ExceptionStatus.OPEN
        exc.opened_at = now
        exc.acknowledged_at = None
        exc.resolved_at = None
        exc.ignored_until = None
        exc.regressed = False
        exc.due_at = next_deadline(exc, TenantClocks())  # a new opening: a new acknowledge deadline
        exc.save(
            update_fields=[
                "status",
                "opened_at",
                "acknowledged_at",
                "resolved_at",
                "ignored_until",
                "regressed",
                "due_at",
            ]
        )
        ExceptionOpening.objects.create(
            exception=exc, tenant_id=exc.tenant_id, priority=exc.priority, opened_at=now, regressed=False
        )
        summary = f"Reopened #{exc.pk} (was {previous})" + (f": {_short(note)}" if note else "")
        _record(actor, "reopen", exc, summary, {"previous": previous, "note": note})
    return exc
