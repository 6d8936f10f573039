"""Bearer keys (tenant keys and personal tokens) and browser sessions for DRF."""

import hashlib
import hmac

from django.utils import timezone
from rest_framework import authentication, exceptions

from opsconsole.access import KeyPrincipal


def hash_key(raw):
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def lookup_key(raw):
    """The active ApiKey for ``raw``, or None. Keys look like ``<prefix>.<secret>``."""
    from integrations.models import ApiKey

    prefix = raw.split(".", 1)[0]
    if not prefix or len(prefix) > 32:
        return None
    key = ApiKey.objects.select_related("user", "tenant").filter(prefix=prefix).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, hash_key(raw)):
        return None
    return key


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            header = header.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.") from None
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization must be 'Bearer KEY'.")
        key = lookup_key(parts[1])
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        now = timezone.now()
        # Touch last_used at most once a minute: keeps the hot ingest path to one write.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            type(key).objects.filter(pk=key.pk).update(last_used_at=now)
        if key.user_id:
            user = key.user
            if not user.is_active:
                raise exceptions.AuthenticationFailed("User inactive.")
            return (user, key)
        return (KeyPrincipal(key), key)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Browser sessions, with CSRF enforced as usual for unsafe methods."""
