"""Pulled replays (contract 3.3): claims with a lease, and leases that end
without a result."""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import Replay, ReplayStatus
from integrations.replays.push import prepare_push
from integrations.replays.statuses import DEFAULT_LEASE_SECONDS
from opsconsole import audit


def expire_leases(integration=None, now=None):
    """Queue again every dispatched replay whose lease ended without a
    result, with its attempt raised by one. Returns their ids."""
    now = now or timezone.now()
    rows = Replay.objects.filter(status=ReplayStatus.DISPATCHED, lease_expires_at__lte=now)
    if integration is not None:
        rows = rows.filter(integration=integration)
    expired = []
    for replay in rows.select_related("tenant", "integration"):
        with transaction.atomic():
            # Conditional: a result or another expiry may have got there first.
            changed = Replay.objects.filter(
                pk=replay.pk, status=ReplayStatus.DISPATCHED, lease_expires_at=replay.lease_expires_at
            ).update(
                status=ReplayStatus.QUEUED,
                attempt=F("attempt") + 1,
                lease_expires_at=None,
                dispatched_to="",
                updated_at=now,
            )
            if not changed:
                continue
            audit.record(
                audit.SYSTEM,
                "replay.lease_expired",
                tenant=replay.tenant,
                obj=replay,
                summary=f"Lease of attempt {replay.attempt} ended without a result; queued again",
                data={"attempt": replay.attempt + 1, "dispatched_to": replay.dispatched_to},
            )
            prepare_push(replay, now)
        expired.append(replay.pk)
    return expired


def claim(principal, integration, lease_seconds=DEFAULT_LEASE_SECONDS):
    """Hand the oldest queued replay of ``integration`` to the caller for
    ``lease_seconds``; None when none is queued. Never hands one replay to
    two callers: PostgreSQL skips rows locked by a concurrent claim, other
    databases move the row with a conditional UPDATE and try the next
    candidate when another claim won."""
    expire_leases(integration)
    now = timezone.now()
    lease_until = now + timedelta(seconds=lease_seconds)
    changes = {
        "status": ReplayStatus.DISPATCHED,
        "dispatched_at": now,
        "lease_expires_at": lease_until,
        "dispatched_to": audit.actor_label(principal),
        "next_delivery_at": None,
        "updated_at": now,
    }
    queued = Replay.objects.filter(integration=integration, status=ReplayStatus.QUEUED).order_by(
        "queued_at", "created_at"
    )
    replay_id = None
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            replay = queued.select_for_update(skip_locked=True).first()
            if replay is not None:
                Replay.objects.filter(pk=replay.pk).update(**changes)
                replay_id = replay.pk
                _audit_claim(principal, replay, lease_seconds)
    else:
        while replay_id is None:
            candidates = list(queued.values_list("pk", flat=True)[:20])
            if not candidates:
                break
            for pk in candidates:
                with transaction.atomic():
                    if Replay.objects.filter(pk=pk, status=ReplayStatus.QUEUED).update(**changes) == 1:
                        replay_id = pk
                        _audit_claim(principal, Replay.objects.select_related("tenant").get(pk=pk), lease_seconds)
                        break
    if replay_id is None:
        return None
    return Replay.objects.select_related("tenant", "integration", "requested_by", "approved_by").get(pk=replay_id)


def _audit_claim(principal, replay, lease_seconds):
    audit.record(
        principal,
        "replay.claim",
        tenant=replay.tenant,
        obj=replay,
        summary=f"Claimed attempt {replay.attempt} for {lease_seconds} s",
        data={"attempt": replay.attempt, "lease_seconds": lease_seconds},
    )
