"""Story assignment: which stored article, if any, a new article is a copy of.

The LSH index lives in DuckDB itself (`story_bands`, `story_leads`, both with ART indexes), so
it is persistent, transactional with the articles, and a lookup costs the same with a thousand
or a million stored articles. Decisions (thresholds) come from extractors.fingerprint.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from extractors.fingerprint import Fingerprint, fingerprint, jaccard, same_story, snippet_joins
from extractors.records import Article

MAX_CANDIDATES = 50


@dataclass
class Placement:
    article: Article
    story_id: str
    duplicate_of: str | None  # the story's first stored copy; None for the original
    alias_of: str | None = None  # same outlet, same text under another URL: no new row


@dataclass
class _Known:
    article_id: str
    story_id: str
    minhash: list[int]
    shingles: int
    lead_count: int
    snippet: bool


@dataclass
class StoryAssigner:
    """Places the articles of one write, seeing the store and the articles placed before."""

    con: duckdb.DuckDBPyConnection
    placed: list[Placement] = field(default_factory=list)
    _hashes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _bands: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _leads: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _fps: list[Fingerprint] = field(default_factory=list)

    def place(self, article: Article) -> Placement:
        fp = article.fingerprint or fingerprint(article.text)
        article.fingerprint = fp
        placement = (
            self._exact(article)
            or self._near(article, fp)
            or self._snippet(article, fp)
            or Placement(article, article.id, None)
        )
        if placement.alias_of is None:
            index = len(self.placed)
            self._hashes[article.content_hash].append(index)
            for key in fp.band_keys:
                self._bands[key].append(index)
            for key in fp.lead_keys:
                self._leads[key].append(index)
        self.placed.append(placement)
        self._fps.append(fp)
        return placement

    def keep(self, article: Article, story_id: str) -> None:
        """Index an article whose story is already decided (rebuilding a lost index)."""
        fp = article.fingerprint or fingerprint(article.text)
        article.fingerprint = fp
        index = len(self.placed)
        for key in fp.band_keys:
            self._bands[key].append(index)
        for key in fp.lead_keys:
            self._leads[key].append(index)
        self._hashes[article.content_hash].append(index)
        self.placed.append(
            Placement(article, story_id, None if story_id == article.id else story_id)
        )
        self._fps.append(fp)

    def _joined(self, article: Article, story_id: str) -> Placement:
        return Placement(article, story_id, story_id if story_id != article.id else None)

    def _exact(self, article: Article) -> Placement | None:
        rows = self.con.execute(
            """SELECT id, outlet_id, coalesce(story_id, id) FROM articles
               WHERE content_hash = ? ORDER BY fetched_at, id LIMIT 20""",
            [article.content_hash],
        ).fetchall()
        rows += [
            (p.article.id, p.article.outlet_id, p.story_id)
            for p in (self.placed[i] for i in self._hashes.get(article.content_hash, []))
        ]
        if not rows:
            return None
        for other_id, outlet_id, story_id in rows:
            if outlet_id == article.outlet_id:
                # The outlet moved or re-published the same text: one article, another URL.
                return Placement(article, story_id, None, alias_of=other_id)
        return self._joined(article, rows[0][2])

    def _candidates(self, table: str, keys: list[int], local: dict[int, list[int]]) -> Counter:
        """Hits per candidate: ('db', seq) from the index, ('batch', i) from this write."""
        hits: Counter = Counter()
        if keys:
            rows = self.con.execute(
                f"""SELECT seq, count(*) AS hits FROM {table}
                    WHERE key IN (SELECT unnest(?::UBIGINT[]))
                    GROUP BY seq ORDER BY hits DESC LIMIT {MAX_CANDIDATES}""",
                [keys],
            ).fetchall()
            hits.update({("db", seq): n for seq, n in rows})
        for key in keys:
            for index in local.get(key, []):
                hits[("batch", index)] += 1
        return hits

    def _known(self, candidates: list[tuple[str, int]]) -> dict[tuple[str, int], _Known]:
        out: dict[tuple[str, int], _Known] = {}
        seqs = [seq for kind, seq in candidates if kind == "db"]
        if seqs:
            rows = self.con.execute(
                """SELECT seq, article_id, story_id, minhash, shingles, lead_count, snippet
                   FROM article_fingerprints WHERE seq IN (SELECT unnest(?::INTEGER[]))""",
                [seqs],
            ).fetchall()
            for seq, *rest in rows:
                out[("db", seq)] = _Known(*rest)
        for kind, index in candidates:
            if kind == "batch":
                p, fp = self.placed[index], self._fps[index]
                out[(kind, index)] = _Known(
                    p.article.id, p.story_id, fp.minhash, fp.shingles, len(fp.lead_keys), fp.snippet
                )
        return out

    def _near(self, article: Article, fp: Fingerprint) -> Placement | None:
        hits = self._candidates("story_bands", fp.band_keys, self._bands)
        best: tuple[float, str] | None = None
        for known in self._known(list(hits)).values():
            if known.article_id == article.id or not same_story(fp, known.minhash, known.shingles):
                continue
            score = jaccard(fp.minhash, known.minhash)
            if best is None or score > best[0]:
                best = (score, known.story_id)
        return self._joined(article, best[1]) if best else None

    def _snippet(self, article: Article, fp: Fingerprint) -> Placement | None:
        """A snippet joins the article it was cut from; an article joins its earlier snippet."""
        hits = self._candidates("story_leads", fp.lead_keys, self._leads)
        best: tuple[int, str] | None = None
        for key, known in self._known(list(hits)).items():
            n = hits[key]
            if known.article_id == article.id:
                continue
            joins = (fp.snippet and snippet_joins(len(fp.lead_keys), n)) or (
                known.snippet and snippet_joins(known.lead_count, n)
            )
            if joins and (best is None or n > best[0]):
                best = (n, known.story_id)
        return self._joined(article, best[1]) if best else None

    def index_rows(self) -> None:
        """Write fingerprints and LSH rows for the placed articles that became rows."""
        new = [(p, fp) for p, fp in zip(self.placed, self._fps, strict=True) if p.alias_of is None]
        if not new:
            return
        seqs = [
            r[0]
            for r in self.con.execute(
                f"SELECT nextval('fingerprint_seq') FROM range({len(new)})"
            ).fetchall()
        ]
        fingerprints = pa.table(
            {
                "seq": pa.array(seqs, pa.int32()),
                "article_id": [p.article.id for p, _ in new],
                "story_id": [p.story_id for p, _ in new],
                "minhash": pa.array([fp.minhash for _, fp in new], pa.list_(pa.uint32())),
                "shingles": pa.array([fp.shingles for _, fp in new], pa.int32()),
                "lead_count": pa.array([len(fp.lead_keys) for _, fp in new], pa.int32()),
                "snippet": [fp.snippet for _, fp in new],
            }
        )
        bands = pa.table(
            {
                "key": pa.array([k for _, fp in new for k in fp.band_keys], pa.uint64()),
                "seq": pa.array(
                    [s for s, (_, fp) in zip(seqs, new, strict=True) for _ in fp.band_keys],
                    pa.int32(),
                ),
            }
        )
        leads = pa.table(
            {
                "key": pa.array([k for _, fp in new for k in fp.lead_keys], pa.uint64()),
                "seq": pa.array(
                    [s for s, (_, fp) in zip(seqs, new, strict=True) for _ in fp.lead_keys],
                    pa.int32(),
                ),
            }
        )
        for name, table in (
            ("article_fingerprints", fingerprints),
            ("story_bands", bands),
            ("story_leads", leads),
        ):
            self.con.register("incoming_rows", table)
            try:
                self.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming_rows")
            finally:
                self.con.unregister("incoming_rows")
