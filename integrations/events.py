"""Console events (contract section 6) raised by integrations code.

``emit`` writes an ``alert.<event>`` audit entry and calls every registered
listener; the alerting code registers one to store and deliver alerts.
Listeners run after the caller's transaction commits, so an alert never
speaks of something that was rolled back."""

import logging

from django.db import transaction

from opsconsole import audit

logger = logging.getLogger(__name__)

# Callables taking (event, tenant, integration, summary, data).
listeners = []


def register(listener):
    """Add ``listener`` once; returns it, so it can decorate a function."""
    if listener not in listeners:
        listeners.append(listener)
    return listener


def emit(event, tenant, integration=None, summary="", data=None):
    """Record ``event`` in the audit log and hand it to the listeners."""
    data = dict(data or {})
    if integration is not None:
        data.setdefault("integration", integration.slug)
    audit.record(audit.SYSTEM, f"alert.{event}", tenant=tenant, obj=integration, summary=summary, data=data)

    def notify():
        for listener in list(listeners):
            try:
                listener(event, tenant, integration, summary, data)
            except Exception:  # a broken listener must not undo the change that raised the event
                logger.exception("event listener %r failed for %s", listener, event)

    transaction.on_commit(notify)
