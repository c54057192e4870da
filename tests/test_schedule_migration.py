"""The migration that moves each portfolio's beat entry onto the portfolio, and back."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from scanner.models import Portfolio
from tests.migration_steps import migrate, migrated_to

BEFORE = [("scanner", "0018_capacity_indexes")]
AFTER = [("scanner", "0019_portfolio_next_rescan")]
RESCAN_TASK = "scanner.tasks.rescan_portfolio"


@pytest.fixture
def before_the_migration():
    with migrated_to(BEFORE) as apps:
        yield apps


def old_schedule(apps, owner_id: int, name: str, *, crontab=None, enabled=True):
    """What scanner.services.schedules stored before: a beat entry, and the portfolio pointing at it."""
    portfolio = apps.get_model("scanner", "Portfolio").objects.create(owner_id=owner_id, name=name)
    if crontab is not None:
        crontab_row, _ = apps.get_model("django_celery_beat", "CrontabSchedule").objects.get_or_create(
            **dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"), crontab.split())),
            timezone="UTC",
        )
        portfolio.schedule_task = apps.get_model("django_celery_beat", "PeriodicTask").objects.create(
            name=f"rescan portfolio {portfolio.pk}",
            task=RESCAN_TASK,
            crontab=crontab_row,
            kwargs=json.dumps({"portfolio_id": portfolio.pk}),
            enabled=enabled,
        )
        portfolio.save()
    return portfolio.pk


@pytest.mark.django_db(transaction=True)
def test_beat_entries_become_the_portfolios_schedules_and_are_deleted(alice, before_the_migration):
    apps = before_the_migration
    daily = old_schedule(apps, alice.pk, "daily", crontab="0 3 * * *")
    custom = old_schedule(apps, alice.pk, "custom", crontab="15 2 * * 1-5")
    disabled = old_schedule(apps, alice.pk, "disabled", crontab="0 3 * * *", enabled=False)
    unscheduled = old_schedule(apps, alice.pk, "none")

    migrate(AFTER)

    now = timezone.now()
    portfolios = {portfolio.pk: portfolio for portfolio in Portfolio.objects.all()}
    assert portfolios[daily].rescan_cron == "0 3 * * *"
    assert now < portfolios[daily].next_rescan_at <= now + timedelta(days=1)
    assert (portfolios[daily].next_rescan_at.hour, portfolios[daily].next_rescan_at.minute) == (3, 0)
    assert portfolios[custom].rescan_cron == "15 2 * * 1-5"
    assert portfolios[custom].next_rescan_at.isoweekday() <= 5
    for off in (disabled, unscheduled):
        assert (portfolios[off].rescan_cron, portfolios[off].next_rescan_at) == ("", None)
    assert not PeriodicTask.objects.filter(task=RESCAN_TASK).exists()


@pytest.mark.django_db(transaction=True)
def test_reversing_it_gives_each_scheduled_portfolio_its_beat_entry_back(alice, before_the_migration):
    apps = before_the_migration
    daily = old_schedule(apps, alice.pk, "daily", crontab="0 3 * * *")
    unscheduled = old_schedule(apps, alice.pk, "none")
    migrate(AFTER)

    apps = migrate(BEFORE)

    entries = apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=RESCAN_TASK)
    assert [json.loads(entry.kwargs) for entry in entries] == [{"portfolio_id": daily}]
    old_portfolios = apps.get_model("scanner", "Portfolio").objects
    assert old_portfolios.get(pk=daily).schedule_task.crontab.hour == "3"
    assert old_portfolios.get(pk=unscheduled).schedule_task is None
