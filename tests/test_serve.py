"""Unattended operation as a user runs it: `newsmon serve` with its own Prefect server on a
short interval, queries while it works, a second serve refused, Ctrl-C; and two ingest
processes writing one data directory at once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import GrowingOutlet

pytestmark = pytest.mark.slow
NEWSMON = [sys.executable, "-m", "flows.cli"]


def env_without_server(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", PREFECT_HOME=str(tmp_path / "home"))
    env.pop("PREFECT_API_URL", None)
    env.pop("NEWSMON_DB", None)
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "5"
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "2"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def sql(db: Path, query: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*NEWSMON, "sql", query, "--db", str(db), "--format", "csv"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_serve_runs_unattended_on_schedule_and_stops_cleanly(tmp_path: Path, serve) -> None:
    outlets = [GrowingOutlet(f"https://serve{n}.example") for n in range(2)]
    for outlet in outlets:
        outlet.publish()
    serve(*(o.site for o in outlets))
    schedule = (
        "[schedule]\ninterval_minutes = 0.1\nmin_interval_minutes = 0.1\n"
        'max_interval_minutes = 0.1\nhealth_report = ""\n'
    )
    config = write_config(
        tmp_path / "c.toml",
        schedule
        + config_text(
            *(outlet_toml(f"serve{n}", o.site, feeds=["/rss"]) for n, o in enumerate(outlets))
        ),
    )
    data = tmp_path / "data"
    db = data / "serve.duckdb"
    env = env_without_server(tmp_path)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*NEWSMON, "serve", "--config", str(config), "--db", str(db), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    try:
        queries: list[subprocess.CompletedProcess] = []
        second = None
        runs = 0
        deadline = time.monotonic() + 240
        while runs < 3 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(2)
            if not db.exists():
                continue
            result = sql(db, "SELECT count(DISTINCT run_id) FROM runs", env)
            queries.append(result)
            if result.returncode == 0:
                runs = int(result.stdout.split()[-1])
            for outlet in outlets:
                outlet.publish(1)  # something new for the next pass
            if second is None:
                second = subprocess.run(
                    [*NEWSMON, "serve", "--config", str(config), "--db", str(db),
                     "--port", str(free_port())],
                    capture_output=True, text=True, timeout=60, env=env,
                )  # fmt: skip
        output = (tmp_path / "serve.log").read_text()
        assert runs >= 3, output[-3000:]
        assert queries and all(q.returncode == 0 for q in queries), [q.stderr for q in queries]
        assert second is not None and second.returncode == 2
        assert "already running" in second.stderr and "Traceback" not in second.stderr
        assert listening(port)  # the local Prefect server, with the UI
        artifacts = httpx.post(
            f"http://127.0.0.1:{port}/api/artifacts/filter",
            json={"artifacts": {"key": {"any_": ["ingest-summary"]}}}, timeout=10,
        ).json()  # fmt: skip
        assert len(artifacts) >= 2  # a per-outlet table on every scheduled run
        rows = artifacts[0]["data"]
        rows = json.loads(rows) if isinstance(rows, str) else rows
        assert {row["outlet"] for row in rows} == {"serve0", "serve1"}
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=90)
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
    output = (tmp_path / "serve.log").read_text()
    assert server.returncode in (0, 130), output[-3000:]
    assert "Traceback" not in output
    assert not listening(port)  # the local server went with it
    stored = Store(db).query("SELECT outlet_id, count(*) FROM articles GROUP BY 1 ORDER BY 1")
    assert [r[0] for r in stored.rows] == ["serve0", "serve1"]
    assert all(r[1] >= 4 for r in stored.rows)  # the first 3 and later ones
    polls = Store(db).poll_states()
    assert set(polls) == {"serve0", "serve1"}
    assert all(p.interval_s == pytest.approx(6) for p in polls.values())


def test_two_ingest_processes_on_one_store_lose_and_duplicate_nothing(
    tmp_path: Path, serve, prefect_api: str
) -> None:
    # Slow responses, so both processes are fetching the same pages at the same time.
    outlets = [GrowingOutlet(f"https://para{n}.example", delay_s=0.5) for n in range(3)]
    for outlet in outlets:
        outlet.publish(8)
    serve(*(o.site for o in outlets))
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            *(outlet_toml(f"para{n}", o.site, feeds=["/rss"]) for n, o in enumerate(outlets))
        ),
    )
    db = tmp_path / "shared" / "p.duckdb"
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    command = [*NEWSMON, "run", "--config", str(config), "--db", str(db)]
    workers = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        assert "Traceback" not in err
    store = Store(db)
    store.merge_spool()  # batches a busy file sent to the spool (if any) come in now
    counts = store.query(
        """SELECT count(*), count(DISTINCT id), count(DISTINCT url),
                  (SELECT count(*) FROM article_urls), (SELECT count(DISTINCT url_key) FROM article_urls)
           FROM articles"""
    ).rows[0]
    assert counts[0] == 24  # 3 outlets × 8 articles, each stored once
    assert counts[0] == counts[1] == counts[2]
    assert counts[3] == counts[4]
    assert list(store.spool.pending()) == []
    stories = store.query("SELECT count(DISTINCT story_id) FROM articles").rows[0][0]
    assert stories == 24  # distinct texts: no false merges, none left without a story
    runs = store.query("SELECT outlet_id, sum(fetched) FROM runs GROUP BY 1").rows
    assert all(fetched == 16 for _, fetched in runs)  # both really fetched everything
