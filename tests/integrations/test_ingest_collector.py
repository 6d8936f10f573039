"""A batch of runs is decoded, validated and stored without the cyclic
garbage collector walking it (``opsconsole.lib.gcpause``): the documents
live until the request ends and are freed by reference counting, so every
collection during the request would be spent for nothing (a fifth of the web
worker's CPU in ``bench/ingest.py`` before). The collector is back on after,
also when the batch is refused."""

import copy
import gc
import json

import pytest

from integrations.models import Failure, Run
from tests.integrations.ingest_support import load_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def collections():
    seen = []

    def note(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.enable()
    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)


def batch(n):
    doc = load_fixture("contract_example__partial")
    runs = []
    for i in range(n):
        run = copy.deepcopy(doc)
        run["run_id"] = f"gc-{i}"
        runs.append(run)
    return json.dumps({"runs": runs})


def test_a_batch_is_stored_without_a_collection(worker, integration, frozen_now, collections):
    body = batch(300)
    # The first request loads the URLconf and every view module it names.
    worker.generic("POST", "/api/v1/runs/batch", '{"runs": []}', content_type="application/json")
    gc.collect()
    collections.clear()

    response = worker.generic("POST", "/api/v1/runs/batch", body, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["accepted"] == 300
    assert (Run.objects.count(), Failure.objects.count()) == (300, 300)
    # Before, some fifty collections ran during such a request.
    assert len(collections) <= 2, collections
    assert gc.isenabled()


def test_the_collector_is_back_after_a_refused_batch(worker, integration, frozen_now):
    response = worker.generic("POST", "/api/v1/runs/batch", '{"runs": 7}', content_type="application/json")
    assert response.status_code == 400
    assert gc.isenabled()


def documents_alive(marker):
    """Run documents still held somewhere whose run_id starts with ``marker``."""
    return sum(1 for o in gc.get_objects() if type(o) is dict and str(o.get("run_id", "")).startswith(marker))


def test_the_documents_are_freed_when_the_request_ends_without_a_collection(worker, integration, frozen_now):
    worker.generic("POST", "/api/v1/runs/batch", '{"runs": []}', content_type="application/json")
    body = batch(50).replace('"gc-', '"freed-')
    gc.collect()
    gc.disable()
    try:
        response = worker.generic("POST", "/api/v1/runs/batch", body, content_type="application/json")
        alive = documents_alive("freed-")
    finally:
        gc.enable()
    assert response.status_code == 200
    assert response.json()["accepted"] == 50
    assert alive == 0
