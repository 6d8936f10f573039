"""Rollup buckets: UTC hours cut at the tenant's local midnights."""

from datetime import date
from zoneinfo import ZoneInfo

from sla.rollups import _DayBounds, buckets_of_day


def test_a_day_ending_daylight_saving_has_25_hourly_buckets():
    buckets = buckets_of_day(date(2026, 11, 1), ZoneInfo("America/Chicago"))
    assert len(buckets) == 25
    assert all(e - s == 3600 for s, e in buckets)


def test_half_hour_offsets_split_the_hours_at_midnight():
    tz = ZoneInfo("Asia/Kolkata")  # +05:30: local midnight is 18:30 UTC
    buckets = buckets_of_day(date(2026, 11, 2), tz)
    assert len(buckets) == 25
    assert buckets[0][1] - buckets[0][0] == 1800 and buckets[-1][1] - buckets[-1][0] == 1800
    assert sum(e - s for s, e in buckets) == 86400
    bounds = _DayBounds(tz)
    s, e, d = bounds.bucket_of(buckets[0][0] + 60)
    assert (s, e, d) == (*buckets[0], date(2026, 11, 2))
    # One second before that local midnight belongs to the previous day's last bucket.
    assert bounds.bucket_of(buckets[0][0] - 1)[2] == date(2026, 11, 1)
