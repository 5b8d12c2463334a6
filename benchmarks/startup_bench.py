"""How soon a one-shot command starts working: `newsmon run` and `newsmon demo` as a user
launches them, timed from launch.

    python -m benchmarks.startup_bench [--runs 5]

`newsmon run` polls one loopback outlet (an RSS feed of three recorded articles) served by this
process, which notes when the first request arrives: "first request" is that moment, measured
from just before the command is launched. "wall" is until the command exits, "CPU" the user and
system time of the command and the children it waited for. `newsmon demo` serves its own sites,
so only its wall and CPU time are taken. "its CPU" is the CPU time the command's own process
had used when the first request arrived: on a busy machine the wall time to the first request
stretches with the load, that CPU time hardly does (on a quiet one they come close).

Every trial gets a fresh database; Prefect's home is shared by the trials (as a user's
~/.prefect is) after one untimed warm-up run of each command. PREFECT_API_URL is unset, so
the runs go without Prefect. `--prefect-server` also times `newsmon run` recorded on a Prefect
server that is already running ("run+srv": started here, on a free port, before the trials,
and given as PREFECT_API_URL).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.support.server import free_port_block

ROOT = Path(__file__).resolve().parents[1]
DEMO_SITE = ROOT / "flows" / "demo" / "site" / "eurasianet" / "articles"


class Outlet:
    """One loopback outlet that remembers when its first request arrived."""

    def __init__(self) -> None:
        self.first_request: float | None = None
        self.pid: int | None = None  # the command's; its CPU time is read at the first request
        self.cpu_at_first: float | None = None
        self.routes: dict[str, tuple[bytes, str]] = {}
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                if outlet.first_request is None:
                    outlet.first_request = time.monotonic()
                    outlet.cpu_at_first = cpu_seconds(outlet.pid)
                body, content_type = outlet.routes.get(self.path, (b"not found", "text/plain"))
                self.send_response(200 if self.path in outlet.routes else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        pages = sorted(DEMO_SITE.glob("*.html"))[:3]
        now = datetime(2025, 7, 8, 12, 0, tzinfo=UTC)
        items = ""
        for i, page in enumerate(pages):
            path = f"/news/{page.stem}"
            self.routes[path] = (page.read_bytes(), "text/html; charset=utf-8")
            items += (
                f"<item><title>{page.stem}</title><link>{self.origin}{path}</link>"
                f"<pubDate>{format_datetime(now - timedelta(hours=i))}</pubDate></item>"
            )
        self.routes["/rss"] = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>".encode(),
            "application/rss+xml",
        )
        self.routes["/robots.txt"] = (b"User-agent: *\nAllow: /\n", "text/plain")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def config(self) -> str:
        return (
            "[settings]\nworkers = 2\n\n[[outlet]]\nid = 'bench'\nname = 'Bench'\n"
            f"homepage = '{self.origin}/'\nlanguage = 'en'\nfeeds = ['/rss']\nmin_delay_s = 0\n"
        )


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time a live process has used so far (from /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict[str, str], outlet: Outlet) -> tuple[float, float, int, str]:
    """Wall and CPU seconds of one command, its exit code and the tail of its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    outlet.pid = process.pid
    _, err = process.communicate(timeout=600)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, process.returncode, err[-2000:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--prefect-server", action="store_true", help="also time runs recorded on a server"
    )
    args = parser.parse_args()
    newsmon = [sys.executable, "-m", "flows.cli"]
    with tempfile.TemporaryDirectory(prefix="newsmon-startup-") as tmp:
        home = Path(tmp)
        env = dict(os.environ, PREFECT_HOME=str(home / "prefect"), COLUMNS="120", NO_COLOR="1")
        for name in ("PREFECT_API_URL", "NEWSMON_DB"):
            env.pop(name, None)
        outlet = Outlet()
        config = home / "bench.toml"
        config.write_text(outlet.config(), encoding="utf-8")
        port = free_port_block(3, first=19700)

        def run(trial: str) -> list[str]:
            return [*newsmon, "run", "--config", str(config), "--db", str(home / f"{trial}.duckdb")]

        def demo(trial: str) -> list[str]:
            db = str(home / f"demo-{trial}.duckdb")
            return [*newsmon, "demo", "--db", db, "--port", str(port)]

        rows: dict[str, list[tuple[float, ...]]] = {"run": [], "demo": []}
        commands = [("run", run, env), ("demo", demo, env)]
        server = None
        if args.prefect_server:
            server, api = prefect_server(home / "server", env)
            rows["run+srv"] = []
            commands.append(("run+srv", run, dict(env, PREFECT_API_URL=api)))
        try:
            time_commands(commands, rows, outlet, args.runs)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=60)
        report(rows, args.runs)


def time_commands(
    commands: list[tuple[str, Callable[[str], list[str]], dict[str, str]]],
    rows: dict[str, list[tuple[float, ...]]],
    outlet: Outlet,
    runs: int,
) -> None:
    for name, make, env in commands:
        _, _, code, err = timed(make(f"{name}-warm-up"), env, outlet)
        if code != 0:
            raise SystemExit(f"newsmon {name} failed ({code}):\n{err}")
        for trial in range(runs):
            outlet.first_request = outlet.cpu_at_first = None
            start = time.monotonic()
            wall, cpu, code, err = timed(make(f"{name}-{trial}"), env, outlet)
            if code != 0:
                raise SystemExit(f"newsmon {name} failed ({code}):\n{err}")
            first = (outlet.first_request - start) if outlet.first_request else float("nan")
            rows[name].append((first, outlet.cpu_at_first or float("nan"), wall, cpu))


def prefect_server(home: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`prefect server start` on a free port with its own home; returns it and its API URL."""
    port = free_port_block(1, first=20800)
    home.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=dict(env, PREFECT_HOME=str(home)), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return server, api
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the Prefect server did not start within 300 s")


def report(rows: dict[str, list[tuple[float, ...]]], runs: int) -> None:
    print(f"{runs} trials each; load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'command':<16}{'first request s':>16}{'its CPU s':>11}{'wall s':>9}{'CPU s':>8}"
        "   (medians)"
    )
    for name, trials in rows.items():
        first, first_cpu, wall, cpu = (
            statistics.median(column) for column in zip(*trials, strict=True)
        )
        label = f"newsmon {name}"
        if name == "demo":
            print(f"{label:<16}{'—':>16}{'—':>11}{wall:>9.2f}{cpu:>8.2f}")
            print("  each wall: " + ", ".join(f"{t[2]:.2f}" for t in trials))
        else:
            print(f"{label:<16}{first:>16.2f}{first_cpu:>11.2f}{wall:>9.2f}{cpu:>8.2f}")
            print("  each first/wall: " + ", ".join(f"{t[0]:.2f}/{t[2]:.2f}" for t in trials))


if __name__ == "__main__":
    main()
