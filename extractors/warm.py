"""Imported once by the extraction pool's fork server (see extractors.workers): what every
worker needs before its first page, done before the workers fork from it."""

from __future__ import annotations

import contextlib

from extractors.article import warm_up

# Never the server's failure: a worker whose warm-up fails tries again, and reports per page.
with contextlib.suppress(Exception):
    warm_up()
