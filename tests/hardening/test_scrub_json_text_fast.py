"""Scrubbing JSON held in a response body (contract 3.5) finds the keys of
well-formed text at C speed; it must redact exactly what the token scanner
redacts, byte for byte, over hostile text, random JSON, keys with escapes and
text cut short.

(Before, text that decoded was first checked for a matching key in its
decoded form; with a duplicate key, the value the decoder dropped was never
looked at and kept its secret. Every key of the text counts now.)"""

import json
import random
from pathlib import Path

import pytest

from integrations import scrub as scrubbing
from integrations.scrub import DEFAULT_FIELDS, REDACTED, scrub_json_text

HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
FIELDS = scrubbing.fields_for(["iban", "Ünïcode"])


def scanned(text, fields):
    """What the token scanner alone makes of ``text``."""
    spans = scrubbing._redacted_spans(text, fields)
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], json.dumps(REDACTED)]
        last = end
    out.append(text[last:])
    return "".join(out)


KEYS = [
    "password",
    "Password",
    "TOKEN",
    "pass\\u0077ord",
    "to\\u006Ben",
    "iban",
    "\\u00dcn\\u00efcode",
    "ok",
    'a\\"b',
    "c\\\\",
    "\\\\",
    "",
    "ünïcode",
    "x:y",
    "}{",
    "token\\n",
    "\\ud800",
]
SPACES = ["", " ", "\n", "\t ", "\r\n  "]


def random_value(rnd, depth=0):
    kind = rnd.randrange(9 if depth < 6 else 5)
    if kind == 0:
        return str(rnd.choice([0, -1, 12, 3.5, -2.5e-3, 1e300, 10**30]))
    if kind == 1:
        return rnd.choice(["true", "false", "null"])
    if kind in (2, 3):
        return '"' + rnd.choice(KEYS + ['"password"', '{\\"token\\": 1}', "]", "日本"]).replace('"', '\\"') + '"'
    if kind == 4:
        return '"' + rnd.choice(KEYS) + '"'
    if kind in (5, 6, 7):
        items = [
            f'"{rnd.choice(KEYS)}"{rnd.choice(SPACES)}:{rnd.choice(SPACES)}{random_value(rnd, depth + 1)}'
            for _ in range(rnd.randrange(5))
        ]
        sep = "," + rnd.choice(SPACES)
        return "{" + rnd.choice(SPACES) + sep.join(items) + rnd.choice(SPACES) + "}"
    items = [random_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return "[" + rnd.choice(SPACES) + ", ".join(items) + "]"


def random_texts(count, seed):
    rnd = random.Random(seed)
    texts = []
    while len(texts) < count:
        text = rnd.choice(SPACES) + random_value(rnd) + rnd.choice(SPACES)
        if text.lstrip()[:1] in ("{", "["):
            texts.append(text)
    return texts


def hostile_texts():
    """Every fixture's text, and the JSON text of every object and array
    found in those that decode."""
    texts = []
    for path in sorted(HOSTILE.glob("*.json")):
        raw = path.read_bytes().decode("utf-8", "replace")
        texts.append(raw)
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        stack = [doc]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                texts.append(json.dumps(value))
                texts.append(json.dumps(value, ensure_ascii=False, indent=2))
                stack.extend(value.values())
            elif isinstance(value, list):
                texts.append(json.dumps(value))
                stack.extend(value)
            elif isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
                texts.append(value)
    return texts


def test_the_corpus_reaches_the_fast_path_and_redacts_something():
    texts = random_texts(400, seed=1)
    decoded = 0
    for text in texts:
        try:
            json.loads(text, parse_constant=lambda c: 1 / 0)
            decoded += 1
        except (ValueError, ZeroDivisionError):
            pass
    assert decoded > 300
    assert sum(scrub_json_text(t, FIELDS) != t for t in texts) > 100


@pytest.mark.parametrize("seed", range(4))
def test_random_json_is_scrubbed_byte_for_byte_as_the_scanner_does(seed):
    for text in random_texts(500, seed):
        assert scrub_json_text(text, FIELDS) == scanned(text, FIELDS), text


def test_random_json_cut_short_is_scrubbed_as_the_scanner_does():
    for text in random_texts(150, seed=99):
        for end in range(1, len(text), max(1, len(text) // 25)):
            cut = text[:end]
            assert scrub_json_text(cut, FIELDS) == scanned(cut, FIELDS), cut


def test_hostile_corpus_is_scrubbed_byte_for_byte_as_the_scanner_does():
    texts = hostile_texts()
    assert len(texts) > 50
    for text in texts:
        for fields in (DEFAULT_FIELDS, FIELDS, scrubbing.fields_for(["k", "run_id", "payload"])):
            assert scrub_json_text(text, fields) == scanned(text, fields), text[:200]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN, "password": 1}',  # NaN stops the scanner; the fast path must not differ
        '{"password": Infinity}',
        '{"a": 1} {"password": 2}',  # extra data
        '{"password": "x"}  ',
        '[{"pass\\u0077ord":\n  {"token": [1, {"x": "}"}]}, "secret": "s"}]',
        '{"k\\"ey": 1, "token"  :  -0.5e+3 , "z": [true]}',
        '{"password": "a\\"b\\\\", "next": "\\u2028"}',
        '{"x": ' + "[" * 2000 + "]" * 2000 + ', "token": 1}',  # past the decoder's depth
        '{"n": ' + "9" * 5000 + ', "token": 1}',  # past int digit limits
    ],
)
def test_edge_cases_match_the_scanner(text):
    assert scrub_json_text(text, DEFAULT_FIELDS) == scanned(text, DEFAULT_FIELDS)


def test_the_fast_path_is_taken_for_well_formed_text(monkeypatch):
    def refuse(*args):
        raise AssertionError("token scanner used")

    monkeypatch.setattr(scrubbing, "_redacted_spans", refuse)
    text = '{"code": "ERP-4001", "token": "x", "nested": {"Secret": [1, 2]}}'
    assert scrub_json_text(text, DEFAULT_FIELDS) == (
        '{"code": "ERP-4001", "token": "[redacted]", "nested": {"Secret": "[redacted]"}}'
    )


def test_a_secret_behind_a_duplicate_key_is_redacted():
    # The decoder keeps the last "a"; the text holds the first one as well.
    text = '{"a": {"password": "hunter2"}, "a": 1}'
    assert scrub_json_text(text, DEFAULT_FIELDS) == '{"a": {"password": "[redacted]"}, "a": 1}'
