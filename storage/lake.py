"""Connections to a DuckLake: the catalog in PostgreSQL (many writers on many machines) or in
a DuckDB file (one process), the data as Parquet under a directory or an `s3://` prefix.

DuckLake settles two concurrent commits that only append by itself: the loser is retried
against the new snapshot, up to `ducklake_max_retry_count` times. The settings below give a
busy shared catalog more patience than DuckLake's defaults (10 attempts from 100 ms apart,
growing 1.5x), so that appends from many workers do not surface as errors.
"""

from __future__ import annotations

import re

import duckdb

from storage import extensions

ALIAS = "lake"
RETRY_SETTINGS = {
    "ducklake_max_retry_count": 20,
    "ducklake_retry_wait_ms": 50,
    "ducklake_retry_backoff": 1.5,
}


class LakeError(Exception):
    """A lake that cannot be reached or attached, in one line."""


def needed_extensions(catalog: str, data_path: str) -> list[str]:
    names = ["ducklake"]
    if catalog.startswith("postgres:"):
        names.append("postgres")
    if data_path.startswith(("s3://", "http://", "https://")):
        names.append("httpfs")
    return names


def connect(catalog: str, data_path: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use."""
    con = duckdb.connect(config=extensions.connection_config())
    try:
        for name in needed_extensions(catalog, data_path):
            extensions.load(con, name)
        for key, value in RETRY_SETTINGS.items():
            con.execute(f"SET {key} = {value}")
        path = data_path if data_path.endswith("/") else data_path + "/"
        con.execute(
            f"ATTACH {_literal('ducklake:' + catalog)} AS {ALIAS} (DATA_PATH {_literal(path)})"
        )
        con.execute(f"USE {ALIAS}")
    except (duckdb.Error, extensions.ExtensionError) as exc:
        con.close()
        raise LakeError(redact(f"cannot attach the lake {catalog}: {_one_line(exc)}")) from None
    return con


def redact(text: str) -> str:
    """Text (a catalog string, an error quoting one) without passwords, for messages."""
    text = re.sub(r"(?i)(password\s*=\s*)('[^']*'|\S+)", r"\1***", text)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
