"""How text becomes full-text index terms: words folded as the topic rules fold them, each
analyzed by one analyzer, and Snowball stems from DuckDB's fts extension.

Words are folded as the topic rules fold them (case, diacritics, ё/е, ə/e, ı/i; й stays й,
which the Russian stemmer needs). Each word is indexed under one analyzer:
- `ru`: words in Cyrillic script, any article: Snowball Russian (Азербайджана -> азербайджа);
- `en`: other words of English articles: Snowball English (relations -> relat);
- `raw`: everything else (Azerbaijani has no Snowball stemmer; Turkish's misses the -lər
  suffixes) as folded words, which a query matches by prefix (azerbaycan* finds
  Azərbaycanın, Azərbaycanda).
The index (storage/search_index.py), queries (storage/search.py) and snippets
(storage/search_snippets.py) all analyze words here, so that they agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import duckdb
import pyarrow as pa

from storage import extensions

WORD = re.compile(r"\w+")
_LETTERS = str.maketrans({"ı": "i", "ə": "e", "ß": "ss", "ё": "е"})
# Combining marks, except the breve of й (и + breve): the Russian stemmer knows й.
_MARKS = re.compile("[\u0300-\u0305\u0307-\u036f]|(?<![иИ])\u0306")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
STEMMERS = {"en": "english", "ru": "russian"}


class Analyzer:
    EN = "en"
    RU = "ru"
    RAW = "raw"


def fold(text: str) -> str:
    """Lower case without diacritics, as the topic rules compare words; й stays й. Works on a
    whole text at once (the normalisations run in C), keeping it one string per word."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return unicodedata.normalize("NFC", _MARKS.sub("", decomposed)).translate(_LETTERS)


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def analyzer_of(word: str, language: str | None) -> str:
    if CYRILLIC.search(word):
        return Analyzer.RU
    if language == "en" and not word.isdigit():
        return Analyzer.EN
    return Analyzer.RAW


_STEM_CACHE: dict[tuple[str, str], str] = {}  # stems never change: shared by every connection
STEM_CACHE_MAX = 500_000  # words; then the cache starts again


class Stems:
    """Snowball stems from DuckDB's fts extension, asked once per distinct word. The extension
    is loaded on the first word not known yet (loading it costs a connection tens of ms)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.cache = _STEM_CACHE
        self.loaded = False

    def fill(self, pairs: Iterable[tuple[str, str]]) -> None:
        missing = {p for p in pairs if p not in self.cache and p[0] in STEMMERS}
        if not missing:
            return
        if len(self.cache) > STEM_CACHE_MAX:
            self.cache.clear()
        if not self.loaded:
            extensions.load(self.con, "fts")
            self.loaded = True
        for analyzer, stemmer in STEMMERS.items():
            batch = sorted(w for a, w in missing if a == analyzer)
            if not batch:
                continue
            # An Arrow column, not a list parameter: DuckDB converts a Python list value by value.
            self.con.register("stem_words", pa.table({"w": pa.array(batch, pa.string())}))
            try:
                rows = self.con.execute(
                    f"SELECT w, stem(w, '{stemmer}') FROM stem_words"
                ).fetchall()
            finally:
                self.con.unregister("stem_words")
            self.cache.update(((analyzer, w), s) for w, s in rows)

    def term(self, analyzer: str, word: str) -> str:
        return self.cache.get((analyzer, word), word) if analyzer in STEMMERS else word
