"""Scheduled integrations move between up, late and down every minute
(contract 4.2 and 6); each episode is one alert with at most two messages
and a resolution; maintenance windows and pauses raise nothing."""

import json
from datetime import datetime, timedelta

import pytest

from alerts import tasks
from alerts.models import Alert, AlertDelivery, Flip, IntegrationWatch
from opsconsole.models import AuditEntry
from tests import factories as f
from tests.alerts.conftest import make_channel

T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


@pytest.fixture
def scheduled(contoso):
    # every 15 min, grace 10: late from +25 min, down from +35 min
    return f.make_integration(contoso, "time-expense-posting", every_minutes=15, grace_minutes=10)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def evaluate_at(clock, run_tasks, minutes):
    clock(at(minutes))
    run_tasks(tasks.evaluate)


def bodies(receiver):
    return [json.loads(r["body"]) for r in receiver.requests]


def test_up_late_down_recovered_is_one_episode_with_two_messages_and_a_resolution(
    scheduled, receiver, clock, run_tasks
):
    make_channel(scheduled.tenant, url=receiver.url)
    f.make_run_at(scheduled, T0)
    for minute in (20, 26, 30, 36, 40, 50):
        evaluate_at(clock, run_tasks, minute)
    f.make_run_at(scheduled, at(51))
    evaluate_at(clock, run_tasks, 52)
    evaluate_at(clock, run_tasks, 53)

    transitions = list(Flip.objects.filter(integration=scheduled).order_by("at").values_list("old", "new"))
    assert transitions == [("new", "up"), ("up", "late"), ("late", "down"), ("down", "up")]
    alert = Alert.objects.get()
    assert (alert.event, alert.state) == ("integration.down", "resolved")
    assert alert.opened_at == at(26) and alert.escalated_at == at(36) and alert.resolved_at == at(52)
    sent = bodies(receiver)
    assert [b["event"] for b in sent] == ["integration.late", "integration.down", "integration.recovered"]
    assert [r["headers"]["x-opsconsole-event"] for r in receiver.requests] == [b["event"] for b in sent]
    assert all(r["signature_ok"] for r in receiver.requests)
    assert {b["alert"] for b in sent} == {alert.pk}
    assert sent[0]["tenant"] == "contoso" and sent[0]["integration"] == "time-expense-posting"
    assert sent[0]["url"].endswith(f"/alerts/{alert.pk}/")
    assert set(sent[0]) >= {"event", "tenant", "integration", "summary", "url", "at", "data"}
    assert sent[2]["state"] == "resolved"


def test_a_channel_taking_only_down_hears_down_and_the_recovery(scheduled, receiver, clock, run_tasks):
    make_channel(scheduled.tenant, url=receiver.url, events=["integration.down"])
    f.make_run_at(scheduled, T0)
    for minute in (26, 36):
        evaluate_at(clock, run_tasks, minute)
    f.make_run_at(scheduled, at(37))
    evaluate_at(clock, run_tasks, 38)
    assert [b["event"] for b in bodies(receiver)] == ["integration.down", "integration.recovered"]


def test_first_seen_down_sends_one_message_then_the_recovery(scheduled, receiver, clock, run_tasks):
    make_channel(scheduled.tenant, url=receiver.url)
    f.make_run_at(scheduled, T0)
    evaluate_at(clock, run_tasks, 90)
    evaluate_at(clock, run_tasks, 91)
    f.make_run_at(scheduled, at(92))
    evaluate_at(clock, run_tasks, 93)
    assert [b["event"] for b in bodies(receiver)] == ["integration.down", "integration.recovered"]
    assert Alert.objects.count() == 1


def test_a_maintenance_window_raises_nothing_inside_it(scheduled, receiver, clock, run_tasks):
    make_channel(scheduled.tenant, url=receiver.url)
    f.make_run_at(scheduled, T0)
    f.make_window(scheduled.tenant, at(20), at(60), [scheduled], note="NetSuite upgrade")
    for minute in (26, 36, 59):
        evaluate_at(clock, run_tasks, minute)
    assert Alert.objects.count() == 0 and receiver.requests == []
    assert set(Flip.objects.filter(new__in=["late", "down"]).values_list("suppressed", flat=True)) == {"maintenance"}
    # Still down once the window is over: now it is news.
    evaluate_at(clock, run_tasks, 61)
    assert [b["event"] for b in bodies(receiver)] == ["integration.down"]


def test_a_window_of_another_integration_does_not_suppress(scheduled, receiver, clock, run_tasks):
    other = f.make_integration(scheduled.tenant, "master-data")
    make_channel(scheduled.tenant, url=receiver.url)
    f.make_run_at(scheduled, T0)
    f.make_window(scheduled.tenant, at(20), at(60), [other])
    evaluate_at(clock, run_tasks, 26)
    assert [b["event"] for b in bodies(receiver)] == ["integration.late"]


def test_a_paused_integration_raises_nothing_and_the_pause_is_audited(
    scheduled, support, receiver, clock, run_tasks, client
):
    make_channel(scheduled.tenant, url=receiver.url)
    f.make_run_at(scheduled, T0)
    clock(at(1))
    client.force_login(support)
    response = client.post(f"/t/contoso/i/{scheduled.slug}/alerts/pause/", {"paused": "1"})
    assert response.status_code == 302
    assert IntegrationWatch.objects.get(integration=scheduled).paused_at == at(1)
    for minute in (26, 36):
        evaluate_at(clock, run_tasks, minute)
    assert Alert.objects.count() == 0 and receiver.requests == []
    assert Flip.objects.filter(new="down").get().suppressed == "paused"

    client.post(f"/t/contoso/i/{scheduled.slug}/alerts/pause/", {"paused": "0"})
    evaluate_at(clock, run_tasks, 40)
    assert [b["event"] for b in bodies(receiver)] == ["integration.down"]
    actions = list(
        AuditEntry.objects.filter(action__startswith="integration.").order_by("id").values_list("action", "actor")
    )
    assert actions == [("integration.pause", support.email), ("integration.resume", support.email)]


def test_customers_cannot_pause(scheduled, customer_viewer, outsider, client):
    client.force_login(customer_viewer)
    assert client.post(f"/t/contoso/i/{scheduled.slug}/alerts/pause/", {"paused": "1"}).status_code == 403
    client.force_login(outsider)
    assert client.post(f"/t/contoso/i/{scheduled.slug}/alerts/pause/", {"paused": "1"}).status_code == 404
    assert not IntegrationWatch.objects.filter(paused_at__isnull=False).exists()


def test_evaluating_twice_in_the_same_state_sends_nothing_more(scheduled, receiver, clock, run_tasks):
    make_channel(scheduled.tenant, url=receiver.url)
    f.make_run_at(scheduled, T0)
    for minute in (26, 27, 28, 29):
        evaluate_at(clock, run_tasks, minute)
    assert len(receiver.requests) == 1
    assert AlertDelivery.objects.count() == 1


def test_replay_runs_are_not_heartbeats(scheduled, clock, run_tasks):
    f.make_run_at(scheduled, T0)
    f.make_run_at(scheduled, at(20), trigger="replay")
    evaluate_at(clock, run_tasks, 26)
    assert Alert.objects.get().event == "integration.late"


def test_a_steady_minute_costs_the_same_for_many_integrations(contoso, clock, django_assert_max_num_queries):
    from alerts import heartbeats

    for n in range(30):
        f.make_run_at(f.make_integration(contoso, f"flow-{n}", every_minutes=15, grace_minutes=10), T0, rollup=False)
    clock(at(5))
    heartbeats.evaluate()
    clock(at(6))
    with django_assert_max_num_queries(8):
        assert heartbeats.evaluate() == 0
    assert set(IntegrationWatch.objects.values_list("checked_at", flat=True)) == {at(6)}
