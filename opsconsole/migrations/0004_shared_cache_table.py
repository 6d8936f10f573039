"""The table of the shared database cache (settings.CACHES, when REDIS_URL is
unset): created here so that ``migrate`` alone prepares an installation."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Creates the table of every DatabaseCache in settings.CACHES; none with Redis.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS opsconsole_cache")


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0003_partner_report_day_tenant_report_recipients")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table, elidable=False)]
