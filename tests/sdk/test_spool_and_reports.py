"""The SDK on its own side of the wire: what it spools when the console
cannot be reached, in which order it sends, and the documents it builds.
No database: the console is a closed port or a socket that never answers."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from opsconsole_worker import Client
from opsconsole_worker.spool import Spool

from tests.sdk.live_console import ROOT, SDK_SOURCE, free_port


def closed_console(spool, **kw):
    return Client(url=f"http://127.0.0.1:{free_port()}", key="ok_test.key", spool=spool, **kw)


def spooled_documents(spool):
    folder = Spool(spool).pending_dir
    return [json.loads(open(os.path.join(folder, name), "rb").read())["document"] for name in Spool(spool).pending()]


def test_a_job_is_held_up_at_most_one_timeout_by_a_console_that_does_not_answer(tmp_path):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        client = Client(url=f"http://127.0.0.1:{silent.getsockname()[1]}", key="k", spool=tmp_path, timeout=0.5)
        began = time.monotonic()
        with client.run("time-expense-posting") as run:
            run.records(succeeded=3)
        spent = time.monotonic() - began
    assert spent < 1.2
    assert [d["status"] for d in spooled_documents(tmp_path)] == ["running", "succeeded"]


def test_an_exception_in_the_job_reports_failed_and_still_propagates(tmp_path):
    client = closed_console(tmp_path)
    with pytest.raises(KeyError):
        with client.run("time-expense-posting", run_id="nightly-7") as run:
            run.log("info", "fetched 3 entries")
            {}["missing"]
    final = spooled_documents(tmp_path)[-1]
    assert final["run_id"] == "nightly-7" and final["status"] == "failed"
    assert final["logs"][-1]["level"] == "critical" and "KeyError: 'missing'" in final["logs"][-1]["message"]


def test_failures_make_a_partial_run_and_count_as_failed_records(tmp_path):
    client = closed_console(tmp_path)
    with client.run("time-expense-posting") as run:
        run.failure("time_entry", "TE-1", "Project P-77 is closed", error_code="ERP-4001", amount=612.5)
        run.failure("time_entry", "TE-1", "Project P-77 is still closed", amount=612.5)  # the last one wins
        run.failure("expense", 42, "Receipt missing", payload={"total": "19.90"})
        run.records(succeeded=117, skipped=1)
    final = spooled_documents(tmp_path)[-1]
    assert final["status"] == "partial"
    assert final["records"] == {"succeeded": 117, "failed": 2, "skipped": 1}
    assert [(x["record_id"], x["message"]) for x in final["failures"]] == [
        ("TE-1", "Project P-77 is still closed"),
        ("42", "Receipt missing"),
    ]
    assert final["failures"][0]["amount"] == 612.5  # passed through as given
    assert final["finished_at"] >= final["started_at"] and final["run_id"]


def test_a_run_keeps_its_latest_1000_log_lines_each_within_8_kib(tmp_path):
    client = closed_console(tmp_path)
    with client.run("time-expense-posting") as run:
        for n in range(1500):
            run.log("warn", f"line {n}")
        run.log(40, "é" * 9000)
    logs = spooled_documents(tmp_path)[-1]["logs"]
    assert len(logs) == 1000
    assert logs[0]["message"] == "[502 earlier log lines dropped]"
    assert logs[1]["message"] == "line 502" and logs[1]["level"] == "warning"
    assert logs[-1]["level"] == "error" and len(logs[-1]["message"].encode()) <= 8192


def test_documents_of_one_run_go_in_spooling_order_and_locked_ones_are_skipped(tmp_path):
    spool, other_process = Spool(tmp_path), Spool(tmp_path)
    spool.put("run", "/api/v1/runs", "run:a", {"run_id": "a", "status": "running"})
    spool.put("run", "/api/v1/runs", "run:b", {"run_id": "b", "status": "succeeded"})
    spool.put("run", "/api/v1/runs", "run:a", {"run_id": "a", "status": "succeeded"})

    first = spool.claim()
    assert [(c.document["run_id"], c.document["status"]) for c in first] == [("a", "running"), ("b", "succeeded")]
    # While they are being sent, another process finds nothing it may send:
    # "a" must not overtake its own earlier document.
    assert other_process.claim() == []
    for item in first:
        spool.done(item)
    [last] = other_process.claim()
    assert (last.document["run_id"], last.document["status"]) == ("a", "succeeded")
    last.release()


def test_a_half_written_file_is_never_sent_and_is_cleaned_up(tmp_path):
    spool = Spool(tmp_path)
    spool.put("run", "/api/v1/runs", "run:a", {"run_id": "a"})
    leftover = os.path.join(spool.tmp_dir, "crashed-writer.tmp")
    with open(leftover, "w") as handle:
        handle.write('{"kind": "run", "docu')
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    assert [c.document["run_id"] for c in spool.claim()] == ["a"]
    assert not os.path.exists(leftover)


def test_wrap_runs_the_command_and_passes_its_status_even_without_a_console(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SDK_SOURCE), "OPSCONSOLE_SPOOL": str(tmp_path)}
    env.pop("OPSCONSOLE_URL", None)
    command = [sys.executable, "-m", "opsconsole_worker", "wrap", "--integration", "nightly", "--"]
    unconfigured = subprocess.run([*command, "sh", "-c", "echo hi; exit 4"], env=env, capture_output=True, cwd=ROOT)
    assert unconfigured.returncode == 4 and unconfigured.stdout == b"hi\n"
    assert b"not reporting" in unconfigured.stderr

    env.update(OPSCONSOLE_URL=f"http://127.0.0.1:{free_port()}", OPSCONSOLE_KEY="k")
    unreachable = subprocess.run([*command, "sh", "-c", "exit 0"], env=env, capture_output=True, cwd=ROOT)
    assert unreachable.returncode == 0
    assert [d["status"] for d in spooled_documents(tmp_path)] == ["running", "succeeded"]
    status = subprocess.run(
        [sys.executable, "-m", "opsconsole_worker", "status", "--json"], env=env, capture_output=True, cwd=ROOT
    )
    assert json.loads(status.stdout)["pending"] == 2
