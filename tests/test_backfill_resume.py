"""An interrupted backfill (SIGINT) resumes where it stopped and stores each article once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.history_site import HistoricOutlet
from tests.support.processes import WAIT_S, ctrl_c_reaches_it
from tests.support.server import Response

pytestmark = pytest.mark.slow


def stored(db: Path) -> int:
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return -1  # held by the writer for a moment
    try:
        return con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    except duckdb.Error:
        return 0  # not created yet
    finally:
        con.close()


def hold_articles_after(outlet: HistoricOutlet, served: int) -> threading.Event:
    """Articles past the first `served` wait for the event: the interrupted run cannot have
    stored them all before the signal, however fast or slow the machine is."""
    released, lock, count = threading.Event(), threading.Lock(), [0]
    respond = outlet.site.respond

    def held(path: str) -> Response:
        if path.startswith("/20"):
            with lock:
                count[0] += 1
                late = count[0] > served
            if late:
                released.wait(timeout=WAIT_S)
        return respond(path)

    outlet.site.respond = held  # type: ignore[method-assign]
    return released


def test_sigint_then_rerun_resumes_and_stores_each_article_once(tmp_path: Path, serve) -> None:  # noqa: ANN001
    outlet = HistoricOutlet(per_month=3)
    released = hold_articles_after(outlet, 4)
    serve(outlet.site)
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            outlet_toml("history", outlet.site, article_pattern="^/20",
                        sitemaps=[f"{outlet.site.url}/sitemap_index.xml"]),
            settings="[backfill]\nmin_delay_s = 0\nbatch = 2\n",
        ),
    )  # fmt: skip
    db = tmp_path / "b.duckdb"
    command = [sys.executable, "-m", "flows.cli", "backfill", "history", "--since", "2024-01-01",
               "--until", "2024-06-30", "-c", str(config), "--db", str(db)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_reaches_it,
    )  # fmt: skip
    while stored(db) < 2 and first.poll() is None:
        time.sleep(0.2)
    assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
    first.send_signal(signal.SIGINT)
    _, err = first.communicate()
    released.set()
    assert first.returncode == 130, err.decode()
    assert "run the same command again to resume" in err.decode()
    partial = stored(db)
    assert 2 <= partial <= 4

    second = subprocess.run(command, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "(resumed)" in second.stdout
    con = duckdb.connect(str(db), read_only=True)
    urls = [r[0] for r in con.execute("SELECT url FROM articles").fetchall()]
    con.close()
    wanted = set().union(*(outlet.in_month(2024, m) for m in range(1, 7)))
    assert len(urls) == len(set(urls)) == 18
    assert {u.split("/", 3)[3] for u in urls} == {p.lstrip("/") for p in wanted}
