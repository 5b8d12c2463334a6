"""DuckDB extensions from installed pip packages, never from the network.

`INSTALL fts` downloads from DuckDB's extension server, which a server behind a firewall (and
these build machines) cannot reach. The extensions are also published on PyPI as packages
(`duckdb-extension-fts`, `-ducklake`, `-postgres`, `-httpfs`), one build per DuckDB release;
`duckdb-extensions` installs such a package's file into an extension directory. That is why
DuckDB is pinned to the release those packages are built for (see README, "Why DuckDB 1.5").

Extensions are installed once into a per-user cache directory and loaded from there. Automatic
installation stays off on every connection, so a missing package is a clear error instead of a
download attempt; automatic loading stays on, so a store whose full-text index needs `fts`
opens in `newsmon sql` like any other.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import duckdb

EXTENSIONS = ("fts", "ducklake", "postgres", "httpfs")
_installed: set[str] = set()
_lock = threading.Lock()


class ExtensionError(Exception):
    """An extension that cannot be had offline; the message is one line for the user."""


def extension_directory() -> Path:
    configured = os.environ.get("NEWSMON_EXTENSION_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "newsmon" / "duckdb-extensions"


def connection_config() -> dict[str, Any]:
    """Settings for every `duckdb.connect` of the store."""
    return {
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
    }


def load(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load `name` into `con`, installing it from its pip package the first time."""
    if name not in EXTENSIONS:
        raise ValueError(f"unknown extension {name!r}")
    try:
        con.execute(f"LOAD {name}")
        return
    except duckdb.Error:
        pass  # not installed in the extension directory yet
    with _lock:
        if name not in _installed:
            _install(con, name)
            _installed.add(name)
    try:
        con.execute(f"LOAD {name}")
    except duckdb.Error as exc:
        raise ExtensionError(f"cannot load DuckDB extension {name}: {_one_line(exc)}") from None


def _install(con: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        from duckdb_extensions import import_extension
    except ImportError:
        raise ExtensionError(
            "the package duckdb-extensions is not installed (pip install -e .)"
        ) from None
    try:
        import_extension(name, con=con)
    except ModuleNotFoundError:
        raise ExtensionError(
            f"DuckDB extension {name} is not installed: pip install duckdb-extension-{name}"
            f"=={duckdb.__version__}"
        ) from None
    except duckdb.Error as exc:
        raise ExtensionError(f"cannot install DuckDB extension {name}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
