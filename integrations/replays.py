"""Remediation by replays (contract 3.3, 3.4, 3.6, 4.1 replay/discard, 4.3).

Each write is one named function, run in one transaction, audited. State
changes are guarded by row locks or conditional updates whose row count is
checked, so that two callers never move the same replay twice.

Replay states: pending_approval -> queued -> dispatched -> succeeded | partial |
failed; rejected and cancelled from pending_approval (cancelled from queued
too). A dispatched replay whose lease ends goes back to queued, attempt + 1.
"""

import hashlib
import json
import uuid
from datetime import UTC, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from integrations import events
from integrations.ingest.service import resolve_if_remediated
from integrations.models import (
    REMEDIATED_STATES,
    Failure,
    FailureState,
    Replay,
    ReplayRecord,
    ReplayStatus,
    Run,
    SyncException,
)
from opsconsole import audit
from opsconsole.access import is_key
from opsconsole.errors import Conflict
from opsconsole.lib import webhooks

ACTIVE_STATUSES = (ReplayStatus.PENDING_APPROVAL, ReplayStatus.QUEUED, ReplayStatus.DISPATCHED)
CANCELLABLE_STATUSES = (ReplayStatus.PENDING_APPROVAL, ReplayStatus.QUEUED)
# A result is accepted in these states (3.4: a late answer from an earlier lease counts).
RESULT_STATUSES = (ReplayStatus.QUEUED, ReplayStatus.DISPATCHED)
FINAL_STATUSES = (
    ReplayStatus.SUCCEEDED,
    ReplayStatus.PARTIAL,
    ReplayStatus.FAILED,
    ReplayStatus.REJECTED,
    ReplayStatus.CANCELLED,
)
DEFAULT_LEASE_SECONDS = 300
# JSON characters of one record's patch. An approver reads every patch whole
# (replay_views.patch_changes), so pages stay bounded by refusing bigger ones.
PATCH_LIMIT = 64 * 1024
MAX_LEASE_SECONDS = 3600


# -- documents ---------------------------------------------------------------


def iso(value):
    """UTC with ``Z`` (contract section 8)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def idempotency_key(replay_id, entity, record_id):
    """Stable for a record across every attempt of one replay (4.3)."""
    digest = hashlib.sha256(f"{replay_id}\x1f{entity}\x1f{record_id}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def replay_document(replay, records=None):
    """The replay document of contract 4.3, plus a few extra fields."""
    if records is None:
        records = replay.records.all()
    return {
        "id": str(replay.pk),
        "tenant": replay.tenant.slug,
        "integration": replay.integration.slug,
        "exception": replay.exception_id,
        "status": replay.status,
        "attempt": replay.attempt,
        "reason": replay.reason,
        "requested_by": replay.requester_label,
        "approved_by": replay.approver_label,
        "created_at": iso(replay.created_at),
        "records": [
            {
                "entity": r.entity,
                "record_id": r.record_id,
                "operation": r.operation,
                "payload": r.payload,
                "patch": r.patch,
                "error_code": r.error_code,
                "message": r.message,
                "idempotency_key": r.idempotency_key,
            }
            for r in records
        ],
        "decision_note": replay.decision_note,
        "decided_at": iso(replay.decided_at),
        "queued_at": iso(replay.queued_at),
        "dispatched_at": iso(replay.dispatched_at),
        "lease_expires_at": iso(replay.lease_expires_at),
        "finished_at": iso(replay.finished_at),
        "result": replay.result,
    }


# -- records of an exception ---------------------------------------------------


def latest_failures(exception):
    """The latest failure per (entity, record_id) of ``exception``: what a
    replay or a discard acts on. A record's state is its latest failure's."""
    latest = {}
    rows = Failure.objects.filter(exception=exception).order_by("entity", "record_id", "-occurred_at", "-id")
    for failure in rows:
        latest.setdefault((failure.entity, failure.record_id), failure)
    return latest


def _records_q(keys):
    by_entity = {}
    for entity, record_id in keys:
        by_entity.setdefault(entity, []).append(record_id)
    q = Q()
    for entity, record_ids in by_entity.items():
        q |= Q(entity=entity, record_id__in=record_ids)
    return q


def active_record_keys(exception, keys=None):
    """(entity, record_id) of records already in an unfinished replay
    (among ``keys`` when given)."""
    rows = ReplayRecord.objects.filter(replay__exception=exception, replay__status__in=ACTIVE_STATUSES)
    if keys is not None:
        if not keys:
            return set()
        rows = rows.filter(_records_q(keys))
    return set(rows.values_list("entity", "record_id"))


def replayable_records(exception, search=""):
    """(entity, record_id) rows of the records of ``exception`` that a replay
    would take now (failed or replay failed: a record's failures share its
    state), by record id, optionally those whose id contains ``search``: what
    the record picker pages through, in the database."""
    rows = Failure.objects.filter(exception=exception, state__in=(FailureState.FAILED, FailureState.REPLAY_FAILED))
    if search:
        rows = rows.filter(record_id__icontains=search)
    return rows.values("entity", "record_id").distinct().order_by("record_id", "entity")


def _set_failure_state(exception_id, keys, state, only_states=None):
    """Set ``state`` on every failure of these records of the exception."""
    by_entity = {}
    for entity, record_id in keys:
        by_entity.setdefault(entity, []).append(record_id)
    for entity, record_ids in by_entity.items():
        rows = Failure.objects.filter(exception_id=exception_id, entity=entity, record_id__in=record_ids)
        if only_states is not None:
            rows = rows.filter(state__in=only_states)
        rows.update(state=state)


def _pick_records(latest, records, active, *, nothing, busy):
    """The (entity, record_id) keys a replay or a discard acts on: the named
    ``records``, or (None) every record not remediated nor in an unfinished
    replay. 409 with ``nothing`` when none is left, or with ``busy`` naming
    the named records that are in an unfinished replay."""
    if records is None:
        keys = [k for k, f in latest.items() if f.state not in REMEDIATED_STATES and k not in active]
        if not keys:
            raise Conflict(nothing)
        return keys
    keys = _select_records(latest, records)
    if not keys:
        raise ValidationError({"records": ["Name at least one record, or leave records out for all."]})
    taken = [k[1] for k in keys if k in active]
    if taken:
        raise Conflict(f"{busy}: {', '.join(repr(b[:200]) for b in taken[:20])}.")
    return keys


def _select_records(latest, requested, field="records"):
    """Map requested RECORD_IDs to (entity, record_id) keys of ``latest``.
    A record id shared by several entities selects each of them."""
    if not isinstance(requested, list):
        raise ValidationError({field: ["Expected a list of record ids."]})
    by_id = {}
    for key in latest:
        by_id.setdefault(key[1], []).append(key)
    # A dict keeps the order of the request and finds a repeated id in
    # constant time: 10,000 records are selected in linear time.
    selected, unknown = {}, []
    for item in requested:
        if not isinstance(item, str) or not item:
            raise ValidationError({field: ["Each record id must be a non-empty string."]})
        if item not in by_id:
            unknown.append(item)
            continue
        for key in by_id[item]:
            selected.setdefault(key, None)
    if unknown:
        names = ", ".join(repr(u[:200]) for u in unknown[:20])
        raise ValidationError({field: [f"Not a record of this exception: {names}."]})
    return list(selected)


def _clean_text(value, field, limit=10_000):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: ["Expected a string."]})
    if "\x00" in value:
        raise ValidationError({field: ["Null characters are not allowed."]})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError({field: ["Unpaired surrogates are not allowed."]}) from None
    if len(value) > limit:
        raise ValidationError({field: [f"Ensure this field has no more than {limit} characters."]})
    return value


def _check_json(value, path):
    """No NUL and no unpaired surrogate anywhere in a JSON value (contract 3.1)."""
    if isinstance(value, str):
        _clean_text(value, path, limit=1_000_000)
    elif isinstance(value, dict):
        for k, v in value.items():
            _clean_text(k, path, limit=1000)
            _check_json(v, path)
    elif isinstance(value, list):
        for v in value:
            _check_json(v, path)


# -- requesting ----------------------------------------------------------------


def request_replay(user, exception, *, records=None, reason="", patch=None):
    """Queue (or submit for approval) a replay of the exception's records.

    1. Lock the exception, so that two requests cannot take the same records.
    2. Pick the latest failure of each requested record (absent: every record
       neither remediated nor already in an unfinished replay).
    3. Create the replay and its records; their failures become replay_requested.
    4. Audit ``replay.request``; push it if queued for a webhook integration."""
    reason = _clean_text(reason, "reason")
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise ValidationError({"patch": ["Expected an object of {RECORD_ID: {field: value}}."]})
    with transaction.atomic():
        exception = (
            SyncException.objects.select_for_update(of=("self",))
            .select_related("integration", "tenant")
            .get(pk=exception.pk)
        )
        integration = exception.integration
        latest = latest_failures(exception)
        keys = _pick_records(
            latest,
            records,
            active_record_keys(exception),
            nothing="Nothing to replay: every record is remediated or already in a replay.",
            busy="Already in an unfinished replay",
        )
        selected_ids = {k[1] for k in keys}
        for record_id, fields in patch.items():
            if record_id not in selected_ids:
                raise ValidationError({"patch": [f"Not a record of this replay: {record_id[:200]!r}."]})
            if not isinstance(fields, dict):
                raise ValidationError({"patch": [f"The patch of {record_id[:200]!r} must be an object."]})
            _check_json(fields, "patch")
            if len(json.dumps(fields)) > PATCH_LIMIT:
                raise ValidationError(
                    {"patch": [f"The patch of {record_id[:200]!r} is over {PATCH_LIMIT // 1024} KiB of JSON."]}
                )
        now = timezone.now()
        pending = integration.approval_required
        replay = Replay.objects.create(
            tenant=exception.tenant,
            integration=integration,
            exception=exception,
            status=ReplayStatus.PENDING_APPROVAL if pending else ReplayStatus.QUEUED,
            reason=reason,
            requested_by=user,
            requester_email=(user.email or "").strip().lower(),
            requester_user_id=user.pk,
            created_at=now,
            updated_at=now,
            queued_at=None if pending else now,
        )
        rows = []
        for key in keys:
            failure = latest[key]
            rows.append(
                ReplayRecord(
                    replay=replay,
                    entity=failure.entity,
                    record_id=failure.record_id,
                    operation=failure.operation,
                    payload=failure.payload,
                    patch=patch.get(failure.record_id) or None,
                    error_code=failure.error_code,
                    message=failure.message,
                    idempotency_key=idempotency_key(replay.pk, failure.entity, failure.record_id),
                )
            )
        ReplayRecord.objects.bulk_create(rows)
        _set_failure_state(exception.pk, keys, FailureState.REPLAY_REQUESTED, only_states=_NOT_REMEDIATED)
        audit.record(
            user,
            "replay.request",
            tenant=exception.tenant,
            obj=replay,
            summary=f"Requested a replay of {len(keys)} record(s) of exception #{exception.pk}"
            + (" (awaiting approval)" if pending else ""),
            data={
                "exception": exception.pk,
                "records": [k[1] for k in keys],
                "reason": reason,
                "patched": sorted(patch),
                "status": replay.status,
            },
        )
        if pending:
            events.replay_pending_approval(replay, len(keys))
        else:
            _prepare_push(replay, now)
    return replay


_NOT_REMEDIATED = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)


def _prepare_push(replay, now):
    """For a webhook integration: a new delivery id, due now, and a task to
    deliver it once the transaction commits (the periodic sweep catches it
    otherwise)."""
    if not replay.integration.replay_webhook_url:
        return
    Replay.objects.filter(pk=replay.pk).update(
        delivery_id=uuid.uuid4(), delivery_attempts=0, next_delivery_at=now, updated_at=now
    )
    replay_id = str(replay.pk)
    transaction.on_commit(lambda: _enqueue_delivery(replay_id))


def _enqueue_delivery(replay_id):
    from django_q.tasks import async_task

    async_task("integrations.tasks.deliver_replay", replay_id, task_name=f"deliver-replay-{replay_id}"[:100])


# -- approving, rejecting, cancelling -------------------------------------------


def _locked(replay):
    return Replay.objects.select_for_update(of=("self",)).select_related("tenant", "integration").get(pk=replay.pk)


def check_approver(user, replay):
    from opsconsole.roles import Perm, can

    if is_key(user) or not can(user, Perm.APPROVE):
        raise PermissionDenied("Your role does not allow approving or rejecting replays.")
    if replay.is_requested_by(user):
        raise PermissionDenied("Nobody approves or rejects a replay they requested.")


def approve(user, replay, note=""):
    """Queue a replay pending approval (and push it where the integration has
    a webhook)."""
    return _decide(user, replay, note, approved=True)


def reject(user, replay, note=""):
    """Close a replay pending approval; its records go back to failed."""
    return _decide(user, replay, note, approved=False)


def _decide(user, replay, note, *, approved):
    note = _clean_text(note, "note")
    check_approver(user, replay)
    verb = "approved" if approved else "rejected"
    with transaction.atomic():
        replay = _locked(replay)
        if replay.status != ReplayStatus.PENDING_APPROVAL:
            raise Conflict(f"Only a replay pending approval can be {verb}; this one is {replay.status}.")
        now = timezone.now()
        replay.approved_by = user if approved else None
        replay.approver_email = (user.email or "").strip().lower() if approved else ""
        replay.decided_at = now
        replay.decision_note = note
        replay.updated_at = now
        if approved:
            replay.status = ReplayStatus.QUEUED
            replay.queued_at = now
            stamp = "queued_at"
        else:
            replay.status = ReplayStatus.REJECTED
            replay.finished_at = now
            stamp = "finished_at"
        replay.save(
            update_fields=[
                "status",
                "approved_by",
                "approver_email",
                "decided_at",
                "decision_note",
                stamp,
                "updated_at",
            ]
        )
        if not approved:
            _release_records(replay)
        audit.record(
            user,
            "replay.approve" if approved else "replay.reject",
            tenant=replay.tenant,
            obj=replay,
            summary=f"{verb.capitalize()} replay of exception #{replay.exception_id}",
            data={"note": note, "exception": replay.exception_id},
        )
        if approved:
            _prepare_push(replay, now)
    return replay


def _release_records(replay):
    """Records of a replay that will not run go back to failed."""
    keys = list(replay.records.values_list("entity", "record_id"))
    _set_failure_state(replay.exception_id, keys, FailureState.FAILED, only_states=[FailureState.REPLAY_REQUESTED])


def cancel(user, replay, note=""):
    from opsconsole.roles import Perm, can

    note = _clean_text(note, "note")
    if is_key(user) or not can(user, Perm.ACT):
        raise PermissionDenied("Your role does not allow cancelling replays.")
    with transaction.atomic():
        replay = _locked(replay)
        if replay.status not in CANCELLABLE_STATUSES:
            raise Conflict(f"Only a replay not yet dispatched can be cancelled; this one is {replay.status}.")
        now = timezone.now()
        replay.status = ReplayStatus.CANCELLED
        replay.decision_note = note or replay.decision_note
        replay.finished_at = now
        replay.next_delivery_at = None
        replay.updated_at = now
        replay.save(update_fields=["status", "decision_note", "finished_at", "next_delivery_at", "updated_at"])
        _release_records(replay)
        audit.record(
            user,
            "replay.cancel",
            tenant=replay.tenant,
            obj=replay,
            summary=f"Cancelled replay of exception #{replay.exception_id}",
            data={"note": note, "exception": replay.exception_id},
        )
    return replay


# -- discarding -----------------------------------------------------------------


def discard(user, exception, *, records=None, note=""):
    """Mark records discarded (remediated without a replay); the exception
    resolves itself when nothing is left. Returns the discarded record ids."""
    note = _clean_text(note, "note")
    with transaction.atomic():
        exception = SyncException.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=exception.pk)
        latest = latest_failures(exception)
        keys = _pick_records(
            latest,
            records,
            active_record_keys(exception),
            nothing="Nothing to discard: every record is remediated or in an unfinished replay.",
            busy="In an unfinished replay (cancel it first)",
        )
        _set_failure_state(exception.pk, keys, FailureState.DISCARDED)
        audit.record(
            user,
            "exception.discard",
            tenant=exception.tenant,
            obj=exception,
            summary=f"Discarded {len(keys)} record(s)",
            data={"records": [k[1] for k in keys], "note": note},
        )
        resolve_if_remediated(
            [exception.pk], f"every record is remediated (records discarded by {audit.actor_label(user)})"
        )
    return [k[1] for k in keys]


# -- leases and claims (3.3) -----------------------------------------------------


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
            _prepare_push(replay, now)
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


# -- push deliveries (3.6) -------------------------------------------------------


def record_delivery(row, outcome):
    """Store the outcome of one delivery attempt (``row``, a Delivery written
    before the POST) and move the replay on (see delivery.push_replay)."""
    now = timezone.now()
    url = row.url
    delivery_id, attempt = row.delivery_id, row.attempt
    with transaction.atomic():
        replay = (
            Replay.objects.select_for_update(of=("self",)).select_related("integration", "tenant").get(pk=row.replay_id)
        )
        row.status_code = outcome.status_code
        row.duration_ms = outcome.duration_ms
        row.error = outcome.error
        row.succeeded = outcome.ok
        row.save(update_fields=["status_code", "duration_ms", "error", "succeeded"])
        # The replay moved on meanwhile (cancelled, result posted, another
        # dispatch): the attempt is kept, the state is left alone.
        if replay.status != ReplayStatus.QUEUED or replay.delivery_id != delivery_id:
            return row
        if outcome.ok:
            lease = replay.integration.replay_webhook_lease_seconds or 3600
            replay.status = ReplayStatus.DISPATCHED
            replay.dispatched_at = now
            replay.lease_expires_at = now + timedelta(seconds=lease)
            replay.dispatched_to = url[:320]
            replay.next_delivery_at = None
            replay.updated_at = now
            replay.save(
                update_fields=[
                    "status",
                    "dispatched_at",
                    "lease_expires_at",
                    "dispatched_to",
                    "next_delivery_at",
                    "updated_at",
                ]
            )
            audit.record(
                audit.SYSTEM,
                "replay.dispatch",
                tenant=replay.tenant,
                obj=replay,
                summary=f"Delivered to the webhook (HTTP {outcome.status_code}); leased for {lease} s",
                data={"delivery": str(delivery_id), "try": attempt, "status_code": outcome.status_code},
            )
            return row
        delays = webhooks.backoff_delays()
        if replay.delivery_attempts <= len(delays):
            delay = delays[replay.delivery_attempts - 1]
            replay.next_delivery_at = now + timedelta(seconds=delay)
            replay.updated_at = now
            replay.save(update_fields=["next_delivery_at", "updated_at"])
            when, rid, n = replay.next_delivery_at, str(replay.pk), replay.delivery_attempts
            transaction.on_commit(lambda: _schedule_retry(rid, n, when))
            return row
        _fail(replay, now, f"Webhook delivery failed after {replay.delivery_attempts} tries: {outcome.error}")
    return row


def _schedule_retry(replay_id, tries, when):
    """A one-off django-q2 schedule for the next try; the periodic sweep
    (tasks.replay_housekeeping) delivers it too if this one is lost."""
    from django_q.models import Schedule

    name = f"replay-{replay_id}-try-{tries + 1}"
    Schedule.objects.get_or_create(
        name=name,
        defaults={
            "func": "integrations.tasks.deliver_replay",
            "args": repr((replay_id,)),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": when,
        },
    )


def _fail(replay, now, message):
    replay.status = ReplayStatus.FAILED
    replay.finished_at = now
    replay.next_delivery_at = None
    replay.lease_expires_at = None
    replay.updated_at = now
    replay.save(update_fields=["status", "finished_at", "next_delivery_at", "lease_expires_at", "updated_at"])
    keys = list(replay.records.values_list("entity", "record_id"))
    replay.records.update(state=ReplayRecord.State.FAILED, result_message=message[:2000])
    _set_failure_state(replay.exception_id, keys, FailureState.REPLAY_FAILED, only_states=_NOT_REMEDIATED)
    audit.record(audit.SYSTEM, "replay.fail", tenant=replay.tenant, obj=replay, summary=message[:1000])
    events.replay_failed(replay, message)


# -- results (3.4) ---------------------------------------------------------------


def record_result(principal, replay, result):
    """Apply a worker's outcome. ``result`` is the validated document
    ``{"status", "run_id", "records": [{"entity", "record_id", "status", "message"}]}``.
    Returns (replay, changed)."""
    with transaction.atomic():
        replay = (
            Replay.objects.select_for_update(of=("self",)).select_related("tenant", "integration").get(pk=replay.pk)
        )
        if replay.status not in RESULT_STATUSES:
            if replay.result is not None and replay.result == result:
                return replay, False
            raise Conflict(f"This replay is {replay.status}; it no longer takes a result.")
        records = {(r.entity, r.record_id): r for r in replay.records.all()}
        errors = {}
        for index, item in enumerate(result["records"]):
            if (item["entity"], item["record_id"]) not in records:
                errors[str(index)] = {
                    "record_id": [f"{item['record_id'][:200]!r} ({item['entity'][:200]}) is not in this replay."]
                }
        if errors:
            raise ValidationError({"records": errors})
        outcome = {key: None for key in records}
        for item in result["records"]:
            outcome[(item["entity"], item["record_id"])] = item
        default = {"succeeded": "succeeded", "failed": "failed"}.get(result["status"], "failed")
        now = timezone.now()
        succeeded, failed = [], []
        for key, record in records.items():
            item = outcome[key]
            state = item["status"] if item else default
            record.state = ReplayRecord.State.SUCCEEDED if state == "succeeded" else ReplayRecord.State.FAILED
            record.result_message = (item or {}).get("message") or ""
            (succeeded if state == "succeeded" else failed).append(key)
        ReplayRecord.objects.bulk_update(records.values(), ["state", "result_message"])
        _set_failure_state(replay.exception_id, succeeded, FailureState.REPLAYED)
        _set_failure_state(replay.exception_id, failed, FailureState.REPLAY_FAILED, only_states=_NOT_REMEDIATED)
        replay.status = result["status"]
        replay.result = result
        replay.finished_at = now
        replay.lease_expires_at = None
        replay.next_delivery_at = None
        replay.updated_at = now
        replay.save(
            update_fields=["status", "result", "finished_at", "lease_expires_at", "next_delivery_at", "updated_at"]
        )
        if result.get("run_id"):
            Run.objects.filter(integration=replay.integration, run_id=result["run_id"], replay__isnull=True).update(
                replay=replay
            )
        audit.record(
            principal,
            "replay.result",
            tenant=replay.tenant,
            obj=replay,
            summary=f"Replay {result['status']}: {len(succeeded)} record(s) succeeded, {len(failed)} failed",
            data={
                "status": result["status"],
                "run_id": result.get("run_id"),
                "attempt": replay.attempt,
                "succeeded": [k[1] for k in succeeded],
                "failed": [k[1] for k in failed],
            },
        )
        if succeeded:
            resolve_if_remediated(
                [replay.exception_id], f"every record is remediated (replay {replay.pk} {result['status']})"
            )
    return replay, True
