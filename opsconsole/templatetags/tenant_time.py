"""Template filters for a tenant's instants (``opsconsole.lib.localtime``):
every page shows them in the tenant's time with the zone's abbreviation.

    {% load tenant_time %}
    {{ run.started_at|local:tenant }}          2026-03-08 14:05 CDT
    {{ line.at|local_seconds:tenant }}         2026-03-08 14:05:09 CDT
    {{ line.at|local_clock:tenant }}           14:05:09
    {% ago e.last_seen e.tenant now %}         <time …>2 hours ago</time> (kept on one line, local time as tooltip)
"""

from django import template
from django.utils.html import format_html
from django.utils.timesince import timesince

from opsconsole.lib import localtime

register = template.Library()


@register.filter
def local(value, tenant):
    """A timestamp in the tenant's zone, with the zone's abbreviation."""
    return localtime.local_text(value, tenant)


@register.filter
def local_seconds(value, tenant):
    return localtime.local_text(value, tenant, seconds=True)


@register.filter
def local_clock(value, tenant):
    """The time of day, to the second, in the tenant's zone (log lines)."""
    return localtime.clock_text(value, tenant)


@register.filter
def zone_label(tenant):
    """The zone a form reads local times in: "America/Chicago, CST"."""
    return localtime.zone_label(tenant)


@register.simple_tag
def ago(value, tenant, now=None):
    """``2 hours ago`` as a ``<time>`` that never wraps, with the exact local
    time as its tooltip."""
    if value is None:
        return ""
    return format_html(
        '<time class="nowrap" datetime="{}" title="{}">{} ago</time>',
        value.isoformat(),
        localtime.local_text(value, tenant),
        timesince(value, now, depth=1),
    )


@register.filter
def local_date(value, tenant):
    """The day of an instant in the tenant's zone: ``2 Dec 2026``."""
    if value is None:
        return ""
    day = localtime.in_zone(value, tenant)
    return f"{day.day} {day:%b %Y}"
