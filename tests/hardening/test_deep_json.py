"""Depth never skips scrubbing nor breaks a page (contract 3.5, 8): JSON held
in a response body is scrubbed however deep; objects past the depth limit
are a 400 naming the field; rows stored deeper by earlier versions render."""

import json

import pytest
from django.db import connection
from django.test import Client

from integrations.models import Failure
from integrations.scrub import DEFAULT_FIELDS, MAX_DEPTH, TooDeep, scrub, scrub_json_text
from opsconsole.lib.visible import json_text
from tests import factories as f

R = "[redacted]"


def nested_text(depth, inner='{"password":"hunter2","ok":1}'):
    return "[" * depth + inner + "]" * depth


def nested_object(depth, inner):
    value = inner
    for _ in range(depth):
        value = {"n": value}
    return value


def test_json_in_a_string_is_scrubbed_3000_levels_deep():
    out = scrub_json_text(nested_text(3000), DEFAULT_FIELDS)
    assert "hunter2" not in out
    assert out == nested_text(3000, '{"password":"[redacted]","ok":1}')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1, "Token": {"x": [1, "}"]}, "b": 2}', '{"a": 1, "Token": "[redacted]", "b": 2}'),
        ('["password", {"k": "password"}]', '["password", {"k": "password"}]'),  # values, not keys
        ('{"ok": 1, "password": "hun', '{"ok": 1, "password": "[redacted]"'),  # cut short
        ('{"ok": 1, "secret": {"a": [1, 2', '{"ok": 1, "secret": "[redacted]"'),
        ('{"pass\\u0077ord": 5}', '{"pass\\u0077ord": "[redacted]"}'),  # an escaped key is the same key
    ],
)
def test_json_text_keeps_everything_but_the_redacted_values(text, expected):
    assert scrub_json_text(text, DEFAULT_FIELDS) == expected


def test_objects_are_scrubbed_without_recursion_up_to_the_limit():
    value = nested_object(MAX_DEPTH - 1, {"Password": "p", "keep": [1]})
    cleaned = scrub(value, DEFAULT_FIELDS)
    assert "hunter" not in json.dumps(cleaned) and json.dumps(cleaned).count(R) == 1
    with pytest.raises(TooDeep):
        scrub(nested_object(MAX_DEPTH + 1, {"x": 1}), DEFAULT_FIELDS)


def test_ingest_stores_a_3000_deep_response_body_scrubbed_and_the_page_shows_it(post_run, support):
    body = nested_text(3000)
    doc = f.run_doc(failures=[f.failure_doc(response={"status": 500, "body": body})])
    assert post_run(doc).status_code == 201
    failure = Failure.objects.get()
    assert "hunter2" not in json.dumps(failure.response)
    assert R in failure.response["body"]
    client = Client()
    client.force_login(support)
    page = client.get(f"/exceptions/{failure.exception_id}/")
    assert page.status_code == 200
    assert b"hunter2" not in page.content and b"[redacted]" in page.content


@pytest.mark.parametrize("field", ["payload", "response"])
def test_ingest_refuses_an_object_past_the_depth_limit_naming_the_field(post_run, field):
    doc = f.run_doc(failures=[f.failure_doc(**{field: nested_object(MAX_DEPTH + 5, {"password": "x"})})])
    response = post_run(doc)
    assert response.status_code == 400
    assert field in response.json()["failures"]["0"]
    assert not Failure.objects.exists()


def test_ingest_refuses_deep_worker_and_log_context_naming_them(post_run):
    deep = nested_object(MAX_DEPTH + 5, {"token": "x"})
    log = {"at": "2026-11-26T10:00:01Z", "level": "info", "message": "m", "context": deep}
    body = post_run(f.run_doc(worker=deep, logs=[log])).json()
    assert "worker" in body and "context" in body["logs"]["0"]


def test_a_raw_document_940_deep_is_a_400_never_a_500(worker, integration, frozen_now):
    payload = "[" * 940 + "1" + "]" * 940
    raw = json.dumps(f.run_doc(failures=[f.failure_doc()]))
    raw = raw.replace('"message"', f'"payload": {payload}, "message"')
    response = worker.generic("POST", "/api/v1/runs", raw, content_type="application/json")
    assert response.status_code == 400


@pytest.fixture
def deep_failure(integration):
    """A failure stored by an earlier version: payload 935 levels deep."""
    exc = f.make_exception(integration)
    failure = f.make_failure(exc, record_id="TE-DEEP", payload=None)
    text = nested_text(935, '{"password":"[redacted]"}')
    with connection.cursor() as cursor:
        cursor.execute("UPDATE integrations_failure SET payload = %s WHERE id = %s", [text, failure.pk])
    return failure


def test_pages_and_replay_requests_with_a_935_deep_stored_payload_answer(deep_failure, support):
    client = Client()
    client.force_login(support)
    exc_id = deep_failure.exception_id
    for url in (f"/exceptions/{exc_id}/", f"/exceptions/{exc_id}/replay/", f"/runs/{deep_failure.run_id}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) < 2_000_000
    response = client.post(f"/exceptions/{exc_id}/replay/", {"records": ["TE-DEEP"], "reason": "retry"})
    assert response.status_code == 302
    replay_page = client.get(response.url)
    assert replay_page.status_code == 200
    api = f.client_with(f.make_token(support))
    assert api.get(f"/api/v1/exceptions/{exc_id}/occurrences").status_code == 200


def test_json_text_writes_values_past_the_recursion_limit():
    value = json.loads(nested_text(50))
    assert json_text(value) == json.dumps(value, indent=2)
    deep = []
    cur = deep
    for _ in range(5000):
        cur.append([])
        cur = cur[0]
    text = json_text(deep, indent=None)
    assert text == "[" * 5001 + "]" * 5001
