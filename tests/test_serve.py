"""`newsmon serve`: its schedule with an injectable clock (a run only when an outlet is due,
the daily report), then as a user runs it: its own Prefect server, queries while it works, a
second serve refused, idle ticks that leave no flow run, Ctrl-C; and two ingest processes
writing one data directory at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from extractors.records import Batch, Outlet, PollState
from flows.config import load
from flows.serve import next_report_at, serve_loop
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import GrowingOutlet
from tests.support.processes import WAIT_S, ctrl_c_reaches_it, listening, wait_until
from tests.support.server import Response, free_port_block

NEWSMON = [sys.executable, "-m", "flows.cli"]
T0 = datetime(2026, 12, 1, 7, 58, tzinfo=UTC)


class FakeClock:
    """Time moves only when the loop sleeps; the loop stops after `ticks` sleeps."""

    def __init__(self, start: datetime, ticks: int) -> None:
        self.at, self.ticks = start, ticks

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.ticks -= 1
        if self.ticks == 0:
            raise asyncio.CancelledError
        self.at += timedelta(seconds=seconds)


def scheduled(tmp_path: Path, report: str = "08:00"):  # noqa: ANN201
    config = write_config(
        tmp_path / "c.toml",
        f'[schedule]\ninterval_minutes = 5\nmin_interval_minutes = 1\nhealth_report = "{report}"\n'
        + config_text(
            outlet_toml("a", "https://a.example/"), outlet_toml("b", "https://b.example/")
        ),
    )
    return load(config)


def polled(store: Store, when: datetime, **next_due: datetime) -> None:
    store.write(
        Batch(
            "r",
            outlets=[Outlet(o, o.upper(), f"https://{o}.example/", "en") for o in next_due],
            polls=[PollState(o, 300.0, at, last_polled_at=when) for o, at in next_due.items()],
        )
    )


def test_a_tick_runs_only_when_an_outlet_is_due_and_reports_once_a_day(tmp_path: Path) -> None:
    config = scheduled(tmp_path)
    db = tmp_path / "s.duckdb"
    store = Store(db)
    clock = FakeClock(T0, ticks=12)  # 07:58, then a tick a minute until 08:09
    events: list[tuple[str, datetime]] = []
    lines: list[str] = []

    async def run() -> None:
        events.append(("run", clock.now()))
        # As a pass leaves it: a due again in 5 minutes, b in 30.
        polled(store, clock.now(), a=clock.now() + timedelta(minutes=5),
               b=clock.now() + timedelta(minutes=30))  # fmt: skip

    async def report() -> None:
        events.append(("report", clock.now()))

    loop = serve_loop(config, db, None, 60.0, run, report, lines.append, clock)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(loop)
    minute = [(kind, f"{at:%H:%M}") for kind, at in events]
    # Never polled: both due at once. Then a alone every 5 minutes; the report at 08:00 only.
    assert minute == [("run", "07:58"), ("report", "08:00"), ("run", "08:03"), ("run", "08:08")]
    idle = [line for line in lines if "nothing due" in line]
    assert len(idle) == 12 - 3  # every other tick said so, and made no run
    assert idle[0] == "07:59 nothing due; next: a at 08:03 UTC"


def test_an_unreadable_polling_state_skips_the_tick_instead_of_polling_everyone(
    tmp_path: Path,
) -> None:
    config = scheduled(tmp_path, report="")
    db = tmp_path / "s.duckdb"
    db.mkdir()  # not a database: the polling state cannot be read
    runs: list[datetime] = []
    lines: list[str] = []

    async def run() -> None:
        runs.append(T0)

    async def report() -> None:
        raise AssertionError("no report is configured")

    clock = FakeClock(T0, ticks=3)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(serve_loop(config, db, None, 60.0, run, report, lines.append, clock))
    assert runs == []
    assert len(lines) == 3 and all("cannot read the polling state" in line for line in lines)


@pytest.mark.parametrize(
    ("hhmm", "now", "expected"),
    [
        (
            "08:00",
            datetime(2026, 12, 1, 7, 59, tzinfo=UTC),
            datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        ),
        ("08:00", datetime(2026, 12, 1, 8, 0, tzinfo=UTC), datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        (
            "00:30",
            datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
            datetime(2027, 1, 1, 0, 30, tzinfo=UTC),
        ),
        ("", datetime(2026, 12, 1, 7, 0, tzinfo=UTC), None),
    ],
)
def test_next_report_time(hhmm: str, now: datetime, expected: datetime | None) -> None:
    assert next_report_at(hhmm or None, now) == expected


def env_without_server(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", PREFECT_HOME=str(tmp_path / "home"))
    env.pop("PREFECT_API_URL", None)
    env.pop("NEWSMON_DB", None)
    return env


def sql(db: Path, query: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*NEWSMON, "sql", query, "--db", str(db), "--format", "csv"],
        capture_output=True, text=True, timeout=WAIT_S, env=env,
    )  # fmt: skip


def serving(process: subprocess.Popen, log: Path) -> bool:
    """Serve is still running; one that ended fails the test with its log."""
    assert process.poll() is None, log.read_text()[-3000:]
    return True


@pytest.mark.slow
def test_serve_runs_unattended_and_idle_ticks_leave_no_flow_run(tmp_path: Path, serve) -> None:
    outlets = [GrowingOutlet(f"https://serve{n}.example") for n in range(2)]
    for outlet in outlets:
        outlet.publish()
    serve(*(o.site for o in outlets))
    config = write_config(
        tmp_path / "c.toml",
        '[schedule]\ninterval_minutes = 30\nhealth_report = ""\n'
        + config_text(
            *(outlet_toml(f"serve{n}", o.site, feeds=["/rss"]) for n, o in enumerate(outlets))
        ),
    )
    db = tmp_path / "data" / "serve.duckdb"
    env = env_without_server(tmp_path)
    port = free_port_block(1, first=21000)
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*NEWSMON, "serve", "--config", str(config), "--db", str(db), "--port", str(port),
             "--tick-seconds", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env, text=True,
            preexec_fn=ctrl_c_reaches_it,  # it is stopped by SIGINT below
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        # The first tick polls both outlets; later ones find nothing due for 30 minutes.
        wait_until(
            lambda: serving(server, log_path) and log_path.read_text().count("nothing due") >= 3,
            lambda: log_path.read_text()[-3000:],
        )
        query = sql(db, "SELECT outlet_id, count(*) FROM articles GROUP BY 1 ORDER BY 1", env)
        assert query.returncode == 0, query.stderr
        assert query.stdout.splitlines() == ["outlet_id,count_star()", "serve0,3", "serve1,3"]
        second = subprocess.run(
            [*NEWSMON, "serve", "--config", str(config), "--db", str(db),
             "--port", str(free_port_block(1, first=21100))],
            capture_output=True, text=True, timeout=WAIT_S, env=env,
        )  # fmt: skip
        assert second.returncode == 2
        assert "already running" in second.stderr and "Traceback" not in second.stderr

        flow_runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=WAIT_S).json()
        assert [r["state_type"] for r in flow_runs] == ["COMPLETED"]  # the pass, no idle tick
        task_runs = httpx.post(f"{api}/task_runs/filter", json={}, timeout=WAIT_S).json()
        names = {r["name"] for r in task_runs}
        assert {"ingest-serve0", "ingest-serve1"} <= names  # one task per outlet, by name
        artifacts = httpx.post(
            f"{api}/artifacts/filter",
            json={"artifacts": {"key": {"any_": ["ingest-summary"]}}}, timeout=WAIT_S,
        ).json()  # fmt: skip
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
    output = log_path.read_text()
    assert server.returncode in (0, 130), output[-3000:]
    assert "Traceback" not in output
    assert not listening(port)  # the local server went with it
    polls = Store(db).poll_states()
    assert set(polls) == {"serve0", "serve1"}


def asked_twice(response: Response) -> Callable[[], Response]:
    """A page answered only once both processes have asked for it: they fetch every page
    at the same time, however their start-ups differ. No clock: the first to ask waits for the
    second however long its start-up takes (its read timeout is raised to match)."""
    asked = threading.Condition()
    count = [0]

    def route() -> Response:
        with asked:
            count[0] += 1
            asked.notify_all()
            asked.wait_for(lambda: count[0] >= 2)
        return response

    return route


@pytest.mark.slow
def test_two_ingest_processes_on_one_store_lose_and_duplicate_nothing(
    tmp_path: Path, serve
) -> None:
    outlets = [GrowingOutlet(f"https://para{n}.example") for n in range(3)]
    for outlet in outlets:
        outlet.publish(8)
        for path, response in list(outlet.site.routes.items()):
            if path.startswith("/news/"):
                outlet.site.routes[path] = asked_twice(response)
    serve(*(o.site for o in outlets))
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            *(outlet_toml(f"para{n}", o.site, feeds=["/rss"]) for n, o in enumerate(outlets)),
            # A page waits for the other process to ask too (start-ups differ by seconds on a
            # busy machine); a read timeout while waiting would make a fetch fail or repeat.
            read_timeout_s=3600,
        ),
    )
    db = tmp_path / "shared" / "p.duckdb"
    env = env_without_server(tmp_path)
    command = [*NEWSMON, "run", "--config", str(config), "--db", str(db)]
    workers = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate()
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
