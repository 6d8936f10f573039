"""The worker SDK against a live console process (gunicorn on the test
database): nothing reported is lost while the console is stopped, nothing is
sent twice, refused documents are kept with their reason, ``wrap`` reports
commands, and the replay loop claims, handles and reports."""

import json
import subprocess
import sys
import time

import pytest
from opsconsole_worker import Client
from opsconsole_worker.spool import Spool

from integrations.models import Replay, ReplayRecord, ReplayStatus, Run
from opsconsole.models import AuditEntry
from tests import factories as f
from tests.sdk.live_console import ROOT, sdk_env

INTEGRATION = "time-expense-posting"
pytestmark = pytest.mark.django_db(transaction=True)


def cli(console, spool, key, *args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "opsconsole_worker", *args],
        cwd=ROOT,
        env=sdk_env(console, spool, key),
        capture_output=True,
        timeout=timeout,
    )


def good_run(run_id, **kw):
    return {
        "integration": INTEGRATION,
        "run_id": run_id,
        "status": "succeeded",
        "started_at": "2026-11-26T10:00:00Z",
        "finished_at": "2026-11-26T10:01:00Z",
        "records": {"succeeded": 5},
        **kw,
    }


def test_a_run_reported_while_the_console_is_stopped_arrives_once_after_it_starts(
    integration, ingest_key, console, spool
):
    client = Client(url=console.url, key=ingest_key, spool=spool, timeout=2)
    began = time.monotonic()
    with client.run(INTEGRATION) as run:
        run.log("info", "fetched 120 entries")
        run.failure(
            entity="time_entry",
            record_id="TE-1001",
            message="Project P-77 is closed",
            error_code="ERP-4001",
            payload={"project": "P-77", "hours": 7.5},
            amount=612.50,
        )
        run.records(succeeded=117, skipped=1)
    assert time.monotonic() - began < 2  # the job was not held up
    assert len(Spool(spool).pending()) == 2  # running, then partial

    console.start()
    flushed = cli(console, spool, ingest_key, "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert b"sent 2, rejected 0, still spooled 0" in flushed.stdout
    again = cli(console, spool, ingest_key, "flush")
    assert b"sent 0" in again.stdout and again.returncode == 0
    assert console.metric("opsconsole_ingest_runs_total", result="created") == 1
    assert console.metric("opsconsole_ingest_runs_total", result="updated") == 1

    console.read_back()
    stored = Run.objects.get(integration=integration, run_id=run.run_id)
    assert stored.status == "partial"
    assert (stored.succeeded, stored.failed, stored.skipped) == (117, 1, 1)
    assert stored.failures.count() == 1 and stored.logs.count() == 1
    assert Spool(spool).pending() == []


def test_two_processes_flushing_one_spool_concurrently_send_each_run_once(integration, ingest_key, console, spool):
    client = Client(url=console.url, key=ingest_key, spool=spool, timeout=2)
    for n in range(120):
        assert client.report(good_run(f"backfill-{n:03}")) == "spooled"
    console.start()
    flushers = [
        subprocess.Popen(
            [sys.executable, "-m", "opsconsole_worker", "flush", "--json", "--batch-size", "3"],
            cwd=ROOT,
            env=sdk_env(console, spool, ingest_key),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outcomes = []
    for process in flushers:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outcomes.append(json.loads(out))

    assert sum(o["sent"] for o in outcomes) == 120
    assert sum(o["created"] for o in outcomes) == 120
    assert all(o["updated"] == 0 for o in outcomes)
    assert all(o["sent"] > 0 for o in outcomes), outcomes  # both really flushed
    # The console itself saw each run created once and never again.
    assert console.metric("opsconsole_ingest_runs_total", result="created") == 120
    assert console.metric("opsconsole_ingest_runs_total", result="updated") == 0
    console.read_back()
    assert Run.objects.filter(integration=integration).count() == 120
    assert Spool(spool).pending() == []


def test_a_document_the_console_refuses_lands_in_rejected_with_its_reason(integration, ingest_key, console, spool):
    client = Client(url=console.url, key=ingest_key, spool=spool, timeout=2)
    backwards = {"finished_at": "2026-11-26T09:00:00Z"}
    assert client.report(good_run("queued-bad", **backwards)) == "spooled"
    assert client.report(good_run("queued-good")) == "spooled"
    console.start()

    result = Client(url=console.url, key=ingest_key, spool=spool).flush()
    assert (result.sent, result.rejected, result.remaining) == (1, 1, 0)
    assert Client(url=console.url, key=ingest_key, spool=spool).report(good_run("direct-bad", **backwards)) == (
        "rejected"
    )

    rejected = {item["document"]["run_id"]: item for item in Spool(spool).rejected()}
    assert sorted(rejected) == ["direct-bad", "queued-bad"]
    for item in rejected.values():
        assert item["status"] == 400
        assert "finished_at" in item["answer"]
    status = cli(console, spool, ingest_key, "status")
    assert b"rejected: 2" in status.stdout and b"finished_at" in status.stdout
    console.read_back()
    assert list(Run.objects.values_list("run_id", flat=True)) == ["queued-good"]


def test_wrap_passes_the_exit_status_through_and_reports_the_run(integration, ingest_key, console, spool):
    console.start()
    # Lines of two pipes are ordered as they arrive: the pause makes the stderr line the last.
    script = "for i in $(seq 1 150); do echo line $i; done; sleep 0.5; echo 'disk almost full' >&2; exit {code}"
    ok = cli(
        console, spool, ingest_key, "wrap", "--integration", INTEGRATION, "--run-id", "nightly-ok", "--",
        "sh", "-c", script.format(code=0),
    )  # fmt: skip
    failing = cli(
        console, spool, ingest_key, "wrap", "--integration", INTEGRATION, "--run-id", "nightly-bad", "--",
        "sh", "-c", script.format(code=3),
    )  # fmt: skip
    missing = cli(console, spool, ingest_key, "wrap", "--integration", INTEGRATION, "--", "no-such-command-xyz")

    assert ok.returncode == 0 and failing.returncode == 3 and missing.returncode == 127
    assert b"line 150" in ok.stdout and b"disk almost full" in ok.stderr  # output still goes through
    console.read_back()
    good = Run.objects.get(run_id="nightly-ok")
    bad = Run.objects.get(run_id="nightly-bad")
    assert good.status == "succeeded" and bad.status == "failed"
    logs = list(good.logs.order_by("id").values_list("level", "message"))
    assert len(logs) == 101  # the last 100 lines, then the exit status
    assert logs[0] == ("info", "line 52")
    assert logs[-2:] == [("error", "disk almost full"), ("info", "command exited with status 0")]
    assert bad.logs.filter(level="error", message="command exited with status 3").exists()
    not_found = Run.objects.exclude(run_id__startswith="nightly").get()
    assert not_found.status == "failed"
    assert not_found.logs.filter(message__startswith="command not found: no-such-command-xyz").exists()
    assert Spool(spool).pending() == []


def test_the_replay_loop_claims_handles_and_reports(integration, ingest_key, support, console, spool):
    exception = f.make_exception_with_records(integration, ["TE-1", "TE-2"])
    staff = f.client_with(f.make_token(support))
    answer = staff.post(
        f"/api/v1/exceptions/{exception.pk}/replay",
        {"reason": "project reopened", "patch": {"TE-2": {"project": "P-78"}}},
        format="json",
    )
    assert answer.status_code == 201
    replay_id = answer.json()["id"]
    console.start()

    seen = []

    def handler(replay):
        for record in replay.records:
            seen.append((record.record_id, record.idempotency_key, record.patched_payload().get("project")))
            if record.record_id == "TE-2":
                replay.failed(record, "ERP still refuses the project")
            else:
                replay.succeeded(record)

    client = Client(url=console.url, key=ingest_key, spool=spool)
    handled = client.replays(INTEGRATION, handler, lease_seconds=60, stop_when_idle=True)

    assert handled == 1
    assert sorted(r[0] for r in seen) == ["TE-1", "TE-2"]
    assert all(len(r[1]) == 32 for r in seen)
    assert ("TE-2", seen[1][1], "P-78") in seen
    console.read_back()
    replay = Replay.objects.get(pk=replay_id)
    assert replay.status == ReplayStatus.PARTIAL
    states = dict(ReplayRecord.objects.filter(replay=replay).values_list("record_id", "state"))
    assert states == {"TE-1": ReplayRecord.State.SUCCEEDED, "TE-2": ReplayRecord.State.FAILED}
    assert ReplayRecord.objects.get(replay=replay, record_id="TE-2").result_message == "ERP still refuses the project"
    actions = set(AuditEntry.objects.filter(object_id=replay_id).values_list("action", flat=True))
    assert {"replay.claim", "replay.result"} <= actions


def test_the_next_report_sends_what_was_spooled_before_it(integration, ingest_key, console, spool):
    stopped = Client(url=console.url, key=ingest_key, spool=spool, timeout=2)
    assert stopped.report(good_run("while-down")) == "spooled"
    console.start()

    later = Client(url=console.url, key=ingest_key, spool=spool, timeout=2)
    with later.run(INTEGRATION, run_id="next-job") as run:
        run.records(succeeded=1)

    assert Spool(spool).pending() == []
    console.read_back()
    assert sorted(Run.objects.values_list("run_id", "status")) == [
        ("next-job", "succeeded"),
        ("while-down", "succeeded"),
    ]
