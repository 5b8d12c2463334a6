"""Story assignment: which stored article, if any, a new article is a copy of.

Candidates come from the StoryIndex (exact-text keys, LSH band keys, lead shingles); the
decisions (thresholds) come from extractors.fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from extractors.fingerprint import (
    SNIPPET_MIN_HITS,
    Fingerprint,
    fingerprint,
    jaccard,
    same_story,
    snippet_joins,
)
from extractors.records import Article
from storage import rows
from storage.story_index import Known, StoryIndex, content_key

MAX_CANDIDATES = 50


@dataclass
class Placement:
    article: Article
    story_id: str
    duplicate_of: str | None  # the story's first stored copy; None for the original
    alias_of: str | None = None  # same outlet, same text under another URL: no new row


@dataclass
class StoryAssigner:
    """Places the articles of one write; each placed article is findable by the next."""

    con: duckdb.DuckDBPyConnection
    index: StoryIndex
    placed: list[Placement] = field(default_factory=list)
    _pending: list[tuple[Known, Fingerprint, int]] = field(default_factory=list)
    _next_seq: int | None = None

    def place(self, article: Article) -> Placement:
        fp = article.fingerprint or fingerprint(article.text)
        article.fingerprint = fp
        # Fewer shared lead shingles than this cannot make a snippet match either way.
        leads = self._known(fp.lead_keys, min_count=SNIPPET_MIN_HITS)
        placement = (
            self._exact(article)
            or self._near(article, fp)
            or self._snippet(article, fp, leads)
            or Placement(article, article.id, None)
        )
        if placement.alias_of is None:
            self._adopt_snippets(placement.story_id, article, leads)
            self._remember(article, placement.story_id, fp)
        self.placed.append(placement)
        return placement

    def resolve(self, placement: Placement) -> Placement:
        """The placement with its story as it stands after any merges in this write."""
        story = self.index.resolve(placement.story_id)
        if story != placement.story_id:
            placement.story_id = story
            placement.duplicate_of = story if story != placement.article.id else None
        return placement

    def _adopt_snippets(
        self, story_id: str, article: Article, leads: list[tuple[Known, int]]
    ) -> None:
        """A snippet that arrived before any copy it could recognise started a story of its own.
        When an article it was cut from arrives later but joins another copy's story, the
        snippet's story is merged into that one."""
        for known, n in leads:
            orphan = known.story_id
            if (
                known.snippet
                and orphan == known.article_id  # the snippet started its story
                and orphan != story_id
                and known.article_id != article.id
                and snippet_joins(known.lead_count, n)
            ):
                merge_story(self.con, orphan, story_id)
                self.index.redirect(orphan, story_id)

    def keep(self, article: Article, story_id: str) -> None:
        """Index an article whose story is already decided (rebuilding lost fingerprints)."""
        fp = article.fingerprint or fingerprint(article.text)
        article.fingerprint = fp
        self._remember(article, story_id, fp)

    def _remember(self, article: Article, story_id: str, fp: Fingerprint) -> None:
        if self._next_seq is None:
            # Not a sequence: a lake has none. Writes never overlap (storage/lake.py), so the
            # numbers after the highest stored are free.
            row = self.con.execute("SELECT max(seq) FROM article_fingerprints").fetchall()
            self._next_seq = (row[0][0] or 0) + 1
        self._next_seq += 1
        known = Known(
            self._next_seq - 1, article.id, story_id, article.outlet_id,
            np.asarray(fp.minhash, np.uint32), fp.shingles, len(fp.lead_keys), fp.snippet,
        )  # fmt: skip
        ckey = content_key(article.content_hash)
        self.index.add(known, [ckey, *fp.band_keys, *fp.lead_keys])
        self._pending.append((known, fp, ckey))

    def _joined(self, article: Article, story_id: str) -> Placement:
        return Placement(article, story_id, story_id if story_id != article.id else None)

    def _known(self, keys: list[int], min_count: int = 1) -> list[tuple[Known, int]]:
        out = []
        for seq, n in self.index.lookup(keys, MAX_CANDIDATES, min_count):
            known = self.index.known(seq)
            if known is not None:
                out.append((known, n))
        return out

    def _exact(self, article: Article) -> Placement | None:
        matches = sorted(
            (k for k, _ in self._known([content_key(article.content_hash)])), key=lambda k: k.seq
        )
        if not matches:
            return None
        for known in matches:
            if known.outlet_id == article.outlet_id and known.article_id != article.id:
                # The outlet moved or re-published the same text: one article, another URL.
                return Placement(article, known.story_id, None, alias_of=known.article_id)
        return self._joined(article, matches[0].story_id)

    def _near(self, article: Article, fp: Fingerprint) -> Placement | None:
        best: tuple[float, str] | None = None
        for known, _ in self._known(fp.band_keys):
            if known.article_id == article.id or not same_story(fp, known.minhash, known.shingles):
                continue
            score = jaccard(fp.minhash, known.minhash)
            if best is None or score > best[0]:
                best = (score, known.story_id)
        return self._joined(article, best[1]) if best else None

    def _snippet(
        self, article: Article, fp: Fingerprint, leads: list[tuple[Known, int]]
    ) -> Placement | None:
        """A snippet joins the article it was cut from; an article joins its earlier snippet."""
        best: tuple[int, str] | None = None
        for known, n in leads:
            if known.article_id == article.id:
                continue
            joins = (fp.snippet and snippet_joins(len(fp.lead_keys), n)) or (
                known.snippet and snippet_joins(known.lead_count, n)
            )
            if joins and (best is None or n > best[0]):
                best = (n, known.story_id)
        return self._joined(article, best[1]) if best else None

    def index_rows(self) -> None:
        """Write the fingerprints of the placed articles that became rows."""
        if not self._pending:
            return
        table = pa.table(
            {
                "seq": pa.array([k.seq for k, _, _ in self._pending], pa.int32()),
                "article_id": [k.article_id for k, _, _ in self._pending],
                "outlet_id": [k.outlet_id for k, _, _ in self._pending],
                "story_id": [self.index.resolve(k.story_id) for k, _, _ in self._pending],
                "content_key": pa.array([c for _, _, c in self._pending], pa.uint64()),
                "minhash": pa.array(
                    [fp.minhash for _, fp, _ in self._pending], pa.list_(pa.uint32())
                ),
                "shingles": pa.array([fp.shingles for _, fp, _ in self._pending], pa.int32()),
                "band_keys": pa.array(
                    [fp.band_keys for _, fp, _ in self._pending], pa.list_(pa.uint64())
                ),
                "lead_keys": pa.array(
                    [fp.lead_keys for _, fp, _ in self._pending], pa.list_(pa.uint64())
                ),
                "snippet": [fp.snippet for _, fp, _ in self._pending],
            }
        )
        self.con.register("incoming_fingerprints", table)
        try:
            self.con.execute(
                "INSERT INTO article_fingerprints BY NAME SELECT * FROM incoming_fingerprints"
            )
        finally:
            self.con.unregister("incoming_fingerprints")
        self._pending.clear()


def merge_story(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Every copy of story `old` becomes a copy of story `new` (a snippet's story found to be
    another's, or reports of one event in two languages). Recorded in `story_merges`, which also
    tells a cached story index that it is stale."""
    con.execute(
        "UPDATE articles SET story_id = ?, duplicate_of = ? WHERE story_id = ?", [new, new, old]
    )
    con.execute("UPDATE article_fingerprints SET story_id = ? WHERE story_id = ?", [new, old])
    rows.upsert(con, "story_merges", [{"old_story": old, "new_story": new}], ["old_story"])


def recent_reports(
    con: duckdb.DuckDBPyConnection, since: datetime, limit: int, matched_only: bool
) -> list[tuple[str, str, str | None, str | None, str, datetime]]:
    """(article id, story id, language, title, text, time) of articles fetched since `since`,
    newest first; `matched_only`: those that matched some rule."""
    matched = (
        "AND EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id AND t.matched)"
        if matched_only
        else ""
    )
    return con.execute(
        f"""SELECT a.id, coalesce(a.story_id, a.id), a.language, a.title, a.text,
                   coalesce(a.published_at, a.fetched_at)
            FROM articles a WHERE a.fetched_at >= ? {matched}
            ORDER BY a.fetched_at DESC LIMIT ?""",
        [since, limit],
    ).fetchall()


def story_languages(
    con: duckdb.DuckDBPyConnection, story_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The languages each story's copies are in (most copies first)."""
    found = con.execute(
        """SELECT story_id, list(language ORDER BY n DESC, language) FROM (
               SELECT story_id, coalesce(language, '?') AS language, count(*) AS n
               FROM articles WHERE story_id IN (SELECT unnest(?::VARCHAR[]))
               GROUP BY ALL) GROUP BY story_id""",
        [list(story_ids)],
    ).fetchall()
    return {story: list(languages) for story, languages in found}
