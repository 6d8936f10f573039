"""Business time: minutes inside a tenant's business hours, in its time zone,
on its days, outside its holidays (contract sections 1 and 4.4).

Pure computation, no Django import. The SLA clock of an exception
(``sla/clock.py``), the acknowledge and resolve objectives and the trends use it.

An instant is business time when its local wall-clock time, in the tenant's
zone, lies in ``[start, end)`` of a listed day that is not a holiday. The
local day may last 23 or 25 hours around daylight-saving changes: a wall
time that does not exist (spring forward) is skipped, one that occurs twice
(fall back) counts twice, exactly as a clock on the office wall would show.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Business days are looked for this far ahead before add_business_minutes
# gives up (a calendar whose every day is a holiday has no business time).
MAX_SEARCH_DAYS = 366 * 20

# The largest UTC offset in the tz database is +14:00, the smallest -12:00.
_MAX_OFFSET = dt.timedelta(hours=15)
_SAMPLE_STEP = dt.timedelta(hours=1)


def _parse_time(value, name: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a time such as '08:00'")
    if value.strip() == "24:00":
        return dt.time.max  # end of the day
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name}: '{value}' is not a time such as '08:00'") from None


def _parse_day(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower()[:3] in DAY_NAMES:
        return DAY_NAMES.index(value.strip().lower()[:3])
    raise ValueError(f"days: unknown day {value!r} (use mon, tue, wed, thu, fri, sat, sun)")


def _parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"holidays: '{value}' is not a date such as '2026-12-25'") from None


@dataclass(frozen=True)
class BusinessHours:
    tz: str  # IANA name
    days: frozenset[int]  # 0=Monday..6=Sunday
    start: dt.time  # local wall time, [start, end)
    end: dt.time  # dt.time.max stands for midnight at the end of the day
    holidays: frozenset[dt.date]

    def __post_init__(self):
        ZoneInfo(self.tz)  # raises for an unknown zone
        if not self.days:
            raise ValueError("days: at least one day is needed")
        if not self.start < self.end:
            raise ValueError("start must be before end")

    @classmethod
    def from_config(cls, tz: str, config: dict | None) -> BusinessHours | None:
        """Build from the configuration's ``business_hours`` mapping, such as
        ``{"days": ["mon", ...], "start": "08:00", "end": "18:00",
        "holidays": ["2026-12-25"]}``; ``None`` (absent) means 24x7."""
        if config is None:
            return None
        if not isinstance(config, dict):
            raise ValueError("business_hours: expected a mapping")
        days = config.get("days", DAY_NAMES[:5])
        if not isinstance(days, list | tuple | set | frozenset):
            raise ValueError("days: expected a list of days")
        holidays = config.get("holidays") or []
        if not isinstance(holidays, list | tuple | set | frozenset):
            raise ValueError("holidays: expected a list of dates")
        return cls(
            tz=tz,
            days=frozenset(_parse_day(d) for d in days),
            start=_parse_time(config.get("start", "00:00"), "start"),
            end=_parse_time(config.get("end", "24:00"), "end"),
            holidays=frozenset(_parse_date(h) for h in holidays),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def segments_of_day(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The UTC intervals ``[a, b)`` of business time whose local date is ``day``."""
        if not self.is_business_day(day):
            return ()
        return _wall_range_to_utc(self.tz, day, self.start, self.end)

    def segments_from(self, instant: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Business intervals (UTC) that end after ``instant``, in time order,
        clipped to begin no earlier than it."""
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.zone).date() - dt.timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            for a, b in self.segments_of_day(day):
                if b > instant:
                    yield max(a, instant), b
            day += dt.timedelta(days=1)
        raise ValueError("no business time found in the next 20 years")

    def segments_before(self, instant: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Business intervals (UTC) that begin before ``instant``, latest
        first, clipped to end no later than it."""
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.zone).date() + dt.timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            for a, b in reversed(self.segments_of_day(day)):
                if a < instant:
                    yield a, min(b, instant)
            day -= dt.timedelta(days=1)
        raise ValueError("no business time found in the last 20 years")

    @property
    def day_seconds(self) -> float:
        """The length of one business day (its wall-clock hours), in seconds."""
        end = dt.timedelta(days=1) if self.end == dt.time.max else _since_midnight(self.end)
        return (end - _since_midnight(self.start)).total_seconds()


def _since_midnight(t: dt.time) -> dt.timedelta:
    return dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _offset_at(zone: ZoneInfo, utc: dt.datetime) -> dt.timedelta:
    return utc.astimezone(zone).utcoffset()


def _pieces(zone: ZoneInfo, lo: dt.datetime, hi: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """Split the UTC range [lo, hi) into pieces of constant UTC offset.

    Offsets are sampled hourly; where two samples differ, the change is
    located to the second by bisection (zones change offset at most once an hour).
    """
    pieces = []
    start, offset = lo, _offset_at(zone, lo)
    t = lo
    while t < hi:
        nxt = min(t + _SAMPLE_STEP, hi)
        off_next = _offset_at(zone, nxt)
        if off_next != offset:
            lo_s, hi_s = 0, int((nxt - t).total_seconds())  # offset(t + lo_s) == offset
            while hi_s - lo_s > 1:
                mid = (lo_s + hi_s) // 2
                if _offset_at(zone, t + dt.timedelta(seconds=mid)) == offset:
                    lo_s = mid
                else:
                    hi_s = mid
            b = t + dt.timedelta(seconds=hi_s)
            pieces.append((start, b, offset))
            start, offset = b, _offset_at(zone, b)
        t = nxt
    pieces.append((start, hi, offset))
    return pieces


@functools.lru_cache(maxsize=8192)
def _wall_range_to_utc(
    tz: str, day: dt.date, start: dt.time, end: dt.time
) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """UTC intervals of the instants whose local wall time lies in
    [day+start, day+end). Usually one interval; two when a fall-back hour
    inside the range repeats wall times, and shorter when a spring-forward
    gap swallows part of it."""
    zone = ZoneInfo(tz)
    w0 = dt.datetime.combine(day, start)
    w1 = (
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0))
        if end == dt.time.max
        else dt.datetime.combine(day, end)
    )
    lo = (w0 - _MAX_OFFSET).replace(tzinfo=UTC)
    hi = (w1 + _MAX_OFFSET).replace(tzinfo=UTC)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b, off in _pieces(zone, lo, hi):
        # Within a piece, wall time = UTC + off: intersect in wall time, map back.
        wa = max(a.replace(tzinfo=None) + off, w0)
        wb = min(b.replace(tzinfo=None) + off, w1)
        if wa < wb:
            seg = ((wa - off).replace(tzinfo=UTC), (wb - off).replace(tzinfo=UTC))
            if out and out[-1][1] == seg[0]:
                out[-1] = (out[-1][0], seg[1])
            else:
                out.append(seg)
    return tuple(out)


def _require_aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(UTC)


def business_seconds_between(start: dt.datetime, end: dt.datetime, hours: BusinessHours | None) -> float:
    """Seconds of business time in [start, end); every second counts when
    ``hours`` is None (24x7); 0 when end is not after start."""
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    if end <= start:
        return 0.0
    if hours is None:
        return (end - start).total_seconds()
    zone = hours.zone
    total = dt.timedelta(0)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    while day <= last:
        for a, b in hours.segments_of_day(day):
            lo, hi = max(a, start), min(b, end)
            if lo < hi:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total.total_seconds()


def add_business_minutes(start: dt.datetime, minutes: float, hours: BusinessHours | None) -> dt.datetime:
    """The instant (UTC) at which ``minutes`` business minutes have elapsed
    after ``start``. A deadline that falls exactly at the close of business
    is that close, not the next opening."""
    start = _require_aware(start, "start")
    remaining = dt.timedelta(minutes=minutes)
    if remaining <= dt.timedelta(0):
        return start
    if hours is None:
        return start + remaining
    for a, b in hours.segments_from(start):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    raise AssertionError("unreachable: segments_from raises when it runs out")  # pragma: no cover


def business_day_seconds(hours: BusinessHours | None) -> float:
    """Seconds in one business day: its hours, or 24 hours for 24x7."""
    return 86400.0 if hours is None else hours.day_seconds


def latest_start_with(end: dt.datetime, seconds: float, hours: BusinessHours | None) -> dt.datetime:
    """The latest instant ``t`` (UTC) with at least ``seconds`` of business
    time in [t, end): whatever opened at or before it is at least that old
    at ``end`` in business time, whatever opened after it is younger. The
    backlog aging buckets and their inbox links cut by these instants."""
    end = _require_aware(end, "end")
    remaining = dt.timedelta(seconds=seconds)
    if remaining <= dt.timedelta(0):
        return end
    if hours is None:
        return end - remaining
    for a, b in hours.segments_before(end):
        if b - a >= remaining:
            return b - remaining
        remaining -= b - a
    raise AssertionError("unreachable: segments_before raises when it runs out")  # pragma: no cover


log = logging.getLogger(__name__)


def business_hours_of(tenant) -> BusinessHours | None:
    """The tenant's business calendar, the one every figure uses (the inbox
    deadline, the SLA clock, the SLA report and trends): None counts every
    minute (24x7), as does a calendar that cannot be read (apply_config
    checks what it stores; this says so in the log rather than fail a page).
    ``tenant`` needs ``timezone``, ``business_hours`` and ``slug``."""
    if not tenant.business_hours:
        return None
    try:
        return BusinessHours.from_config(tenant.timezone, tenant.business_hours)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("tenant %s: unreadable business_hours (%s); counting every minute", tenant.slug, exc)
        return None


# --- Book close (contract section 1, 1.1) ----------------------------------------------------------


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _is_close_day(day: dt.date, hours: BusinessHours | None) -> bool:
    """Business days of the close: those of the calendar, every day when 24x7."""
    return hours is None or hours.is_business_day(day)


def _end_of_business_day(day: dt.date, hours: BusinessHours | None, tz: str) -> dt.datetime:
    """The instant (UTC) a business day ends: the end of its business hours,
    local midnight after it when there are none (24x7)."""
    if hours is not None:
        segments = hours.segments_of_day(day)
        if segments:
            return segments[-1][1]
    # Midnight that ends ``day``, in the tenant's zone (a wall time that exists
    # on every DST change, which happen at night but never at 00:00 of the next day here).
    return _wall_range_to_utc(tz, day, dt.time(0), dt.time.max)[-1][1]


@functools.lru_cache(maxsize=4096)
def close_deadline(year: int, month: int, business_day: int, hours: BusinessHours | None, tz: str) -> dt.datetime:
    """When the books of ``year``-``month`` close (UTC): the end of the
    ``business_day``-th business day of the following month, in the tenant's
    calendar (``hours``, None for 24x7, in zone ``tz``). A business day ends
    at the end of its business hours, at midnight when there are none."""
    if business_day < 1:
        raise ValueError("business_day must be at least 1")
    y, m = _next_month(year, month)
    day = dt.date(y, m, 1)
    seen = 0
    for _ in range(MAX_SEARCH_DAYS):
        if _is_close_day(day, hours):
            seen += 1
            if seen == business_day:
                return _end_of_business_day(day, hours, tz)
        day += dt.timedelta(days=1)
    raise ValueError("no business day found in the next 20 years")


def closing_month(deadline: dt.datetime, business_day: int, hours: BusinessHours | None, tz: str) -> dt.date | None:
    """The first day of the month whose books close at ``deadline`` (the
    inverse of :func:`close_deadline`), or None when no month of the year
    before it does."""
    local = deadline.astimezone(ZoneInfo(tz)).date()
    year, month = local.year, local.month
    for _ in range(13):
        if close_deadline(year, month, business_day, hours, tz) == deadline:
            return dt.date(year, month, 1)
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return None


def business_days_to(now: dt.datetime, deadline: dt.datetime, hours: BusinessHours | None, tz: str) -> int:
    """Business days left before ``deadline`` (positive: today counts while
    its business day has not ended; the deadline's own day counts), or, once
    it has passed, minus the business days begun since (negative), as the
    inbox says "2 business days left" or "passed 1 business day ago"."""
    now = _require_aware(now, "now")
    deadline = _require_aware(deadline, "deadline")
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    last = (deadline - dt.timedelta(microseconds=1)).astimezone(zone).date()
    if now < deadline:
        count = 0
        day = today
        while day <= last:
            if _is_close_day(day, hours) and _end_of_business_day(day, hours, tz) > now:
                count += 1
            day += dt.timedelta(days=1)
        return max(count, 1)
    count = 0
    day = last + dt.timedelta(days=1)
    while day <= today:
        if _is_close_day(day, hours):
            count += 1
        day += dt.timedelta(days=1)
    return -count
