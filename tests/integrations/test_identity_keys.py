"""The composite foreign keys of runs and failures (PostgreSQL, migration
``integrations/0012_composite_identity_keys``): a failure's tenant and
integration are its run's, a run's tenant is its integration's, and the
migration goes back and forth on a database holding runs and failures.
SQLite keeps Django's single-column keys, which cannot say this; these tests
run in the PostgreSQL pass."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from integrations.models import Failure, Run
from tests import factories as f

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="composite keys are PostgreSQL's (0012)"),
]


def immediately(create):
    """Run ``create`` with the deferred keys checked at once."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        create()


def foreign_keys(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_a_failure_cannot_name_another_tenant_or_integration_than_its_run(contoso, fabrikam, integration):
    exception = f.make_exception(integration)
    run = f.make_run(integration)
    other = f.make_integration(fabrikam, "billing")

    def failure(**kw):
        fields = {"run": run, "tenant": contoso, "integration": integration, "exception": exception}
        fields.update(kw)
        return lambda: Failure.objects.create(
            entity="time_entry", record_id="TE-1", occurred_at=timezone.now(), message="m", **fields
        )

    with pytest.raises(IntegrityError):
        immediately(failure(tenant=fabrikam))
    with pytest.raises(IntegrityError):
        immediately(failure(integration=other))
    immediately(failure())
    assert Failure.objects.filter(run=run).count() == 1


@pytest.mark.django_db
def test_a_run_cannot_name_another_tenant_than_its_integration(contoso, fabrikam, integration):
    def run(tenant):
        return lambda: Run.objects.create(
            tenant=tenant, integration=integration, run_id="r-1", status="succeeded", started_at=timezone.now()
        )

    with pytest.raises(IntegrityError):
        immediately(run(fabrikam))
    immediately(run(contoso))
    assert Run.objects.filter(integration=integration).count() == 1


@pytest.mark.django_db
def test_one_key_per_table_where_there_were_three_and_two():
    failure_keys = foreign_keys("integrations_failure")
    assert "failure_run_identity_fk" in failure_keys
    assert len(failure_keys) == 2  # the composite key and the exception's
    run_keys = foreign_keys("integrations_run")
    assert "run_integration_identity_fk" in run_keys
    assert len(run_keys) == 2  # the composite key and the replay's


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_and_forth_with_data(contoso, integration):
    exception = f.make_exception(integration)
    f.make_failure(exception)
    try:
        call_command("migrate", "integrations", "0011", verbosity=0)
        assert "failure_run_identity_fk" not in foreign_keys("integrations_failure")
        assert len(foreign_keys("integrations_failure")) == 4
        assert len(foreign_keys("integrations_run")) == 3
    finally:
        call_command("migrate", "integrations", verbosity=0)
    assert len(foreign_keys("integrations_failure")) == 2
    assert Failure.objects.count() == 1
