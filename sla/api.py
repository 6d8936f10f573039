"""SLA and trends API (contract 4.4, 4.5): ``GET /api/v1/sla`` and
``GET /api/v1/trends``, for users (token or session) and ``read`` keys of the
tenant. Parameters are checked before anything is read; each problem is a 400
naming its parameter."""

import re
from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.access import get_tenant_for_user
from opsconsole.permissions import ReadOrStaff
from sla.engine import days_bounds, month_bounds, sla_rows
from sla.trends import trends

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Longest range accepted, in days (keeps one request's work bounded).
MAX_DAYS = 3700


def _param(request, name):
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    return value


def _date(request, name):
    value = _param(request, name)
    if value is None:
        raise ValidationError({name: ["This parameter is required (YYYY-MM-DD)."]})
    if not DATE_RE.match(value):
        raise ValidationError({name: ["Expected a date as YYYY-MM-DD."]})
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: ["Not a valid date."]}) from None
    if not (1971 <= d.year <= 9998):
        raise ValidationError({name: ["Year out of range."]})
    return d


def date_range(request):
    """(first, after_last) local dates from ``from`` and ``to`` (exclusive)."""
    first, after_last = _date(request, "from"), _date(request, "to")
    if after_last <= first:
        raise ValidationError({"to": ["Must be after 'from' (it is exclusive)."]})
    if (after_last - first).days > MAX_DAYS:
        raise ValidationError({"to": [f"The range may cover at most {MAX_DAYS} days."]})
    return first, after_last


def parse_period(request, tenant):
    """(start, end) aware datetimes from ``period=YYYY-MM`` or ``from``/``to``."""
    period = _param(request, "period")
    if period is not None:
        if _param(request, "from") is not None or _param(request, "to") is not None:
            raise ValidationError({"period": ["Give either 'period' or 'from' and 'to', not both."]})
        m = PERIOD_RE.match(period)
        if not m or not (1 <= int(m.group(2)) <= 12) or not (1971 <= int(m.group(1)) <= 9998):
            raise ValidationError({"period": ["Expected a month as YYYY-MM."]})
        return month_bounds(tenant, int(m.group(1)), int(m.group(2)))
    if _param(request, "from") is None and _param(request, "to") is None:
        raise ValidationError({"period": ["This parameter is required (YYYY-MM), or 'from' and 'to'."]})
    first, after_last = date_range(request)
    return days_bounds(tenant, first, after_last)


def tenant_of(request):
    slug = _param(request, "tenant")
    if slug is None:
        raise ValidationError({"tenant": ["This parameter is required."]})
    if len(slug) > 63:
        raise ValidationError({"tenant": ["Too long."]})
    return get_tenant_for_user(request.user, slug)


def local_iso(dt, tenant):
    return dt.astimezone(tenant.tzinfo).isoformat()


# --- documentation shapes ---------------------------------------------------

_budget = inline_serializer(
    "ErrorBudget",
    {
        "allowed": serializers.FloatField(),
        "spent": serializers.FloatField(),
        "remaining_pct": serializers.FloatField(allow_null=True),
    },
)
SLA_ROW_FIELDS = {
    "objective": serializers.ChoiceField(
        ["run_success", "record_success", "freshness", "timeliness", "acknowledge", "resolve"]
    ),
    "integration": serializers.CharField(allow_null=True, help_text="null: pooled or tenant-wide row"),
    "priority": serializers.CharField(allow_null=True),
    "target": serializers.FloatField(),
    "threshold_minutes": serializers.IntegerField(allow_null=True),
    "within_business_minutes": serializers.IntegerField(allow_null=True),
    "good": serializers.FloatField(help_text="runs, records, or seconds for timeliness"),
    "total": serializers.FloatField(),
    "attained": serializers.FloatField(allow_null=True),
    "met": serializers.BooleanField(allow_null=True),
    "error_budget": _budget,
}
SLA_RESPONSE = inline_serializer(
    "Sla",
    {
        "tenant": serializers.CharField(),
        "period": inline_serializer(
            "SlaPeriod",
            {
                "start": serializers.CharField(help_text="local midnight with the tenant's offset"),
                "end": serializers.CharField(),
            },
        ),
        "objectives": inline_serializer("SlaRow", SLA_ROW_FIELDS, many=True),
    },
)
_pct = inline_serializer(
    "TrendMinutes",
    {"median": serializers.FloatField(allow_null=True), "p95": serializers.FloatField(allow_null=True)},
)
TRENDS_RESPONSE = inline_serializer(
    "Trends",
    {
        "tenant": serializers.CharField(),
        "bucket": serializers.ChoiceField(["day", "week"]),
        "from": serializers.CharField(),
        "to": serializers.CharField(),
        "buckets": inline_serializer(
            "TrendBucket",
            {
                "start": serializers.CharField(),
                "end": serializers.CharField(),
                "runs": serializers.DictField(child=serializers.IntegerField()),
                "records": serializers.DictField(child=serializers.IntegerField()),
                "failures": inline_serializer(
                    "TrendFailures",
                    {
                        "total": serializers.IntegerField(),
                        "by_error_class": serializers.DictField(child=serializers.IntegerField()),
                    },
                ),
                "exceptions": inline_serializer(
                    "TrendExceptions",
                    {
                        "opened": serializers.IntegerField(),
                        "resolved": serializers.IntegerField(),
                        "open_at_end": serializers.IntegerField(),
                    },
                ),
                "acknowledge_minutes": _pct,
                "resolve_minutes": _pct,
            },
            many=True,
        ),
    },
)
_TENANT = OpenApiParameter("tenant", OpenApiTypes.STR, required=True, description="tenant slug")
_FROM = OpenApiParameter("from", OpenApiTypes.DATE, description="first local day")
_TO = OpenApiParameter("to", OpenApiTypes.DATE, description="local day after the last (exclusive); may be future")


class SlaView(APIView):
    permission_classes = [ReadOrStaff]

    @extend_schema(
        summary="SLA of a tenant over a month or a range of days",
        parameters=[
            _TENANT,
            OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM, a month of the tenant's calendar"),
            _FROM,
            _TO,
        ],
        responses={200: SLA_RESPONSE},
    )
    def get(self, request):
        tenant = tenant_of(request)
        start, end = parse_period(request, tenant)
        rows = sla_rows(tenant, start, end)
        return Response(
            {
                "tenant": tenant.slug,
                "period": {"start": local_iso(start, tenant), "end": local_iso(end, tenant)},
                "objectives": rows,
            }
        )


class TrendsView(APIView):
    permission_classes = [ReadOrStaff]

    @extend_schema(
        summary="Trends of a tenant per day or per week (weeks start on Monday)",
        parameters=[
            _TENANT,
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="first local day"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="local day after the last"),
            OpenApiParameter("bucket", OpenApiTypes.STR, enum=["day", "week"], description="default: day"),
        ],
        responses={200: TRENDS_RESPONSE},
    )
    def get(self, request):
        tenant = tenant_of(request)
        first, after_last = date_range(request)
        bucket = _param(request, "bucket") or "day"
        if bucket not in ("day", "week"):
            raise ValidationError({"bucket": ["Expected 'day' or 'week'."]})
        buckets = trends(tenant, first, after_last, bucket)
        for b in buckets:
            b["start"] = local_iso(b["start"], tenant)
            b["end"] = local_iso(b["end"], tenant)
        return Response(
            {
                "tenant": tenant.slug,
                "bucket": bucket,
                "from": first.isoformat(),
                "to": after_last.isoformat(),
                "buckets": buckets,
            }
        )
