"""``python manage.py ensure_schedules``: create or update, by name, the
recurring tasks listed in ``opsconsole.schedules.SCHEDULES``. Safe to run at
every start: an unchanged schedule is left alone (its next run too)."""

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from opsconsole.schedules import SCHEDULES


def ensure_schedules(specs=None):
    """Return (created, updated, unchanged) schedule names."""
    created, updated, unchanged = [], [], []
    for spec in specs if specs is not None else SCHEDULES:
        desired = {"func": spec.func, "schedule_type": spec.schedule_type, "minutes": spec.minutes, "repeats": -1}
        schedule = Schedule.objects.filter(name=spec.name).first()
        if schedule is None:
            Schedule.objects.create(name=spec.name, next_run=spec.first_run(), **desired)
            created.append(spec.name)
            continue
        changed = [k for k, v in desired.items() if getattr(schedule, k) != v]
        if changed:
            for k in changed:
                setattr(schedule, k, desired[k])
            schedule.save(update_fields=changed)
            updated.append(spec.name)
        else:
            unchanged.append(spec.name)
    return created, updated, unchanged


class Command(BaseCommand):
    help = "Create or update the recurring django-q2 schedules by name."

    def handle(self, *args, **options):
        created, updated, unchanged = ensure_schedules()
        for verb, names in (("created", created), ("updated", updated), ("unchanged", unchanged)):
            for name in names:
                self.stdout.write(f"{verb}: {name}")
