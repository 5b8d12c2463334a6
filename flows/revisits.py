"""When to fetch a stored article again: fresh articles change (corrected headlines, updated
figures, retractions), old ones hardly ever.

An article is revisited while it is fresh (under 48 hours old, counted from its publication or,
when that is unknown or later, from when it was first fetched), on a decaying schedule: an hour
after it was stored, then two hours after that, then four, eight, sixteen. Each revisit is a
conditional GET, so an unchanged page costs one small request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RevisitPolicy:
    fresh_for: timedelta = timedelta(hours=48)  # older articles are not revisited
    first_after: timedelta = timedelta(hours=1)  # the first revisit, after the first fetch
    factor: float = 2.0  # each wait is this much longer than the one before
    enabled: bool = True


def article_age_from(published_at: datetime | None, fetched_at: datetime) -> datetime:
    """When an article's life began: its publication, unless unknown or after the first fetch
    (a page dated in the future, or a time zone read wrong)."""
    if published_at is None or published_at > fetched_at:
        return fetched_at
    return published_at


def next_revisit(
    policy: RevisitPolicy,
    published_at: datetime | None,
    fetched_at: datetime,
    revisits: int,
    last_visit: datetime,
) -> datetime | None:
    """When to fetch the article next (None: never again). `revisits` is how many revisits were
    made so far, `last_visit` the time of the latest fetch (the first one when none)."""
    if not policy.enabled:
        return None
    wait = policy.first_after * policy.factor**revisits
    due = last_visit + wait
    if due >= article_age_from(published_at, fetched_at) + policy.fresh_for:
        return None
    return due


def due_now(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at <= now
