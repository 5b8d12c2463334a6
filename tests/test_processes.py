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
from tests.support.processes import WAIT_S, ctrl_c_reaches_it, in_session, listening
from tests.support.server import Response, Site, free_port_block

pytestmark = pytest.mark.slow
NEWSMON = [sys.executable, "-m", "flows.cli"]
PATHS = [f"/news/story-number-{i}" for i in range(3)]
HANGING = "/news/a-page-that-never-comes"
# Longer than any test waits: the run must not get past the hanging page on its own (under a
# heavy load the extraction workers took more than the default 60 s page deadline to start).
HANG_S = 3600


def until(what: Callable[[], bool], why: str) -> None:
    """Wait for `what`, however long a busy machine takes; a thing that never happens is a hang,
    which the test's timeout (conftest) fails with `why` among the locals it prints."""
    while not what():
        time.sleep(0.2)


def outlet(feed_delay_s: float = 0.0) -> Site:
    """Three good articles and one that hangs; the feed itself may be slow to answer."""
    site = Site("https://procs.example")
    for i, path in enumerate(PATHS):
        site.routes[path] = Response(demo_page("eurasianet", i))
    site.routes[HANGING] = Response(demo_page("aze-media", 0), delay_s=HANG_S)
    site.routes["/rss"] = Response(
        rss(site.real_origin, [*PATHS, HANGING]), "application/rss+xml", delay_s=feed_delay_s
    )
    return site


def start(
    tmp_path: Path, site: Site, *args: str, prefect: str = "off"
) -> tuple[subprocess.Popen, Path]:
    """`newsmon run` in a session of its own. `prefect="auto"` is a user's default: Prefect
    only where a server is configured, and none is (a fresh PREFECT_HOME, no API URL)."""
    config = write_config(
        tmp_path / "c.toml",
        f"[settings]\nretries = 0\nread_timeout_s = {HANG_S}\npage_deadline_s = {HANG_S}\n"
        "workers = 2\n" + outlet_toml("procs", site, feeds=["/rss"]),
    )
    db = tmp_path / "p.duckdb"
    env = dict(os.environ, NEWSMON_PREFECT=prefect, COLUMNS="200", NO_COLOR="1")
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env.pop("PREFECT_API_URL", None)
    # Files, not pipes: a pipe ends when the last process holding it does, and a fork server
    # stopped amid its imports finishes them after the run is gone (then exits on its own).
    with open(tmp_path / "run.out", "w") as out, open(tmp_path / "run.err", "w") as err:
        process = subprocess.Popen(
            [*NEWSMON, "run", "--config", str(config), "--db", str(db), *args],
            stdout=out, stderr=err, text=True, env=env, start_new_session=True,
            preexec_fn=ctrl_c_reaches_it,
        )  # fmt: skip
    return process, db


def ended(run: subprocess.Popen, tmp_path: Path) -> tuple[str, str]:
    """What the run printed, once it has exited."""
    run.wait(timeout=WAIT_S)
    return (tmp_path / "run.out").read_text(), (tmp_path / "run.err").read_text()


def test_the_store_answers_before_the_first_page_arrives(tmp_path: Path, serve) -> None:
    site = outlet(feed_delay_s=HANG_S)
    serve(site)
    run, db = start(tmp_path, site)
    try:
        until(lambda: "/rss" in site.requests, "the run never asked for its feed")
        # The run now waits for its feed: nothing has been fetched, let alone written.
        query = subprocess.run(
            [*NEWSMON, "sql", "SELECT count(*) AS n FROM articles", "--db", str(db), "-f", "csv"],
            capture_output=True, text=True, timeout=WAIT_S,
        )  # fmt: skip
        assert query.returncode == 0, query.stderr
        assert query.stdout.splitlines() == ["n", "0"]
    finally:
        run.kill()
        run.wait()


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
    out, err = ended(run, tmp_path)
    assert run.returncode == 128 + signum, err
    assert "Traceback" not in out + err, err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(
        f"newsmon: error: stopped ({signal.Signals(signum).name}); the articles extracted"
    ), err
    stored = Store(db).query("SELECT url FROM articles").rows  # the store is whole
    assert {url for (url,) in stored} <= {f"{site.url}{p}" for p in PATHS}
    until(lambda: not in_session(run.pid), f"left behind: {in_session(run.pid)}")


def test_kill_9_of_a_run_leaves_nothing_running(tmp_path: Path, serve) -> None:
    """As a user runs it (the issue's case: Prefect's temporary server outlived the run)."""
    site = outlet()
    serve(site)
    run, _ = start(tmp_path, site, prefect="auto")
    until(lambda: HANGING in site.requests, "the run never asked for the hanging page")
    until(lambda: len(in_session(run.pid)) >= 3, "no extraction workers started")
    run.kill()
    run.wait()
    until(lambda: not in_session(run.pid), f"left behind: {in_session(run.pid)}")


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
    until(lambda: not listening(port), "the Prefect server outlived serve")
    until(lambda: not in_session(process.pid), f"left: {in_session(process.pid)}")


def test_closing_the_pool_while_the_fork_server_imports_does_not_wait_for_it(
    tmp_path: Path,
) -> None:
    """Ctrl-C early in a run closes the extraction pool while the fork server still imports
    trafilatura (seconds; over a minute on a loaded machine). Closing waited for those imports:
    the first worker's submit held the pool's lock until the server answered. Ordering
    evidence: the probe holds the imports until close() returns, or 20 s at most."""
    probe = subprocess.run(
        [sys.executable, "-m", "tests.support.close_probe", str(tmp_path)],
        capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip().splitlines()[-1] == '{"closed_before_the_imports_ended": true}'
