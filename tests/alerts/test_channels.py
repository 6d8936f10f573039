"""Each channel's message against a real local receiver (contract section 6),
the e-mail branded as the partner, retries under one delivery id, exhaustion,
failing channels and addresses refused at sending time."""

import json
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts import tasks
from alerts.models import AlertDelivery, ChannelState, DeliveryAttempt
from opsconsole.models import AuditEntry, Hostname
from tests import factories as f
from tests.alerts.conftest import SECRET, make_channel
from tests.integrations.webhook_receiver import Receiver


@pytest.fixture
def exception(contoso):
    integration = f.make_integration(contoso, "time-expense-posting", name="Time & expense <to> NetSuite")
    return f.make_exception(integration, title='Project "<script>alert(1)</script>" is closed', priority="P2")


def raise_now(exception, run_tasks):
    return run_tasks(tasks.exception_alerts, [exception.pk])


def test_the_webhook_body_is_signed_and_names_the_event(contoso, exception, receiver, run_tasks):
    Hostname.objects.create(partner=contoso.partner, name="ops.northwind.example")
    make_channel(contoso, url=receiver.url)
    raise_now(exception, run_tasks)
    request = receiver.requests[0]
    body = json.loads(request["body"])
    alert = exception.alerts.get()
    assert request["signature_ok"] and request["headers"]["x-opsconsole-event"] == "exception.opened"
    delivery = AlertDelivery.objects.get()
    assert request["headers"]["x-opsconsole-delivery"] == str(delivery.delivery_id)
    assert body["url"] == f"https://ops.northwind.example/alerts/{alert.pk}/"
    assert body["event"] == "exception.opened" and body["tenant"] == "contoso"
    assert body["summary"] == alert.summary and body["data"]["priority"] == "P2"
    assert body["at"].endswith("Z")


def test_slack_gets_an_incoming_webhook_message_with_a_link_back(contoso, exception, receiver, run_tasks):
    make_channel(contoso, "slack", url=receiver.url)
    raise_now(exception, run_tasks)
    body = json.loads(receiver.requests[0]["body"])
    alert = exception.alerts.get()
    assert body["text"].startswith("New exception: P2 exception")
    assert "&lt;script&gt;" in body["text"] and "<script>" not in body["text"]
    blocks = body["attachments"][0]["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "New exception"}}
    button = blocks[-1]["elements"][0]
    assert button["type"] == "button" and button["url"].endswith(f"/alerts/{alert.pk}/")


def test_teams_gets_an_adaptive_card_with_a_link_back(contoso, exception, receiver, run_tasks):
    make_channel(contoso, "teams", url=receiver.url)
    raise_now(exception, run_tasks)
    body = json.loads(receiver.requests[0]["body"])
    attachment = body["attachments"][0]
    assert body["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == "New exception"
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Tenant"] == "Contoso Consulting" and facts["Priority"] == "P2"
    assert card["actions"][0]["type"] == "Action.OpenUrl"
    assert card["actions"][0]["url"].endswith(f"/alerts/{exception.alerts.get().pk}/")


def test_email_is_branded_as_the_partner_in_plain_text_and_html(contoso, exception, run_tasks):
    contoso.partner.support_email = "support@northwind.example"
    contoso.partner.save()
    make_channel(contoso, "email", to=["oncall@northwind.example"])
    raise_now(exception, run_tasks)
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.to == ["oncall@northwind.example"]
    assert message.from_email == '"Northwind Managed Integrations" <support@northwind.example>'
    assert message.subject.startswith("[Northwind Managed Integrations] New exception: P2 exception")
    assert "Time & expense <to> NetSuite" in message.body
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Time &amp; expense &lt;to&gt; NetSuite" in html
    assert f"/alerts/{exception.alerts.get().pk}/" in html
    assert "opsconsole" not in (message.message().as_string() + html).lower()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.succeeded and attempt.status_code is None


def test_a_500_and_a_slow_answer_are_retried_under_one_delivery_id(
    contoso, exception, run_tasks, settings, time_machine
):
    settings.OPSCONSOLE_DELIVERY_TIMEOUT = 0.5
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [10, 60]
    time_machine.move_to(timezone.now(), tick=False)
    with Receiver(SECRET, [500, ("sleep", 1.5, 200), 200]) as receiver:
        make_channel(contoso, url=receiver.url)
        raise_now(exception, run_tasks)
        assert tasks.deliver_due() == 0  # the next try is 10 s away
        time_machine.shift(11)
        assert tasks.deliver_due() == 1
        time_machine.shift(61)
        assert tasks.deliver_due() == 1
    delivery = AlertDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 3
    tries = list(delivery.tries.order_by("attempt").values_list("attempt", "status_code", "succeeded"))
    assert tries == [(1, 500, False), (2, None, False), (3, 200, True)]
    assert "no answer within 0.5 s" in delivery.tries.get(attempt=2).error
    ids = {r["headers"]["x-opsconsole-delivery"] for r in receiver.requests}
    assert ids == {str(delivery.delivery_id)} and all(r["signature_ok"] for r in receiver.requests)
    assert not ChannelState.objects.get().failing


def test_a_receiver_that_was_down_gets_the_message_when_it_is_back(
    contoso, exception, run_tasks, settings, time_machine
):
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [10]
    time_machine.move_to(timezone.now(), tick=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make_channel(contoso, url=f"http://127.0.0.1:{port}/hook")
    raise_now(exception, run_tasks)
    first = DeliveryAttempt.objects.get()
    assert first.error.startswith("connection failed") and first.status_code is None
    with Receiver(SECRET, [200], port=port) as receiver:
        time_machine.shift(11)
        assert tasks.deliver_due() == 1
    assert len(receiver.requests) == 1 and receiver.requests[0]["signature_ok"]
    assert AlertDelivery.objects.get().state == "delivered"


def test_after_the_last_retry_the_delivery_fails_and_the_channel_shows_failing(
    contoso, exception, support, run_tasks, settings, time_machine, client
):
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [10, 10]
    time_machine.move_to(timezone.now(), tick=False)
    with Receiver(SECRET, [500]) as receiver:
        channel = make_channel(contoso, url=receiver.url)
        raise_now(exception, run_tasks)
        for _ in range(3):
            time_machine.shift(11)
            tasks.deliver_due()
    assert len(receiver.requests) == 3
    delivery = AlertDelivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == 3 and delivery.next_attempt_at is None
    state = ChannelState.objects.get(channel=channel)
    assert state.failing and "HTTP 500" in state.last_error
    client.force_login(support)
    page = client.get("/t/contoso/alerts/").content.decode()
    assert "failing" in page and "HTTP 500" in page
    assert "failing" in client.get("/alerts/").content.decode()
    metrics = client.get("/metrics").content.decode()
    assert 'opsconsole_alert_deliveries_failed_total{channel="webhook"} 1' in metrics
    assert 'opsconsole_alert_delivery_attempts_failed_total{channel="webhook"} 3' in metrics
    assert 'opsconsole_alerts_fired_total{event="exception.opened"} 1' in metrics
    assert "opsconsole_alert_channels_failing 1" in metrics


def test_a_channel_whose_name_now_resolves_to_a_private_address_is_refused_and_failing(
    contoso, exception, run_tasks, settings
):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = False
    # The machine's own name resolves to one of its (private or loopback) addresses.
    channel = make_channel(contoso, url=f"https://{socket.gethostname()}/hook")
    raise_now(exception, run_tasks)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error.startswith("refused:") and attempt.status_code is None and not attempt.succeeded
    assert ChannelState.objects.get(channel=channel).failing
    delivery = AlertDelivery.objects.get()
    assert delivery.state == "pending" and delivery.next_attempt_at > timezone.now()  # retried, nothing lost


def test_staff_send_a_test_alert_to_one_channel_and_it_is_audited(contoso, support, receiver, client, run_tasks):
    first = make_channel(contoso, url=receiver.url)
    make_channel(contoso, "email", to=["oncall@northwind.example"])
    client.force_login(support)
    response = run_tasks(client.post, f"/alerts/channels/{first.pk}/test/", follow=True)
    assert response.status_code == 200 and "Test alert sent" in response.content.decode()
    assert len(receiver.requests) == 1 and mail.outbox == []
    assert json.loads(receiver.requests[0]["body"])["event"] == "alert.test"
    entry = AuditEntry.objects.get(action="alert.test")
    assert entry.actor == support.email and entry.object_type == "alertchannel"
    assert ChannelState.objects.get(channel=first).last_success_at is not None
    # Test alerts are not alerts of section 6: the list leaves them out.
    assert f.client_with(f.make_token(support)).get("/api/v1/alerts").json()["count"] == 0


@pytest.mark.parametrize(("role", "status"), [("customer_approver", 403), ("customer_viewer", 403), ("outsider", 404)])
def test_only_staff_of_the_partner_send_test_alerts(request, contoso, receiver, client, role, status):
    channel = make_channel(contoso, url=receiver.url)
    client.force_login(request.getfixturevalue(role))
    assert client.post(f"/alerts/channels/{channel.pk}/test/").status_code == status
    assert receiver.requests == [] and not AuditEntry.objects.filter(action="alert.test").exists()


def test_a_removed_channel_keeps_its_deliveries(contoso, exception, receiver, run_tasks, settings, time_machine):
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [10]
    time_machine.move_to(timezone.now(), tick=False)
    with Receiver(SECRET, [500]) as failing:
        channel = make_channel(contoso, url=failing.url)
        raise_now(exception, run_tasks)
    channel.delete()
    time_machine.shift(timedelta(seconds=11))
    tasks.deliver_due()
    delivery = AlertDelivery.objects.get()
    assert delivery.channel is None and delivery.state == "failed"
    assert "removed" in delivery.tries.get(attempt=2).error
