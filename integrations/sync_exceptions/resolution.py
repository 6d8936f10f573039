"""Automatic resolution (contract 4.1): an exception whose records are all
remediated (replayed, recovered or discarded) resolves itself."""

from django.db import connection
from django.utils import timezone

from integrations.models import ExceptionStatus, FailureState
from integrations.sync_exceptions.system_audit import audit
from integrations.tables import EXC, FAILURE, OPENING

UNREMEDIATED_STATES = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)


def resolve_if_remediated(exception_ids, reason, *, now=None):
    """Resolve those of ``exception_ids`` that are open, acknowledged or
    ignored, have failures, and have none left in failed, replay_requested or
    replay_failed (every record replayed, recovered or discarded). Closes the
    current opening as resolved and writes a ``system`` audit entry saying
    ``reason``. Returns the ids resolved. Call inside a transaction."""
    ids = sorted({int(i) for i in exception_ids})
    if not ids:
        return []
    now = now or timezone.now()
    ts = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(ids))
    states = ", ".join(["%s"] * len(UNREMEDIATED_STATES))
    with connection.cursor() as cursor:
        # A conditional UPDATE: concurrent ingests or replays cannot slip a
        # failing record in between the check and the change.
        cursor.execute(
            f"UPDATE {EXC} SET status = %s, resolved_at = %s, due_at = NULL"  # noqa: S608 - table names, placeholders
            f" WHERE id IN ({marks}) AND status IN (%s, %s, %s)"
            f" AND EXISTS (SELECT 1 FROM {FAILURE} f WHERE f.exception_id = {EXC}.id)"
            f" AND NOT EXISTS (SELECT 1 FROM {FAILURE} f WHERE f.exception_id = {EXC}.id AND f.state IN ({states}))"
            f" RETURNING id, tenant_id, title",
            [
                ExceptionStatus.RESOLVED,
                ts(now),
                *ids,
                ExceptionStatus.OPEN,
                ExceptionStatus.ACKNOWLEDGED,
                ExceptionStatus.IGNORED,
                *UNREMEDIATED_STATES,
            ],
        )
        resolved = sorted(cursor.fetchall())
        if not resolved:
            return []
        done = [row[0] for row in resolved]
        marks = ", ".join(["%s"] * len(done))
        cursor.execute(
            f"UPDATE {OPENING} SET resolved_at = %s, acknowledged_at = COALESCE(acknowledged_at, %s)"  # noqa: S608
            f" WHERE exception_id IN ({marks}) AND closed_at IS NULL AND resolved_at IS NULL",
            [ts(now), ts(now), *done],
        )
    audit(
        [
            (tenant_id, exc_id, "exception.resolve", f"Resolved automatically: {reason}", {"reason": reason})
            for exc_id, tenant_id, _title in resolved
        ],
        now,
    )
    return done
