"""How soon a one-shot command starts working: `newsmon run` and `newsmon demo` as a user
launches them, timed from launch.

    python -m benchmarks.startup_bench [--runs 5]

`newsmon run` polls one loopback outlet (an RSS feed of three recorded articles) served by this
process, which notes when the first request arrives: "first request" is that moment, measured
from just before the command is launched. "wall" is until the command exits, "CPU" the user and
system time of the command and the children it waited for. `newsmon demo` serves its own sites,
so only its wall and CPU time are taken. Every trial gets a fresh database; Prefect's home is
shared by the trials (as a user's ~/.prefect is) after one untimed warm-up run of each command.
PREFECT_API_URL is unset; the table says whether a Prefect server answered on 127.0.0.1:4200,
which newsmon uses when there is one.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.server import free_port_block

ROOT = Path(__file__).resolve().parents[1]
DEMO_SITE = ROOT / "flows" / "demo" / "site" / "eurasianet" / "articles"


class Outlet:
    """One loopback outlet that remembers when its first request arrived."""

    def __init__(self) -> None:
        self.first_request: float | None = None
        self.routes: dict[str, tuple[bytes, str]] = {}
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                if outlet.first_request is None:
                    outlet.first_request = time.monotonic()
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


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall and CPU seconds of one command, its exit code and the tail of its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode, done.stderr[-2000:]


def server_on_4200() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 4200)) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
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
        for name, make in (("run", run), ("demo", demo)):
            wall, _, code, err = timed(make("warm-up"), env)
            if code != 0:
                raise SystemExit(f"newsmon {name} failed ({code}):\n{err}")
            for trial in range(args.runs):
                outlet.first_request = None
                start = time.monotonic()
                wall, cpu, code, err = timed(make(str(trial)), env)
                if code != 0:
                    raise SystemExit(f"newsmon {name} failed ({code}):\n{err}")
                first = (outlet.first_request - start) if outlet.first_request else float("nan")
                rows[name].append((first, wall, cpu))
        print(
            f"{args.runs} trials each; load average {os.getloadavg()[0]:.1f}; "
            f"Prefect server on 127.0.0.1:4200: {'yes' if server_on_4200() else 'no'}"
        )
        print(f"{'command':<14}{'first request s':>17}{'wall s':>10}{'CPU s':>10}   (medians)")
        for name, trials in rows.items():
            first, wall, cpu = (statistics.median(column) for column in zip(*trials, strict=True))
            shown = "—" if name == "demo" else f"{first:.2f}"
            print(f"newsmon {name:<6}{shown:>17}{wall:>10.2f}{cpu:>10.2f}")
            print("  each: " + ", ".join(f"{t[0]:.2f}/{t[1]:.2f}" for t in trials))


if __name__ == "__main__":
    main()
