"""Source health end to end: a loopback outlet changes its layout, the real ingest flow notices,
and a real webhook hears about it exactly once (and once more when it recovers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import GrowingOutlet
from tests.support.runs import run_once
from tests.support.server import Receiver


def test_layout_change_turns_degraded_within_two_runs_and_recovers(
    tmp_path: Path, serve, receiver: Receiver
) -> None:
    outlet = GrowingOutlet()
    outlet.publish()
    serve(outlet.site)
    config = write_config(
        tmp_path / "c.toml",
        config_text(outlet_toml("changing", outlet.site, feeds=["/rss"]))
        + f'\n[alerts]\nchannels = ["json://127.0.0.1:{receiver.port}/health"]\n',
    )
    db = tmp_path / "h.duckdb"
    store = Store(db)

    def run() -> str:
        summary = run_once(config, db)
        assert summary.health is not None and not summary.health.errors
        return summary.health.table[0].state

    states = [run()]
    outlet.publish()
    states.append(run())
    assert states == ["ok", "ok"] and receiver.messages == []

    outlet.redesigned = True
    for _ in range(3):
        outlet.publish()
        states.append(run())
    assert states[2:] == ["ok", "degraded", "degraded"]  # degraded within two runs
    assert [m["title"] for m in receiver.messages] == ["newsmon: changing is degraded"]
    assert (
        "0 of 6 fetched pages had article text (normally 100%)" in receiver.messages[0]["message"]
    )

    outlet.redesigned = False
    for _ in range(2):
        outlet.publish()
        states.append(run())
    assert states[5:] == ["ok", "ok"]
    assert [m["title"] for m in receiver.messages] == [
        "newsmon: changing is degraded",
        "newsmon: changing recovered",
    ]
    # A page that yielded nothing waits for its retry time (an hour first), not the next poll.
    refetched = store.query(
        "SELECT count(*) FROM (SELECT url FROM fetches WHERE kind = 'article' "
        "GROUP BY url HAVING count(*) > 1)"
    ).rows[0][0]
    failing = store.query("SELECT count(*), max(attempts) FROM url_failures").rows[0]
    assert (refetched, failing) == (0, (9, 1))
    events = store.health_events(10)
    assert [(e[2], e[3]) for e in reversed(events)] == [("ok", "degraded"), ("degraded", "ok")]
    assert all(e[5] is not None for e in events)  # both marked as notified


def test_a_dead_outlet_is_failing_backs_off_and_is_announced_once(
    tmp_path: Path, serve, receiver: Receiver
) -> None:
    outlet = GrowingOutlet()
    outlet.publish()
    server = serve(outlet.site)
    config = write_config(
        tmp_path / "c.toml",
        config_text(outlet_toml("changing", outlet.site, feeds=["/rss"]))
        + f'\n[alerts]\nchannels = ["json://127.0.0.1:{receiver.port}/health"]\n',
    )
    db = tmp_path / "f.duckdb"
    run_once(config, db)
    server.stop()  # the outlet goes away
    for _ in range(3):
        run_once(config, db)
    poll = Store(db).poll_states()["changing"]
    assert poll.failures == 3
    wait = poll.next_due_at - (poll.last_polled_at or datetime.now(UTC))
    assert wait > timedelta(minutes=50)  # 15 min doubled twice, give or take the jitter
    assert [m["title"] for m in receiver.messages] == ["newsmon: changing is failing"]
    assert "cannot connect" in receiver.messages[0]["message"]
