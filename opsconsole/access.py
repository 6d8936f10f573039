"""Access functions: every view and viewset gets tenants through these, so the
scoping rules of contract section 2 live in one place. Outside a caller's
reach is a 404 (Http404), inside reach but not allowed by role is a 403."""

from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from opsconsole.models import Tenant
from opsconsole.roles import PARTNER_WIDE, can


class KeyPrincipal:
    """``request.user`` for a tenant API key: authenticated, no role, one tenant."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_active = True
    role = None
    pk = None
    id = None

    def __init__(self, key):
        self.key = key
        self.tenant_id = key.tenant_id
        self.scopes = frozenset(key.scopes or ())

    @property
    def actor_label(self):
        return f"key:{self.key.name}"

    @property
    def email(self):
        return self.actor_label

    def __str__(self):
        return self.actor_label


def is_key(user):
    return isinstance(user, KeyPrincipal)


def tenants_for(user):
    """Tenants ``user`` may see: a tenant key its own, partner-wide roles all of
    their partner's, customer roles those they are attached to."""
    if not getattr(user, "is_authenticated", False):
        return Tenant.objects.none()
    if is_key(user):
        return Tenant.objects.filter(pk=user.tenant_id)
    if user.is_superuser and user.partner_id is None:
        return Tenant.objects.all()
    if user.role in PARTNER_WIDE:
        return Tenant.objects.filter(partner_id=user.partner_id)
    return Tenant.objects.filter(partner_id=user.partner_id, customer_users=user)


def get_tenant_for_user(user, slug):
    """The tenant with ``slug`` if ``user`` may see it, else Http404."""
    if not isinstance(slug, str) or "\x00" in slug or len(slug) > 63:
        raise Http404("No such tenant.")
    tenant = tenants_for(user).filter(slug=slug).select_related("partner").first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def require(user, perm):
    """Raise 403 unless ``user``'s role carries ``perm`` (call after the
    object was found within reach, so that 404 takes precedence)."""
    if is_key(user) or not can(user, perm):
        raise PermissionDenied("Your role does not allow this.")
