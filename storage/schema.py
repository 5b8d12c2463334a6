"""The public schema, as numbered migrations. Never edit a shipped migration: add one."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the ingest spine
    """
    CREATE TABLE outlets (
        id          VARCHAR PRIMARY KEY,
        name        VARCHAR NOT NULL,
        homepage    VARCHAR NOT NULL,
        language    VARCHAR,
        updated_at  TIMESTAMPTZ
    );
    CREATE TABLE articles (
        id                VARCHAR PRIMARY KEY,
        outlet_id         VARCHAR NOT NULL,
        url               VARCHAR NOT NULL,
        canonical_url     VARCHAR NOT NULL,
        title             VARCHAR,
        authors           VARCHAR[],
        published_at      TIMESTAMPTZ,
        date_source       VARCHAR,
        fetched_at        TIMESTAMPTZ NOT NULL,
        language          VARCHAR,
        description       VARCHAR,
        tags              VARCHAR[],
        sitename          VARCHAR,
        text              VARCHAR NOT NULL,
        word_count        INTEGER NOT NULL,
        content_hash      VARCHAR NOT NULL,
        extractor_version VARCHAR NOT NULL,
        discovered_via    VARCHAR,
        run_id            VARCHAR
    );
    CREATE TABLE article_urls (
        url         VARCHAR PRIMARY KEY,
        article_id  VARCHAR NOT NULL,
        outlet_id   VARCHAR NOT NULL
    );
    CREATE TABLE fetches (
        run_id      VARCHAR NOT NULL,
        outlet_id   VARCHAR NOT NULL,
        kind        VARCHAR NOT NULL,
        url         VARCHAR NOT NULL,
        final_url   VARCHAR,
        status      INTEGER,
        bytes       BIGINT NOT NULL,
        elapsed_ms  DOUBLE NOT NULL,
        fetched_at  TIMESTAMPTZ NOT NULL,
        error       VARCHAR
    );
    CREATE TABLE runs (
        run_id      VARCHAR NOT NULL,
        outlet_id   VARCHAR NOT NULL,
        started_at  TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        discovered  INTEGER NOT NULL,
        fetched     INTEGER NOT NULL,
        stored      INTEGER NOT NULL,
        skipped     INTEGER NOT NULL,
        failed      INTEGER NOT NULL,
        status      VARCHAR NOT NULL,
        error       VARCHAR,
        PRIMARY KEY (run_id, outlet_id)
    );
    CREATE TABLE sources (
        url           VARCHAR PRIMARY KEY,
        outlet_id     VARCHAR NOT NULL,
        kind          VARCHAR NOT NULL,
        origin        VARCHAR NOT NULL,
        etag          VARCHAR,
        last_modified VARCHAR,
        body_hash     VARCHAR,
        last_status   INTEGER,
        last_error    VARCHAR,
        last_checked  TIMESTAMPTZ,
        last_changed  TIMESTAMPTZ
    );
    """,
]
