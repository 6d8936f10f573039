"""The one rule for showing and taking a tenant's instants on pages: the
tenant's wall-clock time with the zone's abbreviation at that instant
("2026-03-08 14:05 CDT"), and local times typed into forms read in the
tenant's zone, across daylight-saving changes. The API keeps UTC with ``Z``
(``opsconsole.lib.timestamps``); pages, PDFs and e-mails use this.

Pure Python (no Django import): the template filters in
``opsconsole/templatetags/tenant_time.py`` and the forms call it."""

import datetime as dt
import zoneinfo

UTC = zoneinfo.ZoneInfo("UTC")
FORMAT = "%Y-%m-%d %H:%M %Z"
FORMAT_SECONDS = "%Y-%m-%d %H:%M:%S %Z"


def zone_of(tenant_or_zone):
    """A ZoneInfo from a tenant (its ``tzinfo``), a zone, a zone name or None (UTC)."""
    if tenant_or_zone is None or tenant_or_zone == "":
        return UTC
    if isinstance(tenant_or_zone, dt.tzinfo):
        return tenant_or_zone
    if isinstance(tenant_or_zone, str):
        try:
            return zoneinfo.ZoneInfo(tenant_or_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return UTC
    zone = getattr(tenant_or_zone, "tzinfo", None)
    return zone if isinstance(zone, dt.tzinfo) else UTC


def in_zone(value, tenant_or_zone):
    """``value`` (aware) in the tenant's zone; in UTC when that zone would take
    it past the calendar's end (year 9999 east of UTC, year 1 west of it), so
    rows stored before ingest bounded instants still render."""
    try:
        return value.astimezone(zone_of(tenant_or_zone))
    except (OverflowError, ValueError):
        return value.astimezone(UTC)


def abbreviation(local_value):
    """The zone's abbreviation at that instant ("CST", "CDT", "IST"); zones
    without a letter abbreviation give their offset ("+0545")."""
    name = local_value.tzname() or ""
    if name and name[0] in "+-":
        # tzdata spells offset-only zones "+0545" or "+03"; keep them readable.
        return f"UTC{name[0]}{name[1:3]}:{name[3:5]}" if len(name) == 5 else f"UTC{name}"
    return name


def local_text(value, tenant_or_zone, seconds=False):
    """``2026-03-08 14:05 CDT``: the instant in the tenant's zone, with the
    zone's abbreviation. Empty for None."""
    if value is None:
        return ""
    local = in_zone(value, tenant_or_zone)
    stamp = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{stamp} {abbreviation(local)}"


def clock_text(value, tenant_or_zone):
    """The time of day to the second in the tenant's zone (log lines)."""
    if value is None:
        return ""
    return in_zone(value, tenant_or_zone).strftime("%H:%M:%S")


def zone_label(tenant_or_zone, at=None):
    """How a form names the zone it reads times in: "America/Chicago, CST"."""
    zone = zone_of(tenant_or_zone)
    now = (at or dt.datetime.now(UTC)).astimezone(zone)
    key = getattr(zone, "key", str(zone))
    short = abbreviation(now)
    return key if short in ("", key) else f"{key}, {short}"


class NonexistentLocalTime(ValueError):
    """A wall-clock time the zone skips (the hour clocks spring forward)."""


def from_local(naive, tenant_or_zone):
    """The aware UTC instant a person meant by the wall-clock ``naive`` in the
    tenant's zone. A time skipped by a daylight-saving change raises
    NonexistentLocalTime; a repeated one (clocks falling back) is its first
    occurrence. An aware value is taken as it is."""
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    zone = zone_of(tenant_or_zone)
    first = naive.replace(tzinfo=zone, fold=0)
    # A skipped time does not survive the round trip through UTC.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {getattr(zone, 'key', zone)}: "
            "the clocks skip that hour for daylight saving time."
        )
    return first.astimezone(UTC)
