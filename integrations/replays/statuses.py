"""Replay states (contract 4.3) and lease bounds (3.3).

pending_approval -> queued -> dispatched -> succeeded | partial | failed;
rejected and cancelled from pending_approval (cancelled from queued too). A
dispatched replay whose lease ends goes back to queued, attempt + 1."""

from integrations.models import ReplayStatus

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
