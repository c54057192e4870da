# Each portfolio's rescan schedule moves from a django-celery-beat entry of its own (PeriodicTask + CrontabSchedule)
# onto the portfolio: its cron expression and the next run, read by beat's minute tick (scanner.services.due_rescans).

import json
import logging

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from scanner import crons

RESCAN_TASK = "scanner.tasks.rescan_portfolio"
BATCH = 2000

logger = logging.getLogger(__name__)


def _expression(crontab):
    return " ".join(
        str(getattr(crontab, name)).replace(" ", "")
        for name in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    )


def entries_to_portfolios(apps, schema_editor):
    """Every enabled crontab entry becomes the portfolio's cron and next run (from now: the slot the entry would
    have fired next); a disabled entry, or one switched to an interval in the admin, becomes 'off'."""
    Portfolio = apps.get_model("scanner", "Portfolio")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    now = timezone.now()
    zone = settings.CELERY_TIMEZONE
    scheduled = (
        Portfolio.objects.filter(schedule_task__isnull=False)
        .select_related("schedule_task__crontab")
        .order_by("pk")
        .only("pk", "schedule_task__enabled", "schedule_task__crontab")
    )
    batch = []
    for portfolio in scheduled.iterator(chunk_size=BATCH):
        task, crontab = portfolio.schedule_task, portfolio.schedule_task.crontab
        if not task.enabled or crontab is None:
            continue
        expression = _expression(crontab)
        try:
            portfolio.next_rescan_at = crons.next_run(expression, now, str(crontab.timezone) or zone)
        except crons.InvalidCron:
            logger.warning("portfolio %s: rescan schedule %r not understood, left off", portfolio.pk, expression)
            continue
        portfolio.rescan_cron = expression
        batch.append(portfolio)
        if len(batch) >= BATCH:
            Portfolio.objects.bulk_update(batch, ["rescan_cron", "next_rescan_at"])
            batch = []
    Portfolio.objects.bulk_update(batch, ["rescan_cron", "next_rescan_at"])
    PeriodicTask.objects.filter(task=RESCAN_TASK).delete()
    _tell_beat(apps, schema_editor)


def portfolios_to_entries(apps, schema_editor):
    """Back to one beat entry per scheduled portfolio, as scanner.services.schedules stored them before."""
    Portfolio = apps.get_model("scanner", "Portfolio")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    crontabs = {}
    scheduled = Portfolio.objects.exclude(rescan_cron="").filter(next_rescan_at__isnull=False).order_by("pk")
    for portfolio in scheduled.only("pk", "rescan_cron").iterator(chunk_size=BATCH):
        expression = portfolio.rescan_cron
        if expression not in crontabs:
            fields = dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"), expression.split()))
            crontabs[expression], _ = CrontabSchedule.objects.get_or_create(
                **fields, timezone=settings.CELERY_TIMEZONE
            )
        task, _ = PeriodicTask.objects.update_or_create(
            name=f"rescan portfolio {portfolio.pk}",
            defaults={
                "task": RESCAN_TASK,
                "crontab": crontabs[expression],
                "kwargs": json.dumps({"portfolio_id": portfolio.pk}),
                "enabled": True,
            },
        )
        Portfolio.objects.filter(pk=portfolio.pk).update(schedule_task=task)
    _tell_beat(apps, schema_editor)


def _tell_beat(apps, schema_editor):
    # What PeriodicTasks.update_changed() does: a running DatabaseScheduler reloads its entries when this moves.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    # PostgreSQL checks the foreign keys these rows touched at commit; the ALTER TABLE that follows in this
    # transaction is refused while those checks are pending ("pending trigger events"): run them now.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("scanner", "0018_capacity_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="portfolio",
            name="rescan_cron",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.AddField(
            model_name="portfolio",
            name="next_rescan_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.RunPython(entries_to_portfolios, portfolios_to_entries),
        migrations.RemoveField(
            model_name="portfolio",
            name="schedule_task",
        ),
    ]
