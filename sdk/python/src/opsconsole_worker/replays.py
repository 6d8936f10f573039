"""Replays pulled from the console (contract 3.3, 3.4, 4.3)."""

import logging
import threading

from opsconsole_worker import transport
from opsconsole_worker.protocol import CLAIM_PATH

log = logging.getLogger("opsconsole_worker")

RESULT_STATUSES = ("succeeded", "failed", "partial")


class ReplayLoopError(RuntimeError):
    """The console refused to hand out replays (a bad key or integration):
    claiming again cannot help. ``status`` and ``answer`` say why."""

    def __init__(self, status, answer):
        super().__init__(f"the console refused the claim (HTTP {status}): {answer}")
        self.status = status
        self.answer = answer


class ReplayRecord:
    """One record to post again. ``idempotency_key`` stays the same across
    attempts of the replay: remember it to never post the same record twice."""

    def __init__(self, data):
        self.data = data
        self.entity = data.get("entity")
        self.record_id = data.get("record_id")
        self.operation = data.get("operation")
        self.payload = data.get("payload")
        self.patch = data.get("patch")
        self.error_code = data.get("error_code")
        self.message = data.get("message")
        self.idempotency_key = data.get("idempotency_key")

    def patched_payload(self):
        """The payload with the staff's ``patch`` applied on top (a shallow merge)."""
        payload = dict(self.payload) if isinstance(self.payload, dict) else {}
        if isinstance(self.patch, dict):
            payload.update(self.patch)
        return payload

    def __repr__(self):
        return f"ReplayRecord({self.entity!r}, {self.record_id!r})"


class Replay:
    """A replay document (contract 4.3) and the outcome being built for it.

    A handler marks records with ``succeeded(record)`` or ``failed(record,
    message)``; records it does not mark succeeded if it returns normally."""

    def __init__(self, document):
        self.document = document
        self.id = document.get("id")
        self.integration = document.get("integration")
        self.attempt = document.get("attempt")
        self.reason = document.get("reason")
        self.records = [ReplayRecord(r) for r in document.get("records") or []]
        self.run_id = None
        self._outcomes = {}

    def __repr__(self):
        return f"Replay({self.id!r}, attempt={self.attempt!r}, records={len(self.records)})"

    def succeeded(self, record, message=""):
        self._outcomes[(record.entity, record.record_id)] = ("succeeded", message)

    def failed(self, record, message=""):
        self._outcomes[(record.entity, record.record_id)] = ("failed", message)

    def result(self, default="succeeded"):
        """The result document (contract 3.4) listing every record."""
        items = []
        for record in self.records:
            status, message = self._outcomes.get((record.entity, record.record_id), (default, ""))
            item = {"entity": record.entity, "record_id": record.record_id, "status": status}
            if message:
                item["message"] = str(message)[:8192]
            items.append(item)
        failed = sum(1 for item in items if item["status"] == "failed")
        status = "succeeded" if not failed else "failed" if failed == len(items) else "partial"
        result = {"status": status, "records": items}
        if self.run_id:
            result["run_id"] = str(self.run_id)
        return result


def outcome_of(replay, returned):
    """The result to post for what a handler returned: None or True (records
    as marked), False (every unmarked record failed), a status string, or a
    result document of its own."""
    if isinstance(returned, dict) and returned.get("status") in RESULT_STATUSES:
        return returned
    if returned is False:
        return replay.result(default="failed")
    result = replay.result()
    if isinstance(returned, str) and returned in RESULT_STATUSES:
        result["status"] = returned
    return result


def handle_one(client, replay_document, handler):
    """Run ``handler`` on one claimed replay and report its outcome; a
    handler that raises reports every unmarked record failed with the error."""
    replay = Replay(replay_document)
    try:
        result = outcome_of(replay, handler(replay))
    except Exception as exc:  # the worker's own failure is the replay's outcome
        log.exception("replay %s: the handler failed", replay.id)
        result = replay.result(default="failed")
        message = f"{type(exc).__name__}: {exc}"[:8192]
        for item in result["records"]:
            if item["status"] == "failed" and not item.get("message"):
                item["message"] = message
    client.send_result(replay.id, result)
    return replay, result


def replay_loop(
    client,
    integration,
    handler,
    lease_seconds=300,
    poll_seconds=30.0,
    stop_when_idle=False,
    max_replays=None,
    stop_event=None,
):
    """Claim replays of ``integration`` one at a time, call ``handler(replay)``
    for each and post its result. Waits ``poll_seconds`` when none is queued
    (or returns, with ``stop_when_idle``), and after the console could not be
    reached. Stops after ``max_replays`` or when ``stop_event`` is set.
    Returns how many replays it handled."""
    stop_event = stop_event or threading.Event()
    handled = 0
    while not stop_event.is_set() and (max_replays is None or handled < max_replays):
        if not client.available:
            stop_event.wait(min(poll_seconds, 5.0))
            continue
        answer = client.post(CLAIM_PATH, {"integration": integration, "lease_seconds": int(lease_seconds)})
        if answer.outcome == transport.REJECTED:
            raise ReplayLoopError(answer.status, answer.body)
        if answer.outcome == transport.RETRY:
            log.warning("cannot claim replays: %s", answer.describe())
            stop_event.wait(min(poll_seconds, answer.retry_after or poll_seconds))
            continue
        if answer.status == 204 or not isinstance(answer.body, dict):
            if client.spool.pending():
                client.flush(max_seconds=client.timeout)
            if stop_when_idle:
                break
            stop_event.wait(poll_seconds)
            continue
        handle_one(client, answer.body, handler)
        handled += 1
    return handled
