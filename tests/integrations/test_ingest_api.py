"""POST /api/v1/runs and /runs/batch: the rules of contract 3.1, 3.2 and 8."""

import copy

import pytest
from django.core.cache import cache

from integrations.keys import revoke_key
from integrations.models import Failure, Replay, ReplayStatus, Run, RunLog, SyncException
from integrations.scrub import MAX_DEPTH
from opsconsole import metrics
from opsconsole.throttling import KeyRateThrottle
from tests import factories as f
from tests.integrations.ingest_support import load_fixture, table_counts

pytestmark = pytest.mark.django_db


def test_it_stores_the_contract_example_and_answers_201_with_the_stored_run(post_run):
    response = post_run(load_fixture("contract_example__partial"))

    assert response.status_code == 201
    body = response.json()
    assert body["integration"] == "time-expense-posting"
    assert body["run_id"] == "2026-11-26T10:00Z#4411"
    assert body["status"] == "partial"
    assert body["trigger"] == "schedule"
    assert body["started_at"] == "2026-11-26T10:00:00.000000Z"
    assert body["finished_at"] == "2026-11-26T10:01:30.000000Z"
    assert body["records"] == {"processed": 120, "succeeded": 117, "failed": 2, "skipped": 1}
    assert body["lag_seconds"] == 840
    assert body["replay_id"] is None
    assert body["failures"] == 1
    assert body["received_at"].endswith("Z")
    exception = SyncException.objects.get()
    assert body["exceptions"] == [exception.pk]
    run = Run.objects.get()
    assert body["id"] == run.pk
    assert run.worker == {"name": "te-poster", "version": "3.4.1", "host": "w-07"}
    failure = Failure.objects.get()
    assert failure.payload == {"employee": "E-17", "hours": 7.5, "project": "P-77"}
    assert failure.response == {"status": 400, "body": '{"code":"ERP-4001"}'}
    assert failure.source_changed_at.isoformat() == "2026-11-26T09:12:00+00:00"
    assert RunLog.objects.get().message == "fetched 120 entries"


def test_posting_the_same_run_again_answers_200_and_changes_no_count(post_run):
    doc = load_fixture("contract_example__partial")
    assert post_run(doc).status_code == 201
    before = table_counts()

    response = post_run(doc)

    assert response.status_code == 200
    assert table_counts() == before
    exception = SyncException.objects.get()
    assert (exception.occurrences, exception.records) == (1, 1)


def test_a_run_posted_running_then_finished_is_one_run(post_run):
    running = load_fixture("contract_example__running")
    response = post_run(running)
    assert response.status_code == 201
    assert response.json()["finished_at"] is None

    response = post_run(load_fixture("contract_example__partial"))

    assert response.status_code == 200
    run = Run.objects.get()
    assert run.status == "partial"
    assert run.finished_at is not None
    assert RunLog.objects.count() == 1  # the same log line posted twice is stored once


def test_records_default_to_zero_and_processed_to_their_sum(post_run):
    response = post_run(f.run_doc(records={"succeeded": 5, "failed": 2, "skipped": 1}))
    assert response.status_code == 201
    assert response.json()["records"] == {"processed": 8, "succeeded": 5, "failed": 2, "skipped": 1}

    response = post_run(f.run_doc("run-2"))
    assert response.json()["records"] == {"processed": 0, "succeeded": 0, "failed": 0, "skipped": 0}


def test_answers_carry_utc_timestamps_with_z(post_run):
    response = post_run(f.run_doc(started_at="2026-11-26T11:00:00+02:00", finished_at="2026-11-26T11:00:05+02:00"))
    assert response.status_code == 201
    assert response.json()["started_at"] == "2026-11-26T09:00:00.000000Z"
    assert response.json()["finished_at"] == "2026-11-26T09:00:05.000000Z"


def test_a_failures_occurred_at_defaults_to_finished_at_else_started_at(post_run):
    post_run(f.run_doc("finished", failures=[f.failure_doc("A")]))
    post_run(f.run_doc("running", status="running", finished_at=None, failures=[f.failure_doc("B")]))

    assert Failure.objects.get(record_id="A").occurred_at.isoformat() == "2026-11-26T10:01:30+00:00"
    assert Failure.objects.get(record_id="B").occurred_at.isoformat() == "2026-11-26T10:00:00+00:00"


def test_replay_id_links_the_run_to_a_replay_of_the_same_tenant(post_run, integration):
    post_run(f.run_doc("first", failures=[f.failure_doc("A")]))
    replay = Replay.objects.create(
        tenant=integration.tenant,
        integration=integration,
        exception=SyncException.objects.get(),
        status=ReplayStatus.DISPATCHED,
    )

    response = post_run(f.run_doc("replayed", trigger="replay", replay_id=str(replay.pk)))

    assert response.status_code == 201
    assert response.json()["replay_id"] == str(replay.pk)
    assert Run.objects.get(run_id="replayed").replay_id == replay.pk


def test_a_replay_of_another_tenant_is_a_400_naming_replay_id(post_run, fabrikam):
    other = f.make_integration(fabrikam, "other-flow")
    post_run(f.run_doc("first", failures=[f.failure_doc("A")]))
    exception = SyncException.objects.create(
        tenant=fabrikam, integration=other, key_hash="x", fingerprint="x", grouped_by="message", title="t", entity="e"
    )
    replay = Replay.objects.create(tenant=fabrikam, integration=other, exception=exception, status="queued")

    response = post_run(f.run_doc("replayed", replay_id=str(replay.pk)))

    assert response.status_code == 400
    assert "replay_id" in response.json()


def test_an_integration_of_another_tenant_is_a_400_naming_integration(post_run, fabrikam):
    f.make_integration(fabrikam, "fabrikam-flow")
    before = table_counts()

    response = post_run(f.run_doc(integration="fabrikam-flow"))

    assert response.status_code == 400
    assert list(response.json()) == ["integration"]
    assert table_counts() == before


LONG = "x" * 201


def bad_failure(**kw):
    """``{"failures": [one failure]}`` with ``kw`` changing a valid failure."""
    item = {"entity": "e", "record_id": "A", "message": "m"}
    item.update(kw)
    return {"failures": [{k: v for k, v in item.items() if v is not ...}]}


# (document changes, where the error must be named): every rule of the 3.1 table.
INVALID = [
    ({"integration": None}, ["integration"]),
    ({"integration": "no-such-flow"}, ["integration"]),
    ({"run_id": ""}, ["run_id"]),
    ({"run_id": "r" * 201}, ["run_id"]),
    ({"run_id": 12}, ["run_id"]),
    ({"status": "done"}, ["status"]),
    ({"status": None}, ["status"]),
    ({"started_at": None}, ["started_at"]),
    ({"started_at": "2026-11-26T10:00:00"}, ["started_at"]),  # naive
    ({"started_at": "yesterday"}, ["started_at"]),
    ({"started_at": "2026-11-26T13:00:01Z", "finished_at": "2026-11-26T13:00:02Z"}, ["started_at"]),
    ({"finished_at": None}, ["finished_at"]),
    ({"finished_at": "2026-11-26T09:59:59Z"}, ["finished_at"]),
    ({"finished_at": "2026-11-26T10:01:30"}, ["finished_at"]),
    ({"status": "running"}, ["finished_at"]),  # finished_at must be absent or null while running
    ({"trigger": "cron"}, ["trigger"]),
    ({"replay_id": "not-a-uuid"}, ["replay_id"]),
    ({"replay_id": "00000000-0000-0000-0000-000000000001"}, ["replay_id"]),
    ({"records": {"succeeded": -1}}, ["records", "succeeded"]),
    ({"records": {"succeeded": 2_147_483_648}}, ["records", "succeeded"]),
    ({"records": {"succeeded": 10**40}}, ["records", "succeeded"]),
    ({"records": {"failed": True}}, ["records", "failed"]),
    ({"records": {"skipped": "0"}}, ["records", "skipped"]),
    ({"records": {"processed": 1.5}}, ["records", "processed"]),
    ({"records": {"processed": 2, "succeeded": 2, "failed": 1}}, ["records", "processed"]),
    ({"records": [1, 2]}, ["records"]),
    ({"lag_seconds": -1}, ["lag_seconds"]),
    ({"lag_seconds": "5"}, ["lag_seconds"]),
    ({"worker": "w-07"}, ["worker"]),
    ({"logs": {"at": "x"}}, ["logs"]),
    ({"logs": [{"at": "2026-11-26T10:00:00Z", "level": "info"}] * 1001}, ["logs"]),
    ({"logs": [{"at": "2026-11-26T10:00:00Z", "level": "fatal", "message": "m"}]}, ["logs", "0", "level"]),
    ({"logs": [{"at": "2026-11-26T10:00:00", "level": "info", "message": "m"}]}, ["logs", "0", "at"]),
    ({"logs": [{"at": "2026-11-26T10:00:00Z", "level": "info"}]}, ["logs", "0", "message"]),
    ({"logs": [{"at": "2026-11-26T10:00:00Z", "level": "info", "message": "é" * 4097}]}, ["logs", "0", "message"]),
    ({"logs": ["line"]}, ["logs", "0"]),
    (bad_failure(entity=...), ["failures", "0", "entity"]),
    (bad_failure(record_id=...), ["failures", "0", "record_id"]),
    (bad_failure(message=...), ["failures", "0", "message"]),
    (bad_failure(record_id=""), ["failures", "0", "record_id"]),
    (bad_failure(record_id=7), ["failures", "0", "record_id"]),
    (bad_failure(entity=LONG), ["failures", "0", "entity"]),
    (bad_failure(record_id=LONG), ["failures", "0", "record_id"]),
    (bad_failure(error_code=LONG), ["failures", "0", "error_code"]),
    (bad_failure(error_class=LONG), ["failures", "0", "error_class"]),
    (bad_failure(operation=LONG), ["failures", "0", "operation"]),
    (bad_failure(fingerprint=LONG), ["failures", "0", "fingerprint"]),
    (bad_failure(occurred_at="2026-11-26"), ["failures", "0", "occurred_at"]),
    ({"failures": [{"entity": "e", "record_id": "A", "message": "m"}] * 10_001}, ["failures"]),
    ({"recovered": [{"entity": "e"}]}, ["recovered", "0", "record_id"]),
    ({"recovered": "TE-1"}, ["recovered"]),
    ({"run_id": "bad\u0000id"}, ["run_id"]),
    ({"worker": {"name": "w\u0000"}}, ["worker"]),
    ({"failures": [{"entity": "e", "record_id": "A", "message": "m", "payload": {"deep": ["ok", "\u0000"]}}]},
     ["failures", "0", "payload"]),
    ({"logs": [{"at": "2026-11-26T10:00:00Z", "level": "info", "message": "m", "context": {"k\u0000": 1}}]},
     ["logs", "0", "context"]),
]  # fmt: skip


@pytest.mark.parametrize("changes,path", INVALID)
def test_each_rule_of_the_run_table_is_a_400_naming_the_field_and_stores_nothing(post_run, changes, path):
    before = table_counts()
    doc = f.run_doc()
    doc.update(copy.deepcopy(changes))

    response = post_run(doc)

    assert response.status_code == 400, response.json()
    node = response.json()
    for step in path:
        assert step in node, (path, response.json())
        node = node[step]
    assert isinstance(node, list | dict) and node
    assert table_counts() == before


@pytest.mark.parametrize("unit", ["m", "é", "😀"])
def test_a_failure_message_over_64_kib_is_stored_cut_with_a_mark_and_the_run_is_kept(post_run, unit):
    long = unit * (200 * 1024 // len(unit.encode()))  # 200 KiB of UTF-8
    doc = f.run_doc(failures=[f.failure_doc("A", message=long), f.failure_doc("B", message="short")])
    response = post_run(doc)
    assert response.status_code == 201, response.json()
    stored = Failure.objects.get(record_id="A").message
    assert len(stored.encode()) <= 64 * 1024
    head, mark = stored.split(" … [truncated: ")
    assert long.startswith(head) and len(head.encode()) > 60 * 1024
    assert mark == f"{len(long.encode()) - len(head.encode()):,} more bytes]"
    assert Failure.objects.get(record_id="B").message == "short"


def test_a_failure_message_of_64_kib_is_kept_whole(post_run):
    exact = "m" * (64 * 1024)
    assert post_run(f.run_doc(failures=[f.failure_doc("A", message=exact)])).status_code == 201
    assert Failure.objects.get().message == exact


def test_a_run_may_start_up_to_an_hour_ahead_of_the_clock(post_run):
    response = post_run(f.run_doc(started_at="2026-11-26T12:59:00Z", finished_at="2026-11-26T12:59:30Z"))
    assert response.status_code == 201


def _raw_post(worker, body, path="/api/v1/runs", content_type="application/json"):
    return worker.generic("POST", path, body, content_type=content_type)


@pytest.mark.parametrize(
    "raw,field",
    [
        (b'{"integration":"time-expense-posting","run_id":"\\ud800x","status":"succeeded"}', "run_id"),
        (
            b'{"integration":"time-expense-posting","run_id":"r","status":"succeeded","worker":{"n":"\\udc00"}}',
            "worker",
        ),  # noqa: E501
        (b'{"integration":"time-expense-posting","run_id":"r","status":"succeeded","worker":{"\\u0000":1}}', "worker"),
        (
            b'{"integration":"time-expense-posting","run_id":"r","status":"failed","started_at":"2026-11-26T10:00:00Z",'
            b'"finished_at":"2026-11-26T10:00:01Z","failures":[{"entity":"e","record_id":"A","message":"m",'
            b'"payload":{"a":[{"b":"\\ud83d"}]}}]}',
            "failures",
        ),
    ],
)
def test_lone_surrogates_and_nul_in_the_json_text_are_a_400_naming_the_field(worker, post_run, raw, field):
    before = table_counts()

    response = _raw_post(worker, raw)

    assert response.status_code == 400
    assert field in response.json()
    assert table_counts() == before


def test_a_valid_surrogate_pair_is_accepted(worker, post_run):
    raw = (
        b'{"integration":"time-expense-posting","run_id":"emoji \\ud83d\\ude00","status":"succeeded",'
        b'"started_at":"2026-11-26T10:00:00Z","finished_at":"2026-11-26T10:00:01Z"}'
    )
    response = _raw_post(worker, raw)
    assert response.status_code == 201
    assert Run.objects.get().run_id == "emoji \U0001f600"


@pytest.mark.parametrize(
    "raw,content_type,status",
    [
        (b"{not json", "application/json", 400),
        (b'{"a": NaN}', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"a string"', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[" * 100_000, "application/json", 400),
        (b'{"integration": "time-expense-posting"}', "text/plain", 415),
        (b"integration=time-expense-posting", "application/x-www-form-urlencoded", 415),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/runs", "/api/v1/runs/batch"])
def test_malformed_requests_are_a_4xx_json_and_change_nothing(worker, post_run, raw, content_type, status, path):
    before = table_counts()

    response = _raw_post(worker, raw, path=path, content_type=content_type)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()
    assert table_counts() == before


def test_a_body_over_10_mib_is_a_413(worker, post_run):
    before = table_counts()
    body = b'{"integration": "' + b"x" * (10 * 1024 * 1024) + b'"}'

    response = _raw_post(worker, body)

    assert response.status_code == 413
    assert "detail" in response.json()
    assert table_counts() == before


def test_unknown_and_revoked_keys_are_a_401(integration, frozen_now, ingest_key):
    assert f.client_with("ok_nope.secret").post("/api/v1/runs", f.run_doc(), format="json").status_code == 401
    assert f.client_with().post("/api/v1/runs", f.run_doc(), format="json").status_code in (401, 403)
    revoke_key(ingest_key)

    response = f.client_with(ingest_key).post("/api/v1/runs/batch", {"runs": [f.run_doc()]}, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()
    assert Run.objects.count() == 0


def test_a_read_key_or_a_users_token_is_a_403(integration, frozen_now, read_key, support, as_user):
    for client in (f.client_with(read_key), as_user(support)):
        assert client.post("/api/v1/runs", f.run_doc(), format="json").status_code == 403
        assert client.post("/api/v1/runs/batch", {"runs": [f.run_doc()]}, format="json").status_code == 403
    assert Run.objects.count() == 0


def test_a_key_over_its_rate_gets_429_with_retry_after(worker, post_run, monkeypatch):
    cache.clear()
    monkeypatch.setattr(KeyRateThrottle, "THROTTLE_RATES", {"key": "2/min"})
    assert post_run(f.run_doc("a")).status_code == 201
    assert post_run(f.run_doc("b")).status_code == 201

    response = post_run(f.run_doc("c"))

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()
    assert not Run.objects.filter(run_id="c").exists()
    cache.clear()


# --- batch --------------------------------------------------------------------------------------


def test_a_batch_stores_the_valid_runs_and_reports_each_item(post_batch):
    runs = [
        f.run_doc("a", failures=[f.failure_doc("A")]),
        f.run_doc("b", finished_at="2026-11-26T09:00:00Z"),
        "not an object",
        f.run_doc("c"),
    ]

    response = post_batch(runs)

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    results = body["results"]
    assert [(r["index"], r["run_id"], r["result"]) for r in results] == [
        (0, "a", "created"),
        (1, "b", "rejected"),
        (2, None, "rejected"),
        (3, "c", "created"),
    ]
    assert "finished_at" in results[1]["errors"]
    assert results[2]["errors"]
    assert set(Run.objects.values_list("run_id", flat=True)) == {"a", "c"}

    response = post_batch(runs[:1])
    assert response.json()["results"][0]["result"] == "updated"


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "runs"),
        ({"runs": None}, "runs"),
        ({"runs": {"run_id": "a"}}, "runs"),
        ({"runs": "a"}, "runs"),
    ],
)
def test_a_batch_body_not_of_the_shape_is_a_400_and_stores_nothing(worker, post_batch, body, field):
    before = table_counts()
    response = worker.post("/api/v1/runs/batch", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert table_counts() == before


def test_a_batch_of_more_than_1000_runs_is_a_400_naming_runs(post_batch):
    before = table_counts()
    response = post_batch([f.run_doc(f"r{i}") for i in range(1001)])
    assert response.status_code == 400
    assert "runs" in response.json()
    assert table_counts() == before


def test_a_batch_of_1000_runs_is_accepted(post_batch):
    response = post_batch([f.run_doc(f"r{i}") for i in range(1000)])
    assert response.status_code == 200
    assert response.json()["accepted"] == 1000
    assert Run.objects.count() == 1000


def test_the_same_run_twice_in_a_batch_is_applied_in_order_without_double_counting(post_batch):
    first = f.run_doc("dup", status="running", finished_at=None, failures=[f.failure_doc("A"), f.failure_doc("B")])
    second = f.run_doc("dup", status="partial", failures=[f.failure_doc("B", message="Other error 5")])

    response = post_batch([first, second])

    assert [r["result"] for r in response.json()["results"]] == ["created", "updated"]
    run = Run.objects.get()
    assert run.status == "partial"
    assert sorted(Failure.objects.values_list("record_id", flat=True)) == ["A", "B"]
    counts = {e.title: (e.occurrences, e.records) for e in SyncException.objects.all()}
    assert counts == {"Project P-<n> is closed in the ERP": (1, 1), "Other error <n>": (1, 1)}


def test_ingest_counts_show_in_metrics(client, post_batch):
    before = metrics._counters.copy()
    post_batch([f.run_doc("m1", failures=[f.failure_doc("A")]), f.run_doc("m2", status="nope")])

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return metrics._counters[key] - before.get(key, 0)

    assert delta("opsconsole_ingest_runs_total", result="created") == 1
    assert delta("opsconsole_ingest_failures_total") == 1
    assert delta("opsconsole_ingest_rejected_total", reason="invalid_run") == 1
    assert "opsconsole_ingest_runs_total" in client.get("/metrics").content.decode()


def test_the_schema_documents_both_endpoints(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    single = schema["paths"]["/api/v1/runs"]["post"]
    batch = schema["paths"]["/api/v1/runs/batch"]["post"]
    assert {"200", "201", "400"} <= set(single["responses"])
    assert "requestBody" in single and "requestBody" in batch
    assert "Run" in str(single["requestBody"])


def test_a_number_out_of_float_range_is_a_400(worker, post_run):
    raw = b'{"integration":"time-expense-posting","run_id":"r","status":"running","worker":{"load":1e400}}'
    before = table_counts()
    response = _raw_post(worker, raw)
    assert response.status_code == 400
    assert table_counts() == before


def _nested_payload_run(depth):
    payload = "[" * depth + "]" * depth
    return (
        '{"integration":"time-expense-posting","run_id":"r","status":"failed","started_at":"2026-11-26T10:00:00Z",'
        '"finished_at":"2026-11-26T10:00:01Z","failures":[{"entity":"e","record_id":"A","message":"m",'
        f'"payload":{payload}}}]}}'
    ).encode()


def test_a_deeply_nested_payload_is_stored(worker, post_run):
    response = _raw_post(worker, _nested_payload_run(MAX_DEPTH))
    assert response.status_code == 201
    assert str(Failure.objects.get().payload).count("[") == MAX_DEPTH


def test_a_payload_nested_past_the_depth_limit_is_a_400_naming_it(worker, post_run):
    # Deeper values could not be read back or shown by code that recurses.
    before = table_counts()
    response = _raw_post(worker, _nested_payload_run(800))
    assert response.status_code == 400
    assert response.json() == {"failures": {"0": {"payload": [f"Nested deeper than {MAX_DEPTH} levels."]}}}
    assert table_counts() == before


def test_a_payload_nested_deeper_than_json_parsing_allows_is_a_400(worker, post_run):
    before = table_counts()
    response = _raw_post(worker, _nested_payload_run(5000))
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert table_counts() == before


def test_errors_echo_hostile_keys_and_run_ids_escaped(worker, post_run):
    raw = b'{"runs": [{"run_id": "r\\ud800"}, {"run_id": "ok", "worker": {"\\udc00": 1}}, {"\\u0000": 1}]}'
    response = _raw_post(worker, raw, path="/api/v1/runs/batch")
    assert response.status_code == 200
    first, second, third = response.json()["results"]
    assert first["run_id"] == "r\\ud800"
    assert "run_id" in first["errors"]
    assert "\\udc00" in second["errors"]["worker"][0]
    assert "\\u0000" in third["errors"]
