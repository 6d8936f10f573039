"""Roles and what each may do (contract section 2), kept as data.

Views and viewsets ask ``can(user, Perm.ACT)``; the matrix below is the only
place the rules live, and tests/opsconsole/test_roles.py walks it.
"""

from django.db import models


class Role(models.TextChoices):
    PARTNER_ADMIN = "partner_admin", "Partner admin"
    MANAGER = "manager", "Manager"
    SUPPORT = "support", "Support"
    CUSTOMER_APPROVER = "customer_approver", "Customer approver"
    CUSTOMER_VIEWER = "customer_viewer", "Customer viewer"


class Perm(models.TextChoices):
    VIEW = "view", "See runs, exceptions, SLA, reports"
    ACT = "act", "Acknowledge, assign, comment, resolve, ignore, request a replay"
    APPROVE = "approve", "Approve or reject a replay"
    GOVERN = "govern", "Governance pages, audit log"
    CONFIGURE = "configure", "Configuration, keys, branding"


# Roles that see every tenant of their partner; the others see only the
# tenants they are attached to.
PARTNER_WIDE = frozenset({Role.PARTNER_ADMIN, Role.MANAGER, Role.SUPPORT})
CUSTOMER_ROLES = frozenset({Role.CUSTOMER_APPROVER, Role.CUSTOMER_VIEWER})

MATRIX = {
    Role.PARTNER_ADMIN: frozenset({Perm.VIEW, Perm.ACT, Perm.APPROVE, Perm.GOVERN, Perm.CONFIGURE}),
    Role.MANAGER: frozenset({Perm.VIEW, Perm.ACT, Perm.APPROVE, Perm.GOVERN}),
    Role.SUPPORT: frozenset({Perm.VIEW, Perm.ACT}),
    Role.CUSTOMER_APPROVER: frozenset({Perm.VIEW, Perm.APPROVE}),
    Role.CUSTOMER_VIEWER: frozenset({Perm.VIEW}),
}


def can(user, perm):
    """True when ``user``'s role carries ``perm``. Scope (which tenants) is
    checked separately by the access functions in ``opsconsole.access``."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    role = getattr(user, "role", None)
    return perm in MATRIX.get(role, frozenset())
