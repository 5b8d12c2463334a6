"""Alert channels through Apprise (Slack, Telegram, e-mail, Discord, ntfy, Matrix, JSON webhooks…).

Channel URLs carry secrets (tokens, passwords). They are used only to send; everything that is
logged or stored names a channel by a hash of its URL and its masked form.

Routing is Apprise's own: every configured channel is added to one Apprise object with its tags,
and a rule's (or the health news's) targets are found with `Apprise.find` — untagged channels
when a rule names none, the channels carrying any named tag otherwise — plus any URL named
directly.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import apprise

from extractors.records import Alert, Channel
from flows.rules_config import ChannelSpec


class ChannelError(ValueError):
    pass


@dataclass
class Notifier:
    url: str
    channel: Channel
    _apprise: apprise.Apprise

    @classmethod
    def from_url(cls, url: str, tags: Sequence[str] = ()) -> Notifier:
        target = apprise.Apprise()
        if not target.add(url, tag=list(tags) or None):
            masked = url.split("://", 1)[0] + "://…"
            raise ChannelError(f"not a usable Apprise URL: {masked}")
        label = target[0].url(privacy=True).split("?", 1)[0]
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        return cls(url, Channel(key, label), target)

    def send(self, title: str, body: str) -> str | None:
        """Deliver one message; None on success, else a one-line reason without secrets."""
        with apprise.LogCapture(level=logging.WARNING) as captured:
            try:
                ok = self._apprise.notify(title=title, body=body)
            except Exception as exc:  # a plugin bug must not stop the other channels
                ok, captured = False, f"{type(exc).__name__}: {exc}"
        if ok:
            return None
        text = captured if isinstance(captured, str) else captured.getvalue()
        reason = " ".join(text.split())[-300:] or "delivery failed"
        return self._redact(reason)

    def _redact(self, text: str) -> str:
        secret_parts = [
            p for p in self.url.replace("@", "/").replace(":", "/").split("/") if len(p) >= 6
        ]
        for part in secret_parts:
            if part not in self.channel.label:
                text = text.replace(part, "****")
        return text


class Channels:
    """The configured channels, and which of them a list of targets (tags or URLs) means."""

    def __init__(self, specs: Sequence[ChannelSpec]) -> None:
        self.errors: list[str] = []  # channels that could not be set up, one line each
        self._pool = apprise.Apprise()
        self._by_server: dict[int, Notifier] = {}
        for spec in specs:
            notifier = self._notifier(spec.url, spec.tags)
            if notifier is not None:
                server = notifier._apprise[0]  # the plugin, carrying its tags
                self._pool.add(server)
                self._by_server[id(server)] = notifier

    def resolve(self, targets: Sequence[str] = ()) -> list[Notifier]:
        """No targets: the untagged channels. Else the channels with any of the tags named, and
        the URLs named, once each."""
        tags = [t for t in targets if "://" not in t]
        found = []
        if tags or not targets:
            found = [self._by_server[id(s)] for s in self._pool.find(tag=tags or None)]
        for url in (t for t in targets if "://" in t):
            notifier = self._notifier(url)
            if notifier is not None:
                found.append(notifier)
        return list({n.channel.key: n for n in found}.values())

    def _notifier(self, url: str, tags: Sequence[str] = ()) -> Notifier | None:
        try:
            return Notifier.from_url(url, tags)
        except ChannelError as exc:
            if str(exc) not in self.errors:
                self.errors.append(str(exc))
            return None


def message(
    alert: Alert, rule_name: str, copies: int = 1, languages: Sequence[str] = ()
) -> tuple[str, str]:
    published = (
        alert.published_at.strftime("%Y-%m-%d %H:%M UTC") if alert.published_at else "date unknown"
    )
    title = f"[{rule_name}] {alert.title or alert.url}"
    body = "\n".join(
        [
            alert.title or "(untitled)",
            f"Outlet: {alert.outlet_id} · published {published}",
            f"{alert.url}",
            f"Rule: {alert.rule_id} (score {alert.score:g})",
            "Why: " + "; ".join(alert.terms[:8]),
        ]
        + ([f"Copies so far: {copies}"] if copies > 1 else [])
        + ([f"Reported in: {', '.join(languages)}"] if len(languages) > 1 else [])
    )
    return title, body


def digest(
    alerts: list[Alert], rule_names: dict[str, str], languages: dict[str, list[str]] | None = None
) -> tuple[str, str]:
    title = f"newsmon: {len(alerts)} new alert(s)"
    parts = []
    for alert in alerts:
        langs = (languages or {}).get(alert.story_id, ())
        _, body = message(alert, rule_names.get(alert.rule_id, alert.rule_id), languages=langs)
        parts.append(body)
    return title, "\n\n".join(parts)
