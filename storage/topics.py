"""SQL for `article_topics`: each article's score against each rule, written with the article
(the extraction workers score) or again after a rule changed (`newsmon rules rescore`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from extractors.records import TopicScore
from storage import rows as table_rows


def write_topics(
    con: duckdb.DuckDBPyConnection,
    scores: Sequence[tuple[str, TopicScore]],
    scored_at: datetime,
) -> None:
    """(article id, score) pairs; a later score of the same article and rule replaces it."""
    unique = {(article_id, s.rule_id): (article_id, s) for article_id, s in scores}
    if not unique:
        return
    rows = list(unique.values())
    table = pa.table(
        {
            "article_id": [a for a, _ in rows],
            "rule_id": [s.rule_id for _, s in rows],
            "matched": [s.matched for _, s in rows],
            "score": pa.array([float(s.score) for _, s in rows], pa.float64()),
            "terms": pa.array([list(s.terms) for _, s in rows], pa.list_(pa.string())),
            "rule_signature": [s.rule_signature for _, s in rows],
            "scored_at": pa.array(
                [scored_at.astimezone(UTC)] * len(rows), pa.timestamp("us", tz="UTC")
            ),
        }
    )
    table_rows.merge_table(
        con, "article_topics", table, ["article_id", "rule_id"],
        """matched = excluded.matched, score = excluded.score, terms = excluded.terms,
           rule_signature = excluded.rule_signature, scored_at = excluded.scored_at""",
    )  # fmt: skip
