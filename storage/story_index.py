"""The deduplication index: sorted key arrays memory-mapped from `<db>.index/`, plus the few
recent fingerprints not merged into them yet (read from DuckDB).

Why not DuckDB tables: an IN-list of 100 keys against an ART index turns into a scan, so the
lookup cost grew with the store. Here a lookup is a binary search per key in a sorted array,
and only the touched pages of the files are in memory.

The files are derived data. `article_fingerprints` in DuckDB is the source of truth: the files
hold every fingerprint up to a watermark `seq`; later ones are the delta. A missing or
inconsistent file set is rebuilt from that table, never by comparing articles pairwise.

A fingerprint is replaced when an article's text changes in place (a revisit found a new
version, a re-extraction read the page again): its row goes and one with a new `seq` comes.
The files then hold a `seq` the table no longer has; it is skipped ("gone") until the next
merge rewrites the files, instead of rebuilding them at once (seconds for a large store).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from extractors.fingerprint import NUM_PERM

MERGE_AT = 2000  # delta fingerprints before they are merged into the sorted files
# A key shared by very many articles (a stock phrase in leads, a story copied hundreds of
# times) contributes only its earliest holders, so a lookup's cost has a bound.
PER_KEY = 256
ROW = np.dtype(
    [
        ("seq", "<i4"), ("id", "S20"), ("story", "S20"), ("outlet", "S64"),
        ("minhash", "<u4", (NUM_PERM,)), ("shingles", "<i4"), ("lead_count", "<i4"),
        ("snippet", "?"),
    ]
)  # fmt: skip
_CONTENT_TAG = 0x9E3779B97F4A7C15  # content keys live in the same key space as band/lead keys


def content_key(content_hash: str) -> int:
    return int(content_hash[:16], 16) ^ _CONTENT_TAG


@dataclass(frozen=True)
class Known:
    seq: int
    article_id: str
    story_id: str
    outlet_id: str
    minhash: np.ndarray
    shingles: int
    lead_count: int
    snippet: bool


_COLUMNS = (
    "seq, article_id, story_id, outlet_id, content_key, minhash, shingles, band_keys, "
    "lead_keys, snippet"
)


class StoryIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.watermark = 0
        self._keys = np.empty(0, np.uint64)
        self._key_seqs = np.empty(0, np.int32)
        self._rows = np.empty(0, ROW)
        self._row_seqs = np.empty(0, np.int32)
        # key -> seq, or seqs once a key is shared: most keys are not, and a list per key
        # (a hundred per article) made every full garbage collection of a long pass slower.
        self._delta_keys: dict[int, int | list[int]] = {}
        self._delta_rows: dict[int, Known] = {}
        self._merged: dict[str, str] = {}  # story merged away -> story it went into
        self._gone = np.empty(0, np.int32)  # seqs in the files whose row was replaced

    # -- opening -----------------------------------------------------------------------
    def state(self, con: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
        """What an open index depends on: its files, and the table. Fingerprints only ever get
        added (each story merge comes with one; a replaced one comes back with a new seq), so
        their count and last seq tell whether another writer has been."""
        try:
            files = (self.directory / "meta.json").read_text()
        except OSError:
            files = None
        row = con.execute(
            "SELECT (SELECT count(*) FROM article_fingerprints), "
            "(SELECT max(seq) FROM article_fingerprints), (SELECT count(*) FROM story_merges)"
        ).fetchall()[0]
        return (files, *row)

    def open(self, con: duckdb.DuckDBPyConnection) -> None:
        """Map the files, rebuilding them when missing or behind the table; load the delta."""
        if not self._load(con):
            self.rebuild(con)
        self._load_delta(con)
        self._merged = dict(con.execute("SELECT old_story, new_story FROM story_merges").fetchall())

    def _load(self, con: duckdb.DuckDBPyConnection) -> bool:
        meta_path = self.directory / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
            keys = np.load(self.directory / "keys.npy", mmap_mode="r")
            key_seqs = np.load(self.directory / "key_seqs.npy", mmap_mode="r")
            rows = np.load(self.directory / "rows.npy", mmap_mode="r")
            row_seqs = np.load(self.directory / "row_seqs.npy", mmap_mode="r")
        except (OSError, ValueError):
            return False
        watermark = int(meta.get("watermark", -1))
        expected = con.execute(
            "SELECT count(*) FROM article_fingerprints WHERE seq <= ?", [watermark]
        ).fetchall()[0][0]
        if meta.get("version") != 1 or len(rows) < expected or len(keys) != len(key_seqs):
            return False
        gone = _gone(con, row_seqs, watermark) if len(rows) > expected else self._gone[:0]
        if len(rows) - len(gone) != expected:
            return False
        self.watermark, self._keys, self._key_seqs, self._rows = watermark, keys, key_seqs, rows
        self._row_seqs, self._gone = row_seqs, gone
        return True

    def _load_delta(self, con: duckdb.DuckDBPyConnection) -> None:
        self._delta_keys = {}
        self._delta_rows = {}
        cursor = con.execute(
            f"SELECT {_COLUMNS} FROM article_fingerprints WHERE seq > ? ORDER BY seq",
            [self.watermark],
        )
        for (
            seq,
            aid,
            story,
            outlet,
            ckey,
            minhash,
            shingles,
            bands,
            leads,
            snippet,
        ) in cursor.fetchall():
            self.add(
                Known(seq, aid, story, outlet, np.asarray(minhash, np.uint32), shingles, len(leads), snippet),
                [ckey, *bands, *leads],
            )  # fmt: skip

    # -- reading -------------------------------------------------------------------------
    def lookup(self, keys: list[int], limit: int, min_count: int = 1) -> list[tuple[int, int]]:
        """The `limit` stored fingerprints (seq, shared keys) sharing most of `keys`, and at
        least `min_count` of them."""
        found: list[np.ndarray] = []
        if len(self._keys) and keys:
            query = np.asarray(keys, dtype=np.uint64)
            left = np.searchsorted(self._keys, query, "left")
            right = np.searchsorted(self._keys, query, "right")
            found += [
                self._key_seqs[lo : min(hi, lo + PER_KEY)]
                for lo, hi in zip(left.tolist(), right.tolist(), strict=True)
                if hi > lo
            ]
        for key in keys:
            seqs = self._delta_keys.get(key)
            if seqs is not None:
                found.append(
                    np.asarray(seqs[:PER_KEY] if isinstance(seqs, list) else [seqs], np.int32)
                )
        if not found:
            return []
        seqs, counts = np.unique(np.concatenate(found), return_counts=True)
        if len(self._gone):
            live = ~np.isin(seqs, self._gone)
            seqs, counts = seqs[live], counts[live]
        if min_count > 1:
            keep = counts >= min_count
            seqs, counts = seqs[keep], counts[keep]
        if len(seqs) > limit:
            top = np.argpartition(-counts, limit)[:limit]
            seqs, counts = seqs[top], counts[top]
        order = np.lexsort((seqs, -counts))
        return list(zip(seqs[order].tolist(), counts[order].tolist(), strict=True))

    def resolve(self, story_id: str) -> str:
        """The story a (possibly merged-away) story id now lives in."""
        seen = set()
        while story_id in self._merged and story_id not in seen:
            seen.add(story_id)
            story_id = self._merged[story_id]
        return story_id

    def redirect(self, old_story: str, new_story: str) -> None:
        self._merged[old_story] = new_story

    def known(self, seq: int) -> Known | None:
        known = self._known(seq)
        if known is None or known.story_id not in self._merged:
            return known
        return Known(
            known.seq, known.article_id, self.resolve(known.story_id), known.outlet_id,
            known.minhash, known.shingles, known.lead_count, known.snippet,
        )  # fmt: skip

    def _known(self, seq: int) -> Known | None:
        if seq in self._delta_rows:
            return self._delta_rows[seq]
        if len(self._gone) and seq in self._gone:
            return None
        pos = int(np.searchsorted(self._row_seqs, seq))
        if pos >= len(self._row_seqs) or int(self._row_seqs[pos]) != seq:
            return None
        row = self._rows[pos]
        return Known(
            seq, row["id"].decode(), row["story"].decode(), row["outlet"].decode(),
            np.asarray(row["minhash"]), int(row["shingles"]), int(row["lead_count"]),
            bool(row["snippet"]),
        )  # fmt: skip

    # -- writing -------------------------------------------------------------------------
    def add(self, known: Known, keys: list[int]) -> None:
        """Make a fingerprint findable now (it is already in, or about to be in, the table)."""
        self._delta_rows[known.seq] = known
        delta, seq = self._delta_keys, known.seq
        for key in keys:
            seqs = delta.get(key)
            if seqs is None:
                delta[key] = seq
            elif isinstance(seqs, list):
                seqs.append(seq)
            else:
                delta[key] = [seqs, seq]

    def maybe_merge(self, con: duckdb.DuckDBPyConnection) -> None:
        if len(self._delta_rows) + len(self._gone) >= MERGE_AT:
            self.rebuild(con)
            self._load_delta(con)

    def rebuild(self, con: duckdb.DuckDBPyConnection) -> None:
        """Write the files from every committed fingerprint in the table."""
        table = con.sql(
            f"SELECT {_COLUMNS} FROM article_fingerprints ORDER BY seq"
        ).to_arrow_table()
        n = table.num_rows
        rows = np.zeros(n, ROW)
        if n:
            rows["seq"] = table["seq"].to_numpy()
            rows["id"] = np.asarray(table["article_id"].to_pylist(), dtype="S20")
            rows["story"] = np.asarray(table["story_id"].to_pylist(), dtype="S20")
            rows["outlet"] = np.asarray(table["outlet_id"].to_pylist(), dtype="S64")
            rows["minhash"] = _flat(table["minhash"]).reshape(n, NUM_PERM)
            rows["shingles"] = table["shingles"].to_numpy()
            rows["snippet"] = table["snippet"].to_numpy(zero_copy_only=False)
            lead_counts = pc.list_value_length(table["lead_keys"]).to_numpy()
            rows["lead_count"] = lead_counts
            band_counts = pc.list_value_length(table["band_keys"]).to_numpy()
            seqs = rows["seq"]
            keys = np.concatenate(
                [
                    table["content_key"].to_numpy(),
                    _flat(table["band_keys"]),
                    _flat(table["lead_keys"]),
                ]
            ).astype(np.uint64)
            key_seqs = np.concatenate(
                [seqs, np.repeat(seqs, band_counts), np.repeat(seqs, lead_counts)]
            ).astype(np.int32)
            order = np.argsort(keys, kind="stable")
            keys, key_seqs = keys[order], key_seqs[order]
        else:
            keys, key_seqs = np.empty(0, np.uint64), np.empty(0, np.int32)
        watermark = int(rows["seq"][-1]) if n else 0
        self._write(keys, key_seqs, rows, watermark)
        if not self._load(con):
            raise OSError(f"cannot read back the story index just written to {self.directory}")

    def _write(
        self, keys: np.ndarray, key_seqs: np.ndarray, rows: np.ndarray, watermark: int
    ) -> None:
        """Atomic replacement: write a sibling directory, then swap it in."""
        fresh = self.directory.with_name(self.directory.name + f".new-{os.getpid()}")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        np.save(fresh / "keys.npy", keys)
        np.save(fresh / "key_seqs.npy", key_seqs)
        np.save(fresh / "rows.npy", rows)
        np.save(fresh / "row_seqs.npy", np.ascontiguousarray(rows["seq"]))
        (fresh / "meta.json").write_text(
            json.dumps({"version": 1, "watermark": watermark, "rows": len(rows)})
        )
        old = self.directory.with_name(self.directory.name + f".old-{os.getpid()}")
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(fresh, self.directory)
        shutil.rmtree(old, ignore_errors=True)


def _gone(con: duckdb.DuckDBPyConnection, row_seqs: np.ndarray, watermark: int) -> np.ndarray:
    """The seqs of the files whose fingerprint row the table no longer has (sorted)."""
    con.register("indexed_seqs", pa.table({"seq": np.asarray(row_seqs)}))
    try:
        found = con.execute(
            """SELECT seq FROM indexed_seqs EXCEPT
               SELECT seq FROM article_fingerprints WHERE seq <= ? ORDER BY seq""",
            [watermark],
        ).fetchall()
    finally:
        con.unregister("indexed_seqs")
    return np.asarray([r[0] for r in found], np.int32)


def _flat(column: pa.ChunkedArray) -> np.ndarray:
    return pc.list_flatten(column).to_numpy()
