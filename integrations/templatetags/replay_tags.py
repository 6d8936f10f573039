"""Template filters for text that workers wrote: bounded, and with control
characters shown as visible escapes rather than passed to the browser."""

import re

from django import template

register = template.Library()

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


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
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@register.filter
def spaced(value):
    """``pending_approval`` -> ``pending approval``."""
    return str(value or "").replace("_", " ")
