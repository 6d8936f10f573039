"""``python manage.py seed_demo [--reset | --if-empty] [--days N]``: a demonstration
installation. Applies the Northwind configuration through apply_config's
code, sets known passwords for the demo users (printed at the end), and sends
weeks of history through the same ingest code as the worker API."""

from django.core.management.base import BaseCommand, CommandError

from opsconsole.models import Partner
from provisioning.config import ConfigError
from provisioning.demo.seed import DAYS, seed


class Command(BaseCommand):
    help = "Create the Northwind demo partner, users with known passwords, and weeks of run history."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--reset", action="store_true", help="Delete the demo partner's data first.")
        mode.add_argument("--if-empty", action="store_true", help="Do nothing when the database already has a partner.")
        parser.add_argument("--days", type=int, default=DAYS, help=f"Days of history (default {DAYS}).")

    def handle(self, *args, reset, if_empty, days, **options):
        if not 1 <= days <= 400:
            raise CommandError("--days must be between 1 and 400.")
        if if_empty and Partner.objects.exists():
            self.stdout.write("The database already has a partner: no demo data added.")
            return

        def out(line):
            self.stdout.write(line)
            self.stdout.flush()

        try:
            seed(out, do_reset=reset, days=days)
        except ConfigError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError("The demo configuration could not be applied.", returncode=1) from None
