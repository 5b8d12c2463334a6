"""Typed records that cross packages: what the pipeline's stages hand each other and the store.

A leaf: nothing here imports another newsmon module, so every package may import it.
- `failures`: failure kinds and the Failure record (a kind for code, a line for people).
- `web`: outlets, sources, candidate URLs, pages and the request log.
- `articles`: articles with their fingerprints and topic scores, aliases, failed URLs.
- `runs`: what a pass did, when an outlet is due next.
- `health`: the history and verdicts of source health.
- `history`: stored articles as re-extraction and revisits see them, and their versions.
- `alerts`: the alert outbox.
- `store`: where the store is, batches in, write results and query rows out.
- `topics`: why a rule matched or not (`Verdict`), and what survives translation (`EventKey`).
- `desk`: rows the analyst's desk, `newsmon search` and the exports read back (imported from
  `extractors.records.desk`).
"""

from extractors.records.alerts import (
    Alert,
    Channel,
    Deliveries,
    Delivery,
    DeliveryState,
    Outcome,
)
from extractors.records.articles import (
    Article,
    ArticleChange,
    AuthorSource,
    ChangedField,
    Chrome,
    DateSource,
    ExtractJob,
    Fingerprint,
    TitleSource,
    TopicScore,
    UrlAlias,
    UrlFailure,
)
from extractors.records.failures import TRANSIENT, Failure, FailureKind
from extractors.records.health import (
    HealthEvent,
    HealthState,
    HealthStatus,
    OutletHistory,
    RunStats,
)
from extractors.records.history import RevisitState, StoredArticle, Version
from extractors.records.runs import LastRun, OutletReport, OutletState, PollState, RunStatus
from extractors.records.store import Batch, LakeSettings, QueryResult, WriteResult
from extractors.records.topics import (
    Condition,
    ConditionKind,
    EventKey,
    EventMatch,
    GroupCount,
    TermHit,
    Verdict,
)
from extractors.records.web import (
    ArchiveRef,
    Candidate,
    FetchPurpose,
    FetchRecord,
    Outlet,
    Page,
    Route,
    Section,
    SourceKind,
    SourceOrigin,
    SourceState,
    Validators,
)

__all__ = [
    "TRANSIENT", "Alert", "ArchiveRef", "Article", "ArticleChange", "AuthorSource", "Batch",
    "Candidate", "ChangedField", "Channel", "Chrome", "DateSource", "ExtractJob", "Deliveries", "Delivery",
    "DeliveryState", "LakeSettings", "TitleSource",
    "Failure", "FailureKind", "FetchPurpose", "FetchRecord", "Fingerprint", "HealthEvent",
    "HealthState", "HealthStatus", "LastRun", "Outcome", "Outlet", "OutletHistory",
    "OutletReport", "OutletState", "Page", "PollState", "QueryResult", "Route", "RunStats", "RunStatus",
    "RevisitState", "Section", "StoredArticle", "Version", "SourceKind", "SourceOrigin", "SourceState", "TopicScore", "UrlAlias",
    "UrlFailure", "Validators", "WriteResult", "Condition", "ConditionKind", "EventKey",
    "EventMatch", "GroupCount", "TermHit", "Verdict",
]  # fmt: skip
