"""The run document is described once (integrations/ingest/run_schema.py):
the API docs are generated from that description and the validator checks
against it, so what the docs say is what ingest accepts."""

import datetime as dt

import pytest

from integrations import scrub
from integrations.ingest.run_schema import FAILURE, RUN
from integrations.ingest.validate import Context, Invalid, validate_run

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def context():
    return Context(integrations={"sync": 1}, replays=set(), scrub_fields=scrub.fields_for(), now=NOW)


def run(**failure):
    return {
        "integration": "sync",
        "run_id": "r1",
        "status": "failed",
        "started_at": "2026-11-26T10:00:00Z",
        "finished_at": "2026-11-26T10:01:00Z",
        "failures": [{"entity": "invoice", "record_id": "INV-1", "message": "closed", **failure}],
    }


@pytest.fixture
def components(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return schema["components"]["schemas"]


def test_the_docs_list_every_field_of_the_description_with_its_limits(components):
    for component, table in (("RunDocumentRequest", RUN), ("RunFailuresRequest", FAILURE)):
        documented = components[component]
        assert set(documented["properties"]) == set(table), component
        assert set(documented["required"]) == {f.name for f in table.values() if f.required}, component
        for spec in table.values():
            if spec.max_length:
                assert documented["properties"][spec.name]["maxLength"] == spec.max_length, spec.name
    status = components["RunDocumentRequest"]["properties"]["status"]["$ref"].rsplit("/", 1)[1]
    assert components[status]["enum"] == list(RUN["status"].choices)


def test_the_batch_documents_a_list_of_the_same_run_document(components):
    runs = components["RunBatchRequest"]["properties"]["runs"]
    assert runs["items"] == {"$ref": "#/components/schemas/RunDocumentRequest"}


@pytest.mark.parametrize("spec", [s for s in FAILURE.values() if s.max_length], ids=lambda s: s.name)
def test_the_validator_takes_each_failure_limit_from_the_description(spec):
    validate_run(run(**{spec.name: "x" * spec.max_length}), context())

    with pytest.raises(Invalid) as refused:
        validate_run(run(**{spec.name: "x" * (spec.max_length + 1)}), context())

    assert list(refused.value.errors["failures"]["0"]) == [spec.name]


@pytest.mark.parametrize("spec", [s for s in RUN.values() if s.required], ids=lambda s: s.name)
def test_the_validator_requires_what_the_description_requires(spec):
    doc = run()
    del doc[spec.name]

    with pytest.raises(Invalid) as refused:
        validate_run(doc, context())

    assert spec.name in refused.value.errors


def test_the_validator_accepts_exactly_the_described_choices():
    for status in RUN["status"].choices:
        doc = run() | {"status": status}
        if status == "running":
            doc.pop("finished_at")
        validate_run(doc, context())
    with pytest.raises(Invalid):
        validate_run(run() | {"status": "done"}, context())
