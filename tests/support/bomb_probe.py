"""Fetch <origin>/bomb (or <origin><path>) in a process of its own and print how much its peak
RSS grew (JSON).

Run by tests/test_hostile.py and benchmarks/bomb_bench.py. A warm-up fetch of <origin>/warm
comes first, so that imports and the connection pool are already in the baseline. The baseline
is the resident size just before the fetch, with the kernel's high-water mark reset to it
(`/proc/self/clear_refs`): growth measured from an older peak (imports can peak higher than
they end) would hide what the fetch cost. The address space is capped at the baseline plus
2 GiB: unbounded decoding then fails there instead of taking the machine's memory.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

from extractors.http import ClientSettings, PoliteClient
from extractors.records import FetchPurpose, Outlet


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


def _reset_peak() -> None:
    """VmHWM back to the current resident size (Linux 4.0 and later)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


async def main(origin: str, path: str = "/bomb") -> dict[str, object]:
    settings = ClientSettings(retries=0, respect_robots=False)
    async with PoliteClient(settings) as client:
        client.add_outlet(Outlet("o", "O", origin + "/", "en", min_delay_s=0))
        warm = await client.fetch(origin + "/warm", "o", FetchPurpose.ARTICLE)
        assert warm.ok, warm.error
        limit = _status_bytes("VmSize") + (2 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        _reset_peak()
        before = _status_bytes("VmRSS")
        try:
            bomb = await client.fetch(origin + path, "o", FetchPurpose.ARTICLE)
            kind, error = (bomb.failure.kind, bomb.error) if bomb.failure else (None, None)
        except MemoryError:
            kind, error = "escaped MemoryError", None
        peak = _status_bytes("VmHWM")
    return {"kind": kind, "error": error, "growth_mb": round((peak - before) / 2**20, 1)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:3])), default=str))
