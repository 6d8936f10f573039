"""Grouping failures into exceptions and normalising messages (contract 4.1)."""

import pytest

from integrations.ingest.grouping import grouping_key, key_hash, normalise_message
from integrations.models import Failure, SyncException
from tests import factories as f


@pytest.mark.parametrize(
    "message,expected",
    [
        ("Project P-77 is closed in the ERP", "Project P-<n> is closed in the ERP"),
        ("Order 3f2b8c1e-9a4d-4e7b-8c2a-1d2e3f4a5b6c not found", "Order <uuid> not found"),
        ("Order 3F2B8C1E-9A4D-4E7B-8C2A-1D2E3F4A5B6C not found", "Order <uuid> not found"),
        ("No employee with e-mail ana.ruiz+ops@northwind.example", "No employee with e-mail <email>"),
        ("Field 'customer_name' is required", "Field <str> is required"),
        ('Field "customer_name" is required', "Field <str> is required"),
        ("Value \"a 'nested' b\" rejected", "Value <str> rejected"),
        ("Can't post: the worker's token expired", "Can't post: the worker's token expired"),
        ("Checksum deadbeef01 mismatch", "Checksum <hex> mismatch"),
        ("Checksum deadbeefcafe mismatch", "Checksum deadbeefcafe mismatch"),  # no digit: not hex
        ("Batch 1234567 failed", "Batch <n> failed"),  # 7 digits: a number
        ("Batch 12345678 failed", "Batch <hex> failed"),  # 8 digits: a hex run
        ("Retry 3 of 5 after 250ms", "Retry <n> of <n> after <n>ms"),
        ("  too   many\tspaces\n here  ", "too many spaces here"),
        # order: the UUID goes before its digits are touched, quotes before numbers
        ("Row 12 id '3f2b8c1e-9a4d-4e7b-8c2a-1d2e3f4a5b6c' at 10:45", "Row <n> id <str> at <n>:<n>"),
        ("user 'bob' <bob@example.com> id 42", "user <str> <<email>> id <n>"),
        ("", ""),
    ],
)
def test_normalise_message(message, expected):
    assert normalise_message(message) == expected


def test_the_grouping_key_prefers_fingerprint_then_error_code_then_message():
    assert grouping_key("invoice", "E1", "validation", "m 1", "fp")[0] == "fingerprint"
    assert grouping_key("invoice", "E1", "validation", "m 1", "")[0] == "error_code"
    assert grouping_key("invoice", "", "validation", "m 1", "") == ("message", ("invoice", "validation", "m <n>"))


def test_key_hashes_do_not_collide_by_moving_a_separator():
    assert key_hash("message", ("a|b", "c", "m")) != key_hash("message", ("a", "b|c", "m"))
    assert key_hash("message", ("ab", "", "m")) != key_hash("message", ("a", "b", "m"))


@pytest.mark.django_db
def test_failures_with_the_same_fingerprint_share_an_exception(post_run):
    post_run(
        f.run_doc(
            failures=[
                f.failure_doc("A", entity="invoice", error_code="X1", fingerprint="fp-1", message="one"),
                f.failure_doc("B", entity="expense", error_code="X2", fingerprint="fp-1", message="two"),
            ]
        )
    )
    exception = SyncException.objects.get()
    assert exception.grouped_by == "fingerprint"
    assert exception.fingerprint == "fp-1"
    assert (exception.occurrences, exception.records) == (2, 2)
    assert exception.title == "one"
    assert exception.entity == "invoice"


@pytest.mark.django_db
def test_failures_group_by_entity_and_error_code_when_given(post_run):
    post_run(
        f.run_doc(
            failures=[
                f.failure_doc("A", error_code="ERP-4001", message="Project P-77 is closed"),
                f.failure_doc("B", error_code="ERP-4001", message="Totally different text"),
                f.failure_doc("C", entity="expense", error_code="ERP-4001", message="Project P-77 is closed"),
            ]
        )
    )
    exceptions = {e.entity: e for e in SyncException.objects.all()}
    assert set(exceptions) == {"time_entry", "expense"}
    time_entry = exceptions["time_entry"]
    assert time_entry.grouped_by == "error_code"
    assert time_entry.error_code == "ERP-4001"
    assert time_entry.title == "Project P-<n> is closed"
    assert time_entry.occurrences == 2
    assert len(time_entry.fingerprint) == 64 and time_entry.fingerprint == time_entry.key_hash


@pytest.mark.django_db
def test_failures_without_code_group_by_entity_class_and_normalised_message(post_run):
    post_run(
        f.run_doc(
            failures=[
                f.failure_doc("A", error_class="validation", message="Project P-77 is closed"),
                f.failure_doc("B", error_class="validation", message="Project  P-78 is closed "),
                f.failure_doc("C", error_class="mapping", message="Project P-79 is closed"),
            ]
        )
    )
    by_class = {e.error_class: e for e in SyncException.objects.all()}
    assert by_class["validation"].occurrences == 2
    assert by_class["validation"].grouped_by == "message"
    assert by_class["mapping"].occurrences == 1


@pytest.mark.django_db
def test_exceptions_are_per_integration(post_run, contoso):
    f.make_integration(contoso, "billing-sync")
    post_run(f.run_doc(failures=[f.failure_doc("A", error_code="E1")]))
    post_run(f.run_doc(integration="billing-sync", failures=[f.failure_doc("A", error_code="E1")]))
    assert SyncException.objects.count() == 2


@pytest.mark.django_db
def test_counts_and_seen_range_follow_the_failures(post_run):
    post_run(
        f.run_doc(
            "r1",
            failures=[
                f.failure_doc("A", error_code="E1", occurred_at="2026-11-26T10:00:10Z"),
                f.failure_doc("B", error_code="E1", occurred_at="2026-11-26T10:00:20Z"),
            ],
        )
    )
    post_run(
        f.run_doc(
            "r2",
            started_at="2026-11-26T11:00:00Z",
            finished_at="2026-11-26T11:00:30Z",
            failures=[f.failure_doc("A", error_code="E1", occurred_at="2026-11-26T11:00:05Z")],
        )
    )
    exception = SyncException.objects.get()
    assert exception.occurrences == 3  # distinct (run, entity, record_id)
    assert exception.records == 2  # distinct (entity, record_id)
    assert exception.first_seen.isoformat() == "2026-11-26T10:00:10+00:00"
    assert exception.last_seen.isoformat() == "2026-11-26T11:00:05+00:00"


@pytest.mark.django_db
def test_a_reposted_failure_with_a_new_grouping_key_moves_to_another_exception(post_run):
    post_run(f.run_doc(failures=[f.failure_doc("A", error_code="E1"), f.failure_doc("B", error_code="E1")]))
    old = SyncException.objects.get()

    post_run(f.run_doc(failures=[f.failure_doc("A", error_code="E2")]))

    new = SyncException.objects.get(error_code="E2")
    old.refresh_from_db()
    assert Failure.objects.get(record_id="A").exception_id == new.pk
    assert Failure.objects.get(record_id="B").exception_id == old.pk  # not repeated: kept
    assert (old.occurrences, old.records) == (1, 1)
    assert (new.occurrences, new.records) == (1, 1)


@pytest.mark.django_db
def test_within_one_document_the_last_failure_for_a_record_wins(post_run):
    post_run(
        f.run_doc(
            failures=[
                f.failure_doc("A", error_code="E1", message="first"),
                f.failure_doc("A", error_code="E2", message="second"),
            ]
        )
    )
    failure = Failure.objects.get()
    assert (failure.error_code, failure.message) == ("E2", "second")
    assert SyncException.objects.get().error_code == "E2"
