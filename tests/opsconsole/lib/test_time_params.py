"""``from``/``to`` query parameters: an ISO date or a timestamp with an offset."""

from datetime import UTC, datetime

import pytest
from rest_framework.exceptions import ValidationError

from opsconsole.lib.time_params import instant_range, parse_instant


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02", datetime(2026, 11, 2, tzinfo=UTC)),
        ("2026-11-02T10:00:00Z", datetime(2026, 11, 2, 10, tzinfo=UTC)),
        ("2026-11-02T10:00Z", datetime(2026, 11, 2, 10, tzinfo=UTC)),
        ("2026-11-02T10:00:00.250+02:00", datetime(2026, 11, 2, 8, 0, 0, 250000, tzinfo=UTC)),
        # An unencoded "+" arrives as a space.
        ("2026-11-02T10:00:00 02:00", datetime(2026, 11, 2, 8, tzinfo=UTC)),
    ],
)
def test_dates_and_timestamps_with_offsets_are_instants_in_utc(value, expected):
    assert parse_instant(value, "from") == expected


@pytest.mark.parametrize("value", ["", "yesterday", "2026-11-02T10:00:00", "2026-02-30", "2026-11-02T25:00Z", "1e9"])
def test_anything_else_is_a_400_naming_the_parameter(value):
    with pytest.raises(ValidationError) as info:
        parse_instant(value, "to")
    assert list(info.value.detail) == ["to"]


def test_a_range_must_not_end_before_it_starts():
    assert instant_range({"from": "2026-11-01", "to": "2026-11-01"})[0] == datetime(2026, 11, 1, tzinfo=UTC)
    assert instant_range({}) == (None, None)
    with pytest.raises(ValidationError) as info:
        instant_range({"from": "2026-11-02", "to": "2026-11-01T23:00:00Z"})
    assert list(info.value.detail) == ["to"]
