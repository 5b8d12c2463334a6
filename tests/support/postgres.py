"""A throwaway PostgreSQL server for tests and benchmarks: Debian's `postgresql` binaries
(`.ci/run` installs them), a cluster in a temporary directory, reached over a unix socket in
that directory only (no TCP port, so nothing collides with another test run or a real server).

PostgreSQL refuses to run as root; under root (CI, containers) the server runs as the
`postgres` system user that Debian's package creates. The server is started directly, not
through pg_ctl, so that it can be told to quit when the process that started it dies
(a killed test session leaves no server behind).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "newsmon"
_SETTINGS = {
    # A test cluster that is thrown away: durability only costs time.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "listen_addresses": "",
    "max_connections": "200",
}


class PostgresUnavailable(Exception):
    """Why no server could be started here, in one line."""


def bin_dir() -> Path | None:
    """Where initdb and postgres are: on PATH, else the newest Debian cluster version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


@dataclass
class TempPostgres:
    """`with TempPostgres() as pg:` ... `pg.dsn("dbname")` is a libpq connection string."""

    root: Path | None = None
    process: subprocess.Popen | None = None
    startup_s: float = 0.0  # initdb plus start, as measured

    def __enter__(self) -> TempPostgres:
        binaries = bin_dir()
        if binaries is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
            )
        run_as = _server_user()
        began = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="newsmon-pg-"))
        try:
            if run_as is not None:
                os.chown(self.root, run_as.pw_uid, run_as.pw_gid)
            data = self.root / "data"
            subprocess.run(
                [str(binaries / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                 "-E", "UTF8", "--no-sync", "--no-instructions"],
                check=True, capture_output=True, user=run_as.pw_uid if run_as else None,
                group=run_as.pw_gid if run_as else None, cwd=self.root,
            )  # fmt: skip
            options = [f"-c{k}={v}" for k, v in _SETTINGS.items()]
            log = (self.root / "server.log").open("ab")
            self.process = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(data), "-k", str(self.root), *options],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                user=run_as.pw_uid if run_as else None,
                group=run_as.pw_gid if run_as else None,
                preexec_fn=_quit_with_parent, cwd=self.root, start_new_session=True,
            )  # fmt: skip
            log.close()
            self._wait_ready(binaries)
        except (OSError, subprocess.CalledProcessError, PostgresUnavailable) as exc:
            self.__exit__(None, None, None)
            detail = getattr(exc, "stderr", b"") or b""
            raise PostgresUnavailable(
                f"cannot start PostgreSQL: {exc} {detail.decode(errors='replace')[-300:]}".strip()
            ) from None
        self.startup_s = time.monotonic() - began
        return self

    def _wait_ready(self, binaries: Path, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None and self.root is not None
            if self.process.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")[-300:]
                raise PostgresUnavailable(f"the server exited: {log}")
            ready = subprocess.run(
                [str(binaries / "pg_isready"), "-q", "-h", str(self.root), "-U", USER],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise PostgresUnavailable(f"the server was not ready after {timeout_s:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def host(self) -> str:
        assert self.root is not None
        return str(self.root)

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.host} user={USER} dbname={dbname}"

    def url(self, dbname: str, driver: str = "asyncpg") -> str:
        """The same database as a SQLAlchemy URL (the socket directory as its host)."""
        return f"postgresql+{driver}://{USER}@/{dbname}?host={self.host}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its connection string."""
        binaries = bin_dir()
        assert binaries is not None
        psql = Path(shutil.which("psql") or binaries / "psql")
        subprocess.run(
            [str(psql), "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-U", USER,
             "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"',
             "-c", f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True,
        )  # fmt: skip
        return self.dsn(name)


def _server_user() -> pwd.struct_passwd | None:
    """None when this process may run the server itself; else the user to run it as."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root and there is no 'postgres' user to run the server as"
        ) from None


def _quit_with_parent() -> None:
    # Runs in the child after it switched users (which would clear the setting otherwise).
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGQUIT)  # PR_SET_PDEATHSIG
