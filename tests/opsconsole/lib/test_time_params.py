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
        # The bounds themselves are instants every calendar can show.
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2200-01-01", datetime(2200, 1, 1, tzinfo=UTC)),
    ],
)
def test_dates_and_timestamps_with_offsets_are_instants_in_utc(value, expected):
    assert parse_instant(value, "from") == expected


@pytest.mark.parametrize("value", ["", "yesterday", "2026-11-02T10:00:00", "2026-02-30", "2026-11-02T25:00Z", "1e9"])
def test_anything_else_is_a_400_naming_the_parameter(value):
    with pytest.raises(ValidationError) as info:
        parse_instant(value, "to")
    assert list(info.value.detail) == ["to"]


@pytest.mark.parametrize(
    "value",
    ["9999-12-31", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z", "2200-01-02"],
)
def test_instants_outside_1970_to_2200_are_a_400_naming_the_parameter(value):
    with pytest.raises(ValidationError) as info:
        parse_instant(value, "to")
    assert list(info.value.detail) == ["to"]
    assert "1970" in str(info.value.detail["to"][0])


def test_a_whole_last_day_reaches_past_the_calendar_end_as_a_400():
    with pytest.raises(ValidationError) as info:
        parse_instant("9999-12-31", "to", end_of_day=True)
    assert list(info.value.detail) == ["to"]


def test_a_range_must_not_end_before_it_starts():
    assert instant_range({"from": "2026-11-01", "to": "2026-11-01"})[0] == datetime(2026, 11, 1, tzinfo=UTC)
    assert instant_range({}) == (None, None)
    with pytest.raises(ValidationError) as info:
        instant_range({"from": "2026-11-02", "to": "2026-11-01T23:00:00Z"})
    assert list(info.value.detail) == ["to"]
