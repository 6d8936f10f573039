"""Pulling replays: claim, leases and their expiry (contract 3.3)."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from integrations import tasks
from integrations.models import Replay, ReplayStatus
from opsconsole.models import AuditEntry
from tests import factories as f

CLAIM = "/api/v1/replays/claim"


def queue_replay(user, exception, records=None):
    body = {"records": records} if records else {}
    response = f.client_with(f.make_token(user)).post(f"/api/v1/exceptions/{exception.pk}/replay", body, format="json")
    assert response.status_code == 201, response.content
    return Replay.objects.get(pk=response.json()["id"])


@pytest.fixture
def exception(integration):
    return f.make_exception_with_records(integration, ["TE-1", "TE-2", "TE-3"])


def test_claim_hands_out_the_oldest_queued_replay_then_204(worker, support, exception, time_machine):
    time_machine.move_to(timezone.now())
    first = queue_replay(support, exception, ["TE-1"])
    time_machine.shift(1)
    second = queue_replay(support, exception, ["TE-2"])

    response = worker.post(CLAIM, {"integration": "time-expense-posting", "lease_seconds": 60}, format="json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["id"] == str(first.pk) and doc["status"] == "dispatched"
    assert doc["records"][0]["record_id"] == "TE-1"
    first.refresh_from_db()
    assert first.status == ReplayStatus.DISPATCHED
    assert first.lease_expires_at == first.dispatched_at + timedelta(seconds=60)
    assert first.dispatched_to.startswith("key:")

    assert worker.post(CLAIM, {"integration": "time-expense-posting"}, format="json").json()["id"] == str(second.pk)
    second.refresh_from_db()
    assert second.lease_expires_at == second.dispatched_at + timedelta(seconds=300)
    empty = worker.post(CLAIM, {"integration": "time-expense-posting"}, format="json")
    assert empty.status_code == 204 and empty.content == b""
    assert AuditEntry.objects.filter(action="replay.claim").count() == 2


def test_pending_replays_are_not_handed_out(worker, support, contoso):
    integration = f.make_integration(contoso, "billing-sync", approval_required=True)
    exception = f.make_exception_with_records(integration, ["INV-1"])
    queue_replay(support, exception)
    assert worker.post(CLAIM, {"integration": "billing-sync"}, format="json").status_code == 204


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "integration"),
        ({"integration": "nope"}, "integration"),
        ({"integration": 5}, "integration"),
        ({"integration": "time-expense-posting", "lease_seconds": 0}, "lease_seconds"),
        ({"integration": "time-expense-posting", "lease_seconds": 3601}, "lease_seconds"),
        ({"integration": "time-expense-posting", "lease_seconds": "60"}, "lease_seconds"),
        ({"integration": "time-expense-posting", "lease_seconds": True}, "lease_seconds"),
    ],
)
def test_bad_claims_are_400_naming_the_field(worker, support, exception, body, field):
    replay = queue_replay(support, exception)
    response = worker.post(CLAIM, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.QUEUED


def test_an_integration_of_another_tenant_is_a_400(support, exception, fabrikam):
    f.make_integration(fabrikam, "fab-flow")
    client = f.client_with(f.make_key(exception.tenant, ["ingest"]))
    response = client.post(CLAIM, {"integration": "fab-flow"}, format="json")
    assert response.status_code == 400 and "integration" in response.json()


def test_claims_need_an_ingest_key(read_key, as_user, manager, exception):
    body = {"integration": "time-expense-posting"}
    assert f.client_with(read_key).post(CLAIM, body, format="json").status_code == 403
    assert as_user(manager).post(CLAIM, body, format="json").status_code == 403
    assert f.client_with(None).post(CLAIM, body, format="json").status_code == 401
    assert f.client_with(read_key).post(CLAIM, "x", content_type="text/plain").status_code in (403, 415)


def test_an_expired_lease_is_queued_again_with_the_next_attempt_at_the_next_claim(
    worker, support, exception, time_machine
):
    time_machine.move_to(timezone.now())
    replay = queue_replay(support, exception)
    doc = worker.post(CLAIM, {"integration": "time-expense-posting", "lease_seconds": 30}, format="json").json()
    assert doc["attempt"] == 1
    time_machine.shift(29)
    assert worker.post(CLAIM, {"integration": "time-expense-posting"}, format="json").status_code == 204
    time_machine.shift(1)
    again = worker.post(CLAIM, {"integration": "time-expense-posting"}, format="json").json()
    assert again["id"] == str(replay.pk) and again["attempt"] == 2
    # Same replay, same records: the idempotency keys do not change across attempts.
    assert [r["idempotency_key"] for r in again["records"]] == [r["idempotency_key"] for r in doc["records"]]
    entry = AuditEntry.objects.get(action="replay.lease_expired")
    assert entry.actor == "system"


def test_the_periodic_sweep_requeues_expired_leases(worker, support, exception, time_machine):
    time_machine.move_to(timezone.now())
    replay = queue_replay(support, exception)
    worker.post(CLAIM, {"integration": "time-expense-posting", "lease_seconds": 10}, format="json")
    assert tasks.replay_housekeeping()["expired"] == 0
    time_machine.shift(11)
    assert tasks.replay_housekeeping()["expired"] == 1
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.QUEUED and replay.attempt == 2 and replay.lease_expires_at is None
    # Lease ended and a result came later: still accepted (3.4).
    response = worker.post(f"/api/v1/replays/{replay.pk}/result", {"status": "succeeded"}, format="json")
    assert response.status_code == 200


@time_machine.travel("2026-11-26T12:00:30Z", tick=False)
def test_ensure_schedules_creates_the_replay_sweep_every_minute(db):
    from datetime import UTC, datetime
    from io import StringIO

    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("ensure_schedules", stdout=StringIO())
    call_command("ensure_schedules", stdout=StringIO())
    schedule = Schedule.objects.get(name=tasks.HOUSEKEEPING_SCHEDULE)
    assert schedule.func == "integrations.tasks.replay_housekeeping"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1
    assert schedule.next_run == datetime(2026, 11, 26, 12, 1, 30, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_claims_never_get_the_same_replay(northwind, contoso, support):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Shared-cache memory databases fail concurrent writers at once instead
        # of waiting; scripts/test runs SQLite on a file, where this test runs.
        pytest.skip("concurrent writers need PostgreSQL or a SQLite file database")
    integration = f.make_integration(contoso, "time-expense-posting")
    exception = f.make_exception_with_records(integration, [f"TE-{n}" for n in range(12)])
    replays = [queue_replay(support, exception, [f"TE-{n}"]) for n in range(12)]
    raw_key = f.make_key(contoso, ["ingest"])

    threads, results, errors = 8, [], []
    barrier = threading.Barrier(threads)

    def claimer():
        client = f.client_with(raw_key)
        try:
            barrier.wait(timeout=10)
            while True:
                response = client.post(CLAIM, {"integration": "time-expense-posting"}, format="json")
                if response.status_code == 204:
                    return
                assert response.status_code == 200, response.content
                results.append(response.json()["id"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=claimer) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors
    assert sorted(results) == sorted(str(r.pk) for r in replays)
    assert len(set(results)) == len(results)
    assert Replay.objects.filter(status=ReplayStatus.DISPATCHED).count() == 12


CLAIMER = """
import json, sys
import django
django.setup()
from integrations.models import ApiKey, Integration
from integrations.replays import claim
from opsconsole.access import KeyPrincipal

principal = KeyPrincipal(ApiKey.objects.get(name=sys.argv[1]))
integration = Integration.objects.get(slug="time-expense-posting")
print("ready", flush=True)
sys.stdin.readline()  # every process starts claiming at the same moment
got = []
while True:
    replay = claim(principal, integration, 300)
    if replay is None:
        break
    got.append(str(replay.pk))
print(json.dumps(got))
"""


@pytest.mark.django_db(transaction=True)
def test_claims_from_several_processes_never_get_the_same_replay(northwind, contoso, support, tmp_path):
    """Separate processes, each with its own connection, on either database
    (on SQLite this is the conditional UPDATE path)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from integrations import replays as service
    from tests.integrations.live_database import Database

    integration = f.make_integration(contoso, "time-expense-posting")
    exception = f.make_exception_with_records(integration, [f"TE-{n}" for n in range(20)])
    replays = [service.request_replay(support, exception, records=[f"TE-{n}"]) for n in range(20)]
    f.make_key(contoso, ["ingest"], name="claimer")
    database = Database(tmp_path)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsconsole.settings", **database.env()}
    root = Path(__file__).resolve().parents[2]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, "claimer"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    handed_out = []
    for process in processes:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        handed_out += json.loads(out.strip().splitlines()[-1])
    assert len(handed_out) == len(set(handed_out)) == 20
    assert sorted(handed_out) == sorted(str(r.pk) for r in replays)
    database.read_back()
    assert Replay.objects.filter(status=ReplayStatus.DISPATCHED).count() == 20
