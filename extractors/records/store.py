"""What crosses the store's boundary: where the store is, a batch to write, what the write did,
a query's rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from extractors.records.alerts import Deliveries
from extractors.records.articles import Article, UrlAlias, UrlFailure
from extractors.records.history import RevisitState, Version
from extractors.records.runs import OutletReport, PollState
from extractors.records.web import FetchRecord, Outlet, SourceState


@dataclass
class Batch:
    """Everything (part of) one outlet's pass has to write, applied in one transaction. A pass
    that ends sends its report; a big pass sends its articles in chunks before that. Also what
    waits in the spool while another process holds the store (deliveries included)."""

    run_id: str = ""
    outlets: list[Outlet] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    aliases: list[UrlAlias] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    reports: list[OutletReport] = field(default_factory=list)
    sources: list[SourceState] = field(default_factory=list)
    polls: list[PollState] = field(default_factory=list)
    failures: list[UrlFailure] = field(default_factory=list)
    deliveries: list[Deliveries] = field(default_factory=list)
    revisits: list[RevisitState] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)  # changed articles a revisit found
    quiet: bool = False  # history (a backfill, an import): its articles never start an alert


@dataclass(frozen=True)
class WriteResult:
    stored: int  # articles of this batch that were new to the store
    spooled: bool  # the file was held: the batch waits in the spool
    reports: list[OutletReport] = field(default_factory=list)  # as written, `stored` counted


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    note: str | None = None


@dataclass(frozen=True)
class LakeSettings:
    """`[store]` with `backend = "ducklake"`: where the lake's catalog and data are."""

    catalog: str  # "postgres:<libpq connection string>", or a DuckDB catalog file
    data_path: str  # a directory, or an s3:// prefix

    @property
    def shared(self) -> bool:
        """Whether several processes (machines) may write it at once."""
        return self.catalog.startswith("postgres:")
