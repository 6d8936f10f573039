"""Report archive API (contract 5, 1.1): ``GET /api/v1/reports?tenant=`` and
``POST /api/v1/reports/{tenant}/{YYYY-MM}/reissue``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.access import get_tenant_for_user, require
from opsconsole.errors import Conflict
from opsconsole.permissions import ReadOrStaff, StaffOnly
from opsconsole.roles import Perm
from sla.models import IssuedReport
from sla.reports import issuing
from sla.reports.periods import BadPeriod, Month
from sla.reports.renderer import RendererUnavailable


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The chart renderer is unavailable."


class IssuedReportSerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant.slug", read_only=True)
    issued_by = serializers.CharField(help_text="a user's e-mail, or system")

    class Meta:
        model = IssuedReport
        fields = ["tenant", "period", "version", "issued_at", "issued_by", "pdf_sha256", "csv_sha256"]
        read_only_fields = fields


DETAIL = inline_serializer("ReportError", {"detail": serializers.CharField()})


@extend_schema(
    summary="Issued reports of a tenant, newest first",
    description=(
        "Every issued version of the tenant's monthly reports (users, or a key with the read scope). "
        "The current month is provisional and never issued, so it is not listed. An unknown or "
        "unreachable tenant is a 404."
    ),
    parameters=[OpenApiParameter("tenant", OpenApiTypes.STR, required=True, description="tenant slug")],
    responses={200: IssuedReportSerializer(many=True), 400: DETAIL, 404: DETAIL},
    tags=["reports"],
)
class ReportListView(generics.ListAPIView):
    permission_classes = [ReadOrStaff]
    serializer_class = IssuedReportSerializer

    def get_queryset(self):
        slug = self.request.query_params.get("tenant")
        if not slug:
            raise ValidationError({"tenant": ["This parameter is required."]})
        tenant = get_tenant_for_user(self.request.user, slug)
        return (
            IssuedReport.objects.filter(tenant=tenant)
            .select_related("tenant")
            .defer("pdf", "csv", "figures")
            .order_by("-period", "-version")
        )


@extend_schema(
    summary="Re-issue a closed month's report",
    description=(
        "Issues version N + 1 from the data as it is now (partner admins and managers; audited as "
        "`report.reissue`). Earlier versions stay reachable with `?version=N`. A month that has not "
        "closed in the tenant's time zone is a 409; one that has not begun or precedes the tenant a 404; "
        "a malformed month a 400; no chart renderer a 503."
    ),
    request=None,
    responses={
        201: IssuedReportSerializer,
        400: DETAIL,
        403: DETAIL,
        404: DETAIL,
        409: OpenApiResponse(DETAIL, description="the month is provisional"),
        503: DETAIL,
    },
    tags=["reports"],
)
class ReissueView(APIView):
    permission_classes = [StaffOnly]

    def post(self, request, tenant, period):
        tenant = get_tenant_for_user(request.user, tenant)
        require(request.user, Perm.GOVERN)
        try:
            month = Month.parse(period)
            report = issuing.reissue(tenant, month, request.user)
        except BadPeriod as exc:
            raise ValidationError({"period": [str(exc)]}) from None
        except issuing.PeriodOutOfRange as exc:
            raise NotFound(str(exc)) from None
        except issuing.ProvisionalPeriod as exc:
            raise Conflict(str(exc)) from None
        except RendererUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None
        return Response(IssuedReportSerializer(report).data, status=status.HTTP_201_CREATED)
