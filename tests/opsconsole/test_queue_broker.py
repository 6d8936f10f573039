"""The queue rides Redis when REDIS_URL is set, the database otherwise
(issue 15): a task queued by one process runs in a queue worker of another.
Redis here is a private redis-server of the test (never the shared one)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from django_q.models import OrmQ, Task

from tests.integrations.live_database import Database
from tests.live_services import PrivateRedis, wait_for
from tests.live_web import ROOT

QUEUE = "django_q:opsconsole:q"


def manage(*args, env, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def settings_env(**extra):
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "opsconsole.settings", "DATABASE_URL": "", **extra}


def q_cluster_of(env):
    out = manage(
        "shell", "-c", "import json; from django.conf import settings; print(json.dumps(settings.Q_CLUSTER))", env=env
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_redis_url_puts_the_queue_on_redis_and_without_it_on_the_database():
    on_redis = q_cluster_of(settings_env(REDIS_URL="redis://127.0.0.1:6391/0"))
    assert on_redis["redis"] == "redis://127.0.0.1:6391/0" and "orm" not in on_redis
    assert on_redis["broker_class"] == "opsconsole.broker.ReliableRedis"
    on_database = q_cluster_of(settings_env(REDIS_URL=""))
    assert on_database["orm"] == "default" and "redis" not in on_database and "broker_class" not in on_database


def task_saved(database, name):
    """Whether the queue worker has saved the task's result (in the live test
    database, or in the SQLite file the subprocesses share)."""
    if database.sqlite_file is None:
        return Task.objects.filter(name=name).exists()
    db = sqlite3.connect(database.sqlite_file, timeout=20)
    try:
        return db.execute("SELECT 1 FROM django_q_task WHERE name = ?", (name,)).fetchone() is not None
    finally:
        db.close()


def stop_cluster(process):
    """SIGTERM to the cluster's main process only (it stops its children in
    order; a TERM to each child at once can leave it waiting), SIGKILL after a minute."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_one_process_runs_in_a_queue_worker_of_another(redis_server, tmp_path):
    database = Database(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "OPSCONSOLE_Q_SYNC": "0",
        "OPSCONSOLE_Q_WORKERS": "1",
        "REDIS_URL": redis_server.url,
        **database.env(),
    }
    queued = manage(
        "shell",
        "-c",
        "from django_q.tasks import async_task; async_task('math.copysign', 2, -1, task_name='broker-switch-probe')",
        env=env,
    )
    assert queued.returncode == 0, queued.stderr
    # On Redis, not in the database's queue table.
    assert redis_server.client().llen(QUEUE) == 1
    assert OrmQ.objects.count() == 0

    log_path = tmp_path / "qcluster.log"
    with open(log_path, "w") as log:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            done = wait_for(lambda: task_saved(database, "broker-switch-probe"), 90)
        finally:
            stop_cluster(cluster)
    assert done, log_path.read_text()[-3000:]
    database.read_back()
    task = Task.objects.get(name="broker-switch-probe")
    assert task.success and task.result == -2.0
    # Acknowledged: nothing left taken or waiting.
    client = redis_server.client()
    assert client.llen(QUEUE) == 0 and client.zcard(f"{QUEUE}:taken") == 0
