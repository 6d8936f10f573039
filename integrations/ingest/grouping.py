"""Grouping failures into exceptions (contract 4.1).

Failures of one integration share an exception when they share the worker's
``fingerprint``; else the same (entity, error_code) when an error code is
given; else the same (entity, error_class, normalised message)."""

import hashlib
import re

# Normalisation steps, applied in this order (contract 4.1).
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
# Double-quoted text; single-quoted text whose opening quote does not follow a
# letter or digit, so the apostrophes of "can't" and "worker's" stay.
_QUOTED = re.compile(r"\"[^\"]*\"|(?<![0-9A-Za-z])'[^']*'")
# A maximal run of 8+ hex digits that holds at least one decimal digit.
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?=[A-Fa-f]*[0-9])[0-9A-Fa-f]{8,}(?![0-9A-Fa-f])")
_DIGITS = re.compile(r"[0-9]+")

FINGERPRINT = "fingerprint"
ERROR_CODE = "error_code"
MESSAGE = "message"


def normalise_message(text):
    """``text`` with the variable parts replaced by placeholders: the same
    kind of error reads the same whatever record it happened to."""
    # Each pattern needs a character the cheap ``in`` tests look for first.
    if "-" in text:
        text = _UUID.sub("<uuid>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if '"' in text or "'" in text:
        text = _QUOTED.sub("<str>", text)
    text = _HEX.sub("<hex>", text)
    text = _DIGITS.sub("<n>", text)
    # str.split() splits on exactly the characters \s matches in a str pattern.
    return " ".join(text.split())


def grouping_key(entity, error_code="", error_class="", message="", fingerprint="", normalised=None):
    """(grouped_by, key parts) for one failure. ``normalised`` may carry the
    already normalised message to save a second pass."""
    if fingerprint:
        return FINGERPRINT, (fingerprint,)
    if error_code:
        return ERROR_CODE, (entity, error_code)
    if normalised is None:
        normalised = normalise_message(message)
    return MESSAGE, (entity, error_class or "", normalised)


def key_hash(grouped_by, parts):
    """Hex SHA-256 of a grouping key; each part is length-prefixed so no two
    keys can collide by moving a separator."""
    digest = hashlib.sha256(grouped_by.encode())
    for part in parts:
        raw = part.encode("utf-8")
        digest.update(b"%d:" % len(raw))
        digest.update(raw)
    return digest.hexdigest()
