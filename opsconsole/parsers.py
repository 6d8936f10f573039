"""JSON parsing that rejects what the contract forbids before any view runs."""

import json
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# In JSON text a NUL or a surrogate can only arrive as a \u escape: raw
# control characters are invalid JSON and UTF-8 cannot carry surrogates.
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def json_text_is_clean(raw):
    """True when the JSON text ``raw`` (bytes) cannot decode to a string with
    a NUL character or an unpaired surrogate; checked at C speed so the
    ingest path need not walk every string of the documents."""
    return _BAD_ESCAPE.search(raw) is None


def _reject_constant(value):
    raise ValueError(f"{value} is not valid JSON")


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


class StrictJSONParser(JSONParser):
    """Standard JSON only (no NaN/Infinity); malformed bodies are a 400 naming
    where the problem is. NUL characters and unpaired surrogates are checked
    per field by the serializers, so the error can name the field."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"Body is not UTF-8: {exc.reason} at byte {exc.start}.") from None
        request = (parser_context or {}).get("request")
        if request is not None:
            # Read by the worker API (integrations.api.runs).
            request.json_text_clean = json_text_is_clean(raw)
        try:
            return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        except RecursionError:
            raise ParseError("Malformed JSON: nested too deeply.") from None
