"""Records to rows and back, by the names of the table's own columns.

A table's definition (its migration in storage/schema.py) is the one schema: the Arrow types
of an insert come from the table itself, and a record field fills the column of the same name.
Adding a column therefore touches the migration and the record, and nothing here. Fields
whose names differ from their columns (a Failure split into `error` and `error_kind`) are
passed to `row()` by name.

Upserts are written here once (DuckDB's ON CONFLICT); a backend without keys (a DuckLake)
needs MERGE instead, in this one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from pydantic import TypeAdapter

T = TypeVar("T")
_SCHEMAS: dict[str, pa.Schema] = {}  # tables change only through migrations (once per open)


def columns(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    schema = _SCHEMAS.get(table)
    if schema is None:
        schema = con.execute(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema
        _SCHEMAS[table] = schema
    return schema


def forget_columns() -> None:
    """After a migration: the next insert reads the tables' columns again."""
    _SCHEMAS.clear()


def row(record: object, names: Iterable[str], **values: Any) -> dict[str, Any]:
    """The record's fields that are columns in `names`, plus `values` for the rest."""
    fields = {f.name for f in dataclasses.fields(record)}  # type: ignore[arg-type]
    out = {name: getattr(record, name) for name in names if name in fields}
    out.update(values)
    return out


def insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    on_conflict: str = "",
) -> None:
    """Insert dict rows (keys are column names; missing columns get their default)."""
    if not rows:
        return
    schema = columns(con, table)
    names = list(rows[0])
    arrow = pa.Table.from_pylist(list(rows), schema=pa.schema([schema.field(n) for n in names]))
    view = f"incoming_{table}"
    con.register(view, arrow)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view} {on_conflict}")
    finally:
        con.unregister(view)


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    keep: Mapping[str, str] | None = None,
) -> None:
    """Insert, or update the row with the same key: every column from the new row, except
    those in `keep`, which get the SQL given there (`excluded.x` is the new value, `table.x`
    the stored one). Of rows with the same key, the last is kept."""
    if not rows:
        return
    keep = keep or {}
    # One row per key: DuckDB refuses to update a row twice in one statement.
    unique = list({tuple(r[k] for k in key): r for r in rows}.values())
    updates = ", ".join(
        f"{name} = {keep.get(name, f'excluded.{name}')}" for name in unique[0] if name not in key
    )
    insert(con, table, unique, f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


def records(cursor: duckdb.DuckDBPyConnection, cls: type[T]) -> list[T]:
    """The cursor's rows as records, each column into the field of its name (pydantic turns
    the stored strings back into the record's enums)."""
    names = [d[0] for d in cursor.description or []]
    return _adapter(cls).validate_python(
        [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    )


@cache
def _adapter(cls: type[T]) -> TypeAdapter[list[T]]:
    return TypeAdapter(list[cls])  # type: ignore[valid-type]
