"""Amounts and currencies on failures through POST /api/v1/runs and
/runs/batch (contract 3.1, 1.1): stored exactly, bounded, the tenant's
currency only, kept on re-posts by last-write-wins."""

import json
from decimal import Decimal

import pytest
from django.db import connection

from integrations.models import Failure, SyncException
from tests import factories as f
from tests.integrations.ingest_support import table_counts

pytestmark = pytest.mark.django_db


def post_raw(worker, text, path="/api/v1/runs"):
    """POST the JSON text as written: numbers keep the literal the worker chose."""
    return worker.post(path, data=text, content_type="application/json")


def run_text(amount_literal, extra=""):
    """A run document whose one failure carries ``"amount": <amount_literal>``."""
    doc = f.run_doc(status="partial", failures=[f.failure_doc("TE-1")])
    text = json.dumps(doc)
    return text.replace('"record_id": "TE-1"', f'"record_id": "TE-1", "amount": {amount_literal}{extra}')


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        ("0", Decimal("0")),
        ("1250", Decimal("1250")),
        ("7.5", Decimal("7.5")),
        ("0.1", Decimal("0.1")),
        ("123456.7891", Decimal("123456.7891")),
        ("1.10000", Decimal("1.1")),  # trailing zeros are not decimals
        ("1.5e3", Decimal("1500")),
        ("99999999999.9999", Decimal("99999999999.9999")),  # 15 significant digits
        ("999999999999", Decimal("999999999999")),
    ],
)
def test_an_amount_is_stored_exactly_as_written(worker, integration, frozen_now, literal, stored):
    response = post_raw(worker, run_text(literal))

    assert response.status_code == 201, response.content
    failure = Failure.objects.get()
    assert failure.amount == stored
    assert isinstance(failure.amount, Decimal)


def test_sixteen_significant_digits_are_exact_where_the_database_keeps_them(worker, integration, frozen_now):
    response = post_raw(worker, run_text("999999999998.9999"))

    assert response.status_code == 201, response.content
    # PostgreSQL's numeric keeps every digit; SQLite's decimal columns keep 15
    # significant digits (Django's DecimalField on SQLite), so there the value
    # is the nearest one it holds, still within a ten-thousandth.
    stored = Failure.objects.get().amount
    if connection.vendor == "postgresql":
        assert stored == Decimal("999999999998.9999")
        assert SyncException.objects.get().open_amount == Decimal("999999999998.9999")
    else:
        assert abs(stored - Decimal("999999999998.9999")) <= Decimal("0.001")


@pytest.mark.parametrize(
    ("literal", "problem"),
    [
        ("-0.01", "greater than or equal to 0"),
        ("-5", "greater than or equal to 0"),
        ("1000000000000", "less than or equal to"),
        ("999999999999.0001", "less than or equal to"),
        ("999999999999.9999", "less than or equal to"),
        ("12.34567", "no more than 4 decimal places"),
        ("1e-5", "no more than 4 decimal places"),
        ("1e13", "less than or equal to"),
        ("1E+400", "finite"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("-Infinity", "finite"),
        ('"12.50"', "not a string"),
        ("true", "not a string"),
        ("[1]", "not a string"),
        ('{"value": 1}', "not a string"),
    ],
)
def test_a_bad_amount_is_a_400_naming_the_field_and_stores_nothing(worker, integration, frozen_now, literal, problem):
    before = table_counts()

    response = post_raw(worker, run_text(literal))

    assert response.status_code == 400, response.content
    errors = response.json()
    message = " ".join(errors["failures"]["0"]["amount"])
    assert problem in message
    assert table_counts() == before


def test_a_bad_amount_in_a_batch_rejects_that_run_only(worker, integration, frozen_now):
    good = f.run_doc("good", status="partial", failures=[f.failure_doc("TE-1", amount=10)])
    bad = f.run_doc("bad", status="partial", failures=[f.failure_doc("TE-2"), f.failure_doc("TE-3", amount=-1)])
    response = worker.post("/api/v1/runs/batch", {"runs": [good, bad]}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert "amount" in body["results"][1]["errors"]["failures"]["1"]
    assert list(Failure.objects.values_list("record_id", "amount")) == [("TE-1", Decimal("10"))]


def test_a_nan_in_a_batch_names_its_run_and_field(worker, integration, frozen_now):
    good = json.dumps(f.run_doc("good"))
    bad = run_text("NaN").replace('"run-1"', '"bad"')
    response = post_raw(worker, f'{{"runs": [{good}, {bad}]}}', "/api/v1/runs/batch")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["result"] for r in body["results"]] == ["created", "rejected"]
    assert "finite" in body["results"][1]["errors"]["failures"]["0"]["amount"][0]


def test_nan_elsewhere_in_a_payload_is_still_a_400_naming_it(worker, integration, frozen_now):
    text = run_text("1").replace('"message":', '"payload": {"hours": NaN}, "message":')
    response = post_raw(worker, text)

    assert response.status_code == 400
    assert "payload" in response.json()["failures"]["0"]
    assert Failure.objects.count() == 0


def test_the_tenants_currency_is_accepted_and_stored(post_run, contoso):
    response = post_run(f.run_doc(status="partial", failures=[f.failure_doc(amount=12.5, currency="USD")]))

    assert response.status_code == 201
    failure = Failure.objects.get()
    assert (failure.amount, failure.currency) == (Decimal("12.5"), "USD")


@pytest.mark.parametrize("currency", ["EUR", "usd", "US", 840, ""])
def test_another_currency_is_a_400_naming_the_field(post_run, currency):
    before = table_counts()
    response = post_run(f.run_doc(status="partial", failures=[f.failure_doc(amount=1, currency=currency)]))

    assert response.status_code == 400
    assert "currency" in response.json()["failures"]["0"]
    assert table_counts() == before


def test_a_tenant_in_euros_takes_euros(post_run, contoso):
    contoso.currency = "EUR"
    contoso.save(update_fields=["currency"])

    assert post_run(f.run_doc(failures=[f.failure_doc(amount=1, currency="USD")])).status_code == 400
    assert post_run(f.run_doc(failures=[f.failure_doc(amount=1, currency="EUR")])).status_code == 201


def test_a_repost_changes_the_amount_last_write_wins(post_run):
    doc = f.run_doc(status="partial", failures=[f.failure_doc("TE-1", amount=100), f.failure_doc("TE-2", amount=50)])
    assert post_run(doc).status_code == 201
    assert SyncException.objects.get().open_amount == Decimal("150")

    doc["failures"] = [f.failure_doc("TE-1", amount=80)]
    assert post_run(doc).status_code == 200

    amounts = dict(Failure.objects.values_list("record_id", "amount"))
    # TE-1 rewritten, TE-2 (not repeated) kept.
    assert amounts == {"TE-1": Decimal("80"), "TE-2": Decimal("50")}
    assert SyncException.objects.get().open_amount == Decimal("130")

    doc["failures"] = [f.failure_doc("TE-1")]  # the amount left out: the re-post says none
    assert post_run(doc).status_code == 200
    assert Failure.objects.get(record_id="TE-1").amount is None
    assert SyncException.objects.get().open_amount == Decimal("50")


def test_within_one_document_the_last_failure_of_a_record_wins(post_run):
    doc = f.run_doc(status="partial", failures=[f.failure_doc("TE-1", amount=1), f.failure_doc("TE-1", amount=2)])
    assert post_run(doc).status_code == 201
    assert Failure.objects.get().amount == Decimal("2")


def test_the_run_document_schema_documents_amount_and_currency(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    failure = schema["components"]["schemas"]["RunFailuresRequest"]["properties"]
    assert failure["amount"]["type"] == "number"
    assert failure["amount"]["maximum"] == 999999999999
    assert failure["amount"]["minimum"] == 0
    assert "tenant's currency" in failure["currency"]["description"]
