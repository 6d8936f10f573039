"""Backlog aging: open exceptions by priority in buckets of business days
(< 1, 1–3, 3–7, > 7) of each tenant's calendar, and inbox links that list
exactly each cell's exceptions."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from governance.aging import aging, edges
from integrations.models import ExceptionStatus
from opsconsole.models import Tenant
from sla.business_time import BusinessHours, business_seconds_between, latest_start_with
from tests import factories as f

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "holidays": ["2026-11-26"]}
# Monday 2026-11-30, noon in Chicago (CST).
NOW = datetime(2026, 11, 30, 12, tzinfo=CHICAGO)


def chicago(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


def test_latest_start_with_walks_back_through_business_hours_and_holidays():
    hours = BusinessHours.from_config("America/Chicago", HOURS)
    # 10 h back from Monday noon: Monday 08-12, then Friday 12-18.
    assert latest_start_with(NOW, 10 * 3600, hours) == chicago(27, 12)
    # 30 h: Thursday the 26th is a holiday, so Tuesday noon.
    assert latest_start_with(NOW, 30 * 3600, hours) == chicago(24, 12)
    # Ending at a closing time: whatever opened during the night is as old.
    assert latest_start_with(NOW, 4 * 3600, hours) == chicago(30, 8)
    assert latest_start_with(NOW, 0, hours) == NOW
    assert latest_start_with(NOW, 3600, None) == NOW - timedelta(hours=1)
    for seconds in (1, 3600, 36000, 250000):
        start = latest_start_with(NOW, seconds, hours)
        assert business_seconds_between(start, NOW, hours) == seconds


@pytest.fixture
def backlog(contoso, fabrikam):
    contoso.business_hours = HOURS
    contoso.save(update_fields=["business_hours"])
    c = f.make_integration(contoso, "time-expense-posting")
    fb = f.make_integration(fabrikam, "time-expense-posting")
    made = {}

    def make(name, integration, opened_at, priority="P2", **kw):
        made[name] = f.make_exception(integration, opened_at=opened_at, priority=priority, **kw).pk

    make("saturday", c, chicago(28, 10))  # 4 business hours old
    make("friday-noon", c, chicago(27, 12))  # exactly one business day
    make("friday-11", c, chicago(27, 11))  # 11 h
    make("holiday", c, chicago(26, 10))  # 14 h: the holiday does not count
    make("tuesday-13", c, chicago(24, 13))  # 29 h
    make("tuesday-11", c, chicago(24, 11))  # 31 h
    make("wednesday-13", c, chicago(18, 13))  # 69 h
    make("wednesday-11", c, chicago(18, 11))  # 71 h
    make("p1-acked", c, chicago(30, 9), priority="P1", status=ExceptionStatus.ACKNOWLEDGED)
    make("resolved", c, chicago(2, 9), status=ExceptionStatus.RESOLVED)
    # Fabrikam keeps no business hours: a business day is 24 hours.
    make("berlin-30h", fb, NOW - timedelta(hours=30))
    make("berlin-8d", fb, NOW - timedelta(days=8), priority="P4")
    return made


def cell(row, priority, bucket):
    return row.counts.get((priority, bucket), 0)


@time_machine.travel(NOW, tick=False)
def test_buckets_count_business_days_of_each_tenants_calendar(backlog, northwind):
    rows, totals, shared = aging(Tenant.objects.filter(partner=northwind), NOW)
    contoso, fabrikam = rows
    assert contoso.tenant.slug == "contoso"
    assert {b: cell(contoso, "P2", b) for b in ("lt1", "1-3", "3-7", "gt7")} == {
        "lt1": 1,  # saturday
        "1-3": 4,  # friday-noon, friday-11, holiday, tuesday-13
        "3-7": 2,  # tuesday-11, wednesday-13
        "gt7": 1,  # wednesday-11
    }
    assert cell(contoso, "P1", "lt1") == 1
    assert cell(fabrikam, "P2", "1-3") == 1 and cell(fabrikam, "P4", "gt7") == 1
    assert totals[("P2", "1-3")] == 5
    assert shared is None  # the two calendars cut at different instants


def ids_listed(client, url):
    # The inbox lists open and acknowledged exceptions unless told otherwise.
    response = client.get(url.replace("/inbox/", "/api/v1/exceptions") + "&status=open,acknowledged")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@time_machine.travel(NOW, tick=False)
def test_each_cells_inbox_link_lists_exactly_its_exceptions(backlog, manager, as_user):
    browser = Client()
    browser.force_login(manager)
    page = browser.get("/governance/aging/").content.decode()
    links = dict(re.findall(r'href="(/inbox/\?[^"]+)" class="age-\d">(\d+)</a>', page))
    api = as_user(manager)
    expected = {
        ("contoso", "P2", "lt1"): {"saturday"},
        ("contoso", "P2", "1-3"): {"friday-noon", "friday-11", "holiday", "tuesday-13"},
        ("contoso", "P2", "3-7"): {"tuesday-11", "wednesday-13"},
        ("contoso", "P2", "gt7"): {"wednesday-11"},
        ("contoso", "P1", "lt1"): {"p1-acked"},
        ("fabrikam", "P2", "1-3"): {"berlin-30h"},
        ("fabrikam", "P4", "gt7"): {"berlin-8d"},
    }
    assert len(links) == len(expected)
    seen = set()
    for url, count in links.items():
        url = url.replace("&amp;", "&")
        listed = ids_listed(api, url)
        names = {name for name, pk in backlog.items() if pk in listed}
        assert len(listed) == int(count)
        assert names in expected.values(), (url, names)
        seen.add(frozenset(names))
        assert browser.get(url).status_code == 200
    assert seen == {frozenset(v) for v in expected.values()}


@time_machine.travel(NOW, tick=False)
def test_cuts_sit_where_the_age_reaches_whole_business_days(contoso):
    contoso.business_hours = HOURS
    cut = edges(contoso, NOW)
    tick = timedelta(microseconds=1)
    assert cut[1] - tick == chicago(27, 12)
    assert cut[3] - tick == chicago(24, 12)
    assert cut[7] - tick == chicago(18, 12)


@time_machine.travel(NOW, tick=False)
def test_malformed_opened_filters_are_400_naming_the_parameter(as_user, manager, contoso):
    api = as_user(manager)
    for name in ("opened_after", "opened_before"):
        response = api.get(f"/api/v1/exceptions?{name}=yesterday")
        assert response.status_code == 400 and name in response.json()
    response = api.get("/api/v1/exceptions?opened_after=2026-11-20&opened_before=2026-11-10")
    assert response.status_code == 400 and "opened_before" in response.json()
