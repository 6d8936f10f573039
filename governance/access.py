"""Who reaches the governance pages and endpoints (contract section 2:
"governance pages, audit log": partner admins and managers).

Every governance view gets its tenants and keys through these. A tenant
named in the query string is looked up first, so that one outside the
caller's reach is a 404 whatever their role; then the role is checked (403).
Both are Django exceptions, so pages and the API answer alike."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from integrations.models import ApiKey
from opsconsole.access import get_tenant_for_user, is_key, tenants_for
from opsconsole.roles import Perm, can


def require_govern(user):
    """403 unless ``user`` is a person whose role may govern (keys never may)."""
    if is_key(user) or not can(user, Perm.GOVERN):
        raise PermissionDenied("Governance is for partner admins and managers.")


def governed_tenants_for(user, slug=None):
    """The tenants a governance page covers: all of the caller's partner's,
    or the one named by ``slug`` (404 when out of reach, before the 403)."""
    if slug:
        tenant = get_tenant_for_user(user, slug)
        require_govern(user)
        return tenants_for(user).filter(pk=tenant.pk)
    require_govern(user)
    return tenants_for(user)


def keys_for(user):
    """API keys of the caller's tenants and personal tokens of the caller's
    partner's users (every partner's for a superuser without one)."""
    require_govern(user)
    keys = ApiKey.objects.select_related("tenant", "user")
    if getattr(user, "partner_id", None) is None and user.is_superuser:
        return keys
    return keys.filter(Q(tenant__in=tenants_for(user)) | Q(user__partner_id=user.partner_id))
