"""The SLA engine reads raw runs' start times as integer epoch microseconds on
PostgreSQL; the seconds it computes from them must be the very floats
``datetime.timestamp()`` gives, from year 1 to year 9999, or a run at a
bucket's or a window's edge could land on the other side."""

import random
from datetime import UTC, datetime, timedelta

from sla.raw import seconds_of_micros

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_microseconds_give_the_same_seconds_as_the_timestamp_from_year_1_to_9999():
    lo = (datetime(1, 1, 2, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
    hi = (datetime(9999, 12, 30, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
    rnd = random.Random(3)  # noqa: S311 - test data
    samples = [lo, hi, 0, -1, 1, 999_999, 1_000_001] + [rnd.randrange(lo, hi) for _ in range(50_000)]
    for micros in samples:
        assert seconds_of_micros(micros) == (EPOCH + timedelta(microseconds=micros)).timestamp(), micros
