"""A queue worker killed in the middle of a burst of alerts and restarted
neither drops nor duplicates an alert or a delivery (contract section 6 with
section 9's ``manage.py qcluster``): episodes and deliveries are unique rows,
and a send cut short is sent again under the same delivery id.

Runs a real ``qcluster`` subprocess against the test database (see
tests/integrations/live_database.py) and a real local receiver."""

import json
import os
import signal

import pytest
from django_q.conf import Conf

from alerts.models import Alert, AlertDelivery, DeliveryAttempt
from integrations.models import SyncException
from tests import factories as f
from tests.alerts.conftest import SECRET, make_channel
from tests.integrations.live_database import Database
from tests.integrations.test_replays_worker_restart import start_cluster, stop, wait_for
from tests.integrations.webhook_receiver import Receiver

EXCEPTIONS = 12


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_neither_drops_nor_duplicates_alerts_or_deliveries(
    contoso, tmp_path, monkeypatch, queue_broker
):
    monkeypatch.setattr(Conf, "SYNC", False)  # queue the tasks for the real cluster
    f.make_integration(contoso, "time-expense-posting")
    worker = f.client_with(f.make_key(contoso, ["ingest"]))
    with Receiver(SECRET, [("hold", 200), 200]) as receiver:
        make_channel(contoso, url=receiver.url, events=["exception.opened"])
        # A burst: one run, 1,000 failures into EXCEPTIONS exceptions.
        failures = [
            f.failure_doc(f"TE-{n}", error_code=f"ERP-{n % EXCEPTIONS}", error_class="validation") for n in range(1000)
        ]
        response = worker.post("/api/v1/runs", f.run_doc("burst", status="partial", failures=failures), format="json")
        assert response.status_code == 201
        assert SyncException.objects.count() == EXCEPTIONS

        database = Database(tmp_path)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
            "OPSCONSOLE_Q_SYNC": "0",
            "DJANGO_LOG_LEVEL": "INFO",
            "OPSCONSOLE_Q_WORKERS": "1",
            "OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS": "1",
            "OPSCONSOLE_DELIVERY_BACKOFF": "1,1,1",
            "OPSCONSOLE_DELIVERY_TIMEOUT": "3",
            # A task whose worker died is handed out again after Q_RETRY seconds.
            "OPSCONSOLE_Q_TIMEOUT": "10",
            "OPSCONSOLE_Q_RETRY": "12",
            **database.env(),
            **queue_broker,
        }
        log_path = tmp_path / "qcluster.log"
        with open(log_path, "w") as log:
            first = start_cluster(env, log)
            try:
                # The receiver holds the first delivery open: kill the whole cluster mid-send.
                assert receiver.received.wait(120), log_path.read_text()
            finally:
                stop(first, signal.SIGKILL)
            receiver.release.set()

            def distinct_ids():
                return {r["headers"]["x-opsconsole-delivery"] for r in receiver.requests}

            second = start_cluster(env, log)
            try:
                done = wait_for(lambda: len(distinct_ids()) >= EXCEPTIONS, 120)
                wait_for(lambda: False, 1.5)  # let a stray duplicate show itself
            finally:
                stop(second, signal.SIGKILL)
        assert done, log_path.read_text()[-3000:]

    database.read_back()
    alerts = list(Alert.objects.all())
    assert len(alerts) == EXCEPTIONS
    assert sorted(a.exception_id for a in alerts) == sorted(SyncException.objects.values_list("pk", flat=True))
    deliveries = {str(d.delivery_id): d for d in AlertDelivery.objects.all()}
    assert len(deliveries) == EXCEPTIONS
    assert distinct_ids() == set(deliveries)
    assert {d.state for d in deliveries.values()} == {"delivered"}
    assert all(r["signature_ok"] for r in receiver.requests)
    # The send that was cut short was sent again, under its delivery id: at least once.
    held = receiver.requests[0]["headers"]["x-opsconsole-delivery"]
    repeated = [r for r in receiver.requests if r["headers"]["x-opsconsole-delivery"] == held]
    assert len(repeated) >= 2 and len(receiver.requests) >= EXCEPTIONS + 1
    first_try = DeliveryAttempt.objects.get(delivery=deliveries[held], attempt=1)
    assert "stopped during this attempt" in first_try.error
    assert {json.loads(r["body"])["alert"] for r in receiver.requests} == {a.pk for a in alerts}
