"""Many workers, one lake, as a newsroom runs it: three `newsmon worker` processes, each with
its own data directory, take a pass's outlets from a Prefect work pool and write one DuckLake
(a real PostgreSQL catalog) at the same time: the pass hands out one run per host (each
loopback site is a host of its own). The outlets overlap: one is configured twice (the same
URLs twice in one run), one syndicates another's texts under its own URLs (copies written by
two workers at once, which must join one story).
Then a worker dies by SIGKILL in the middle of a pass, and the next pass loses nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.records import LakeSettings
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import article, rss
from tests.support.processes import WAIT_S, ctrl_c_reaches_it, descendants, wait_until
from tests.support.server import Receiver, Response, Site

pytestmark = pytest.mark.slow
NEWSMON = [sys.executable, "-m", "flows.cli"]
WIRE, LOCAL = "https://wire.example", "https://local.example"


class Outlet:
    """A loopback site whose feed lists its articles; `texts_of` lends another site's texts
    (syndication)."""

    def __init__(self, origin: str, texts_of: str | None = None) -> None:
        self.site = Site(origin)
        self.seed = texts_of or origin
        self.count = 0

    def publish(self, count: int, delay_s: float = 0.0) -> list[str]:
        now = datetime.now(UTC)
        new = [f"/news/report-{i}-on-the-corridor" for i in range(self.count, self.count + count)]
        for i, path in enumerate(new, start=self.count):
            self.site.routes[path] = Response(article(i, now, self.seed), delay_s=delay_s)
        self.count += count
        paths = [f"/news/report-{i}-on-the-corridor" for i in range(self.count)]
        self.site.routes["/rss"] = Response(
            rss(self.site.real_origin, paths), "application/rss+xml"
        )
        return new


def _config(
    tmp_path: Path, outlets: dict[str, Outlet], catalog: str, hook: Receiver, timeout_min: float
) -> Path:
    rule = (
        '[[rule]]\nid = "corridor"\nmatch = "corridor"\nmin_mentions = 1\n'
        '[rule.terms.corridor]\nen = ["corridor"]\n'
    )
    lake = (
        f'[store]\nbackend = "ducklake"\ncatalog = "{catalog}"\n'
        f'data_path = "{tmp_path / "lake"}"\n'
        f'[workers]\npool = "newsmon-test"\noutlets_per_run = 1\n'
        f"pass_timeout_minutes = {timeout_min}\n"
        f'[alerts]\nchannels = ["json://127.0.0.1:{hook.port}/hook"]\nretry_base_s = 0\n'
    )
    blocks = [outlet_toml(name, o.site, feeds=["/rss"]) for name, o in outlets.items()]
    return write_config(
        tmp_path / f"newsmon-{timeout_min}.toml",
        # One extraction process per worker: three workers share two cores.
        # The local outlet's slow pages (1 s each) are far inside the read timeout.
        config_text(*blocks, read_timeout_s=30).replace("workers = 2", "workers = 1") + lake + rule,
    )


def _env(prefect_api: str) -> dict[str, str]:
    env = dict(os.environ, PREFECT_API_URL=prefect_api, NO_COLOR="1", COLUMNS="200")
    env["PREFECT_WORKER_QUERY_SECONDS"] = "1"
    env.pop("NEWSMON_DB", None)
    return env


def _pass(config: Path, tmp_path: Path, env: dict, *args: str) -> subprocess.Popen:
    log = (tmp_path / f"pass-{time.monotonic_ns()}.log").open("w")
    return subprocess.Popen(
        [*NEWSMON, "run", "--config", str(config), "--db", str(tmp_path / "coord" / "n.duckdb"),
         *args], stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip


def _worker(config: Path, tmp_path: Path, env: dict, n: int) -> subprocess.Popen:
    log = (tmp_path / f"worker{n}.log").open("w")
    return subprocess.Popen(
        [*NEWSMON, "worker", "--config", str(config), "--db",
         str(tmp_path / f"w{n}" / "n.duckdb")],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        preexec_fn=ctrl_c_reaches_it,  # the workers are stopped by SIGINT at the end
    )  # fmt: skip


def _kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started (its flow run, extraction processes):
    the machine it ran on is gone."""
    for pid in [process.pid, *descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _started(workers: list[subprocess.Popen], tmp_path: Path) -> bool:
    """Whether every worker says it has started; a worker that ended instead fails the test."""
    assert all(w.poll() is None for w in workers), _logs(tmp_path)
    return all("started!" in (tmp_path / f"worker{n}.log").read_text() for n in range(3))


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in tmp_path.glob("*.log"))


def test_three_workers_share_one_lake(tmp_path: Path, postgres, prefect_api: str, serve,
                                      receiver: Receiver) -> None:  # fmt: skip
    outlets = {
        "wire": Outlet(WIRE),
        "paper": Outlet("https://paper.example", texts_of=WIRE),  # syndicates the wire
        "local": Outlet(LOCAL),
    }
    outlets["wire-again"] = outlets["wire"]  # configured twice: the same URLs
    for name in ("wire", "paper", "local"):
        outlets[name].publish(4)
    serve(*(outlets[name].site for name in ("wire", "paper", "local")))
    catalog = "postgres:" + postgres.create_database("fleet")
    # The passes wait for their runs as long as the test waits for them; the pass whose
    # worker dies gives up soon (its own config), and the next pass is not held up by it.
    config = _config(tmp_path, outlets, catalog, receiver, timeout_min=4)
    impatient = _config(tmp_path, outlets, catalog, receiver, timeout_min=0.1)
    env = _env(prefect_api)
    workers = [_worker(config, tmp_path, env, n) for n in range(3)]
    store = Store(
        tmp_path / "check" / "n.duckdb", lake=LakeSettings(catalog, str(tmp_path / "lake"))
    )
    try:
        # The workers register with the Prefect server as they start; a pass started meanwhile
        # may find the server too busy to answer and run its outlets itself (on a loaded
        # machine the test server's database is then locked for seconds at a time).
        wait_until(lambda: _started(workers, tmp_path), lambda: _logs(tmp_path))
        first = _pass(config, tmp_path, env)
        assert first.wait(timeout=WAIT_S) == 0, _logs(tmp_path)
        # Three runs (wire and wire-again share a host), taken by more than one worker.
        took = [w for w in range(3) if "submitting flow run" in (tmp_path / f"worker{w}.log")
                .read_text()]  # fmt: skip
        assert len(took) >= 2, _logs(tmp_path)
        rows = store.query(
            "SELECT outlet_id, canonical_url, story_id, duplicate_of FROM articles"
        ).rows
        urls = [r[1] for r in rows]
        assert len(urls) == len(set(urls)) == 12, _logs(tmp_path)  # wire 4, paper 4, local 4
        by_outlet = Counter(r[0] for r in rows)
        assert by_outlet["paper"] == 4 and by_outlet["local"] == 4
        assert by_outlet["wire"] + by_outlet["wire-again"] == 4
        stories = store.query("SELECT story_id, copies, outlets FROM stories").rows
        assert len(stories) == 8  # each wire text with its paper copy, each local text alone
        assert sorted(c for _, c, _ in stories) == [1] * 4 + [2] * 4
        alerts = store.query("SELECT story_id FROM alerts").rows
        assert sorted(a for (a,) in alerts) == sorted(s for s, _, _ in stories)
        assert len(receiver.messages) == 8

        # A worker dies in the middle of a pass: the one polling the local outlet's four new,
        # slow pages, killed as soon as the first of them has been asked for.
        new = outlets["local"].publish(4, delay_s=1.0)
        doomed = _pass(impatient, tmp_path, env, "-o", "local")
        wait_until(lambda: new[0] in outlets["local"].site.requests, lambda: _logs(tmp_path))
        busy = [w for w in workers if any(descendants(w.pid))]
        assert len(busy) == 1, _logs(tmp_path)
        _kill_tree(busy[0])
        workers.remove(busy[0])
        rerun = _pass(config, tmp_path, env, "-o", "local")
        assert rerun.wait(timeout=WAIT_S) == 0, _logs(tmp_path)
        # It gave up on the dead worker's run: its one outlet counts as failed in that pass.
        assert doomed.wait(timeout=WAIT_S) == 1, _logs(tmp_path)
        local = store.query("SELECT canonical_url FROM articles WHERE outlet_id = 'local'").rows
        assert len(local) == len({u for (u,) in local}) == 8, _logs(tmp_path)
        assert store.query("SELECT count(*), count(DISTINCT story_id) FROM alerts").rows == [
            (12, 12)
        ]
        assert len(receiver.messages) == 12
    finally:
        store.close()
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _kill_tree(w)
