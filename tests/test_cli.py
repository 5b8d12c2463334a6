"""`newsmon` as a user runs it: real subprocesses, real loopback sites, real DuckDB files."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import demo_page
from tests.support.server import Response, Site, free_port_block

pytestmark = pytest.mark.slow
NEWSMON = [sys.executable, "-m", "flows.cli"]


def newsmon(
    *args: str, api: str | None, timeout: float | None = None, **kw
) -> subprocess.CompletedProcess:  # noqa: ANN003
    """The command as a user runs it; with `api`, recorded on that Prefect server, else run
    without Prefect whatever else listens on this machine."""
    env = dict(kw.pop("env", os.environ), COLUMNS="200", NO_COLOR="1")
    env.pop("NEWSMON_DB", None)
    if api:
        env["PREFECT_API_URL"] = api
        env["NEWSMON_PREFECT"] = "auto"
    else:
        env.pop("PREFECT_API_URL", None)
        env["NEWSMON_PREFECT"] = "off"
    env.update(kw.pop("extra_env", {}))
    return subprocess.run(
        [*NEWSMON, *args], capture_output=True, text=True, timeout=timeout, env=env, **kw
    )


def sitemap_site() -> Site:
    """An arbitrary outlet known only by a sitemap index with a gzipped child sitemap."""
    site = Site("https://arbitrary.example")
    paths = [f"/politics/article-{i}-baku-moscow" for i in range(3)]
    for i, path in enumerate(paths):
        site.routes[path] = Response(demo_page("eurasianet", i))
    urls = "".join(
        f"<url><loc>{site.real_origin}{p}</loc><lastmod>2025-07-0{i + 1}</lastmod></url>"
        for i, p in enumerate(paths)
    )
    child = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    site.routes["/sitemap-posts.xml.gz"] = Response(
        gzip.compress(child.encode()), "application/x-gzip", rewrite=False
    )
    # The gzipped child carries real origins: the server cannot rewrite inside gzip, so serve
    # it already rewritten once the port is known (see the test).
    site.routes["/sitemap.xml"] = Response(
        (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{site.real_origin}/sitemap-posts.xml.gz</loc></sitemap></sitemapindex>"
        ).encode(),
        "application/xml",
    )
    site.routes["/robots.txt"] = Response(b"User-agent: *\nAllow: /\n", "text/plain")
    return site


def test_run_arbitrary_outlet_from_sitemap_then_query(tmp_path: Path, serve) -> None:  # noqa: ANN001
    site = sitemap_site()
    serve(site)
    gz = site.routes["/sitemap-posts.xml.gz"]
    gz.body = gzip.compress(
        gzip.decompress(gz.body).replace(site.real_origin.encode(), site.url.encode())
    )
    config = write_config(
        tmp_path / "f.toml", config_text(outlet_toml("arbitrary", site, sitemaps=["/sitemap.xml"]))
    )
    db = tmp_path / "d.duckdb"
    result = newsmon("run", "--config", str(config), "--db", str(db), api=None)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "arbitrary" in result.stdout and "ok" in result.stdout

    table = newsmon(
        "sql", "SELECT outlet_id, count(*) AS n FROM articles GROUP BY 1", "--db", str(db), api=None
    )
    assert table.returncode == 0, table.stderr
    assert "arbitrary" in table.stdout and "3" in table.stdout and "1 row(s)" in table.stdout
    as_json = newsmon(
        "sql",
        "SELECT title, published_at FROM articles ORDER BY 1",
        "--db",
        str(db),
        "--format",
        "json",
        api=None,
    )
    rows = json.loads(as_json.stdout)
    assert len(rows) == 3 and all(r["published_at"].endswith("+00:00") for r in rows)
    as_csv = newsmon(
        "sql", "SELECT outlet_id FROM articles", "--db", str(db), "-f", "csv", api=None
    )
    assert as_csv.stdout.splitlines() == ["outlet_id", "arbitrary", "arbitrary", "arbitrary"]

    outlets = newsmon("outlets", "--config", str(config), "--db", str(db), api=None)
    assert outlets.returncode == 0 and "arbitrary" in outlets.stdout and "ok" in outlets.stdout


def test_sql_succeeds_while_a_run_is_writing(tmp_path: Path, serve) -> None:  # noqa: ANN001
    sites = []
    for n in range(3):
        site = Site(f"https://busy{n}.example")
        paths = [f"/news/busy-story-{n}-{i}" for i in range(4)]
        for i, path in enumerate(paths):
            site.routes[path] = Response(demo_page("aze-media", i % 3), delay_s=0.3)
        from tests.support.pages import rss

        site.routes["/rss"] = Response(rss(site.real_origin, paths), "application/rss+xml")
        sites.append(site)
    serve(*sites)
    config = write_config(
        tmp_path / "c.toml",
        config_text(*(outlet_toml(f"busy{n}", s, feeds=["/rss"]) for n, s in enumerate(sites))),
    )
    db = tmp_path / "busy.duckdb"
    env = dict(os.environ, NEWSMON_PREFECT="off")
    env.pop("PREFECT_API_URL", None)
    runner = subprocess.Popen(
        [*NEWSMON, "run", "--config", str(config), "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    outcomes = []
    while runner.poll() is None:
        if db.exists():
            q = newsmon(
                "sql",
                "SELECT outlet_id, count(*) FROM articles GROUP BY 1",
                "--db",
                str(db),
                api=None,
            )
            outcomes.append((q.returncode, q.stderr))
        else:
            time.sleep(0.2)
    out, err = runner.communicate()
    assert runner.returncode == 0, err
    assert outcomes, "the run finished before any query could be made"
    assert [o for o in outcomes if o[0] != 0] == []
    # 4 URLs per outlet carry 3 distinct texts (one text twice: the same article, one row);
    # the 3 outlets carry the same 3 texts: 9 rows in 3 stories.
    final = newsmon(
        "sql", "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories)",
        "--db", str(db), "-f", "csv", api=None,
    )  # fmt: skip
    assert final.stdout.splitlines()[1] == "9,3"


def test_no_network_gives_one_error_line_per_outlet(tmp_path: Path) -> None:
    outlets = [
        outlet_toml(name, f"https://{name}.invalid/", feeds=["/feed/"]) for name in ("one", "two")
    ] + [outlet_toml("three", "https://three.invalid/")]
    config = write_config(tmp_path / "c.toml", config_text(*outlets))
    result = newsmon("run", "--config", str(config), "--db", str(tmp_path / "n.duckdb"), api=None)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all("cannot connect" in e for e in errors)
    assert "Traceback" not in result.stderr + result.stdout


def test_a_configured_prefect_server_that_does_not_answer_is_a_note_and_the_run_goes_on(
    tmp_path: Path, serve
) -> None:  # noqa: ANN001
    site = Site("https://quiet.example", {"/rss": Response(b"<rss/>", "application/rss+xml")})
    serve(site)
    config = write_config(
        tmp_path / "c.toml", config_text(outlet_toml("quiet", site, feeds=["/rss"]))
    )
    down = f"http://127.0.0.1:{free_port_block(1, first=21200)}/api"
    result = newsmon(
        "run", "--config", str(config), "--db", str(tmp_path / "n.duckdb"), api=None,
        extra_env={"PREFECT_API_URL": down, "NEWSMON_PREFECT": "auto"},
    )  # fmt: skip
    assert "Traceback" not in result.stderr + result.stdout
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == [f"note: the Prefect server at {down} does not answer; running without it"]
    assert "quiet" in result.stdout and site.requests  # the run went on without Prefect


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        '[[outlet]]\nid = "x"\nname = "X"\nhomepage = "ftp://x"\nlanguage = "en"\n',
    )
    result = newsmon("run", "--config", str(config), api=None)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "outlet[0] (x): 'homepage' must be an http(s) URL" in result.stderr
    missing = newsmon("run", "--config", str(tmp_path / "absent.toml"), api=None)
    assert missing.returncode == 2 and "no such config file" in missing.stderr
    bad_sql = newsmon("sql", "SELEC nonsense", "--db", str(tmp_path / "absent.duckdb"), api=None)
    assert bad_sql.returncode == 2 and "no database" in bad_sql.stderr


def test_demo_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    port = str(free_port_block(3))
    first = newsmon("demo", "--db", str(db), "--port", port, api=None)
    assert first.returncode == 0, first.stderr
    assert "9 articles in" in first.stdout
    second = newsmon("demo", "--db", str(db), "--port", port, api=None)
    assert second.returncode == 0, second.stderr
    total = [line for line in second.stdout.splitlines() if line.strip().startswith("│ total")]
    assert total and total[0].split("│")[5].strip() == "0"  # stored column
    assert "9 articles in" in second.stdout


def test_commands_that_read_the_store_do_not_import_the_extraction_stack() -> None:
    """`newsmon sql` is run by hand, often: datasketch (scipy, redis) and trafilatura cost a
    second of start-up that only extraction needs."""
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, flows.cli, storage.db; "
         "print(sorted(m for m in ('datasketch', 'scipy', 'trafilatura') if m in sys.modules))"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_help_shows_config_table_names() -> None:
    # Help text goes through rich markup, where "[settings]" would be read as a style tag.
    run_help = newsmon("run", "--help", api=None)
    demo_help = newsmon("demo", "--help", api=None)
    assert run_help.returncode == 0 and demo_help.returncode == 0
    assert "[[outlet]] tables" in run_help.stdout
    assert "Take [settings] (user agent" in demo_help.stdout


def test_errors_keep_their_brackets(tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text("[settings]\nworkers = 1\n")
    result = newsmon("rules", "test", "some text", "--config", str(config), api=None)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("no [[rule]] configured"), result.stderr


def test_query_results_are_shown_as_data_not_markup(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "s.duckdb"
    duckdb.connect(str(db)).close()
    sql = "SELECT '[/b] closes nothing' AS \"[/c]\", '[settings] stays' AS u"
    result = newsmon("sql", "--db", str(db), sql, api=None)
    assert result.returncode == 0, result.stderr
    assert "[/b] closes nothing" in result.stdout and "[settings] stays" in result.stdout
    assert "[/c]" in result.stdout
