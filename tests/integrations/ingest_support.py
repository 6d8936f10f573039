"""Helpers shared by the ingest tests (fixtures are in tests/conftest.py)."""

import json
from pathlib import Path

from integrations.models import ExceptionOpening, Failure, Run, RunLog, SyncException
from opsconsole.models import AuditEntry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs"

# Receipt time in these tests; the documents' runs started at 10:00 that day.
NOW = "2026-11-26T12:00:00Z"


def load_fixture(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def table_counts():
    """Row counts of everything ingest writes: a rejected request changes none."""
    return {
        model.__name__: model.objects.count()
        for model in (Run, Failure, RunLog, SyncException, ExceptionOpening, AuditEntry)
    }
