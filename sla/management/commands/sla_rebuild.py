"""``python manage.py sla_rebuild TENANT [--from DAY] [--to DAY]``: rebuild
the SLA per-day rollups of a tenant from its raw runs (within the retention).
Needed only after runs were written outside the ingest path."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from opsconsole.models import Tenant
from sla.rollups import rebuild


def _day(value, name):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name}: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Rebuild the SLA per-day rollups of a tenant (or of every tenant with --all) from the raw runs."

    def add_arguments(self, parser):
        parser.add_argument("tenant", nargs="?", help="tenant slug")
        parser.add_argument("--all", action="store_true", help="every tenant")
        parser.add_argument("--from", dest="first", help="first local day (default: the first run)")
        parser.add_argument("--to", dest="last", help="last local day, inclusive (default: the last run)")

    def handle(self, *args, **options):
        if options["all"]:
            tenants = list(Tenant.objects.all())
        elif options["tenant"]:
            tenants = list(Tenant.objects.filter(slug=options["tenant"]))
            if not tenants:
                raise CommandError(f"unknown tenant '{options['tenant']}'")
        else:
            raise CommandError("name a tenant or give --all")
        first, last = _day(options["first"], "from"), _day(options["last"], "to")
        for tenant in tenants:
            n = rebuild(tenant, first, last)
            self.stdout.write(f"{tenant.slug}: {n} day rows rebuilt")
