"""Worker API: POST /api/v1/runs and /runs/batch (contract 3.1, 3.2).

Validation is plain Python (``integrations.ingest.validate``) for speed; the
serializers below only document the endpoints in the OpenAPI schema."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.ingest.service import ingest_runs, run_document
from integrations.ingest.validate import MAX_FAILURES, MAX_LOGS
from opsconsole import metrics
from opsconsole.permissions import IngestKey

MAX_BATCH = 1000


class RecordsSerializer(serializers.Serializer):
    processed = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    succeeded = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    failed = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    skipped = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)


class LogSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="ISO 8601 with an offset.")
    level = serializers.ChoiceField(["debug", "info", "warning", "error", "critical"])
    message = serializers.CharField(allow_blank=True, help_text="Up to 8 KiB of UTF-8.")
    context = serializers.JSONField(required=False, allow_null=True, help_text="Scrubbed before storage.")


class FailureSerializer(serializers.Serializer):
    entity = serializers.CharField(max_length=200)
    record_id = serializers.CharField(max_length=200)
    operation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    error_code = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    error_class = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    message = serializers.CharField(
        help_text="Any length; over 64 KiB of UTF-8 it is stored cut, with a '… [truncated: N more bytes]' mark."
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: finished_at, else started_at.")
    source_changed_at = serializers.DateTimeField(required=False, allow_null=True)
    payload = serializers.JSONField(
        required=False, allow_null=True, help_text="Scrubbed; over 64 KiB of JSON stored truncated."
    )
    response = serializers.JSONField(required=False, allow_null=True, help_text='{"status", "body"}, scrubbed.')
    fingerprint = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)


class RecordRefSerializer(serializers.Serializer):
    entity = serializers.CharField(max_length=200)
    record_id = serializers.CharField(max_length=200)


class RunSerializer(serializers.Serializer):
    integration = serializers.SlugField(help_text="Slug of an integration of the key's tenant.")
    run_id = serializers.CharField(min_length=1, max_length=200)
    status = serializers.ChoiceField(["running", "succeeded", "partial", "failed"])
    started_at = serializers.DateTimeField(help_text="With an offset; at most 1 hour in the future.")
    finished_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Null while running.")
    trigger = serializers.ChoiceField(["schedule", "event", "manual", "replay"], required=False, default="schedule")
    replay_id = serializers.UUIDField(required=False, allow_null=True)
    records = RecordsSerializer(required=False)
    lag_seconds = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    worker = serializers.JSONField(required=False, allow_null=True)
    logs = LogSerializer(many=True, required=False, max_length=MAX_LOGS)
    failures = FailureSerializer(many=True, required=False, max_length=MAX_FAILURES)
    recovered = RecordRefSerializer(many=True, required=False)


class StoredRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    integration = serializers.CharField()
    run_id = serializers.CharField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    replay_id = serializers.UUIDField(allow_null=True)
    records = RecordsSerializer()
    lag_seconds = serializers.IntegerField(allow_null=True)
    worker = serializers.JSONField(allow_null=True)
    received_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    failures = serializers.IntegerField(help_text="Failures stored for this run.")
    exceptions = serializers.ListField(child=serializers.IntegerField(), help_text="Exceptions its failures are in.")


class BatchSerializer(serializers.Serializer):
    runs = RunSerializer(many=True, max_length=MAX_BATCH)


class BatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    run_id = serializers.CharField(allow_null=True)
    result = serializers.ChoiceField(["created", "updated", "rejected"])
    id = serializers.IntegerField(required=False)
    errors = serializers.DictField(required=False)


class BatchAnswerSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = BatchResultSerializer(many=True)


ERRORS = {
    400: OpenApiResponse(description="Validation errors, each under its field's name."),
    401: OpenApiResponse(description="Unknown or revoked key."),
    403: OpenApiResponse(description="The key has no ingest scope."),
    413: OpenApiResponse(description="Body over 10 MiB."),
    415: OpenApiResponse(description="Not application/json."),
    429: OpenApiResponse(description="Over the key's rate; see Retry-After."),
}


def _tenant(request):
    return request.user.key.tenant


def _clean(request):
    return getattr(request, "json_text_clean", False)


def _reject(errors, reason):
    metrics.inc("opsconsole_ingest_rejected_total", reason=reason)
    raise ValidationError(errors)


class RunCreateView(APIView):
    permission_classes = [IngestKey]

    @extend_schema(
        operation_id="report_run",
        request=RunSerializer,
        responses={201: StoredRunSerializer, 200: StoredRunSerializer, **ERRORS},
        tags=["worker"],
    )
    def post(self, request):
        doc = request.data
        if not isinstance(doc, dict):
            _reject({"non_field_errors": ["Expected a JSON object (a run document)."]}, "malformed")
        [result] = ingest_runs(_tenant(request), [doc], actor=request.user, strings_clean=_clean(request))
        if result["result"] == "rejected":
            return Response(result["errors"], status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_201_CREATED if result["result"] == "created" else status.HTTP_200_OK
        return Response(run_document(result["id"]), status=code)


class RunBatchView(APIView):
    permission_classes = [IngestKey]

    @extend_schema(
        operation_id="report_runs_batch",
        request=BatchSerializer,
        responses={200: BatchAnswerSerializer, **ERRORS},
        tags=["worker"],
    )
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            _reject({"non_field_errors": ['Expected a JSON object {"runs": [...]}.']}, "malformed")
        runs = body.get("runs")
        if runs is None:
            _reject({"runs": ["This field is required."]}, "malformed")
        if not isinstance(runs, list):
            _reject({"runs": ["Expected a list of run documents."]}, "malformed")
        if len(runs) > MAX_BATCH:
            _reject({"runs": [f"Ensure this field has no more than {MAX_BATCH} elements."]}, "too_many")
        results = ingest_runs(_tenant(request), runs, actor=request.user, strings_clean=_clean(request))
        rejected = sum(1 for r in results if r["result"] == "rejected")
        return Response({"accepted": len(results) - rejected, "rejected": rejected, "results": results})
