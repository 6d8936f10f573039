"""Requesting a replay of an exception's records, and discarding records
(contract 4.1 replay and discard)."""

import json

from django.db import transaction
from django.utils import timezone

from integrations import events
from integrations.errors import Invalid
from integrations.models import FailureState, Replay, ReplayRecord, ReplayStatus, SyncException
from integrations.replays.documents import idempotency_key
from integrations.replays.push import prepare_push
from integrations.replays.records import (
    NOT_REMEDIATED,
    active_record_keys,
    check_json,
    clean_text,
    latest_failures,
    pick_records,
    set_failure_state,
)
from integrations.replays.statuses import PATCH_LIMIT
from integrations.sync_exceptions.resolution import resolve_if_remediated
from opsconsole import audit


def request_replay(user, exception, *, records=None, reason="", patch=None):
    """Queue (or submit for approval) a replay of the exception's records.

    1. Lock the exception, so that two requests cannot take the same records.
    2. Pick the latest failure of each requested record (absent: every record
       neither remediated nor already in an unfinished replay) and check the
       patch against them.
    3. Create the replay and its records; their failures become replay_requested.
    4. Audit ``replay.request``; say it awaits approval, or push it if queued
       for a webhook integration."""
    reason = clean_text(reason, "reason")
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise Invalid({"patch": ["Expected an object of {RECORD_ID: {field: value}}."]})
    with transaction.atomic():
        exception = (
            SyncException.objects.select_for_update(of=("self",), no_key=True)
            .select_related("integration", "tenant")
            .get(pk=exception.pk)
        )
        latest = latest_failures(exception)
        keys = pick_records(
            latest,
            records,
            active_record_keys(exception),
            nothing="Nothing to replay: every record is remediated or already in a replay.",
            busy="Already in an unfinished replay",
        )
        _check_patch(patch, {k[1] for k in keys})
        now = timezone.now()
        replay = _create(user, exception, [latest[key] for key in keys], patch, reason, now)
        set_failure_state(exception.pk, keys, FailureState.REPLAY_REQUESTED, only_states=NOT_REMEDIATED)
        _audit_request(user, replay, keys, patch)
        if replay.status == ReplayStatus.PENDING_APPROVAL:
            events.replay_pending_approval(replay, len(keys))
        else:
            prepare_push(replay, now)
    return replay


def _check_patch(patch, selected_ids):
    """Every patched record is one of the replay's, patched by an object."""
    for record_id, fields in patch.items():
        if record_id not in selected_ids:
            raise Invalid({"patch": [f"Not a record of this replay: {record_id[:200]!r}."]})
        if not isinstance(fields, dict):
            raise Invalid({"patch": [f"The patch of {record_id[:200]!r} must be an object."]})
        check_json(fields, "patch")
        if len(json.dumps(fields)) > PATCH_LIMIT:
            raise Invalid({"patch": [f"The patch of {record_id[:200]!r} is over {PATCH_LIMIT // 1024} KiB of JSON."]})


def _create(user, exception, failures, patch, reason, now):
    """The replay (pending approval where the integration needs it, else
    queued) and one record per failure, carrying its payload and patch."""
    pending = exception.integration.approval_required
    replay = Replay.objects.create(
        tenant=exception.tenant,
        integration=exception.integration,
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
    ReplayRecord.objects.bulk_create(
        [
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
            for failure in failures
        ]
    )
    return replay


def _audit_request(user, replay, keys, patch):
    pending = replay.status == ReplayStatus.PENDING_APPROVAL
    audit.record(
        user,
        "replay.request",
        tenant=replay.tenant,
        obj=replay,
        summary=f"Requested a replay of {len(keys)} record(s) of exception #{replay.exception_id}"
        + (" (awaiting approval)" if pending else ""),
        data={
            "exception": replay.exception_id,
            "records": [k[1] for k in keys],
            "reason": replay.reason,
            "patched": sorted(patch),
            "status": replay.status,
        },
    )


def discard(user, exception, *, records=None, note=""):
    """Mark records discarded (remediated without a replay); the exception
    resolves itself when nothing is left. Returns the discarded record ids."""
    note = clean_text(note, "note")
    with transaction.atomic():
        exception = (
            SyncException.objects.select_for_update(of=("self",), no_key=True)
            .select_related("tenant")
            .get(pk=exception.pk)
        )
        latest = latest_failures(exception)
        keys = pick_records(
            latest,
            records,
            active_record_keys(exception),
            nothing="Nothing to discard: every record is remediated or in an unfinished replay.",
            busy="In an unfinished replay (cancel it first)",
        )
        set_failure_state(exception.pk, keys, FailureState.DISCARDED)
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
