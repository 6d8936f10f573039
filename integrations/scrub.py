"""Removing sensitive values before anything is stored (contract 3.5)."""

import functools
import json
import re

import msgspec

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


# Objects and arrays nested deeper than this are refused (a 400 naming the
# field): a value stored deeper could not be read back or shown by code that
# recurses (JSON decoders, the database's JSON functions, pretty-printers).
MAX_DEPTH = 500
TOO_DEEP = f"Nested deeper than {MAX_DEPTH} levels."


class TooDeep(ValueError):
    """A value nested deeper than MAX_DEPTH; validation names the field."""


def scrub(value, fields):
    """A copy of ``value`` where every key, at any depth (objects inside
    objects and arrays), whose lower-cased name is in ``fields`` has its value
    replaced by ``"[redacted]"``. A value without a redacted key is returned
    as it is (no copy), which keeps the ingest path cheap. Both walks use a
    list as their stack, so depth costs no recursion; over MAX_DEPTH levels
    is TooDeep."""
    return _rebuild(value, fields) if _needs_scrubbing(value, fields) else value


def _needs_scrubbing(value, fields):
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise TooDeep(TOO_DEEP)
            for k, v in item.items():
                if isinstance(k, str) and k.lower() in fields:
                    return True
                if isinstance(v, dict | list):
                    stack.append((v, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise TooDeep(TOO_DEEP)
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def _rebuild(value, fields):
    """A deep copy of ``value`` with matching keys redacted, built breadth by
    breadth from an explicit stack of (source, container, slot)."""
    root = [None]
    stack = [(value, root, 0)]
    while stack:
        source, container, slot = stack.pop()
        if isinstance(source, dict):
            copy = {}
            for k, v in source.items():
                if isinstance(k, str) and k.lower() in fields:
                    copy[k] = REDACTED
                else:
                    copy[k] = None  # keeps the key's position
                    stack.append((v, copy, k))
            container[slot] = copy
        elif isinstance(source, list):
            copy = [None] * len(source)
            stack.extend((v, copy, i) for i, v in enumerate(source))
            container[slot] = copy
        else:
            container[slot] = source
    return root[0]


def scrub_response(response, fields):
    """``scrub`` for a failure's ``response``; a ``body`` that is a string
    holding JSON (an object or array, well-formed or cut short, however
    deep) has the values of matching keys replaced inside the text."""
    return _with_body_scrubbed(scrub(response, fields), fields)


def _with_body_scrubbed(response, fields):
    """``response`` with a ``body`` holding JSON text scrubbed inside that
    text (a copy when anything changed; else ``response`` itself)."""
    if isinstance(response, dict):
        body = response.get("body")
        if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
            cleaned = scrub_json_text(body, fields)
            if cleaned is not body:
                return {**response, "body": cleaned}
    return response


# One JSON token after optional white space: a string, a punctuation mark, or
# a number/literal. Scanning tokens needs no recursion, whatever the depth.
_TOKEN = re.compile(r'[ \t\n\r]*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|(-?[0-9][0-9.eE+-]*|true|false|null))', re.S)
_REDACTED_JSON = json.dumps(REDACTED)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


_STRICT_DECODE = json.JSONDecoder(parse_constant=_refuse_constant).decode


def scrub_json_text(text, fields):
    """``text`` (JSON) with the value of every object key in ``fields``
    replaced by ``"[redacted]"``; the rest of the text is kept byte for byte.
    Text the C decoder reads whole is well-formed, and its keys are found by
    one regular expression; otherwise (text nested past the decoder's
    limit, cut short, or holding NaN) the tokens are scanned with an
    explicit stack. Scanning stops at the first
    character that is not JSON; what was found before it is still replaced."""
    try:
        _STRICT_DECODE(text)
    except (ValueError, RecursionError):
        # Cut short, nested past the decoder's limit, or holding NaN or
        # Infinity (where the scanner stops): tokens, with a stack.
        spans = _redacted_spans(text, fields)
    else:
        # Well-formed JSON: the keys are found at C speed, same spans.
        spans = _key_value_spans(text, fields)
    return _splice(text, spans)


def _splice(text, spans):
    """``text`` with each (start, end) of ``spans`` replaced by the redacted marker."""
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], _REDACTED_JSON]
        last = end
    out.append(text[last:])
    return "".join(out)


# Every string token of well-formed JSON, and the ":" after it when it is an
# object key. Outside strings such text holds no '"', so searching from the
# end of one string token always lands on the start of the next.
_STRING_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"(?:[ \t\n\r]*(:))?', re.S)
_SPACE = re.compile(r"[ \t\n\r]*")
_RAW_DECODE = json.JSONDecoder().raw_decode


def _key_value_spans(text, fields):
    """``_redacted_spans`` for ``text`` known to be well-formed JSON (it
    decoded, with no NaN or Infinity): each object key is a string token
    followed by ":", and the end of the value after it is where the decoder
    stops reading it."""
    finder = _key_finder(fields)
    if finder is not None and "\\" not in text:
        # No escapes: every key is written as the name it decodes to.
        return _found_key_spans(text, fields, finder)
    spans = []
    search = _STRING_TOKEN.search
    pos = 0
    while True:
        match = search(text, pos)
        if match is None:
            return spans
        pos = match.end()
        if match.group(1) is None:
            continue
        token = text[match.start() : match.start(1)].rstrip(" \t\n\r")
        name = token[1:-1] if "\\" not in token else json.loads(token)
        if name.lower() not in fields:
            continue
        start = _SPACE.match(text, pos).end()
        pos = _RAW_DECODE(text, start)[1]
        spans.append((start, pos))


def _found_key_spans(text, fields, finder):
    """``_key_value_spans`` by jumping from one possible key to the next
    (``_key_finder``) instead of reading every string. In well-formed JSON an
    unescaped quote followed by a name character opens a string, and one
    followed by ``":`` closed a key; each candidate's name is checked as the
    walk would check it, and keys inside a value already redacted are
    skipped, as the walk skips them."""
    spans = []
    last = 0
    for match in finder.finditer(text):
        quote = match.start()
        if quote < last:
            continue
        before = quote
        while before > 0 and text[before - 1] == "\\":
            before -= 1
        if (quote - before) % 2:
            continue  # an escaped quote inside a string
        name = text[quote + 1 : match.start(1)]
        if name.lower() not in fields:
            continue  # a near miss of case folding (such as the long s)
        start = _SPACE.match(text, match.end()).end()
        last = _RAW_DECODE(text, start)[1]
        spans.append((start, last))
    return spans


def _redacted_spans(text, fields):
    """(start, end) of each value to redact in ``text``, found by one pass
    over its tokens with a list as the stack of open objects and arrays."""
    spans = []
    containers = []  # "{" or "[" per open level
    key_position = False  # the next string would be an object key
    pending_key = None  # that key, until its ":" is read
    redact_next = False  # the next value belongs to a key in ``fields``
    skip_from, skip_depth = None, 0  # an object or array value being redacted
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() != pos:
            break  # not JSON from here on
        pos = match.end()
        string, mark, _scalar = match.groups()
        start = match.start(match.lastindex)
        if skip_from is not None:
            skip_depth += 1 if mark in ("{", "[") else -1 if mark in ("}", "]") else 0
            if skip_depth == 0:
                spans.append((skip_from, pos))
                skip_from = None
            continue
        if redact_next:
            redact_next = False
            if mark in ("{", "["):
                skip_from, skip_depth = start, 1
                continue
            if mark is None:
                spans.append((start, pos))
                continue
        if mark == ":" and pending_key is not None:
            redact_next = _is_field(pending_key, fields)
        elif mark in ("{", "["):
            containers.append(mark)
        elif mark in ("}", "]") and containers:
            containers.pop()
        pending_key = string if (string is not None and key_position) else None
        key_position = bool(containers) and containers[-1] == "{" and mark in ("{", ",")
    if skip_from is not None:  # cut short inside a redacted value
        spans.append((skip_from, len(text)))
    elif redact_next:  # cut short where a redacted value starts
        spans.append((len(text) - len(text[pos:].lstrip()), len(text)))
    return spans


def _is_field(token, fields):
    try:
        name = json.loads(token)
    except ValueError:
        name = token[1:-1]
    return name.lower() in fields


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


# --- the ingest path's stored values -------------------------------------------------------------

_ENCODE = msgspec.json.Encoder().encode
# Up to this many bytes of JSON a value cannot be nested deeper than
# MAX_DEPTH: each level takes at least two ("[" and "]").
_SHALLOW_BYTES = 2 * MAX_DEPTH
_SAFE_FIELD = re.compile(r"[\x20-\x7e]+")


class _KeyFinder:
    """Finds, in compact JSON text, every object key whose lower-cased name
    is in a scrub list (and perhaps a few more): ``"name":``, white space
    allowed before the colon. Outside strings only a key is followed by
    ``":``; inside a string a quote is escaped, so no value can match.

    The text is searched lower-cased, by a pattern of the names as they are:
    three times cheaper than a search without regard to case. Lower-casing
    maps each character to one, except a few (the dotted capital I becomes
    two), so positions in the lower-cased text are those of the text when
    both have the same length; otherwise the text itself is searched without
    regard to case. A key lower-cases to a name of the list (all ASCII) only
    if each of its characters lower-cases to one character of that name (the
    Kelvin sign to k, too), so the lower-cased text holds that name exactly
    where the key is: no key to redact is missed either way."""

    def __init__(self, names):
        alternatives = "|".join(re.escape(n) for n in names)
        self.exact = re.compile(f'"(?:{alternatives})("[ \t\n\r]*:)')
        self.folded = re.compile(f'"(?:{alternatives})("[ \t\n\r]*:)', re.IGNORECASE)

    def present(self, text):
        """Whether ``text`` may hold a key to redact."""
        return self.exact.search(text.lower()) is not None

    def finditer(self, text):
        """The candidate keys of ``text``: matches whose ``start()`` is the
        opening quote and ``start(1)`` the closing one, positions in ``text``."""
        lowered = text.lower()
        if len(lowered) == len(text):
            return self.exact.finditer(lowered)
        return self.folded.finditer(text)


@functools.lru_cache(maxsize=256)
def _key_finder(fields):
    """The ``_KeyFinder`` of ``fields``, or None when a field is not printable
    ASCII or holds a quote or backslash: such lists take the full walk."""
    names = sorted(fields)
    if not all(_SAFE_FIELD.fullmatch(n) and '"' not in n and "\\" not in n for n in names):
        return None
    return _KeyFinder([n.lower() for n in names])


def stored_text(value, fields, scrubber=scrub):
    """``bounded(scrubber(value, fields))``, the JSON text stored for a
    worker's value, found more cheaply for the common value: one compiled
    encoding, and the scrub list's keys looked for in that text. A value that
    may hold a key to redact, may be nested too deep (over _SHALLOW_BYTES of
    text), or that the compiled encoder refuses takes the full walk, so the
    answer is always the same as the walk's (TooDeep included)."""
    finder = _key_finder(fields)
    if finder is None:
        return bounded(scrubber(value, fields))
    try:
        raw = _ENCODE(value)
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return bounded(scrubber(value, fields))
    if len(raw) > _SHALLOW_BYTES:
        return bounded(scrubber(value, fields))
    text = raw.decode("utf-8")
    if scrubber is scrub:
        # Text the encoder wrote is well-formed, and its keys are written as
        # the names they decode to (but for quotes, backslashes and control
        # characters, which no field holds).
        return _splice(text, _found_key_spans(text, fields, finder)) if finder.present(text) else text
    if scrubber is scrub_response and not finder.present(text):
        # No key to redact outside the body: only the body's own text may change.
        cleaned = _with_body_scrubbed(value, fields)
        return text if cleaned is value else _ENCODE(cleaned).decode("utf-8")
    return bounded(scrubber(value, fields))
