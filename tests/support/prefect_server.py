"""A Prefect API server for the tests, as the compose stack runs one: `prefect server start`
(started the way `newsmon serve` starts its own) with its database in PostgreSQL.

Not Prefect's `prefect_test_harness`, which keeps the server's database in SQLite: with three
workers polling it beside other tests on two busy cores, that database was locked for a minute at
a time, and a pass then found the server too busy to answer. The stack's own setup has no such
lock, and it is what a fleet meets in use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from flows.serve import local_prefect_server
from tests.support.processes import WAIT_S
from tests.support.server import free_port_block


@contextlib.contextmanager
def prefect_server(postgres, data_dir: Path) -> Iterator[str]:  # noqa: ANN001
    """A server whose database is a new database of `postgres` (tests/support/postgres.py);
    yields its API URL once it answers."""
    postgres.create_database("prefect")
    url = postgres.url("prefect")
    with local_prefect_server(data_dir, free_port_block(1), WAIT_S, database_url=url) as api:
        yield api
