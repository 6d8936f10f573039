"""Open amount and close deadline of exceptions (contract 4.1, 1.1), kept by
every writer that changes a record's state, equal at each step of a
constructed history to a recomputation from the raw failures."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from integrations.models import Failure, FailureState, Replay, SyncException
from integrations.retention import purge_tenant
from sla.business_time import business_hours_of, close_deadline
from tests import factories as f

pytestmark = pytest.mark.django_db

COUNTED = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)


def from_raw_failures(exception):
    """(open_amount, close_deadline) as the contract defines them, computed
    here from the failure rows alone."""
    latest = {}
    for failure in Failure.objects.filter(exception=exception).order_by("entity", "record_id", "-occurred_at", "-id"):
        latest.setdefault((failure.entity, failure.record_id), failure)
    counted = [x for x in latest.values() if x.state in COUNTED and x.amount is not None]
    amount = sum((x.amount for x in counted), Decimal(0)) if counted else None
    tenant = exception.tenant
    tenant.refresh_from_db()
    close = None
    if tenant.close_business_day and counted:
        hours = business_hours_of(tenant)
        closes = []
        for x in counted:
            local = x.occurred_at.astimezone(ZoneInfo(tenant.timezone))
            closes.append(close_deadline(local.year, local.month, tenant.close_business_day, hours, tenant.timezone))
        close = min(closes)
    return amount, close


def assert_consistent():
    """Every exception's stored money equals the recomputation."""
    for exception in SyncException.objects.select_related("tenant"):
        assert (exception.open_amount, exception.close_deadline) == from_raw_failures(exception), exception.pk


def only():
    return SyncException.objects.get()


def run(run_id, *failures, started="2026-11-26T10:00:00Z", **kw):
    return f.run_doc(run_id, status="partial", started_at=started, finished_at=started, failures=list(failures), **kw)


def fail(record_id, amount=None, **kw):
    item = f.failure_doc(record_id, error_code="ERP-4001", **kw)
    if amount is not None:
        item["amount"] = amount
    return item


@pytest.fixture
def closing(contoso):
    """Contoso closes its books on the 3rd business day, Monday to Friday 08:00-18:00 in Chicago."""
    contoso.close_business_day = 3
    contoso.business_hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    contoso.save(update_fields=["close_business_day", "business_hours"])
    return contoso


def test_an_exception_without_amounts_holds_none(post_run):
    assert post_run(run("r1", fail("TE-1"), fail("TE-2"))).status_code == 201
    assert only().open_amount is None and only().close_deadline is None
    assert_consistent()


def test_zero_is_an_amount(post_run):
    assert post_run(run("r1", fail("TE-1", 0), fail("TE-2"))).status_code == 201
    assert only().open_amount == Decimal("0")
    assert_consistent()


def test_reposts_that_change_amounts_move_the_open_amount(post_run):
    doc = run("r1", fail("TE-1", 100.25), fail("TE-2", 50))
    post_run(doc)
    assert only().open_amount == Decimal("150.25")
    doc["failures"] = [fail("TE-1", 10)]
    post_run(doc)
    assert only().open_amount == Decimal("60")
    assert_consistent()
    # A later run's failure of the same record is its latest: its amount counts, once.
    post_run(run("r2", fail("TE-1", 7), started="2026-11-26T11:00:00Z"))
    assert only().open_amount == Decimal("57")
    assert_consistent()


def test_a_repost_that_moves_a_failure_to_another_exception_moves_its_money(post_run):
    doc = run("r1", fail("TE-1", 100), fail("TE-2", 50))
    post_run(doc)
    first = only()
    doc["failures"] = [f.failure_doc("TE-1", error_code="ERP-9999", amount=100)]
    post_run(doc)
    first.refresh_from_db()
    other = SyncException.objects.exclude(pk=first.pk).get()
    assert (first.open_amount, other.open_amount) == (Decimal("50"), Decimal("100"))
    assert_consistent()


def test_recoveries_take_the_money_out(post_run):
    post_run(run("r1", fail("TE-1", 100), fail("TE-2", 50)))
    post_run(run("r2", started="2026-11-26T11:00:00Z", recovered=[{"entity": "time_entry", "record_id": "TE-2"}]))
    assert only().open_amount == Decimal("100")
    assert_consistent()
    post_run(run("r3", started="2026-11-26T11:30:00Z", recovered=[{"entity": "time_entry", "record_id": "TE-1"}]))
    exception = only()
    assert exception.open_amount is None and exception.status == "resolved"
    assert_consistent()


def test_discards_take_the_money_out(post_run, as_user, support):
    post_run(run("r1", fail("TE-1", 100), fail("TE-2", 50)))
    response = as_user(support).post(
        f"/api/v1/exceptions/{only().pk}/discard", {"records": ["TE-1"], "note": "not billable"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert only().open_amount == Decimal("50")
    assert_consistent()


def test_replays_remediate_and_a_record_failing_again_counts_again(post_run, as_user, support, worker):
    post_run(run("r1", fail("TE-1", 100), fail("TE-2", 50), fail("TE-3", 25)))
    exception = only()
    response = as_user(support).post(f"/api/v1/exceptions/{exception.pk}/replay", {"reason": "fixed"}, format="json")
    assert response.status_code == 201, response.content
    # Requested for replay: still open money.
    assert only().open_amount == Decimal("175")
    assert_consistent()
    claimed = worker.post("/api/v1/replays/claim", {"integration": "time-expense-posting"}, format="json").json()
    result = {
        "status": "partial",
        "records": [
            {"entity": "time_entry", "record_id": "TE-1", "status": "succeeded"},
            {"entity": "time_entry", "record_id": "TE-2", "status": "failed", "message": "still closed"},
            {"entity": "time_entry", "record_id": "TE-3", "status": "succeeded"},
        ],
    }
    assert worker.post(f"/api/v1/replays/{claimed['id']}/result", result, format="json").status_code == 200
    assert Replay.objects.get().status == "partial"
    # TE-2 replay_failed: still held; TE-1 and TE-3 replayed.
    assert only().open_amount == Decimal("50")
    assert_consistent()
    # TE-1 fails again in a later run, for another amount.
    post_run(run("r2", fail("TE-1", 80), started="2026-11-26T11:30:00Z"))
    assert only().open_amount == Decimal("130")
    assert_consistent()


def test_retention_takes_purged_failures_out(post_run, contoso):
    post_run(run("old", fail("TE-1", 100), started="2026-11-20T10:00:00Z"))
    post_run(run("new", fail("TE-2", 50), started="2026-11-26T10:00:00Z"))
    assert only().open_amount == Decimal("150")

    purge_tenant(contoso.pk, dt.datetime(2026, 11, 25, tzinfo=dt.UTC))

    assert only().open_amount == Decimal("50")
    assert_consistent()


def test_close_deadline_is_the_earliest_close_of_the_counted_failures_months(post_run, closing):
    # 2026-10-31 23:30 in Chicago is still October there (04:30Z on Nov 1).
    post_run(run("r1", fail("TE-1", 10, occurred_at="2026-11-01T04:30:00Z"), fail("TE-2", 5)))
    exception = only()
    # October's books close at the end of the 3rd business day of November:
    # Wed 4 Nov 2026, 18:00 in Chicago (CST since Nov 1) = 00:00Z on the 5th.
    assert exception.close_deadline == dt.datetime(2026, 11, 5, 0, 0, tzinfo=dt.UTC)
    assert_consistent()
    # Once the October record is recovered, November's close counts: Thu 3 Dec 2026 18:00 CST.
    post_run(run("r2", started="2026-11-26T11:00:00Z", recovered=[{"entity": "time_entry", "record_id": "TE-1"}]))
    assert only().close_deadline == dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
    assert_consistent()


def test_records_without_an_amount_do_not_set_the_close(post_run, closing):
    post_run(run("r1", fail("TE-1", occurred_at="2026-10-15T12:00:00Z"), fail("TE-2", 5)))
    assert only().close_deadline == dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
    assert_consistent()


def test_no_close_configured_means_no_deadline(post_run, contoso):
    post_run(run("r1", fail("TE-1", 5)))
    assert only().open_amount == Decimal("5") and only().close_deadline is None


def test_changing_the_calendar_moves_the_close(post_run, closing):
    from integrations.sync_exceptions.deadlines import refresh_due_of_tenants

    post_run(run("r1", fail("TE-1", 5)))
    closing.close_business_day = 1
    closing.save(update_fields=["close_business_day"])
    refresh_due_of_tenants([closing.pk])
    # Tue 1 Dec 2026 18:00 CST.
    assert only().close_deadline == dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
    assert_consistent()


def test_a_long_mixed_history_stays_equal_to_the_recomputation(post_run, closing, as_user, support):
    with time_machine.travel("2026-11-26T12:00:00Z", tick=True):
        post_run(run("a", fail("TE-1", 1.5), fail("TE-2", 2), fail("TE-3")))
        post_run(run("b", fail("TE-2", 3, occurred_at="2026-10-30T12:00:00Z"), started="2026-11-26T10:10:00Z"))
        assert_consistent()
        doc = run("a", fail("TE-1", 4), fail("TE-3", 9))
        post_run(doc)
        assert_consistent()
        post_run(run("c", started="2026-11-26T10:20:00Z", recovered=[{"entity": "time_entry", "record_id": "TE-3"}]))
        assert_consistent()
        as_user(support).post(f"/api/v1/exceptions/{only().pk}/discard", {"records": ["TE-1"]}, format="json")
        assert_consistent()
        post_run(run("d", fail("TE-1", 11), fail("TE-4", 0.0001), started="2026-11-26T10:30:00Z"))
        assert_consistent()
    assert only().open_amount == Decimal("11") + Decimal("0.0001") + Decimal("2")


def test_a_newer_failure_without_an_amount_stops_counting_its_record(post_run):
    post_run(run("r1", fail("TE-1", 100), fail("TE-2", 50)))
    post_run(run("r2", fail("TE-1"), started="2026-11-26T10:30:00Z"))
    assert only().open_amount == Decimal("50")
    assert_consistent()
    post_run(run("r3", fail("TE-2"), started="2026-11-26T10:40:00Z"))
    assert only().open_amount is None
    assert_consistent()


def test_an_older_failure_arriving_late_does_not_replace_the_latest(post_run):
    post_run(run("r1", fail("TE-1", 100), started="2026-11-26T10:30:00Z"))
    post_run(run("r0", fail("TE-1", 5), started="2026-11-26T09:00:00Z"))
    assert only().open_amount == Decimal("100")
    assert_consistent()


def test_the_record_holding_the_earliest_close_failing_again_moves_the_close(post_run, closing):
    post_run(run("r1", fail("TE-1", 10, occurred_at="2026-10-20T12:00:00Z"), fail("TE-2", 5)))
    assert only().close_deadline == dt.datetime(2026, 11, 5, 0, 0, tzinfo=dt.UTC)  # October's close
    post_run(run("r2", fail("TE-1", 12), started="2026-11-26T10:30:00Z"))
    exception = only()
    assert exception.open_amount == Decimal("17")
    assert exception.close_deadline == dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)  # November's
    assert_consistent()


def test_a_random_history_of_posts_stays_equal_to_the_recomputation(post_run, closing):
    import random

    rnd = random.Random(11)  # noqa: S311 - test data
    records = [f"TE-{n}" for n in range(6)]
    base = dt.datetime(2026, 11, 26, 8, tzinfo=dt.UTC)
    for step in range(25):
        started = base + dt.timedelta(minutes=step)
        failures = []
        for record in rnd.sample(records, rnd.randint(1, 3)):
            amount = rnd.choice([None, 0, 1.5, 10, 99.9999, 1000])
            occurred = started - dt.timedelta(days=rnd.choice([0, 0, 10, 40]))
            code = rnd.choice(["ERP-4001", "ERP-4001", "ERP-4002"])
            failures.append(
                f.failure_doc(record, error_code=code, occurred_at=occurred.isoformat().replace("+00:00", "Z"))
                | ({} if amount is None else {"amount": amount})
            )
        recovered = [{"entity": "time_entry", "record_id": rnd.choice(records)}] if step % 5 == 4 else []
        run_id = f"s{step}" if step % 7 else "s0"  # now and then, a re-post of the first run
        stamp = started.isoformat().replace("+00:00", "Z")
        doc = f.run_doc(run_id, status="partial", started_at=stamp, finished_at=stamp, failures=failures)
        if recovered:
            doc["recovered"] = recovered
        assert post_run(doc).status_code in (200, 201)
        assert_consistent()
    assert SyncException.objects.exclude(open_amount=None).exists()
