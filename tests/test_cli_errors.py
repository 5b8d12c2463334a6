"""Mistakes people make at the command line: one clear line on stderr and exit 2, never a
traceback; and the SQL a person may hand over (a leading comment, a file, stdin). In process,
through typer's runner: an exception escaping the command would be result.exception."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from flows.cli import app
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config

runner = CliRunner()


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsmon: error: "), result.stderr
    return lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "c.toml", config_text(outlet_toml("x", "http://127.0.0.1:9/", feeds=["/rss"]))
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "n.duckdb"
    Store(path).initialise()
    return path


def test_a_directory_given_as_the_database(tmp_path: Path, config: Path) -> None:
    for command in (["run"], ["outlets"], ["sql", "SELECT 1"], ["health"]):
        result = runner.invoke(app, [*command, "--config", str(config), "--db", str(tmp_path)])
        line = one_error_line(result)
        assert f"{tmp_path} is a directory" in line, command
    assert list(tmp_path.iterdir()) == [config]  # and nothing was written there


@pytest.mark.parametrize("query", ["", "   ", ";", "-- only a comment", "/* nothing */ ;"])
def test_no_statement_is_one_line(db: Path, query: str) -> None:
    line = one_error_line(runner.invoke(app, ["sql", query, "--db", str(db)]))
    assert "no SQL statement given" in line


def test_a_query_may_start_with_a_comment(db: Path) -> None:
    query = "-- how many so far\nSELECT count(*) AS n FROM articles"
    result = runner.invoke(app, ["sql", query, "--db", str(db), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["n", "0"]


def test_sql_from_a_file_or_stdin(tmp_path: Path, db: Path) -> None:
    query = tmp_path / "q.sql"
    query.write_text("-- a saved query\nSELECT 6 * 7 AS answer;\n", encoding="utf-8")
    from_file = runner.invoke(app, ["sql", "--file", str(query), "--db", str(db), "-f", "csv"])
    assert from_file.stdout.splitlines() == ["answer", "42"], from_file.output
    for args in (["sql", "-"], ["sql", "--file", "-"]):
        piped = runner.invoke(app, [*args, "--db", str(db), "-f", "csv"], input="SELECT 7 AS n")
        assert piped.stdout.splitlines() == ["n", "7"], (args, piped.output)
    missing = one_error_line(runner.invoke(app, ["sql", "--file", str(tmp_path / "no.sql")]))
    assert "cannot read" in missing and "no.sql" in missing
    both = one_error_line(runner.invoke(app, ["sql", "SELECT 1", "--file", str(query)]))
    assert "not both" in both


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"newsmon {version('newsmon')}"
