"""The replay document (contract 4.3) and its records' idempotency keys."""

import hashlib

from opsconsole.lib.timestamps import utc_z


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
        "created_at": utc_z(replay.created_at),
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
        "decided_at": utc_z(replay.decided_at),
        "queued_at": utc_z(replay.queued_at),
        "dispatched_at": utc_z(replay.dispatched_at),
        "lease_expires_at": utc_z(replay.lease_expires_at),
        "finished_at": utc_z(replay.finished_at),
        "result": replay.result,
    }
