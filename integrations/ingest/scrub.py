"""Removing sensitive values before anything is stored (contract 3.5)."""

import json

REDACTED = "[redacted]"

DEFAULT_FIELDS = frozenset(
    {
        "password",
        "secret",
        "token",
        "api_key",
        "authorization",
        "ssn",
        "iban",
        "bank_account",
        "account_number",
        "card_number",
        "tax_id",
    }
)

# A payload whose JSON text is over this many bytes is stored as a marker
# holding its first HEAD_BYTES bytes.
MAX_PAYLOAD_BYTES = 64 * 1024
HEAD_BYTES = 4 * 1024


def fields_for(tenant_fields=()):
    """The scrub list: the default entries plus a tenant's, lower-cased."""
    extra = {str(f).lower() for f in (tenant_fields or ()) if isinstance(f, str)}
    return DEFAULT_FIELDS | extra if extra else DEFAULT_FIELDS


def scrub(value, fields):
    """A copy of ``value`` where every key, at any depth (objects inside
    objects and arrays), whose lower-cased name is in ``fields`` has its value
    replaced by ``"[redacted]"``. Values without a redacted key are returned
    as they are (no copy), which keeps the ingest path cheap."""
    if isinstance(value, dict):
        out = None
        for k, v in value.items():
            if k.lower() in fields:
                new = REDACTED
            else:
                new = scrub(v, fields)
            if new is not v:
                if out is None:
                    out = dict(value)
                out[k] = new
        return value if out is None else out
    if isinstance(value, list):
        out = None
        for i, v in enumerate(value):
            new = scrub(v, fields)
            if new is not v:
                if out is None:
                    out = list(value)
                out[i] = new
        return value if out is None else out
    return value


def scrub_response(response, fields):
    """``scrub`` for a failure's ``response``; a ``body`` that is a string
    holding a JSON object or array is parsed, scrubbed and serialised again."""
    response = scrub(response, fields)
    if isinstance(response, dict):
        body = response.get("body")
        if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                return response
            cleaned = scrub(parsed, fields)
            if cleaned is not parsed:
                response = dict(response)
                response["body"] = json.dumps(cleaned, separators=(",", ":"))
    return response


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def bounded(value):
    """The JSON text of ``value`` (compact, UTF-8 kept), or of the truncation
    marker when that text is over MAX_PAYLOAD_BYTES."""
    if not value and isinstance(value, dict):
        return "{}"
    text = _ENCODER.encode(value)
    if len(text) * 4 <= MAX_PAYLOAD_BYTES:
        return text
    raw = text.encode("utf-8")
    if len(raw) <= MAX_PAYLOAD_BYTES:
        return text
    head = raw[:HEAD_BYTES].decode("utf-8", "ignore")  # never half a character
    return json.dumps({"_truncated": True, "_bytes": len(raw), "_head": head}, ensure_ascii=False)
