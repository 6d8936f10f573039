"""The one writer of replays, their records and deliveries (contract 3.3,
3.4, 3.6, 4.1 replay and discard, 4.3), one module per job. Each write is one
named function, run in one transaction, audited, raising only
``integrations.errors``; state changes are guarded by row locks or
conditional updates whose row count is checked."""

from integrations.replays.decisions import approve, cancel, check_approver, reject
from integrations.replays.documents import idempotency_key, replay_document
from integrations.replays.leases import claim, expire_leases
from integrations.replays.push import due_replay_ids, push_replay, record_delivery
from integrations.replays.records import active_record_keys, latest_failures, replayable_records
from integrations.replays.requests import discard, request_replay
from integrations.replays.results import record_result
from integrations.replays.statuses import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    DEFAULT_LEASE_SECONDS,
    FINAL_STATUSES,
    MAX_LEASE_SECONDS,
    PATCH_LIMIT,
    RESULT_STATUSES,
)

__all__ = [
    "ACTIVE_STATUSES",
    "CANCELLABLE_STATUSES",
    "DEFAULT_LEASE_SECONDS",
    "FINAL_STATUSES",
    "MAX_LEASE_SECONDS",
    "PATCH_LIMIT",
    "RESULT_STATUSES",
    "active_record_keys",
    "approve",
    "cancel",
    "check_approver",
    "claim",
    "discard",
    "due_replay_ids",
    "expire_leases",
    "idempotency_key",
    "latest_failures",
    "replayable_records",
    "push_replay",
    "record_delivery",
    "record_result",
    "reject",
    "replay_document",
    "request_replay",
]
