"""Who opens a report URL (contract 5): a browser session, a user's token or
a ``read`` key of the tenant. Outside reach is a 404 before any scope check."""

from rest_framework import exceptions

from opsconsole.access import get_tenant_for_user, is_key
from opsconsole.authentication import BearerKeyAuthentication


class NotSignedIn(Exception):
    """No session and no Authorization header: the page asks to sign in."""


class BadCredentials(Exception):
    """An Authorization header with an unknown or revoked key (401)."""


class OutOfScope(Exception):
    """A key of the tenant without the read scope (403)."""


def caller(request):
    """The session's user, else the user or key of the Bearer header."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = BearerKeyAuthentication().authenticate(request)
    except exceptions.AuthenticationFailed as exc:
        raise BadCredentials(str(exc.detail)) from None
    if found is None:
        raise NotSignedIn()
    return found[0]


def tenant_for_report(request, slug):
    """The tenant of a report URL for the caller: Http404 outside reach, then
    OutOfScope for a key without ``read``."""
    user = caller(request)
    tenant = get_tenant_for_user(user, slug)
    if is_key(user) and "read" not in user.scopes:
        raise OutOfScope("This key has no read scope; reports need a read key, a user's token or a session.")
    return user, tenant
