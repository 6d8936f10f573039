"""JSON parsing that rejects what the contract forbids before any view runs."""

import json
import re

import msgspec
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


class JSONFloat(float):
    """A JSON number with a fraction or an exponent, keeping the literal it
    was written as (``text``), so that money (contract 3.1 ``amount``) is read
    exactly as a Decimal and never through a binary float. It serialises as
    the float it is."""

    __slots__ = ("text",)

    def __new__(cls, text):
        value = super().__new__(cls, text)
        value.text = text
        return value


class StrictJSONParser(JSONParser):
    """Standard JSON only (no NaN/Infinity); malformed bodies are a 400 naming
    where the problem is. NUL characters and unpaired surrogates are checked
    per field by the serializers, so the error can name the field."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        request = (parser_context or {}).get("request")
        doc, clean = self.decode(raw)
        if request is not None:
            # Read by the worker API (integrations.api.runs).
            request.json_text_clean = clean
        return doc

    def decode(self, raw):
        """(document, whether the text holds no NUL nor lone surrogate) of
        the UTF-8 JSON ``raw``; a ParseError naming what is wrong."""
        text = self.text_of(raw)
        return self.loads(text, parse_constant=_reject_constant, parse_float=_finite_float), json_text_is_clean(raw)

    @staticmethod
    def text_of(raw):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"Body is not UTF-8: {exc.reason} at byte {exc.start}.") from None

    @staticmethod
    def loads(text, **hooks):
        try:
            return json.loads(text, **hooks)
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        except RecursionError:
            raise ParseError("Malformed JSON: nested too deeply.") from None


EXACT_FLOAT_CHARS = 15
INF, NEG_INF = float("inf"), float("-inf")


class _Numbers:
    """The number hooks of one body, noting non-finite values."""

    def __init__(self):
        self.non_finite = False

    def number(self, literal):
        # Up to 15 characters hold at most 15 significant digits, which a
        # float keeps exactly (its repr gives the same decimal number back);
        # longer literals keep their text, at some cost.
        value = float(literal) if len(literal) <= EXACT_FLOAT_CHARS else JSONFloat(literal)
        if value in (INF, NEG_INF):
            self.non_finite = True
        return value

    def constant(self, literal):
        self.non_finite = True
        return JSONFloat(literal)


def read_fast(text):
    """(document, whether it holds a non-finite number) of the JSON ``text``
    by msgspec's decoder, in C and about four times the speed of ``json``'s
    with these hooks; None where it refuses the text. It reads what standard
    JSON allows into the same values as ``read_standard`` (numbers through
    the same hook) and refuses the rest: NaN and Infinity, unpaired
    surrogates, anything malformed, nesting it cannot follow."""
    numbers = _Numbers()
    try:
        return msgspec.json.Decoder(float_hook=numbers.number).decode(text), numbers.non_finite
    except (msgspec.DecodeError, RecursionError):
        return None


def read_standard(text):
    """(document, whether it holds a non-finite number) of the JSON ``text``
    by ``json``, reading NaN and Infinity as non-finite numbers; a
    ParseError naming the problem."""
    numbers = _Numbers()
    doc = StrictJSONParser.loads(text, parse_constant=numbers.constant, parse_float=numbers.number)
    return doc, numbers.non_finite


class RunDocumentParser(StrictJSONParser):
    """JSON of the worker API's run documents (contract 3.1): numbers with a
    fraction or exponent are read so that their exact decimal value is known
    (short ones as floats, whose repr is that value; longer ones keep their
    literal, :class:`JSONFloat`), and
    ``NaN``, ``Infinity`` and numbers beyond a float's range are read as
    non-finite values rather than refused here, so that validation can name
    the field that holds one (``failures.3.amount``). The request is then
    marked for the per-field check (``json_text_clean`` false).

    Text without NUL or surrogate escapes goes to ``read_fast`` first; what
    it refuses, ``read_standard`` reads or words the error for."""

    def decode(self, raw):
        text = self.text_of(raw)
        clean = json_text_is_clean(raw)
        found = read_fast(text) if clean else None
        doc, non_finite = found if found is not None else read_standard(text)
        return doc, clean and not non_finite
