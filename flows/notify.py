"""Alert channels through Apprise (Slack, Telegram, e-mail, Discord, ntfy, Matrix, JSON webhooks…).

Channel URLs carry secrets (tokens, passwords). They are used only to send; everything that is
logged or stored names a channel by a hash of its URL and its masked form.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import apprise

from extractors.records import Alert, Channel


class ChannelError(ValueError):
    pass


@dataclass
class Notifier:
    url: str
    channel: Channel
    _apprise: apprise.Apprise

    @classmethod
    def from_url(cls, url: str) -> Notifier:
        target = apprise.Apprise()
        if not target.add(url):
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


def message(alert: Alert, rule_name: str, copies: int = 1) -> tuple[str, str]:
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
    )
    return title, body


def digest(alerts: list[Alert], rule_names: dict[str, str]) -> tuple[str, str]:
    title = f"newsmon: {len(alerts)} new alert(s)"
    parts = []
    for alert in alerts:
        _, body = message(alert, rule_names.get(alert.rule_id, alert.rule_id))
        parts.append(body)
    return title, "\n\n".join(parts)
