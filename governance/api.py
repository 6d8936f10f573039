"""Governance API: ``GET /api/v1/portfolio`` (contract 4.6) and
``GET /api/v1/audit.csv`` (4.2, 1.1). Partner admins and managers only:
other roles and API keys 403, a tenant out of reach 404."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import governed_tenants_for
from governance.csv_export import audit_lines
from governance.periods import month_label, parse_month
from governance.portfolio import portfolio
from integrations.query_params import text
from opsconsole.api import AuditLogView
from opsconsole.permissions import StaffOnly
from sla.api import SLA_ROW_FIELDS

ERRORS = {
    400: OpenApiResponse(description='A malformed parameter, named: `{"period": ["Expected a month as YYYY-MM."]}`.'),
    401: OpenApiResponse(description="No credentials, or an unknown or revoked key."),
    403: OpenApiResponse(description="Not a partner admin or manager, or an API key."),
    404: OpenApiResponse(description="The `tenant` named is unknown or outside the caller's partner."),
}
_ROW = {k: v for k, v in SLA_ROW_FIELDS.items() if k != "integration"}
PORTFOLIO_RESPONSE = inline_serializer(
    "Portfolio",
    {
        "period": serializers.CharField(help_text="YYYY-MM"),
        "tenants": inline_serializer(
            "PortfolioTenant",
            {
                "tenant": serializers.CharField(),
                "name": serializers.CharField(),
                "objectives": inline_serializer("PortfolioObjective", _ROW, many=True),
                "open_exceptions": serializers.DictField(child=serializers.IntegerField(), help_text="P1..P4"),
                "open_amount": serializers.CharField(
                    allow_null=True,
                    help_text="Sum of the open_amount of the tenant's open and acknowledged exceptions, a decimal"
                    " string of 4 places; null when none holds an amount.",
                ),
                "currency": serializers.CharField(help_text="The tenant's currency (ISO 4217)."),
                "health": serializers.DictField(child=serializers.IntegerField(), help_text="new, up, late, down"),
            },
            many=True,
        ),
    },
)


class PortfolioView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        summary="The portfolio: every tenant's SLA for a month, open exceptions and health",
        description=(
            "For every tenant of the caller's partner (or the one `tenant` names): the rows of "
            "`GET /api/v1/sla` without an integration (pooled and tenant-wide) for the month, with the same "
            "figures; exceptions open or acknowledged now by priority; integrations by health now. "
            "A partner without tenants gets an empty list."
        ),
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM (default: the current month, UTC)"),
            OpenApiParameter("tenant", OpenApiTypes.STR, description="Only this tenant (slug)"),
        ],
        responses={200: PORTFOLIO_RESPONSE, **ERRORS},
        tags=["governance"],
    )
    def get(self, request):
        tenants = governed_tenants_for(request.user, text(request.query_params, "tenant", max_length=63))
        year, month = parse_month(request.query_params.get("period"))
        return Response({"period": month_label(year, month), "tenants": portfolio(tenants, year, month)})


class JsonErrors(BaseContentNegotiation):
    """The CSV endpoint answers CSV, and its errors JSON, whatever Accept says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class AuditCsvView(AuditLogView):
    """The filters, scoping and roles of ``GET /api/v1/audit``, as one CSV."""

    content_negotiation_class = JsonErrors
    pagination_class = None

    @extend_schema(
        summary="The audit log as CSV",
        description=(
            "Every entry `GET /api/v1/audit` would list for the same filters, newest first, not paginated, "
            "under the header `id,at,actor,action,tenant,object_type,object_id,summary`. Cells starting with "
            "`=`, `+`, `-`, `@`, a tab or a carriage return get a leading apostrophe."
        ),
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
        tags=["audit", "governance"],
    )
    def get(self, request, *args, **kwargs):
        entries = self.get_queryset()  # 400, 404 and 403 as GET /api/v1/audit
        response = StreamingHttpResponse(audit_lines(entries), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
