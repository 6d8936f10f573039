"""Template filters that show what workers sent as text, bounded (a hostile
message or payload of HTML, script, control characters or 1 MB renders as
escaped text with a visible truncation marker), plus durations and local
times for the triage pages."""

import json
import zoneinfo

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from integrations.money_display import amount_text
from integrations.money_display import close_note as money_close_note
from opsconsole.lib import localtime
from opsconsole.lib.visible import bound, json_text
from opsconsole.templatetags import tenant_time

register = template.Library()

TEXT_LIMIT = 2_000  # a message or title in a list or summary
JSON_LIMIT = 20_000  # a payload or response in the viewer

REDACTED = "[redacted]"


def _bound(text, limit):
    return bound(text, limit)


def _marker(cut):
    return format_html(
        '<span class="truncated" title="Shortened for display">… [truncated: {} more characters]</span>',
        f"{cut:,}",
    )


@register.filter
def bounded(value, limit=TEXT_LIMIT):
    """Escaped text, control characters shown as \\uXXXX, cut at ``limit``
    characters with a visible marker."""
    if value is None:
        return ""
    text, cut = _bound(str(value), int(limit))
    out = conditional_escape(text)
    return mark_safe(out + _marker(cut)) if cut else out  # noqa: S308 - escaped above


@register.filter
def payload(value, limit=JSON_LIMIT):
    """A payload or response as indented JSON text, escaped and bounded, with
    scrubbed values (``"[redacted]"``) visibly marked."""
    if value is None:
        return mark_safe('<span class="muted">none</span>')
    if isinstance(value, str):
        # A response body that holds JSON is shown as that JSON.
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            pass
    elif isinstance(value, dict) and isinstance(value.get("body"), str):
        try:
            value = {**value, "body": json.loads(value["body"])}
        except (ValueError, RecursionError):
            pass
    text = json_text(value)
    text, cut = _bound(text, int(limit))
    out = str(conditional_escape(text)).replace(
        REDACTED, '<mark class="redacted" title="Scrubbed before it was stored">[redacted]</mark>'
    )
    return mark_safe(out + (_marker(cut) if cut else ""))  # noqa: S308 - escaped above


@register.filter
def has_redacted(value):
    try:
        return REDACTED in json_text(value, indent=None)
    except (TypeError, ValueError):
        return False


@register.filter
def duration(seconds):
    """``1h 05m``, ``3d 2h``, ``45s``: business time left or overdue."""
    if seconds is None:
        return ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


# One implementation of local times for every page (opsconsole.lib.localtime);
# registered here too because the triage templates load this library.
in_zone = localtime.in_zone
register.filter("local", tenant_time.local)
register.filter("local_seconds", tenant_time.local_seconds)
register.filter("local_clock", tenant_time.local_clock)
register.filter("zone_label", tenant_time.zone_label)
register.simple_tag(tenant_time.ago, name="ago")


@register.filter
def utc(value):
    if value is None:
        return ""
    return value.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with ``changes`` applied (None removes)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def plain(value, limit=60):
    """Plain text for attributes and the page title: control characters shown
    as \\uXXXX, cut at ``limit`` with an ellipsis (autoescaped as usual)."""
    if value is None:
        return ""
    text, cut = _bound(str(value), int(limit))
    return text + "…" if cut else text


@register.filter
def money(value, currency=""):
    """An open amount with its currency (``8,120.50 USD``), exact; "" for None."""
    return amount_text(value, currency)


@register.simple_tag
def close_note(exception, tenant, now):
    """(text, css class) of the book close ``exception`` blocks, or None."""
    return money_close_note(exception, tenant, now)
