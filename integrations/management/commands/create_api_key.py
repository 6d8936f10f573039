"""``python manage.py create_api_key --tenant SLUG --name NAME [--scope ingest] [--scope read]``
or ``--user EMAIL --name NAME`` (contract section 1): prints the new key alone
on one line of standard output. It is shown this once; only its hash is kept."""

from django.core.management.base import BaseCommand, CommandError

from integrations.keys import create_key
from integrations.models import Scope
from opsconsole.models import Tenant, User


class Command(BaseCommand):
    help = "Create a tenant API key (scopes ingest, read) or a user's personal token; print it once."

    def add_arguments(self, parser):
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--tenant", help="Slug of the tenant the key acts for.")
        owner.add_argument("--user", help="E-mail of the user whose role a personal token acts with.")
        parser.add_argument("--name", required=True, help="A name for the key, shown in the audit log as key:<name>.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            help="A tenant key's scope; repeat for several (default: ingest).",
        )
        parser.add_argument("--actor", default=None, help="E-mail written to the audit log (default: system).")

    def handle(self, *args, tenant, user, name, scope, actor, **options):
        name = name.strip()
        if not name or len(name) > 200:
            raise CommandError("--name must be 1 to 200 characters.", returncode=1)
        if tenant is not None:
            owner = Tenant.objects.select_related("partner").filter(slug=tenant).first()
            if owner is None:
                raise CommandError(f"unknown tenant {tenant!r}", returncode=1)
            _, raw = create_key(name=name, tenant=owner, scopes=scope or [Scope.INGEST], actor=actor)
        else:
            if scope:
                raise CommandError("--scope applies to tenant keys; a personal token acts with its user's role.")
            owner = User.objects.select_related("partner").filter(email__iexact=user.strip()).first()
            if owner is None:
                raise CommandError(f"unknown user {user!r}", returncode=1)
            if not owner.is_active:
                raise CommandError(f"user {owner.email!r} is inactive", returncode=1)
            _, raw = create_key(name=name, user=owner, actor=actor)
        self.stdout.write(raw)
