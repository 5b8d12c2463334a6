"""Pending batches on disk, for when another process holds the DuckDB file.

Each batch is one JSON file written atomically (temp file + rename). A merger claims a file by
renaming it, so two processes never merge the same batch; a claim left by a dead process is
taken back.

Batches are (de)serialised by pydantic from the record dataclasses themselves: nested records,
enums and time zones come back as they went in, and a file that does not validate is set
aside as `.unreadable` instead of half-merged. (A hand-written converter did this before; it
did not know lists of records, and every new kind of field needed a case of its own.)
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from extractors.records import Batch
from extractors.urls import url_key


@cache
def _batches() -> TypeAdapter[Batch]:
    return TypeAdapter(Batch)  # built on first use: a few hundred ms, and most runs never spool


def encode(batch: Batch) -> bytes:
    # warnings=False: records built with plain strings where an enum is declared serialise the same
    return _batches().dump_json(batch, warnings=False)


def decode(data: bytes | str) -> Batch:
    return _batches().validate_json(data)


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
        temp.write_bytes(encode(batch))
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
                batch = decode(claimed.read_bytes())
            except (OSError, ValidationError):
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
