"""Records to rows and back, by the names of the table's own columns.

A table's definition (its migration in storage/schema.py) is the one schema: the Arrow types
of an insert come from the table itself, and a record field fills the column of the same name.
Adding a column therefore touches the migration and the record, and nothing here. Fields
whose names differ from their columns (a Failure split into `error` and `error_kind`) are
passed to `row()` by name.

Upserts are written here once, as MERGE INTO: the DuckDB file has primary keys, but a DuckLake
has none for ON CONFLICT to act on (tests/test_lake_engine.py); MERGE names the key in the
statement and does the same on both. Without a key nothing refuses a second row with the same
key, so rows are reduced to one per key here, and the store's writes never overlap on a lake
(storage/lake.py): a row that MERGE inserts stays the only one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
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


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert dict rows (keys are column names; missing columns get their default)."""
    if not rows:
        return
    with _incoming(con, table, rows) as view:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")


def insert_new(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
) -> None:
    """Insert the rows whose key is not stored yet; of rows with the same key, the first."""
    unique = list({tuple(r[k] for k in key): r for r in reversed(rows)}.values())[::-1]
    _merge(con, table, unique, key, None)


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
    _merge(con, table, unique, key, updates)


def _merge(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    updates: str | None,
) -> None:
    if not rows:
        return
    with _incoming(con, table, rows) as view:
        _merge_view(con, table, view, key, updates)


def merge_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: pa.Table,
    key: Sequence[str],
    updates: str | None,
) -> None:
    """`upsert` for rows already in an Arrow table with one row per key; `updates` is the SET
    list (over `excluded` and `table`)."""
    if not source.num_rows:
        return
    view = f"incoming_{table}"
    con.register(view, source)
    try:
        _merge_view(con, table, view, key, updates)
    finally:
        con.unregister(view)


def _merge_view(
    con: duckdb.DuckDBPyConnection,
    table: str,
    view: str,
    key: Sequence[str],
    updates: str | None,
) -> None:
    on = " AND ".join(f"{table}.{k} = excluded.{k}" for k in key)
    matched = f"WHEN MATCHED THEN UPDATE SET {updates} " if updates else ""
    con.execute(
        f"MERGE INTO {table} USING {view} AS excluded ON {on} "
        f"{matched}WHEN NOT MATCHED THEN INSERT BY NAME"
    )


@contextlib.contextmanager
def _incoming(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]
) -> Iterator[str]:
    """The rows as an Arrow view typed by the table's own columns."""
    schema = columns(con, table)
    names = list(rows[0])
    arrow = pa.Table.from_pylist(list(rows), schema=pa.schema([schema.field(n) for n in names]))
    view = f"incoming_{table}"
    con.register(view, arrow)
    try:
        yield view
    finally:
        con.unregister(view)


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


def in_list(values: Sequence[str]) -> str:
    """Ids as a literal IN list. A constant list lets DuckDB look rows up through the primary
    key's index; a list parameter becomes a join that reads the whole table (every text, when
    texts are selected). The values are ids read from the store, quoted all the same."""
    if not values:
        return "NULL"
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)
