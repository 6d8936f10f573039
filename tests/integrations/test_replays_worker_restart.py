"""A queue worker killed in the middle of a delivery resumes it after a
restart (contract 3.6 with section 9's ``manage.py qcluster``).

Runs a real ``qcluster`` subprocess against the test database (PostgreSQL:
the live test database; SQLite: a file copy of the in-memory test database,
copied back afterwards) and a real local webhook that checks signatures."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_q.conf import Conf

from integrations.models import Delivery, Replay, ReplayStatus
from tests import factories as f
from tests.integrations.live_database import Database
from tests.integrations.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
SECRET = "restart-secret"


def start_cluster(env, log):
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process, sig):
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_the_delivery_after_restart(
    northwind, contoso, support, tmp_path, monkeypatch, queue_broker
):
    # Queue the delivery task for a real cluster instead of running it inline.
    monkeypatch.setattr(Conf, "SYNC", False)
    with Receiver(SECRET, [("hold", 200), 200]) as receiver:
        integration = f.make_integration(
            contoso, "time-expense-posting", replay_webhook_url=receiver.url, replay_webhook_secret=SECRET
        )
        exception = f.make_exception_with_records(integration, ["TE-1", "TE-2"])
        response = f.client_with(f.make_token(support)).post(
            f"/api/v1/exceptions/{exception.pk}/replay", {"reason": "after restart"}, format="json"
        )
        assert response.status_code == 201
        replay = Replay.objects.get(pk=response.json()["id"])

        database = Database(tmp_path)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
            "OPSCONSOLE_Q_SYNC": "0",
            "DJANGO_LOG_LEVEL": "INFO",  # the cluster's log is shown when the test fails
            "OPSCONSOLE_Q_WORKERS": "1",
            "OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS": "1",
            "OPSCONSOLE_DELIVERY_BACKOFF": "1,1",
            "OPSCONSOLE_DELIVERY_TIMEOUT": "1",
            # A task whose worker died is handed out again after this many seconds.
            "OPSCONSOLE_Q_TIMEOUT": "2",
            "OPSCONSOLE_Q_RETRY": "3",
            **database.env(),
            **queue_broker,
        }
        log_path = tmp_path / "qcluster.log"
        with open(log_path, "w") as log:
            first = start_cluster(env, log)
            try:
                assert receiver.received.wait(30), log_path.read_text()
                # The webhook holds the first delivery open: kill the whole cluster mid-request.
                stop(first, signal.SIGKILL)
            finally:
                stop(first, signal.SIGKILL)
            receiver.release.set()
            assert database.status(replay.pk) == ReplayStatus.QUEUED

            second = start_cluster(env, log)
            try:
                dispatched = wait_for(lambda: database.status(replay.pk) == ReplayStatus.DISPATCHED, 40)
            finally:
                stop(second, signal.SIGKILL)
        assert dispatched, log_path.read_text()[-3000:]

    database.read_back()
    assert len(receiver.requests) == 2
    assert all(r["signature_ok"] for r in receiver.requests)
    delivery_ids = {r["headers"]["x-opsconsole-delivery"] for r in receiver.requests}
    assert len(delivery_ids) == 1
    assert [json.loads(r["body"])["id"] for r in receiver.requests] == [str(replay.pk)] * 2
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.DISPATCHED and str(replay.delivery_id) in delivery_ids
    attempts = list(Delivery.objects.filter(replay=replay).order_by("attempt").values_list("attempt", "succeeded"))
    assert attempts == [(1, False), (2, True)]
    assert "stopped during this attempt" in Delivery.objects.get(replay=replay, attempt=1).error
