"""No input, however malformed, makes the worker API answer 500 (contract 8).

Documents are valid runs with fields replaced by random JSON values, from a
fixed seed, so every run of the suite posts the same few hundred cases."""

import json
import random

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db

STRINGS = [
    "", " ", "\x00", "a\x00b", "\ud800", "x" * 201, "é" * 5000, "<script>alert(1)</script>", "0", "1e400",
    "2026-11-26T10:00:00Z", "2026-11-26T10:00:00", "2026-11-26", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "time-expense-posting", "running", "succeeded", "replay",
    "00000000-0000-0000-0000-000000000000", "{\"token\": \"t\"}", "[1, {\"password\": 2}]",
]  # fmt: skip
NUMBERS = [0, -1, 1, 2**31 - 1, 2**31, 2**63, -(2**70), 10**40, 0.5, -0.0, 1e308, True, False]
FIELDS = [
    "integration", "run_id", "status", "started_at", "finished_at", "trigger", "replay_id", "records",
    "lag_seconds", "worker", "logs", "failures", "recovered",
]  # fmt: skip
FAILURE_FIELDS = ["entity", "record_id", "message", "occurred_at", "error_code", "payload", "response", "fingerprint"]
LOG_FIELDS = ["at", "level", "message", "context"]


def random_value(rnd, depth=0):
    kind = rnd.randrange(6 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.choice(STRINGS)
    if kind == 2:
        return rnd.choice(NUMBERS)
    if kind == 3:
        return "".join(chr(rnd.randrange(0, 0x3000)) for _ in range(rnd.randrange(8)))
    if kind == 4:
        return [random_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    keys = STRINGS[:6] + ["password", "Token", "body", "processed", "succeeded"]
    return {rnd.choice(keys): random_value(rnd, depth + 1) for _ in range(rnd.randrange(4))}


def random_run(rnd):
    doc = f.run_doc(
        f"fuzz-{rnd.randrange(50)}",
        failures=[
            f.failure_doc("A", payload={"x": 1}, error_code="E1"),
            f.failure_doc("B", response={"status": 400, "body": '{"token": "t"}'}),
        ],
        logs=[{"at": "2026-11-26T10:00:00Z", "level": "info", "message": "m", "context": {}}],
        recovered=[{"entity": "time_entry", "record_id": "A"}],
    )
    for field in rnd.sample(FIELDS, rnd.randrange(4)):
        doc[field] = random_value(rnd)
    for name, fields in (("failures", FAILURE_FIELDS), ("logs", LOG_FIELDS)):
        items = doc.get(name)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            for field in rnd.sample(fields, rnd.randrange(3)):
                items[0][field] = random_value(rnd)
    return doc


def encode(doc):
    """JSON text, lone surrogates and all (the client would send them escaped)."""
    return json.dumps(doc).encode()


def test_no_run_document_makes_the_api_answer_500(worker, post_run):
    rnd = random.Random(20261126)
    for _ in range(300):
        doc = random_run(rnd)
        response = worker.generic("POST", "/api/v1/runs", encode(doc), content_type="application/json")
        assert response.status_code in (200, 201, 400), (response.status_code, doc)
        assert isinstance(response.json(), dict)


def test_no_batch_makes_the_api_answer_500(worker, post_run):
    rnd = random.Random(7)
    for _ in range(60):
        runs = [random_run(rnd) if rnd.random() < 0.8 else random_value(rnd) for _ in range(rnd.randrange(6))]
        response = worker.generic("POST", "/api/v1/runs/batch", encode({"runs": runs}), content_type="application/json")
        assert response.status_code == 200, (response.status_code, runs)
        body = response.json()
        assert body["accepted"] + body["rejected"] == len(runs)


def test_no_body_makes_the_api_answer_500(worker, post_run):
    rnd = random.Random(11)
    bodies = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(64))) for _ in range(40)]
    bodies += [encode(random_value(rnd)) for _ in range(40)]
    for raw in bodies:
        for path in ("/api/v1/runs", "/api/v1/runs/batch"):
            response = worker.generic("POST", path, raw, content_type="application/json")
            assert response.status_code in (200, 201, 400), (response.status_code, raw)
