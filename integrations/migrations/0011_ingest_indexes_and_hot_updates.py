"""Cheaper ingest writes: no single-column indexes on the foreign keys of
runs, failures and log lines (composite indexes lead with each of them), and
room on the exceptions' pages (fillfactor 70, PostgreSQL) so that every
ingest request's update of their counts can be a HOT update, which touches
none of their eleven indexes (two of them trigram GIN). The fillfactor
applies to pages written from now on; ``VACUUM FULL integrations_syncexception``
applies it to the existing ones."""

import django.db.models.deletion
from django.db import migrations, models


def exception_fillfactor(value):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE integrations_syncexception SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0010_failure_replayable_index"),
        ("opsconsole", "0005_tenant_currency_close"),
    ]

    operations = [
        migrations.RunPython(exception_fillfactor(70), exception_fillfactor(100), elidable=False),
        migrations.AlterField(
            model_name="failure",
            name="exception",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="failures",
                to="integrations.syncexception",
            ),
        ),
        migrations.AlterField(
            model_name="failure",
            name="integration",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="integrations.integration",
            ),
        ),
        migrations.AlterField(
            model_name="failure",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="failures",
                to="integrations.run",
            ),
        ),
        migrations.AlterField(
            model_name="failure",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="opsconsole.tenant"
            ),
        ),
        migrations.AlterField(
            model_name="run",
            name="integration",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="runs",
                to="integrations.integration",
            ),
        ),
        migrations.AlterField(
            model_name="run",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="runs", to="opsconsole.tenant"
            ),
        ),
        migrations.AlterField(
            model_name="runlog",
            name="run",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="logs", to="integrations.run"
            ),
        ),
    ]
