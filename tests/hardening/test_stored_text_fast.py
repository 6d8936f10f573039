"""The JSON text ingest stores for a worker's payload, response, context
and worker description (contract 3.5) comes from one compiled encoding and
a search for the scrub list's keys; it must hold exactly what the full walk
(``scrub`` or ``scrub_response``, then ``bounded``) holds, for every value:
keys of any case (the Kelvin sign is a k), near misses of case folding (the
long s is not an s), keys with escaped quotes, redacted values holding more
keys, response bodies holding JSON text, and values too deep or too big for
the fast path."""

import json
import random

import pytest

from integrations import scrub as scrubbing
from integrations.scrub import DEFAULT_FIELDS, MAX_DEPTH, TooDeep, bounded, scrub, scrub_json_text, scrub_response
from tests.hardening.test_scrub_json_text_fast import random_texts, scanned

ASCII_FIELDS = scrubbing.fields_for(["iban", "x-api-key"])

TRICKY_KEYS = [
    "password",
    "PassWord",
    "to\u212aen",  # KELVIN SIGN: lower-cases to "token"
    "pa\u017f\u017fword",  # LONG S: lower-cases to itself, not "password"
    "\u0130d",  # DOTTED CAPITAL I: lower-cases to two characters
    'pass"word',
    "iban\\",
    "X-API-KEY",
    "ibanx",
    "xiban",
    "",
    "日本",
]


def random_value(rnd, depth=0):
    kind = rnd.randrange(8 if depth < 5 else 4)
    if kind == 0:
        return rnd.choice([0, -1, 3.5, 1e300, 10**30, True, None])
    if kind == 1:
        return rnd.choice(TRICKY_KEYS) + rnd.choice(['"', "\\", "\n", '":', ""])
    if kind == 2:
        body = {rnd.choice(TRICKY_KEYS): random_value(rnd, depth + 1) for _ in range(rnd.randrange(3))}
        return json.dumps(body, ensure_ascii=rnd.random() < 0.5)
    if kind == 3:
        return "x" * rnd.randrange(0, 120)
    if kind in (4, 5, 6):
        return {rnd.choice(TRICKY_KEYS): random_value(rnd, depth + 1) for _ in range(rnd.randrange(5))}
    return [random_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]


def walked(value, fields, scrubber):
    return bounded(scrubber(value, fields))


@pytest.mark.parametrize("fields", [DEFAULT_FIELDS, ASCII_FIELDS], ids=["default", "tenant"])
@pytest.mark.parametrize("seed", range(3))
def test_random_values_are_stored_as_the_walk_stores_them(fields, seed):
    rnd = random.Random(seed)
    redacted = 0
    for _ in range(1500):
        value = random_value(rnd)
        for scrubber in (scrub, scrub_response):
            if scrubber is scrub_response and isinstance(value, dict) and rnd.random() < 0.5:
                value = {"status": 400, "body": json.dumps({rnd.choice(TRICKY_KEYS): "s3cr3t", "ok": [1]})}
            fast = scrubbing.stored_text(value, fields, scrubber)
            assert json.loads(fast) == json.loads(walked(value, fields, scrubber)), value
            redacted += scrubbing.REDACTED in fast
    assert redacted > 300


def test_a_kelvin_sign_key_is_redacted_and_a_long_s_key_is_not():
    fast = json.loads(scrubbing.stored_text({"to\u212aen": "a", "pa\u017f\u017fword": "b"}, DEFAULT_FIELDS))
    assert fast == {"to\u212aen": "[redacted]", "pa\u017f\u017fword": "b"}


def test_keys_after_a_character_that_lower_cases_to_two_are_redacted_where_they_are():
    # The key finder searches the lower-cased text; a dotted capital I makes
    # it one character longer, so positions are taken from the text itself.
    value = {"\u0130stanbul": "keep", "Token": "gone", "n": {"\u0130": 1, "PASSWORD": [1, 2]}, "z": "\u0130"}
    for fields in (DEFAULT_FIELDS, ASCII_FIELDS):
        fast = scrubbing.stored_text(value, fields)
        assert json.loads(fast) == {
            "\u0130stanbul": "keep",
            "Token": "[redacted]",
            "n": {"\u0130": 1, "PASSWORD": "[redacted]"},
            "z": "\u0130",
        }
        assert fast == walked(value, fields, scrub)


def test_a_key_holding_an_escaped_quote_before_a_field_name_is_not_that_field():
    value = {'x"token': "keep", "nested": {"TOKEN": {"password": "gone"}}}
    assert json.loads(scrubbing.stored_text(value, DEFAULT_FIELDS)) == {
        'x"token': "keep",
        "nested": {"TOKEN": "[redacted]"},
    }


def test_values_too_deep_are_refused_as_the_walk_refuses_them():
    deep = current = {}
    for _ in range(MAX_DEPTH + 5):
        current["a"] = {}
        current = current["a"]
    with pytest.raises(TooDeep):
        scrubbing.stored_text(deep, DEFAULT_FIELDS)


def test_values_over_the_limit_keep_the_truncation_marker():
    big = {"rows": ["x" * 1000] * 100, "token": "gone"}
    stored = json.loads(scrubbing.stored_text(big, DEFAULT_FIELDS))
    assert stored["_truncated"] is True and "gone" not in stored["_head"]


@pytest.mark.parametrize("seed", range(3))
def test_worker_json_text_without_escapes_is_scrubbed_by_key_search_as_the_scanner_does(seed):
    texts = [t for t in random_texts(600, seed) if "\\" not in t]
    assert len(texts) > 100
    for text in texts:
        assert scrub_json_text(text, ASCII_FIELDS) == scanned(text, ASCII_FIELDS), text
