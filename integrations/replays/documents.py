"""The replay document (contract 4.3) and its records' idempotency keys."""

import hashlib
from datetime import UTC


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
