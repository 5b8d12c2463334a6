"""`newsmon store migrate`: a DuckDB file into a lake and back, resumed after an interruption,
with every table's rows arriving once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extractors.records import Batch, LakeSettings
from storage import migrate
from storage.db import Store
from tests.support.factories import make_article, make_fetch, make_report
from tests.support.processes import WAIT_S

TABLES = ("articles", "article_urls", "article_fingerprints", "fetches", "runs", "outlets")


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        article = make_article(f"https://o{i % 3}.example/story-{i}", f"o{i % 3}")
        store.write(Batch(f"r{i}", articles=[article], fetches=[make_fetch(article.url)],
                          reports=[make_report(f"r{i}", f"o{i % 3}")]))  # fmt: skip


def _rows(store: Store, table: str) -> list[tuple]:
    return sorted(store.query(f"SELECT * FROM {table}").rows, key=repr)


def test_a_file_into_a_lake_and_back_resuming_after_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = LakeSettings(str(tmp_path / "meta.ducklake"), str(tmp_path / "lake"))
    file = Store(tmp_path / "file.duckdb")
    _fill(file, 7)
    lake = Store(tmp_path / "file.duckdb", lake=settings)
    monkeypatch.setattr(migrate, "CHUNK", 2)

    def crash_after_first_chunk(table: str, rows: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C just after a chunk committed

    tables = migrate.plan(file, lake)
    with pytest.raises(KeyboardInterrupt):
        migrate.copy(file, lake, tables, crash_after_first_chunk)
    resumed = migrate.plan(file, lake)
    assert sum(t.done for t in resumed) == 2
    migrate.copy(file, lake, resumed)
    for table in TABLES:
        assert _rows(lake, table) == _rows(file, table), table
    assert lake.query("SELECT copies FROM stories ORDER BY story_id").rows == [(1,)] * 7
    assert "store_migration" not in {r[0] for r in lake.query("SHOW TABLES").rows}

    back = Store(tmp_path / "back.duckdb")
    migrate.copy(lake, back, migrate.plan(lake, back))
    for table in TABLES:
        assert _rows(back, table) == _rows(file, table), table
    lake.close()


@pytest.mark.slow
def test_the_command_copies_with_a_progress_bar(tmp_path: Path) -> None:
    file = Store(tmp_path / "n.duckdb")
    _fill(file, 3)
    config = tmp_path / "c.toml"
    config.write_text(
        f'[store]\nbackend = "ducklake"\ncatalog = "{tmp_path / "meta.ducklake"}"\n'
        f'data_path = "{tmp_path / "lake"}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "store", "migrate", "--to", "lake",
         "--config", str(config), "--db", str(tmp_path / "n.duckdb")],
        capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout and "row(s)" in done.stdout
    assert "copying" in done.stderr  # the bar, on stderr
    again = subprocess.run(
        [sys.executable, "-m", "flows.cli", "sql", "SELECT count(*) FROM articles",
         "--config", str(config), "--format", "csv"],
        capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "3"
