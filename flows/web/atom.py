"""The alerts as an Atom feed (`/alerts.atom`): each entry links to the original article
(rel=alternate) and to its story on the desk, with HTML content a feed reader shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from markupsafe import escape

from extractors.records.desk import AlertRow


def alerts_feed(alerts: Sequence[AlertRow], base_url: str) -> bytes:
    base = base_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/alerts")
    feed.title("newsmon alerts")
    feed.subtitle("New stories matching newsmon's alerting rules")
    feed.link(href=f"{base}/alerts.atom", rel="self", type="application/atom+xml")
    feed.link(href=f"{base}/alerts", rel="alternate", type="text/html")
    feed.updated(max((a.created_at for a in alerts), default=datetime(2000, 1, 1, tzinfo=UTC)))
    for alert in reversed(alerts):  # feedgen puts the entry added last first
        entry = feed.add_entry()
        entry.id(f"{base}/alerts#{alert.alert_id}")
        entry.title(alert.title or alert.url or alert.alert_id)
        story = f"{base}/story/{alert.story_id}"
        entry.link(href=web_url(alert.url) or story, rel="alternate", type="text/html")
        entry.link(href=story, rel="related", type="text/html", title="the story on newsmon")
        entry.updated(alert.created_at)
        if alert.published_at:
            entry.published(alert.published_at)
        entry.author({"name": alert.outlet_id or "unknown"})
        entry.category(term=alert.rule_id)
        entry.content(_html(alert, story), type="html")
    return feed.atom_str(pretty=True)


def web_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address, else None: a stored `javascript:` URL must never
    become a link."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _html(alert: AlertRow, story: str) -> str:
    """Every stored string escaped: the feed reader renders this as HTML."""
    terms = "".join(f"<li>{escape(t)}</li>" for t in alert.terms[:10])
    lead = f"<p>{escape(alert.lead)}</p>" if alert.lead else ""
    return (
        f"{lead}<p><b>{escape(alert.outlet_id or '')}</b>, rule <b>{escape(alert.rule_id)}</b>,"
        f" score {alert.score:g}, copies so far: {alert.copies}"
        f' (<a href="{escape(story)}">the story</a>)</p><p>Why:</p><ul>{terms}</ul>'
    )
