"""Replays API: the worker's claim and result (contract 3.3, 3.4), the staff
actions replay and discard on exceptions (4.1) and the replays endpoints (4.3)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import replays
from integrations.access import get_exception_for_user, get_replay_for_user, replays_for
from integrations.models import Integration, Replay, ReplayStatus
from opsconsole.access import get_tenant_for_user, require, tenants_for
from opsconsole.lib.timestamps import utc_z
from opsconsole.pagination import Pagination
from opsconsole.permissions import IngestKey, ReadOrStaff, StaffOnly
from opsconsole.roles import Perm


def _document(replay):
    replay = Replay.objects.select_related("tenant", "integration", "requested_by", "approved_by").get(pk=replay.pk)
    return replays.replay_document(replay)


# -- input -----------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string, never a number or a boolean coerced to one; no NUL and no
    unpaired surrogate (contract 3.1)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError("Unpaired surrogates are not allowed.") from None
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _body(request):
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    return data


class ReplayRequestSerializer(serializers.Serializer):
    records = serializers.ListField(child=StrictCharField(max_length=200), required=False, allow_null=True)
    reason = StrictCharField(required=False, allow_blank=True, max_length=10_000)
    patch = serializers.DictField(child=serializers.DictField(), required=False, allow_null=True)


class DiscardSerializer(serializers.Serializer):
    records = serializers.ListField(child=StrictCharField(max_length=200), required=False, allow_null=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=10_000)


class NoteSerializer(serializers.Serializer):
    note = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=10_000)


class ClaimSerializer(serializers.Serializer):
    integration = StrictCharField(max_length=63)
    lease_seconds = StrictIntegerField(
        required=False, min_value=1, max_value=replays.MAX_LEASE_SECONDS, default=replays.DEFAULT_LEASE_SECONDS
    )


class ResultRecordSerializer(serializers.Serializer):
    entity = StrictCharField(max_length=200)
    record_id = StrictCharField(max_length=200)
    status = serializers.ChoiceField(choices=["succeeded", "failed"])
    message = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=8192)


class ResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["succeeded", "failed", "partial"])
    run_id = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=200)
    records = ResultRecordSerializer(many=True, required=False)

    def validate_records(self, value):
        if len(value) > 10_000:
            raise ValidationError("At most 10,000 records.")
        seen = set()
        for index, item in enumerate(value):
            key = (item["entity"], item["record_id"])
            if key in seen:
                raise ValidationError({str(index): {"record_id": ["Listed twice."]}})
            seen.add(key)
        return value


class ReplayRecordDocument(serializers.Serializer):
    """One record of a replay document (contract 4.3); for the API schema."""

    entity = serializers.CharField()
    record_id = serializers.CharField()
    operation = serializers.CharField()
    payload = serializers.JSONField(allow_null=True)
    patch = serializers.JSONField(allow_null=True)
    error_code = serializers.CharField()
    message = serializers.CharField()
    idempotency_key = serializers.CharField()


class ReplayDocument(serializers.Serializer):
    """The replay document (contract 4.3); built by replays.replay_document."""

    id = serializers.UUIDField()
    tenant = serializers.CharField()
    integration = serializers.CharField()
    exception = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReplayStatus.values)
    attempt = serializers.IntegerField()
    reason = serializers.CharField()
    requested_by = serializers.EmailField(allow_null=True)
    approved_by = serializers.EmailField(allow_null=True)
    created_at = serializers.DateTimeField()
    records = ReplayRecordDocument(many=True)
    decision_note = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    queued_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    result = serializers.JSONField(allow_null=True)


class DiscardAnswer(serializers.Serializer):
    exception = serializers.IntegerField()
    discarded = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)


def _validated(serializer_class, request):
    serializer = serializer_class(data=_body(request))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _normalised_result(data):
    """The result as stored, so a repeated post compares equal."""
    return {
        "status": data["status"],
        "run_id": data.get("run_id") or None,
        "records": [
            {
                "entity": r["entity"],
                "record_id": r["record_id"],
                "status": r["status"],
                "message": r.get("message") or "",
            }
            for r in data.get("records", [])
        ],
    }


# -- staff actions on an exception (4.1) ---------------------------------------------


class ExceptionReplayView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        summary="Request a replay of an exception's records (pending approval where required)",
        request=ReplayRequestSerializer,
        responses={201: ReplayDocument},
        tags=["replays"],
    )
    def post(self, request, pk):
        exception = get_exception_for_user(request.user, pk)
        require(request.user, Perm.ACT)
        data = _validated(ReplayRequestSerializer, request)
        replay = replays.request_replay(
            request.user,
            exception,
            records=data.get("records"),
            reason=data.get("reason", ""),
            patch=data.get("patch") or {},
        )
        return Response(_document(replay), status=status.HTTP_201_CREATED)


class ExceptionDiscardView(APIView):
    permission_classes = [StaffOnly]

    @extend_schema(
        summary="Discard records of an exception (remediated without a replay)",
        request=DiscardSerializer,
        responses={200: DiscardAnswer},
        tags=["replays"],
    )
    def post(self, request, pk):
        exception = get_exception_for_user(request.user, pk)
        require(request.user, Perm.ACT)
        data = _validated(DiscardSerializer, request)
        discarded = replays.discard(request.user, exception, records=data.get("records"), note=data.get("note", ""))
        exception.refresh_from_db(fields=["status", "resolved_at"])
        return Response(
            {
                "exception": exception.pk,
                "discarded": discarded,
                "status": exception.status,
                "resolved_at": utc_z(exception.resolved_at),
            }
        )


# -- replays (4.3) -------------------------------------------------------------------------


class ReplayListView(APIView):
    permission_classes = [ReadOrStaff]
    pagination_class = Pagination

    @extend_schema(
        summary="Replays, newest first",
        tags=["replays"],
        responses={200: ReplayDocument(many=True)},
        parameters=[
            OpenApiParameter("tenant", str),
            OpenApiParameter("status", str, enum=ReplayStatus.values),
            OpenApiParameter("integration", str),
            OpenApiParameter("exception", int),
        ],
    )
    def get(self, request):
        for name in ("tenant", "status", "integration", "exception"):
            value = request.query_params.get(name) or ""
            if "\x00" in value or len(value) > 200:
                raise ValidationError({name: ["Not a valid value."]})
        rows = replays_for(request.user)
        tenant = request.query_params.get("tenant")
        if tenant:
            rows = rows.filter(tenant=get_tenant_for_user(request.user, tenant))
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in ReplayStatus.values:
                raise ValidationError(
                    {"status": [f"Unknown status {wanted[:50]!r}; use one of {', '.join(ReplayStatus.values)}."]}
                )
            rows = rows.filter(status=wanted)
        integration = request.query_params.get("integration")
        if integration:
            rows = rows.filter(integration__slug=integration)
            if not Integration.objects.filter(tenant__in=tenants_for(request.user), slug=integration).exists():
                raise Http404("No such integration.")
        exception = request.query_params.get("exception")
        if exception:
            if not exception.isdigit() or int(exception) >= 2**63:
                raise ValidationError({"exception": ["Expected an exception id."]})
            rows = rows.filter(exception_id=int(exception))
        rows = rows.prefetch_related("records").order_by("-created_at", "-id")
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([replays.replay_document(r) for r in page])


class ReplayDetailView(APIView):
    permission_classes = [ReadOrStaff]

    @extend_schema(summary="One replay", responses={200: ReplayDocument}, tags=["replays"])
    def get(self, request, pk):
        return Response(replays.replay_document(get_replay_for_user(request.user, pk)))


class _DecisionView(APIView):
    """404 out of reach, then 403 for a role (or requester) that may not
    take this decision, and only then 400 for a malformed body."""

    permission_classes = [StaffOnly]
    action = None

    @extend_schema(
        summary="Approve, reject or cancel a replay (the path says which)",
        request=NoteSerializer,
        responses={200: ReplayDocument},
        tags=["replays"],
    )
    def post(self, request, pk):
        replay = get_replay_for_user(request.user, pk)
        self.check_caller(request.user, replay)
        data = _validated(NoteSerializer, request)
        getattr(replays, self.action)(request.user, replay, data.get("note") or "")
        return Response(_document(replay))

    def check_caller(self, user, replay):
        replays.check_approver(user, replay)


class ReplayApproveView(_DecisionView):
    action = "approve"


class ReplayRejectView(_DecisionView):
    action = "reject"


class ReplayCancelView(_DecisionView):
    action = "cancel"

    def check_caller(self, user, replay):
        require(user, Perm.ACT)


# -- worker API (3.3, 3.4) ------------------------------------------------------------------


class ReplayClaimView(APIView):
    permission_classes = [IngestKey]

    @extend_schema(
        summary="Claim the oldest queued replay of an integration (204 when none)",
        request=ClaimSerializer,
        responses={200: ReplayDocument, 204: None},
        tags=["worker"],
    )
    def post(self, request):
        data = _validated(ClaimSerializer, request)
        integration = Integration.objects.filter(tenant_id=request.user.tenant_id, slug=data["integration"]).first()
        if integration is None:
            raise ValidationError({"integration": [f"No integration {data['integration']!r} in this tenant."]})
        replay = replays.claim(request.user, integration, data["lease_seconds"])
        if replay is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(replays.replay_document(replay))


class ReplayResultView(APIView):
    permission_classes = [IngestKey]

    @extend_schema(
        summary="Report a replay's outcome",
        request=ResultSerializer,
        responses={200: ReplayDocument},
        tags=["worker"],
    )
    def post(self, request, pk):
        replay = Replay.objects.filter(pk=pk, tenant_id=request.user.tenant_id).first()
        if replay is None:
            raise Http404("No such replay.")
        data = _normalised_result(_validated(ResultSerializer, request))
        replay, _changed = replays.record_result(request.user, replay, data)
        return Response(_document(replay))
