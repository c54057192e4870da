"""The process that stores a command-line scan sets Django up without the apps a stored scan never reaches
(scanner/storage_process.py), and nothing a store does depends on them."""

from __future__ import annotations

import weakref

import pytest
from django.apps import AppConfig, apps
from django.db.models import signals

from scanner.storage_process import APPS_A_STORE_NEVER_REACHES
from tests.test_cli_startup import _imported_after_django_setup

MODEL_SIGNALS = (signals.pre_save, signals.post_save, signals.pre_delete, signals.post_delete, signals.m2m_changed)


def _left_out(config: AppConfig) -> bool:
    # An INSTALLED_APPS entry names an app's package or its AppConfig class.
    return {config.name, f"{type(config).__module__}.{type(config).__qualname__}"} & APPS_A_STORE_NEVER_REACHES != set()


def test_every_app_left_out_is_an_installed_app():
    # An entry renamed in the settings would silently stay in the storing process's set-up.
    left_out = [config for config in apps.get_app_configs() if _left_out(config)]
    assert len(left_out) == len(APPS_A_STORE_NEVER_REACHES)


def test_the_storing_set_up_loads_neither_the_rescan_scheduler_nor_the_apps_that_serve_pages(tmp_path):
    statement = "from scanner.services import record_cli_scan"
    names, finished = _imported_after_django_setup(tmp_path, statement, storing=True)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "scanner.services.scan_runs" in names  # the measurement saw the services
    left_out = {"django_celery_beat.models", "timezone_field", "django.contrib.admin", "webui.dashboard"}
    # Nor Celery: the app (loaded by its schedules, which parse rescan crons) and its utilities (its exceptions).
    left_out |= {"celery.app", "celery.utils", "kombu.serialization"}
    assert sorted(names & left_out) == []


def test_no_model_kept_for_storing_refers_to_a_model_of_an_app_left_out():
    kept = [model for model in apps.get_models() if not _left_out(model._meta.app_config)]
    references = [
        (model.__name__, field.name, field.related_model._meta.label)
        for model in kept
        for field in model._meta.get_fields()
        # Forward relations (foreign keys, many-to-many): the ones a write follows.
        if field.is_relation
        and not field.auto_created
        and field.related_model is not None
        and _left_out(field.related_model._meta.app_config)
    ]
    assert references == []


def test_no_model_left_out_refers_to_a_site_or_a_scan():
    # Only the admin's log refers to users, which a stored scan creates but never deletes.
    left_out = [model for model in apps.get_models() if _left_out(model._meta.app_config)]
    references = [
        (model._meta.label, field.name)
        for model in left_out
        for field in model._meta.get_fields()
        if field.is_relation and field.related_model is not None and field.related_model._meta.app_label == "scanner"
    ]
    assert references == []


@pytest.mark.parametrize(
    "signal", MODEL_SIGNALS, ids=["pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"]
)
def test_no_receiver_of_a_kept_models_signal_is_defined_in_an_app_left_out(signal):
    kept_models = {id(model): model for model in apps.get_models() if not _left_out(model._meta.app_config)}
    offenders = []
    for (_, sender_id), reference, *_ in signal.receivers:
        receiver = reference() if isinstance(reference, weakref.ReferenceType) else reference
        if sender_id != id(None) and sender_id not in kept_models:
            continue  # a receiver of a left-out app's own models
        home = apps.get_containing_app_config(getattr(receiver, "__module__", "") or "")
        if home is not None and _left_out(home):
            offenders.append(f"{receiver.__module__}.{getattr(receiver, '__qualname__', receiver)}")
    assert offenders == []
