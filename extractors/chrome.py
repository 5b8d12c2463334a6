"""Page chrome an outlet repeats on its articles, learned from the articles themselves.

A generic extractor sees one page at a time; a news monitor sees hundreds from each outlet.
A paragraph that recurs word for word on several different articles of one outlet (the
newsletter box, a "Read also" teaser, the disclaimer under every opinion piece, the author's
bio, the donation appeal) is that outlet's chrome, not the article, even when the extractor
took it for text. So each outlet's recent articles teach which paragraphs to drop from the
next ones. A paragraph is known by a short hash of its normalised text (`keys`), so what is
learned and stored is small and says nothing of the text around it.

Text unique to a page is never removed: a paragraph counts as chrome only once it has been
seen on MIN_PAGES different articles, and copies of one story (the same wire text at two
addresses) count once. A page whose text would mostly go is left whole: it is a copy of
another article, not an article wrapped in chrome.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

from extractors.article_text import normalize_text
from extractors.records import Chrome

MIN_PAGES = 3  # different articles a paragraph must be on: two could share a quote
MAX_SHARE = 0.5  # at most this share of a page's words may go as chrome
SAME_STORY = 0.5  # pages sharing more than this share of their paragraphs are one story
WINDOW = 200  # articles per outlet to learn from, newest first: old layouts are forgotten


def keys(text: str) -> list[str]:
    """A key per paragraph of an extracted text (a line), in order; "" for lines without
    letters or digits, which never count."""
    return [_key(line) for line in text.split("\n")]


def learn(pages: Iterable[Sequence[str]], min_pages: int = MIN_PAGES) -> Chrome:
    """The chrome of an outlet from the paragraph keys of its articles (one sequence per
    article, newest first, at most WINDOW of them are read)."""
    stories: list[set[str]] = []
    for page in pages:
        found = {key for key in page if key}
        if not found:
            continue
        if any(len(found & story) > SAME_STORY * min(len(found), len(story)) for story in stories):
            continue  # a copy or a new version of a story already counted
        stories.append(found)
        if len(stories) >= WINDOW:
            break
    counts = Counter(key for story in stories for key in story)
    return Chrome(frozenset(k for k, n in counts.items() if n >= min_pages), len(stories))


def strip(text: str, chrome: Chrome) -> tuple[str, list[str]]:
    """The text without the outlet's chrome paragraphs, and the paragraphs removed."""
    if not chrome.keys:
        return text, []
    lines = text.split("\n")
    kept, removed = [], []
    for line in lines:
        (removed if _key(line) in chrome.keys else kept).append(line)
    if not removed:
        return text, []
    if sum(len(line.split()) for line in removed) > MAX_SHARE * len(text.split()):
        return text, []
    return "\n".join(kept).strip(), removed


def _key(line: str) -> str:
    folded = normalize_text(line)
    if not folded:
        return ""
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=8).hexdigest()
