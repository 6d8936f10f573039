"""``python manage.py apply_config FILE [--prune] [--dry-run] [--actor EMAIL]``
(contract section 1)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from provisioning.config import ConfigError, apply_document, load_file


class Command(BaseCommand):
    help = (
        "Create or update a partner, its plans, users and tenants from a YAML or JSON file. "
        "Idempotent and transactional; deletes nothing unless --prune."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="YAML (.yaml/.yml) or JSON (.json) file; other names are judged by content")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete what this partner has and the file does not mention (tenants, systems, integrations, "
            "users, plans, objectives, maintenance windows, alert channels, routing rules).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and report the changes, and what each integration takes from its template; write nothing.",
        )
        parser.add_argument("--actor", default=None, help="E-mail written to the audit log (default: system).")

    def handle(self, *args, file, prune, dry_run, actor, **options):
        path = Path(file)
        try:
            document = load_file(path)
            changes = apply_document(
                document, base_dir=path.resolve().parent, prune=prune, dry_run=dry_run, actor=actor, source=path.name
            )
        except IntegrityError:
            # Only when another apply wrote the same partner, tenant or user meanwhile.
            raise CommandError(
                f"{path.name}: another change to the same objects was committed meanwhile; nothing applied, "
                "apply the file again.",
                returncode=1,
            ) from None
        except ConfigError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            count = len(exc.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path.name}; nothing applied.", returncode=1
            ) from None
        if dry_run:
            # Which integration takes what from which template (contract 1.1).
            for use in changes.template_uses:
                self.stdout.write(f"{path.name}: {use.line()}")
        if not changes:
            self.stdout.write(f"{path.name}: no changes.")
            return
        prefix = "would have " if dry_run else ""
        for line in changes.lines():
            self.stdout.write(f"{path.name}: {prefix}{line}")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
