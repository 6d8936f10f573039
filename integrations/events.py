"""Something happened: the one place writers say so (contract section 6).

Each function below is called by name from the writer that made the change,
inside its transaction, so a reader of the writer sees who hears of it and a
reader of this file sees every happening there is:

======================================  ==========================================
function                                called by
======================================  ==========================================
``runs_stored(tenant_id, run_pks)``     ``integrations.ingest.service`` (after the
                                        SLA rollups of those runs are rebuilt)
``exceptions_opened(tenant_id, ids)``   ingest: new exceptions
``exceptions_regressed(tenant_id, ids)``ingest: resolved exceptions reopened by a
                                        new failure (``regressed``)
``exceptions_reopened(tenant_id, ids)`` ingest: ignored exceptions whose ``until``
                                        had passed (not a regression, 4.1)
``replay_pending_approval(replay, n)``  ``integrations.replays.request_replay``
``replay_failed(replay, message)``      ``integrations.replays`` (last push try)
======================================  ==========================================

Alerts (and reports) act here. Work that must not speak of something rolled
back belongs in ``transaction.on_commit``; work that must be atomic with the
change (a row of its own) can run right here. Ingest passes ids in bulk so its
statement count stays constant in the number of runs: keep it that way.
"""

import logging

from opsconsole import audit

logger = logging.getLogger(__name__)


def runs_stored(tenant_id, run_pks):
    """Runs were created or updated by ingest (their rollups are current)."""
    logger.debug("runs stored: tenant %s, runs %s", tenant_id, run_pks)


def exceptions_opened(tenant_id, exception_ids):
    """Ingest opened new exceptions (``exception.opened``)."""
    logger.info("exceptions opened: tenant %s, exceptions %s", tenant_id, exception_ids)
    _alerts().raise_exceptions(exception_ids)


def exceptions_regressed(tenant_id, exception_ids):
    """Ingest reopened resolved exceptions (``exception.regressed``)."""
    logger.info("exceptions regressed: tenant %s, exceptions %s", tenant_id, exception_ids)
    _alerts().raise_exceptions(exception_ids)


def exceptions_reopened(tenant_id, exception_ids):
    """Ingest reopened ignored exceptions whose ``until`` had passed: a new
    opening, raised as ``exception.opened`` (4.1: not a regression)."""
    logger.info("exceptions reopened: tenant %s, exceptions %s", tenant_id, exception_ids)
    _alerts().raise_exceptions(exception_ids)


def replay_pending_approval(replay, records):
    """A replay of ``records`` records waits for an approver
    (``replay.pending_approval``)."""
    _audit_alert(
        "replay.pending_approval",
        replay,
        f"Replay of {records} record(s) of exception #{replay.exception_id} awaits approval",
    )
    _alerts().raise_replay("replay.pending_approval", replay.pk)


def replay_failed(replay, message):
    """A pushed replay failed for good (``replay.failed``)."""
    _audit_alert("replay.failed", replay, f"Replay of exception #{replay.exception_id} failed: {message}"[:1000])
    _alerts().raise_replay("replay.failed", replay.pk)


def _alerts():
    """The alerts' writer (``alerts.services``): its ``raise_*`` functions only
    queue a task once the caller's transaction commits, so a writer never
    waits for an alert. Imported here, not at module level: alerts build on
    the integrations models."""
    from alerts import services

    return services


def _audit_alert(event, replay, summary):
    """The ``alert.<event>`` audit entry, actor ``system``."""
    data = {"replay": str(replay.pk), "exception": replay.exception_id, "integration": replay.integration.slug}
    audit.record(
        audit.SYSTEM, f"alert.{event}", tenant=replay.tenant, obj=replay.integration, summary=summary, data=data
    )
    logger.info("%s: %s", event, summary)
