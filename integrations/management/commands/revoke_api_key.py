"""``python manage.py revoke_api_key KEY`` (contract section 1): the whole key,
or its prefix before the first ``.``. A revoked key gets 401 from then on."""

from django.core.management.base import BaseCommand, CommandError

from integrations.keys import revoke_key


class Command(BaseCommand):
    help = "Revoke an API key or personal token, given whole or by its prefix."

    def add_arguments(self, parser):
        parser.add_argument("key", help="The key, or its prefix before the first '.'")
        parser.add_argument("--actor", default=None, help="E-mail written to the audit log (default: system).")

    def handle(self, *args, key, actor, **options):
        if not key.strip():
            raise CommandError("give the key or its prefix", returncode=1)
        found = revoke_key(key, actor=actor)
        if found is None:
            raise CommandError("unknown key", returncode=1)
        owner = f"tenant {found.tenant.slug}" if found.tenant_id else f"user {found.user.email}"
        self.stdout.write(
            f"Revoked {found.name!r} ({found.prefix}) of {owner} at {found.revoked_at:%Y-%m-%d %H:%M:%S}Z."
        )
