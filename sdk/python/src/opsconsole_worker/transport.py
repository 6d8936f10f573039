"""HTTP to the console's worker API, with the standard library only.

Every call ends in one of three outcomes, which decide what the spool does
with the document:

- ``accepted``: a 2xx answer;
- ``rejected``: a 4xx other than 429; sending the same bytes again cannot
  succeed, so the document goes to ``rejected/`` with the answer;
- ``retry``: no answer (connection refused, timeout, DNS), a 429, a 5xx or
  anything else; the document stays in the spool and is sent later.
"""

import json
import socket
import urllib.error
import urllib.request

from opsconsole_worker import __version__

ACCEPTED = "accepted"
REJECTED = "rejected"
RETRY = "retry"

# Bytes of an answer body kept for logs and rejected/.
ANSWER_LIMIT = 64 * 1024
# Longest Retry-After (seconds) honoured before trying again.
MAX_RETRY_AFTER = 600


class Answer:
    """What one request came to: ``outcome``, the HTTP ``status`` (None
    without an answer), the decoded JSON ``body`` (or its text), an
    ``error`` sentence and ``retry_after`` seconds for a 429/503."""

    def __init__(self, outcome, status=None, body=None, error="", retry_after=None):
        self.outcome = outcome
        self.status = status
        self.body = body
        self.error = error
        self.retry_after = retry_after

    @property
    def ok(self):
        return self.outcome == ACCEPTED

    def describe(self):
        if self.status is None:
            return self.error
        detail = self.body if isinstance(self.body, str) else json.dumps(self.body, ensure_ascii=False)
        return f"HTTP {self.status}: {detail}"[:2000]

    def __repr__(self):
        return f"Answer({self.outcome!r}, status={self.status!r})"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib turns a redirected POST into a GET: never follow one.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _decode(raw):
    text = raw[:ANSWER_LIMIT].decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _retry_after(headers):
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except (TypeError, ValueError):
        return None


def classify(status):
    if 200 <= status < 300:
        return ACCEPTED
    if 400 <= status < 500 and status != 429:
        return REJECTED
    return RETRY


def post_json(base_url, path, key, document, timeout):
    """POST ``document`` (a dict, or bytes already encoded) to
    ``base_url + path``; never raises for network trouble."""
    body = document if isinstance(document, bytes) else json.dumps(document, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's console
        base_url.rstrip("/") + path,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"opsconsole-worker/{__version__}",
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
            if status == 204 or not raw:
                return Answer(classify(status), status, None)
            return Answer(classify(status), status, _decode(raw), retry_after=_retry_after(response.headers))
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read()
        except OSError:
            raw = b""
        return Answer(classify(exc.code), exc.code, _decode(raw), retry_after=_retry_after(exc.headers))
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return Answer(RETRY, error=f"no answer within {timeout:g} s")
        return Answer(RETRY, error=f"cannot reach the console: {reason}")
    except (socket.timeout, TimeoutError):
        return Answer(RETRY, error=f"no answer within {timeout:g} s")
    except (OSError, ValueError) as exc:
        # ValueError: a malformed URL; OSError: a connection reset mid-answer.
        return Answer(RETRY, error=f"cannot reach the console: {exc}")
