"""Redis stopped under a live web process and queue (issue 15, faults):
/healthz says so with 503; ingest still stores runs (the rate limit lets
requests through, the alert task waits in the database); when Redis is back,
a queue worker moves the waiting work to Redis and runs it: the alert of the
exception opened meanwhile is delivered once.

A private redis-server (a port of OPSCONSOLE_TEST_REDIS_PORTS) is stopped and
started again; the shared Redis is never touched."""

import json
import os
import subprocess
import sys

import pytest
import requests
from django.conf import settings
from django_q.models import OrmQ

from alerts.models import AlertDelivery
from integrations.models import Run, SyncException
from tests import factories as f
from tests.alerts.conftest import SECRET, make_channel
from tests.integrations.live_database import Database
from tests.integrations.webhook_receiver import Receiver
from tests.live_services import PrivateRedis, wait_for
from tests.live_web import ROOT, gunicorn
from tests.opsconsole.test_queue_broker import stop_cluster

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="web and queue processes sharing the live test database: PostgreSQL only",
    ),
]


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_is_a_503_on_healthz_ingest_goes_on_and_queued_work_resumes(contoso, redis_server, tmp_path):
    f.make_integration(contoso, "time-expense-posting")
    key = f.make_key(contoso, ["ingest"])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "OPSCONSOLE_Q_SYNC": "0",
        "OPSCONSOLE_Q_WORKERS": "1",
        "OPSCONSOLE_KEY_RATE": "1000/min",
        "REDIS_URL": redis_server.url,
        **Database(tmp_path).env(),
    }
    headers = {"Authorization": f"Bearer {key}"}
    with Receiver(SECRET) as receiver:
        make_channel(contoso, url=receiver.url, events=["exception.opened"])
        with gunicorn(env, tmp_path / "web.log") as url:
            healthy = requests.get(f"{url}/healthz", timeout=60)
            redis_server.stop()
            down = requests.get(f"{url}/healthz", timeout=60)
            doc = f.run_doc("while-redis-is-down", status="partial", failures=[f.failure_doc("TE-9", error_code="E9")])
            stored = requests.post(f"{url}/api/v1/runs", json=doc, headers=headers, timeout=60)
            waiting = OrmQ.objects.count()

            redis_server.start()
            log_path = tmp_path / "qcluster.log"
            with open(log_path, "w") as log:
                cluster = subprocess.Popen(
                    [sys.executable, "manage.py", "qcluster"],
                    cwd=ROOT,
                    env={**env, "DJANGO_LOG_LEVEL": "INFO"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                try:
                    delivered = wait_for(lambda: len(receiver.requests) >= 1, 120)
                    wait_for(lambda: False, 1.5)  # let a stray duplicate show itself
                finally:
                    stop_cluster(cluster)
            back = requests.get(f"{url}/healthz", timeout=60)

    assert healthy.status_code == 200 and healthy.json()["redis"] == "ok", healthy.text
    assert down.status_code == 503, down.text
    assert down.json()["status"] == "error" and down.json()["redis"].startswith("error")
    assert down.json()["database"] == "ok"
    assert stored.status_code == 201, stored.text
    assert Run.objects.filter(run_id="while-redis-is-down").count() == 1
    assert SyncException.objects.count() == 1
    assert waiting >= 1  # the alert task, kept in the database while Redis was down
    assert delivered, log_path.read_text()[-3000:]
    assert len(receiver.requests) == 1 and receiver.requests[0]["signature_ok"]
    body = json.loads(receiver.requests[0]["body"])
    assert body["event"] == "exception.opened"
    assert AlertDelivery.objects.get().state == "delivered"
    assert OrmQ.objects.count() == 0
    assert back.status_code == 200 and back.json()["redis"] == "ok", back.text
