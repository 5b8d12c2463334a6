"""SQL for the alert outbox. Functions over an open connection; Store wraps them with locking."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import duckdb

from extractors.records import Alert, Channel, Delivery, Outcome


def alert_id(rule_id: str, story_id: str) -> str:
    return hashlib.sha256(f"{rule_id}\x1f{story_id}".encode()).hexdigest()[:16]


def create_alerts(
    con: duckdb.DuckDBPyConnection,
    rule_ids: Sequence[str],
    window: timedelta,
    channels: Mapping[str, Sequence[Channel]],
    now: datetime,
) -> list[Alert]:
    """One alert per (rule, story) for fresh matching articles whose story has none yet, with a
    delivery on each of its rule's channels (`channels` by rule id).

    The earliest matching copy of the story speaks for it; later copies only show up as the
    story's copies, never as a new alert.
    """
    if not rule_ids:
        return []
    rows = con.execute(
        """SELECT t.rule_id, coalesce(a.story_id, a.id) AS story_id, a.id, a.title, a.outlet_id,
                  a.canonical_url, a.published_at, t.score, t.terms
           FROM article_topics t JOIN articles a ON a.id = t.article_id
           WHERE t.matched AND t.rule_id IN (SELECT unnest(?::VARCHAR[]))
             AND coalesce(a.published_at, a.fetched_at) >= ?
             AND NOT coalesce(a.quiet, false)  -- history: backfilled, imported, re-extracted
             AND NOT EXISTS (SELECT 1 FROM alerts x
                             WHERE x.rule_id = t.rule_id AND x.story_id = coalesce(a.story_id, a.id))
           QUALIFY row_number() OVER (
               PARTITION BY t.rule_id, coalesce(a.story_id, a.id) ORDER BY a.fetched_at, a.id) = 1
           ORDER BY a.fetched_at""",
        [list(rule_ids), now - window],
    ).fetchall()
    alerts = [
        Alert(
            alert_id(rule, story),
            rule,
            story,
            aid,
            now,
            title,
            outlet,
            url,
            published,
            score,
            list(terms),
        )
        for rule, story, aid, title, outlet, url, published, score, terms in rows
    ]
    for a in alerts:
        con.execute(
            # The query above left out stories that have an alert, and no write overlaps this.
            "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [a.alert_id, a.rule_id, a.story_id, a.article_id, a.created_at, a.title, a.outlet_id,
             a.url, a.published_at, a.score, a.terms],
        )  # fmt: skip
        for ch in channels.get(a.rule_id, ()):
            con.execute(
                "INSERT INTO alert_deliveries VALUES (?, ?, ?, 'pending', 0, ?, NULL, NULL)",
                [a.alert_id, ch.key, ch.label, now],
            )
    return alerts


def claim_due(
    con: duckdb.DuckDBPyConnection, channels: Sequence[Channel], now: datetime, stale: timedelta
) -> list[Delivery]:
    """Deliveries to attempt now, marked 'sending'. A 'sending' one older than `stale` belongs to a
    run that died mid-send and is attempted again (the receiver may see it twice)."""
    keys = [c.key for c in channels]
    if not keys:
        return []
    rows = con.execute(
        f"""SELECT d.channel, d.channel_label, d.attempts, {_ALERT_COLUMNS}
            FROM alert_deliveries d JOIN alerts a USING (alert_id)
            WHERE d.channel IN (SELECT unnest(?::VARCHAR[]))
              AND ((d.state = 'pending' AND d.next_attempt_at <= ?)
                   OR (d.state = 'sending' AND d.next_attempt_at <= ?))
            ORDER BY a.created_at, a.alert_id""",
        [keys, now, now - stale],
    ).fetchall()
    deliveries = [Delivery(_alert(r[3:]), r[0], r[1], r[2]) for r in rows]
    for d in deliveries:
        con.execute(
            """UPDATE alert_deliveries SET state = 'sending', attempts = attempts + 1,
               next_attempt_at = ? WHERE alert_id = ? AND channel = ?""",
            [now, d.alert.alert_id, d.channel],
        )
    return deliveries


def record_outcomes(
    con: duckdb.DuckDBPyConnection,
    outcomes: Sequence[Outcome],
    retry_base: timedelta,
    max_attempts: int,
) -> None:
    for o in outcomes:
        if o.ok:
            con.execute(
                """UPDATE alert_deliveries SET state = 'sent', sent_at = ?, last_error = NULL
                   WHERE alert_id = ? AND channel = ?""",
                [o.at, o.alert_id, o.channel],
            )
            continue
        attempts = con.execute(
            "SELECT attempts FROM alert_deliveries WHERE alert_id = ? AND channel = ?",
            [o.alert_id, o.channel],
        ).fetchall()
        n = attempts[0][0] if attempts else 1
        state = "failed" if max_attempts and n >= max_attempts else "pending"
        delay = min(retry_base * (2 ** max(0, n - 1)), timedelta(hours=1))
        con.execute(
            """UPDATE alert_deliveries SET state = ?, last_error = ?, next_attempt_at = ?
               WHERE alert_id = ? AND channel = ?""",
            [state, o.error, o.at + delay, o.alert_id, o.channel],
        )


def last_sent(con: duckdb.DuckDBPyConnection, channel: str) -> datetime | None:
    row = con.execute(
        "SELECT max(sent_at) FROM alert_deliveries WHERE channel = ?", [channel]
    ).fetchall()
    return row[0][0] if row else None


def recent_alerts(
    con: duckdb.DuckDBPyConnection, limit: int
) -> list[tuple[Alert, int, list[tuple[str, str, int, str | None]]]]:
    """Latest alerts with their story's number of copies and each channel's delivery state."""
    rows = con.execute(
        f"""SELECT {_ALERT_COLUMNS},
                   (SELECT count(*) FROM articles c WHERE c.story_id = a.story_id) AS copies
            FROM alerts a ORDER BY a.created_at DESC, a.alert_id LIMIT ?""",
        [limit],
    ).fetchall()
    out = []
    for row in rows:
        alert = _alert(row[:-1])
        states = con.execute(
            """SELECT channel_label, state, attempts, last_error FROM alert_deliveries
               WHERE alert_id = ? ORDER BY channel_label""",
            [alert.alert_id],
        ).fetchall()
        out.append((alert, int(row[-1]), [tuple(s) for s in states]))
    return out


_ALERT_COLUMNS = (
    "a.alert_id, a.rule_id, a.story_id, a.article_id, a.created_at, a.title, a.outlet_id, a.url, "
    "a.published_at, a.score, a.terms"
)


def _alert(row: Sequence) -> Alert:
    return Alert(*row[:10], list(row[10] or []))
