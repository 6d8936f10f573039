"""Per-key request rates: a key over its rate gets 429 with Retry-After.

One limit for every web process: the count lives in Redis when REDIS_URL is
set, else in the database (``RateWindow``). Each request is counted in one
atomic step (a Lua script on Redis, one INSERT … ON CONFLICT DO UPDATE …
RETURNING in the database), never read and written back: two processes
answering the same key at the same moment cannot both take the last request
of the window. A window starts at a key's first request and lasts the rate's
period.

When the count cannot be reached (Redis down, the database refusing writes),
the request is let through rather than refused: the limit protects the
console, and losing it for a while loses nothing a worker sent; /healthz
reports the outage."""

import contextlib
import logging
import math
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from rest_framework.throttling import SimpleRateThrottle

from opsconsole.models import RateWindow

log = logging.getLogger(__name__)

# KEYS[1]: the window's hash; ARGV: now, period in seconds. Returns {started, hits}.
_REDIS_HIT = """
local started = redis.call('HGET', KEYS[1], 'started')
if not started then
  started = ARGV[1]
  redis.call('HSET', KEYS[1], 'started', started, 'hits', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
local hits = redis.call('HINCRBY', KEYS[1], 'hits', 1)
return {started, hits}
"""

_redis = threading.local()


def _redis_hit(key, period, now):
    script = getattr(_redis, "script", None)
    if script is None or _redis.url != settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        _redis.url, _redis.script = settings.REDIS_URL, client.register_script(_REDIS_HIT)
        script = _redis.script
    started, hits = script(keys=[f"opsconsole:rate:{key}"], args=[repr(now), math.ceil(period)])
    return float(started), int(hits)


def _database_hit(key, period, now):
    q = connection.ops.quote_name
    table, k, started, hits = q(RateWindow._meta.db_table), q("key"), q("started"), q("hits")
    expired = now - period
    # The old row's values on the right-hand side (SQL UPDATE semantics, on
    # PostgreSQL and SQLite alike): a window that has ended starts again.
    sql = (
        f"INSERT INTO {table} ({k}, {started}, {hits}) VALUES (%s, %s, 1) "  # noqa: S608 - the model's own table
        f"ON CONFLICT ({k}) DO UPDATE SET "
        f"{hits} = CASE WHEN {table}.{started} <= %s THEN 1 ELSE {table}.{hits} + 1 END, "
        f"{started} = CASE WHEN {table}.{started} <= %s THEN excluded.{started} ELSE {table}.{started} END "
        f"RETURNING {started}, {hits}"
    )
    # Inside a transaction (a test, or a caller's atomic block) a failed count
    # must not abort it: a savepoint then. Otherwise one statement, autocommitted.
    with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, now, expired, expired])
            row = cursor.fetchone()
    return float(row[0]), int(row[1])


def count_hit(key, period, now=None):
    """(window start, this request's number in the window) for ``key``."""
    now = time.time() if now is None else now
    if settings.REDIS_URL:
        return _redis_hit(key, period, now)
    return _database_hit(key, period, now)


class KeyRateThrottle(SimpleRateThrottle):
    scope = "key"

    def get_cache_key(self, request, view):
        key = request.auth
        prefix = getattr(key, "prefix", None)
        if prefix is None:
            return None  # sessions are not throttled here
        return self.cache_format % {"scope": self.scope, "ident": prefix}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            self.started, hits = count_hit(key, self.duration)
        except Exception as exc:  # noqa: BLE001 - an unreachable count must not refuse work
            log.warning("rate limit not applied, its count cannot be reached: %s", exc)
            return True
        return hits <= self.num_requests

    def wait(self):
        return min(max(self.started + self.duration - time.time(), 1), self.duration)
