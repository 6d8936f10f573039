"""JSON parsing that rejects what the contract forbids before any view runs."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(value):
    raise ValueError(f"{value} is not valid JSON")


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
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        except RecursionError:
            raise ParseError("Malformed JSON: nested too deeply.") from None
