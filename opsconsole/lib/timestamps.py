"""The one format of timestamps in answers (contract 8): UTC with ``Z``,
always to the microsecond, so every endpoint writes an instant the same
way. DRF serializers use it through ``REST_FRAMEWORK["DATETIME_FORMAT"]``;
documents built by hand call ``utc_z``."""

import datetime as dt

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_z(value):
    """``value`` (an aware datetime, or None) as ``2026-01-05T10:00:00.000000Z``."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime(FORMAT)
