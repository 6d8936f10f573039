"""A full database disk, as the web process meets it: the error is a 503 that
says so, and /healthz reports it for a while. The errors are the database's
own: PostgreSQL raising disk_full (SQLSTATE 53100), SQLite refusing to grow
past its page limit (SQLITE_FULL). tests/faults/test_disk_full.py fills a real
disk."""

import json
import sys
import time

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from opsconsole import disk_full, errors


@pytest.fixture(autouse=True)
def forget_full_disk():
    """This process's note of a full disk must not outlive the test."""
    yield
    disk_full._seen_here["at"] = None


FULL = 'could not extend file "base/1/2": No space left on device'


def provoke(condition="disk_full", message=FULL):
    """Make the database raise its own disk-full error (or the PostgreSQL
    condition named); return it, as Django raised it."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('opsconsole.condition', %s, true), "
                        "set_config('opsconsole.message', %s, true)",
                        [condition, message],
                    )
                    cursor.execute(
                        "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = current_setting('opsconsole.condition'), "
                        "MESSAGE = current_setting('opsconsole.message'); END $$"
                    )
            else:
                with connection.cursor() as cursor:
                    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
                    cursor.execute(f"PRAGMA max_page_count = {pages}")
                    try:
                        cursor.execute("CREATE TABLE needs_a_page (x text)")
                    finally:
                        cursor.execute("PRAGMA max_page_count = 4294967294")
    except DatabaseError as exc:
        return exc
    raise AssertionError("the database did not refuse")


def answer_to(exc, path):
    """What the 500 handler answers a request to ``path`` that failed with ``exc``."""
    try:
        raise exc
    except DatabaseError:
        assert sys.exc_info()[1] is exc
        return errors.handler500(RequestFactory().post(path))


@pytest.mark.django_db
def test_the_databases_disk_full_error_is_recognised():
    exc = provoke()
    if connection.vendor == "postgresql":
        import psycopg

        assert isinstance(exc.__cause__, psycopg.errors.DiskFull)
    assert errors.database_unavailable(exc)
    assert disk_full.is_disk_full(exc)


@pytest.mark.django_db
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL condition")
def test_a_query_cancelled_is_unavailable_but_not_a_full_disk():
    exc = provoke("query_canceled", "canceling statement due to statement timeout")
    assert errors.database_unavailable(exc)
    assert not disk_full.is_disk_full(exc)
    response = answer_to(exc, "/api/v1/runs/batch")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert disk_full.seconds_since_seen() is None


@pytest.mark.django_db
def test_an_api_write_on_a_full_disk_is_a_503_naming_the_disk():
    response = answer_to(provoke(), "/api/v1/runs/batch")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert json.loads(response.content) == {
        "detail": "The database's disk is full: nothing was stored. Retry later (see /healthz)."
    }


@pytest.mark.django_db
def test_a_page_on_a_full_disk_is_the_branded_503_page_saying_so():
    response = answer_to(provoke(), "/inbox/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "its database&#x27;s disk is full" in body


@pytest.mark.django_db
def test_healthz_says_the_disk_is_full_for_a_minute_after_a_request_met_it(client):
    assert client.get("/healthz").status_code == 200
    answer_to(provoke(), "/api/v1/runs/batch")

    response = client.get("/healthz")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["status"] == "error"
    assert response.json()["database"].startswith("error: disk full (a request's write failed for lack of space")

    with time_machine.travel(time.time() + 61, tick=False):
        assert client.get("/healthz").json()["database"] == "ok"


def test_with_redis_every_web_process_sees_that_a_request_met_a_full_disk(settings, tmp_path):
    from tests.live_services import PrivateRedis

    redis = PrivateRedis(tmp_path / "redis").start()
    try:
        settings.REDIS_URL = redis.url
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis.url}}
        disk_full.note_seen()
        disk_full._seen_here["at"] = None  # as another web process, which met nothing itself
        assert disk_full.seconds_since_seen() < 5
        assert 0 < redis.client().ttl(f":1:{disk_full.SEEN_KEY}") <= 60
    finally:
        redis.stop()
