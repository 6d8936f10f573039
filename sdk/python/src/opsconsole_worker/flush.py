"""Sending the spool: rounds of claimed documents, runs in batches.

1. Claim (lock) up to a batch of pending documents, oldest first, one per key.
2. Send the runs as one ``POST /api/v1/runs/batch`` (a single run alone), and
   each other document (replay results) on its own.
3. Remove what the console took, move what it refused to ``rejected/``, and
   stop at the first request that got no usable answer: the rest waits.
"""

import logging
import time

from opsconsole_worker import transport
from opsconsole_worker.protocol import BATCH_BYTES, BATCH_PATH, BATCH_SIZE, FlushResult

log = logging.getLogger("opsconsole_worker")

# Whole-batch answers that say nothing about any one document: every
# document of the batch gets them (a bad key, a wrong URL).
_BATCH_WIDE = {401, 403, 404, 405}


def flush(client, max_seconds=None, batch_size=BATCH_SIZE):
    result = FlushResult()
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    spool = client.spool
    while client.available:
        timeout = client.timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                break
        claimed = spool.claim(limit=max(1, min(batch_size, 1000)), max_bytes=BATCH_BYTES)
        if not claimed:
            break
        settled = result.sent + result.rejected
        try:
            _send_round(client, claimed, timeout, result)
        finally:
            for item in claimed:
                item.release()
        if result.sent + result.rejected == settled:
            break  # an answer that settled nothing: try again on the next flush
    result.remaining = len(spool.pending())
    if not client.available:
        result.error = client.last_error
    return result


def _send_round(client, claimed, timeout, result):
    runs = [item for item in claimed if item.kind == "run" and item.envelope.get("path") == "/api/v1/runs"]
    others = [item for item in claimed if item not in runs]
    if len(runs) > 1:
        _send_batch(client, runs, timeout, result)
    else:
        others = runs + others
    for item in others:
        if not client.available:
            return
        answer = client.post(item.envelope["path"], item.document, timeout)
        _settle(client, item, answer, result)


def _settle(client, item, answer, result):
    if answer.ok:
        client.spool.done(item)
        result.sent += 1
        if item.kind == "run":
            if answer.status == 201:
                result.created += 1
            else:
                result.updated += 1
    elif answer.outcome == transport.REJECTED:
        client.spool.reject(item, answer.status, answer.body)
        result.rejected += 1


def _send_batch(client, items, timeout, result):
    answer = client.post(BATCH_PATH, {"runs": [item.document for item in items]}, timeout)
    if answer.outcome == transport.RETRY:
        return
    if answer.outcome == transport.REJECTED:
        if answer.status in _BATCH_WIDE:
            for item in items:
                client.spool.reject(item, answer.status, answer.body)
                result.rejected += 1
        else:
            # A problem of the batch as such (too large, malformed): one by one.
            for item in items:
                if client.available:
                    _settle(client, item, client.post(item.envelope["path"], item.document, timeout), result)
        return
    results = answer.body.get("results") if isinstance(answer.body, dict) else None
    if not isinstance(results, list):
        log.warning("unexpected answer to a batch: %s", answer.describe())
        client.mark_unavailable(answer)
        return
    for entry in results:
        index = entry.get("index") if isinstance(entry, dict) else None
        if not isinstance(index, int) or not 0 <= index < len(items):
            continue
        item = items[index]
        outcome = entry.get("result")
        if outcome in ("created", "updated"):
            client.spool.done(item)
            result.sent += 1
            if outcome == "created":
                result.created += 1
            else:
                result.updated += 1
        elif outcome == "rejected":
            client.spool.reject(item, 400, entry.get("errors"))
            result.rejected += 1
