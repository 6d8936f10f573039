"""Trigram indexes for the inbox's free-text search (integrations/inbox.py,
``search``): Django's ``icontains`` is ``UPPER(col) LIKE UPPER('%q%')`` on
PostgreSQL, which a GIN index over ``UPPER(col) gin_trgm_ops`` serves.
PostgreSQL only (pg_trgm is a trusted extension from PostgreSQL 13); on
SQLite this migration does nothing."""

from django.db import migrations

INDEXES = {
    "exception_title_trgm": "UPPER(title) gin_trgm_ops",
    "exception_code_trgm": "UPPER(error_code::text) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON integrations_syncexception USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
