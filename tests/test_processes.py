"""A run's processes as a user and an operator meet them: the store is there from the start,
Ctrl-C and SIGTERM stop a run cleanly and keep what it had extracted, and after kill -9
nothing of a run (or of serve, with its Prefect server) stays alive.

Each command starts in a session of its own; whatever it started stays in that session, also
once orphaned, so the session's members are what is left of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.db import Store
from tests.support.configs import outlet_toml, write_config
from tests.support.pages import demo_page, rss
from tests.support.processes import in_session, listening
from tests.support.server import Response, Site, free_port_block

pytestmark = pytest.mark.slow
NEWSMON = [sys.executable, "-m", "flows.cli"]
PATHS = [f"/news/story-number-{i}" for i in range(3)]
HANGING = "/news/a-page-that-never-comes"


def until(what: Callable[[], bool], why: str, seconds: float = 240) -> None:
    """Wait for `what`; the deadline catches a thing that never happens, it is no speed bound."""
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def outlet(feed_delay_s: float = 0.0) -> Site:
    """Three good articles and one that hangs; the feed itself may be slow to answer."""
    site = Site("https://procs.example")
    for i, path in enumerate(PATHS):
        site.routes[path] = Response(demo_page("eurasianet", i))
    site.routes[HANGING] = Response(demo_page("aze-media", 0), delay_s=120)
    site.routes["/rss"] = Response(
        rss(site.real_origin, [*PATHS, HANGING]), "application/rss+xml", delay_s=feed_delay_s
    )
    return site


def start(tmp_path: Path, site: Site, *args: str) -> tuple[subprocess.Popen, Path]:
    config = write_config(
        tmp_path / "c.toml",
        "[settings]\nretries = 0\nread_timeout_s = 300\nworkers = 2\n"
        + outlet_toml("procs", site, feeds=["/rss"]),
    )
    db = tmp_path / "p.duckdb"
    env = dict(os.environ, NEWSMON_PREFECT="off", COLUMNS="200", NO_COLOR="1")
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [*NEWSMON, "run", "--config", str(config), "--db", str(db), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    return process, db


def test_the_store_answers_before_the_first_page_arrives(tmp_path: Path, serve) -> None:
    site = outlet(feed_delay_s=120)
    serve(site)
    run, db = start(tmp_path, site)
    try:
        until(lambda: "/rss" in site.requests, "the run never asked for its feed")
        # The run now waits for its feed: nothing has been fetched, let alone written.
        query = subprocess.run(
            [*NEWSMON, "sql", "SELECT count(*) AS n FROM articles", "--db", str(db), "-f", "csv"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert query.returncode == 0, query.stderr
        assert query.stdout.splitlines() == ["n", "0"]
    finally:
        run.kill()
        run.communicate()


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_signal_stops_a_run_cleanly_and_keeps_what_it_extracted(
    tmp_path: Path, serve, signum: int, to_group: bool
) -> None:
    """Ctrl-C in a terminal reaches the whole foreground group (extraction workers too);
    `docker stop` sends SIGTERM to the main process alone. That the articles extracted before
    the signal are written is shown in process (test_ingest), where the moment is known."""
    site = outlet()
    serve(site)
    run, db = start(tmp_path, site)
    until(lambda: HANGING in site.requests, "the run never asked for the hanging page")
    until(lambda: len(in_session(run.pid)) >= 3, "no extraction workers started")
    if to_group:
        os.killpg(run.pid, signum)
    else:
        run.send_signal(signum)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signum, err
    assert "Traceback" not in out + err, err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(
        f"newsmon: error: stopped ({signal.Signals(signum).name}); the articles extracted"
    ), err
    stored = Store(db).query("SELECT url FROM articles").rows  # the store is whole
    assert {url for (url,) in stored} <= {f"{site.url}{p}" for p in PATHS}
    until(lambda: not in_session(run.pid), f"left behind: {in_session(run.pid)}", seconds=60)


def test_kill_9_of_a_run_leaves_nothing_running(tmp_path: Path, serve) -> None:
    site = outlet()
    serve(site)
    run, _ = start(tmp_path, site)
    until(lambda: HANGING in site.requests, "the run never asked for the hanging page")
    until(lambda: len(in_session(run.pid)) >= 3, "no extraction workers started")
    run.kill()
    run.communicate()
    until(lambda: not in_session(run.pid), f"left behind: {in_session(run.pid)}", seconds=60)


def test_kill_9_of_serve_takes_its_prefect_server_along(tmp_path: Path, serve) -> None:
    site = outlet()
    serve(site)
    config = write_config(tmp_path / "c.toml", outlet_toml("procs", site, feeds=["/rss"]))
    port = free_port_block(1, first=21300)
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "home"), NO_COLOR="1")
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [*NEWSMON, "serve", "--config", str(config), "--db", str(tmp_path / "d" / "s.duckdb"),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        until(lambda: HANGING in site.requests, "serve never started its first pass")
        assert listening(port)
    finally:
        process.kill()
        process.communicate()
    until(lambda: not listening(port), "the Prefect server outlived serve", seconds=60)
    until(lambda: not in_session(process.pid), f"left: {in_session(process.pid)}", seconds=60)
