"""``python manage.py refresh_due [TENANT ...]``: recompute the next SLA
deadline (``due_at``) that orders the inbox, for the open and acknowledged
exceptions of the named tenants or of every tenant. Ingest, triage and
apply_config keep it current; run this once after upgrading to fill the
exceptions stored before, or after editing objectives or business hours
outside apply_config."""

from django.core.management.base import BaseCommand, CommandError

from integrations.sync_exceptions.deadlines import refresh_due_of_tenants
from opsconsole.models import Tenant


class Command(BaseCommand):
    help = "Recompute the next SLA deadline of open exceptions (the inbox order), per tenant or for all."

    def add_arguments(self, parser):
        parser.add_argument("tenants", nargs="*", help="tenant slugs (default: every tenant)")

    def handle(self, *args, **options):
        slugs = options["tenants"]
        tenants = Tenant.objects.all()
        if slugs:
            tenants = tenants.filter(slug__in=slugs)
            unknown = sorted(set(slugs) - set(tenants.values_list("slug", flat=True)))
            if unknown:
                raise CommandError(f"unknown tenant(s): {', '.join(unknown)}")
        changed = 0
        for tenant_id in tenants.order_by("pk").values_list("pk", flat=True):
            changed += refresh_due_of_tenants([tenant_id])
        self.stdout.write(f"Updated the next deadline of {changed} exception(s).")
