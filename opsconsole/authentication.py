"""Bearer keys (tenant keys and personal tokens) and browser sessions for DRF."""

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import authentication, exceptions

from opsconsole.access import KeyPrincipal


def _authenticate_key(raw):
    """The key model's lookup, named by ``settings.OPSCONSOLE_KEY_LOOKUP``
    (``integrations.keys.authenticate``): this floor knows no app."""
    return import_string(settings.OPSCONSOLE_KEY_LOOKUP)(raw)


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
        key = _authenticate_key(parts[1])
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
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
