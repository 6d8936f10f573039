"""Staff API of runs and integrations (contract 4.2): lists for users'
tokens, sessions and read keys, scoped by the access functions."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import query_params as params
from integrations.access import get_run_for_user, runs_for
from integrations.api.run_documents import LastRunSerializer, RunSerializer
from integrations.api.runs import RunCreateView
from integrations.models import RunStatus
from integrations.overview import integration_rows
from opsconsole.access import tenants_for
from opsconsole.pagination import Pagination
from opsconsole.permissions import ReadOrStaff


class ScheduleSerializer(serializers.Serializer):
    every_minutes = serializers.IntegerField()
    grace_minutes = serializers.IntegerField()


class IntegrationSerializer(serializers.Serializer):
    tenant = serializers.CharField(source="integration.tenant.slug")
    slug = serializers.CharField(source="integration.slug")
    name = serializers.CharField(source="integration.name")
    pattern = serializers.CharField(source="integration.pattern")
    source = serializers.CharField(source="integration.source.slug")
    target = serializers.CharField(source="integration.target.slug")
    entities = serializers.ListField(child=serializers.CharField(), source="integration.entities")
    mode = serializers.CharField(source="integration.mode")
    schedule = serializers.SerializerMethodField()
    owner = serializers.EmailField(source="integration.owner.email", allow_null=True)
    approval_required = serializers.BooleanField(source="integration.approval_required")
    health = serializers.ChoiceField(choices=["new", "up", "late", "down"])
    last_run = LastRunSerializer(allow_null=True)
    last_run_status = serializers.CharField(source="last_run.status", allow_null=True)
    open_exceptions = serializers.IntegerField()

    @extend_schema_field(ScheduleSerializer(allow_null=True))
    def get_schedule(self, row):
        i = row.integration
        if not i.has_schedule:
            return None
        return {"every_minutes": i.every_minutes, "grace_minutes": i.grace_minutes or 0}


def filter_runs(user, query):
    """(queryset, tenant) of runs for ``query``; 400 on malformed values, 404
    on an unknown or unreachable tenant or integration."""
    qs = runs_for(user)
    tenant = params.tenant(query, user)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    integrations = params.integration(query, user, tenant)
    if integrations is not None:
        qs = qs.filter(integration__in=integrations)
    statuses = params.choice(query, "status", RunStatus.values)
    if statuses:
        qs = qs.filter(status__in=statuses)
    run_id = params.text(query, "run_id")
    if run_id:
        qs = qs.filter(run_id=run_id)
    zone = tenant.tzinfo if tenant is not None else None
    start = params.instant(query, "from", **({"tzinfo": zone} if zone else {}))
    end = params.instant(query, "to", end_of_day=True, **({"tzinfo": zone} if zone else {}))
    if start is not None:
        qs = qs.filter(started_at__gte=start)
    if end is not None:
        qs = qs.filter(started_at__lt=end)
    # run_tenant_started / run_integration_started indexes.
    return qs.order_by("-started_at", "-id"), tenant


RUN_PARAMETERS = [
    OpenApiParameter("tenant", str, description="Tenant slug (404 when unknown or out of reach)."),
    OpenApiParameter("integration", str, description="Integration slug (404 when unknown or out of reach)."),
    OpenApiParameter("status", str, description="running, succeeded, partial, failed (comma-separated)."),
    OpenApiParameter("run_id", str, description="The worker's run id."),
    OpenApiParameter("from", str, description="ISO date or timestamp; runs started at or after it."),
    OpenApiParameter("to", str, description="ISO date (the whole day) or timestamp; runs started before it."),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int),
]


class RunsView(RunCreateView):
    """``/api/v1/runs``: GET lists runs for staff and read keys (contract
    4.2); POST is the worker's report (3.1), handled by RunCreateView."""

    # Answers the paginated envelope; the schema says so (drf-spectacular reads this).
    pagination_class = Pagination

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [ReadOrStaff()]
        return super().get_permissions()

    @extend_schema(
        summary="List runs, newest first",
        parameters=RUN_PARAMETERS,
        responses=RunSerializer(many=True),
        tags=["runs"],
    )
    def get(self, request):
        qs, _ = filter_runs(request.user, request.query_params)
        qs = qs.select_related("tenant", "integration")
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RunSerializer(page, many=True).data)


class RunDetailView(APIView):
    permission_classes = [ReadOrStaff]

    @extend_schema(summary="One run", responses=RunSerializer, tags=["runs"])
    def get(self, request, pk):
        return Response(RunSerializer(get_run_for_user(request.user, pk)).data)


class IntegrationListView(APIView):
    # Answers the paginated envelope; the schema says so (drf-spectacular reads this).
    pagination_class = Pagination
    permission_classes = [ReadOrStaff]

    @extend_schema(
        summary="Integrations with health, last run and open exceptions",
        parameters=[OpenApiParameter("tenant", str, description="Tenant slug (404 when unknown or out of reach).")],
        responses=IntegrationSerializer(many=True),
        tags=["integrations"],
    )
    def get(self, request):
        tenant = params.tenant(request.query_params, request.user)
        tenants = [tenant] if tenant is not None else tenants_for(request.user)
        rows = integration_rows(tenants)
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(IntegrationSerializer(page, many=True).data)
