"""values() queries compiled once per process: the same query for every request but its ids, times and words,
whose building and compiling by the ORM cost more CPU than the database takes to answer it (a millisecond or
more against a tenth, for the dashboard's grouped counts and subqueries).

The query is built once with marks in place of its arguments (ids no row has, times no row holds, words nobody
writes), compiled, and each mark in its parameters is replaced by the call's own argument; the rows get the
ORM's converters. Only on PostgreSQL (the dashboard's database; elsewhere a backend may convert parameters in
ways a mark would not show), and only when the parameters show every mark (an argument that changes the SQL,
not only a value in it, would not): otherwise the ORM runs the query every time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

_FIRST_ID_MARK = -1_000_001  # then -1_000_002, ...: one per argument
_FIRST_TIME_MARK_YEAR = 1001  # then 1002, ...: 1 January of that year, UTC
_TEXT_MARK = "\x1fcompiled-once-argument-"  # then its number: no word a user's data holds


def _mark(index: int, argument: int | datetime | str) -> int | datetime | str:
    if isinstance(argument, datetime):
        return datetime(_FIRST_TIME_MARK_YEAR + index, 1, 1, tzinfo=UTC)
    if isinstance(argument, int) and not isinstance(argument, bool):
        return _FIRST_ID_MARK - index
    if isinstance(argument, str):
        return f"{_TEXT_MARK}{index}"
    raise TypeError(f"a compiled query takes ids, times and words, not {type(argument).__name__}")


@dataclass(frozen=True)
class _Compiled:
    sql: str  # without LIMIT and OFFSET
    params: tuple  # the marked query's, marks included
    argument_at: dict[int, int]  # parameter index -> argument index, where a mark was
    names: tuple[str, ...]  # the row's keys, as values() names them
    converters: dict  # select position -> (converter functions, expression), as the ORM would apply them


class CompiledOnce:
    """`build(*arguments)` (an ordered values() QuerySet) run by SQL compiled on the first call, per database
    and time zone; `limit` and `offset` slice it as the QuerySet would be sliced."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        self._compiled: dict[tuple, _Compiled | None] = {}

    def rows(self, *arguments: int | datetime | str, limit: int | None = None, offset: int = 0) -> list[dict]:
        compiled = self._compiled_for(arguments)
        if compiled is None:
            rows = self._build(*arguments)
            if limit is not None or offset:
                rows = rows[offset : None if limit is None else offset + limit]
            return list(rows)
        values = self._values(compiled, arguments)
        sql = compiled.sql
        if limit is not None:
            sql, values = f"{sql} LIMIT %s OFFSET %s", [*values, limit, offset]
        elif offset:
            sql, values = f"{sql} OFFSET %s", [*values, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        if compiled.converters:  # what the ORM would do to each value (e.g. int() of a CASE's number)
            rows = [list(row) for row in rows]
            for row in rows:
                for position, (functions, expression) in compiled.converters.items():
                    for function in functions:
                        row[position] = function(row[position], expression, connection)
        return [dict(zip(compiled.names, row, strict=True)) for row in rows]

    def count(self, *arguments: int | datetime | str) -> int:
        """How many rows `build(*arguments)` gives, as QuerySet.count() would say."""
        compiled = self._compiled_for(arguments)
        if compiled is None:
            return self._build(*arguments).count()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({compiled.sql}) AS counted", self._values(compiled, arguments))
            return cursor.fetchone()[0]

    def _compiled_for(self, arguments: tuple) -> _Compiled | None:
        key = (connection.alias, connection.vendor, timezone.get_current_timezone_name())
        if key not in self._compiled:
            self._compiled[key] = self._compile(arguments)
        return self._compiled[key]

    @staticmethod
    def _values(compiled: _Compiled, arguments: tuple) -> list:
        return [
            arguments[compiled.argument_at[index]] if index in compiled.argument_at else param
            for index, param in enumerate(compiled.params)
        ]

    def _compile(self, arguments: tuple) -> _Compiled | None:
        if connection.vendor != "postgresql":
            return None
        marks = [_mark(index, argument) for index, argument in enumerate(arguments)]
        query = self._build(*marks).query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # Which parameter is which argument: by the mark's type and value (an id mark never equals a real id).
        argument_at = {}
        for index, param in enumerate(params):
            for which, mark in enumerate(marks):
                if type(param) is type(mark) and param == mark:
                    argument_at[index] = which
        if set(argument_at.values()) != set(range(len(marks))):
            return None
        return _Compiled(
            sql=sql,
            params=tuple(params),
            argument_at=argument_at,
            # The order values() gives its rows' keys in (django.db.models.query.ValuesIterable).
            names=(*query.extra_select, *query.values_select, *query.annotation_select),
            converters=compiler.get_converters([expression for expression, _, _ in compiler.select]),
        )
