"""Worker API: POST /api/v1/runs and /runs/batch (contract 3.1, 3.2).

Validation is plain Python (``integrations.ingest.validate``) for speed. The
run document is described once, in ``integrations.ingest.run_schema``: the
validator checks against it and the OpenAPI components below are generated
from it, so the docs cannot drift from what is accepted."""

import functools

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.api.run_documents import StoredRunSerializer, stored_run_document
from integrations.ingest.run_schema import MAX_BATCH, RUN
from integrations.ingest.service import ingest_runs
from opsconsole import metrics
from opsconsole.lib.gcpause import paused
from opsconsole.parsers import RunDocumentParser
from opsconsole.permissions import IngestKey


def _drf_field(spec):
    """The DRF field that documents ``spec`` (a ``run_schema.Field``)."""
    common = {"required": spec.required, "help_text": spec.help or None}
    if spec.type in ("string", "integer", "decimal", "timestamp", "uuid", "object", "json"):
        common["allow_null"] = spec.nullable
    if spec.choices:
        return serializers.ChoiceField(list(spec.choices), **common)
    if spec.type == "string":
        limits = {"max_length": spec.max_length, "min_length": spec.min_length}
        return serializers.CharField(allow_blank=not spec.required, **{k: v for k, v in limits.items() if v}, **common)
    if spec.type == "integer":
        return serializers.IntegerField(min_value=0, max_value=spec.maximum, **common)
    if spec.type == "decimal":
        digits = len(str(int(spec.maximum))) + spec.decimal_places
        return serializers.DecimalField(
            max_digits=digits,
            decimal_places=spec.decimal_places,
            min_value=0,
            max_value=spec.maximum,
            coerce_to_string=False,
            **common,
        )
    if spec.type == "timestamp":
        return serializers.DateTimeField(**common)
    if spec.type == "uuid":
        return serializers.UUIDField(**common)
    if spec.type == "object":
        return serializers.DictField(**common)
    if spec.type == "json":
        return serializers.JSONField(**common)
    name = "Run" + "".join(part.title() for part in spec.name.split("_"))
    fields = {f.name: _drf_field(f) for f in spec.items}
    if spec.type == "record":
        return inline_serializer(name, fields, **common)
    return inline_serializer(name, fields, many=True, max_length=spec.max_items, **common)


def _run_fields():
    return {f.name: _drf_field(f) for f in RUN.values()}


# The OpenAPI components of the run document and of a batch, generated from
# the one description the validator checks against (run_schema.RUN).
RunDocumentSerializer = inline_serializer("RunDocument", _run_fields())
BatchSerializer = inline_serializer("RunBatch", {"runs": type(RunDocumentSerializer)(many=True, max_length=MAX_BATCH)})


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


def ingesting(post):
    """A worker API view that decodes and stores run documents: the cyclic
    garbage collector is paused meanwhile (``opsconsole.lib.gcpause``; the
    documents make no garbage cycles), and the decoded body is released as
    soon as the view returns. DRF's request and view refer to each other
    (``parser_context``), so without that the documents would live until the
    collector's next pass, which the pause puts off."""

    @functools.wraps(post)
    def view(self, request):
        try:
            with paused():
                return post(self, request)
        finally:
            # DRF keeps the parsed body in these two; later readers see none.
            request._full_data = request._data = {}

    return view


def _reject(errors, reason):
    metrics.inc("opsconsole_ingest_rejected_total", reason=reason)
    raise ValidationError(errors)


class RunCreateView(APIView):
    permission_classes = [IngestKey]
    parser_classes = [RunDocumentParser]

    @extend_schema(
        operation_id="report_run",
        summary="Report a run (201 stored, 200 updated in place)",
        request=RunDocumentSerializer,
        responses={201: StoredRunSerializer, 200: StoredRunSerializer, **ERRORS},
        tags=["worker"],
    )
    @ingesting
    def post(self, request):
        doc = request.data
        if not isinstance(doc, dict):
            _reject({"non_field_errors": ["Expected a JSON object (a run document)."]}, "malformed")
        [result] = ingest_runs(_tenant(request), [doc], actor=request.user, strings_clean=_clean(request))
        if result["result"] == "rejected":
            return Response(result["errors"], status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_201_CREATED if result["result"] == "created" else status.HTTP_200_OK
        return Response(stored_run_document(result["id"]), status=code)


class RunBatchView(APIView):
    permission_classes = [IngestKey]
    parser_classes = [RunDocumentParser]

    @extend_schema(
        operation_id="report_runs_batch",
        summary="Report up to 1,000 runs at once",
        request=BatchSerializer,
        responses={200: BatchAnswerSerializer, **ERRORS},
        tags=["worker"],
    )
    @ingesting
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
