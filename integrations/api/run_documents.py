"""The run document (contract 3.1 answers, 4.2): one builder for every answer
that shows a run. ``GET /api/v1/runs`` and ``/runs/{id}`` answer
``RunSerializer``; ``POST /api/v1/runs`` answers the same document with the
failures stored for the run and the exceptions they are in
(``stored_run_document``); an integration's ``last_run`` is its summary.
Timestamps use the one format of answers (``opsconsole.lib.timestamps``)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import Failure, Run


class RunRecordCountsSerializer(serializers.Serializer):
    processed = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant = serializers.CharField(source="tenant.slug")
    integration = serializers.CharField(source="integration.slug")
    run_id = serializers.CharField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    replay_id = serializers.UUIDField(allow_null=True)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    records = serializers.SerializerMethodField()
    lag_seconds = serializers.IntegerField(allow_null=True)
    worker = serializers.JSONField(allow_null=True)
    received_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(RunRecordCountsSerializer)
    def get_records(self, run):
        return {"processed": run.processed, "succeeded": run.succeeded, "failed": run.failed, "skipped": run.skipped}


class StoredRunSerializer(RunSerializer):
    """The answer of ``POST /api/v1/runs``: the run document, plus what
    its failures became."""

    failures = serializers.IntegerField(source="failure_count", help_text="Failures stored for this run.")
    exceptions = serializers.ListField(
        child=serializers.IntegerField(), source="exception_ids", help_text="Exceptions its failures are in."
    )


class LastRunSerializer(RunSerializer):
    """An integration's last run (4.2): the run document's summary fields."""

    tenant = None
    integration = None
    replay_id = None
    records = None
    lag_seconds = None
    worker = None
    received_at = None
    updated_at = None


def stored_run_document(run_pk):
    """The ``POST /api/v1/runs`` answer for a run just stored."""
    run = Run.objects.select_related("tenant", "integration").get(pk=run_pk)
    failures = Failure.objects.filter(run_id=run_pk)
    run.failure_count = failures.count()
    run.exception_ids = sorted(set(failures.values_list("exception_id", flat=True).order_by()))
    return StoredRunSerializer(run).data
