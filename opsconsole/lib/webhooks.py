"""Signed webhook POSTs (contract 3.6), for every caller that sends one:
pushed replays (``integrations.replays.push``) and alert channels.

A delivery is signed over the exact body bytes:
``X-Opsconsole-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``.
The caller keeps one delivery id across the retries of one dispatch and
spaces its tries by ``backoff_delays()``. The target is resolved once at
sending time, checked, and connected to at that very address
(``opsconsole.lib.outbound_urls.pinned_post``): a name may resolve elsewhere
now than when it was configured, or between the check and the connection.

Nothing here touches the database; ``post_signed`` never raises for network
trouble and answers an ``Outcome`` instead."""

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings

from opsconsole.lib import outbound_urls

# Bytes of an error answer kept with an attempt.
ERROR_LIMIT = 500
DEFAULT_BACKOFF = [10, 60, 300, 1800, 7200]


def sign(secret, timestamp, body):
    """``sha256=<hex>`` over ``b"<timestamp>." + body`` keyed by ``secret``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def backoff_delays():
    """Delays between tries, read at call time from OPSCONSOLE_DELIVERY_BACKOFF
    (a list of seconds, or a comma-separated string)."""
    value = getattr(settings, "OPSCONSOLE_DELIVERY_BACKOFF", DEFAULT_BACKOFF)
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    return [max(0, int(v)) for v in value]


def delivery_timeout():
    """Seconds one POST may take (OPSCONSOLE_DELIVERY_TIMEOUT, default 10)."""
    return float(getattr(settings, "OPSCONSOLE_DELIVERY_TIMEOUT", 10))


@dataclass
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self):
        return self.status_code is not None and 200 <= self.status_code < 300


def post_signed(url, body, *, secret, event, delivery_id, timeout=None, user_agent="replay-delivery/1"):
    """POST ``body`` (bytes) with the signature headers of contract 3.6 and
    ``X-Opsconsole-Event: event``; return an Outcome."""
    timeout = delivery_timeout() if timeout is None else timeout
    started = time.monotonic()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        "X-Opsconsole-Event": event,
        "X-Opsconsole-Delivery": str(delivery_id),
        "X-Opsconsole-Timestamp": timestamp,
        "X-Opsconsole-Signature": sign(secret or "", timestamp, body),
    }
    code, error = _send(url, body, headers, timeout)
    duration_ms = int((time.monotonic() - started) * 1000)
    return Outcome(code, duration_ms, error[:ERROR_LIMIT])


def _send(url, body, headers, timeout):
    """(status code or None, error text) of one POST, sent to the address
    that was checked (outbound_urls.pinned_post)."""
    try:
        status, answer = outbound_urls.pinned_post(url, body, headers, timeout)
    except outbound_urls.TargetRefused as exc:
        return None, f"refused: {exc}"
    except TimeoutError:
        return None, f"no answer within {timeout:g} s"
    except (OSError, ValueError) as exc:
        return None, f"connection failed: {exc}"
    if 200 <= status < 300:
        return status, ""
    error = answer[:ERROR_LIMIT].decode("utf-8", "replace")
    return status, f"HTTP {status}: {error}".strip()
