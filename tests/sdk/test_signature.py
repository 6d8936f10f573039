"""verify_signature against the console's own signed deliveries (contract
3.6): a pushed replay received by a real local webhook that checks it with
the SDK, and the signing used for alert webhooks."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opsconsole_worker import SignatureError, verify_signature

from integrations.models import Delivery, Replay, ReplayStatus
from opsconsole.lib import webhooks
from tests import factories as f

SECRET = "push-secret-\u00e9"


class SdkReceiver:
    """A webhook that answers 200 when the SDK accepts the signature, else
    401 with the reason; keeps what it received."""

    def __init__(self, secret):
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    verify_signature(secret, self.headers, body)
                    verdict = "ok"
                except SignatureError as exc:
                    verdict = str(exc)
                receiver.received.append({"headers": dict(self.headers.items()), "body": body, "verdict": verdict})
                self.send_response(200 if verdict == "ok" else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replays"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def local_webhooks(settings):
    settings.OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = True
    settings.OPSCONSOLE_DELIVERY_TIMEOUT = 2


def push_replay(contoso, support, url, secret, capture):
    integration = f.make_integration(
        contoso, "time-expense-posting", replay_webhook_url=url, replay_webhook_secret=secret
    )
    exception = f.make_exception_with_records(integration, ["TE-1"])
    with capture(execute=True):
        answer = f.client_with(f.make_token(support)).post(
            f"/api/v1/exceptions/{exception.pk}/replay", {"reason": "reopened"}, format="json"
        )
    assert answer.status_code == 201
    return Replay.objects.get(pk=answer.json()["id"])


def test_a_pushed_replay_passes_the_sdk_check_and_is_dispatched(contoso, support, django_capture_on_commit_callbacks):
    with SdkReceiver(SECRET) as receiver:
        replay = push_replay(contoso, support, receiver.url, SECRET, django_capture_on_commit_callbacks)

    [delivery] = receiver.received
    assert delivery["verdict"] == "ok"
    assert json.loads(delivery["body"])["id"] == str(replay.pk)
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.DISPATCHED


def test_a_delivery_signed_with_another_secret_is_refused_and_retried_later(
    contoso, support, django_capture_on_commit_callbacks
):
    with SdkReceiver("the-worker-has-a-newer-secret") as receiver:
        replay = push_replay(contoso, support, receiver.url, SECRET, django_capture_on_commit_callbacks)

    assert receiver.received[0]["verdict"] == "signature does not match the body"
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.QUEUED
    assert Delivery.objects.get(replay=replay).status_code == 401


def test_a_recorded_delivery_played_again_later_or_altered_is_refused(
    contoso, support, django_capture_on_commit_callbacks
):
    with SdkReceiver(SECRET) as receiver:
        push_replay(contoso, support, receiver.url, SECRET, django_capture_on_commit_callbacks)
    [delivery] = receiver.received
    headers, body = delivery["headers"], delivery["body"]
    signed_at = int(headers["X-Opsconsole-Timestamp"])

    assert verify_signature(SECRET, headers, body, now=signed_at + 300) is True
    with pytest.raises(SignatureError, match="stale timestamp"):
        verify_signature(SECRET, headers, body, now=signed_at + 301)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, headers, body.replace(b'"TE-1"', b'"TE-9"'))
    with pytest.raises(SignatureError, match="missing"):
        verify_signature(SECRET, {"Content-Type": "application/json"}, body)
    # While rotating, either secret passes.
    assert verify_signature(["new-secret", SECRET], headers, body) is True


def test_an_alert_webhook_signed_by_the_console_passes_in_any_header_form():
    with SdkReceiver("alert-secret") as receiver:
        body = json.dumps({"event": "integration.down", "tenant": "contoso"}).encode()
        outcome = webhooks.post_signed(
            receiver.url, body, secret="alert-secret", event="integration.down", delivery_id=uuid.uuid4()
        )
    assert outcome.ok
    [delivery] = receiver.received
    assert delivery["verdict"] == "ok"
    # Django's request.META form and a list of pairs work too.
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in delivery["headers"].items()}
    assert verify_signature("alert-secret", meta, body.decode())
    assert verify_signature("alert-secret", list(delivery["headers"].items()), body, now=time.time())
