"""Template filters for text that workers wrote: bounded, and with control
characters shown as visible escapes rather than passed to the browser."""

import unicodedata

from django import template

register = template.Library()

# Control, format (bidi overrides, zero-width), separator and surrogate characters.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _visible(char):
    if char in "\n\t" or unicodedata.category(char) not in _HIDDEN:
        return char
    return f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}"


@register.filter
def printable(value, limit=500):
    """``value`` as text of at most ``limit`` characters, control characters
    replaced by ``\\xNN`` (autoescaping still applies afterwards)."""
    if value is None:
        return ""
    text = str(value)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 500
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return "".join(_visible(c) for c in text)


@register.filter
def spaced(value):
    """``pending_approval`` -> ``pending approval``."""
    return str(value or "").replace("_", " ")


@register.filter
def whole(value):
    """``value`` as text, never cut (what an approver must read in full),
    control characters replaced by visible escapes."""
    if value is None:
        return ""
    return "".join(_visible(c) for c in str(value))
