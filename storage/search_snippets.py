"""Snippets: the part of a text with most query words, the words the query found marked."""

from __future__ import annotations

from extractors.records.desk import Fragment
from storage.search_words import WORD, Stems, analyzer_of, fold

SNIPPET_WORDS = 36


def highlight(
    text: str, language: str | None, terms: set[tuple[str, str]], stems: Stems, window: int = 0
) -> list[Fragment]:
    """`text` cut to the `window` words with most query words (all of it when window is 0),
    split into plain and hit fragments. Words are analyzed as the index analyzed them."""
    spans = [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(text)]
    keys = [(analyzer_of(w, language), w) for _, _, w in spans]
    stems.fill(keys)
    hits = [(a, stems.term(a, w)) in terms for a, w in keys]
    lo, hi = 0, len(spans)
    if window and len(spans) > window:
        best, best_at = -1, 0
        running = sum(hits[:window])
        for start in range(0, len(spans) - window + 1):
            if start:
                running += hits[start + window - 1] - hits[start - 1]
            if running > best:
                best, best_at = running, start
        lo, hi = best_at, best_at + window
    if not spans:
        return [Fragment(text, False)] if text else []
    begin = 0 if lo == 0 else spans[lo][0]
    end = len(text) if hi == len(spans) else spans[hi - 1][1]
    out: list[Fragment] = []
    if lo > 0:
        out.append(Fragment("… ", False))
    pos = begin
    for i in range(lo, hi):
        if hits[i]:
            s, e, _ = spans[i]
            if s > pos:
                out.append(Fragment(text[pos:s], False))
            out.append(Fragment(text[s:e], True))
            pos = e
    if end > pos:
        out.append(Fragment(text[pos:end], False))
    if hi < len(spans):
        out.append(Fragment(" …", False))
    return out
