"""Run test scenarios inside a network namespace that has loopback only (`unshare -n`).

Tests that name private or metadata addresses bind those addresses on the namespace's own `lo`,
so servers can stand for 169.254.169.254 or 10.0.0.5 and no packet can leave the machine. Where
unshare is unavailable (no root, a container without the capability) the tests skip, except under
CI=1, where they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# Stand-ins inside the namespace: public-looking hosts (11.0.0.0/8 is global unicast, and in
# the namespace it is only `lo`), a private host and the cloud metadata address.
PUBLIC_A, PUBLIC_B, PUBLIC_C = "11.0.0.1", "11.0.0.2", "11.0.0.3"
PRIVATE, METADATA = "10.0.0.5", "169.254.169.254"
ADDRESSES = (PUBLIC_A, PUBLIC_B, PUBLIC_C, PRIVATE, METADATA)


@cache
def unavailable() -> str | None:
    """Why scenarios cannot run in a namespace here, or None when they can."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip not installed"
    probe = subprocess.run(
        ["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"unshare -n refused: {probe.stderr.strip()[:200]}"
    return None


def run(module: str, timeout_s: float = 300) -> dict:
    """Run `python -m <module>` in a fresh namespace; it prints one JSON object last."""
    reason = unavailable()
    if reason is not None:
        if os.environ.get("CI") == "1":
            pytest.fail(f"network namespace tests must run under CI: {reason}")
        pytest.skip(f"no network namespace: {reason}")
    setup = ["ip link set lo up"] + [f"ip addr add {a}/32 dev lo" for a in ADDRESSES]
    script = " && ".join(setup) + f" && exec {sys.executable} -m {module}"
    proc = subprocess.run(
        ["unshare", "-n", "sh", "-c", script],
        capture_output=True, text=True, timeout=timeout_s, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def inside() -> None:
    """Refuse to go on outside a loopback-only namespace (a scenario run by hand by mistake)."""
    interfaces = {name for _, name in socket.if_nameindex()}
    if interfaces != {"lo"}:
        sys.exit(f"not in a loopback-only network namespace (interfaces: {sorted(interfaces)})")
