"""DuckDB extensions come from the installed pip packages, with downloads switched off."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from storage import extensions


@pytest.fixture
def ext_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSMON_EXTENSION_DIR", str(tmp_path / "ext"))
    monkeypatch.setattr(extensions, "_installed", set())
    return tmp_path / "ext"


@pytest.mark.parametrize("name", extensions.EXTENSIONS)
def test_each_extension_loads_from_its_package(ext_dir: Path, name: str) -> None:
    con = duckdb.connect(config=extensions.connection_config())
    extensions.load(con, name)
    loaded = {
        row[0]: row[1]
        for row in con.execute(
            "SELECT extension_name, install_path FROM duckdb_extensions() WHERE loaded"
        ).fetchall()
    }
    internal = "postgres_scanner" if name == "postgres" else name
    assert Path(loaded[internal]).is_relative_to(ext_dir)


def test_downloads_are_off(ext_dir: Path) -> None:
    con = duckdb.connect(config=extensions.connection_config())
    setting = con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()
    assert setting == (False,)


def test_fts_stems_russian(ext_dir: Path) -> None:
    con = duckdb.connect(config=extensions.connection_config())
    extensions.load(con, "fts")
    con.execute("CREATE TABLE d (id INTEGER, t VARCHAR)")
    con.execute(
        "INSERT INTO d VALUES (1, 'Визит в Азербайджан'), (2, 'Погода в Москве'), (3, 'Baku')"
    )
    con.execute("PRAGMA create_fts_index('d', 'id', 't', stemmer = 'russian')")
    rows = con.execute(
        "SELECT id FROM (SELECT id, fts_main_d.match_bm25(id, 'Азербайджана') AS s FROM d) "
        "WHERE s IS NOT NULL"
    ).fetchall()
    assert rows == [(1,)]


def test_unknown_extension_is_refused(ext_dir: Path) -> None:
    with pytest.raises(ValueError):
        extensions.load(duckdb.connect(), "spatial")
