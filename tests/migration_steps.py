"""Migrating the test database to a given state and back, for tests of a data migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: list[tuple[str, str]]) -> Apps:
    """The database migrated to `target`; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@contextmanager
def migrated_to(target: list[tuple[str, str]]) -> Iterator[Apps]:
    """The database at `target` within, the latest migrations again after."""
    try:
        yield migrate(target)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
