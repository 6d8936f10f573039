"""The OpenAPI schema describes what the API answers: paginated envelopes,
integer ids, every error with its body shape, a tag and a summary on every
operation, and nullable objects strict OpenAPI 3.0 validators accept."""

import json

import pytest

ERRORS = {"401", "403", "404", "405", "429", "503"}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                yield path, method, op


def test_every_operation_is_tagged_summarised_and_documents_its_errors(schema):
    for path, method, op in operations(schema):
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert op.get("tags") and op["tags"] != ["v1"], where
        assert ERRORS <= set(op["responses"]), where
        if method == "post":
            assert {"400", "413", "415"} <= set(op["responses"]), where
        for code, answer in op["responses"].items():
            if code.startswith(("4", "5")):
                assert answer["content"]["application/json"]["schema"], (where, code)
    assert schema["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v1/exceptions", "/api/v1/exceptions/{id}/occurrences", "/api/v1/runs", "/api/v1/integrations"]
)
def test_lists_are_documented_as_the_paginated_envelope(schema, path):
    ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])


def test_exception_and_run_ids_are_integers(schema):
    for path in ("/api/v1/exceptions/{id}", "/api/v1/runs/{id}", "/api/v1/exceptions/{id}/replay"):
        for op in schema["paths"][path].values():
            (param,) = [p for p in op["parameters"] if p["in"] == "path"]
            assert param["schema"] == {"type": "integer"}, path


def test_no_nullable_beside_all_of(schema):
    def walk(node):
        if isinstance(node, dict):
            assert not (node.get("nullable") and "allOf" in node), node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    clock = schema["components"]["schemas"]["Clock"]["properties"]
    target = clock["acknowledge"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][target]["nullable"] is True
