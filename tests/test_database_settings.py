"""Database connection settings that keep a stalled or restarted PostgreSQL from hanging or failing requests."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_carry_the_statement_timeout(settings):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        shown = cursor.fetchone()[0]
    assert shown == f"{int(settings.DATABASE_STATEMENT_TIMEOUT)}s"
