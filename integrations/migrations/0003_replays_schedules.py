"""The periodic replay sweep (integrations.tasks.replay_housekeeping), created
once by name: it queues expired leases again and delivers due webhook tries."""

from django.db import migrations
from django.utils import timezone

NAME = "replay-housekeeping"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(name=NAME).exists():
        Schedule.objects.create(
            name=NAME,
            func="integrations.tasks.replay_housekeeping",
            schedule_type="I",  # MINUTES
            minutes=1,
            repeats=-1,
            next_run=timezone.now(),
        )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
