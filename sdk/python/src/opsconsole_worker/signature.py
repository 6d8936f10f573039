"""Checking the console's signed deliveries: pushed replays and alert
webhooks (contract 3.6).

The console sends ``X-Opsconsole-Timestamp: <unix seconds>`` and
``X-Opsconsole-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
keyed by the webhook's secret, over the exact bytes of the body."""

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Opsconsole-Timestamp"
SIGNATURE_HEADER = "X-Opsconsole-Signature"
# A delivery signed longer ago (or further ahead) than this is refused:
# a recorded request cannot be played again later.
DEFAULT_TOLERANCE = 300


class SignatureError(ValueError):
    """The delivery is not authentic: missing headers, a stale timestamp or a
    signature that does not match. Answer it with 401 or 400."""


def _header(headers, name):
    """``name`` from a dict (any case), Django's ``request.headers`` or
    ``request.META``, a WSGI environ, ``http.client`` headers or pairs."""
    if hasattr(headers, "items"):
        items = headers.items()
    else:
        items = headers
    wanted = {name.lower(), "http_" + name.lower().replace("-", "_")}
    for key, value in items:
        if isinstance(key, str) and key.lower() in wanted:
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


def expected_signature(secret, timestamp, body):
    """``sha256=<hex>`` as the console computes it."""
    key = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_signature(secret, headers, body, tolerance=DEFAULT_TOLERANCE, now=None):
    """Return True when ``body`` (the raw bytes received) was signed by the
    console with ``secret`` (or any of a list of secrets, while rotating)
    within ``tolerance`` seconds of ``now``; raise SignatureError otherwise."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    timestamp = (_header(headers, TIMESTAMP_HEADER) or "").strip()
    signature = (_header(headers, SIGNATURE_HEADER) or "").strip()
    if not timestamp or not signature:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a number of seconds")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        age = int(now) - int(timestamp)
        raise SignatureError(f"stale timestamp: signed {age} s ago, more than the {tolerance} s allowed")
    secrets = secret if isinstance(secret, (list, tuple)) else [secret]
    for candidate in secrets:
        if hmac.compare_digest(expected_signature(candidate, timestamp, body), signature):
            return True
    raise SignatureError("signature does not match the body")
