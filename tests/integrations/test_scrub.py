"""Sensitive data is scrubbed and big payloads truncated before storage (contract 3.5)."""

import json

import pytest

from integrations.models import Failure, Run, RunLog
from integrations.scrub import DEFAULT_FIELDS, bounded, fields_for, scrub
from tests import factories as f

R = "[redacted]"


def test_scrub_replaces_matching_keys_at_any_depth_ignoring_case():
    value = {
        "Password": "p",
        "user": {"name": "ana", "API_KEY": "k", "cards": [{"card_number": "4111", "brand": "visa"}]},
        "rows": [[{"Iban": "DE00"}]],
        "token_count": 3,
    }
    assert scrub(value, DEFAULT_FIELDS) == {
        "Password": R,
        "user": {"name": "ana", "API_KEY": R, "cards": [{"card_number": R, "brand": "visa"}]},
        "rows": [[{"Iban": R}]],
        "token_count": 3,
    }


def test_a_matching_key_is_redacted_whatever_its_value():
    assert scrub({"secret": {"nested": [1, 2]}}, DEFAULT_FIELDS) == {"secret": R}


def test_the_tenants_fields_add_to_the_default_list():
    fields = fields_for(["Salary"])
    assert "password" in fields
    assert scrub({"salary": 1, "SALARY": 2, "name": "x"}, fields) == {"salary": R, "SALARY": R, "name": "x"}


def test_a_payload_over_64_kib_is_stored_as_its_head():
    payload = {"text": "é" * 40_000}  # 80,000 bytes of UTF-8
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    stored = json.loads(bounded(payload))
    assert stored["_truncated"] is True
    assert stored["_bytes"] == len(text.encode())
    head = stored["_head"].encode()
    assert len(head) <= 4096 and len(head) >= 4094  # never half a character
    assert text.startswith(stored["_head"])


def test_a_payload_of_64_kib_or_less_is_kept():
    payload = {"text": "a" * 60_000}
    assert json.loads(bounded(payload)) == payload


@pytest.mark.django_db
def test_ingest_scrubs_payload_response_context_and_worker_before_storing(post_run, contoso):
    contoso.scrub_fields = ["ssn", "Employee_Pin"]
    contoso.save()
    body = json.dumps({"error": "bad", "Authorization": "Bearer abc", "items": [{"employee_pin": "1234"}]})
    response = post_run(
        f.run_doc(
            worker={"name": "w", "token": "t0k", "env": {"PASSWORD": "x"}},
            logs=[
                {
                    "at": "2026-11-26T10:00:01Z",
                    "level": "info",
                    "message": "login",
                    "context": {"user": "ana", "session": {"secret": "s"}},
                }
            ],
            failures=[
                f.failure_doc(
                    "A",
                    payload={"employee": {"SSN": "123-45-6789", "bank": [{"iban": "DE00"}]}, "hours": 7.5},
                    response={"status": 400, "headers": {"authorization": "Basic x"}, "body": body},
                ),
                f.failure_doc("B", response={"status": 500, "body": {"tax_id": "T", "ok": True}}),
                f.failure_doc("C", response={"status": 502, "body": "<html>password=hunter2</html>"}),
            ],
        )
    )
    assert response.status_code == 201
    assert "t0k" not in json.dumps(response.json())

    assert Run.objects.get().worker == {"name": "w", "token": R, "env": {"PASSWORD": R}}
    assert RunLog.objects.get().context == {"user": "ana", "session": {"secret": R}}
    a = Failure.objects.get(record_id="A")
    assert a.payload == {"employee": {"SSN": R, "bank": [{"iban": R}]}, "hours": 7.5}
    assert a.response["headers"] == {"authorization": R}
    assert json.loads(a.response["body"]) == {"error": "bad", "Authorization": R, "items": [{"employee_pin": R}]}
    assert Failure.objects.get(record_id="B").response == {"status": 500, "body": {"tax_id": R, "ok": True}}
    # A body that is not JSON is kept as it is.
    assert Failure.objects.get(record_id="C").response["body"] == "<html>password=hunter2</html>"


@pytest.mark.django_db
def test_ingest_truncates_a_big_payload_after_scrubbing(post_run):
    payload = {"password": "p" * 100_000, "rows": ["x" * 1000] * 70}
    post_run(f.run_doc(failures=[f.failure_doc("A", payload=payload)]))
    stored = Failure.objects.get().payload
    assert stored["_truncated"] is True
    assert stored["_bytes"] > 64 * 1024
    assert stored["_head"].startswith('{"password":"[redacted]","rows":["xxx')
    assert "ppp" not in stored["_head"]
