"""A database whose disk is full: recognising the error, remembering that a
request met it, and the write probe of /healthz.

On a full disk PostgreSQL still answers reads, ``SELECT 1`` included, and
even rewrites a row in place while its page has room (an upsert of one
existing row succeeds). What fails, with SQLSTATE 53100 (disk_full), is
whatever needs new space: a table or index growing by a page ("could not
extend file …: No space left on device"), or a sort or tuple store spilling
to a temporary file. So /healthz looks for two kinds of evidence:

1. a request that failed for lack of space in the last
   ``OPSCONSOLE_DISK_FULL_SECONDS`` (noted by the 503 handler, opsconsole/errors.py);
2. a probe that needs new space on the database's disk now (PostgreSQL only).

If the write-ahead log cannot grow either, PostgreSQL stops (PANIC) and the
database is simply down: /healthz and every request say so until it is
restarted."""

import logging
import sqlite3
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db import utils as db_errors

log = logging.getLogger(__name__)

# SQLSTATE of PostgreSQL's disk_full (psycopg.errors.DiskFull).
DISK_FULL = "53100"
# The messages of the same condition where no SQLSTATE says it: SQLite's
# SQLITE_FULL, and the operating system's ENOSPC as PostgreSQL quotes it.
DISK_FULL_MESSAGES = ("no space left on device", "could not extend file", "database or disk is full")

# Where the web processes share the moment a request last met a full disk
# (on Redis only: the database cache cannot be written then).
SEEN_KEY = "opsconsole:database-disk-full-seen"

# This process's own note, kept besides Redis's (and alone without Redis).
_seen_here = {"at": None}


def is_disk_full(exc):
    """True when the database error ``exc`` says its disk is full."""
    cause = exc.__cause__ if isinstance(exc, db_errors.Error) and exc.__cause__ is not None else exc
    if getattr(cause, "sqlstate", None) == DISK_FULL:
        return True
    if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    text = str(exc).lower()
    return any(message in text for message in DISK_FULL_MESSAGES)


def note_seen(now=None):
    """Remember that a request failed for lack of space, for /healthz."""
    now = time.time() if now is None else now
    _seen_here["at"] = now
    if settings.REDIS_URL:
        try:
            cache.set(SEEN_KEY, now, timeout=settings.OPSCONSOLE_DISK_FULL_SECONDS)
        except Exception as exc:  # noqa: BLE001 - this process still knows; /healthz says Redis is down
            log.warning("could not share that the database's disk is full: %s", exc)


def seconds_since_seen(now=None):
    """Seconds since a request last failed for lack of space (in any web
    process when Redis is configured), or None if not within the window."""
    now = time.time() if now is None else now
    times = [_seen_here["at"]]
    if settings.REDIS_URL:
        try:
            times.append(cache.get(SEEN_KEY))
        except Exception:  # noqa: BLE001, S110 - /healthz says Redis is down
            pass
    times = [t for t in times if t is not None]
    if not times:
        return None
    elapsed = max(now - max(times), 0)
    return elapsed if elapsed < settings.OPSCONSOLE_DISK_FULL_SECONDS else None


def probe():
    """Make PostgreSQL write about 280 kB of temporary file on the disk of the
    database's own tablespace (``temp_tablespaces`` empty), where its tables
    grow; raise the database's error if it cannot. Nothing is stored, no lock
    is taken, no WAL is written, and the file is gone when the query ends."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64kB'")
        cursor.execute("SET LOCAL temp_tablespaces = ''")
        # A function's rows are kept in a tuple store: past work_mem, on disk.
        cursor.execute("SELECT count(*) FROM generate_series(1, 20000)")
        cursor.fetchone()
