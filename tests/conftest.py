"""Shared fixtures: loopback sites, webhook receivers, PostgreSQL and a Prefect API server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from tests.support.server import (  # noqa: E402
    Receiver,  # noqa: E402
    Site,
    SiteServer,
)

FIXTURES = Path(__file__).parent / "fixtures"

# pytest-timeout is a guard against a hang, never a bound on speed: an end-to-end test that
# starts Prefect, PostgreSQL and several processes takes minutes on a machine busy with other
# work, so slow tests get longer before the guard calls it a hang.
SLOW_TEST_HANG_GUARD_S = 1200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TEST_HANG_GUARD_S))
    # The longest files first: `--dist loadfile` hands files out in this order, and a long file
    # handed out last leaves the other workers idle while it runs alone. Longest are those that
    # start servers (PostgreSQL, Prefect) for slow tests, then the other files with slow tests.
    rank: dict[Path, int] = {}
    for item in items:
        if item.get_closest_marker("slow"):
            servers = {"postgres", "prefect_api"} & set(getattr(item, "fixturenames", ()))
            rank[item.path] = min(rank.get(item.path, 2), 0 if servers else 1)
    items.sort(key=lambda item: rank.get(item.path, 2))


@pytest.fixture
def serve() -> Iterator:
    """Start loopback sites: `site = serve(Site(...))` or `serve(site_a, site_b)`."""
    servers: list[SiteServer] = []

    def start(*sites: Site) -> SiteServer:
        server = SiteServer(list(sites))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory, postgres) -> Iterator[str]:  # noqa: ANN001
    """A Prefect API server for the session, its database in the session's PostgreSQL as in the
    compose stack (tests/support/prefect_server.py). Yields its API URL for CLI subprocesses."""
    from tests.support.prefect_server import prefect_server

    home = tmp_path_factory.mktemp("prefect")
    os.environ["PREFECT_HOME"] = str(home)  # the workers' flow code and settings stay in it too
    with prefect_server(postgres, home) as api:
        yield api


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A JSON webhook endpoint on loopback (an Apprise json:// channel) that records messages."""
    r = Receiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator:
    """A real PostgreSQL server for the session (tests/support/postgres.py). Skips where none can be
    started, except under CI, which installs one and must run these tests."""
    from tests.support.postgres import PostgresUnavailable, TempPostgres

    try:
        server = TempPostgres().__enter__()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.__exit__(None, None, None)
