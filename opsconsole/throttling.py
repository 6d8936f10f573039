"""Per-key request rates: a key over its rate gets 429 with Retry-After."""

from rest_framework.throttling import SimpleRateThrottle


class KeyRateThrottle(SimpleRateThrottle):
    scope = "key"

    def get_cache_key(self, request, view):
        key = request.auth
        prefix = getattr(key, "prefix", None)
        if prefix is None:
            return None  # sessions are not throttled here
        return self.cache_format % {"scope": self.scope, "ident": prefix}
