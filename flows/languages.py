"""One story per event across languages: before alerts are made, recent matching reports in
different languages that tell of one event (extractors.crosslang) are joined into one story,
so the story keeps one alert and its copies list their languages."""

from __future__ import annotations

from datetime import datetime, timedelta

from extractors.crosslang import WINDOW_HOURS, EventKey, event_key, rarity_from, same_event
from storage.db import Store

RARITY_DAYS = 14  # how far back the articles go that say which names are common on the beat
RARITY_POOL = 1000  # at most this many of them (the newest); about 2 ms each to key
CANDIDATES = 500  # matching reports from the window compared with one another, at most


def join_languages(store: Store, now: datetime) -> list[tuple[str, str]]:
    """Merge the stories of matching reports in different languages of one event (within the
    window); returns the (old story, kept story) merges. The earliest report's story is kept."""
    window = timedelta(hours=WINDOW_HOURS)
    candidates = store.recent_reports(now - window, CANDIDATES, matched_only=True)
    if len({lang for _, _, lang, *_ in candidates if lang}) < 2:
        return []
    pool = store.recent_reports(now - timedelta(days=RARITY_DAYS), RARITY_POOL)
    keys: dict[str, EventKey] = {}
    for aid, _, lang, title, text, _ in [*pool, *candidates]:
        if lang and aid not in keys:
            keys[aid] = event_key(title, text, lang)
    rarity = rarity_from(keys.values())
    reports = sorted((r for r in candidates if r[2]), key=lambda r: r[5])  # oldest first
    root: dict[str, str] = {}

    def find(story: str) -> str:
        while root.get(story, story) != story:
            story = root[story]
        return story

    for i, (a, story_a, lang_a, *_, at_a) in enumerate(reports):
        for b, story_b, lang_b, *_, at_b in reports[i + 1 :]:
            first, second = find(story_a), find(story_b)
            if lang_a == lang_b or first == second or abs(at_b - at_a) > window:
                continue
            if same_event(keys[a], keys[b], rarity).same:
                root[second] = first
    merges = [(story, find(story)) for story in root]
    store.merge_stories(merges)
    return merges
