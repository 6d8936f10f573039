"""Fewer foreign-key checks per run and failure, the same integrity
(PostgreSQL).

A failure names its run, and copies the run's tenant and integration so that
the inbox and record searches need no join; a run names its integration and
copies the integration's tenant. Each of those columns had its own foreign
key, so that storing one run with three failures made fourteen lookups of
parent rows, eight of them into the same tenant and integration rows that
every concurrent ingest request looks up too. Now it makes seven: the
integration once, the run itself for each failure, and the failures'
exceptions. One composite key per table says as much and more:

- ``failure (run_id, tenant_id, integration_id)`` references
  ``run (id, tenant_id, integration_id)``: the run exists, and the failure's
  tenant and integration are the run's (before, only that they existed);
- ``run (integration_id, tenant_id)`` references
  ``integration (id, tenant_id)``: the integration exists and belongs to the
  run's tenant, whose existence its own key guarantees.

The unique indexes those keys need are built concurrently, the keys added
``NOT VALID`` and then validated, so that none of it blocks ingest on a
large database; hence a non-atomic migration. The keys are deferrable and
initially deferred, like Django's. Django's model fields keep their
``ForeignKey`` meaning (joins, cascades, admin); only their constraints are
these. SQLite keeps Django's single-column keys."""

from django.db import migrations

KEYS = [
    # (table, composite key name, columns, referenced table, referenced columns, unique index,
    #  Django fields whose single-column keys it replaces)
    (
        "integrations_run",
        "run_integration_identity_fk",
        "integration_id, tenant_id",
        "integrations_integration",
        "id, tenant_id",
        "integration_identity",
        ("Run", ("integration", "tenant")),
    ),
    (
        "integrations_failure",
        "failure_run_identity_fk",
        "run_id, tenant_id, integration_id",
        "integrations_run",
        "id, tenant_id, integration_id",
        "run_identity",
        ("Failure", ("run", "tenant", "integration")),
    ),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, columns, parent, parent_columns, index, (model_name, fields) in KEYS:
        schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {parent} ({parent_columns})")
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) REFERENCES {parent} ({parent_columns})"
            " DEFERRABLE INITIALLY DEFERRED NOT VALID"
        )
        schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        model = apps.get_model("integrations", model_name)
        for field_name in fields:
            column = model._meta.get_field(field_name).column
            for constraint in schema_editor._constraint_names(model, [column], foreign_key=True):
                schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {schema_editor.quote_name(constraint)}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _columns, _parent, _parent_columns, index, (model_name, fields) in reversed(KEYS):
        model = apps.get_model("integrations", model_name)
        for field_name in fields:
            field = model._meta.get_field(field_name)
            schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("integrations", "0011_ingest_indexes_and_hot_updates")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
