"""The database failing under a live web process (issue 15, faults): a
PostgreSQL restarted in the middle of batch ingest, and a database that
refuses writes. Clients get 503 with Retry-After, never a 500; /healthz says
what is wrong; after retrying, every run is stored exactly once.

Each test runs a private PostgreSQL (initdb on a port of
OPSCONSOLE_TEST_PG_PORTS) holding a copy of the test database, and real
gunicorn processes against it; the shared server is never touched."""

import threading
import time

import pytest
import requests
from django.conf import settings

from tests import factories as f
from tests.live_services import PrivatePostgres
from tests.live_web import gunicorn, live_env

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="restarts and read-only mode of a private PostgreSQL server: PostgreSQL only",
    ),
]

BATCHES = 24
RUNS_PER_BATCH = 25


@pytest.fixture
def private_copy(contoso, tmp_path):
    """A private PostgreSQL holding a copy of the test database with one
    integration and an ingest key; yields (server, database url, key)."""
    from django.db import connection

    f.make_integration(contoso, "time-expense-posting")
    key = f.make_key(contoso, ["ingest", "read"])
    s = connection.settings_dict
    source = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    server = PrivatePostgres().init()
    try:
        server.copy_database(source, "oc")
        yield server, server.url("oc"), key
    finally:
        server.destroy()


def batch(n):
    return {
        "runs": [
            f.run_doc(f"b{n}-r{i}", status="partial", failures=[f.failure_doc(f"TE-{n}-{i}", error_code="ERP-1")])
            for i in range(RUNS_PER_BATCH)
        ]
    }


def post_until_stored(url, key, document, statuses, give_up_after=180):
    """A plain retry loop, as a worker's: retry on no answer, 503 or 429
    after Retry-After; return the final answer."""
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            response = requests.post(
                f"{url}/api/v1/runs/batch", json=document, headers={"Authorization": f"Bearer {key}"}, timeout=60
            )
        except requests.RequestException:
            statuses.append("no answer")
        else:
            statuses.append(response.status_code)
            if response.status_code in (503, 429):
                assert response.headers.get("Retry-After"), response.headers
                assert "detail" in response.json()
            elif response.status_code != 500:
                return response
        assert time.monotonic() < deadline, f"not stored after {give_up_after}s: {statuses[-10:]}"
        time.sleep(0.5)


def test_postgres_restarted_during_batch_ingest_answers_503_and_stores_every_run_once(private_copy, tmp_path):
    server, database_url, key = private_copy
    statuses = []
    answers = []
    with gunicorn(live_env(database_url), tmp_path / "web.log", workers=2) as url:

        def worker():
            for n in range(BATCHES):
                answers.append(post_until_stored(url, key, batch(n), statuses))

        client = threading.Thread(target=worker)
        client.start()
        try:
            assert wait_until(lambda: len(answers) >= 3, 120), statuses
            server.stop(mode="fast")  # in the middle of the batches
            # While it is down, every request is a 503 with Retry-After.
            down = requests.post(
                f"{url}/api/v1/runs/batch", json=batch(0), headers={"Authorization": f"Bearer {key}"}, timeout=60
            )
            health = requests.get(f"{url}/healthz", timeout=60)
            # A signed-in person's page: the branded page, not a 500.
            page = requests.get(f"{url}/inbox/", cookies={"sessionid": "any-session"}, timeout=60)
            time.sleep(2)
            server.start()
        finally:
            client.join(timeout=300)
        assert not client.is_alive()

    assert down.status_code == 503 and down.headers["Retry-After"], down.text
    assert down.json()["detail"].startswith("The database is unavailable")
    assert health.status_code == 503 and health.json()["database"].startswith("error")
    assert page.status_code == 503 and page.headers["Retry-After"]
    assert "Temporarily unavailable" in page.text and "Please try again in a minute." in page.text
    assert 500 not in statuses, statuses
    assert len(answers) == BATCHES and all(a.status_code == 200 for a in answers)
    assert all(a.json()["rejected"] == 0 for a in answers)
    stored = server.psql("oc", "SELECT count(*), count(DISTINCT run_id) FROM integrations_run")
    assert stored == f"{BATCHES * RUNS_PER_BATCH}|{BATCHES * RUNS_PER_BATCH}"
    failures = server.psql("oc", "SELECT count(*) FROM integrations_failure")
    assert failures == str(BATCHES * RUNS_PER_BATCH)


def test_a_read_only_database_answers_503_and_healthz_says_so(private_copy, tmp_path):
    server, database_url, key = private_copy
    headers = {"Authorization": f"Bearer {key}"}
    with gunicorn(live_env(database_url), tmp_path / "web.log") as url:
        assert requests.get(f"{url}/healthz", timeout=60).json()["database"] == "ok"
        # What a fail-over to a standby, or an operator reacting to a full disk, does.
        server.psql("postgres", "ALTER DATABASE oc SET default_transaction_read_only = on")
        server.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'oc'")

        refused = requests.post(f"{url}/api/v1/runs/batch", json=batch(1), headers=headers, timeout=60)
        page = requests.get(f"{url}/healthz", timeout=60)
        read = requests.get(f"{url}/api/v1/integrations", headers=headers, timeout=60)

        server.psql("postgres", "ALTER DATABASE oc SET default_transaction_read_only = off")
        server.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'oc'")
        stored = post_until_stored(url, key, batch(2), [])
        healthy = requests.get(f"{url}/healthz", timeout=60)

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] and "database is unavailable" in refused.json()["detail"]
    assert page.status_code == 503
    assert page.json()["database"] == "error: read-only (writes are refused)" and page.json()["status"] == "error"
    assert read.status_code in (200, 503) and read.status_code != 500
    assert stored.status_code == 200 and stored.json()["accepted"] == RUNS_PER_BATCH
    assert healthy.status_code == 200 and healthy.json()["database"] == "ok"
    # The refused batch changed nothing; the later one is there once.
    assert server.psql("oc", "SELECT count(*) FROM integrations_run WHERE run_id LIKE 'b1-%'") == "0"
    assert server.psql("oc", "SELECT count(*) FROM integrations_run WHERE run_id LIKE 'b2-%'") == str(RUNS_PER_BATCH)


def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
