"""Pending batches on disk, for when another process holds the DuckDB file.

Each batch is one JSON file written atomically (temp file + rename). A merger claims a file by
renaming it, so two processes never merge the same batch; a claim left by a dead process is
taken back.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.records import Article, FetchRecord, OutletReport, SourceState
from extractors.urls import url_key
from storage.serde import dumps, from_jsonable, to_jsonable

if TYPE_CHECKING:
    from storage.db import Batch

_FORMAT = 1


@dataclass
class Claimed:
    path: Path
    batch: Batch

    def done(self) -> None:
        self.path.unlink(missing_ok=True)


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, batch: Batch) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        final = self.directory / f"{name}.json"
        temp = self.directory / f".{name}.tmp"
        temp.write_text(dumps(_encode(batch)), encoding="utf-8")
        os.replace(temp, final)
        return final

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    def claim_all(self) -> Iterator[Claimed]:
        self._reclaim_orphans()
        for path in self.pending():
            claimed = path.with_name(f"{path.stem}.claimed-{os.getpid()}")
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # another merger took it
            try:
                batch = _decode(json.loads(claimed.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError):
                claimed.rename(claimed.with_name(f"{path.stem}.unreadable"))
                continue
            yield Claimed(claimed, batch)

    def _reclaim_orphans(self) -> None:
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("*.claimed-*"):
            pid = int(path.name.rsplit("-", 1)[1]) if path.name.rsplit("-", 1)[1].isdigit() else 0
            if pid != os.getpid() and not _alive(pid):
                os.replace(path, path.with_name(path.name.split(".claimed-")[0] + ".json"))

    def known_keys(self) -> set[str]:
        """URL keys of the articles waiting here (see extractors.urls.url_key)."""
        urls: set[str] = set()
        for path in self.pending():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for article in data.get("articles", []):
                urls.update(u for u in (article.get("url"), article.get("canonical_url")) if u)
            urls.update(a.get("url") for a in data.get("aliases", []) if a.get("url"))
        return {url_key(u) for u in urls}


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _encode(batch: Batch) -> dict[str, object]:
    return {
        "format": _FORMAT,
        "run_id": batch.run_id,
        "outlets": [to_jsonable(x) for x in batch.outlets],
        "articles": [to_jsonable(x) for x in batch.articles],
        "aliases": [to_jsonable(x) for x in batch.aliases],
        "fetches": [to_jsonable(x) for x in batch.fetches],
        "reports": [to_jsonable(x) for x in batch.reports],
        "sources": [to_jsonable(x) for x in batch.sources],
        "topics": [to_jsonable(x) for x in batch.topics],
        "polls": [to_jsonable(x) for x in batch.polls],
        "failures": [to_jsonable(x) for x in batch.failures],
    }


def _decode(data: dict[str, object]) -> Batch:
    from storage.alerts import TopicRow
    from storage.db import Batch, OutletRow, UrlAlias, UrlFailure
    from storage.health import PollState

    def items(key: str) -> list[dict[str, object]]:
        value = data.get(key) or []
        return value if isinstance(value, list) else []

    return Batch(
        run_id=str(data["run_id"]),
        outlets=[from_jsonable(OutletRow, x) for x in items("outlets")],
        articles=[from_jsonable(Article, x) for x in items("articles")],
        aliases=[from_jsonable(UrlAlias, x) for x in items("aliases")],
        fetches=[from_jsonable(FetchRecord, x) for x in items("fetches")],
        reports=[from_jsonable(OutletReport, x) for x in items("reports")],
        sources=[from_jsonable(SourceState, x) for x in items("sources")],
        topics=[from_jsonable(TopicRow, x) for x in items("topics")],
        polls=[from_jsonable(PollState, x) for x in items("polls")],
        failures=[from_jsonable(UrlFailure, x) for x in items("failures")],
    )
