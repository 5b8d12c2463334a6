"""The only way articles get into the store: each new article with its story, fingerprint,
topic scores and every URL it was met under, in the batch's transaction.

Also the store's answer to "is this URL stored already?" (under any of its variants, or
failing lately), asked before fetching.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from extractors.records import Article, Route, UrlAlias
from extractors.urls import url_key
from storage import rows, search_index, topics
from storage.stories import Placement, StoryAssigner
from storage.story_index import StoryIndex

Connection = duckdb.DuckDBPyConnection


class Articles:
    """Writes articles, keeping the story index of its last write for the next one while the
    table has not changed since: reloading the unmerged fingerprints at every write made a long
    pass quadratic (a sixth of the ingest process's CPU at 2,000 pages)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._kept: tuple[tuple[object, ...], StoryIndex] | None = None
        self._written: StoryIndex | None = None  # by the transaction in progress

    # -- writing -----------------------------------------------------------------------
    def write(
        self,
        con: Connection,
        run_id: str,
        articles: Sequence[Article],
        aliases: Sequence[UrlAlias],
        quiet: bool = False,
    ) -> Counter[str]:
        """Insert the articles new to the store, each with its story; returns the new rows per
        outlet. This is where deduplication by URL ends: an article whose canonical URL is
        stored already (under any variant), or met earlier in the batch, adds no row, only its
        URLs as aliases of the stored one; so replaying a batch adds nothing."""
        new, copies = self._new(con, articles)
        if not new:
            _insert_aliases(con, [*copies, *aliases])
            return Counter()
        assigner = StoryAssigner(con, self._open_index(con))
        self._written = assigner.index
        placements = [assigner.resolve(p) for p in [assigner.place(a) for a in new]]
        rows_added = [p for p in placements if p.alias_of is None]
        names = rows.columns(con, "articles").names
        # The stored ids were left out above, and no other write overlaps this one.
        rows.insert(con, "articles", [_article_row(p, run_id, names, quiet) for p in rows_added])
        assigner.index_rows()
        met = [
            UrlAlias(url, p.alias_of or p.article.id, p.article.outlet_id)
            for p in placements
            for url in _urls(p.article)
        ]
        _insert_aliases(con, [*met, *copies, *aliases])
        scores = [(p.article.id, s) for p in rows_added for s in p.article.topics or []]
        topics.write_topics(con, scores, datetime.now(UTC))
        return Counter(p.article.outlet_id for p in rows_added)

    def _new(
        self, con: Connection, articles: Sequence[Article]
    ) -> tuple[list[Article], list[UrlAlias]]:
        """The articles to place (the earliest fetched per canonical URL), and the URLs of the
        others as aliases of what they duplicate."""
        first: dict[str, Article] = {}
        copies: list[tuple[Article, str]] = []
        for a in sorted(articles, key=lambda a: a.fetched_at):
            key = url_key(a.canonical_url)
            if key in first:
                copies.append((a, first[key].id))
            else:
                first[key] = a
        stored = _stored_under(con, list(first))
        new = []
        for key, a in first.items():
            if key in stored:
                copies.append((a, stored[key]))
            else:
                new.append(a)
        existing = _existing_ids(con, [a.id for a in new])  # stored before URL keys were kept
        new = [a for a in new if a.id not in existing]
        aliases = [UrlAlias(url, target, a.outlet_id) for a, target in copies for url in _urls(a)]
        return new, aliases

    def rewrite(self, con: Connection, articles: Sequence[Article], quiet: bool) -> int:
        """Stored articles read again (re-extracted, or changed when revisited): each row takes
        the new reading in place and keeps its id, URLs, story and alerts; `quiet` marks it
        history. Its fingerprint is replaced, so that copies of the new text find the story
        (membership is not decided again), and so is its full-text document. Returns how many
        rows there were to rewrite."""
        if not articles:
            return 0
        unique = list({a.id: a for a in articles}.values())
        ids = [a.id for a in unique]
        stories = dict(
            con.execute(
                "SELECT id, story_id FROM articles WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                [ids],
            ).fetchall()
        )
        unique = [a for a in unique if a.id in stories]
        names = rows.columns(con, "articles").names
        rows.upsert(
            con, "articles", [rows.row(a, names, quiet=quiet, **_archived(a)) for a in unique], key=["id"],
            keep=_KEPT_ON_REWRITE,
        )  # fmt: skip
        replaced = con.execute(
            "SELECT seq FROM article_fingerprints WHERE article_id IN (SELECT unnest(?::VARCHAR[]))",
            [[a.id for a in unique]],
        ).fetchall()
        # An index of its own, not opened: it only hands out the new rows' seqs. The kept
        # index still holds the replaced fingerprints and is read afresh by the next write.
        self.forget()
        assigner = StoryAssigner(con, StoryIndex(self.index_dir))
        for a in unique:
            assigner.keep(a, stories[a.id] or a.id)
        assigner.index_rows()
        # Only now: new numbers follow the highest stored, and a number the index files hold
        # must never come back for another fingerprint.
        con.execute(
            "DELETE FROM article_fingerprints WHERE seq IN (SELECT unnest(?::INTEGER[]))",
            [[r[0] for r in replaced]],
        )
        scores = [(a.id, s) for a in unique for s in a.topics or []]
        topics.write_topics(con, scores, datetime.now(UTC))
        search_index.replace(con, [a.id for a in unique])  # a search must not find the old words
        return len(unique)

    def committed(self, con: Connection) -> None:
        """After the commit: only committed fingerprints go into the index files."""
        if self._written is not None:
            self._written.maybe_merge(con)
            self._kept = (self._written.state(con), self._written)
            self._written = None

    def forget(self) -> None:
        """After a rollback: the kept index holds fingerprints the rollback took back."""
        self._kept = self._written = None

    def _open_index(self, con: Connection) -> StoryIndex:
        if self._kept is not None and self._kept[0] == self._kept[1].state(con):
            return self._kept[1]
        self._kept = None
        index = StoryIndex(self.index_dir)
        index.open(con)
        return index

    # -- the index from the table ------------------------------------------------------
    def rebuild(self, con: Connection) -> int:
        """Fingerprints for articles without one (stored before deduplication existed, or
        lost): placed in their story or kept in the one they have. Returns how many."""
        cursor = con.execute(
            """SELECT id, outlet_id, url, canonical_url, text, content_hash, fetched_at, story_id
               FROM articles a
               WHERE NOT EXISTS (SELECT 1 FROM article_fingerprints f WHERE f.article_id = a.id)
               ORDER BY fetched_at, id"""
        )
        found = cursor.fetchall()
        self.forget()  # what follows changes the table under any kept index
        index = self._open_index(con)
        for start in range(0, len(found), 1000):
            assigner = StoryAssigner(con, index)
            updates = []
            for id_, outlet_id, url, canonical, text, chash, fetched_at, story_id in found[
                start : start + 1000
            ]:
                article = _stored_article(id_, outlet_id, url, canonical, text, chash, fetched_at)
                if story_id is not None:
                    assigner.keep(article, story_id)
                    continue
                placement = assigner.place(article)
                if placement.alias_of is not None:
                    # Stored before dedup existed: keep the row, put it in the story.
                    placement.alias_of = None
                    placement.duplicate_of = placement.story_id
                updates.append((placement.story_id, placement.duplicate_of, id_))
            assigner.index_rows()
            if updates:
                con.executemany(
                    "UPDATE articles SET story_id = ?, duplicate_of = ? WHERE id = ?", updates
                )
        index.rebuild(con)
        return len(found)

    def upgrade(self, con: Connection, upgraded: bool) -> None:
        """Once per open: articles stored before a migration, or whose fingerprints were lost,
        get their fingerprints and stories."""
        if upgraded or _index_incomplete(con):
            self.rebuild(con)


# -- is it stored? ---------------------------------------------------------------------
def known_keys(con: Connection, keys: Sequence[str], waiting_at: datetime | None) -> set[str]:
    """Which URL keys are stored under any variant; with `waiting_at`, also those that failed
    lately and are not due for another try at that time."""
    found = {
        r[0]
        for r in con.execute(
            "SELECT url_key FROM article_urls WHERE url_key IN (SELECT unnest(?::VARCHAR[]))",
            [list(keys)],
        ).fetchall()
    }
    if waiting_at is not None:
        found |= {
            r[0]
            for r in con.execute(
                """SELECT url_key FROM url_failures
                   WHERE retry_at > ? AND url_key IN (SELECT unnest(?::VARCHAR[]))""",
                [waiting_at, list(keys)],
            ).fetchall()
        }
    return found


def paragraph_keys(con: Connection, outlet_id: str, limit: int) -> list[list[str]]:
    """The paragraph keys of an outlet's latest articles, newest first (what its chrome is
    learned from; copies of other outlets' stories are theirs, not this outlet's layout)."""
    return [
        list(r[0])
        for r in con.execute(
            """SELECT paragraph_keys FROM articles
               WHERE outlet_id = ? AND paragraph_keys IS NOT NULL
               ORDER BY fetched_at DESC LIMIT ?""",
            [outlet_id, limit],
        ).fetchall()
    ]


def _urls(article: Article) -> list[str]:
    return [u for u in (article.canonical_url, article.url, article.final_url) if u]


def _stored_under(con: Connection, keys: list[str]) -> dict[str, str]:
    """URL key -> id of the article stored under it."""
    if not keys:
        return {}
    found = con.execute(
        """SELECT url_key, article_id FROM article_urls
           WHERE url_key IN (SELECT unnest(?::VARCHAR[]))""",
        [keys],
    ).fetchall()
    return dict(found)


def _existing_ids(con: Connection, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return {
        r[0]
        for r in con.execute(
            "SELECT id FROM articles WHERE id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        ).fetchall()
    }


def _insert_aliases(con: Connection, aliases: list[UrlAlias]) -> None:
    by_key: dict[str, UrlAlias] = {}
    for alias in aliases:
        by_key.setdefault(url_key(alias.url), alias)
    keyed = [
        {"url_key": key, "article_id": a.article_id, "outlet_id": a.outlet_id}
        for key, a in by_key.items()
    ]
    rows.insert_new(con, "article_urls", keyed, ["url_key"])
    if keyed:
        # A page that failed before and has now been stored is no longer failing.
        con.execute(
            "DELETE FROM url_failures WHERE url_key IN (SELECT unnest(?::VARCHAR[]))",
            [list(by_key)],
        )


def _article_row(p: Placement, run_id: str, names: list[str], quiet: bool) -> dict[str, object]:
    return rows.row(
        p.article, names, run_id=run_id, story_id=p.story_id, duplicate_of=p.duplicate_of,
        quiet=quiet, **_archived(p.article),
    )  # fmt: skip


# What a new reading of a stored page leaves as it was: where and when it was met, and (for an
# article that was not history) that it may alert.
_KEPT_ON_REWRITE = {
    "outlet_id": "articles.outlet_id", "url": "articles.url",
    "canonical_url": "articles.canonical_url", "fetched_at": "articles.fetched_at",
    "discovered_via": "articles.discovered_via", "quiet": "articles.quiet OR excluded.quiet",
    "warc_file": "coalesce(excluded.warc_file, articles.warc_file)",
    "warc_offset": "coalesce(excluded.warc_offset, articles.warc_offset)",
}  # fmt: skip


def _archived(a: Article) -> dict[str, object]:
    """The article's WARC record as its row holds it."""
    ref = a.archived
    return {"warc_file": ref.file if ref else None, "warc_offset": ref.offset if ref else None}


def _index_incomplete(con: Connection) -> bool:
    """Cheap check that every article has its fingerprint (the index was not dropped)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM articles) > (SELECT count(*) FROM article_fingerprints)"
    ).fetchall()
    return bool(row[0][0])


def _stored_article(
    id_: str, outlet_id: str, url: str, canonical: str, text: str, chash: str, fetched_at: datetime
) -> Article:
    return Article(
        id=id_, outlet_id=outlet_id, url=url, canonical_url=canonical, title=None, authors=[],
        published_at=None, date_source=None, fetched_at=fetched_at, language=None,
        description=None, tags=[], sitename=None, text=text, word_count=len(text.split()),
        content_hash=chash, extractor_version="", discovered_via=Route.FEED,
    )  # fmt: skip
