"""A fork-server preload that holds the server's imports until told: while the file `release`
is missing from the folder NEWSMON_HELD_IMPORT names (at most four minutes). It notes
`importing` when it starts and `released` when it lets go. Used by tests/support/close_probe.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_gate = Path(os.environ["NEWSMON_HELD_IMPORT"])
(_gate / "importing").touch()
_deadline = time.monotonic() + 240
while not (_gate / "release").exists() and time.monotonic() < _deadline:
    time.sleep(0.05)
(_gate / "released").touch()
