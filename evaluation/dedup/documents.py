"""The labelled documents: what a document is and the committed set in tests/dedup_eval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SET = REPO / "tests" / "dedup_eval"
DEFAULT_CORPORA = REPO.parent / "shared" / "corpora"
SAME_TOPIC = "azerbaijan-russia"


@dataclass(frozen=True)
class Document:
    id: str
    cluster: str  # story label: documents with one label are copies of one story
    outlet: str
    kind: str  # original | real-copy | variant | snippet | distinct | wire-snippet | repost
    text: str
    source: str = ""  # where the text comes from and how it was transformed
    title: str | None = None
    language: str = "en"
    topic: str | None = None
    transforms: tuple[str, ...] = ()
    author: str | None = None


def load_set(path: Path = DEFAULT_SET) -> list[Document]:
    """The committed labelled set: `labels.json` plus the text files it names."""
    labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
    docs = []
    for entry in labels["documents"]:
        text = (path / entry["file"]).read_text(encoding="utf-8")
        docs.append(
            Document(
                id=entry["id"],
                cluster=entry["cluster"],
                outlet=entry["outlet"],
                kind=entry["kind"],
                text=text.strip("\n"),
                source=entry.get("source", ""),
                title=entry.get("title"),
                language=entry.get("language", "en"),
                topic=entry.get("topic"),
                transforms=tuple(entry.get("transforms", [])),
                author=entry.get("author"),
            )
        )
    return docs
