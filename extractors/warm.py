"""Imported once by the extraction pool's fork server (see extractors.workers): what every
worker needs before its first page, done before the workers fork from it."""

from __future__ import annotations

import contextlib
import signal

# Ctrl-C in a terminal reaches the whole process group. The run stops its pool itself; the
# server (whose own SIGINT guard comes only after this import) and the workers, which inherit
# this, would each print a KeyboardInterrupt traceback.
signal.signal(signal.SIGINT, signal.SIG_IGN)

from extractors.article import warm_up  # noqa: E402 - after the guard: the import takes seconds
from extractors.tuning import tune_worker  # noqa: E402

# Never the server's failure: a worker whose warm-up fails tries again, and reports per page.
with contextlib.suppress(Exception):
    tune_worker()
    warm_up()
