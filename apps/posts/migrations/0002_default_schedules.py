"""Default beat schedules of the publishing engine (SPEC 7); staff edit them in admin."""

from django.db import migrations

SCHEDULES = [
    (
        "Dispatch due publications",
        "posts.publications_dispatch_due",
        1,
        "minutes",
        "Every minute: claim publications that are due and publish them.",
    ),
    (
        "Poll Instagram containers",
        "posts.instagram_containers_poll",
        1,
        "minutes",
        "Every minute: advance publications waiting for Instagram to process their image.",
    ),
    (
        "Sync engagement",
        "posts.engagement_sync",
        1,
        "hours",
        "Hourly: likes, comments and shares of posts published in the last ENGAGEMENT_SYNC_DAYS.",
    ),
]


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period, description in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task__in=[s[1] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
