"""Every answer writes an instant the same way (contract 8: UTC with ``Z``,
here always to the microsecond), and a run is one document whichever
endpoint answers it."""

import re

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
TIMESTAMPS = ("started_at", "finished_at", "received_at", "updated_at")


def test_post_and_get_of_one_run_answer_its_timestamps_byte_for_byte_alike(post_run, read_key):
    posted = post_run(f.run_doc("r1", failures=[f.failure_doc("TE-1")]))
    assert posted.status_code == 201

    got = f.client_with(read_key).get(f"/api/v1/runs/{posted.json()['id']}")

    assert got.status_code == 200
    for field in TIMESTAMPS:
        assert STAMP.fullmatch(posted.json()[field]), posted.json()[field]
    for field in TIMESTAMPS:  # the very bytes of each answer
        assert f'"{field}":"{got.json()[field]}"' in posted.content.decode()
        assert f'"{field}":"{got.json()[field]}"' in got.content.decode()
    assert {k: v for k, v in posted.json().items() if k in got.json()} == got.json()


def test_the_list_and_the_batch_answer_the_same_run_document(post_batch, read_key):
    answer = post_batch([f.run_doc("r1"), f.run_doc("r2")])
    assert answer.status_code == 200

    listed = f.client_with(read_key).get("/api/v1/runs?tenant=contoso").json()["results"]
    one = f.client_with(read_key).get(f"/api/v1/runs/{answer.json()['results'][0]['id']}").json()

    assert one in listed
    assert all(STAMP.fullmatch(run[field]) for run in listed for field in TIMESTAMPS)


def test_replay_and_exception_answers_use_the_same_format(post_run, read_key, support, as_user):
    post_run(f.run_doc("r1", failures=[f.failure_doc("TE-1")]))
    exception = f.client_with(read_key).get("/api/v1/exceptions?tenant=contoso").json()["results"][0]

    replay = as_user(support).post(f"/api/v1/exceptions/{exception['id']}/replay", {}, format="json").json()

    assert STAMP.fullmatch(exception["opened_at"]) and STAMP.fullmatch(replay["created_at"])
    assert STAMP.fullmatch(replay["queued_at"])
