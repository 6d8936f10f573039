"""Staff API of exceptions (contract 4.1): the list, one exception, its
occurrences, and the actions acknowledge, assign, comment, resolve, ignore
and reopen. Replays and discards have their own module."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.access import get_exception_for_user, require_act
from integrations.inbox import filter_exceptions
from integrations.models import Failure
from integrations.sync_exceptions import staff
from opsconsole.lib.time_params import OUT_OF_RANGE, to_utc
from opsconsole.lib.timestamps import utc_z
from opsconsole.pagination import Pagination
from opsconsole.permissions import ReadOrStaff, StaffOnly
from sla.clock import clocks_for

# --- Serializers ---------------------------------------------------------------------


class DeadlineSerializer(serializers.Serializer):
    within_business_minutes = serializers.IntegerField()
    due = serializers.DateTimeField()
    met = serializers.BooleanField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    left_business_seconds = serializers.FloatField(allow_null=True)
    breached = serializers.BooleanField()


class ClockSerializer(serializers.Serializer):
    acknowledge = DeadlineSerializer(allow_null=True)
    resolve = DeadlineSerializer(allow_null=True)


class OptionalText(serializers.CharField):
    """A string the worker may leave out: null in answers when it did."""

    def __init__(self, **kw):
        super().__init__(allow_null=True, allow_blank=True, **kw)

    def to_representation(self, value):
        return value or None


class ExceptionSerializer(serializers.Serializer):
    """The contract's exception document, plus ``ignored_until`` and the SLA
    clock (``sla``: time left to the acknowledge and resolve deadlines)."""

    id = serializers.IntegerField()
    tenant = serializers.CharField(source="tenant.slug")
    integration = serializers.CharField(source="integration.slug")
    title = serializers.CharField()
    fingerprint = serializers.CharField()
    entity = serializers.CharField()
    error_code = OptionalText()
    error_class = OptionalText()
    status = serializers.CharField()
    priority = serializers.CharField()
    assignee = serializers.EmailField(source="assignee.email", allow_null=True)
    occurrences = serializers.IntegerField()
    records = serializers.IntegerField()
    first_seen = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)
    opened_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    regressed = serializers.BooleanField()
    grouped_by = serializers.CharField()
    runbook = serializers.CharField(allow_blank=True)
    ignored_until = serializers.DateTimeField(allow_null=True)
    open_amount = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        allow_null=True,
        coerce_to_string=True,
        help_text="Sum of the amounts of the latest failure of each record still failed, replay_requested or"
        " replay_failed, four decimals; null when none carries an amount.",
    )
    currency = serializers.CharField(source="tenant.currency", help_text="The tenant's currency (ISO 4217).")
    close_deadline = serializers.DateTimeField(
        allow_null=True,
        help_text="The earliest book close among the months those failures occurred in (tenant calendar);"
        " null when the tenant has no close or nothing is counted.",
    )
    sla = serializers.SerializerMethodField()

    @extend_schema_field(ClockSerializer)
    def get_sla(self, obj) -> dict:
        clocks = self.context.get("clocks") or {}
        clock = clocks.get(obj.pk)
        if clock is None:
            return {"acknowledge": None, "resolve": None}
        out = {}
        for kind in ("acknowledge", "resolve"):
            deadline = getattr(clock, kind)
            if deadline is None:
                out[kind] = None
                continue
            d = deadline.as_dict()
            d["due"] = utc_z(d["due"])
            d["done_at"] = utc_z(d["done_at"])
            out[kind] = d
        return out


class OccurrenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    entity = serializers.CharField()
    record_id = serializers.CharField()
    run_id = serializers.CharField(source="run.run_id")
    run = serializers.IntegerField(source="run_id", help_text="The console's id of the run (GET /api/v1/runs).")
    operation = OptionalText()
    error_code = OptionalText()
    error_class = OptionalText()
    message = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    source_changed_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField(allow_null=True)
    response = serializers.JSONField(allow_null=True)
    amount = serializers.DecimalField(max_digits=16, decimal_places=4, allow_null=True, coerce_to_string=True)
    currency = OptionalText(help_text="As the worker sent it (the tenant's), or null.")
    state = serializers.CharField()


def exception_documents(exceptions, now=None):
    """Serialized exceptions with their SLA clocks (one objectives query)."""
    exceptions = list(exceptions)
    clocks = clocks_for(exceptions, now)
    return ExceptionSerializer(exceptions, many=True, context={"clocks": clocks}).data


def exception_document(exception):
    return exception_documents([exception])[0]


LIST_PARAMETERS = [
    OpenApiParameter("tenant", str, description="Tenant slug (404 when unknown or out of reach)."),
    OpenApiParameter("integration", str, description="Integration slug (404 when unknown or out of reach)."),
    OpenApiParameter("status", str, description="open, acknowledged, resolved, ignored (comma-separated), or all."),
    OpenApiParameter("priority", str, description="P1 to P4 (comma-separated)."),
    OpenApiParameter("assignee", str, description="An e-mail address, `me` or `none`."),
    OpenApiParameter("error_class", str),
    OpenApiParameter("q", str, description="Searches title, message, error code and record ids; `#812` finds an id."),
    OpenApiParameter(
        "view", str, description="Saved view: mine, unassigned-urgent, breaching, blocking-close (ordered by close)."
    ),
    OpenApiParameter(
        "order",
        str,
        enum=["urgency", "amount", "close"],
        description="urgency (default, most urgent first); amount (largest open_amount first); close (earliest"
        " close_deadline first). Nulls last; ties keep the urgency order.",
    ),
    OpenApiParameter(
        "opened_after", str, description="Opened at or after this timestamp (with an offset) or date (00:00 UTC)."
    ),
    OpenApiParameter("opened_before", str, description="Opened before this timestamp or date (exclusive)."),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int),
]


class ExceptionListView(APIView):
    # Answers the paginated envelope; the schema says so (drf-spectacular reads this).
    pagination_class = Pagination
    permission_classes = [ReadOrStaff]

    @extend_schema(
        summary="List exceptions, most urgent first",
        parameters=LIST_PARAMETERS,
        responses=ExceptionSerializer(many=True),
        tags=["exceptions"],
    )
    def get(self, request):
        qs, _ = filter_exceptions(request.user, request.query_params)
        qs = qs.select_related("tenant", "integration", "assignee")
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(exception_documents(page))


class ExceptionDetailView(APIView):
    permission_classes = [ReadOrStaff]

    @extend_schema(summary="One exception", responses=ExceptionSerializer, tags=["exceptions"])
    def get(self, request, pk):
        return Response(exception_document(get_exception_for_user(request.user, pk)))


class OccurrenceListView(APIView):
    # Answers the paginated envelope; the schema says so (drf-spectacular reads this).
    pagination_class = Pagination
    permission_classes = [ReadOrStaff]

    @extend_schema(
        summary="Occurrences (failures) of an exception, newest first",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=OccurrenceSerializer(many=True),
        tags=["exceptions"],
    )
    def get(self, request, pk):
        exception = get_exception_for_user(request.user, pk)
        # failure_exception_occurred index.
        qs = Failure.objects.filter(exception=exception).select_related("run").order_by("-occurred_at", "-id")
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(OccurrenceSerializer(page, many=True).data)


# --- Actions --------------------------------------------------------------------------


def _no_nul(value, name):
    if isinstance(value, str) and ("\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)):
        raise ValidationError({name: ["Must not contain NUL characters or unpaired surrogates."]})
    return value


class NoteField(serializers.CharField):
    def __init__(self, **kw):
        kw.setdefault("required", False)
        kw.setdefault("allow_blank", True)
        kw.setdefault("allow_null", True)
        kw.setdefault("max_length", staff.MAX_NOTE)
        kw.setdefault("trim_whitespace", True)
        super().__init__(**kw)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise ValidationError("Must be a string.")
        return _no_nul(super().to_internal_value(data), self.field_name)


class EmptyBody(serializers.Serializer):
    pass


class AssignBody(serializers.Serializer):
    assignee = serializers.CharField(allow_null=True, max_length=320, help_text="A staff user's e-mail, or null.")

    def validate_assignee(self, value):
        return _no_nul(value, "assignee")


class CommentBody(serializers.Serializer):
    body = serializers.CharField(max_length=staff.MAX_NOTE)

    def to_internal_value(self, data):
        if isinstance(data, dict) and "body" in data and not isinstance(data["body"], str):
            raise ValidationError({"body": ["Must be a string."]})
        return super().to_internal_value(data)

    def validate_body(self, value):
        return _no_nul(value, "body")


class ResolveBody(serializers.Serializer):
    note = NoteField()


class StrictDateTimeField(serializers.DateTimeField):
    """A timestamp that must carry an offset (contract section 3 and 8)."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            raise ValidationError("Must be an ISO 8601 timestamp with an offset.")
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError("Must be an ISO 8601 timestamp with an offset, such as 2026-12-01T09:00:00Z.")
        if parsed.tzinfo is None:
            raise ValidationError("A timestamp needs an offset such as Z or +02:00.")
        instant = to_utc(parsed)
        if instant is None:
            raise ValidationError(OUT_OF_RANGE)
        return instant


class IgnoreBody(serializers.Serializer):
    note = NoteField()
    until = StrictDateTimeField(required=False, allow_null=True, help_text="Ignore until then (absent: for good).")

    def validate_until(self, value):
        if value is not None and value <= timezone.now():
            raise ValidationError("Must be in the future.")
        return value


def _body(serializer_class, request):
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ExceptionActionView(APIView):
    """POST /api/v1/exceptions/{id}/<action>: 404 out of reach, 403 for
    roles that may not act, 400 malformed, 409 when the state forbids it."""

    permission_classes = [StaffOnly]
    body = EmptyBody

    def post(self, request, pk):
        exception = get_exception_for_user(request.user, pk)
        require_act(request.user)
        data = _body(self.body, request)
        # The writer's refusals (integrations.errors) become 409 and 400 in
        # opsconsole.errors.exception_handler.
        result = self.perform(exception, request.user, data)
        return self.respond(result, exception)

    def perform(self, exception, user, data):
        raise NotImplementedError

    def respond(self, result, exception):
        return Response(exception_document(get_exception_for_user(self.request.user, exception.pk)))


def _action_schema(summary, body):
    return extend_schema(
        summary=summary,
        request=body if body is not EmptyBody else None,
        responses={200: ExceptionSerializer, 409: OpenApiTypes.OBJECT},
        tags=["exceptions"],
    )


class AcknowledgeView(ExceptionActionView):
    @_action_schema("Acknowledge an open exception", EmptyBody)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, user, data):
        return staff.acknowledge(exception, user)


class AssignView(ExceptionActionView):
    body = AssignBody

    @_action_schema("Assign to a staff user (null unassigns)", AssignBody)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, user, data):
        return staff.assign(exception, user, data.get("assignee"))


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.EmailField(source="author.email", allow_null=True)
    body = serializers.CharField()
    created = serializers.DateTimeField()


class CommentView(ExceptionActionView):
    body = CommentBody

    @extend_schema(
        summary="Comment on an exception",
        request=CommentBody,
        responses={201: CommentSerializer},
        tags=["exceptions"],
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, user, data):
        return staff.comment(exception, user, data["body"])

    def respond(self, result, exception):
        return Response(CommentSerializer(result).data, status=status.HTTP_201_CREATED)


class ResolveView(ExceptionActionView):
    body = ResolveBody

    @_action_schema("Resolve an exception", ResolveBody)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, user, data):
        return staff.resolve(exception, user, data.get("note") or "")


class IgnoreView(ExceptionActionView):
    body = IgnoreBody

    @_action_schema("Ignore an exception, optionally until a time", IgnoreBody)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, user, data):
        return staff.ignore(exception, user, data.get("note") or "", data.get("until"))


class ReopenView(ExceptionActionView):
    body = ResolveBody

    @_action_schema("Reopen a resolved or ignored exception (a new opening)", ResolveBody)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, user, data):
        return staff.reopen(exception, user, data.get("note") or "")
