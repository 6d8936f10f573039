"""A worker's outcome of a replay (contract 3.4)."""

from django.db import transaction
from django.utils import timezone

from integrations.errors import Conflict, Invalid
from integrations.ingest.writes import link_replay_run
from integrations.models import FailureState, Replay, ReplayRecord
from integrations.replays.records import NOT_REMEDIATED, set_failure_state
from integrations.replays.statuses import RESULT_STATUSES
from integrations.sync_exceptions.resolution import resolve_if_remediated
from opsconsole import audit


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
            raise Invalid({"records": errors})
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
        set_failure_state(replay.exception_id, succeeded, FailureState.REPLAYED)
        set_failure_state(replay.exception_id, failed, FailureState.REPLAY_FAILED, only_states=NOT_REMEDIATED)
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
            link_replay_run(replay, result["run_id"])
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
