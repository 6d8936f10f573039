"""Acknowledge and resolve deadlines in business minutes (contract 4.4): the
tenant's hours, in its time zone, outside its holidays."""

import time_machine

from tests import factories as f
from tests.sla.conftest import utc

HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "holidays": ["2026-12-07"]}
DEC = "/api/v1/sla?tenant=contoso&period=2026-12"


def ack_row(client):
    response = client.get(DEC)
    assert response.status_code == 200
    rows = [r for r in response.json()["objectives"] if r["objective"] == "acknowledge"]
    assert len(rows) == 1
    return rows[0]


def test_friday_evening_before_a_holiday_monday(contoso, daily, as_user, support):
    contoso.business_hours = HOURS
    contoso.save(update_fields=["business_hours"])
    # Friday Dec 4 17:50 CST: 10 business minutes on Friday, Monday is a
    # holiday, so 30 business minutes end on Tuesday Dec 8 at 08:20 CST (14:20Z).
    friday = utc(2026, 12, 4, 23, 50)
    openings = [f.make_opening(daily, friday) for _ in range(3)]
    client = as_user(support)
    with time_machine.travel(utc(2026, 12, 7, 18), tick=False):  # noon on the holiday
        # Nobody has acknowledged yet, and no deadline has passed: no data.
        row = ack_row(client)
        assert (row["good"], row["total"], row["attained"]) == (0, 0, None)
    openings[0].acknowledged_at = utc(2026, 12, 8, 14, 15)  # in time
    openings[1].acknowledged_at = utc(2026, 12, 8, 14, 25)  # five minutes late
    for o in openings[:2]:
        o.save(update_fields=["acknowledged_at"])
    # Opened Tuesday 08:10 CST, deadline 08:40 CST: still waiting at 08:30.
    f.make_opening(daily, utc(2026, 12, 8, 14, 10))
    with time_machine.travel(utc(2026, 12, 8, 14, 30), tick=False):
        row = ack_row(client)
        # openings[2] is still waiting but its deadline has passed: bad.
        assert (row["good"], row["total"]) == (1, 3)


@time_machine.travel(utc(2026, 12, 9, 20), tick=False)
def test_trends_measure_response_times_in_business_minutes(contoso, daily, as_user, support):
    contoso.business_hours = HOURS
    contoso.save(update_fields=["business_hours"])
    f.make_opening(
        daily, utc(2026, 12, 4, 23, 50), acknowledged_at=utc(2026, 12, 8, 14, 15), resolved_at=utc(2026, 12, 8, 16)
    )
    body = as_user(support).get("/api/v1/trends?tenant=contoso&from=2026-12-04&to=2026-12-05").json()
    (bucket,) = body["buckets"]
    # 10 minutes on Friday, none on the weekend or the holiday, 15 on Tuesday.
    assert bucket["acknowledge_minutes"] == {"median": 25.0, "p95": 25.0}
    assert bucket["resolve_minutes"]["median"] == 130.0
