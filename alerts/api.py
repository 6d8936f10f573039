"""``GET /api/v1/alerts`` (contract 4.7): the alerts of section 6, newest
first, each with every delivery attempt."""

from collections import defaultdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from alerts.access import alerts_for
from alerts.models import AlertState, DeliveryAttempt, Event
from opsconsole.access import get_tenant_for_user
from opsconsole.permissions import ReadOrStaff

LISTED_EVENTS = [e for e in Event.values if e != Event.TEST]


class AttemptSerializer(serializers.Serializer):
    channel = serializers.CharField(source="delivery.channel_kind", help_text="webhook, email, slack or teams")
    attempt = serializers.IntegerField()
    at = serializers.DateTimeField()
    status = serializers.IntegerField(
        source="status_code", allow_null=True, help_text="The HTTP status; null for e-mail or no answer"
    )
    error = serializers.SerializerMethodField(help_text="Why the try failed; null when it did not")
    delivery = serializers.UUIDField(source="delivery.delivery_id", help_text="Kept across the retries")
    message = serializers.CharField(source="delivery.notice.kind", help_text="fired, escalated or resolved")
    duration_ms = serializers.IntegerField(allow_null=True)

    def get_error(self, attempt) -> str | None:
        return None if attempt.succeeded else (attempt.error or None)


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    tenant = serializers.CharField(source="tenant.slug")
    integration = serializers.CharField(source="integration.slug", allow_null=True, default=None)
    state = serializers.ChoiceField(choices=AlertState.choices)
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    summary = serializers.CharField()
    deliveries = serializers.SerializerMethodField()
    priority = serializers.CharField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    data = serializers.JSONField()

    def get_deliveries(self, alert) -> list[dict]:
        attempts = self.context["attempts"].get(alert.pk, [])
        return AttemptSerializer(attempts, many=True).data


def _choice(params, name, allowed):
    value = params.get(name)
    if value in (None, ""):
        return None
    if value not in allowed:
        raise ValidationError({name: [f"'{value[:100]}' is not one of: {', '.join(allowed)}."]})
    return value


@extend_schema(
    summary="Alerts",
    description=(
        "The alerts of contract section 6, newest first: staff see every tenant of their partner, customers "
        "and read keys their own tenants. An unknown or unreachable `tenant` is a 404; an unknown `event` or "
        "`state` is a 400 naming the parameter. `deliveries` lists every delivery attempt of every message "
        "of the episode (first message, escalation, resolution)."
    ),
    parameters=[
        OpenApiParameter("tenant", OpenApiTypes.STR, description="Tenant slug"),
        OpenApiParameter("event", OpenApiTypes.STR, enum=LISTED_EVENTS, description="Alert event"),
        OpenApiParameter("state", OpenApiTypes.STR, enum=AlertState.values, description="firing or resolved"),
    ],
    responses={
        200: AlertSerializer(many=True),
        400: OpenApiResponse(description="A bad `event` or `state`, named in the body"),
        403: OpenApiResponse(description="A key without the read scope"),
        404: OpenApiResponse(description="The tenant is unknown or out of reach"),
    },
    tags=["alerts"],
)
class AlertListView(generics.ListAPIView):
    permission_classes = [ReadOrStaff]
    serializer_class = AlertSerializer

    def get_queryset(self):
        params = self.request.query_params
        for name in ("tenant", "event", "state"):
            if "\x00" in params.get(name, ""):
                raise ValidationError({name: ["Must not contain NUL characters."]})
        alerts = alerts_for(self.request.user).select_related("tenant", "integration")
        if params.get("tenant"):
            alerts = alerts.filter(tenant=get_tenant_for_user(self.request.user, params["tenant"]))
        event = _choice(params, "event", LISTED_EVENTS)
        state = _choice(params, "state", AlertState.values)
        if event:
            alerts = alerts.filter(event=event)
        if state:
            alerts = alerts.filter(state=state)
        return alerts.order_by("-opened_at", "-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        attempts = defaultdict(list)
        rows = (
            DeliveryAttempt.objects.filter(delivery__notice__alert__in=[a.pk for a in page])
            .select_related("delivery__notice")
            .order_by("at", "id")
        )
        for attempt in rows:
            attempts[attempt.delivery.notice.alert_id].append(attempt)
        data = AlertSerializer(page, many=True, context={"attempts": attempts}).data
        return self.get_paginated_response(data)
