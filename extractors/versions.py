"""What changed between two versions of an article: which fields, and a line saying how.

Pure functions over two (title, text) versions. Texts are compared in their normalised form
(extractors.article_text), so a re-flowed paragraph or a changed quotation mark is no change.
"""

from __future__ import annotations

import difflib
import re

from extractors.article_text import normalize_text
from extractors.records import ArticleChange, ChangedField

SUMMARY_CHARS = 240  # one line in a table or a notification
_QUOTE = 60  # characters of a changed passage quoted in the summary
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def diff(
    old_title: str | None, old_text: str, new_title: str | None, new_text: str
) -> ArticleChange | None:
    """None when the two versions say the same."""
    fields: list[ChangedField] = []
    parts: list[str] = []
    if normalize_text(old_title or "") != normalize_text(new_title or ""):
        fields.append(ChangedField.TITLE)
        parts.append(f"headline: {_quote(old_title or '')} -> {_quote(new_title or '')}")
    if normalize_text(old_text) != normalize_text(new_text):
        fields.append(ChangedField.TEXT)
        parts.append("text: " + _text_summary(old_text, new_text))
    if not fields:
        return None
    return ArticleChange(tuple(fields), "; ".join(parts)[:SUMMARY_CHARS])


def _text_summary(old: str, new: str) -> str:
    """How many words came and went, and the first changed sentence as it reads now."""
    old_words, new_words = old.split(), new.split()
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    counts = f"+{added} -{removed} words"
    old_sentences = set(_SENTENCE.split(old))
    changed = next((s for s in _SENTENCE.split(new) if s not in old_sentences), None)
    if changed is None:
        return counts + " (passages removed)"
    return f"{counts}, now {_quote(changed)}"


def _quote(value: str) -> str:
    value = " ".join(value.split())
    if len(value) > _QUOTE:
        value = value[: _QUOTE - 1].rstrip() + "…"
    return f'"{value}"'
