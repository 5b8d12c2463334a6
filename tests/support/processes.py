"""Other processes a test needs beside it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# How long a test waits for a process, a thread or an answer before it calls it hung: a guard
# against a hang, never a bound on speed (a pass that takes seconds on a quiet machine takes
# minutes beside other work). Below conftest's guard for a whole slow test, so that the test's
# own message, with the logs it gathers, says what hung.
WAIT_S = 600


def wait_until(what: Callable[[], bool], why: Callable[[], str]) -> None:
    """Until `what` holds; past WAIT_S it is a hang, failed with `why()` (the logs by then)."""
    deadline = time.monotonic() + WAIT_S
    while not what():
        assert time.monotonic() < deadline, why()
        time.sleep(0.1)


@contextmanager
def held_by_other_process(db: Path, seconds: float = 60) -> Iterator[subprocess.Popen]:
    """Another process (like an analyst's duckdb CLI) opens the file read-write and sits on it."""
    code = textwrap.dedent(
        f"""
        import duckdb, sys, time
        con = duckdb.connect({str(db)!r})
        print("locked", flush=True)
        time.sleep({seconds})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def ctrl_c_reaches_it() -> None:
    """A preexec_fn: SIGINT at its default in the child. Tests started in the background (`make
    test &`, some CI steps) run with SIGINT ignored; a child inherits that, Python then installs
    no Ctrl-C handler, and the SIGINT a test sends does nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def listening(port: int) -> bool:
    """Something accepts connections on this loopback port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _live() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every live process; zombies are gone already."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if fields[0] != b"Z":
            yield int(entry), int(fields[1]), int(fields[3])


def in_session(sid: int) -> list[str]:
    """The command lines of the live processes of session `sid` (a process started with
    start_new_session leads one; its children stay in it unless they leave on purpose, and
    keep it when they are orphaned)."""
    found = []
    for pid, _, session in _live():
        if session == sid:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    found.append(f.read().replace(b"\0", b" ").decode(errors="replace").strip())
            except OSError:
                continue
    return found


def descendants(pid: int) -> list[int]:
    """The live processes below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for child, parent, _ in _live():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found
