"""Fetch <origin>/bomb in a process of its own and print how much its peak RSS grew (JSON).

Run by tests/test_hostile.py. A warm-up fetch of <origin>/warm comes first, so that imports and
the connection pool are already in the baseline. The address space is capped at the baseline
plus 2 GiB: unbounded decoding then fails there instead of taking the machine's memory.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

from extractors.http import ClientSettings, PoliteClient
from extractors.records import FetchPurpose, Outlet


def _vm_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


async def main(origin: str) -> dict[str, object]:
    settings = ClientSettings(retries=0, respect_robots=False)
    async with PoliteClient(settings) as client:
        client.add_outlet(Outlet("o", "O", origin + "/", "en", min_delay_s=0))
        warm = await client.fetch(origin + "/warm", "o", FetchPurpose.ARTICLE)
        assert warm.ok, warm.error
        limit = _vm_bytes() + (2 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            bomb = await client.fetch(origin + "/bomb", "o", FetchPurpose.ARTICLE)
            kind, error = (bomb.failure.kind, bomb.error) if bomb.failure else (None, None)
        except MemoryError:
            kind, error = "escaped MemoryError", None
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"kind": kind, "error": error, "growth_mb": round((after - before) / 1024, 1)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1])), default=str))
