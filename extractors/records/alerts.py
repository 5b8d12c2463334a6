"""Alerts and their deliveries: the outbox's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a run; taken back when that run dies mid-send
    SENT = "sent"
    FAILED = "failed"  # given up after max_attempts


@dataclass(frozen=True)
class Channel:
    key: str  # a hash of the channel URL (the URL holds secrets)
    label: str  # the URL with secrets masked


@dataclass(frozen=True)
class Alert:
    alert_id: str
    rule_id: str
    story_id: str
    article_id: str
    created_at: datetime
    title: str | None
    outlet_id: str | None
    url: str | None
    published_at: datetime | None
    score: float
    terms: list[str]


@dataclass(frozen=True)
class Delivery:
    alert: Alert
    channel: str  # Channel.key
    channel_label: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    alert_id: str
    channel: str
    ok: bool
    error: str | None
    at: datetime


@dataclass(frozen=True)
class Deliveries:
    """The outcomes of one round of sending, with the retry policy for those that failed."""

    outcomes: list[Outcome]
    retry_s: float  # a failed delivery waits retry_s, then twice that, ... (at most an hour)
    max_attempts: int  # 0: never give up
