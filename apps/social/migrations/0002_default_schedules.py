"""Default beat schedules of the token jobs (SPEC 7); staff edit them in admin."""

from django.db import migrations

SCHEDULES = [
    # name, task, crontab (minute, hour) or None for hourly interval, description
    (
        "Refresh expiring Facebook user tokens",
        "social.token_refresh_due",
        ("0", "3"),
        "Daily: long-lived user tokens expiring within 7 days are re-exchanged.",
    ),
    (
        "Check every Facebook token",
        "social.token_check_all",
        ("30", "3"),
        "Daily: debug_token on every token; invalid ones mark the account as needing reconnection.",
    ),
    (
        "Clean up unfinished Facebook connections",
        "social.pending_connection_cleanup",
        None,
        "Hourly: grants whose Pages were never chosen are deleted.",
    ),
]


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, cron, description in SCHEDULES:
        if cron is None:
            schedule = {
                "interval": IntervalSchedule.objects.get_or_create(every=1, period="hours")[0]
            }
        else:
            minute, hour = cron
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
            )
            schedule = {"crontab": crontab}
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "description": description, **schedule}
        )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task__in=[task for _, task, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
