"""The one rule for a tenant's instants on pages: local wall-clock time with
the zone's abbreviation, and local times typed into forms read in that zone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from opsconsole.lib.localtime import NonexistentLocalTime, from_local, local_text, zone_label

UTC = dt.UTC


def test_it_shows_the_abbreviation_in_force_on_each_side_of_a_dst_change():
    # Chicago springs forward on 2026-03-08 at 02:00 CST (08:00 UTC).
    before = dt.datetime(2026, 3, 8, 7, 59, tzinfo=UTC)
    after = dt.datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert local_text(before, "America/Chicago") == "2026-03-08 01:59 CST"
    assert local_text(after, "America/Chicago") == "2026-03-08 03:00 CDT"


def test_it_shows_a_non_whole_hour_zone_with_its_offset():
    instant = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert local_text(instant, "Asia/Kathmandu") == "2026-12-01 17:45 UTC+05:45"
    assert local_text(instant, "Asia/Kolkata") == "2026-12-01 17:30 IST"
    assert local_text(instant, "Australia/Adelaide", seconds=True) == "2026-12-01 22:30:00 ACDT"


def test_it_reads_a_typed_local_time_in_the_tenants_zone_across_dst():
    zone = ZoneInfo("America/Chicago")
    # Winter (CST, UTC-6) and summer (CDT, UTC-5) wall-clock 09:00.
    assert from_local(dt.datetime(2026, 3, 7, 9, 0), zone) == dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    assert from_local(dt.datetime(2026, 3, 9, 9, 0), zone) == dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    # 01:30 on the fall-back night happens twice; the first (CDT) is meant.
    assert from_local(dt.datetime(2026, 11, 1, 1, 30), zone) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # Kathmandu is UTC+05:45.
    assert from_local(dt.datetime(2026, 12, 1, 17, 45), "Asia/Kathmandu") == dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_it_refuses_a_local_time_the_clocks_skip():
    with pytest.raises(NonexistentLocalTime, match="does not exist in America/Chicago"):
        from_local(dt.datetime(2026, 3, 8, 2, 30), "America/Chicago")


def test_a_form_label_names_the_zone_and_its_current_abbreviation():
    winter = dt.datetime(2026, 12, 1, tzinfo=UTC)
    assert zone_label("America/Chicago", at=winter) == "America/Chicago, CST"
    assert zone_label(None, at=winter) == "UTC"
