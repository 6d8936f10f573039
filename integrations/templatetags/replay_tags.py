"""Template filters for text that workers wrote: bounded, and with control
characters shown as visible escapes rather than passed to the browser."""

from django import template

from opsconsole.lib.visible import bound, show_controls

register = template.Library()


@register.filter
def printable(value, limit=500):
    """``value`` as text of at most ``limit`` characters, control characters
    replaced by ``\\uXXXX`` (autoescaping still applies afterwards)."""
    if value is None:
        return ""
    text = str(value)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 500
    text, cut = bound(text, limit)
    return text + f"… ({cut} more characters)" if cut else text


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
    return show_controls(str(value))
