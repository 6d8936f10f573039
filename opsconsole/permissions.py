"""DRF permission classes for key scopes (contract section 1, "Scopes")."""

from rest_framework.permissions import BasePermission

from opsconsole.access import is_key


class IngestKey(BasePermission):
    """Only tenant keys with the ingest scope (the worker API)."""

    message = "This endpoint needs an API key with the ingest scope."

    def has_permission(self, request, view):
        user = request.user
        return bool(is_key(user) and "ingest" in user.scopes)


class ReadOrStaff(BasePermission):
    """Users (token or session) and tenant keys with the read scope."""

    message = "This endpoint needs a user's token or a key with the read scope."

    def has_permission(self, request, view):
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return False
        if is_key(user):
            return request.method in ("GET", "HEAD", "OPTIONS") and "read" in user.scopes
        return True


class StaffOnly(BasePermission):
    """Users only (token or session); tenant keys get 403."""

    message = "This endpoint needs a user's token or session."

    def has_permission(self, request, view):
        user = request.user
        return bool(getattr(user, "is_authenticated", False) and not is_key(user))
