"""The month a governance page or endpoint covers: ``period=YYYY-MM``,
read as a month of each tenant's own calendar (as ``GET /api/v1/sla``)."""

import re

from django.utils import timezone
from rest_framework.exceptions import ValidationError

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value, name="period", now=None):
    """(year, month) from ``YYYY-MM``; absent or empty: the current month
    (UTC). Anything else is a 400 naming ``name``."""
    if value is None or value == "":
        now = now or timezone.now()
        return now.year, now.month
    m = PERIOD_RE.match(value) if isinstance(value, str) else None
    if not m or not (1 <= int(m.group(2)) <= 12) or not (1971 <= int(m.group(1)) <= 9998):
        raise ValidationError({name: ["Expected a month as YYYY-MM."]})
    return int(m.group(1)), int(m.group(2))


def month_label(year, month):
    return f"{year:04d}-{month:02d}"
