"""Per-key request rates: a key over its rate gets 429 with Retry-After.

The count lives in the shared cache (Redis, or the database), so every web
process enforces one limit. It is counted with ``add`` + ``incr``, each atomic
in the cache (Redis INCR; opsconsole.cache locks the row), never read and
written back: two processes answering the same key at the same moment
cannot both take the last request of the window. A window starts at a key's
first request and lasts the rate's period.

When the cache cannot be reached (Redis down), requests are let through
rather than refused: the rate limit protects the console, losing it for a
while loses nothing a worker sent; /healthz reports the outage."""

import logging
import time

from django.core.cache import cache as default_cache
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class KeyRateThrottle(SimpleRateThrottle):
    scope = "key"
    cache = default_cache

    def get_cache_key(self, request, view):
        key = request.auth
        prefix = getattr(key, "prefix", None)
        if prefix is None:
            return None  # sessions are not throttled here
        return self.cache_format % {"scope": self.scope, "ident": prefix}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = time.time()
        try:
            count = self._count()
        except Exception as exc:  # noqa: BLE001 - an unreachable cache must not refuse work
            log.warning("rate limit not applied, the cache is unreachable: %s", exc)
            return True
        return count <= self.num_requests

    def _count(self):
        """This request's number in the key's current window."""
        for _ in range(3):
            if self.cache.add(self.key, 0, timeout=self.duration):
                # A new window: remember when it started, for Retry-After.
                self.cache.set(f"{self.key}:start", self.now, timeout=self.duration)
            try:
                return self.cache.incr(self.key)
            except ValueError:
                continue  # the window ended between add and incr
        raise RuntimeError("rate limit counter keeps expiring")

    def wait(self):
        try:
            started = self.cache.get(f"{self.key}:start")
        except Exception:  # noqa: BLE001
            started = None
        if started is None:
            return self.duration
        return min(max(started + self.duration - time.time(), 1), self.duration)
