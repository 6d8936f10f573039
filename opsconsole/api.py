"""Staff API of the tenancy app: the audit log (contract 4.2)."""

from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from opsconsole.access import get_tenant_for_user, require
from opsconsole.lib.time_params import instant_range
from opsconsole.models import AuditEntry
from opsconsole.permissions import StaffOnly
from opsconsole.roles import Perm


class AuditEntrySerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant_slug", allow_null=True, read_only=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "action", "tenant", "object_type", "object_id", "summary", "data"]
        read_only_fields = fields


@extend_schema(
    summary="The audit log",
    description=(
        "Entries of the caller's partner, newest first (managers and partner admins; other roles 403, "
        "API keys 403). `from` is inclusive and `to` exclusive; each takes a timestamp with an offset or a "
        "date, meaning 00:00 UTC of that day. `action` matches exactly, or by prefix when it ends in `.*` "
        "(`exception.*`). An unknown or unreachable `tenant` is a 404."
    ),
    parameters=[
        OpenApiParameter("tenant", OpenApiTypes.STR, description="Tenant slug"),
        OpenApiParameter("actor", OpenApiTypes.STR, description="A user's e-mail, key:<name> or system"),
        OpenApiParameter("action", OpenApiTypes.STR, description="Such as config.apply, or exception.*"),
        OpenApiParameter("from", OpenApiTypes.STR, description="ISO date or timestamp (inclusive)"),
        OpenApiParameter("to", OpenApiTypes.STR, description="ISO date or timestamp (exclusive)"),
    ],
    tags=["audit"],
)
class AuditLogView(generics.ListAPIView):
    permission_classes = [StaffOnly]
    serializer_class = AuditEntrySerializer

    def get_queryset(self):
        user = self.request.user
        params = self.request.query_params
        # 404 (tenant out of reach), then 403 (role), then 400 (malformed);
        # a slug holding NUL names no tenant and is refused as malformed.
        if "\x00" in params.get("tenant", ""):
            raise ValidationError({"tenant": ["Must not contain NUL characters."]})
        tenant = get_tenant_for_user(user, params["tenant"]) if params.get("tenant") else None
        require(user, Perm.GOVERN)
        for name in ("actor", "action", "from", "to"):
            if "\x00" in params.get(name, ""):
                raise ValidationError({name: ["Must not contain NUL characters."]})
        start, end = instant_range(params)
        entries = AuditEntry.objects.annotate(tenant_slug=F("tenant__slug"))
        if user.partner_id is not None:
            entries = entries.filter(partner_id=user.partner_id)
        elif not user.is_superuser:
            entries = entries.none()
        if tenant is not None:
            entries = entries.filter(tenant=tenant)
        if params.get("actor"):
            entries = entries.filter(actor__iexact=params["actor"].strip())
        action = (params.get("action") or "").strip()
        if action.endswith(".*"):
            entries = entries.filter(action__startswith=action[:-1])
        elif action:
            entries = entries.filter(action=action)
        if start is not None:
            entries = entries.filter(at__gte=start)
        if end is not None:
            entries = entries.filter(at__lt=end)
        return entries.order_by("-at", "-id")
