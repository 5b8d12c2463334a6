"""Failures as data: a kind for code to branch on, one line for people."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    """Why a request or an extraction came to nothing. Code branches on these, never on the
    wording of a message; the values are what the store's `error_kind` columns hold."""

    ROBOTS = "robots"  # robots.txt says no: the site's wish, not an error
    CANNOT_RESOLVE = "cannot-resolve"
    CANNOT_CONNECT = "cannot-connect"
    TIMEOUT = "timeout"  # no byte for longer than the read timeout
    DEADLINE = "deadline"  # the whole response took longer than its deadline
    CONNECTION_LOST = "connection-lost"  # reset or closed before the response was complete
    HTTP_STATUS = "http-status"
    ANTI_BOT = "anti-bot"  # a challenge page or a bot wall instead of the content
    TOO_MANY_REDIRECTS = "too-many-redirects"
    REDIRECT_REFUSED = "redirect-refused"  # a hop the address or scope policy forbids
    TOO_LARGE = "too-large"
    BAD_ENCODING = "bad-encoding"  # a body that cannot be decompressed or decoded
    UNSUPPORTED_TYPE = "unsupported-type"  # not HTML or XML (or not what was asked for)
    BINARY = "binary"
    BAD_SOURCE = "bad-source"  # a feed or sitemap that does not parse
    NO_TEXT = "no-text"  # the page arrived but holds no article
    INTERNAL = "internal"  # a bug of ours, caught so the run goes on


# Kinds worth asking again later in the same run (with backoff): the next try may well work.
TRANSIENT = frozenset(
    {
        FailureKind.CANNOT_CONNECT, FailureKind.TIMEOUT, FailureKind.CONNECTION_LOST,
        FailureKind.INTERNAL,
    }
)  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """A failure as data: its kind for code, one line for people."""

    kind: FailureKind
    message: str

    def __str__(self) -> str:
        return self.message
