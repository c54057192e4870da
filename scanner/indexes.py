"""Index definitions the two databases spell differently (Django model code, used by scanner.models and its
migrations)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import OrderBy


class NullsOrderIndex(models.Index):
    """An index whose columns may say NULLS FIRST/LAST, as the ORDER BY it serves does.

    PostgreSQL serves `ORDER BY x DESC NULLS LAST` from an index only if that index says NULLS LAST (its own
    default for DESC is NULLS FIRST). SQLite cannot say it in CREATE INDEX, and needs not for DESC NULLS LAST:
    NULLs are its smallest values, so plain DESC already ends with them. On SQLite the modifiers are dropped.
    """

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = self.clone()
        plain.expressions = tuple(
            OrderBy(part.expression, descending=part.descending) if isinstance(part, OrderBy) else part
            for part in self.expressions
        )
        return models.Index.create_sql(plain, model, schema_editor, using=using, **kwargs)
