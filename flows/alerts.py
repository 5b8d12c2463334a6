"""After each ingest pass: alerts for new stories that match an alerting rule, delivered once.

The outbox lives in DuckDB (`alerts`, `alert_deliveries`): alerts are created in one
transaction, deliveries are claimed, sent with no database lock held, and their outcomes
recorded. A channel that is down keeps its deliveries pending, retried with backoff on later
passes; nothing is dropped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgen.feed import FeedGenerator

from extractors.records import Delivery, Outcome
from flows.config import Config
from flows.languages import join_languages
from flows.notify import Channels, Notifier, digest, message
from storage.db import Store, StoreError

log = logging.getLogger("newsmon.alerts")


@dataclass
class AlertSummary:
    created: int = 0
    joined: int = 0  # stories merged into another language's report of the same event
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def run_alerts(config: Config, store: Store, now: datetime | None = None) -> AlertSummary:
    summary = AlertSummary()
    rules = [r for r in config.rules if r.alert]
    names = {r.id: r.name for r in config.rules}
    pool = Channels(config.alerts.channels)
    # Each rule's alerts go to its own channels (by tag or URL), else to the untagged ones.
    per_rule = {r.id: pool.resolve(r.channels) for r in rules}
    summary.errors += pool.errors
    channels = list({n.channel.key: n for ns in per_rule.values() for n in ns}.values())
    now = now or datetime.now(UTC)
    ready = channels
    if config.alerts.digest_minutes > 0:
        period = timedelta(minutes=config.alerts.digest_minutes)
        ready = [n for n in channels if _digest_due(store, n, now, period)]
    try:
        # Before alerts are made, so that reports of one event in two languages get one.
        summary.joined = len(join_languages(store, now))
        created, due = store.prepare_alerts(
            [r.id for r in rules],
            timedelta(hours=config.alerts.window_hours),
            {rule: [n.channel for n in ns] for rule, ns in per_rule.items()},
            claim=[n.channel for n in ready],
        )
    except StoreError as exc:
        summary.errors.append(f"alerts wait for the next pass: {exc}")
        return summary
    summary.created = len(created)
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in due:
        by_channel[delivery.channel].append(delivery)
    outcomes: list[Outcome] = []
    languages = _languages(store, [d.alert.story_id for d in due])
    for notifier in ready:
        deliveries = by_channel.get(notifier.channel.key, [])
        if not deliveries:
            continue
        if config.alerts.digest_minutes > 0:
            title, body = digest([d.alert for d in deliveries], names, languages)
            error = notifier.send(title, body)
            outcomes += [_outcome(d, error) for d in deliveries]
        else:
            for d in deliveries:
                name = names.get(d.alert.rule_id, d.alert.rule_id)
                langs = languages.get(d.alert.story_id, ())
                title, body = message(d.alert, name, languages=langs)
                outcomes.append(_outcome(d, notifier.send(title, body)))
    for o in outcomes:
        if o.ok:
            summary.sent += 1
        else:
            summary.failed += 1
            label = next(n.channel.label for n in channels if n.channel.key == o.channel)
            summary.errors.append(f"{label}: {o.error}")
    if outcomes:
        store.record_outcomes(
            outcomes, timedelta(seconds=config.alerts.retry_base_s), config.alerts.max_attempts
        )
    if config.alerts.atom:
        write_atom(store, config.alerts.atom)
    return summary


def _languages(store: Store, story_ids: list[str]) -> dict[str, list[str]]:
    """The languages of each story's copies; none when the store is busy (a detail)."""
    try:
        return store.story_languages(story_ids)
    except StoreError:
        return {}


def _digest_due(store: Store, notifier: Notifier, now: datetime, period: timedelta) -> bool:
    try:
        last = store.last_sent(notifier.channel.key)
    except StoreError:
        return False
    return last is None or now - last >= period


def _outcome(delivery: Delivery, error: str | None) -> Outcome:
    return Outcome(
        delivery.alert.alert_id, delivery.channel, error is None, error, datetime.now(UTC)
    )


def write_atom(store: Store, path: Path, limit: int = 200) -> int:
    """An Atom feed of the latest alerts that any feed reader can subscribe to."""
    feed = FeedGenerator()
    feed.id("urn:newsmon:alerts")
    feed.title("newsmon alerts")
    feed.subtitle("New stories matching newsmon's alerting rules")
    feed.link(href="urn:newsmon:alerts", rel="self")
    feed.updated(datetime.now(UTC))
    alerts = store.recent_alerts(limit)
    languages = _languages(store, [alert.story_id for alert, _, _ in alerts])
    for alert, copies, _states in reversed(alerts):
        entry = feed.add_entry()
        entry.id(f"urn:newsmon:alert:{alert.alert_id}")
        entry.title(alert.title or alert.url or alert.alert_id)
        if alert.url:
            entry.link(href=alert.url)
        entry.updated(alert.created_at)
        if alert.published_at:
            entry.published(alert.published_at)
        entry.author({"name": alert.outlet_id or "unknown"})
        entry.category(term=alert.rule_id)
        _, body = message(alert, alert.rule_id, copies, languages.get(alert.story_id, ()))
        entry.summary(body)
    path.parent.mkdir(parents=True, exist_ok=True)
    feed.atom_file(str(path), pretty=True)
    return len(alerts)
