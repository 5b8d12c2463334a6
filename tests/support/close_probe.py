"""Close a run's extraction pool while its fork server is still importing, as Ctrl-C early in
a run does, and print (JSON) whether close() came back before the imports ended.

Run by tests/test_processes.py in a process of its own (the fork server is one per process).
The imports are held by tests/support/held_import.py until this probe releases them, after
close() has returned or, at the latest, after RELEASE_AFTER_S.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import extractors.workers
from flows.extraction import Extractor

RELEASE_AFTER_S = 20.0


def main(gate: Path) -> dict[str, object]:
    real = extractors.workers._pool_context

    def held_context():  # noqa: ANN202
        context = real()
        context.set_forkserver_preload(["tests.support.held_import"])
        return context

    extractors.workers._pool_context = held_context  # type: ignore[assignment]
    os.environ["NEWSMON_HELD_IMPORT"] = str(gate)
    release = threading.Timer(RELEASE_AFTER_S, (gate / "release").touch)
    extractor = Extractor(1)
    extractor.start()
    deadline = time.monotonic() + 240
    while not (gate / "importing").exists():
        assert time.monotonic() < deadline, "the fork server never started its imports"
        time.sleep(0.05)
    release.start()
    extractor.close()
    closed_first = not (gate / "released").exists()
    (gate / "release").touch()
    release.cancel()
    return {"closed_before_the_imports_ended": closed_first}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
