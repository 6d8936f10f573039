"""The database's disk filling up under a live web process (issue 15, faults):
writes answer 503 with Retry-After and say the disk is full, never 500; a
refused batch stores nothing; /healthz says the disk is full although the
database still answers reads; once space is freed everything recovers by
itself and the re-posted batch is stored once.

A private PostgreSQL keeps its whole data directory (tables and write-ahead
log, as a default installation does) on a small tmpfs the test mounts, and a
file written until the tmpfs is full stands for the rest of the disk's use;
deleting it frees the space. Mounting needs root (as in CI)."""

import errno
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

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
        reason="a private PostgreSQL server on a disk of its own: PostgreSQL only",
    ),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="root is needed to mount the small tmpfs the database's disk lives on"
    ),
]

RUNS = 40
EMAIL, PASSWORD = "ana@northwind.example", "disk-full-pw-1"


@pytest.fixture
def small_disk():
    """A 160 MB tmpfs, unmounted after the test whatever happens."""
    mount_point = Path(tempfile.mkdtemp(prefix="opsconsole-disk-"))
    mount_point.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m,mode=0755", "tmpfs", mount_point], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", mount_point], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


@pytest.fixture
def database_on_small_disk(contoso, northwind, small_disk):
    """A private PostgreSQL whose data directory is on ``small_disk``, holding
    a copy of the test database (an integration, an ingest key, a user);
    yields (server, database url, key)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db import connection
    from django.utils.crypto import get_random_string

    from opsconsole.roles import Role

    f.make_integration(contoso, "time-expense-posting")
    key = f.make_key(contoso, ["ingest", "read"])
    user = f.make_user(northwind, Role.SUPPORT, EMAIL)
    # Hashed as the live settings' first hasher checks it (the tests' MD5 is not one of theirs).
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, get_random_string(22))
    user.save(update_fields=["password"])
    s = connection.settings_dict
    source = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    data = small_disk / "data"
    data.mkdir(mode=0o700)
    server = PrivatePostgres(data=data).init()
    try:
        server.copy_database(source, "oc")
        # The disk fills between two checkpoints: a checkpoint on a full disk
        # cannot write its files and PostgreSQL PANICs (then it is down, as in
        # test_database_faults). A fresh WAL segment leaves 16 MB of log
        # already on disk for the writes that still succeed.
        server.psql("postgres", "ALTER SYSTEM SET checkpoint_timeout = '1h'")
        server.psql("postgres", "SELECT pg_reload_conf()")
        server.psql("postgres", "SELECT pg_switch_wal()")
        server.psql("postgres", "CHECKPOINT")
        yield server, server.url("oc"), key
    finally:
        server.destroy()


def fill(path):
    """Write ``path`` until the disk has no byte left."""
    chunk = bytes(1 << 20)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, chunk)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    assert shutil.disk_usage(path.parent).free == 0


def batch():
    return {
        "runs": [
            f.run_doc(f"full-r{i}", status="partial", failures=[f.failure_doc(f"TE-{i}", error_code="ERP-1")])
            for i in range(RUNS)
        ]
    }


def sign_in(url):
    """A person signing in (which stores a session): the answer, not followed."""
    browser = requests.Session()
    browser.get(f"{url}/login/", timeout=60)
    return browser.post(
        f"{url}/login/",
        data={"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=60,
    )


def wait_for_health(url, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        health = requests.get(f"{url}/healthz", timeout=60)
        if health.status_code == 200 or time.monotonic() > deadline:
            return health
        time.sleep(0.5)


def test_a_full_database_disk_answers_503_healthz_says_so_and_all_recovers_once_space_is_freed(
    database_on_small_disk, small_disk, tmp_path
):
    server, database_url, key = database_on_small_disk
    headers = {"Authorization": f"Bearer {key}"}
    filler = small_disk / "filler"
    with gunicorn(
        # /healthz's memory of a failed write; short, so recovery shows within the test.
        live_env(database_url, OPSCONSOLE_DISK_FULL_SECONDS="3"),
        tmp_path / "web.log",
        workers=2,
    ) as url:
        assert requests.get(f"{url}/healthz", timeout=60).json()["database"] == "ok"
        fill(filler)

        refused = requests.post(f"{url}/api/v1/runs/batch", json=batch(), headers=headers, timeout=60)
        health = requests.get(f"{url}/healthz", timeout=60)
        page = sign_in(url)
        read = requests.get(f"{url}/api/v1/integrations", headers=headers, timeout=60)
        stored_while_full = server.psql("oc", "SELECT count(*) FROM integrations_run WHERE run_id LIKE 'full-%'")

        filler.unlink()
        healthy = wait_for_health(url)
        stored = requests.post(f"{url}/api/v1/runs/batch", json=batch(), headers=headers, timeout=60)
        signed_in = sign_in(url)

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "30"
    assert refused.json() == {"detail": "The database's disk is full: nothing was stored. Retry later (see /healthz)."}
    assert stored_while_full == "0"

    assert health.status_code == 503 and health.headers["Retry-After"]
    assert health.json()["status"] == "error"
    assert health.json()["database"].startswith("error: disk full"), health.json()

    # Signing in stores a session: the branded page says why it cannot.
    assert page.status_code == 503 and page.headers["Retry-After"], page.text[:500]
    assert "Temporarily unavailable" in page.text and "its database&#x27;s disk is full" in page.text
    # Reading needs no new space: it goes on.
    assert read.status_code == 200, read.text

    assert healthy.status_code == 200, healthy.text
    assert healthy.json()["database"] == "ok"
    assert stored.status_code == 200 and stored.json()["accepted"] == RUNS, stored.text
    assert signed_in.status_code == 302, signed_in.text[-3000:]
    assert server.psql("oc", "SELECT count(*), count(DISTINCT run_id) FROM integrations_run") == f"{RUNS}|{RUNS}"
    assert server.psql("oc", "SELECT count(*) FROM integrations_failure") == str(RUNS)
    assert "Internal Server Error" not in (tmp_path / "web.log").read_text()
