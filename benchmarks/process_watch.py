"""CPU seconds and peak RSS per process, read from /proc: the benchmark's descendants sampled
every 0.5 s and grouped by role (this process, extraction workers, loopback server, Prefect's
API server), and what the rest of the machine used meanwhile."""

from __future__ import annotations

import os
import resource
import threading

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def proc_stat(pid: int) -> tuple[float, float, bytes] | None:
    """CPU seconds, peak RSS in MB and command line of a process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/status", "rb") as f:
            hwm = next((int(line.split()[1]) for line in f if line.startswith(b"VmHWM")), 0)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except (OSError, IndexError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK, hwm / 1024, cmd


def machine_busy_s() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK  # minus idle and iowait


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


class ProcessWatch:
    """Samples this process's descendants every `interval` s: CPU seconds and peak RSS per
    process, grouped by role. A process that ends between two samples loses at most one
    interval of CPU."""

    def __init__(self, roles: dict[int, str] | None = None, interval: float = 0.5) -> None:
        self.roles = dict(roles or {})
        self.procs: dict[int, dict] = {}
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _role(self, pid: int, cmd: bytes) -> str:
        if pid in self.roles:
            return self.roles[pid]
        if b"uvicorn" in cmd or b"prefect" in cmd:
            return "Prefect API server"
        if b"spawn_main" in cmd or b"forkserver" in cmd:  # the pool's workers and fork server
            return "extraction workers"
        return "other"

    def sample(self) -> None:
        with self._lock:
            for pid in descendants(os.getpid()):
                info = proc_stat(pid)
                if info is None:
                    continue
                cpu, hwm, cmd = info
                seen = self.procs.setdefault(pid, {"role": self._role(pid, cmd), "hwm_mb": 0.0})
                seen["cpu_s"] = cpu
                seen["hwm_mb"] = max(seen["hwm_mb"], hwm)

    def mark(self) -> dict:
        self.sample()
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "self": own.ru_utime + own.ru_stime, "machine": machine_busy_s(),
            "pids": {pid: p["cpu_s"] for pid, p in self.procs.items()},
        }  # fmt: skip

    def since(self, mark: dict) -> dict[str, dict]:
        """CPU seconds and peak RSS by role since `mark` (peaks of processes seen since)."""
        self.sample()
        own = resource.getrusage(resource.RUSAGE_SELF)
        roles: dict[str, dict] = {
            "this process": {"cpu_s": own.ru_utime + own.ru_stime - mark["self"], "processes": 1}
        }
        for pid, p in self.procs.items():
            before = mark["pids"].get(pid)
            if before is not None and p["cpu_s"] == before:
                continue  # idle, or gone before the mark
            name = self.roles.get(pid, p["role"])  # roles given after the first sample win
            role = roles.setdefault(name, {"cpu_s": 0.0, "processes": 0, "peak_rss_mb": 0.0})
            role["cpu_s"] += p["cpu_s"] - (before or 0.0)
            role["processes"] += 1
            role["peak_rss_mb"] = max(role["peak_rss_mb"], round(p["hwm_mb"]))
        # What the rest of the machine (other users' tests, the OS) took meanwhile: noise.
        ours = sum(role["cpu_s"] for role in roles.values())
        roles["not this benchmark"] = {"cpu_s": max(0.0, machine_busy_s() - mark["machine"] - ours)}
        for role in roles.values():
            role["cpu_s"] = round(role["cpu_s"], 1)
        return roles


def cpu_line(roles: dict[str, dict]) -> str:
    return ", ".join(f"{role} {r['cpu_s']:.1f}" for role, r in roles.items())
