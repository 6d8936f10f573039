# The inbox's order=amount and order=close (contract 4.1, 1.1) of open
# exceptions. ``DESC NULLS LAST`` in an index is PostgreSQL's: SQLite refuses
# it (and its small databases sort without these), so the indexes are built
# on PostgreSQL only while the migration state holds them everywhere.

from django.db import migrations, models

OPEN = models.Q(("status__in", ["open", "acknowledged"]))
INDEXES = [
    models.Index(
        models.OrderBy(models.F("open_amount"), descending=True, nulls_last=True),
        models.F("priority"),
        models.F("due_at"),
        models.F("opened_at"),
        condition=OPEN,
        name="exception_open_amount",
    ),
    models.Index(
        models.F("close_deadline"),
        models.F("priority"),
        models.F("due_at"),
        models.F("opened_at"),
        condition=OPEN,
        name="exception_open_close",
    ),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("integrations", "SyncException")
    for index in INDEXES:
        schema_editor.add_index(model, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("integrations", "SyncException")
    for index in INDEXES:
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0008_money_on_failures_and_exceptions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="syncexception", index=index) for index in INDEXES],
            database_operations=[migrations.RunPython(add_indexes, remove_indexes)],
        ),
    ]
