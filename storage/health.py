"""SQL for unattended operation: adaptive polling state and source health.

The judgement (when an outlet is due, what counts as degraded) lives in flows/; this module only
reads the history it needs and records what was decided, atomically, so two processes checking
health at once still announce a change of state once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb

from extractors.records import (
    FailureKind,
    FetchPurpose,
    HealthEvent,
    HealthState,
    HealthStatus,
    OutletHistory,
    PollState,
    RunStats,
    RunStatus,
)
from storage import rows


# -- polling ------------------------------------------------------------------------------
def write_polls(con: duckdb.DuckDBPyConnection, polls: Sequence[PollState]) -> None:
    names = rows.columns(con, "outlet_polls").names
    rows.upsert(con, "outlet_polls", [rows.row(p, names) for p in polls], ["outlet_id"])


def read_polls(con: duckdb.DuckDBPyConnection) -> dict[str, PollState]:
    polls = rows.records(con.execute("SELECT * FROM outlet_polls"), PollState)
    return {p.outlet_id: p for p in polls}


def published_since(con: duckdb.DuckDBPyConnection, outlet_id: str, since: datetime) -> int:
    """Articles of an outlet published since `since` (see OutletHistory for which time)."""
    return con.execute(
        """SELECT count(*) FROM articles
           WHERE outlet_id = ? AND duplicate_of IS NULL
             AND coalesce(least(published_at, fetched_at), fetched_at) >= ?""",
        [outlet_id, since],
    ).fetchall()[0][0]


# -- health -------------------------------------------------------------------------------
def history(
    con: duckdb.DuckDBPyConnection, now: datetime, window: timedelta
) -> dict[str, OutletHistory]:
    since = now - window
    out: dict[str, OutletHistory] = {}
    rows = con.execute(
        """WITH f AS (
               SELECT run_id, outlet_id, count(*) AS requests,
                      count(*) FILTER (WHERE error_kind IS NOT NULL AND error_kind <> ?
                                         AND kind <> ?) AS errors
               FROM fetches WHERE fetched_at >= ? GROUP BY run_id, outlet_id)
           SELECT r.outlet_id, r.run_id, r.started_at, r.status, r.fetched, r.extracted, r.dated,
                  r.stored, coalesce(f.requests, 0), coalesce(f.errors, 0), r.error
           FROM runs r LEFT JOIN f USING (run_id, outlet_id)
           WHERE r.started_at >= ?
           ORDER BY r.outlet_id, r.started_at DESC""",
        # robots.txt refusals are a site's wish; a probe answering 404 (discovery trying the
        # usual feed paths) is an answer, not an error.
        [FailureKind.ROBOTS.value, FetchPurpose.PROBE.value, since, since],
    ).fetchall()
    for outlet_id, run_id, started_at, status, *rest in rows:
        run = RunStats(run_id, started_at, RunStatus(status), *rest)
        out.setdefault(outlet_id, OutletHistory(outlet_id)).runs.append(run)
    for outlet_id, last, in_7d, in_window in con.execute(
        """WITH a AS (
               SELECT outlet_id, coalesce(least(published_at, fetched_at), fetched_at) AS t
               FROM articles WHERE duplicate_of IS NULL)
           SELECT outlet_id, max(t), count(*) FILTER (WHERE t >= ?),
                  count(*) FILTER (WHERE t >= ?)
           FROM a GROUP BY outlet_id""",
        [now - timedelta(days=7), since],
    ).fetchall():
        h = out.setdefault(outlet_id, OutletHistory(outlet_id))
        h.last_published_at, h.published_7d, h.published_window = last, in_7d, in_window
    return out


def read_states(con: duckdb.DuckDBPyConnection) -> dict[str, HealthState]:
    rows = con.execute("SELECT outlet_id, state, reason, since FROM outlet_health").fetchall()
    return {r[0]: HealthState(r[0], HealthStatus(r[1]), r[2], r[3]) for r in rows}


def record_states(
    con: duckdb.DuckDBPyConnection,
    states: Sequence[HealthState],
    now: datetime,
    quiet: set[HealthStatus],
) -> list[HealthEvent]:
    """Store the current states; a state that differs from the stored one becomes an event.
    Changes out of a state in `quiet` (an outlet with no history yet) are recorded silently."""
    known = read_states(con)
    events = []
    for s in states:
        before = known.get(s.outlet_id)
        changed = before is None or before.state != s.state
        since = now if changed or before is None else before.since
        row = {"outlet_id": s.outlet_id, "state": str(s.state), "since": since,
               "reason": s.reason, "checked_at": now}  # fmt: skip
        rows.upsert(con, "outlet_health", [row], ["outlet_id"])
        old = before.state if before else None
        if not changed or (old in quiet or old is None) and s.state in quiet | {HealthStatus.OK}:
            continue
        event = HealthEvent(uuid.uuid4().hex, s.outlet_id, now, old, s.state, s.reason)
        con.execute(
            "INSERT INTO health_events (event_id, outlet_id, changed_at, old_state, new_state, "
            "reason) VALUES (?, ?, ?, ?, ?, ?)",
            [event.event_id, event.outlet_id, now, old, s.state, s.reason],
        )
        events.append(event)
    return events


def claim_events(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    stale: timedelta,
    max_attempts: int,
    max_age: timedelta = timedelta(days=1),
) -> list[HealthEvent]:
    """Events whose notification is still owed, marked as being sent by the caller. News of a
    change older than `max_age` is no longer worth sending."""
    # A select, then an update by id: a lake cannot return the rows an UPDATE changed, and
    # the store's writes never overlap, so nobody claims the same rows in between.
    owed = con.execute(
        """SELECT event_id, outlet_id, changed_at, old_state, new_state, reason, attempts + 1
           FROM health_events
           WHERE notified_at IS NULL AND attempts < ? AND changed_at >= ?
             AND (claimed_at IS NULL OR claimed_at < ?)""",
        [max_attempts, now - max_age, now - stale],
    ).fetchall()
    if owed:
        con.execute(
            """UPDATE health_events SET claimed_at = ?, attempts = attempts + 1
               WHERE event_id IN (SELECT unnest(?::VARCHAR[]))""",
            [now, [r[0] for r in owed]],
        )
    events = [_event(*r) for r in owed]
    return sorted(events, key=lambda e: (e.changed_at, e.outlet_id))


def _event(
    event_id: str, outlet_id: str, changed_at: datetime, old: str | None, new: str, *rest: object
) -> HealthEvent:
    return HealthEvent(
        event_id, outlet_id, changed_at, HealthStatus(old) if old else None, HealthStatus(new),
        *rest,  # type: ignore[arg-type]
    )  # fmt: skip


def finish_event(
    con: duckdb.DuckDBPyConnection, event_id: str, error: str | None, now: datetime
) -> None:
    if error is None:
        con.execute(
            "UPDATE health_events SET notified_at = ?, last_error = NULL WHERE event_id = ?",
            [now, event_id],
        )
    else:
        con.execute(
            "UPDATE health_events SET claimed_at = NULL, last_error = ? WHERE event_id = ?",
            [error, event_id],
        )


def recent_events(con: duckdb.DuckDBPyConnection, limit: int) -> list[tuple]:
    return con.execute(
        """SELECT changed_at, outlet_id, old_state, new_state, reason, notified_at, last_error
           FROM health_events ORDER BY changed_at DESC LIMIT ?""",
        [limit],
    ).fetchall()
